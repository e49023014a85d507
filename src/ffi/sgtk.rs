//! `fv_sgtk_*`: the Toolkit's (tk-core) credential formats, its plaintext session
//! cache and its Flow token file, through the core's one implementation
//! (`crate::sgtk`, shared with the CLI), for C and the Python binding.

use super::args::ttl;
use super::credential::fv_credential;
use super::entry::{fv_list, ListData};
use super::handle;
use super::info::FV_MAX_NAME_LEN;
use super::result::Failure;
use super::secret::{self, fv_secret};
use super::vault::fv_vault;
use crate::credential::Credential;
use crate::sgtk;
use crate::sgtk::{FlowImportOptions, ImportOptions, DEFAULT_SESSION_TTL};
use std::ffi::c_char;
use zeroize::Zeroizing;

/// Flag of `fv_sgtk_import_session_cache` and `fv_sgtk_import_flow_tokens`: once
/// every token is in the vault, remove the imported tokens from tk-core's files
/// (everything else in them is kept).
pub const FV_SGTK_REMOVE_FROM_CACHE: u32 = 1;

/// How long a session lasts on the server by default (24 hours of inactivity), in
/// seconds: the TTL `farmvault import-session-cache` gives imported tokens. Pass it as
/// the `ttl_secs` of `fv_sgtk_import_session_cache` to do the same.
pub const FV_SGTK_SESSION_TTL_SECS: u64 = 86400;

const _: () = assert!(FV_SGTK_SESSION_TTL_SECS == DEFAULT_SESSION_TTL.as_secs());

/// tk-core's own Toolkit home, for a NULL `shotgun_home`.
fn default_home() -> Result<std::path::PathBuf, Failure> {
    sgtk::default_shotgun_home().ok_or_else(|| {
        Failure::invalid(
            "shotgun_home is NULL and neither SHOTGUN_HOME nor a home folder is set; \
             pass the Toolkit home",
        )
    })
}

/// Hands a credential parsed by the core over as an owned `fv_credential`.
fn hand_over(
    credential: crate::Result<crate::credential::Credential>,
    out: super::args::Out<*mut fv_credential>,
) -> Result<(), Failure> {
    out.write(handle::new_box::<fv_credential>(credential?));
    Ok(())
}

/// Hands serialized text (it holds the credential's secret) over as an owned `fv_secret`.
fn hand_over_text(
    text: crate::Result<String>,
    out: super::args::Out<*mut fv_secret>,
) -> Result<(), Failure> {
    let text = Zeroizing::new(text?);
    out.write(secret::new_secret(text.as_bytes()));
    Ok(())
}

ffi_fn! {
    /// Parses what tk-core's `serialize_user` writes, in either form: the JSON
    /// (`use_json=True`; read as JSON only when its first byte is `{`, as tk-core does,
    /// after a UTF-8 byte order mark if there is one) or the default protocol-0 pickle,
    /// which is read as data only (dicts, lists, strings, integers and None; never
    /// executed) with its `_payload_encoding` honoured. `text` is `text_len` bytes (1 to
    /// FV_MAX_SECRET_LEN), exactly what `serialize_user` returned: UTF-8 text, or the
    /// raw bytes of a pickle that are not UTF-8 (tk-core's text written out as
    /// ISO-8859-1, or the pickle's own bytes), read as tk-core reads `bytes`.
    ///
    /// `out`: receives an own `fv_credential *`, of kind FV_KIND_SESSION_TOKEN for a
    /// `SessionUser` and FV_KIND_SCRIPT_KEY for a `ScriptUser`; free it with
    /// `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for input that is neither JSON nor a pickle,
    /// malformed JSON or pickle, a pickle opcode outside that data-only subset (named,
    /// with its offset), an unknown `type`, a missing or empty required field (the
    /// message names the field, never a value), a length out of range or a NULL
    /// pointer.
    fn fv_sgtk_parse(text: *const u8, text_len: usize, out: *mut *mut fv_credential) -> fv_result {
        let out = try_out!(out);
        hand_over(sgtk::parse_serialized_user(try_slice!(text, text_len)), out)
    }
}

