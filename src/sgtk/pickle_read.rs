//! A protocol-0 pickle read as data, never run: a small interpreter that accepts
//! only the opcodes a dict of strings and `None` needs, under fixed size limits.

use super::user::*;
use crate::error::Result;
use crate::secret::SecretString;
use std::collections::HashMap;
use zeroize::{Zeroize, Zeroizing};

/// tk-core's `pickle.loads` on text: UTF-8 bytes first, then the declared encoding.
pub(super) fn pickle_user_dict(text: &str) -> Result<Dict> {
    // Binary pickles passed around as Latin-1 text start with the PROTO opcode 0x80.
    if text.starts_with('\u{80}') {
        return Err(user_err(
            "the input is a binary pickle (protocol 2 or later); tk-core writes protocol 0, \
             and only dicts, strings and None are accepted",
        ));
    }
    let first = unpickle_dict(text.as_bytes())?;
    let encoding = match first.map.get(PAYLOAD_ENCODING_KEY) {
        None => return Ok(first),
        Some(Val::Str(e)) => e.expose().to_owned(),
        Some(other) => {
            return Err(user_err(format!(
                "\"{PAYLOAD_ENCODING_KEY}\" must be a string, found {}",
                other.type_name()
            )))
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
                    user_err(format!(
                        "the pickle declares {PAYLOAD_ENCODING_KEY} {PAYLOAD_ENCODING_LATIN1} \
                         but character {i} is above U+00FF"
                    ))
                })?;
                bytes.push(b);
            }
            unpickle_dict(&bytes)
        }
        _ => {
            let shown: String = encoding.chars().take(32).collect();
            Err(user_err(format!(
                "unsupported {PAYLOAD_ENCODING_KEY} {shown:?}; tk-core writes \
                 {PAYLOAD_ENCODING_LATIN1}"
            )))
        }
    }
}

pub(super) fn unpickle_dict(bytes: &[u8]) -> Result<Dict> {
    match Unpickler::new(bytes).run()? {
        Val::Dict(d) => Ok(d),
        other => Err(user_err(format!(
            "the pickle holds {}, not a dict",
            other.type_name()
        ))),
    }
}

/// Most items on the pickle stack at once (tk-core's pickles need 6).
pub(super) const MAX_STACK: usize = 256;
/// Most memo entries (tk-core's pickles use about 15).
pub(super) const MAX_MEMO: usize = 4096;
/// Deepest dict nesting (tk-core's pickles have 2 levels).
pub(super) const MAX_DICT_DEPTH: u8 = 8;
/// Most string bytes the interpreter may produce, copies from the memo included, so
/// that `g` (GET) cannot multiply a large string.
pub(super) const MAX_STRING_BYTES: usize = 4 * MAX_INPUT_LEN;

pub(super) enum Slot {
    Mark,
    Val(Val),
}

pub(super) enum Memo {
    Null,
    Str(SecretString),
    /// Dicts are memoized but may not be fetched again: sharing one (or making it
    /// contain itself) is never needed for a user dict.
    Dict,
}

/// A protocol-0 pickle interpreter for data only: dicts with string keys, strings and None.
pub(super) struct Unpickler<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Slot>,
    memo: HashMap<u64, Memo>,
    string_bytes: usize,
}

