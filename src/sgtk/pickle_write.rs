//! Protocol-0 pickles written the way CPython's `pickle.dumps(..., protocol=0)` writes
//! tk-core's dicts (users, and contexts of ints, lists, nested dicts, None and text),
//! with tk-core's `_payload_encoding` rule.

use super::user::*;
use crate::credential::Credential;
use crate::error::Result;
use std::collections::HashMap;
use std::io::Write as _;
use zeroize::Zeroizing;

/// A value to pickle, dicts in insertion order (as Python keeps them). The library
/// itself pickles users (dicts of strings and None); the other values are written for
/// the tests and fuzzers that check the writer against the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub(super) enum PickleValue<'a> {
    None,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    List(Vec<PickleValue<'a>>),
    Dict(Vec<(&'a str, PickleValue<'a>)>),
}

/// Writes a session-token or script-key credential (or a context's user) as tk-core's
/// default `serialize_user(user)` does: a protocol-0 pickle of
/// `{"type": ..., "data": {...}}`, as text, identical to what tk-core on Python 3.8+
/// returns.
///
/// Strings use the `V` opcode with Python's escapes (`\u005c` for a backslash, `\u000a`,
/// `\u000d`, `\u0000`, `\u001a`, `\uXXXX` above U+00FF, `\UXXXXXXXX` above U+FFFF) and raw
/// bytes for the rest. When those bytes are not valid UTF-8 (a character in
/// U+0080..U+00FF), the top-level dict gets `"_payload_encoding": "ISO-8859-1"` and the
/// pickle is decoded as Latin-1, as tk-core does. Memo numbers count up from 0; like
/// CPython, which shares one object for the empty string and for each one-character
/// Latin-1 string, a repeat of such a value is written as a memo GET.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a login/password, opaque or Flow credential (tk-core
/// has no such user type) or one missing a required field.
///
/// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
pub fn to_serialized_user_pickle(cred: &Credential) -> Result<String> {
    let (ty, fields) = user_fields(cred)?;
    let data = fields
        .iter()
        .map(|(key, value)| (*key, value.map_or(PickleValue::None, PickleValue::Str)))
        .collect();
    let user = PickleValue::Dict(vec![
        ("type", PickleValue::Str(ty)),
        ("data", PickleValue::Dict(data)),
    ]);
    Ok(tk_core_dumps(user))
}

/// tk-core's `pickle.dumps`: the protocol-0 pickle of `value` decoded as UTF-8, or, when
/// its bytes are not UTF-8 and `value` is a dict, pickled again with
/// `"_payload_encoding": "ISO-8859-1"` added last and decoded as Latin-1.
pub(super) fn tk_core_dumps(mut value: PickleValue<'_>) -> String {
    let bytes = dumps(&value);
    if let Ok(text) = std::str::from_utf8(&bytes) {
        return text.to_owned();
    }
    if let PickleValue::Dict(items) = &mut value {
        items.push((
            PAYLOAD_ENCODING_KEY,
            PickleValue::Str(PAYLOAD_ENCODING_LATIN1),
        ));
    }
    dumps(&value).iter().map(|&b| char::from(b)).collect()
}

/// CPython's `pickle.dumps(value, protocol=0)`, byte for byte, for a value built the way
/// tk-core builds its dicts: every dict key is an interned literal, so a key seen before
/// is a memo GET (`g5`); other strings are distinct objects except the empty string and
/// one-character Latin-1 strings, which CPython shares.
pub(super) fn dumps(value: &PickleValue<'_>) -> Zeroizing<Vec<u8>> {
    let mut w = PickleWriter::default();
    w.value(value);
    w.out.push(b'.');
    w.out
}

#[derive(Default)]
struct PickleWriter {
    out: Zeroizing<Vec<u8>>,
    next_memo: u32,
    /// Memo numbers of the strings CPython would find in its memo: interned keys, and
    /// the shared empty and one-character Latin-1 strings.
    shared: HashMap<String, u32>,
}

impl PickleWriter {
    fn put(&mut self) -> u32 {
        let n = self.next_memo;
        self.next_memo += 1;
        writeln_bytes(&mut self.out, format_args!("p{n}"));
        n
    }

    fn value(&mut self, value: &PickleValue<'_>) {
        match value {
            PickleValue::None => self.out.push(b'N'),
            PickleValue::Bool(b) => {
                self.out
                    .extend_from_slice(if *b { b"I01\n" } else { b"I00\n" })
            }
            // CPython's C pickler writes INT for what fits in 32 bits, else LONG with
            // Python 2's trailing L.
            PickleValue::Int(n) if i32::try_from(*n).is_ok() => {
                writeln_bytes(&mut self.out, format_args!("I{n}"))
            }
            PickleValue::Int(n) => writeln_bytes(&mut self.out, format_args!("L{n}L")),
            PickleValue::Str(s) => self.string(s, false),
            PickleValue::List(items) => {
                self.out.extend_from_slice(b"(l");
                self.put();
                for item in items {
                    self.value(item);
                    self.out.push(b'a');
                }
            }
            PickleValue::Dict(items) => {
                self.out.extend_from_slice(b"(d");
                self.put();
                for (key, item) in items {
                    self.string(key, true);
                    self.value(item);
                    self.out.push(b's');
                }
            }
        }
    }

    fn string(&mut self, s: &str, interned: bool) {
        let mut chars = s.chars();
        let singleton = match (chars.next(), chars.next()) {
            (None, _) => true,
            (Some(c), None) => u32::from(c) <= 0xFF,
            _ => false,
        };
        let shared = interned || singleton;
        if shared {
            if let Some(&n) = self.shared.get(s) {
                writeln_bytes(&mut self.out, format_args!("g{n}"));
                return;
            }
        }
        self.out.push(b'V');
        for c in s.chars() {
            let cp = u32::from(c);
            match c {
                '\\' | '\0' | '\n' | '\r' | '\u{1a}' => {
                    write_bytes(&mut self.out, format_args!("\\u{cp:04x}"))
                }
                _ if cp > 0xFFFF => write_bytes(&mut self.out, format_args!("\\U{cp:08x}")),
                _ if cp > 0xFF => write_bytes(&mut self.out, format_args!("\\u{cp:04x}")),
                _ => self
                    .out
                    .push(u8::try_from(cp).expect("code points up to U+00FF fit in a byte")),
            }
        }
        self.out.push(b'\n');
        let n = self.put();
        if shared {
            self.shared.insert(s.to_owned(), n);
        }
    }
}

fn write_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    out.write_fmt(args).expect("writing to a Vec cannot fail");
}

fn writeln_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    write_bytes(out, args);
    out.push(b'\n');
}
