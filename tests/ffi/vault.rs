//! The C ABI called directly from Rust, NULLs and bad input included.
//!
//! The exported functions are `unsafe extern "C"` (a caller could pass a dangling
//! pointer), so every call here sits in an `unsafe` block; the pointers passed are
//! NULL, literals, live locals or handles the library returned. `tests/c/` runs the
//! same ground from C, under valgrind.
//!
//! The per-call overhead of the ABI against the Rust API is measured by an ignored test:
//! `cargo test --release --test ffi -- --ignored --nocapture per_call_overhead`.

use crate::support::*;
use farmvault::ffi::fv_result::{self, *};
use farmvault::ffi::*;
use std::ffi::CString;
use std::path::Path;
use std::ptr::{null, null_mut};

/// Cheap-KDF options (Argon2id m=8 KiB t=1 p=1), optionally with a pinned clock.
fn options(fixed_time: u64) -> *mut fv_options {
    let mut opts = null_mut();
    // SAFETY: out-params are live locals; `opts` is the handle just returned.
    unsafe {
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        assert_eq!(fv_options_set_kdf(opts, 8, 1, 1), FV_OK);
        assert_eq!(fv_options_set_fixed_time(opts, fixed_time), FV_OK);
    }
    opts
}

/// A new passphrase vault ("pw") in `dir/v`.
fn create(dir: &Path, fixed_time: u64) -> *mut fv_vault {
    vault_at(dir, fixed_time, true)
}

/// Reopens `dir/v` with "pw".
fn open(dir: &Path, fixed_time: u64) -> *mut fv_vault {
    vault_at(dir, fixed_time, false)
}

fn vault_at(dir: &Path, fixed_time: u64, new: bool) -> *mut fv_vault {
    let opts = options(fixed_time);
    let path = cpath(&dir.join("v"));
    let mut vault = null_mut();
    let how = if new {
        fv_vault_create_passphrase
    } else {
        fv_vault_open_passphrase
    };
    // SAFETY: live C strings and out-param; `opts` is a live handle, freed once.
    unsafe {
        let r = how(path.as_ptr(), b"pw".as_ptr(), 2, opts, &mut vault);
        assert_eq!(r, FV_OK, "{}", msg());
        fv_options_free(opts);
    }
    vault
}

#[test]
fn versions_limits_and_result_names() {
    // SAFETY: these take no pointers and return static text.
    unsafe {
        assert_eq!(fv_version_number(), FV_VERSION_NUMBER);
        assert_eq!(fv_abi_version(), FV_ABI_VERSION);
        assert_eq!(text(fv_version()), env!("CARGO_PKG_VERSION"));
        assert_eq!(fv_max_name_len(), FV_MAX_NAME_LEN);
        assert_eq!(fv_max_secret_len(), FV_MAX_SECRET_LEN);
        assert_eq!(fv_max_path_len(), FV_MAX_PATH_LEN);
        assert_eq!(fv_max_text_len(), FV_MAX_TEXT_LEN);
        assert_eq!(fv_key_file_len(), FV_KEY_FILE_LEN);
        for code in fv_result::ALL {
            assert_eq!(text(fv_result_name(code as u32)), code.name());
        }
        assert_eq!(
            text(fv_result_name(fv_result::ALL.len() as u32)),
            "FV_UNKNOWN_RESULT"
        );
        assert_eq!(text(fv_result_name(u32::MAX)), "FV_UNKNOWN_RESULT");
    }
}

#[test]
fn round_trip_opaque_and_typed() {
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 1_000_000);
    // SAFETY: every pointer below is NULL, a literal, a live local or a live handle.
    unsafe {
        assert_eq!(
            fv_vault_put(vault, c"blob".as_ptr(), b"\x00\x01\xff".as_ptr(), 3, 0),
            FV_OK
        );
        let mut cred = null_mut();
        let r = fv_credential_new_script_key(
            c"https://site.example".as_ptr(),
            c"render_farm".as_ptr(),
            b"0123456789abcdef".as_ptr(),
            16,
            null(),
            &mut cred,
        );
        assert_eq!(r, FV_OK, "{}", msg());
        assert_eq!(fv_credential_kind(cred), fv_kind::ScriptKey as u32);
        assert_eq!(
            fv_vault_put_credential(vault, c"sg/farm".as_ptr(), cred, 3600),
            FV_OK
        );
        fv_credential_free(cred);

        let mut entry = null_mut();
        assert_eq!(fv_vault_get(vault, c"blob".as_ptr(), &mut entry), FV_OK);
        assert_eq!(fv_entry_kind(entry), fv_kind::Opaque as u32);
        assert_eq!(field(entry, fv_field::Secret).unwrap(), b"\x00\x01\xff");
        assert_eq!(field(entry, fv_field::Host), Err(FV_NOT_FOUND));
        assert!(fv_entry_host(entry).is_null());
        assert_eq!(fv_entry_expires(entry), 0);
        fv_entry_free(entry);

        let mut entry = null_mut();
        assert_eq!(fv_vault_get(vault, c"sg/farm".as_ptr(), &mut entry), FV_OK);
        assert_eq!(text(fv_entry_name(entry)), "sg/farm");
        assert_eq!(text(fv_entry_host(entry)), "https://site.example");
        assert_eq!(fv_entry_created(entry), 1_000_000);
        assert_eq!(fv_entry_updated(entry), 1_000_000);
        assert_eq!(fv_entry_expires(entry), 1_003_600);
        assert!(fv_entry_has_credential(entry));
        assert_eq!(field(entry, fv_field::ScriptName).unwrap(), b"render_farm");
        assert_eq!(field(entry, fv_field::ApiKey).unwrap(), b"0123456789abcdef");
        assert_eq!(field(entry, fv_field::Secret).unwrap(), b"0123456789abcdef");
        fails(
            field(entry, fv_field::HttpProxy).unwrap_err(),
            FV_NOT_FOUND,
            "http_proxy",
        );
        fails(
            field(entry, fv_field::Login).unwrap_err(),
            FV_NOT_FOUND,
            "login",
        );
        let mut s = null_mut();
        fails(
            fv_entry_field(entry, 14, &mut s),
            FV_INVALID_ARGUMENT,
            "field 14",
        );
        let mut copy = null_mut();
        assert_eq!(fv_entry_credential(entry, &mut copy), FV_OK);
        assert_eq!(fv_credential_kind(copy), fv_kind::ScriptKey as u32);
        let mut s = null_mut();
        assert_eq!(
            fv_credential_field(copy, fv_field::Host as u32, &mut s),
            FV_OK
        );
        assert_eq!(take(s), b"https://site.example");
        fails(
            fv_credential_field(copy, 77, &mut s),
            FV_INVALID_ARGUMENT,
            "field 77",
        );
        fails(
            fv_credential_field(copy, fv_field::Password as u32, &mut s),
            FV_NOT_FOUND,
            "password",
        );
        fv_credential_free(copy);
        fv_entry_free(entry);

        // Metadata has no credential, and says so.
        let mut meta = null_mut();
        assert_eq!(
            fv_vault_metadata(vault, c"sg/farm".as_ptr(), &mut meta),
            FV_OK
        );
        assert!(!fv_entry_has_credential(meta));
        assert_eq!(text(fv_entry_host(meta)), "https://site.example");
        fails(
            field(meta, fv_field::Host).unwrap_err(),
            FV_INVALID_ARGUMENT,
            "metadata only",
        );
        let mut c = null_mut();
        fails(
            fv_entry_credential(meta, &mut c),
            FV_INVALID_ARGUMENT,
            "metadata only",
        );
        assert!(c.is_null());
        fv_entry_free(meta);
        fv_vault_close(vault);
    }
}

