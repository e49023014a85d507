//! A payload as tk-core's `deserialize_user` and `Context.deserialize` read it: text
//! or raw bytes, JSON or a protocol-0 pickle, and the pickle's `_payload_encoding`;
//! then told apart by structure (a user dict or a context dict).
//!
//! tk-core takes a `str` or `bytes`. A `str` is JSON when its first character is `{`,
//! else a pickle that `loads` encodes as UTF-8, unpickles, and, when the result
//! carries `_payload_encoding`, encodes again with that encoding (ISO-8859-1) and
//! unpickles once more. `bytes` are always a pickle, unpickled as they are. Input
//! here is bytes, as a file, a pipe or C hands them over: valid UTF-8 is taken as
//! the text it encodes, anything else as the pickle's own bytes. For everything
//! tk-core writes the two readings agree: a pickle whose raw bytes are UTF-8 never
//! carries `_payload_encoding`, and one that carries it (raw Latin-1 characters) is
//! not UTF-8. A UTF-8 byte order mark before JSON, which some Windows tools write,
//! is skipped.

use super::json::json_error_text;
use super::pickle_read::{opcode_name, unpickle, Res};
use super::user::*;
use crate::secret::SecretString;
use zeroize::Zeroizing;

/// What a top-level dict is, told by its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// `{"type": ..., "data": {...}}`: what `serialize_user` writes.
    User,
    /// A context dict: `_pc_path`, and `_current_user` when it carries a user.
    Context,
}

const BOM: &str = "\u{feff}";

/// Reads `input` as tk-core would, up to its top-level dict (JSON or pickle). The error says what is
/// wrong (size, not JSON, not a pickle, an unsupported opcode and its offset) and
/// never quotes the input.
pub(super) fn decode(input: &[u8]) -> Res<Dict> {
    if input.len() > MAX_INPUT_LEN {
        return Err(format!(
            "input is {} bytes; the limit is {MAX_INPUT_LEN} (1 MiB)",
            input.len()
        ));
    }
    if input.is_empty() {
        return Err("input is empty".into());
    }
    match std::str::from_utf8(input) {
        Ok(text) => decode_text(text),
        Err(_) if input.starts_with(b"{") || input.starts_with(BOM.as_bytes()) => {
            Err("input looks like JSON but is not UTF-8 text (JSON is read only from UTF-8)".into())
        }
        Err(_) => {
            check_pickle_start(input[0])?;
            top_dict(unpickle(input)?)
        }
    }
}

fn decode_text(text: &str) -> Res<Dict> {
    let json = text.strip_prefix(BOM).unwrap_or(text);
    if json.starts_with('{') {
        return json_dict(json);
    }
    if json.len() < text.len() {
        return Err(
            "input starts with a UTF-8 byte order mark but no JSON object follows it".into(),
        );
    }
    if text.trim_start().starts_with('{') {
        return Err(
            "input looks like JSON but does not start with '{' (tk-core reads JSON only \
             when the first character is '{'; remove the leading whitespace)"
                .into(),
        );
    }
    // Binary pickles passed around as Latin-1 text start with the PROTO opcode 0x80.
    if text.starts_with('\u{80}') {
        return Err(binary_pickle());
    }
    check_pickle_start(text.as_bytes()[0])?;
    let first = top_dict(unpickle(text.as_bytes())?)?;
    let encoding = match first.map.get(PAYLOAD_ENCODING_KEY) {
        None => return Ok(first),
        Some(Val::Str(e)) => e.expose().to_owned(),
        Some(other) => {
            return Err(format!(
                "\"{PAYLOAD_ENCODING_KEY}\" must be a string, found {}",
                other.type_name()
            ))
        }
    };
    // Python's codec lookup ignores case and treats '_' like '-'.
    let norm = encoding.to_ascii_lowercase().replace('_', "-");
    match norm.as_str() {
        "utf-8" | "utf8" => Ok(first),
        "iso-8859-1" | "iso8859-1" | "latin-1" | "latin1" | "l1" => {
            drop(first);
            let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
            for (i, c) in text.chars().enumerate() {
                let b = u8::try_from(u32::from(c)).map_err(|_| {
                    format!(
                        "the pickle declares {PAYLOAD_ENCODING_KEY} {PAYLOAD_ENCODING_LATIN1} \
                         but character {i} is above U+00FF"
                    )
                })?;
                bytes.push(b);
            }
            top_dict(unpickle(&bytes)?)
        }
        _ => {
            let shown: String = encoding.chars().take(32).collect();
            Err(format!(
                "unsupported {PAYLOAD_ENCODING_KEY} {shown:?}; tk-core writes \
                 {PAYLOAD_ENCODING_LATIN1}"
            ))
        }
    }
}

