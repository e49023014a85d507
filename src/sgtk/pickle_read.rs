//! A protocol-0 pickle read as data, never run: a small interpreter that accepts
//! only the opcodes a tree of dicts, lists, strings, integers and `None` needs
//! (what tk-core's users and contexts hold), under fixed size limits. Nothing is
//! imported, no object is constructed, and no memo entry can make a container
//! shared or recursive.
//!
//! Its errors are plain text without a prefix: the caller says what was being read.

use super::user::*;
use crate::secret::SecretString;
use std::collections::HashMap;
use zeroize::{Zeroize, Zeroizing};

/// An interpreter error: what is wrong and where, never a value.
pub(super) type Res<T> = std::result::Result<T, String>;

/// Most items on the pickle stack at once (tk-core's pickles need about 8).
pub(super) const MAX_STACK: usize = 256;
/// Most memo entries (a tk-core context uses about 40).
pub(super) const MAX_MEMO: usize = 4096;
/// Deepest nesting of dicts and lists (a tk-core context has 3 levels).
pub(super) const MAX_DEPTH: u8 = 8;
/// Most values the interpreter may make, memo copies included (a context has about 60),
/// so that one-byte opcodes cannot fill memory with empty lists.
pub(super) const MAX_VALUES: usize = 1 << 16;
/// Most string bytes the interpreter may produce, copies from the memo included, so
/// that `g` (GET) cannot multiply a large string.
pub(super) const MAX_STRING_BYTES: usize = 4 * MAX_INPUT_LEN;

/// Runs the pickle in `bytes` and returns the value it builds.
pub(super) fn unpickle(bytes: &[u8]) -> Res<Val> {
    Unpickler::new(bytes).run()
}

/// The name CPython's `pickletools` gives an opcode.
pub(super) fn opcode_name(op: u8) -> Option<&'static str> {
    Some(match op {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => return None,
    })
}

/// An opcode as messages show it: `'c' (GLOBAL)`, `0x80 (PROTO)`.
pub(super) fn show_opcode(op: u8) -> String {
    let shown = if op.is_ascii_graphic() {
        format!("'{}'", op as char)
    } else {
        format!("0x{op:02x}")
    };
    match opcode_name(op) {
        Some(name) => format!("{shown} ({name})"),
        None => shown,
    }
}

enum Slot {
    Mark,
    Val(Val),
}

enum Memo {
    Null,
    Bool(bool),
    Int(i64),
    Str(SecretString),
    /// Dicts and lists are memoized but may not be fetched again: sharing one (or
    /// making it contain itself) is never needed for tk-core's data.
    Container(&'static str),
}

/// A protocol-0 interpreter for data only.
struct Unpickler<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Slot>,
    memo: HashMap<u64, Memo>,
    values: usize,
    string_bytes: usize,
}

