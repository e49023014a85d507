//! `TANK_CONTEXT`: what tk-core's `Context.serialize` writes, in either form (the
//! default protocol-0 pickle, or JSON with `use_json=True`), and the serialized user
//! it carries under `_current_user`.

use super::input::{decode, shape, Shape};
use super::serialized::parse_serialized_user;
use super::user::*;
use crate::credential::{Credential, TankContext};
use crate::error::{Error, Result};
use crate::secret::SecretBytes;

/// Parses a `TANK_CONTEXT` value (JSON or protocol-0 pickle, read as
/// [`parse_serialized_user`] reads its input) and returns the user its `_current_user`
/// key carries.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for input over [`MAX_INPUT_LEN`], input that is neither
/// JSON nor a pickle, a dict that is not a context, a context without a user, or any
/// error of [`parse_serialized_user`] on the user, prefixed with where it is.
pub fn parse_tank_context(input: impl AsRef<[u8]>) -> Result<Credential> {
    Ok(*read_tank_context(input.as_ref())?.0)
}

/// A context and its user, as [`parse_tank_context`] reads them, stored as a
/// [`TankContext`] holding `input` byte for byte.
pub(super) fn tank_context(input: &[u8]) -> Result<TankContext> {
    let (user, payload) = read_tank_context(input)?;
    Ok(TankContext::new(*user, payload))
}

fn read_tank_context(input: &[u8]) -> Result<(Box<Credential>, SecretBytes)> {
    let mut dict = decode(input).map_err(context_err)?;
    // A dict that is neither reads as a context without a user, below.
    if shape(&dict) == Ok(Shape::User) {
        return Err(context_err(
            "this is a serialized user, not a context (it has \"type\" and no \"_pc_path\")",
        ));
    }
    let user = match dict.map.remove("_current_user") {
        // tk-core restores no user from an empty string either.
        Some(Val::Str(s)) if !s.is_empty() => s,
        Some(Val::Null | Val::Str(_)) | None => {
            return Err(context_err(
                "no user (\"_current_user\" is missing, null or empty: the context was \
                 serialized with_user_credentials=False or without an authenticated user)",
            ))
        }
        Some(other) => {
            return Err(context_err(format!(
                "\"_current_user\" must be a string holding a serialized user, found {}",
                other.type_name()
            )))
        }
    };
    drop(dict);
    let user = parse_serialized_user(user.expose()).map_err(|e| match e {
        Error::InvalidArgument(msg) => invalid(format!(
            "TANK_CONTEXT \"_current_user\": {}",
            msg.strip_prefix("serialized user: ").unwrap_or(&msg)
        )),
        other => other,
    })?;
    Ok((Box::new(user), SecretBytes::from_slice(input)))
}

fn context_err(msg: impl std::fmt::Display) -> Error {
    invalid(format!("TANK_CONTEXT: {msg}"))
}
