//! `fv_sgtk_*`: the Toolkit's (tk-core) credential formats and its plaintext session
//! cache, through the core's one implementation (`crate::sgtk` and
//! `crate::sgtk::import`, shared with the CLI), for C and the Python binding.

use super::args::ttl;
use super::credential::fv_credential;
use super::entry::{fv_list, ListData};
use super::handle;
use super::info::FV_MAX_NAME_LEN;
use super::result::Failure;
use super::secret::{self, fv_secret};
use super::vault::fv_vault;
use crate::sgtk;
use crate::sgtk::{ImportOptions, DEFAULT_SESSION_TTL};
use std::ffi::c_char;
use zeroize::Zeroizing;

/// Flag of `fv_sgtk_import_session_cache`: once every token is in the vault, remove
/// the imported tokens from tk-core's cache files (every other key is kept).
pub const FV_SGTK_REMOVE_FROM_CACHE: u32 = 1;

/// How long a session lasts on the server by default (24 hours of inactivity), in
/// seconds: the TTL `farmvault import-session-cache` gives imported tokens. Pass it as
/// the `ttl_secs` of `fv_sgtk_import_session_cache` to do the same.
pub const FV_SGTK_SESSION_TTL_SECS: u64 = 86400;

const _: () = assert!(FV_SGTK_SESSION_TTL_SECS == DEFAULT_SESSION_TTL.as_secs());

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
    /// (`use_json=True`; read as JSON only when its first byte is `{`, as tk-core does)
    /// or the default protocol-0 pickle text, which is read as data only (dicts,
    /// strings and None; never executed) with its `_payload_encoding` honoured. `text`
    /// is `text_len` UTF-8 bytes (1 to FV_MAX_SECRET_LEN), exactly what
    /// `serialize_user` returned.
    ///
    /// `out`: receives an own `fv_credential *`, of kind FV_KIND_SESSION_TOKEN for a
    /// `SessionUser` and FV_KIND_SCRIPT_KEY for a `ScriptUser`; free it with
    /// `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for malformed JSON or pickle, a pickle opcode
    /// outside that data-only subset, an unknown `type`, a missing or empty required
    /// field (the message names the field, never a value), bad UTF-8, a length out of
    /// range or a NULL pointer.
    fn fv_sgtk_parse(text: *const u8, text_len: usize, out: *mut *mut fv_credential) -> fv_result {
        let out = try_out!(out);
        hand_over(sgtk::parse_serialized_user(try_text!(text, text_len)), out)
    }
}

ffi_fn! {
    /// Parses a `TANK_CONTEXT` value (the JSON tk-core puts in a launched process's
    /// environment) and the serialized user under its `_current_user` key, as
    /// `fv_sgtk_parse` does. `json` is `json_len` UTF-8 bytes (1 to FV_MAX_SECRET_LEN).
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for malformed JSON, a context without a user, any
    /// error `fv_sgtk_parse` reports for the user, bad UTF-8, a length out of range or
    /// a NULL pointer.
    fn fv_sgtk_parse_tank_context(
        json: *const u8,
        json_len: usize,
        out: *mut *mut fv_credential,
    ) -> fv_result {
        let out = try_out!(out);
        hand_over(sgtk::parse_tank_context(try_text!(json, json_len)), out)
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
    /// cache files (each user's `session_token` set to null, `session_metadata`
    /// dropped, every other key kept; files rewritten atomically). So a token is
    /// always in the vault, in the cache, or in both.
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
            sgtk::default_shotgun_home().ok_or_else(|| {
                Failure::invalid(
                    "shotgun_home is NULL and neither SHOTGUN_HOME nor a home folder is set; \
                     pass the cache root",
                )
            })?
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