impl<'a> Unpickler<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            values: 0,
            string_bytes: 0,
        }
    }

    fn run(mut self) -> Res<Val> {
        loop {
            let at = self.pos;
            let Some(&op) = self.bytes.get(at) else {
                return Err(format!(
                    "truncated pickle: it ends at offset {at} without the STOP opcode '.'"
                ));
            };
            self.pos += 1;
            match op {
                b'(' => self.push(Slot::Mark)?,
                b'}' => self.push_val(Val::Dict(Dict::default()))?,
                b']' => self.push_val(Val::List(List::default()))?,
                b'N' => self.push_val(Val::Null)?,
                b'I' => {
                    let line = self.line(op, at)?;
                    let val = match line {
                        b"00" => Val::Bool(false),
                        b"01" => Val::Bool(true),
                        digits => Val::Int(parse_int(digits, op, at)?),
                    };
                    self.push_val(val)?;
                }
                b'L' => {
                    let line = self.line(op, at)?;
                    let digits = line.strip_suffix(b"L").unwrap_or(line);
                    let n = parse_int(digits, op, at)?;
                    self.push_val(Val::Int(n))?;
                }
                b'V' => {
                    let line = self.line(op, at)?;
                    let s = decode_raw_unicode_escape(line, at)?;
                    self.charge(s.len())?;
                    self.push_val(Val::Str(s))?;
                }
                b'S' => {
                    let line = self.line(op, at)?;
                    let s = decode_python_string(line, at)?;
                    self.charge(s.len())?;
                    self.push_val(Val::Str(s))?;
                }
                b'd' => {
                    let items = self.pop_to_mark(op, at)?;
                    let mut dict = Dict::default();
                    set_items(&mut dict, items, at)?;
                    self.push_val(Val::Dict(dict))?;
                }
                b'l' => {
                    let items = self.pop_to_mark(op, at)?;
                    let mut list = List::default();
                    for item in items {
                        append(&mut list, item, at)?;
                    }
                    self.push_val(Val::List(list))?;
                }
                b'p' => {
                    let index = self.memo_index(op, at)?;
                    let entry = match self.stack.last() {
                        Some(Slot::Val(Val::Null)) => Memo::Null,
                        Some(Slot::Val(Val::Bool(b))) => Memo::Bool(*b),
                        Some(Slot::Val(Val::Int(n))) => Memo::Int(*n),
                        Some(Slot::Val(Val::Str(s))) => {
                            let copy = s.clone();
                            self.charge(copy.len())?;
                            Memo::Str(copy)
                        }
                        Some(Slot::Val(v @ (Val::Dict(_) | Val::List(_) | Val::Other(_)))) => {
                            Memo::Container(v.type_name())
                        }
                        Some(Slot::Mark) | None => {
                            return Err(format!("pickle PUT at offset {at} has no value to store"))
                        }
                    };
                    if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
                        return Err(format!(
                            "pickle memo exceeds {MAX_MEMO} entries (offset {at})"
                        ));
                    }
                    self.memo.insert(index, entry);
                }
                b'g' => {
                    let index = self.memo_index(op, at)?;
                    let val = match self.memo.get(&index) {
                        Some(Memo::Null) => Val::Null,
                        Some(Memo::Bool(b)) => Val::Bool(*b),
                        Some(Memo::Int(n)) => Val::Int(*n),
                        Some(Memo::Str(s)) => Val::Str(s.clone()),
                        Some(Memo::Container(what)) => {
                            return Err(format!(
                                "pickle GET at offset {at} refers to {what}; shared or \
                                 recursive dicts and lists are not accepted"
                            ))
                        }
                        None => {
                            return Err(format!(
                                "pickle GET at offset {at} refers to memo entry {index}, \
                                 which was never stored"
                            ))
                        }
                    };
                    if let Val::Str(s) = &val {
                        self.charge(s.len())?;
                    }
                    self.push_val(val)?;
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
                b'a' => {
                    let value = self.pop_val(op, at)?;
                    let list = self.top_list(op, at)?;
                    append(list, value, at)?;
                }
                b'e' => {
                    let items = self.pop_to_mark(op, at)?;
                    let list = self.top_list(op, at)?;
                    for item in items {
                        append(list, item, at)?;
                    }
                }
                b'.' => {
                    let result = self.pop_val(op, at)?;
                    if !self.stack.is_empty() {
                        return Err(format!(
                            "pickle STOP at offset {at} leaves {} unused items on the stack",
                            self.stack.len()
                        ));
                    }
                    let rest = &self.bytes[self.pos..];
                    if !rest.iter().all(u8::is_ascii_whitespace) {
                        return Err(format!(
                            "{} bytes follow the pickle's STOP opcode at offset {at}",
                            rest.len()
                        ));
                    }
                    return Ok(result);
                }
                _ => {
                    let hint = if op == 0x80 {
                        " (a binary pickle, protocol 2 or later; tk-core writes protocol 0)"
                    } else {
                        ""
                    };
                    return Err(format!(
                        "unsupported pickle opcode {} at offset {at}; only dicts, lists, \
                         strings, integers and None are read, and the pickle is never run{hint}",
                        show_opcode(op)
                    ));
                }
            }
        }
    }

    fn push(&mut self, slot: Slot) -> Res<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(format!(
                "pickle stack exceeds {MAX_STACK} items (offset {})",
                self.pos - 1
            ));
        }
        self.stack.push(slot);
        Ok(())
    }

    fn push_val(&mut self, val: Val) -> Res<()> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(format!(
                "pickle makes more than {MAX_VALUES} values (offset {})",
                self.pos - 1
            ));
        }
        self.push(Slot::Val(val))
    }

    fn charge(&mut self, len: usize) -> Res<()> {
        self.string_bytes += len;
        if self.string_bytes > MAX_STRING_BYTES {
            return Err(format!(
                "pickle strings exceed {MAX_STRING_BYTES} bytes in total (offset {})",
                self.pos
            ));
        }
        Ok(())
    }

    /// The opcode's argument: the bytes up to the next newline, which is consumed.
    fn line(&mut self, op: u8, at: usize) -> Res<&'a [u8]> {
        let rest = &self.bytes[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(format!(
                "truncated pickle: the argument of opcode {} at offset {at} has no end of line",
                show_opcode(op)
            ));
        };
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    fn memo_index(&mut self, op: u8, at: usize) -> Res<u64> {
        let line = self.line(op, at)?;
        if line.is_empty() || line.len() > 10 || !line.iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "pickle memo index of opcode {} at offset {at} is not a decimal number",
                show_opcode(op)
            ));
        }
        let digits = std::str::from_utf8(line).expect("ASCII digits are UTF-8");
        Ok(digits
            .parse()
            .expect("at most 10 decimal digits fit in u64"))
    }

    fn pop_val(&mut self, op: u8, at: usize) -> Res<Val> {
        match self.stack.pop() {
            Some(Slot::Val(v)) => Ok(v),
            _ => Err(format!(
                "pickle opcode {} at offset {at} finds no value on the stack",
                show_opcode(op)
            )),
        }
    }

    fn pop_to_mark(&mut self, op: u8, at: usize) -> Res<Vec<Val>> {
        let Some(mark) = self.stack.iter().rposition(|s| matches!(s, Slot::Mark)) else {
            return Err(format!(
                "pickle opcode {} at offset {at} has no MARK '(' before it",
                show_opcode(op)
            ));
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

    fn top_dict(&mut self, op: u8, at: usize) -> Res<&mut Dict> {
        match self.stack.last_mut() {
            Some(Slot::Val(Val::Dict(d))) => Ok(d),
            _ => Err(format!(
                "pickle opcode {} at offset {at} needs a dict under its items",
                show_opcode(op)
            )),
        }
    }

    fn top_list(&mut self, op: u8, at: usize) -> Res<&mut List> {
        match self.stack.last_mut() {
            Some(Slot::Val(Val::List(l))) => Ok(l),
            _ => Err(format!(
                "pickle opcode {} at offset {at} needs a list under its items",
                show_opcode(op)
            )),
        }
    }
}

/// The decimal argument of `I` or `L`: an optional `-`, then digits, within 64 bits.
fn parse_int(digits: &[u8], op: u8, at: usize) -> Res<i64> {
    let unsigned = digits.strip_prefix(b"-").unwrap_or(digits);
    if unsigned.is_empty() || unsigned.len() > 20 || !unsigned.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "the argument of pickle opcode {} at offset {at} is not a decimal integer",
            show_opcode(op)
        ));
    }
    std::str::from_utf8(digits)
        .expect("ASCII digits are UTF-8")
        .parse()
        .map_err(|_| {
            format!(
                "the integer of pickle opcode {} at offset {at} does not fit in 64 bits",
                show_opcode(op)
            )
        })
}