#[test]
fn typed_credentials_validate_their_fields() {
    // SAFETY: literals, live locals, and handles returned just above.
    unsafe {
        let mut c = null_mut();
        let r = fv_credential_new_session_token(
            c"https://s".as_ptr(),
            c"jdoe".as_ptr(),
            b"tok".as_ptr(),
            3,
            c"user:pw@proxy:8080".as_ptr(),
            c"".as_ptr(),
            &mut c,
        );
        assert_eq!(r, FV_OK);
        assert_eq!(fv_credential_kind(c), fv_kind::SessionToken as u32);
        let mut s = null_mut();
        assert_eq!(
            fv_credential_field(c, fv_field::HttpProxy as u32, &mut s),
            FV_OK
        );
        assert_eq!(take(s), b"user:pw@proxy:8080");
        let r = fv_credential_field(c, fv_field::SessionMetadata as u32, &mut s);
        fails(r, FV_NOT_FOUND, "session_metadata");
        fv_credential_free(c);

        let mut c = null_mut();
        let r = fv_credential_new_login_password(
            c"https://s".as_ptr(),
            c"jdoe".as_ptr(),
            b"pw".as_ptr(),
            2,
            null(),
            &mut c,
        );
        assert_eq!(r, FV_OK);
        assert_eq!(fv_credential_kind(c), fv_kind::LoginPassword as u32);
        fv_credential_free(c);

        let mut c = null_mut();
        let r = fv_credential_new_login_password(
            c"".as_ptr(),
            c"jdoe".as_ptr(),
            b"pw".as_ptr(),
            2,
            null(),
            &mut c,
        );
        fails(r, FV_INVALID_ARGUMENT, "non-empty host");
        let r =
            fv_credential_new_script_key(null(), c"s".as_ptr(), b"k".as_ptr(), 1, null(), &mut c);
        fails(r, FV_INVALID_ARGUMENT, "host is NULL");
        let r = fv_credential_new_script_key(
            c"h".as_ptr(),
            c"s".as_ptr(),
            b"\xff\xfe".as_ptr(),
            2,
            null(),
            &mut c,
        );
        fails(r, FV_INVALID_ARGUMENT, "api_key is not valid UTF-8");
        let r = fv_credential_new_opaque(b"x".as_ptr(), 0, &mut c);
        fails(r, FV_INVALID_ARGUMENT, "secret_len is 0");
        let r = fv_credential_new_opaque(b"x".as_ptr(), 1, null_mut());
        fails(r, FV_INVALID_ARGUMENT, "out is NULL");
        assert!(c.is_null());
        assert_eq!(fv_credential_kind(null()), FV_KIND_INVALID);
        assert!(msg().contains("credential is NULL"));
    }
}

#[test]
fn every_null_is_an_error_naming_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 0);
    let path = cpath(&dir.path().join("v"));
    // SAFETY: NULLs, literals, live locals and the live `vault`.
    unsafe {
        let mut v = null_mut();
        let mut e = null_mut();
        let mut l = null_mut();
        let mut n = 0u64;
        let inv = FV_INVALID_ARGUMENT;
        fails(
            fv_vault_open_passphrase(null(), b"pw".as_ptr(), 2, null(), &mut v),
            inv,
            "path is NULL",
        );
        fails(
            fv_vault_open_passphrase(path.as_ptr(), null(), 2, null(), &mut v),
            inv,
            "passphrase is NULL",
        );
        fails(
            fv_vault_open_passphrase(path.as_ptr(), b"pw".as_ptr(), 0, null(), &mut v),
            inv,
            "passphrase_len is 0",
        );
        fails(
            fv_vault_open_passphrase(path.as_ptr(), b"pw".as_ptr(), 2, null(), null_mut()),
            inv,
            "out is NULL",
        );
        fails(
            fv_vault_open_key_file(path.as_ptr(), null(), null(), &mut v),
            inv,
            "key_file_path is NULL",
        );
        fails(
            fv_vault_create_key_file(null(), c"k".as_ptr(), null(), &mut v),
            inv,
            "path is NULL",
        );
        fails(
            fv_vault_create_passphrase(path.as_ptr(), b"pw".as_ptr(), 2, null(), null_mut()),
            inv,
            "out is NULL",
        );
        assert!(v.is_null());
        fails(fv_key_file_generate(null()), inv, "path is NULL");
        fails(
            fv_vault_get(null(), c"a".as_ptr(), &mut e),
            inv,
            "vault is NULL",
        );
        fails(fv_vault_get(vault, null(), &mut e), inv, "name is NULL");
        fails(
            fv_vault_get(vault, c"a".as_ptr(), null_mut()),
            inv,
            "out is NULL",
        );
        fails(
            fv_vault_metadata(null(), c"a".as_ptr(), &mut e),
            inv,
            "vault is NULL",
        );
        fails(
            fv_vault_metadata(vault, c"a".as_ptr(), null_mut()),
            inv,
            "out is NULL",
        );
        fails(fv_vault_list(null(), null(), &mut l), inv, "vault is NULL");
        fails(fv_vault_list(vault, null(), null_mut()), inv, "out is NULL");
        fails(
            fv_vault_put(null_mut(), c"a".as_ptr(), b"x".as_ptr(), 1, 0),
            inv,
            "vault is NULL",
        );
        fails(
            fv_vault_put(vault, null(), b"x".as_ptr(), 1, 0),
            inv,
            "name is NULL",
        );
        fails(
            fv_vault_put(vault, c"a".as_ptr(), null(), 1, 0),
            inv,
            "secret is NULL",
        );
        fails(
            fv_vault_put_credential(vault, c"a".as_ptr(), null(), 0),
            inv,
            "credential is NULL",
        );
        fails(
            fv_vault_delete(null_mut(), c"a".as_ptr()),
            inv,
            "vault is NULL",
        );
        fails(fv_vault_renew(vault, null(), 1), inv, "name is NULL");
        fails(
            fv_vault_purge_expired(vault, null_mut()),
            inv,
            "removed_out is NULL",
        );
        fails(
            fv_vault_purge_expired(null_mut(), &mut n),
            inv,
            "vault is NULL",
        );
        fails(fv_vault_apply(vault, null()), inv, "batch is NULL");
        fails(
            fv_vault_change_passphrase(vault, null(), 3),
            inv,
            "passphrase is NULL",
        );
        fails(
            fv_vault_add_key_file(vault, null()),
            inv,
            "key_file_path is NULL",
        );
        fails(
            fv_vault_remove_key_file(null_mut(), c"k".as_ptr()),
            inv,
            "vault is NULL",
        );
        fails(
            fv_vault_rotate(vault, 0, null_mut()),
            inv,
            "reencrypted_out is NULL",
        );
        fails(fv_vault_rotate(vault, 2, &mut n), inv, "unknown bits");
        fails(fv_options_new(null_mut()), inv, "out is NULL");
        fails(fv_options_set_kdf(null_mut(), 8, 1, 1), inv, "opts is NULL");
        fails(
            fv_options_set_lock_timeout_ms(null_mut(), 1),
            inv,
            "opts is NULL",
        );
        fails(
            fv_options_set_fixed_time(null_mut(), 1),
            inv,
            "opts is NULL",
        );
        fails(fv_batch_new(null_mut()), inv, "out is NULL");
        fails(
            fv_batch_put(null_mut(), c"a".as_ptr(), b"x".as_ptr(), 1, 0),
            inv,
            "batch is NULL",
        );
        fails(
            fv_batch_put_credential(null_mut(), c"a".as_ptr(), null(), 0),
            inv,
            "batch is NULL",
        );
        fails(
            fv_batch_delete(null_mut(), c"a".as_ptr()),
            inv,
            "batch is NULL",
        );
        assert!(fv_secret_data(null()).is_null());
        assert!(msg().contains("secret is NULL"));
        assert_eq!(fv_secret_len(null()), 0);
        assert_eq!(fv_entry_kind(null()), FV_KIND_INVALID);
        assert!(fv_entry_name(null()).is_null());
        assert!(fv_entry_host(null()).is_null());
        assert_eq!(fv_entry_created(null()), 0);
        assert_eq!(fv_entry_updated(null()), 0);
        assert_eq!(fv_entry_expires(null()), 0);
        assert!(!fv_entry_has_credential(null()));
        fails(
            fv_entry_field(null(), 0, &mut null_mut()),
            inv,
            "entry is NULL",
        );
        fails(
            fv_entry_credential(null(), &mut null_mut()),
            inv,
            "entry is NULL",
        );
        assert_eq!(fv_list_len(null()), 0);
        assert!(fv_list_get(null(), 0).is_null());
        assert!(msg().contains("list is NULL"));
        assert_eq!(fv_batch_len(null()), 0);
        // Every free and close accepts NULL.
        fv_vault_close(null_mut());
        fv_entry_free(null_mut());
        fv_list_free(null_mut());
        fv_secret_free(null_mut());
        fv_credential_free(null_mut());
        fv_batch_free(null_mut());
        fv_options_free(null_mut());
        fv_vault_close(vault);
    }
}