ffi_fn! {
    /// Parses a `TANK_CONTEXT` value, what tk-core's `Context.serialize` writes (the
    /// default protocol-0 pickle, or JSON with `use_json=True`), and returns the
    /// serialized user under its `_current_user` key, read as `fv_sgtk_parse` reads
    /// it. `json` is `json_len` bytes (1 to FV_MAX_SECRET_LEN), text or raw pickle
    /// bytes as for `fv_sgtk_parse`. To store the context itself, use
    /// `fv_sgtk_parse_payload`.
    ///
    /// `out`: receives an own `fv_credential *` (the user); free it with
    /// `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for input that is neither JSON nor a pickle, a
    /// serialized user rather than a context, a context without a user, any error
    /// `fv_sgtk_parse` reports for the user, a length out of range or a NULL pointer.
    fn fv_sgtk_parse_tank_context(
        json: *const u8,
        json_len: usize,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        hand_over(sgtk::parse_tank_context(try_slice!(json, json_len)), out)
    }
}

ffi_fn! {
    /// Parses whatever tk-core serialized, telling a user from a context by the keys
    /// of its top-level dict (a context has `_pc_path`, a user `type`), never by
    /// searching the text. `input` is `input_len` bytes (1 to FV_MAX_SECRET_LEN), read
    /// as `fv_sgtk_parse` reads them.
    ///
    /// `out`: receives an own `fv_credential *`: FV_KIND_SCRIPT_KEY or
    /// FV_KIND_SESSION_TOKEN for a serialized user, FV_KIND_TANK_CONTEXT for a context
    /// (its bytes, exactly, and its user); free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT as `fv_sgtk_parse` and `fv_sgtk_parse_tank_context`
    /// do, and for a dict that is neither a user nor a context.
    fn fv_sgtk_parse_payload(
        input: *const u8,
        input_len: usize,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        hand_over(sgtk::parse(try_slice!(input, input_len)), out)
    }
}

ffi_fn! {
    /// The exact bytes a credential (only read) goes back to tk-core as, with no
    /// newline: what `farmvault export-sgtk --no-newline` prints. A script key or
    /// session token gives `serialize_user(user, use_json=True)`; a context
    /// (FV_KIND_TANK_CONTEXT) its serialized bytes exactly as they came in; a Flow
    /// token pair `adsk_flow_tokens.json` holding that application and profile, as
    /// tk-core writes it.
    ///
    /// `out`: receives an own `fv_secret *` holding the bytes (they hold the secret);
    /// free it with `fv_secret_free`.
    /// Returns FV_INVALID_ARGUMENT for a login/password or opaque credential (tk-core
    /// has no format for them) or a NULL or freed argument.
    fn fv_sgtk_export(credential: *const fv_credential, out: *mut *mut fv_secret) -> fv_result {
        let out = try_out!(out);
        let bytes = sgtk::export(try_ref!(credential))?;
        out.write(secret::new_secret(&bytes));
        Ok(())
    }
}

ffi_fn! {
    /// Writes a session-token or script-key credential (only read) as the JSON
    /// tk-core's `serialize_user(user, use_json=True)` writes and `deserialize_user`
    /// reads: byte for byte Python's `json.dumps` output (separators ", " and ": ",
    /// non-ASCII escaped), `http_proxy` always present, `session_metadata` only when set.
    ///
    /// `out`: receives an own `fv_secret *` holding the text (it holds the secret);
    /// free it with `fv_secret_free`.
    /// Returns FV_INVALID_ARGUMENT for a login/password or opaque credential (tk-core
    /// has no user type for them) or a NULL or freed argument.
    fn fv_sgtk_to_json(credential: *const fv_credential, out: *mut *mut fv_secret) -> fv_result {
        let out = try_out!(out);
        hand_over_text(sgtk::to_serialized_user_json(try_ref!(credential)), out)
    }
}

ffi_fn! {
    /// Writes a session-token or script-key credential (only read) as tk-core's default
    /// `serialize_user(user)` does: the protocol-0 pickle text of
    /// `{"type": ..., "data": {...}}`, the form cores older than v0.19.0 read. Latin-1
    /// characters make it carry `_payload_encoding`, as tk-core's own does.
    ///
    /// `out`: receives an own `fv_secret *` holding the text, UTF-8 encoded (it holds
    /// the secret); free it with `fv_secret_free`.
    /// Returns FV_INVALID_ARGUMENT for a login/password or opaque credential or a NULL
    /// or freed argument.
    fn fv_sgtk_to_pickle(credential: *const fv_credential, out: *mut *mut fv_secret) -> fv_result {
        let out = try_out!(out);
        hand_over_text(sgtk::to_serialized_user_pickle(try_ref!(credential)), out)
    }
}