impl<'a> Unpickler<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            string_bytes: 0,
        }
    }

    fn run(mut self) -> Result<Val> {
        loop {
            let at = self.pos;
            let Some(&op) = self.bytes.get(at) else {
                return Err(user_err(format!(
                    "truncated pickle: it ends at byte {at} without the STOP opcode '.'"
                )));
            };
            self.pos += 1;
            match op {
                b'(' => self.push(Slot::Mark)?,
                b'}' => self.push(Slot::Val(Val::Dict(Dict::default())))?,
                b'N' => self.push(Slot::Val(Val::Null))?,
                b'd' => {
                    let items = self.pop_to_mark(op, at)?;
                    let mut dict = Dict::default();
                    set_items(&mut dict, items, at)?;
                    self.push(Slot::Val(Val::Dict(dict)))?;
                }
                b'V' => {
                    let line = self.line(op, at)?;
                    let s = decode_raw_unicode_escape(line, at)?;
                    self.charge(s.len())?;
                    self.push(Slot::Val(Val::Str(s)))?;
                }
                b'S' => {
                    let line = self.line(op, at)?;
                    let s = decode_python_string(line, at)?;
                    self.charge(s.len())?;
                    self.push(Slot::Val(Val::Str(s)))?;
                }
                b'p' => {
                    let index = self.memo_index(op, at)?;
                    let entry = match self.stack.last() {
                        Some(Slot::Val(Val::Null)) => Memo::Null,
                        Some(Slot::Val(Val::Str(s))) => {
                            let copy = s.clone();
                            self.charge(copy.len())?;
                            Memo::Str(copy)
                        }
                        Some(Slot::Val(Val::Dict(_))) => Memo::Dict,
                        _ => {
                            return Err(user_err(format!(
                                "pickle PUT at byte {at} has no value to store"
                            )))
                        }
                    };
                    if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
                        return Err(user_err(format!(
                            "pickle memo exceeds {MAX_MEMO} entries (byte {at})"
                        )));
                    }
                    self.memo.insert(index, entry);
                }
                b'g' => {
                    let index = self.memo_index(op, at)?;
                    let val = match self.memo.get(&index) {
                        Some(Memo::Null) => Val::Null,
                        Some(Memo::Str(s)) => Val::Str(s.clone()),
                        Some(Memo::Dict) => {
                            return Err(user_err(format!(
                                "pickle GET at byte {at} refers to a dict; shared or recursive \
                                 dicts are not accepted"
                            )))
                        }
                        None => {
                            return Err(user_err(format!(
                                "pickle GET at byte {at} refers to memo entry {index}, which \
                                 was never stored"
                            )))
                        }
                    };
                    if let Val::Str(s) = &val {
                        self.charge(s.len())?;
                    }
                    self.push(Slot::Val(val))?;
                }
                b's' => {
                    let value = self.pop_val(op, at)?;
                    let key = self.pop_val(op, at)?;
                    let dict = self.top_dict(op, at)?;
                    set_item(dict, key, value, at)?;
                }
                b'u' => {
                    let items = self.pop_to_mark(op, at)?;
                    let dict = self.top_dict(op, at)?;
                    set_items(dict, items, at)?;
                }
                b'.' => {
                    let result = self.pop_val(op, at)?;
                    if !self.stack.is_empty() {
                        return Err(user_err(format!(
                            "pickle STOP at byte {at} leaves {} unused items on the stack",
                            self.stack.len()
                        )));
                    }
                    let rest = &self.bytes[self.pos..];
                    if !rest.iter().all(u8::is_ascii_whitespace) {
                        return Err(user_err(format!(
                            "{} bytes follow the pickle's STOP opcode at byte {at}",
                            rest.len()
                        )));
                    }
                    return Ok(result);
                }
                _ => {
                    let hint = if op == 0x80 {
                        " (a binary pickle, protocol 2 or later; tk-core writes protocol 0)"
                    } else {
                        ""
                    };
                    return Err(user_err(format!(
                        "pickle opcode {} is not allowed; only dicts, strings and None are \
                         accepted (at byte {at}){hint}",
                        show_opcode(op)
                    )));
                }
            }
        }
    }

    fn push(&mut self, slot: Slot) -> Result<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(user_err(format!(
                "pickle stack exceeds {MAX_STACK} items (byte {})",
                self.pos - 1
            )));
        }
        self.stack.push(slot);
        Ok(())
    }

    fn charge(&mut self, len: usize) -> Result<()> {
        self.string_bytes += len;
        if self.string_bytes > MAX_STRING_BYTES {
            return Err(user_err(format!(
                "pickle strings exceed {MAX_STRING_BYTES} bytes in total (byte {})",
                self.pos
            )));
        }
        Ok(())
    }

    /// The opcode's argument: the bytes up to the next newline, which is consumed.
    fn line(&mut self, op: u8, at: usize) -> Result<&'a [u8]> {
        let rest = &self.bytes[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(user_err(format!(
                "truncated pickle: the argument of opcode {} at byte {at} has no end of line",
                show_opcode(op)
            )));
        };
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    fn memo_index(&mut self, op: u8, at: usize) -> Result<u64> {
        let line = self.line(op, at)?;
        if line.is_empty() || line.len() > 10 || !line.iter().all(u8::is_ascii_digit) {
            return Err(user_err(format!(
                "pickle memo index of opcode {} at byte {at} is not a decimal number",
                show_opcode(op)
            )));
        }
        let digits = std::str::from_utf8(line).expect("ASCII digits are UTF-8");
        Ok(digits
            .parse()
            .expect("at most 10 decimal digits fit in u64"))
    }

    fn pop_val(&mut self, op: u8, at: usize) -> Result<Val> {
        match self.stack.pop() {
            Some(Slot::Val(v)) => Ok(v),
            _ => Err(user_err(format!(
                "pickle opcode {} at byte {at} finds no value on the stack",
                show_opcode(op)
            ))),
        }
    }

    fn pop_to_mark(&mut self, op: u8, at: usize) -> Result<Vec<Val>> {
        let Some(mark) = self.stack.iter().rposition(|s| matches!(s, Slot::Mark)) else {
            return Err(user_err(format!(
                "pickle opcode {} at byte {at} has no MARK '(' before it",
                show_opcode(op)
            )));
        };
        let items = self
            .stack
            .drain(mark..)
            .skip(1)
            .map(|s| match s {
                Slot::Val(v) => v,
                Slot::Mark => unreachable!("the mark found is the last one"),
            })
            .collect();
        Ok(items)
    }

    fn top_dict(&mut self, op: u8, at: usize) -> Result<&mut Dict> {
        match self.stack.last_mut() {
            Some(Slot::Val(Val::Dict(d))) => Ok(d),
            _ => Err(user_err(format!(
                "pickle opcode {} at byte {at} needs a dict under its items",
                show_opcode(op)
            ))),
        }
    }
}

