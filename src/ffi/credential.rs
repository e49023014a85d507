//! `fv_credential`: typed credentials built from C, and the kind and field numbers.

use super::handle::{self, Castable, HandleType, OwnedBox};
use super::info::FV_MAX_TEXT_LEN;
use super::result::Failure;
use super::secret::{self, fv_secret};
use crate::credential::{
    Credential, Field, FlowToken, Kind, LoginPassword, ScriptKey, SessionToken,
};
use crate::secret::{SecretBytes, SecretString};
use std::ffi::c_char;

/// The kind of a credential: what `fv_entry_kind` and `fv_credential_kind` return.
/// The numbers are permanent and equal to the Rust crate's `Kind`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fv_kind {
    /// Opaque bytes (`fv_vault_put`, `fv_credential_new_opaque`).
    Opaque = 0,
    /// An API script key: host, script name, API key, optional proxy.
    ScriptKey = 1,
    /// A user session token: host, login, token, optional proxy and session metadata.
    SessionToken = 2,
    /// A login and password: host, login, password, optional proxy.
    LoginPassword = 3,
    /// A serialized Toolkit context (`TANK_CONTEXT`), byte for byte, and its user: the
    /// user's fields (host, login or script name, token or key, proxy, metadata) and
    /// FV_FIELD_TANK_CONTEXT (`fv_sgtk_parse_payload`, `fv_sgtk_export`).
    TankContext = 4,
    /// A Flow (Autodesk Platform Services) OAuth token pair: application id, profile,
    /// access token, optional refresh token (`fv_credential_new_flow_token`,
    /// `fv_sgtk_import_flow_tokens`).
    FlowToken = 5,
}

/// What `fv_entry_kind` and `fv_credential_kind` return for a NULL or freed handle.
pub const FV_KIND_INVALID: u32 = 0xFFFFFFFF;

/// A field of a credential, for `fv_entry_field` and `fv_credential_field`. The
/// numbers are permanent and equal to the Rust crate's `Field`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum fv_field {
    /// Site URL (script key, session token, login/password).
    Host = 0,
    /// User login (session token, login/password).
    Login = 1,
    /// API script name (script key).
    ScriptName = 2,
    /// API script key (script key). Secret.
    ApiKey = 3,
    /// Session token (session token). Secret.
    SessionToken = 4,
    /// The Toolkit's session metadata (session token; often unset). Secret.
    SessionMetadata = 5,
    /// HTTP proxy, `[user:pass@]host[:port]` (any typed kind; often unset). Secret.
    HttpProxy = 6,
    /// Password (login/password). Secret.
    Password = 7,
    /// The main secret of any kind: the opaque bytes, API key, token or password (a
    /// context: its user's; a Flow token pair: the access token).
    Secret = 8,
    /// Flow application id (Flow token).
    AppId = 9,
    /// Flow profile (Flow token).
    Profile = 10,
    /// Flow access token, a JWT (Flow token). Secret.
    AccessToken = 11,
    /// Flow refresh token (Flow token; may be unset). Secret.
    RefreshToken = 12,
    /// The serialized context, byte for byte as it came in (context). Secret: it
    /// carries the user's token or key.
    TankContext = 13,
}

/// The C enums mirror the core's numbers: a new `Kind` or `Field` fails to compile
/// here until it has a C name.
const fn c_kind(k: Kind) -> fv_kind {
    match k {
        Kind::Opaque => fv_kind::Opaque,
        Kind::ScriptKey => fv_kind::ScriptKey,
        Kind::SessionToken => fv_kind::SessionToken,
        Kind::LoginPassword => fv_kind::LoginPassword,
        Kind::TankContext => fv_kind::TankContext,
        Kind::FlowToken => fv_kind::FlowToken,
    }
}

const fn c_field(f: Field) -> fv_field {
    match f {
        Field::Host => fv_field::Host,
        Field::Login => fv_field::Login,
        Field::ScriptName => fv_field::ScriptName,
        Field::ApiKey => fv_field::ApiKey,
        Field::SessionToken => fv_field::SessionToken,
        Field::SessionMetadata => fv_field::SessionMetadata,
        Field::HttpProxy => fv_field::HttpProxy,
        Field::Password => fv_field::Password,
        Field::Secret => fv_field::Secret,
        Field::AppId => fv_field::AppId,
        Field::Profile => fv_field::Profile,
        Field::AccessToken => fv_field::AccessToken,
        Field::RefreshToken => fv_field::RefreshToken,
        Field::TankContext => fv_field::TankContext,
    }
}