fn binary_pickle() -> String {
    "the input is a binary pickle (protocol 2 or later); tk-core writes protocol 0, and \
     only its data opcodes are read"
        .into()
}

/// The first opcode of a protocol-0 pickle of a value. Another opcode is named but not
/// shown, and a byte that is no opcode is not shown either: it may be the first
/// character of a secret piped in by mistake.
fn check_pickle_start(first: u8) -> Res<()> {
    match first {
        b'(' | b'}' | b']' | b'N' | b'I' | b'L' | b'V' | b'S' => Ok(()),
        0x80 => Err(binary_pickle()),
        op => match opcode_name(op) {
            Some(name) => Err(format!(
                "unsupported pickle opcode {name} at offset 0; only dicts, lists, strings, \
                 integers and None are read, and the pickle is never run"
            )),
            None => Err(
                "the input is not JSON (it does not start with '{') and not a pickle (its \
                 first byte is no pickle opcode)"
                    .into(),
            ),
        },
    }
}

fn top_dict(val: Val) -> Res<Dict> {
    match val {
        Val::Dict(d) => Ok(d),
        other => Err(format!(
            "the pickle holds {}, not a dict",
            other.type_name()
        )),
    }
}

fn json_dict(text: &str) -> Res<Dict> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error_text(&e))?;
    match json_val(value) {
        Val::Dict(d) => Ok(d),
        other => Err(format!(
            "expected a JSON object, found {}",
            other.type_name()
        )),
    }
}

/// Moves a JSON value into a [`Val`] (serde_json bounds the nesting).
fn json_val(value: serde_json::Value) -> Val {
    use serde_json::Value as J;
    let depth = |v: &Val| v.nesting();
    match value {
        J::Null => Val::Null,
        J::Bool(b) => Val::Bool(b),
        J::Number(n) => n.as_i64().map_or(Val::Other("a number"), Val::Int),
        // Moved, not copied, into the self-wiping buffer.
        J::String(s) => Val::Str(SecretString::new(s)),
        J::Array(items) => {
            let items: Vec<Val> = items.into_iter().map(json_val).collect();
            Val::List(List {
                depth: items.iter().map(depth).max().unwrap_or(0),
                items,
            })
        }
        J::Object(m) => {
            let map: std::collections::BTreeMap<String, Val> =
                m.into_iter().map(|(k, v)| (k, json_val(v))).collect();
            Val::Dict(Dict {
                depth: map.values().map(depth).max().unwrap_or(0),
                map,
            })
        }
    }
}

/// Tells a serialized user from a context by its keys: a context always has
/// `_pc_path` (and `_current_user` when it carries a user); a user has `type`.
pub(super) fn shape(dict: &Dict) -> Res<Shape> {
    let has = |k: &str| dict.map.contains_key(k);
    if has("_pc_path") || has("_current_user") {
        Ok(Shape::Context)
    } else if has("type") || has("data") {
        Ok(Shape::User)
    } else {
        Err(
            "the dict is neither a serialized user (it has no \"type\" key) nor a TANK_CONTEXT \
             (it has no \"_pc_path\" key)"
                .into(),
        )
    }
}
