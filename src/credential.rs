//! Typed credentials: what a render-farm job needs to reach the production-tracking server.
//!
//! Field names follow the Toolkit's `serialize_user` (see `sgtk`) and map one to
//! one onto the keyword arguments of `shotgun_api3.Shotgun`.
//!
//! The order of the `Credential` variants and of each struct's fields is part of
//! the on-disk format (records are postcard-encoded): append, never reorder.

use crate::error::{Error, Result};
use crate::secret::{SecretBytes, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An API script name and key (`shotgun_api3.Shotgun(host, script_name=, api_key=)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptKey {
    /// Site URL, e.g. `https://mysite.shotgrid.autodesk.com`.
    pub host: String,
    /// The Script entity's name (`api_script` in the Toolkit, `script_name` in shotgun_api3).
    pub script_name: String,
    /// The script's application key.
    pub api_key: SecretString,
    /// `[user:pass@]host[:port]`; secret because it may embed a password.
    pub http_proxy: Option<SecretString>,
}

/// A user's session token, as the Toolkit's `SessionUser` holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToken {
    /// Site URL.
    pub host: String,
    /// The user's login.
    pub login: String,
    /// The session token.
    pub session_token: SecretString,
    /// `[user:pass@]host[:port]`; secret because it may embed a password.
    pub http_proxy: Option<SecretString>,
    /// The Toolkit's opaque base64 session cookie, kept only when set.
    pub session_metadata: Option<SecretString>,
}

/// A login and password (what scripts use on sites where a personal access token
/// is linked to the account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPassword {
    /// Site URL.
    pub host: String,
    /// The user's login.
    pub login: String,
    /// The password.
    pub password: SecretString,
    /// `[user:pass@]host[:port]`; secret because it may embed a password.
    pub http_proxy: Option<SecretString>,
}

/// A Toolkit context as tk-core's `Context.serialize` wrote it (`TANK_CONTEXT`), kept
/// byte for byte, with the user it carries in `_current_user` parsed out.
///
/// Only `sgtk::parse` makes one, from the serialized context itself, so the user is
/// always the one the context holds: the fields are read through [`TankContext::user`]
/// and [`TankContext::payload`]. The payload holds the user's secret too, and is wiped
/// like every other secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TankContext {
    /// The user of `_current_user`: a [`Credential::ScriptKey`] or
    /// [`Credential::SessionToken`].
    user: Box<Credential>,
    /// The serialized context exactly as it came in (JSON or protocol-0 pickle; text
    /// as UTF-8, or the raw bytes of a pickle that is not UTF-8).
    payload: SecretBytes,
}

impl TankContext {
    /// A context from its exact bytes and the user parsed out of them; the caller
    /// (`sgtk`) guarantees the two agree.
    pub(crate) fn new(user: Credential, payload: SecretBytes) -> TankContext {
        TankContext {
            user: Box::new(user),
            payload,
        }
    }

    /// The user the context carries: a script key or a session token.
    pub fn user(&self) -> &Credential {
        &self.user
    }

    /// The serialized context, byte for byte as it came in (it holds the user's secret).
    pub fn payload(&self) -> &[u8] {
        self.payload.expose()
    }
}

/// An Autodesk Platform Services (Flow) OAuth token pair, as tk-core 0.24 keeps it in
/// `adsk_flow_tokens.json` for one application and one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowToken {
    /// The APS application (client) id the tokens were issued to.
    pub app_id: String,
    /// The profile (by default the OS user name) the tokens are stored under.
    pub profile: String,
    /// The access token: a JWT whose `exp` claim is its expiry.
    pub access_token: SecretString,
    /// The refresh token, when the file holds one.
    pub refresh_token: Option<SecretString>,
}

/// One stored credential. `Debug` never prints secret fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Credential {
    /// Opaque bytes: anything that is not a production-tracking credential.
    Opaque(SecretBytes),
    /// An API script key.
    ScriptKey(ScriptKey),
    /// A user session token.
    SessionToken(SessionToken),
    /// A login and password.
    LoginPassword(LoginPassword),
    /// A serialized Toolkit context and the user it carries.
    TankContext(TankContext),
    /// A Flow (Autodesk Platform Services) OAuth token pair.
    FlowToken(FlowToken),
}