const _: () = {
    let mut i = 0;
    while i < Kind::ALL.len() {
        assert!(c_kind(Kind::ALL[i]) as u32 == Kind::ALL[i] as u32);
        i += 1;
    }
    let mut i = 0;
    while i < Field::ALL.len() {
        assert!(c_field(Field::ALL[i]) as u32 == Field::ALL[i] as u32);
        i += 1;
    }
    assert!(FV_KIND_INVALID == u32::MAX);
};

/// A typed credential built in C (`fv_credential_new_*`) or read back
/// (`fv_entry_credential`, `fv_sgtk_parse`), to store with `fv_vault_put_credential`
/// or `fv_batch_put_credential`. Its secret fields are wiped by `fv_credential_free`.
/// One thread at a time.
pub struct fv_credential {
    _private: [u8; 0],
}

impl Castable for fv_credential {
    type Ownership = OwnedBox;
    type Rust = Credential;
    const TYPE: HandleType = HandleType::Credential;
}

/// The value of `field` (a C number) of `credential`; `owner` names it in messages.
pub(crate) fn field_value(
    credential: &Credential,
    field: u32,
    // Named only when the field is missing: building the text on every successful
    // read would be the largest cost of a get through the ABI (docs/PERFORMANCE.md).
    owner: impl FnOnce() -> String,
) -> Result<&[u8], Failure> {
    let f = Field::from_u32(field).ok_or_else(|| {
        Failure::invalid(format!(
            "field {field} is not an FV_FIELD_* value (0 to {})",
            Field::ALL.len() - 1
        ))
    })?;
    credential.field(f).ok_or_else(|| {
        Failure::not_found(format!(
            "{} ({}) has no value for field {f}",
            owner(),
            credential.kind()
        ))
    })
}

/// Checks a credential built from C and hands it over as an owned handle.
fn hand_over(
    credential: Credential,
    out: super::args::Out<*mut fv_credential>,
) -> Result<(), Failure> {
    credential.validate()?;
    out.write(handle::new_box::<fv_credential>(credential));
    Ok(())
}

/// A nullable optional secret text: NULL or "" is unset.
fn optional_secret(text: Option<&str>) -> Option<SecretString> {
    text.filter(|t| !t.is_empty()).map(SecretString::from)
}

ffi_fn! {
    /// Creates an opaque credential holding a copy of `secret_len` bytes at `secret`
    /// (1 to FV_MAX_SECRET_LEN).
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for a NULL pointer or a length out of range.
    fn fv_credential_new_opaque(
        secret: *const u8,
        secret_len: usize,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        let bytes = try_slice!(secret, secret_len);
        hand_over(Credential::Opaque(SecretBytes::from_slice(bytes)), out)
    }
}

ffi_fn! {
    /// Creates an API script key credential (`shotgun_api3.Shotgun(host,
    /// script_name=, api_key=)`). `host` and `script_name` are NUL-terminated UTF-8
    /// (at most FV_MAX_TEXT_LEN bytes, not empty); the key is `api_key_len` UTF-8
    /// bytes at `api_key`; `http_proxy` is NULL or "" for none.
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for a NULL required pointer, an empty field, bad
    /// UTF-8 or a length out of range, naming the argument.
    fn fv_credential_new_script_key(
        host: *const c_char,
        script_name: *const c_char,
        api_key: *const u8,
        api_key_len: usize,
        http_proxy: *const c_char,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        let credential = Credential::ScriptKey(ScriptKey {
            host: try_cstr!(host, FV_MAX_TEXT_LEN).to_owned(),
            script_name: try_cstr!(script_name, FV_MAX_TEXT_LEN).to_owned(),
            api_key: SecretString::from(try_text!(api_key, api_key_len)),
            http_proxy: optional_secret(try_cstr_opt!(http_proxy, FV_MAX_TEXT_LEN)),
        });
        hand_over(credential, out)
    }
}

