//! `TANK_CONTEXT`: the serialized user carried in a context's `_current_user` key.

use super::serialized::*;
use super::user::*;
use crate::credential::Credential;
use crate::error::{Error, Result};
use zeroize::Zeroizing;

/// Parses a `TANK_CONTEXT` value (JSON) and the serialized user in its `_current_user`
/// key (a JSON string holding what `serialize_user` wrote).
///
/// # Errors
///
/// [`Error::InvalidArgument`] for input over [`MAX_INPUT_LEN`], malformed JSON, a context
/// without a user, or any error of [`parse_serialized_user`] on the user.
pub fn parse_tank_context(json: &str) -> Result<Credential> {
    if json.len() > MAX_INPUT_LEN {
        return Err(invalid(format!(
            "TANK_CONTEXT: input is {} bytes; the limit is {MAX_INPUT_LEN} (1 MiB)",
            json.len()
        )));
    }
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| invalid(format!("TANK_CONTEXT: {}", json_error_text(&e))))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(invalid("TANK_CONTEXT: expected a JSON object"));
    };
    let user = match map.remove("_current_user") {
        Some(serde_json::Value::String(s)) => Zeroizing::new(s),
        Some(serde_json::Value::Null) | None => {
            return Err(invalid(
                "TANK_CONTEXT: no user (\"_current_user\" is missing or null)",
            ))
        }
        Some(_) => {
            return Err(invalid(
                "TANK_CONTEXT: \"_current_user\" must be a string holding a serialized user",
            ))
        }
    };
    drop(map);
    parse_serialized_user(&user).map_err(|e| match e {
        Error::InvalidArgument(msg) => invalid(format!("TANK_CONTEXT \"_current_user\": {msg}")),
        other => other,
    })
}