#[test]
fn names_and_lengths_are_bounded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 0);
    // SAFETY: the buffers below are live for each call; the unterminated one is
    // longer than the scan limit, so the scan stays inside it.
    unsafe {
        let inv = FV_INVALID_ARGUMENT;
        let bad_utf8 = b"caf\xe9\0";
        let r = fv_vault_put(vault, bad_utf8.as_ptr().cast(), b"x".as_ptr(), 1, 0);
        fails(r, inv, "name is not valid UTF-8");
        let unterminated = vec![b'a'; 4000];
        let r = fv_vault_put(vault, unterminated.as_ptr().cast(), b"x".as_ptr(), 1, 0);
        fails(
            r,
            inv,
            "name is longer than 1024 bytes or not NUL-terminated",
        );
        let longest = CString::new("n".repeat(FV_MAX_NAME_LEN)).unwrap();
        assert_eq!(
            fv_vault_put(vault, longest.as_ptr(), b"x".as_ptr(), 1, 0),
            FV_OK
        );
        let too_long = CString::new("n".repeat(FV_MAX_NAME_LEN + 1)).unwrap();
        let r = fv_vault_put(vault, too_long.as_ptr(), b"x".as_ptr(), 1, 0);
        fails(r, inv, "longer than 1024 bytes");
        fails(
            fv_vault_put(vault, c"".as_ptr(), b"x".as_ptr(), 1, 0),
            inv,
            "1 to 1024 bytes",
        );
        fails(
            fv_vault_put(vault, c"a\tb".as_ptr(), b"x".as_ptr(), 1, 0),
            inv,
            "control character",
        );
        fails(
            fv_vault_put(vault, c"a".as_ptr(), b"x".as_ptr(), 0, 0),
            inv,
            "secret_len is 0",
        );
        let r = fv_vault_put(
            vault,
            c"a".as_ptr(),
            b"x".as_ptr(),
            FV_MAX_SECRET_LEN + 1,
            0,
        );
        fails(r, inv, "FV_MAX_SECRET_LEN");
        let big = vec![7u8; FV_MAX_SECRET_LEN];
        assert_eq!(
            fv_vault_put(vault, c"big".as_ptr(), big.as_ptr(), big.len(), 0),
            FV_OK
        );
        let r = fv_vault_put(vault, c"a".as_ptr(), b"x".as_ptr(), 1, 200 * 365 * 86400);
        fails(r, inv, "100-year");
        let mut e = null_mut();
        fails(
            fv_vault_get(vault, c"missing".as_ptr(), &mut e),
            FV_NOT_FOUND,
            "\"missing\"",
        );
        assert!(e.is_null());
        fails(
            fv_vault_delete(vault, c"missing".as_ptr()),
            FV_NOT_FOUND,
            "missing",
        );
        let mut opts = null_mut();
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        fails(fv_options_set_kdf(opts, 0, 1, 1), inv, "Argon2id");
        fv_options_free(opts);
        fv_vault_close(vault);
    }
}

#[test]
fn closed_freed_and_foreign_handles_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 0);
    // SAFETY: the registry is what is under test: the pointers passed after their
    // free are never dereferenced by a correct library, and the memory they point to
    // is not read by this test.
    unsafe {
        assert_eq!(
            fv_vault_put(vault, c"a".as_ptr(), b"x".as_ptr(), 1, 0),
            FV_OK
        );
        let mut entry = null_mut();
        assert_eq!(fv_vault_get(vault, c"a".as_ptr(), &mut entry), FV_OK);
        // An entry passed as a vault.
        let r = fv_vault_get(entry.cast::<fv_vault>(), c"a".as_ptr(), &mut null_mut());
        fails(
            r,
            FV_INVALID_ARGUMENT,
            "expected an fv_vault, got an fv_entry",
        );
        fv_entry_free(entry);
        assert_eq!(fv_entry_kind(entry), FV_KIND_INVALID);
        assert!(msg().contains("fv_entry handle is closed or invalid"));
        fv_entry_free(entry);
        assert!(msg().contains("entry: fv_entry handle is closed or invalid"));

        let mut list = null_mut();
        assert_eq!(fv_vault_list(vault, null(), &mut list), FV_OK);
        let borrowed = fv_list_get(list, 0);
        assert_eq!(text(fv_entry_name(borrowed)), "a");
        fv_entry_free(borrowed.cast_mut());
        assert!(msg().contains("borrowed from its parent"));
        assert!(fv_list_get(list, 1).is_null());
        assert!(msg().contains("index 1 is past the end of the list (1 entries)"));
        fv_list_free(list);
        assert!(
            fv_entry_name(borrowed).is_null(),
            "entries die with their list"
        );
        fv_list_free(list);
        assert!(msg().contains("fv_list handle is closed or invalid"));

        fv_vault_close(vault);
        let r = fv_vault_get(vault, c"a".as_ptr(), &mut null_mut());
        fails(
            r,
            FV_INVALID_ARGUMENT,
            "vault: fv_vault handle is closed or invalid",
        );
        fv_vault_close(vault);
        assert!(msg().contains("vault: fv_vault handle is closed or invalid"));
        let mut x = 0u8;
        let r = fv_vault_put(
            std::ptr::from_mut(&mut x).cast(),
            c"a".as_ptr(),
            b"x".as_ptr(),
            1,
            0,
        );
        fails(r, FV_INVALID_ARGUMENT, "not from farmvault");
    }
}