ffi_fn! {
    /// When a Flow token pair's access token expires (only read): its JWT `exp` claim,
    /// in seconds since 1970 (UTC), read without checking the signature, as tk-core
    /// reads it. The TTL `fv_sgtk_import_flow_tokens` gives an entry ends then.
    ///
    /// `expires_out`: receives the time.
    /// Returns FV_NOT_FOUND when the access token has no readable `exp` (not a JWT),
    /// FV_INVALID_ARGUMENT for a credential of another kind or a NULL or freed
    /// argument.
    fn fv_sgtk_flow_token_expiry(
        credential: *const fv_credential,
        expires_out: *mut u64,
    ) -> fv_result {
        let expires_out = try_out!(expires_out);
        let credential = try_ref!(credential);
        let Credential::FlowToken(token) = credential else {
            return Err(Failure::invalid(format!(
                "the credential is {}, not a flow_token",
                credential.kind().with_article()
            )));
        };
        let expires = sgtk::flow_token_expiry(token.access_token.expose()).ok_or_else(|| {
            Failure::not_found(
                "the access token has no readable expiry (not a JWT with an \"exp\" claim)",
            )
        })?;
        expires_out.write(expires.secs());
        Ok(())
    }
}

ffi_fn! {
    /// `FV_SGTK_SESSION_TTL_SECS`, for bindings that cannot read the header's macros.
    fn fv_sgtk_session_ttl_secs() -> u64 {
        Ok(FV_SGTK_SESSION_TTL_SECS)
    }
}

ffi_fn! {
    /// Moves the session tokens of tk-core's plaintext session cache into the vault:
    /// every `<shotgun_home>/<site>/authentication.yml` user with a token becomes a
    /// session-token entry named `<prefix><site>/<login>` (replacing one of that
    /// name), all written in one atomic, flushed batch. Then, with
    /// FV_SGTK_REMOVE_FROM_CACHE in `flags`, the imported tokens are removed from the
    /// cache files (each user's `session_token` set to null and a non-empty
    /// `session_metadata` replaced by "moved-to-farmvault", so that tk-core caches the
    /// metadata of the user's next SSO login; every other key kept; files rewritten
    /// atomically). So a token is always in the vault, in the cache, or in both.
    ///
    /// `shotgun_home`: the cache root, or NULL for tk-core's own choice
    /// (`$SHOTGUN_HOME`, else `~/.shotgun` on Linux, `~/Library/Caches/Shotgun` on
    /// macOS, `%APPDATA%\Shotgun` on Windows). `prefix`: NULL for "shotgun/".
    /// `ttl_secs`: the entries' TTL from now, 0 for none (FV_SGTK_SESSION_TTL_SECS is
    /// the server's default session length).
    ///
    /// `imported_out`: receives an own `fv_list *` of the entries written (metadata,
    /// in cache order: sites by name, users in file order; empty when the cache holds
    /// no token); free it with `fv_list_free`. `removed_out`: receives how many users'
    /// tokens were removed from the cache files (0 without the flag).
    /// Returns FV_IO when the cache cannot be read (nothing is written) or rewritten
    /// (the message says the tokens are safe in the vault), FV_INVALID_ARGUMENT for a
    /// cache file that is not tk-core's, a bad argument or unknown flag bits (nothing
    /// is written), FV_READ_ONLY, and the vault's write errors (nothing is removed).
    fn fv_sgtk_import_session_cache(
        vault: *mut fv_vault,
        shotgun_home: *const c_char,
        prefix: *const c_char,
        ttl_secs: u64,
        flags: u32,
        imported_out: *mut *mut fv_list,
        removed_out: *mut u64,
    ) -> fv_result {
        let imported_out = try_out!(imported_out);
        let removed_out = try_out!(removed_out);
        let handle = try_arc!(vault);
        if flags & !FV_SGTK_REMOVE_FROM_CACHE != 0 {
            return Err(Failure::invalid(format!(
                "flags {flags:#x} hold unknown bits; the only flag is FV_SGTK_REMOVE_FROM_CACHE"
            )));
        }
        let home = if shotgun_home.is_null() {
            default_home()?
        } else {
            try_path!(shotgun_home).to_path_buf()
        };
        let mut options = ImportOptions::default();
        if let Some(prefix) = try_cstr_opt!(prefix, FV_MAX_NAME_LEN) {
            prefix.clone_into(&mut options.prefix);
        }
        options.ttl = ttl(ttl_secs);
        options.remove_from_cache = flags & FV_SGTK_REMOVE_FROM_CACHE != 0;
        // A read-only handle (a job grant) answers FV_READ_ONLY, as its fv_vault_put does.
        let vault = handle.writer()?;
        let report = sgtk::import_session_cache(vault, &home, &options)?;
        // The batch is applied; an entry another thread removed since is left out.
        let metas = report
            .imported
            .iter()
            .filter_map(|name| vault.metadata(name).ok())
            .collect();
        let removed: usize = report.removed.iter().map(|r| r.tokens).sum();
        imported_out.write(handle::new_box::<fv_list>(ListData::new(metas)));
        removed_out.write(u64::try_from(removed).expect("a count of users fits in 64 bits"));
        Ok(())
    }
}

