//! Whatever tk-core wrote, told apart by structure (a serialized user or a
//! `TANK_CONTEXT`), and each credential's way back out: the bytes `farmvault
//! export-sgtk`, `fv_sgtk_export` and Python's `sgtk.export` give.

use super::context::tank_context;
use super::flow::to_flow_tokens_json;
use super::input::{decode, shape, Shape};
use super::serialized::to_serialized_user_json;
use super::user::*;
use crate::credential::Credential;
use crate::error::Result;
use zeroize::Zeroizing;

/// Parses what tk-core's `serialize_user` or `Context.serialize` wrote, JSON or
/// protocol-0 pickle, telling the two apart by the keys of the top-level dict (a
/// context has `_pc_path`, a user `type`), not by searching the text.
///
/// A serialized user gives a [`Credential::SessionToken`] or [`Credential::ScriptKey`];
/// a context gives a [`Credential::TankContext`] holding `input` byte for byte and the
/// user of its `_current_user`. `input` is read as [`parse_serialized_user`] reads it.
///
/// # Errors
///
/// [`Error::InvalidArgument`] naming what is wrong: not JSON and not a pickle, an
/// unsupported pickle opcode and its offset, a dict that is neither a user nor a
/// context, a context without a user, a missing field.
///
/// [`parse_serialized_user`]: super::parse_serialized_user
/// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
pub fn parse(input: impl AsRef<[u8]>) -> Result<Credential> {
    let input = input.as_ref();
    let what = |e| invalid(format!("serialized user or TANK_CONTEXT: {e}"));
    let dict = decode(input).map_err(what)?;
    match shape(&dict).map_err(what)? {
        Shape::User => user_from_dict(dict),
        Shape::Context => {
            drop(dict);
            Ok(Credential::TankContext(tank_context(input)?))
        }
    }
}

/// The bytes a credential goes back to tk-core as, exactly (no newline):
///
/// - a script key or session token: `serialize_user(user, use_json=True)`
///   ([`to_serialized_user_json`]);
/// - a context: the serialized context, byte for byte as it came in, in its form
///   (JSON, pickle text, or the raw bytes of a pickle that were not UTF-8);
/// - a Flow token pair: `adsk_flow_tokens.json` holding just that application and
///   profile, as tk-core writes it.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a login/password or opaque credential, which tk-core
/// has no format for.
///
/// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
pub fn export(credential: &Credential) -> Result<Zeroizing<Vec<u8>>> {
    let bytes = match credential {
        Credential::TankContext(c) => c.payload().to_vec(),
        Credential::FlowToken(t) => to_flow_tokens_json(t).into_bytes(),
        other => to_serialized_user_json(other)?.into_bytes(),
    };
    Ok(Zeroizing::new(bytes))
}
