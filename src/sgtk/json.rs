//! JSON as Python's `json` module writes it (`json.dumps` string escapes), and
//! serde_json's errors told without the input.

use std::fmt::Write as _;

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
