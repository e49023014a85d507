//! `serialize_user` payloads: read (JSON or pickle, as `input` decodes them) into a
//! credential, and the JSON form written byte for byte as Python's `json.dumps`
//! writes it.

use super::input::decode;
use super::json::push_json_str;
use super::user::*;
use crate::credential::Credential;
use crate::error::Result;

/// Parses what tk-core's `serialize_user` writes (JSON or protocol-0 pickle) into a
/// [`Credential::SessionToken`] or [`Credential::ScriptKey`].
///
/// `input` is the payload's bytes: UTF-8 text (what `serialize_user` returned, written
/// out as UTF-8), or the raw bytes of a pickle that are not UTF-8 (tk-core's text
/// written out as ISO-8859-1, or the pickle's own bytes), read as tk-core reads `bytes`.
/// Text is JSON when its first character is `{` (a UTF-8 byte order mark before it is
/// skipped), a pickle otherwise, as in tk-core. Missing keys count as null and unknown
/// keys are ignored; an empty or missing `host`, `login`, `session_token`, `api_script`
/// or `api_key` is an error naming the field (tk-core's `IncompleteCredentials`;
/// tk-core would look a missing session token up in its session cache, this function
/// does not). `http_proxy: null` gives `None`; `session_metadata` is kept when it is not
/// null.
///
/// The pickle is parsed as data only (dicts, lists, strings, integers, None); any other
/// opcode (`c` GLOBAL, `R` REDUCE, `i` INST, binary protocols...) is refused, naming it
/// and its offset. `S` strings (Python 2 pickles) must decode as UTF-8. A top-level
/// `_payload_encoding` is honoured as the module documentation describes.
///
/// # Errors
///
/// [`Error::InvalidArgument`] saying what is wrong, without any secret value, for input
/// over [`MAX_INPUT_LEN`], input that is neither JSON nor a pickle, an unsupported
/// opcode, an unknown type or a missing field.
///
/// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
pub fn parse_serialized_user(input: impl AsRef<[u8]>) -> Result<Credential> {
    user_from_dict(decode(input.as_ref()).map_err(user_err)?)
}

/// Writes a session-token or script-key credential as tk-core's
/// `serialize_user(user, use_json=True)` does: byte for byte Python's `json.dumps` with
/// its defaults (separators `", "` and `": "`, `ensure_ascii=True`), keys in tk-core's
/// order, `http_proxy` always present (`null` when unset), `session_metadata` only when set.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a login/password, opaque or Flow credential (tk-core
/// has no such user type) or one missing a required field. A context gives its user.
///
/// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
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
