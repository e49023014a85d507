//! `serialize_user` payloads: the choice between JSON and pickle (tk-core's own
//! test, the first character), and the JSON form read and written byte for byte as
//! Python's `json.dumps` writes it.

use super::pickle_read::pickle_user_dict;
use super::user::*;
use crate::credential::Credential;
use crate::error::Result;
use crate::secret::SecretString;
use std::fmt::Write as _;

/// Parses what tk-core's `serialize_user` writes (JSON or protocol-0 pickle) into a
/// [`Credential::SessionToken`] or [`Credential::ScriptKey`].
///
/// The payload is JSON when its first character is `{` (no BOM, no leading space), a
/// pickle otherwise, as in tk-core. Missing keys count as null and unknown keys are
/// ignored; an empty or missing `host`, `login`, `session_token`, `api_script` or
/// `api_key` is an error naming the field (tk-core's `IncompleteCredentials`; tk-core
/// would look a missing session token up in its session cache, this function does not).
/// `http_proxy: null` gives `None`; `session_metadata` is kept when it is not null.
///
/// The pickle is parsed as data only: `(` `d` `}` `V` `S` `N` `p` `g` `s` `u` `.`; any
/// other opcode (`c` GLOBAL, `R` REDUCE, `i` INST, numbers, binary protocols...) is
/// rejected. `S` strings (Python 2 pickles) must decode as UTF-8. A top-level
/// `_payload_encoding` is honoured as the module documentation describes.
///
/// # Errors
///
/// [`Error::InvalidArgument`] saying what is wrong, without any secret value, for input
/// over [`MAX_INPUT_LEN`], malformed JSON or pickle, an unknown type or a missing field.
pub fn parse_serialized_user(text: &str) -> Result<Credential> {
    if text.len() > MAX_INPUT_LEN {
        return Err(user_err(format!(
            "input is {} bytes; the limit is {MAX_INPUT_LEN} (1 MiB)",
            text.len()
        )));
    }
    if text.is_empty() {
        return Err(user_err("input is empty"));
    }
    let top = if text.starts_with('{') {
        json_user_dict(text)?
    } else {
        if text.trim_start().starts_with('{') {
            return Err(user_err(
                "input looks like JSON but does not start with '{' (tk-core reads JSON only \
                 when the first character is '{'; remove the leading whitespace or BOM)",
            ));
        }
        pickle_user_dict(text)?
    };
    user_from_dict(top)
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

pub(super) fn json_user_dict(text: &str) -> Result<Dict> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| user_err(json_error_text(&e)))?;
    match json_val(value, 2) {
        Val::Dict(d) => Ok(d),
        other => Err(user_err(format!(
            "expected a JSON object, found {}",
            other.type_name()
        ))),
    }
}

/// Moves a JSON value into a [`Val`]; objects nested deeper than `dict_levels` are not
/// needed (unknown keys are ignored) and only keep their type name.
pub(super) fn json_val(value: serde_json::Value, dict_levels: u8) -> Val {
    use serde_json::Value as J;
    match value {
        J::Null => Val::Null,
        // Moved, not copied, into the self-wiping buffer.
        J::String(s) => Val::Str(SecretString::new(s)),
        J::Object(m) if dict_levels > 0 => Val::Dict(Dict {
            depth: 0,
            map: m
                .into_iter()
                .map(|(k, v)| (k, json_val(v, dict_levels - 1)))
                .collect(),
        }),
        J::Object(_) => Val::Other("an object"),
        J::Bool(_) => Val::Other("a boolean"),
        J::Number(_) => Val::Other("a number"),
        J::Array(_) => Val::Other("an array"),
    }
}

/// Writes a session-token or script-key credential as tk-core's
/// `serialize_user(user, use_json=True)` does: byte for byte Python's `json.dumps` with
/// its defaults (separators `", "` and `": "`, `ensure_ascii=True`), keys in tk-core's
/// order, `http_proxy` always present (`null` when unset), `session_metadata` only when set.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a login/password or opaque credential (tk-core has no
/// such user type) or one missing a required field.
pub fn to_serialized_user_json(cred: &Credential) -> Result<String> {
    let (ty, fields) = user_fields(cred)?;
    let mut out = String::with_capacity(256);
    out.push_str("{\"type\": ");
    push_json_str(&mut out, ty);
    out.push_str(", \"data\": {");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_str(&mut out, key);
        out.push_str(": ");
        match value {
            Some(v) => push_json_str(&mut out, v),
            None => out.push_str("null"),
        }
    }
    out.push_str("}}");
    Ok(out)
}

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