/// The kind of a credential. The numbers are stable: they cross the C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Kind {
    /// Opaque bytes.
    Opaque = 0,
    /// An API script key.
    ScriptKey = 1,
    /// A user session token.
    SessionToken = 2,
    /// A login and password.
    LoginPassword = 3,
    /// A serialized Toolkit context and the user it carries.
    TankContext = 4,
    /// A Flow (Autodesk Platform Services) OAuth token pair.
    FlowToken = 5,
}

impl Kind {
    /// All kinds, in numeric order.
    pub const ALL: [Kind; 6] = [
        Kind::Opaque,
        Kind::ScriptKey,
        Kind::SessionToken,
        Kind::LoginPassword,
        Kind::TankContext,
        Kind::FlowToken,
    ];

    /// The kind's stable name (`opaque`, `script_key`, `session_token`, `login_password`,
    /// `tank_context`, `flow_token`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Opaque => "opaque",
            Kind::ScriptKey => "script_key",
            Kind::SessionToken => "session_token",
            Kind::LoginPassword => "login_password",
            Kind::TankContext => "tank_context",
            Kind::FlowToken => "flow_token",
        }
    }

    /// The kind with this number, if any.
    pub fn from_u32(n: u32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| *k as u32 == n)
    }

    /// The name with its indefinite article, for messages: `an opaque`, `a script_key`.
    pub fn with_article(self) -> String {
        let article = if self.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {self}")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown kind {s:?}; expected one of opaque, script_key, session_token, \
                     login_password, tank_context, flow_token"
                ))
            })
    }
}

/// A named field of a credential, readable without parsing JSON (C ABI, CLI `--field`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Field {
    /// Site URL.
    Host = 0,
    /// User login.
    Login = 1,
    /// API script name.
    ScriptName = 2,
    /// API script key (secret).
    ApiKey = 3,
    /// Session token (secret).
    SessionToken = 4,
    /// Toolkit session metadata (secret).
    SessionMetadata = 5,
    /// HTTP proxy (secret: may embed a password).
    HttpProxy = 6,
    /// Password (secret).
    Password = 7,
    /// The main secret of any kind (secret): the opaque bytes, key, token or password.
    Secret = 8,
    /// Flow application id.
    AppId = 9,
    /// Flow profile.
    Profile = 10,
    /// Flow access token (secret).
    AccessToken = 11,
    /// Flow refresh token (secret).
    RefreshToken = 12,
    /// A Toolkit context, byte for byte (secret: it carries the user's).
    TankContext = 13,
}

impl Field {
    /// All fields, in numeric order.
    pub const ALL: [Field; 14] = [
        Field::Host,
        Field::Login,
        Field::ScriptName,
        Field::ApiKey,
        Field::SessionToken,
        Field::SessionMetadata,
        Field::HttpProxy,
        Field::Password,
        Field::Secret,
        Field::AppId,
        Field::Profile,
        Field::AccessToken,
        Field::RefreshToken,
        Field::TankContext,
    ];

    /// The field's name as the Toolkit spells it (`api_script` for the script name).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Host => "host",
            Field::Login => "login",
            Field::ScriptName => "api_script",
            Field::ApiKey => "api_key",
            Field::SessionToken => "session_token",
            Field::SessionMetadata => "session_metadata",
            Field::HttpProxy => "http_proxy",
            Field::Password => "password",
            Field::Secret => "secret",
            Field::AppId => "app_id",
            Field::Profile => "profile",
            Field::AccessToken => "access_token",
            Field::RefreshToken => "refresh_token",
            Field::TankContext => "tank_context",
        }
    }

    /// Whether the field's value is a secret (never printed to a terminal, wiped on free).
    pub fn is_secret(self) -> bool {
        !matches!(
            self,
            Field::Host | Field::Login | Field::ScriptName | Field::AppId | Field::Profile
        )
    }

    /// The field with this number, if any.
    pub fn from_u32(n: u32) -> Option<Field> {
        Field::ALL.into_iter().find(|f| *f as u32 == n)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = Error;
    /// Accepts the Toolkit names and the shotgun_api3 synonyms (`script_name`, `base_url`).
    fn from_str(s: &str) -> Result<Field> {
        let alias = match s {
            "script_name" => Some(Field::ScriptName),
            "base_url" => Some(Field::Host),
            _ => None,
        };
        alias
            .or_else(|| Field::ALL.into_iter().find(|f| f.as_str() == s))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown field {s:?}; expected one of host, login, api_script, api_key, \
                     session_token, session_metadata, http_proxy, password, secret, app_id, \
                     profile, access_token, refresh_token, tank_context"
                ))
            })
    }
}

