//! JSON as Python's `json` module writes it (`json.dumps` string escapes), serde_json's
//! errors told without the input, and the byte spans of an object's members, so a
//! file tk-core wrote can lose a member and keep every other byte.

use super::pickle_read::Res;
use std::fmt::Write as _;
use std::ops::Range;

/// Python's `json.dumps` string encoding with `ensure_ascii=True`: everything outside
/// `' '..='~'` is escaped, with the short forms Python uses and lower-case hex.
pub(super) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("writing to a String cannot fail");
                }
            }
        }
    }
    out.push('"');
}

/// Describes a serde_json error by kind and position only: its own text can quote input.
pub(super) fn json_error_text(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax => "malformed JSON",
        Category::Eof => "truncated JSON",
        Category::Data => "unexpected JSON value",
        Category::Io => "I/O error while reading JSON",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// One member of a JSON object, by byte offsets into the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Member {
    /// The key, decoded.
    pub(super) key: String,
    /// Where the member starts (its key's opening quote).
    pub(super) start: usize,
    /// Its value.
    pub(super) value: Range<usize>,
}

/// The members of the object whose `{` is at `at` in `text`, in order (duplicates
/// included). `text` is valid JSON (serde_json has read it); anything unexpected is an
/// error all the same, never a panic.
pub(super) fn object_members(text: &str, at: usize) -> Res<Vec<Member>> {
    let b = text.as_bytes();
    let mut i = at;
    expect(b, &mut i, b'{')?;
    let mut members = Vec::new();
    skip_ws(b, &mut i);
    if b.get(i) == Some(&b'}') {
        return Ok(members);
    }
    loop {
        skip_ws(b, &mut i);
        let start = i;
        skip_string(b, &mut i)?;
        let key: String = serde_json::from_str(&text[start..i])
            .map_err(|_| format!("JSON key at offset {start} does not decode"))?;
        skip_ws(b, &mut i);
        expect(b, &mut i, b':')?;
        skip_ws(b, &mut i);
        let value_start = i;
        skip_value(b, &mut i)?;
        members.push(Member {
            key,
            start,
            value: value_start..i,
        });
        skip_ws(b, &mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(members),
            _ => return Err(format!("JSON object member ends badly at offset {i}")),
        }
    }
}

/// The byte ranges to cut from an object's text so that the members at `remove`
/// (indices into `members`) go and the rest keep their bytes and separators: what
/// `json.dumps` would write for the smaller dict when the text was its output.
pub(super) fn member_cuts(members: &[Member], remove: &[usize]) -> Vec<Range<usize>> {
    let mut live: Vec<&Member> = members.iter().collect();
    let mut cuts = Vec::new();
    let mut doomed: Vec<usize> = remove.to_vec();
    doomed.sort_unstable();
    doomed.dedup();
    // From the last to the first, each against the members still there.
    for &index in doomed.iter().rev() {
        let Some(pos) = live.iter().position(|m| std::ptr::eq(*m, &members[index])) else {
            continue;
        };
        let m = live[pos];
        let cut = if pos > 0 {
            // `, "key": value` after the previous member.
            live[pos - 1].value.end..m.value.end
        } else if let Some(next) = live.get(1) {
            // `"key": value, ` before the next one.
            m.start..next.start
        } else {
            m.start..m.value.end
        };
        cuts.push(cut);
        live.remove(pos);
    }
    cuts
}

/// `text` without the byte ranges `cuts` (which may overlap).
pub(super) fn apply_cuts(text: &str, mut cuts: Vec<Range<usize>>) -> String {
    cuts.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for cut in cuts {
        if cut.start > from {
            out.push_str(&text[from..cut.start]);
        }
        from = from.max(cut.end);
    }
    out.push_str(&text[from..]);
    out
}

fn skip_ws(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
}

fn expect(b: &[u8], i: &mut usize, c: u8) -> Res<()> {
    if b.get(*i) == Some(&c) {
        *i += 1;
        Ok(())
    } else {
        Err(format!(
            "expected '{}' at offset {i} of the JSON",
            c as char
        ))
    }
}

fn skip_string(b: &[u8], i: &mut usize) -> Res<()> {
    expect(b, i, b'"')?;
    while let Some(&c) = b.get(*i) {
        *i += 1;
        match c {
            b'"' => return Ok(()),
            b'\\' => *i += 1,
            _ => {}
        }
    }
    Err("unterminated JSON string".into())
}

fn skip_value(b: &[u8], i: &mut usize) -> Res<()> {
    match b.get(*i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while let Some(&c) = b.get(*i) {
                match c {
                    b'"' => {
                        skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            *i += 1;
                            return Ok(());
                        }
                    }
                    _ => {}
                }
                *i += 1;
            }
            Err("unterminated JSON object or array".into())
        }
        Some(_) => {
            while let Some(&c) = b.get(*i) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                *i += 1;
            }
            Ok(())
        }
        None => Err("JSON ends where a value should be".into()),
    }
}