pub(super) fn set_items(dict: &mut Dict, items: Vec<Val>, at: usize) -> Result<()> {
    if items.len() % 2 != 0 {
        return Err(user_err(format!(
            "pickle dict at byte {at} has an odd number of keys and values"
        )));
    }
    let mut items = items.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        set_item(dict, key, value, at)?;
    }
    Ok(())
}

pub(super) fn set_item(dict: &mut Dict, key: Val, value: Val, at: usize) -> Result<()> {
    let Val::Str(key) = key else {
        return Err(user_err(format!(
            "pickle dict key at byte {at} is {}; only string keys are accepted",
            key.type_name()
        )));
    };
    if let Val::Dict(child) = &value {
        let depth = child.depth + 1;
        if depth > MAX_DICT_DEPTH {
            return Err(user_err(format!(
                "pickle dicts nest deeper than {MAX_DICT_DEPTH} levels (byte {at})"
            )));
        }
        dict.depth = dict.depth.max(depth);
    }
    // Like a Python dict, a later value replaces an earlier one.
    dict.map.insert(key.expose().to_owned(), value);
    Ok(())
}

pub(super) fn show_opcode(op: u8) -> String {
    if op.is_ascii_graphic() {
        format!("'{}'", op as char)
    } else {
        format!("0x{op:02x}")
    }
}