impl Credential {
    /// The credential's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Credential::Opaque(_) => Kind::Opaque,
            Credential::ScriptKey(_) => Kind::ScriptKey,
            Credential::SessionToken(_) => Kind::SessionToken,
            Credential::LoginPassword(_) => Kind::LoginPassword,
            Credential::TankContext(_) => Kind::TankContext,
            Credential::FlowToken(_) => Kind::FlowToken,
        }
    }

    /// The site URL, for the kinds that have one (a context: its user's).
    pub fn host(&self) -> Option<&str> {
        match self {
            Credential::Opaque(_) | Credential::FlowToken(_) => None,
            Credential::ScriptKey(c) => Some(&c.host),
            Credential::SessionToken(c) => Some(&c.host),
            Credential::LoginPassword(c) => Some(&c.host),
            Credential::TankContext(c) => c.user.host(),
        }
    }

    /// The value of `field`, or `None` when this kind has no such field or it is unset.
    pub fn field(&self, field: Field) -> Option<&[u8]> {
        fn proxy(p: &Option<SecretString>) -> Option<&[u8]> {
            p.as_ref().map(|p| p.expose().as_bytes())
        }
        match (self, field) {
            (Credential::Opaque(b), Field::Secret) => Some(b.expose()),
            (Credential::ScriptKey(c), Field::Host) => Some(c.host.as_bytes()),
            (Credential::ScriptKey(c), Field::ScriptName) => Some(c.script_name.as_bytes()),
            (Credential::ScriptKey(c), Field::ApiKey | Field::Secret) => {
                Some(c.api_key.expose().as_bytes())
            }
            (Credential::ScriptKey(c), Field::HttpProxy) => proxy(&c.http_proxy),
            (Credential::SessionToken(c), Field::Host) => Some(c.host.as_bytes()),
            (Credential::SessionToken(c), Field::Login) => Some(c.login.as_bytes()),
            (Credential::SessionToken(c), Field::SessionToken | Field::Secret) => {
                Some(c.session_token.expose().as_bytes())
            }
            (Credential::SessionToken(c), Field::SessionMetadata) => {
                c.session_metadata.as_ref().map(|m| m.expose().as_bytes())
            }
            (Credential::SessionToken(c), Field::HttpProxy) => proxy(&c.http_proxy),
            (Credential::LoginPassword(c), Field::Host) => Some(c.host.as_bytes()),
            (Credential::LoginPassword(c), Field::Login) => Some(c.login.as_bytes()),
            (Credential::LoginPassword(c), Field::Password | Field::Secret) => {
                Some(c.password.expose().as_bytes())
            }
            (Credential::LoginPassword(c), Field::HttpProxy) => proxy(&c.http_proxy),
            (Credential::TankContext(c), Field::TankContext) => Some(c.payload()),
            // Every other field of a context is its user's.
            (Credential::TankContext(c), f) => c.user.field(f),
            (Credential::FlowToken(c), Field::AppId) => Some(c.app_id.as_bytes()),
            (Credential::FlowToken(c), Field::Profile) => Some(c.profile.as_bytes()),
            (Credential::FlowToken(c), Field::AccessToken | Field::Secret) => {
                Some(c.access_token.expose().as_bytes())
            }
            (Credential::FlowToken(c), Field::RefreshToken) => proxy(&c.refresh_token),
            _ => None,
        }
    }

    /// The credential's main secret: the key, token, password or opaque bytes.
    pub fn secret(&self) -> &[u8] {
        self.field(Field::Secret)
            .expect("every kind has a Secret field")
    }

    /// Checks the fields the server (and tk-core) insist on are present, naming the first missing one.
    pub fn validate(&self) -> Result<()> {
        let required: &[(&str, &str)] = match self {
            Credential::Opaque(_) => &[],
            Credential::ScriptKey(c) => &[
                ("host", c.host.as_str()),
                ("script_name", c.script_name.as_str()),
                ("api_key", c.api_key.expose()),
            ],
            Credential::SessionToken(c) => &[
                ("host", c.host.as_str()),
                ("login", c.login.as_str()),
                ("session_token", c.session_token.expose()),
            ],
            Credential::LoginPassword(c) => &[
                ("host", c.host.as_str()),
                ("login", c.login.as_str()),
                ("password", c.password.expose()),
            ],
            Credential::TankContext(c) => return c.validate(),
            Credential::FlowToken(c) => return c.validate(),
        };
        if let Some((field, _)) = required.iter().find(|(_, v)| v.is_empty()) {
            return Err(Error::invalid(format!(
                "{} credential needs a non-empty {field}",
                self.kind().with_article()
            )));
        }
        let (host, login) = match self {
            Credential::Opaque(_) | Credential::TankContext(_) | Credential::FlowToken(_) => {
                return Ok(())
            }
            Credential::ScriptKey(c) => (&c.host, None),
            Credential::SessionToken(c) => (&c.host, Some(&c.login)),
            Credential::LoginPassword(c) => (&c.host, Some(&c.login)),
        };
        if let Some(login) = login {
            check_printable("login", login)?;
        }
        check_host(host, true)
    }
}