#[test]
fn list_batch_renew_expiry_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 2_000_000;
    let vault = create(dir.path(), t0);
    // SAFETY: literals, live locals and live handles.
    unsafe {
        let mut batch = null_mut();
        assert_eq!(fv_batch_new(&mut batch), FV_OK);
        assert_eq!(
            fv_batch_put(batch, c"job/a".as_ptr(), b"1".as_ptr(), 1, 10),
            FV_OK
        );
        assert_eq!(
            fv_batch_put(batch, c"job/b".as_ptr(), b"2".as_ptr(), 1, 100),
            FV_OK
        );
        let mut cred = null_mut();
        assert_eq!(fv_credential_new_opaque(b"3".as_ptr(), 1, &mut cred), FV_OK);
        assert_eq!(
            fv_batch_put_credential(batch, c"other".as_ptr(), cred, 0),
            FV_OK
        );
        fv_credential_free(cred);
        let r = fv_batch_put(batch, c"".as_ptr(), b"1".as_ptr(), 1, 0);
        fails(r, FV_INVALID_ARGUMENT, "1 to 1024 bytes");
        assert_eq!(fv_batch_len(batch), 3);
        assert_eq!(fv_vault_apply(vault, batch), FV_OK);
        assert_eq!(fv_batch_len(batch), 3, "apply leaves the batch as it was");
        fv_batch_free(batch);

        let mut batch = null_mut();
        assert_eq!(fv_batch_new(&mut batch), FV_OK);
        assert_eq!(
            fv_batch_put(batch, c"new".as_ptr(), b"n".as_ptr(), 1, 0),
            FV_OK
        );
        assert_eq!(fv_batch_delete(batch, c"nope".as_ptr()), FV_OK);
        fails(fv_vault_apply(vault, batch), FV_NOT_FOUND, "nope");
        fv_batch_free(batch);
        let mut e = null_mut();
        fails(
            fv_vault_get(vault, c"new".as_ptr(), &mut e),
            FV_NOT_FOUND,
            "new",
        );

        let mut list = null_mut();
        assert_eq!(fv_vault_list(vault, c"job/".as_ptr(), &mut list), FV_OK);
        assert_eq!(fv_list_len(list), 2);
        assert_eq!(text(fv_entry_name(fv_list_get(list, 0))), "job/a");
        assert_eq!(fv_entry_expires(fv_list_get(list, 1)), t0 + 100);
        assert!(!fv_entry_has_credential(fv_list_get(list, 1)));
        fv_list_free(list);
        let mut list = null_mut();
        assert_eq!(fv_vault_list(vault, null(), &mut list), FV_OK);
        assert_eq!(fv_list_len(list), 3);
        fv_list_free(list);

        assert_eq!(fv_vault_renew(vault, c"job/a".as_ptr(), 70), FV_OK);
        // A second handle on the same vault whose clock is 60 s later.
        let later = open(dir.path(), t0 + 60);
        let mut e = null_mut();
        assert_eq!(fv_vault_get(later, c"job/a".as_ptr(), &mut e), FV_OK);
        fv_entry_free(e);
        let mut e = null_mut();
        assert_eq!(fv_vault_get(later, c"job/b".as_ptr(), &mut e), FV_OK);
        fv_entry_free(e);
        let much_later = open(dir.path(), t0 + 101);
        for _ in 0..2 {
            let mut e = null_mut();
            fails(
                fv_vault_get(much_later, c"job/b".as_ptr(), &mut e),
                FV_EXPIRED,
                "job/b",
            );
            assert!(e.is_null());
        }
        let mut removed = 99;
        assert_eq!(fv_vault_purge_expired(much_later, &mut removed), FV_OK);
        assert_eq!(
            removed, 2,
            "job/a and job/b: the reads left job/b for the purge"
        );
        fails(
            fv_vault_renew(much_later, c"job/a".as_ptr(), 5),
            FV_NOT_FOUND,
            "job/a",
        );
        assert_eq!(
            fv_vault_put(vault, c"r".as_ptr(), b"r".as_ptr(), 1, 1),
            FV_OK
        );
        fails(
            fv_vault_renew(much_later, c"r".as_ptr(), 5),
            FV_EXPIRED,
            "\"r\" expired",
        );
        assert_eq!(fv_vault_renew(vault, c"other".as_ptr(), 0), FV_OK);
        assert_eq!(fv_vault_delete(vault, c"other".as_ptr()), FV_OK);
        for v in [vault, later, much_later] {
            fv_vault_close(v);
        }
    }
}

/// Every way the C ABI reads `name` answers FV_EXPIRED, and writes no out-param.
///
/// # Safety
/// `vault` is a live handle.
unsafe fn every_read_is_expired(vault: *const fv_vault, name: &std::ffi::CStr) {
    // SAFETY: the caller's live handle; live C string and locals.
    unsafe {
        let mut e = null_mut();
        fails(
            fv_vault_get(vault, name.as_ptr(), &mut e),
            FV_EXPIRED,
            "expired",
        );
        assert!(e.is_null());
        let mut view = std::mem::MaybeUninit::<fv_entry_view>::uninit();
        let size = std::mem::size_of::<fv_entry_view>();
        let r = fv_vault_get_view(vault, name.as_ptr(), &mut e, view.as_mut_ptr(), size);
        fails(r, FV_EXPIRED, "expired");
        assert!(e.is_null());
        fails(
            fv_vault_metadata(vault, name.as_ptr(), &mut e),
            FV_EXPIRED,
            "expired",
        );
        assert!(e.is_null());
    }
}

#[test]
fn two_handles_reading_one_expired_entry_are_both_told_expired() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 2_000_000;
    let writer = create(dir.path(), t0);
    // SAFETY: literals, live locals and live handles.
    unsafe {
        assert_eq!(
            fv_vault_put(writer, c"tok".as_ptr(), b"t".as_ptr(), 1, 10),
            FV_OK
        );
        let a = open(dir.path(), t0 + 10);
        let b = open(dir.path(), t0 + 10);
        for _ in 0..2 {
            every_read_is_expired(a, c"tok");
            every_read_is_expired(b, c"tok");
        }
        // Still stored: listed, and removed by a purge only.
        let mut list = null_mut();
        assert_eq!(fv_vault_list(b, null(), &mut list), FV_OK);
        assert_eq!(fv_list_len(list), 1);
        assert_eq!(fv_entry_expires(fv_list_get(list, 0)), t0 + 10);
        fv_list_free(list);
        let mut removed = 0;
        assert_eq!(fv_vault_purge_expired(a, &mut removed), FV_OK);
        assert_eq!(removed, 1);
        let mut e = null_mut();
        fails(
            fv_vault_get(b, c"tok".as_ptr(), &mut e),
            FV_NOT_FOUND,
            "tok",
        );
        for v in [writer, a, b] {
            fv_vault_close(v);
        }
    }
}

