//! The pickle writer checked against the reader, for farmvault's own tests and
//! fuzzers (the `internals` feature): whatever the reader accepts, the writer writes
//! back as a pickle the reader reads as the same value.

use super::pickle_read::unpickle;
use super::pickle_write::{dumps, PickleValue};
use super::user::Val;

/// Reads `bytes` as a protocol-0 pickle (data only); when it reads, writes the value
/// back with the writer and checks that the writer's pickle reads as the same value.
/// Returns whether `bytes` read at all.
///
/// # Panics
///
/// When the two readings differ, or the writer's pickle does not read for any reason
/// but a size limit: a bug in the reader or the writer.
pub fn check_pickle_round_trip(bytes: &[u8]) -> bool {
    let Ok(first) = unpickle(bytes) else {
        return false;
    };
    let Some(value) = to_pickle_value(&first) else {
        return true;
    };
    let written = dumps(&value);
    match unpickle(&written) {
        Ok(second) => assert!(second == first, "the writer's pickle reads differently"),
        // The writer memoizes every string and container, so a pickle that used few
        // PUTs may come back over the memo limit; that is a limit, not a bug.
        Err(e) if e.contains("exceeds") || e.contains("more than") => {}
        Err(e) => panic!("the writer's pickle does not read: {e}"),
    }
    true
}

fn to_pickle_value(val: &Val) -> Option<PickleValue<'_>> {
    Some(match val {
        Val::Null => PickleValue::None,
        Val::Bool(b) => PickleValue::Bool(*b),
        Val::Int(n) => PickleValue::Int(*n),
        Val::Str(s) => PickleValue::Str(s.expose()),
        Val::List(l) => {
            PickleValue::List(l.items.iter().map(to_pickle_value).collect::<Option<_>>()?)
        }
        Val::Dict(d) => PickleValue::Dict(
            d.map
                .iter()
                .map(|(k, v)| Some((k.as_str(), to_pickle_value(v)?)))
                .collect::<Option<_>>()?,
        ),
        Val::Other(_) => return None,
    })
}
