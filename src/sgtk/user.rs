//! What a Toolkit user is to farmvault: tk-core's type names and limits, and the
//! user dict (whichever format it came from) turned into a credential and back.

use crate::credential::{Credential, Kind, ScriptKey, SessionToken};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use std::collections::BTreeMap;

/// Longest serialized user, `TANK_CONTEXT` or Flow token file accepted, in bytes
/// (1 MiB); real ones are a few hundred bytes.
pub const MAX_INPUT_LEN: usize = 1 << 20;

/// Largest session-cache YAML file read, in bytes (1 MiB).
pub const MAX_CACHE_FILE_LEN: u64 = 1 << 20;

/// tk-core's type name for a session-token user.
pub(super) const SESSION_USER: &str = "SessionUser";
/// tk-core's type name for a script-key user.
pub(super) const SCRIPT_USER: &str = "ScriptUser";
/// The key tk-core adds to a pickle's top-level dict when the pickle is not UTF-8.
pub(super) const PAYLOAD_ENCODING_KEY: &str = "_payload_encoding";
/// The only encoding tk-core writes under that key.
pub(super) const PAYLOAD_ENCODING_LATIN1: &str = "ISO-8859-1";
/// File name of tk-core's session caches (per site and global).
pub(super) const CACHE_FILE_NAME: &str = "authentication.yml";

/// The tk-core user type (`"SessionUser"` or `"ScriptUser"`) for a credential kind, or
/// `None` for the kinds tk-core has no user type for (login/password, opaque).
pub fn toolkit_user_type(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::SessionToken => Some(SESSION_USER),
        Kind::ScriptKey => Some(SCRIPT_USER),
        Kind::LoginPassword | Kind::Opaque | Kind::TankContext | Kind::FlowToken => None,
    }
}

pub(super) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

pub(super) fn user_err(msg: impl std::fmt::Display) -> Error {
    invalid(format!("serialized user: {msg}"))
}

/// A value of a deserialized user dict or context, from JSON or a pickle. Strings are
/// kept in self-wiping buffers because any of them may be a key, token or proxy
/// password.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(SecretString),
    List(List),
    Dict(Dict),
    /// A JSON value of a type tk-core never writes (a number with a fraction), by type name.
    Other(&'static str),
}