/// Raises `depth` to hold `child` one level down, within [`MAX_DEPTH`].
fn nest(depth: &mut u8, child: &Val, at: usize) -> Res<()> {
    let below = child.nesting();
    if below >= MAX_DEPTH {
        return Err(format!(
            "pickle dicts and lists nest deeper than {MAX_DEPTH} levels (offset {at})"
        ));
    }
    *depth = (*depth).max(below);
    Ok(())
}

fn append(list: &mut List, value: Val, at: usize) -> Res<()> {
    nest(&mut list.depth, &value, at)?;
    list.items.push(value);
    Ok(())
}

fn set_items(dict: &mut Dict, items: Vec<Val>, at: usize) -> Res<()> {
    if items.len() % 2 != 0 {
        return Err(format!(
            "pickle dict at offset {at} has an odd number of keys and values"
        ));
    }
    let mut items = items.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        set_item(dict, key, value, at)?;
    }
    Ok(())
}

fn set_item(dict: &mut Dict, key: Val, value: Val, at: usize) -> Res<()> {
    let Val::Str(key) = key else {
        return Err(format!(
            "pickle dict key at offset {at} is {}; only string keys are accepted",
            key.type_name()
        ));
    };
    nest(&mut dict.depth, &value, at)?;
    // Like a Python dict, a later value replaces an earlier one.
    dict.map.insert(key.expose().to_owned(), value);
    Ok(())
}