#[test]
fn a_fixed_time_handle_never_removes_entries_live_at_the_system_time() {
    let dir = tempfile::tempdir().unwrap();
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // 0: the system clock.
    let real = create(dir.path(), 0);
    // SAFETY: literals, live locals and live handles.
    unsafe {
        assert_eq!(
            fv_vault_put(real, c"job/a".as_ptr(), b"a".as_ptr(), 1, 3600),
            FV_OK
        );
        let ahead = open(dir.path(), real_now + 7200);
        every_read_is_expired(ahead, c"job/a");
        let mut removed = 99;
        assert_eq!(fv_vault_purge_expired(ahead, &mut removed), FV_OK);
        assert_eq!(removed, 0, "live on the system clock: kept");
        fv_vault_close(ahead);
        let mut e = null_mut();
        assert_eq!(
            fv_vault_get(real, c"job/a".as_ptr(), &mut e),
            FV_OK,
            "{}",
            msg()
        );
        assert_eq!(field(e, fv_field::Secret).unwrap(), b"a");
        fv_entry_free(e);
        fv_vault_close(real);
    }
}

#[test]
fn open_create_key_files_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let key = cpath(&dir.path().join("farm.key"));
    let key2 = cpath(&dir.path().join("second.key"));
    let path = cpath(&dir.path().join("v"));
    // SAFETY: literals, live locals and live handles.
    unsafe {
        assert_eq!(fv_key_file_generate(key.as_ptr()), FV_OK);
        fails(fv_key_file_generate(key.as_ptr()), FV_IO, "farm.key");
        assert_eq!(fv_key_file_generate(key2.as_ptr()), FV_OK);
        let mut v = null_mut();
        fails(
            fv_vault_open_key_file(path.as_ptr(), key.as_ptr(), null(), &mut v),
            FV_NO_VAULT,
            "no vault",
        );
        assert_eq!(
            fv_vault_create_key_file(path.as_ptr(), key.as_ptr(), null(), &mut v),
            FV_OK
        );
        let mut again = null_mut();
        let r = fv_vault_create_key_file(path.as_ptr(), key.as_ptr(), null(), &mut again);
        fails(r, FV_ALREADY_EXISTS, "already exists");
        let r = fv_vault_open_key_file(path.as_ptr(), key2.as_ptr(), null(), &mut again);
        fails(r, FV_WRONG_KEY, "wrong passphrase or key file");
        let r = fv_vault_open_passphrase(path.as_ptr(), b"nope".as_ptr(), 4, null(), &mut again);
        fails(r, FV_WRONG_KEY, "wrong passphrase or key file");
        assert!(again.is_null());

        assert_eq!(fv_vault_put(v, c"a".as_ptr(), b"x".as_ptr(), 1, 0), FV_OK);
        assert_eq!(fv_vault_add_key_file(v, key2.as_ptr()), FV_OK);
        fails(
            fv_vault_add_key_file(v, key2.as_ptr()),
            FV_INVALID_ARGUMENT,
            "already opens",
        );
        let mut opts = null_mut();
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        assert_eq!(fv_options_set_kdf(opts, 8, 1, 1), FV_OK);
        assert_eq!(fv_options_set_lock_timeout_ms(opts, 100), FV_OK);
        let mut v2 = null_mut();
        assert_eq!(
            fv_vault_open_key_file(path.as_ptr(), key2.as_ptr(), opts, &mut v2),
            FV_OK
        );
        assert_eq!(
            fv_vault_change_passphrase(v2, b"new pass".as_ptr(), 8),
            FV_OK
        );
        let mut n = 0;
        fails(
            fv_vault_rotate(v2, 0, &mut n),
            FV_INVALID_ARGUMENT,
            "keyslot",
        );
        assert_eq!(
            fv_vault_rotate(v2, FV_ROTATE_DROP_OTHER_SLOTS, &mut n),
            FV_OK
        );
        assert_eq!(n, 1);
        fv_vault_close(v2);
        fv_vault_close(v);
        let r = fv_vault_open_key_file(path.as_ptr(), key.as_ptr(), opts, &mut v);
        fails(r, FV_WRONG_KEY, "wrong");
        assert_eq!(
            fv_vault_open_key_file(path.as_ptr(), key2.as_ptr(), opts, &mut v),
            FV_OK
        );
        assert_eq!(fv_vault_add_key_file(v, key.as_ptr()), FV_OK);
        assert_eq!(fv_vault_remove_key_file(v, key2.as_ptr()), FV_OK);
        fails(
            fv_vault_remove_key_file(v, key.as_ptr()),
            FV_INVALID_ARGUMENT,
            "only keyslot",
        );
        fv_options_free(opts);
        fv_vault_close(v);
    }
}

#[test]
fn secrets_never_reach_error_messages() {
    const SECRET: &str = "S3CRET-never-in-a-message";
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 0);
    let path = cpath(&dir.path().join("v"));
    let mut seen = Vec::new();
    // SAFETY: literals, live locals and live handles.
    unsafe {
        let s = SECRET.as_bytes();
        assert_eq!(
            fv_vault_put(vault, c"k".as_ptr(), s.as_ptr(), s.len(), 0),
            FV_OK
        );
        let mut v = null_mut();
        let _ = fv_vault_open_passphrase(path.as_ptr(), s.as_ptr(), s.len(), null(), &mut v);
        seen.push(msg());
        let mut c = null_mut();
        let _ = fv_credential_new_script_key(
            c"".as_ptr(),
            c"n".as_ptr(),
            s.as_ptr(),
            s.len(),
            c"u:S3CRET-never-in-a-message@p".as_ptr(),
            &mut c,
        );
        seen.push(msg());
        let mut bad = s.to_vec();
        bad.push(0xff);
        let _ = fv_credential_new_script_key(
            c"h".as_ptr(),
            c"n".as_ptr(),
            bad.as_ptr(),
            bad.len(),
            null(),
            &mut c,
        );
        seen.push(msg());
        let _ = fv_vault_change_passphrase(vault, bad.as_ptr(), bad.len());
        seen.push(msg());
        let _ = fv_vault_put(vault, c"k".as_ptr(), s.as_ptr(), s.len(), u64::MAX);
        seen.push(msg());
        let mut e = null_mut();
        assert_eq!(fv_vault_get(vault, c"k".as_ptr(), &mut e), FV_OK);
        let _ = fv_entry_field(e, fv_field::Host as u32, &mut null_mut());
        seen.push(msg());
        let _ = fv_entry_field(e, 1234, &mut null_mut());
        seen.push(msg());
        fv_entry_free(e);
        fv_entry_free(e);
        seen.push(msg());
        fv_vault_close(vault);
    }
    assert_eq!(seen.len(), 8);
    for m in &seen {
        assert!(!m.is_empty());
        assert!(!m.contains("S3CRET"), "a message carries the secret: {m}");
    }
}