impl TankContext {
    fn validate(&self) -> Result<()> {
        if !matches!(
            *self.user,
            Credential::ScriptKey(_) | Credential::SessionToken(_)
        ) {
            return Err(Error::invalid(format!(
                "a tank_context credential carries a script_key or session_token user, not a {}",
                self.user.kind()
            )));
        }
        if self.payload.is_empty() {
            return Err(Error::invalid(
                "a tank_context credential needs its context",
            ));
        }
        self.user.validate()
    }
}

impl FlowToken {
    fn validate(&self) -> Result<()> {
        for (field, value) in [("app_id", &self.app_id), ("profile", &self.profile)] {
            if value.is_empty() {
                return Err(Error::invalid(format!(
                    "a flow_token credential needs a non-empty {field}"
                )));
            }
            check_printable(field, value)?;
        }
        if self.access_token.is_empty() {
            return Err(Error::invalid(
                "a flow_token credential needs a non-empty access_token",
            ));
        }
        Ok(())
    }
}

/// True for characters that must never reach a terminal from a stored value:
/// control characters (ESC starts terminal escape sequences) and the Unicode
/// bidirectional controls (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069),
/// which make text display in another order than it is stored.
pub fn is_control_or_bidi(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Refuses a field that `farmvault list` and error messages would print with
/// a control or bidi character in it.
fn check_printable(field: &str, value: &str) -> Result<()> {
    match value.chars().find(|c| is_control_or_bidi(*c)) {
        Some(c) => Err(Error::invalid(format!(
            "the {field} contains the control or bidi character U+{:04X}",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

/// Checks a credential's host: an `https://` URL (or `http://` when
/// `allow_http`) with a server name, no `user:password@` (a password there
/// would be stored, listed and exported as a plain, non-secret field) and no
/// control or bidi character. `Credential::validate`, and so every put from
/// any language, checks with `allow_http` set, since on-site servers without
/// TLS exist; callers that want the safe default (the command line, unless
/// `--allow-http`) check again without it.
pub fn check_host(host: &str, allow_http: bool) -> Result<()> {
    check_printable("host", host)?;
    let after_scheme = host.split_once("://").map_or(host, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    // Before anything echoes the host: the part before `@` may be a password.
    if authority.contains('@') {
        return Err(Error::invalid(
            "the host URL holds credentials (user:password@); give the host without them",
        ));
    }
    let Some((scheme, _)) = host.split_once("://") else {
        return Err(Error::invalid(format!(
            "host {host:?} is not a URL: write it as https://{host}"
        )));
    };
    let http = scheme.eq_ignore_ascii_case("http");
    if !(scheme.eq_ignore_ascii_case("https") || http && allow_http) {
        return Err(Error::invalid(format!(
            "host {host:?} is not an https:// URL{}",
            if http {
                ": the credential would cross the network in clear"
            } else {
                ""
            }
        )));
    }
    if authority.is_empty() || authority.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!(
            "host {host:?} names no server: write it as https://NAME"
        )));
    }
    Ok(())
}