ffi_fn! {
    /// Brings a session token tk-core renewed back into entry `name`: when
    /// `<shotgun_home>/<site>/authentication.yml` (a job's private Toolkit home)
    /// caches a token for the site and login of `name` (a session-token entry)
    /// that differs from the entry's, it is written into `name` with a TTL of
    /// FV_SGTK_SESSION_TTL_SECS from now. `written_out` receives 1 when it wrote,
    /// 0 when there was nothing newer or `name` is another kind. `shotgun_home`
    /// may not be NULL: this is for a private home, not the user's own.
    /// Returns FV_NOT_FOUND / FV_EXPIRED for `name`, FV_READ_ONLY for a job
    /// grant, FV_IO or FV_INVALID_ARGUMENT for a cache that cannot be read.
    fn fv_sgtk_bring_home(
        vault: *mut fv_vault,
        shotgun_home: *const c_char,
        name: *const c_char,
        written_out: *mut bool,
    ) -> fv_result {
        let written_out = try_out!(written_out);
        let handle = try_arc!(vault);
        let home = try_path!(shotgun_home).to_path_buf();
        let name = try_cstr!(name, FV_MAX_NAME_LEN);
        let vault = handle.writer()?;
        let wrote = sgtk::bring_home(vault, &home, name)?;
        written_out.write(wrote);
        Ok(())
    }
}