/// Python's `raw_unicode_escape` decoding (the `V` opcode): bytes are Latin-1 characters
/// except `\uXXXX` and `\UXXXXXXXX`. A surrogate pair is joined (Python 2 narrow builds
/// wrote those); a lone surrogate cannot be held in Rust text and is an error.
pub(super) fn decode_raw_unicode_escape(b: &[u8], at: usize) -> Result<SecretString> {
    // Each input byte yields at most 2 bytes of UTF-8: no reallocation leaves a copy.
    let mut out = Zeroizing::new(String::with_capacity(2 * b.len()));
    let mut i = 0;
    let hex = |i: usize, n: usize| -> Result<u32> {
        b.get(i..i + n)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .map(|h| {
                let h = std::str::from_utf8(h).expect("hex digits are ASCII");
                u32::from_str_radix(h, 16).expect("at most 8 hex digits fit in u32")
            })
            .ok_or_else(|| {
                user_err(format!(
                    "truncated \\uXXXX escape in the pickle string at byte {at}"
                ))
            })
    };
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'\\' || i >= b.len() {
            out.push(char::from(c));
            continue;
        }
        let n = match b[i] {
            b'u' => 4,
            b'U' => 8,
            other => {
                out.push('\\');
                out.push(char::from(other));
                i += 1;
                continue;
            }
        };
        let mut cp = hex(i + 1, n)?;
        i += 1 + n;
        if (0xD800..0xDC00).contains(&cp) {
            let low = if b.get(i..i + 2) == Some(b"\\u") {
                hex(i + 2, 4).ok().filter(|l| (0xDC00..0xE000).contains(l))
            } else {
                None
            };
            let Some(low) = low else {
                return Err(user_err(format!(
                    "the pickle string at byte {at} holds a lone surrogate escape"
                )));
            };
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        let ch = char::from_u32(cp).ok_or_else(|| {
            user_err(format!(
                "the pickle string at byte {at} holds an escape that is not a Unicode \
                 character (a lone surrogate or above U+10FFFF)"
            ))
        })?;
        out.push(ch);
    }
    Ok(SecretString::new(std::mem::take(&mut *out)))
}

/// The `S` opcode's argument: a quoted Python 2 `repr` of a byte string
/// (`codecs.escape_decode`), whose bytes must then be UTF-8.
pub(super) fn decode_python_string(line: &[u8], at: usize) -> Result<SecretString> {
    let quoted =
        line.len() >= 2 && line[0] == line[line.len() - 1] && (line[0] == b'\'' || line[0] == b'"');
    if !quoted {
        return Err(user_err(format!(
            "the argument of pickle opcode 'S' at byte {at} is not quoted"
        )));
    }
    let inner = &line[1..line.len() - 1];
    let mut out = Zeroizing::new(Vec::with_capacity(inner.len()));
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = inner.get(i) else {
            return Err(user_err(format!(
                "the pickle string at byte {at} ends with a lone backslash"
            )));
        };
        i += 1;
        match e {
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match inner.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                let byte = u8::try_from(v).map_err(|_| {
                    user_err(format!(
                        "the pickle string at byte {at} has an octal escape above \\377"
                    ))
                })?;
                out.push(byte);
            }
            b'x' => {
                let byte = inner
                    .get(i..i + 2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .map(|h| {
                        let h = std::str::from_utf8(h).expect("hex digits are ASCII");
                        u8::from_str_radix(h, 16).expect("two hex digits fit in u8")
                    })
                    .ok_or_else(|| {
                        user_err(format!(
                            "the pickle string at byte {at} has an invalid \\x escape"
                        ))
                    })?;
                out.push(byte);
                i += 2;
            }
            // Python keeps unknown escapes as they are.
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    let text = String::from_utf8(std::mem::take(&mut *out)).map_err(|e| {
        let mut bytes = e.into_bytes();
        bytes.zeroize();
        user_err(format!(
            "the 'S' string at byte {at} is not UTF-8 (tk-core decodes Python 2 strings as UTF-8)"
        ))
    })?;
    Ok(SecretString::new(text))
}