#[test]
fn eight_threads_share_one_handle_and_survive_its_close() {
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 0);
    struct Shared(*mut fv_vault);
    // SAFETY: fv_vault is documented thread-safe; the pointer is only passed to fv_ calls.
    unsafe impl Sync for Shared {}
    let shared = Shared(vault);
    std::thread::scope(|s| {
        for t in 0..8 {
            let shared = &shared;
            s.spawn(move || {
                for i in 0..50 {
                    let name = CString::new(format!("t{t}/{i}")).unwrap();
                    let value = format!("value {t} {i}");
                    // SAFETY: live handle (closed only after the scope), live locals.
                    unsafe {
                        let r =
                            fv_vault_put(shared.0, name.as_ptr(), value.as_ptr(), value.len(), 0);
                        assert_eq!(r, FV_OK, "{}", msg());
                        let mut e = null_mut();
                        assert_eq!(fv_vault_get(shared.0, name.as_ptr(), &mut e), FV_OK);
                        assert_eq!(field(e, fv_field::Secret).unwrap(), value.as_bytes());
                        fv_entry_free(e);
                    }
                }
            });
        }
    });
    let mut list = null_mut();
    // SAFETY: live handle and local.
    unsafe {
        assert_eq!(fv_vault_list(vault, null(), &mut list), FV_OK);
        assert_eq!(fv_list_len(list), 400);
        fv_list_free(list);
    }
    // Close while readers are running: they finish or see a closed handle, never UB.
    std::thread::scope(|s| {
        for _ in 0..8 {
            let shared = &shared;
            s.spawn(move || loop {
                let mut e = null_mut();
                // SAFETY: the registry vouches for the handle before any dereference.
                match unsafe { fv_vault_get(shared.0, c"t0/0".as_ptr(), &mut e) } {
                    FV_OK => unsafe { fv_entry_free(e) },
                    FV_INVALID_ARGUMENT => {
                        assert!(msg().contains("closed or invalid"));
                        break;
                    }
                    other => panic!("{other:?}: {}", msg()),
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        // SAFETY: closed exactly once.
        unsafe { fv_vault_close(shared.0) };
    });
}

/// Per-call cost of the ABI against the Rust API on the same vault and entry.
#[test]
#[ignore = "a measurement; run with --release --ignored --nocapture"]
fn per_call_overhead() {
    use std::time::Instant;
    const N: u32 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 0);
    // SAFETY: live handle and literals.
    unsafe {
        let key = b"0123456789abcdef0123456789abcdef";
        assert_eq!(
            fv_vault_put(vault, c"bench".as_ptr(), key.as_ptr(), key.len(), 0),
            FV_OK
        );
        fv_vault_close(vault);
    }
    let rust = farmvault::Config::new(dir.path().join("v"))
        .open(&farmvault::Unlock::passphrase("pw"))
        .unwrap();
    let c = open(dir.path(), 0);
    for _ in 0..1000 {
        rust.get("bench").unwrap();
    }
    let t = Instant::now();
    for _ in 0..N {
        let e = rust.get("bench").unwrap();
        std::hint::black_box(e.credential.secret());
    }
    let rust_ns = t.elapsed().as_nanos() as f64 / f64::from(N);
    let t = Instant::now();
    for _ in 0..N {
        let mut e = null_mut();
        let mut s = null_mut();
        // SAFETY: live handle, literals, locals; each entry and secret freed once.
        unsafe {
            assert_eq!(fv_vault_get(c, c"bench".as_ptr(), &mut e), FV_OK);
            assert_eq!(fv_entry_field(e, fv_field::Secret as u32, &mut s), FV_OK);
            std::hint::black_box(fv_secret_data(s));
            fv_secret_free(s);
            fv_entry_free(e);
        }
    }
    let c_ns = t.elapsed().as_nanos() as f64 / f64::from(N);
    let mut e = null_mut();
    // SAFETY: live handle, literal, local.
    assert_eq!(unsafe { fv_vault_get(c, c"bench".as_ptr(), &mut e) }, FV_OK);
    let t = Instant::now();
    for _ in 0..N {
        // SAFETY: a live entry: this times the boundary and one registry lookup.
        std::hint::black_box(unsafe { fv_entry_kind(e) });
    }
    let lookup_ns = t.elapsed().as_nanos() as f64 / f64::from(N);
    // SAFETY: freed once.
    unsafe { fv_entry_free(e) };
    // The registry's read lock under contention: 8 threads, each on its own entry.
    struct Owned(*mut fv_entry);
    // SAFETY: each entry is used by exactly one thread, as the header requires.
    unsafe impl Send for Owned {}
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let mut e = null_mut();
            // SAFETY: live handle, literal, local.
            assert_eq!(unsafe { fv_vault_get(c, c"bench".as_ptr(), &mut e) }, FV_OK);
            let e = Owned(e);
            s.spawn(move || {
                let e = e;
                for _ in 0..N {
                    // SAFETY: this thread's own live entry.
                    std::hint::black_box(unsafe { fv_entry_kind(e.0) });
                }
                // SAFETY: freed once, by its only user.
                unsafe { fv_entry_free(e.0) };
            });
        }
    });
    let contended_ns = t.elapsed().as_nanos() as f64 / f64::from(N);
    println!(
        "Vault::get {rust_ns:.0} ns/call; fv_vault_get + fv_entry_field + frees {c_ns:.0} ns/call; \
         overhead {:.0} ns ({:.1}%); an accessor (boundary + registry lookup) {lookup_ns:.0} ns; \
         8 threads each making N accessor calls at once: {contended_ns:.0} ns per round",
        c_ns - rust_ns,
        (c_ns - rust_ns) / rust_ns * 100.0
    );
    // SAFETY: closed once.
    unsafe { fv_vault_close(c) };
}

/// The fields of a view, as bytes, for comparing two views of one entry.
fn view_bytes(v: &fv_entry_view) -> Vec<(fv_field, Option<Vec<u8>>)> {
    view_fields(v).into_iter().collect()
}