ffi_fn! {
    /// Moves tk-core 0.24's Flow (Autodesk Platform Services) OAuth tokens into the
    /// vault: every application and profile of `<shotgun_home>/adsk_flow_tokens.json`
    /// with an access token that has not expired becomes a flow-token entry named
    /// `<prefix><app_id>/<profile>` (replacing one of that name) that expires when the
    /// access token does (its JWT `exp`), all written in one atomic, flushed batch.
    /// Then, with FV_SGTK_REMOVE_FROM_CACHE in `flags`, those profiles are removed from
    /// the file as tk-core's own `delete_tokens` removes one, every other key,
    /// application and profile keeping its bytes (the file is rewritten atomically,
    /// 0600). A profile whose access token has expired, has no readable `exp`, or is
    /// missing is skipped and left in the file; a missing file imports nothing.
    ///
    /// `shotgun_home`: the Toolkit home, or NULL for tk-core's own choice (as for
    /// `fv_sgtk_import_session_cache`). `prefix`: NULL for "flow/".
    ///
    /// `imported_out`: receives an own `fv_list *` of the entries written (metadata,
    /// in file order); free it with `fv_list_free`. `removed_out`: receives how many
    /// profiles were removed from the file (0 without the flag). `skipped_out`:
    /// receives how many profiles were skipped.
    /// Returns FV_IO when the file cannot be read (nothing is written) or rewritten
    /// (the message says the tokens are safe in the vault), FV_INVALID_ARGUMENT for a
    /// file that is not tk-core's, a bad argument or unknown flag bits (nothing is
    /// written), FV_READ_ONLY, and the vault's write errors (nothing is removed).
    fn fv_sgtk_import_flow_tokens(
        vault: *mut fv_vault,
        shotgun_home: *const c_char,
        prefix: *const c_char,
        flags: u32,
        imported_out: *mut *mut fv_list,
        removed_out: *mut u64,
        skipped_out: *mut u64,
    ) -> fv_result {
        let imported_out = try_out!(imported_out);
        let removed_out = try_out!(removed_out);
        let skipped_out = try_out!(skipped_out);
        let handle = try_arc!(vault);
        if flags & !FV_SGTK_REMOVE_FROM_CACHE != 0 {
            return Err(Failure::invalid(format!(
                "flags {flags:#x} hold unknown bits; the only flag is FV_SGTK_REMOVE_FROM_CACHE"
            )));
        }
        let home = if shotgun_home.is_null() {
            default_home()?
        } else {
            try_path!(shotgun_home).to_path_buf()
        };
        let mut options = FlowImportOptions::default();
        if let Some(prefix) = try_cstr_opt!(prefix, FV_MAX_NAME_LEN) {
            prefix.clone_into(&mut options.prefix);
        }
        options.remove_from_file = flags & FV_SGTK_REMOVE_FROM_CACHE != 0;
        let vault = handle.writer()?;
        let report = sgtk::import_flow_tokens(vault, &home, &options)?;
        let metas = report
            .imported
            .iter()
            .filter_map(|name| vault.metadata(name).ok())
            .collect();
        imported_out.write(handle::new_box::<fv_list>(ListData::new(metas)));
        removed_out.write(u64::try_from(report.removed).expect("a count fits in 64 bits"));
        skipped_out.write(u64::try_from(report.skipped.len()).expect("a count fits in 64 bits"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::credential::{
        fv_credential_field, fv_credential_free, fv_credential_kind, fv_field, fv_kind,
    };
    use crate::ffi::entry::{fv_entry_name, fv_list_free, fv_list_get, fv_list_len};
    use crate::ffi::result::{fv_result, last_error_message};
    use crate::ffi::secret::{fv_secret_data, fv_secret_free, fv_secret_len};
    use crate::ffi::vault::Handle;
    use std::ffi::{CStr, CString};
    use std::ptr::{null, null_mut};

    const SCRIPT_JSON: &str = "{\"type\": \"ScriptUser\", \"data\": {\"http_proxy\": null, \
        \"host\": \"https://mysite.shotgrid.autodesk.com\", \"api_script\": \"render_farm\", \
        \"api_key\": \"0123456789abcdef\"}}";

    /// The bytes of an owned secret, which is then freed.
    fn take(secret: *mut fv_secret) -> Vec<u8> {
        // SAFETY: `secret` is a live handle just returned by the library; its data is
        // valid for `fv_secret_len` bytes until it is freed, after the copy.
        unsafe {
            let bytes =
                std::slice::from_raw_parts(fv_secret_data(secret), fv_secret_len(secret)).to_vec();
            fv_secret_free(secret);
            bytes
        }
    }

    #[test]
    fn parse_then_write_json_is_byte_identical() {
        let mut cred = null_mut();
        let mut json = null_mut();
        let mut key = null_mut();
        // SAFETY: the text is a live literal of the length passed; out-params are live
        // locals; `cred` is the handle just returned.
        unsafe {
            assert_eq!(
                fv_sgtk_parse(SCRIPT_JSON.as_ptr(), SCRIPT_JSON.len(), &mut cred),
                fv_result::FV_OK
            );
            assert_eq!(fv_credential_kind(cred), fv_kind::ScriptKey as u32);
            assert_eq!(
                fv_credential_field(cred, fv_field::ApiKey as u32, &mut key),
                fv_result::FV_OK
            );
            assert_eq!(fv_sgtk_to_json(cred, &mut json), fv_result::FV_OK);
            fv_credential_free(cred);
        }
        assert_eq!(take(key), b"0123456789abcdef");
        assert_eq!(take(json), SCRIPT_JSON.as_bytes());
    }

    #[test]
    fn a_latin1_pickle_as_raw_bytes_parses_and_a_context_exports_as_it_came() {
        // serialize_user of the login "josé": tk-core's text, written out as ISO-8859-1.
        let user = crate::credential::Credential::SessionToken(crate::SessionToken {
            host: "https://mysite.shotgrid.autodesk.com".into(),
            login: "jos\u{e9}".into(),
            session_token: "abc123".into(),
            http_proxy: None,
            session_metadata: None,
        });
        let text = sgtk::to_serialized_user_pickle(&user).expect("pickle");
        let raw: Vec<u8> = text.chars().map(|c| c as u8).collect();
        assert!(std::str::from_utf8(&raw).is_err());
        let context = serde_json::json!({"_pc_path": "/p", "_current_user": text}).to_string();
        let (mut cred, mut ctx, mut out) = (null_mut(), null_mut(), null_mut());
        // SAFETY: the inputs are live buffers of the lengths passed; the out-params are
        // live locals; the handles are freed once.
        unsafe {
            assert_eq!(
                fv_sgtk_parse(raw.as_ptr(), raw.len(), &mut cred),
                fv_result::FV_OK,
                "{}",
                last_error_message()
            );
            assert_eq!(
                fv_sgtk_parse_payload(context.as_ptr(), context.len(), &mut ctx),
                fv_result::FV_OK
            );
            assert_eq!(fv_credential_kind(ctx), fv_kind::TankContext as u32);
            assert_eq!(fv_sgtk_export(ctx, &mut out), fv_result::FV_OK);
            let mut expires = 0;
            assert_eq!(
                fv_sgtk_flow_token_expiry(ctx, &mut expires),
                fv_result::FV_INVALID_ARGUMENT
            );
            fv_credential_free(ctx);
            fv_credential_free(cred);
        }
        assert_eq!(take(out), context.as_bytes());
    }

    #[test]
    fn bad_input_is_invalid_argument_without_the_secret() {
        let bad = "{\"type\": \"AdminUser\", \"data\": {\"api_key\": \"hunter2\"}}";
        let mut cred = null_mut();
        // SAFETY: live literals and locals; NULL where NULL is the point.
        unsafe {
            assert_eq!(
                fv_sgtk_parse(bad.as_ptr(), bad.len(), &mut cred),
                fv_result::FV_INVALID_ARGUMENT
            );
            let msg = last_error_message();
            assert!(
                msg.contains("AdminUser") && !msg.contains("hunter2"),
                "{msg}"
            );
            assert_eq!(
                fv_sgtk_parse(null(), 3, &mut cred),
                fv_result::FV_INVALID_ARGUMENT
            );
            assert_eq!(
                fv_sgtk_parse(bad.as_ptr(), bad.len(), null_mut()),
                fv_result::FV_INVALID_ARGUMENT
            );
            let mut json = null_mut();
            assert_eq!(
                fv_sgtk_to_json(null(), &mut json),
                fv_result::FV_INVALID_ARGUMENT
            );
            let mut list = null_mut();
            let mut removed = 0;
            assert_eq!(
                fv_sgtk_import_session_cache(
                    null_mut(),
                    null(),
                    null(),
                    0,
                    0,
                    &mut list,
                    &mut removed
                ),
                fv_result::FV_INVALID_ARGUMENT
            );
        }
        assert!(cred.is_null(), "out-params are written only on success");
    }

    #[test]
    fn session_cache_import_lists_the_entries_and_removes_tokens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join("mysite")).expect("site dir");
        std::fs::write(
            home.join("mysite/authentication.yml"),
            "current_user: jdoe\nusers:\n- login: jdoe\n  session_token: tok1\n",
        )
        .expect("cache");
        let vault = crate::Config::new(dir.path().join("v"))
            .kdf(crate::KdfParams::new(8, 1, 1).expect("cheap kdf"))
            .create(&crate::Unlock::passphrase("pw"))
            .expect("vault");
        let handle = handle::new_arc::<fv_vault>(Handle::Vault(vault));
        let home_c = CString::new(home.to_str().expect("UTF-8 temp path")).expect("no NUL");
        let mut list = null_mut();
        let mut removed = 7;
        // SAFETY: `handle` and `list` are live handles the library made; the strings
        // are live locals; the borrowed name is copied before the list is freed.
        unsafe {
            assert_eq!(
                fv_sgtk_import_session_cache(
                    handle,
                    home_c.as_ptr(),
                    c"sg/".as_ptr(),
                    FV_SGTK_SESSION_TTL_SECS,
                    FV_SGTK_REMOVE_FROM_CACHE | 2,
                    &mut list,
                    &mut removed
                ),
                fv_result::FV_INVALID_ARGUMENT
            );
            assert_eq!(
                fv_sgtk_import_session_cache(
                    handle,
                    home_c.as_ptr(),
                    c"sg/".as_ptr(),
                    FV_SGTK_SESSION_TTL_SECS,
                    FV_SGTK_REMOVE_FROM_CACHE,
                    &mut list,
                    &mut removed
                ),
                fv_result::FV_OK,
                "{}",
                last_error_message()
            );
            assert_eq!(fv_list_len(list), 1);
            let name = CStr::from_ptr(fv_entry_name(fv_list_get(list, 0)));
            assert_eq!(name.to_str(), Ok("sg/mysite/jdoe"));
            fv_list_free(list);
            super::super::vault::fv_vault_close(handle);
        }
        assert_eq!(removed, 1);
        let text = std::fs::read_to_string(home.join("mysite/authentication.yml")).expect("cache");
        assert!(!text.contains("tok1"), "{text}");
    }
}