/// Python's `raw_unicode_escape` decoding (the `V` opcode): bytes are Latin-1 characters
/// except `\uXXXX` and `\UXXXXXXXX`. A surrogate pair is joined (Python 2 narrow builds
/// wrote those); a lone surrogate cannot be held in Rust text and is an error.
pub(super) fn decode_raw_unicode_escape(b: &[u8], at: usize) -> Res<SecretString> {
    // Each input byte yields at most 2 bytes of UTF-8: no reallocation leaves a copy.
    let mut out = Zeroizing::new(String::with_capacity(2 * b.len()));
    let mut i = 0;
    let hex = |i: usize, n: usize| -> Res<u32> {
        b.get(i..i + n)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .map(|h| {
                let h = std::str::from_utf8(h).expect("hex digits are ASCII");
                u32::from_str_radix(h, 16).expect("at most 8 hex digits fit in u32")
            })
            .ok_or_else(|| format!("truncated \\uXXXX escape in the pickle string at offset {at}"))
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
                return Err(format!(
                    "the pickle string at offset {at} holds a lone surrogate escape"
                ));
            };
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        let ch = char::from_u32(cp).ok_or_else(|| {
            format!(
                "the pickle string at offset {at} holds an escape that is not a Unicode \
                 character (a lone surrogate or above U+10FFFF)"
            )
        })?;
        out.push(ch);
    }
    Ok(SecretString::new(std::mem::take(&mut *out)))
}

/// The `S` opcode's argument: a quoted Python 2 `repr` of a byte string
/// (`codecs.escape_decode`), whose bytes must then be UTF-8.
pub(super) fn decode_python_string(line: &[u8], at: usize) -> Res<SecretString> {
    let quoted =
        line.len() >= 2 && line[0] == line[line.len() - 1] && (line[0] == b'\'' || line[0] == b'"');
    if !quoted {
        return Err(format!(
            "the argument of pickle opcode 'S' at offset {at} is not quoted"
        ));
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
            return Err(format!(
                "the pickle string at offset {at} ends with a lone backslash"
            ));
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
                    format!("the pickle string at offset {at} has an octal escape above \\377")
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
                        format!("the pickle string at offset {at} has an invalid \\x escape")
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
        format!(
            "the 'S' string at offset {at} is not UTF-8 (tk-core decodes Python 2 strings as UTF-8)"
        )
    })?;
    Ok(SecretString::new(text))
}