#[test]
fn entry_views_of_every_kind_match_the_accessors() {
    let dir = tempfile::tempdir().unwrap();
    let vault = create(dir.path(), 1_000_000);
    let size = std::mem::size_of::<fv_entry_view>();
    // SAFETY: literals, live locals and live handles; every handle is freed once, and
    // the views are read before their entries are freed.
    unsafe {
        let put = |name: &std::ffi::CStr, cred: *mut fv_credential, ttl: u64| {
            assert_eq!(
                fv_vault_put_credential(vault, name.as_ptr(), cred, ttl),
                FV_OK,
                "{}",
                msg()
            );
            fv_credential_free(cred);
        };
        assert_eq!(
            fv_vault_put(vault, c"blob".as_ptr(), b"\x00\x01\xff".as_ptr(), 3, 0),
            FV_OK
        );
        let mut c = null_mut();
        let r = fv_credential_new_script_key(
            c"https://site.example".as_ptr(),
            c"render_farm".as_ptr(),
            b"0123456789abcdef".as_ptr(),
            16,
            c"user:pw@proxy:3128".as_ptr(),
            &mut c,
        );
        assert_eq!(r, FV_OK);
        put(c"sk", c, 3600);
        let r = fv_credential_new_session_token(
            c"https://site.example".as_ptr(),
            c"jdoe".as_ptr(),
            b"tok-123".as_ptr(),
            7,
            c"proxy:8080".as_ptr(),
            c"c2Vzc2lvbg==".as_ptr(),
            &mut c,
        );
        assert_eq!(r, FV_OK);
        put(c"st", c, 0);
        let r = fv_credential_new_session_token(
            c"https://site.example".as_ptr(),
            c"jdoe".as_ptr(),
            b"tok-456".as_ptr(),
            7,
            null(),
            null(),
            &mut c,
        );
        assert_eq!(r, FV_OK);
        put(c"st-bare", c, 0);
        let r = fv_credential_new_login_password(
            c"https://site.example".as_ptr(),
            c"jdoe".as_ptr(),
            b"hunter2".as_ptr(),
            7,
            null(),
            &mut c,
        );
        assert_eq!(r, FV_OK);
        put(c"lp", c, 60);
        // A context shows its user's fields; a Flow pair its access token as the secret.
        let context = br#"{"_pc_path": "/p", "_current_user": "{\"type\": \"ScriptUser\", \"data\": {\"host\": \"https://site.example\", \"api_script\": \"farm\", \"api_key\": \"k3y\"}}"}"#;
        let r = fv_sgtk_parse_payload(context.as_ptr(), context.len(), &mut c);
        assert_eq!(r, FV_OK, "{}", msg());
        put(c"ctx", c, 0);
        let r = fv_credential_new_flow_token(
            c"APP".as_ptr(),
            c"jdoe".as_ptr(),
            b"a.b.c".as_ptr(),
            5,
            b"rt".as_ptr(),
            2,
            &mut c,
        );
        assert_eq!(r, FV_OK);
        put(c"flow", c, 0);

        let expected: [(&std::ffi::CStr, fv_kind, &[u8], u64); 7] = [
            (c"blob", fv_kind::Opaque, b"\x00\x01\xff", 0),
            (c"sk", fv_kind::ScriptKey, b"0123456789abcdef", 1_003_600),
            (c"st", fv_kind::SessionToken, b"tok-123", 0),
            (c"st-bare", fv_kind::SessionToken, b"tok-456", 0),
            (c"lp", fv_kind::LoginPassword, b"hunter2", 1_000_060),
            (c"ctx", fv_kind::TankContext, b"k3y", 0),
            (c"flow", fv_kind::FlowToken, b"a.b.c", 0),
        ];
        for (name, kind, secret, expires) in expected {
            let mut entry = null_mut();
            assert_eq!(fv_vault_get(vault, name.as_ptr(), &mut entry), FV_OK);
            let v = checked_view(entry);
            assert_eq!(v.kind, kind as u32);
            assert!(v.has_credential);
            assert_eq!(bytes_of(v.name).unwrap(), name.to_bytes());
            assert_eq!(bytes_of(v.secret).unwrap(), secret);
            assert_eq!(
                (v.created, v.updated, v.expires),
                (1_000_000, 1_000_000, expires)
            );

            // The one-call get: the same view, of a new entry of its own.
            let mut again = null_mut();
            let mut v2 = std::mem::MaybeUninit::<fv_entry_view>::uninit();
            let r = fv_vault_get_view(vault, name.as_ptr(), &mut again, v2.as_mut_ptr(), size);
            assert_eq!(r, FV_OK, "{}", msg());
            let v2 = v2.assume_init();
            assert!(!again.is_null() && again != entry);
            assert_eq!(v2.secret.data, fv_entry_get_secret_data(again));
            assert_eq!(view_bytes(&v2), view_bytes(&checked_view(again)));
            assert_eq!(view_bytes(&v2), view_bytes(&v));
            assert_eq!(
                (v2.kind, v2.created, v2.expires),
                (v.kind, v.created, v.expires)
            );
            fv_entry_free(again);
            fv_entry_free(entry);
        }
        // Spot checks of fields the loop compares only with the accessors.
        let mut entry = null_mut();
        assert_eq!(fv_vault_get(vault, c"st".as_ptr(), &mut entry), FV_OK);
        let v = checked_view(entry);
        assert_eq!(bytes_of(v.session_metadata).unwrap(), b"c2Vzc2lvbg==");
        assert_eq!(bytes_of(v.http_proxy).unwrap(), b"proxy:8080");
        assert_eq!(bytes_of(v.login).unwrap(), b"jdoe");
        assert_eq!(bytes_of(v.api_key), None);
        assert_eq!(bytes_of(v.password), None);
        fv_entry_free(entry);
        let mut entry = null_mut();
        assert_eq!(fv_vault_get(vault, c"blob".as_ptr(), &mut entry), FV_OK);
        let v = checked_view(entry);
        assert_eq!(bytes_of(v.host), None);
        assert!(view_fields(&v)
            .iter()
            .all(|(f, b)| (*f == fv_field::Secret) == b.is_some()));
        fv_entry_free(entry);

        // Metadata only: name, host and times, no field.
        let mut meta = null_mut();
        assert_eq!(fv_vault_metadata(vault, c"sk".as_ptr(), &mut meta), FV_OK);
        let v = checked_view(meta);
        assert!(!v.has_credential);
        assert_eq!(v.kind, fv_kind::ScriptKey as u32);
        assert_eq!(bytes_of(v.host).unwrap(), b"https://site.example");
        assert!(view_fields(&v)
            .iter()
            .all(|(f, b)| (*f == fv_field::Host) == b.is_some()));
        fv_entry_free(meta);

        // Entries of a list, borrowed from it.
        let mut list = null_mut();
        assert_eq!(fv_vault_list(vault, null(), &mut list), FV_OK);
        let names: Vec<Vec<u8>> = (0..fv_list_len(list))
            .map(|i| bytes_of(checked_view(fv_list_get(list, i)).name).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                &b"blob"[..],
                b"ctx",
                b"flow",
                b"lp",
                b"sk",
                b"st",
                b"st-bare"
            ]
        );
        fv_list_free(list);
        fv_vault_close(vault);
    }
}

/// The address of the secret as `fv_entry_field` does not show it: through a view.
unsafe fn fv_entry_get_secret_data(entry: *const fv_entry) -> *const u8 {
    let mut v = std::mem::MaybeUninit::<fv_entry_view>::uninit();
    let size = std::mem::size_of::<fv_entry_view>();
    // SAFETY: the caller's live entry; a local of the size passed.
    unsafe {
        assert_eq!(fv_entry_get_view(entry, v.as_mut_ptr(), size), FV_OK);
        v.assume_init().secret.data
    }
}