impl Val {
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Int(_) => "an integer",
            Val::Str(_) => "a string",
            Val::List(_) => "a list",
            Val::Dict(_) => "a dict",
            Val::Other(name) => name,
        }
    }

    /// How many containers (dicts and lists) nest inside this value, itself included.
    pub(super) fn nesting(&self) -> u8 {
        match self {
            Val::Dict(d) => d.depth + 1,
            Val::List(l) => l.depth + 1,
            _ => 0,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Dict {
    /// Containers nested below this dict (0 when it holds none), to bound nesting.
    pub(super) depth: u8,
    pub(super) map: BTreeMap<String, Val>,
}

#[derive(Debug, Default)]
pub(super) struct List {
    /// Containers nested below this list (0 when it holds none), to bound nesting.
    pub(super) depth: u8,
    pub(super) items: Vec<Val>,
}

// Equal by content: `depth` is a bound that a replaced dict value may leave high.
impl PartialEq for Dict {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}
impl Eq for Dict {}
impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}
impl Eq for List {}

/// Turns a deserialized `{"type": ..., "data": {...}}` into a credential, with tk-core's
/// `deserialize_user` / `from_dict` rules.
pub(super) fn user_from_dict(mut top: Dict) -> Result<Credential> {
    let ty = match top.map.get("type") {
        Some(Val::Str(s)) => s.expose().to_owned(),
        Some(other) => {
            return Err(user_err(format!(
                "\"type\" must be a string, found {}; expected SessionUser or ScriptUser",
                other.type_name()
            )))
        }
        None => {
            return Err(user_err(
                "no \"type\" key; expected SessionUser or ScriptUser",
            ))
        }
    };
    if ty != SESSION_USER && ty != SCRIPT_USER {
        // The type is not a secret, but it is caller-controlled: quote it and keep it short.
        let shown: String = ty.chars().take(64).collect();
        return Err(user_err(format!(
            "unknown type {shown:?}; expected SessionUser or ScriptUser"
        )));
    }
    let mut data = match top.map.remove("data") {
        Some(Val::Dict(d)) => d.map,
        Some(other) => {
            return Err(user_err(format!(
                "\"data\" must be a dict, found {}",
                other.type_name()
            )))
        }
        None => return Err(user_err(format!("{ty} has no \"data\" key"))),
    };
    let mut field = |key: &str| -> Result<Option<SecretString>> {
        match data.remove(key) {
            None | Some(Val::Null) => Ok(None),
            Some(Val::Str(s)) => Ok(Some(s)),
            Some(other) => Err(user_err(format!(
                "{ty} field \"{key}\" must be a string or null, found {}",
                other.type_name()
            ))),
        }
    };
    let http_proxy = field("http_proxy")?;
    let host = required(field("host")?, &ty, "host")?;
    if ty == SESSION_USER {
        let login = required(field("login")?, &ty, "login")?;
        let session_token = required(field("session_token")?, &ty, "session_token")?;
        // tk-core keeps session_metadata whenever it is not None, even when empty.
        let session_metadata = field("session_metadata")?;
        Ok(Credential::SessionToken(SessionToken {
            host: host.expose().to_owned(),
            login: login.expose().to_owned(),
            session_token,
            http_proxy,
            session_metadata,
        }))
    } else {
        let api_script = required(field("api_script")?, &ty, "api_script")?;
        let api_key = required(field("api_key")?, &ty, "api_key")?;
        Ok(Credential::ScriptKey(ScriptKey {
            host: host.expose().to_owned(),
            script_name: api_script.expose().to_owned(),
            api_key,
            http_proxy,
        }))
    }
}

pub(super) fn required(value: Option<SecretString>, ty: &str, key: &str) -> Result<SecretString> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(user_err(format!(
            "{ty} needs a non-empty \"{key}\" (missing, null or empty; tk-core raises \
             IncompleteCredentials)"
        ))),
    }
}

/// The tk-core type and the `data` fields of a credential, in tk-core's key order.
pub(super) type UserFields<'a> = (&'static str, Vec<(&'static str, Option<&'a str>)>);

pub(super) fn user_fields(cred: &Credential) -> Result<UserFields<'_>> {
    fn proxy(p: &Option<SecretString>) -> Option<&str> {
        p.as_ref().map(SecretString::expose)
    }
    match cred {
        Credential::SessionToken(c) => {
            cred.validate()?;
            let mut fields = vec![
                ("http_proxy", proxy(&c.http_proxy)),
                ("host", Some(c.host.as_str())),
                ("login", Some(c.login.as_str())),
                ("session_token", Some(c.session_token.expose())),
            ];
            // tk-core leaves the key out when unset, for older cores.
            if let Some(m) = &c.session_metadata {
                fields.push(("session_metadata", Some(m.expose())));
            }
            Ok((SESSION_USER, fields))
        }
        Credential::ScriptKey(c) => {
            cred.validate()?;
            Ok((
                SCRIPT_USER,
                vec![
                    ("http_proxy", proxy(&c.http_proxy)),
                    ("host", Some(c.host.as_str())),
                    ("api_script", Some(c.script_name.as_str())),
                    ("api_key", Some(c.api_key.expose())),
                ],
            ))
        }
        // A context's user is what it carries.
        Credential::TankContext(c) => user_fields(c.user()),
        other => Err(invalid(format!(
            "serialized user: tk-core has no user type for {} credential; only \
             session_token (SessionUser), script_key (ScriptUser) and the user of a \
             tank_context can be serialized",
            other.kind().with_article()
        ))),
    }
}