ffi_fn! {
    /// Creates a user session token credential (the Toolkit's `SessionUser`). `host`
    /// and `login` are NUL-terminated UTF-8; the token is `session_token_len` UTF-8
    /// bytes at `session_token`; `http_proxy` and `session_metadata` are NULL or ""
    /// for none.
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for a NULL required pointer, an empty field, bad
    /// UTF-8 or a length out of range, naming the argument.
    fn fv_credential_new_session_token(
        host: *const c_char,
        login: *const c_char,
        session_token: *const u8,
        session_token_len: usize,
        http_proxy: *const c_char,
        session_metadata: *const c_char,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        let credential = Credential::SessionToken(SessionToken {
            host: try_cstr!(host, FV_MAX_TEXT_LEN).to_owned(),
            login: try_cstr!(login, FV_MAX_TEXT_LEN).to_owned(),
            session_token: SecretString::from(try_text!(session_token, session_token_len)),
            http_proxy: optional_secret(try_cstr_opt!(http_proxy, FV_MAX_TEXT_LEN)),
            session_metadata: optional_secret(try_cstr_opt!(session_metadata, FV_MAX_TEXT_LEN)),
        });
        hand_over(credential, out)
    }
}

ffi_fn! {
    /// Creates a login/password credential. `host` and `login` are NUL-terminated
    /// UTF-8; the password is `password_len` UTF-8 bytes at `password`; `http_proxy`
    /// is NULL or "" for none.
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for a NULL required pointer, an empty field, bad
    /// UTF-8 or a length out of range, naming the argument.
    fn fv_credential_new_login_password(
        host: *const c_char,
        login: *const c_char,
        password: *const u8,
        password_len: usize,
        http_proxy: *const c_char,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        let credential = Credential::LoginPassword(LoginPassword {
            host: try_cstr!(host, FV_MAX_TEXT_LEN).to_owned(),
            login: try_cstr!(login, FV_MAX_TEXT_LEN).to_owned(),
            password: SecretString::from(try_text!(password, password_len)),
            http_proxy: optional_secret(try_cstr_opt!(http_proxy, FV_MAX_TEXT_LEN)),
        });
        hand_over(credential, out)
    }
}

ffi_fn! {
    /// Creates a Flow (Autodesk Platform Services) OAuth token pair, as tk-core 0.24
    /// keeps one in `adsk_flow_tokens.json`. `app_id` and `profile` are NUL-terminated
    /// UTF-8 (not empty); the access token (a JWT) is `access_token_len` UTF-8 bytes at
    /// `access_token`; the refresh token is `refresh_token_len` UTF-8 bytes at
    /// `refresh_token`, or NULL (with length 0) for none.
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for a NULL required pointer, an empty field, bad
    /// UTF-8 or a length out of range, naming the argument.
    fn fv_credential_new_flow_token(
        app_id: *const c_char,
        profile: *const c_char,
        access_token: *const u8,
        access_token_len: usize,
        refresh_token: *const u8,
        refresh_token_len: usize,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        let refresh_token = if refresh_token.is_null() && refresh_token_len == 0 {
            None
        } else {
            Some(SecretString::from(try_text!(refresh_token, refresh_token_len)))
        };
        let credential = Credential::FlowToken(FlowToken {
            app_id: try_cstr!(app_id, FV_MAX_TEXT_LEN).to_owned(),
            profile: try_cstr!(profile, FV_MAX_TEXT_LEN).to_owned(),
            access_token: SecretString::from(try_text!(access_token, access_token_len)),
            refresh_token,
        });
        hand_over(credential, out)
    }
}

ffi_fn! {
    /// The credential's kind (an `fv_kind` value).
    ///
    /// Returns FV_KIND_INVALID (with a message) if `credential` is NULL or freed.
    #[fallback(FV_KIND_INVALID)]
    fn fv_credential_kind(credential: *const fv_credential) -> u32 {
        Ok(try_ref!(credential).kind() as u32)
    }
}

ffi_fn! {
    /// Copies one field of the credential (an `fv_field` value) into a new secret.
    ///
    /// `out`: receives an own `fv_secret *`; free it with `fv_secret_free`.
    /// Returns FV_NOT_FOUND when the kind has no such field or it is unset (an
    /// optional proxy), FV_INVALID_ARGUMENT for an unknown field number or a NULL or
    /// freed argument.
    fn fv_credential_field(
        credential: *const fv_credential,
        field: u32,
        out: *mut *mut fv_secret,
    ) -> fv_result {
        let out = try_out!(out);
        let value = field_value(try_ref!(credential), field, || "the credential".to_owned())?;
        out.write(secret::new_secret(value));
        Ok(())
    }
}

ffi_fn! {
    /// Wipes the credential's secret fields, then frees it. NULL is a no-op; a
    /// credential already freed is detected and reported through
    /// `fv_last_error_message`.
    fn fv_credential_free(credential: *mut fv_credential) {
        handle::free_box(credential, "credential")
    }
}