#[test]
fn entry_view_arguments_are_checked_and_outputs_untouched_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 3_000_000;
    let vault = create(dir.path(), t0);
    let size = std::mem::size_of::<fv_entry_view>();
    // A buffer larger than the view, aligned for it, to see what is written where.
    #[repr(C, align(8))]
    struct Buf([u8; 512]);
    let inv = FV_INVALID_ARGUMENT;
    // SAFETY: NULLs, literals, live locals and live handles; the closed and foreign
    // handles passed below are never dereferenced by a correct library.
    unsafe {
        assert_eq!(
            fv_vault_put(vault, c"a".as_ptr(), b"secret".as_ptr(), 6, 10),
            FV_OK
        );
        let mut entry = null_mut();
        assert_eq!(fv_vault_get(vault, c"a".as_ptr(), &mut entry), FV_OK);
        let mut buf = Buf([0xaa; 512]);
        let view = buf.0.as_mut_ptr().cast::<fv_entry_view>();
        let untouched = |buf: &Buf| buf.0.iter().all(|&b| b == 0xaa);

        fails(fv_entry_get_view(null(), view, size), inv, "entry is NULL");
        fails(
            fv_entry_get_view(entry, null_mut(), size),
            inv,
            "view_out is NULL",
        );
        for bad in [0, 8, size - 1, 4097, usize::MAX] {
            fails(
                fv_entry_get_view(entry, view, bad),
                inv,
                &format!("view_size is {bad}"),
            );
        }
        fails(
            fv_entry_get_view(entry, buf.0.as_mut_ptr().add(1).cast(), size),
            inv,
            "view_out is not aligned",
        );
        fails(
            fv_entry_get_view(vault.cast(), view, size),
            inv,
            "expected an fv_entry, got an fv_vault",
        );
        assert!(untouched(&buf), "out-params are written only on success");

        // A caller whose header has a larger view: the library fills its own and
        // zeroes the rest, and says how much it filled.
        assert_eq!(fv_entry_get_view(entry, view, size + 40), FV_OK);
        assert_eq!((*view).size, size);
        assert_eq!(bytes_of((*view).secret).unwrap(), b"secret");
        assert!(
            buf.0[size..size + 40].iter().all(|&b| b == 0),
            "the tail is zeroed"
        );
        assert!(
            buf.0[size + 40..].iter().all(|&b| b == 0xaa),
            "nothing past view_size"
        );
        assert_eq!(
            fv_entry_get_view(entry, view, 512),
            FV_OK,
            "the whole buffer"
        );

        fv_entry_free(entry);
        let mut buf = Buf([0xaa; 512]);
        let view = buf.0.as_mut_ptr().cast::<fv_entry_view>();
        fails(
            fv_entry_get_view(entry, view, size),
            inv,
            "entry: fv_entry handle is closed or invalid",
        );

        // fv_vault_get_view: the arguments are checked before anything is read.
        let mut e = null_mut();
        fails(
            fv_vault_get_view(null(), c"a".as_ptr(), &mut e, view, size),
            inv,
            "vault is NULL",
        );
        fails(
            fv_vault_get_view(vault, null(), &mut e, view, size),
            inv,
            "name is NULL",
        );
        fails(
            fv_vault_get_view(vault, c"a".as_ptr(), null_mut(), view, size),
            inv,
            "entry_out is NULL",
        );
        fails(
            fv_vault_get_view(vault, c"a".as_ptr(), &mut e, null_mut(), size),
            inv,
            "view_out is NULL",
        );
        fails(
            fv_vault_get_view(vault, c"a".as_ptr(), &mut e, view, size - 8),
            inv,
            "view_size is",
        );
        fails(
            fv_vault_get_view(vault, c"missing".as_ptr(), &mut e, view, size),
            FV_NOT_FOUND,
            "\"missing\"",
        );
        fails(
            fv_vault_get_view(entry.cast(), c"a".as_ptr(), &mut e, view, size),
            inv,
            "closed or invalid",
        );
        // Expired, through a second handle whose clock is later.
        let later = open(dir.path(), t0 + 11);
        fails(
            fv_vault_get_view(later, c"a".as_ptr(), &mut e, view, size),
            FV_EXPIRED,
            "\"a\"",
        );
        fv_vault_close(later);
        assert!(
            e.is_null() && untouched(&buf),
            "out-params are written only on success"
        );
        fv_vault_close(vault);
        fails(
            fv_vault_get_view(vault, c"a".as_ptr(), &mut e, view, size),
            inv,
            "vault: fv_vault handle is closed or invalid",
        );
        assert!(e.is_null() && untouched(&buf));
    }
}

/// A vault directory or key file another user could read or replace is refused
/// (FV_INVALID_ARGUMENT, the message naming the path, what is wrong and the fix)
/// unless `fv_options_set_allow_insecure_permissions` allows it; false refuses
/// again.
#[cfg(unix)]
#[test]
fn insecure_permissions_are_refused_unless_the_options_allow_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let vault_dir = dir.path().join("v");
    let path = cpath(&vault_dir);
    let key = dir.path().join("farm.key");
    let key_c = cpath(&key);
    let link = dir.path().join("link.key");
    let link_c = cpath(&link);
    let opts = options(0);
    // SAFETY: live C strings, out-params and handles.
    unsafe {
        assert_eq!(fv_key_file_generate(key_c.as_ptr()), FV_OK);
        let mut v = null_mut();
        let r = fv_vault_create_key_file(path.as_ptr(), key_c.as_ptr(), opts, &mut v);
        assert_eq!(r, FV_OK, "{}", msg());
        fv_vault_close(v);
        v = null_mut();

        // A directory open to others.
        std::fs::set_permissions(&vault_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let fix = format!("chmod 700 {}", vault_dir.display());
        let r = fv_vault_open_key_file(path.as_ptr(), key_c.as_ptr(), opts, &mut v);
        fails(r, FV_INVALID_ARGUMENT, &fix);
        assert!(msg().contains("(mode 0777)"), "{}", msg());
        assert!(v.is_null());
        let r = fv_vault_open_key_file(path.as_ptr(), key_c.as_ptr(), null(), &mut v);
        fails(r, FV_INVALID_ARGUMENT, &fix);
        assert_eq!(fv_options_set_allow_insecure_permissions(opts, true), FV_OK);
        let r = fv_vault_open_key_file(path.as_ptr(), key_c.as_ptr(), opts, &mut v);
        assert_eq!(r, FV_OK, "{}", msg());
        fv_vault_close(v);
        // The open made it private again; loosen it and go back to refusing.
        std::fs::set_permissions(&vault_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(
            fv_options_set_allow_insecure_permissions(opts, false),
            FV_OK
        );
        let r = fv_vault_open_key_file(path.as_ptr(), key_c.as_ptr(), opts, &mut v);
        fails(r, FV_INVALID_ARGUMENT, &fix);
        std::fs::set_permissions(&vault_dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        // A key file behind a symbolic link: refused naming the link.
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let r = fv_vault_open_key_file(path.as_ptr(), link_c.as_ptr(), opts, &mut v);
        fails(
            r,
            FV_INVALID_ARGUMENT,
            &format!("key file {} is a symbolic link", link.display()),
        );
        assert_eq!(fv_options_set_allow_insecure_permissions(opts, true), FV_OK);
        let r = fv_vault_open_key_file(path.as_ptr(), link_c.as_ptr(), opts, &mut v);
        assert_eq!(r, FV_OK, "{}", msg());
        fv_vault_close(v);

        fails(
            fv_options_set_allow_insecure_permissions(null_mut(), true),
            FV_INVALID_ARGUMENT,
            "opts is NULL",
        );
        fv_options_free(opts);
    }
}

/// `fv_vault_upgraded_from` reports the upgrade of a vault written by 0.1.0 once,
/// and `fv_vault_clock_behind` stays 0 on a machine whose clock is right.
#[cfg(unix)]
#[test]
fn an_upgrade_from_0_1_0_and_a_clock_behind_are_reported() {
    let tmp = crate::files::unpack_fixture("vault-0.1.0.tar.gz");
    let path = cpath(&tmp.path().join("vault"));
    let key = cpath(&tmp.path().join("farm.key"));
    let open_and_report = || {
        let mut v = null_mut();
        let (mut from, mut behind) = (u16::MAX, u64::MAX);
        // SAFETY: live C strings and out-params; `v` is the handle returned, closed once.
        unsafe {
            assert_eq!(
                fv_vault_open_key_file(path.as_ptr(), key.as_ptr(), null(), &mut v),
                FV_OK,
                "{}",
                msg()
            );
            assert_eq!(fv_vault_upgraded_from(v, &mut from), FV_OK);
            assert_eq!(fv_vault_clock_behind(v, &mut behind), FV_OK);
            assert_eq!(fv_vault_upgraded_from(v, null_mut()), FV_INVALID_ARGUMENT);
            fv_vault_close(v);
        }
        (from, behind)
    };
    assert_eq!(open_and_report(), (1, 0));
    assert_eq!(open_and_report(), (0, 0));
    assert_eq!(FV_CLOCK_BEHIND_TOLERANCE_SECS, 300);
}
