//! Protocol-0 pickles written the way CPython's `pickle.dumps(..., protocol=0)`
//! writes tk-core's user dicts, with tk-core's `_payload_encoding` rule.

use super::user::*;
use crate::credential::Credential;
use crate::error::Result;
use std::collections::HashMap;
use std::io::Write as _;
use zeroize::Zeroizing;

/// Writes a session-token or script-key credential as tk-core's default
/// `serialize_user(user)` does: a protocol-0 pickle of `{"type": ..., "data": {...}}`,
/// as text, identical to what tk-core on Python 3.8+ returns.
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
/// [`Error::InvalidArgument`] for a login/password or opaque credential (tk-core has no
/// such user type) or one missing a required field.
pub fn to_serialized_user_pickle(cred: &Credential) -> Result<String> {
    let (ty, fields) = user_fields(cred)?;
    let bytes = pickle_user(ty, &fields, false);
    if let Ok(text) = std::str::from_utf8(&bytes) {
        return Ok(text.to_owned());
    }
    let bytes = pickle_user(ty, &fields, true);
    Ok(bytes.iter().map(|&b| char::from(b)).collect())
}

pub(super) fn pickle_user(
    ty: &str,
    fields: &[(&str, Option<&str>)],
    payload_encoding: bool,
) -> Zeroizing<Vec<u8>> {
    let mut w = PickleWriter::default();
    w.dict();
    w.string("type");
    w.string(ty);
    w.out.push(b's');
    w.string("data");
    w.dict();
    for (key, value) in fields {
        w.string(key);
        match value {
            Some(v) => w.string(v),
            None => w.out.push(b'N'),
        }
        w.out.push(b's');
    }
    // The inner dict is complete: store it under "data".
    w.out.push(b's');
    if payload_encoding {
        w.string(PAYLOAD_ENCODING_KEY);
        w.string(PAYLOAD_ENCODING_LATIN1);
        w.out.push(b's');
    }
    w.out.push(b'.');
    w.out
}

#[derive(Default)]
pub(super) struct PickleWriter {
    out: Zeroizing<Vec<u8>>,
    next_memo: u32,
    /// Memo numbers of CPython's shared strings (empty, one Latin-1 character).
    shared: HashMap<String, u32>,
}

impl PickleWriter {
    fn put(&mut self) -> u32 {
        let n = self.next_memo;
        self.next_memo += 1;
        writeln_bytes(&mut self.out, format_args!("p{n}"));
        n
    }

    fn dict(&mut self) {
        self.out.extend_from_slice(b"(d");
        self.put();
    }

    fn string(&mut self, s: &str) {
        let mut chars = s.chars();
        let shared = match (chars.next(), chars.next()) {
            (None, _) => true,
            (Some(c), None) => u32::from(c) <= 0xFF,
            _ => false,
        };
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

pub(super) fn write_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    out.write_fmt(args).expect("writing to a Vec cannot fail");
}

pub(super) fn writeln_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    write_bytes(out, args);
    out.push(b'\n');
}
