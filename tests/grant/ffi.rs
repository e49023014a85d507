//! `fv_grant_open` and `fv_grant_use_window` called directly from Rust: a job grant as a
//! read-only `fv_vault`, and when its use window started and ends.
//!
//! `fv_grant_open` measures a grant's windows on the system clock and checks its host
//! pattern against this machine's hostname, whatever the options say, so grants are
//! issued with the Rust API on the fixture's driven clock set near now (`ffi_windows.rs`
//! covers the clocks, the host pattern and the refused options). The exported
//! functions are `unsafe extern "C"`, so every call sits in an `unsafe` block; the
//! pointers passed are NULL, literals, live locals or handles the library returned.
//! `tests/c/` runs the same ground from C, under valgrind. The helpers here serve both
//! files.

use crate::ffi_support::*;
use crate::support::*;
use farmvault::ffi::fv_result::{self, *};
use farmvault::ffi::*;
use farmvault::{Clock, SecretString, SystemClock};
use std::ffi::{c_char, CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};

pub(crate) const HOUR: u64 = 3600;

/// The system clock, in Unix seconds.
pub(crate) fn wall() -> u64 {
    SystemClock.now().secs()
}

pub(crate) fn ctext(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

pub(crate) fn ctoken(t: &SecretString) -> CString {
    ctext(t.expose())
}

/// Options recording first opens on `machine` of the fixture (its own state directory).
pub(crate) fn options(f: &Fixture, machine: &str) -> *mut fv_options {
    let state = cpath(&f.path(&format!("state-{machine}")));
    let mut opts = null_mut();
    // SAFETY: out-param and strings are live locals; `opts` is the handle just returned.
    unsafe {
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        assert_eq!(fv_options_set_state_dir(opts, state.as_ptr()), FV_OK);
    }
    opts
}

/// `fv_grant_open` with optional token and identity; the handle or the failure code.
pub(crate) fn open(
    bundle: &Path,
    token: Option<&CString>,
    identity: Option<&Path>,
    opts: *const fv_options,
) -> Result<*mut fv_vault, fv_result> {
    let bundle = cpath(bundle);
    let identity = identity.map(cpath);
    let mut out = null_mut();
    // SAFETY: live C strings or NULL, a live (or NULL) options handle, a live out-param.
    let r = unsafe {
        fv_grant_open(
            bundle.as_ptr(),
            token.map_or(null(), |t| t.as_ptr()),
            identity.as_ref().map_or(null(), |p| p.as_ptr()),
            opts,
            &mut out,
        )
    };
    match r {
        FV_OK => Ok(out),
        other => {
            assert!(out.is_null(), "out-params are written only on success");
            Err(other)
        }
    }
}

/// Opens now on `machine` (a render node), frees the options.
pub(crate) fn open_on(
    f: &Fixture,
    bundle: &Path,
    token: Option<&CString>,
    identity: Option<&Path>,
    machine: &str,
) -> Result<*mut fv_vault, fv_result> {
    let opts = options(f, machine);
    let r = open(bundle, token, identity, opts);
    // SAFETY: `opts` is live and freed once.
    unsafe { fv_options_free(opts) };
    r
}

/// One text field of the entry `name` read through `vault`.
pub(crate) fn read_field(
    vault: *const fv_vault,
    name: &str,
    f: fv_field,
) -> Result<String, fv_result> {
    let name = ctext(name);
    let mut entry = null_mut();
    // SAFETY: live handle, string and out-param; the entry is freed once.
    unsafe {
        match fv_vault_get(vault, name.as_ptr(), &mut entry) {
            FV_OK => {}
            other => return Err(other),
        }
        let value = field(entry, f);
        fv_entry_free(entry);
        Ok(String::from_utf8(value?).unwrap())
    }
}

pub(crate) fn close(vault: *mut fv_vault) {
    // SAFETY: a live handle from fv_grant_open, closed once.
    unsafe { fv_vault_close(vault) };
}

#[test]
fn a_token_grant_reads_like_a_vault() {
    let f = Fixture::at(wall());
    let issued = f.issue(&f.spec("job.fvg").entry("shotgun/"));
    let token = ctoken(issued.token.as_ref().unwrap());
    let g = open_on(&f, &issued.path, Some(&token), None, "a").unwrap();
    let (_, use_until) = use_window(g).unwrap();

    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    assert_eq!(
        read_field(g, RENDER, fv_field::ScriptName).unwrap(),
        "render_farm"
    );
    assert_eq!(read_field(g, RENDER, fv_field::Host).unwrap(), SITE);
    assert_eq!(
        read_field(g, ARTIST, fv_field::SessionToken).unwrap(),
        ARTIST_TOKEN
    );
    // Entries outside the grant are not found, by the same name as in the vault.
    assert_eq!(read_field(g, OTHER, fv_field::Secret), Err(FV_NOT_FOUND));
    assert!(msg().contains(OTHER), "{}", msg());

    let render = ctext(RENDER);
    let other = ctext(OTHER);
    // SAFETY: live handle, strings and out-params; everything returned is freed once.
    unsafe {
        let mut entry = null_mut();
        assert_eq!(fv_vault_metadata(g, render.as_ptr(), &mut entry), FV_OK);
        assert!(!fv_entry_has_credential(entry));
        assert_eq!(fv_entry_kind(entry), fv_kind::ScriptKey as u32);
        // Inside a grant an entry expires at the end of the use window at the latest.
        assert_eq!(fv_entry_expires(entry), use_until);
        assert_eq!(fv_entry_created(entry), f.t0);
        fv_entry_free(entry);
        // The one-call read, as the Python package makes it: the same fields, and the
        // same expiry at the end of the use window.
        let mut entry = null_mut();
        let mut view = std::mem::MaybeUninit::<fv_entry_view>::uninit();
        let size = std::mem::size_of::<fv_entry_view>();
        let r = fv_vault_get_view(g, render.as_ptr(), &mut entry, view.as_mut_ptr(), size);
        assert_eq!(r, FV_OK, "{}", msg());
        let view = view.assume_init();
        assert_eq!(bytes_of(view.api_key).unwrap(), RENDER_KEY.as_bytes());
        assert_eq!(bytes_of(view.host).unwrap(), SITE.as_bytes());
        assert_eq!(view.expires, use_until);
        let checked = checked_view(entry);
        assert_eq!(view_fields(&checked), view_fields(&view));
        fv_entry_free(entry);
        let mut entry = null_mut();
        let mut view = std::mem::MaybeUninit::<fv_entry_view>::uninit();
        fails(
            fv_vault_get_view(g, other.as_ptr(), &mut entry, view.as_mut_ptr(), size),
            FV_NOT_FOUND,
            OTHER,
        );
        assert!(entry.is_null());
        let mut entry = null_mut();
        fails(
            fv_vault_metadata(g, other.as_ptr(), &mut entry),
            FV_NOT_FOUND,
            OTHER,
        );

        let mut list = null_mut();
        assert_eq!(fv_vault_list(g, null(), &mut list), FV_OK);
        let names: Vec<String> = (0..fv_list_len(list))
            .map(|i| {
                let e = fv_list_get(list, i);
                CStr::from_ptr(fv_entry_name(e))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        fv_list_free(list);
        let mut expected = vec![ARTIST, PUBLISH, RENDER];
        expected.sort();
        assert_eq!(names, expected);
        let mut list = null_mut();
        assert_eq!(
            fv_vault_list(g, c"ftrack/".as_ptr(), &mut list),
            FV_OK,
            "{}",
            msg()
        );
        assert_eq!(fv_list_len(list), 0);
        fv_list_free(list);
    }
    close(g);
}

#[test]
fn every_write_on_a_grant_is_read_only() {
    let f = Fixture::at(wall());
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = ctoken(issued.token.as_ref().unwrap());
    let g = open_on(&f, &issued.path, Some(&token), None, "a").unwrap();
    let key = f.path("some.key");
    farmvault::KeyFile::generate()
        .unwrap()
        .write_new(&key)
        .unwrap();
    let key = cpath(&key);
    let home = cpath(&f.path("shotgun_home"));
    std::fs::create_dir(f.path("shotgun_home")).unwrap();
    let name = ctext(RENDER);
    let label = "job-4711";
    // SAFETY: live handle, strings and out-params; everything returned is freed once.
    unsafe {
        let mut cred = null_mut();
        assert_eq!(fv_credential_new_opaque(b"x".as_ptr(), 1, &mut cred), FV_OK);
        let mut batch = null_mut();
        assert_eq!(fv_batch_new(&mut batch), FV_OK);
        assert_eq!(fv_batch_delete(batch, name.as_ptr()), FV_OK);
        let mut n = 7u64;
        let mut imported = null_mut();
        let writes: Vec<(&str, fv_result)> = vec![
            ("put", fv_vault_put(g, name.as_ptr(), b"x".as_ptr(), 1, 0)),
            (
                "put_credential",
                fv_vault_put_credential(g, name.as_ptr(), cred, 0),
            ),
            ("delete", fv_vault_delete(g, name.as_ptr())),
            ("renew", fv_vault_renew(g, name.as_ptr(), 60)),
            ("purge_expired", fv_vault_purge_expired(g, &mut n)),
            ("apply", fv_vault_apply(g, batch)),
            (
                "change_passphrase",
                fv_vault_change_passphrase(g, b"pw2".as_ptr(), 3),
            ),
            ("add_key_file", fv_vault_add_key_file(g, key.as_ptr())),
            ("remove_key_file", fv_vault_remove_key_file(g, key.as_ptr())),
            ("rotate", fv_vault_rotate(g, 0, &mut n)),
            (
                "sgtk_import_session_cache",
                fv_sgtk_import_session_cache(g, home.as_ptr(), null(), 0, 0, &mut imported, &mut n),
            ),
        ];
        for (what, code) in writes {
            assert_eq!(code, FV_READ_ONLY, "{what}: {}", msg());
        }
        let m = msg();
        assert!(
            m.contains("only reads") && m.contains(label) && m.contains("job grant"),
            "{m}"
        );
        assert_eq!(n, 7, "out-params are written only on success");
        assert!(imported.is_null());
        fv_batch_free(batch);
        fv_credential_free(cred);
    }
    // The grant still reads, and the issuing vault was not touched.
    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    close(g);
    assert!(f.vault.get(RENDER).is_ok());
}

#[test]
fn wrong_missing_or_malformed_material_is_refused_without_showing_it() {
    let f = Fixture::at(wall());
    let (identity, public) = f.identity("farm.id");
    let (other_identity, _) = f.identity("other.id");
    let token_grant = f.issue(&f.spec("token.fvg").entry(RENDER));
    let token = token_grant.token.clone().unwrap();
    let both = f.issue(
        &f.spec("both.fvg")
            .entry(RENDER)
            .recipient(public.clone())
            .require_both(true),
    );
    let both_token = both.token.clone().unwrap();
    let rcpt = f.issue(
        &f.spec("rcpt.fvg")
            .entry(RENDER)
            .recipient(public)
            .token(false),
    );
    assert!(rcpt.token.is_none());

    // Wrong token (same grant id, wrong secret), another grant's token.
    let wrong = ctoken(&altered_token(&token));
    assert_eq!(
        open_on(&f, &token_grant.path, Some(&wrong), None, "a"),
        Err(FV_WRONG_KEY)
    );
    let m = msg();
    assert!(m.contains("token.fvg") && !m.contains("fvg1_"), "{m}");
    assert_eq!(
        open_on(&f, &token_grant.path, Some(&ctoken(&both_token)), None, "a"),
        Err(FV_WRONG_KEY)
    );
    // Identity only; the wrong identity; a missing half of --require-both.
    let g = open_on(&f, &rcpt.path, None, Some(&identity), "a").unwrap();
    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    close(g);
    assert_eq!(
        open_on(&f, &rcpt.path, None, Some(&other_identity), "b"),
        Err(FV_WRONG_KEY)
    );
    assert_eq!(
        open_on(&f, &both.path, Some(&ctoken(&both_token)), None, "b"),
        Err(FV_WRONG_KEY)
    );
    assert_eq!(
        open_on(&f, &both.path, None, Some(&identity), "b"),
        Err(FV_WRONG_KEY)
    );
    let g = open_on(
        &f,
        &both.path,
        Some(&ctoken(&both_token)),
        Some(&identity),
        "b",
    )
    .unwrap();
    assert_eq!(read_field(g, RENDER, fv_field::ApiKey).unwrap(), RENDER_KEY);
    close(g);

    // Malformed, empty, neither: InvalidArgument, and the bad text is never echoed.
    let malformed = ctext("fvg1_SECRETLOOKINGTEXT-not-a-token");
    assert_eq!(
        open_on(&f, &token_grant.path, Some(&malformed), None, "a"),
        Err(FV_INVALID_ARGUMENT)
    );
    let m = msg();
    assert!(
        m.contains("malformed") && !m.contains("SECRETLOOKING"),
        "{m}"
    );
    assert_eq!(
        open_on(&f, &token_grant.path, Some(&ctext("")), None, "a"),
        Err(FV_INVALID_ARGUMENT)
    );
    assert!(msg().contains("token is empty"), "{}", msg());
    assert_eq!(
        open_on(&f, &token_grant.path, None, None, "a"),
        Err(FV_INVALID_ARGUMENT)
    );
    assert!(msg().contains("both NULL"), "{}", msg());
    // A missing bundle and a missing identity file are I/O errors naming the file.
    assert_eq!(
        open_on(&f, &f.path("nope.fvg"), Some(&ctoken(&token)), None, "a"),
        Err(FV_IO)
    );
    assert!(msg().contains("nope.fvg"), "{}", msg());
    assert_eq!(
        open_on(&f, &rcpt.path, None, Some(&f.path("nope.id")), "a"),
        Err(FV_IO)
    );
    assert!(
        !f.path("state-a")
            .join(token_grant.info.id.to_hex())
            .exists(),
        "no refused open records a first open"
    );
}

#[test]
fn null_and_bad_arguments() {
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = ctoken(issued.token.as_ref().unwrap());
    let bundle = cpath(&issued.path);
    let not_utf8 = [b'f', b'v', 0xff, 0];
    // SAFETY: NULLs, literals and live locals only.
    unsafe {
        let mut out = null_mut();
        fails(
            fv_grant_open(null(), token.as_ptr(), null(), null(), &mut out),
            FV_INVALID_ARGUMENT,
            "bundle_path is NULL",
        );
        fails(
            fv_grant_open(c"".as_ptr(), token.as_ptr(), null(), null(), &mut out),
            FV_INVALID_ARGUMENT,
            "bundle_path is empty",
        );
        fails(
            fv_grant_open(bundle.as_ptr(), token.as_ptr(), null(), null(), null_mut()),
            FV_INVALID_ARGUMENT,
            "out is NULL",
        );
        fails(
            fv_grant_open(
                bundle.as_ptr(),
                not_utf8.as_ptr().cast::<c_char>(),
                null(),
                null(),
                &mut out,
            ),
            FV_INVALID_ARGUMENT,
            "token is not valid UTF-8",
        );
        fails(
            fv_grant_open(bundle.as_ptr(), null(), c"".as_ptr(), null(), &mut out),
            FV_INVALID_ARGUMENT,
            "identity_path is empty",
        );
        assert!(out.is_null());

        fails(
            fv_options_set_state_dir(null_mut(), c"/tmp".as_ptr()),
            FV_INVALID_ARGUMENT,
            "opts is NULL",
        );
        fails(
            fv_options_set_hostname(null_mut(), c"h".as_ptr()),
            FV_INVALID_ARGUMENT,
            "opts is NULL",
        );
        let mut opts = null_mut();
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        fails(
            fv_options_set_hostname(opts, c"".as_ptr()),
            FV_INVALID_ARGUMENT,
            "hostname is empty",
        );
        let long = ctext(&"h".repeat(254));
        fails(
            fv_options_set_hostname(opts, long.as_ptr()),
            FV_INVALID_ARGUMENT,
            "longer than 253 bytes",
        );
        fails(
            fv_options_set_state_dir(opts, c"".as_ptr()),
            FV_INVALID_ARGUMENT,
            "dir is empty",
        );
        // NULL resets either to its default.
        assert_eq!(fv_options_set_state_dir(opts, null()), FV_OK);
        assert_eq!(fv_options_set_hostname(opts, null()), FV_OK);
        fv_options_free(opts);
        fails(
            fv_options_set_hostname(opts, c"h".as_ptr()),
            FV_INVALID_ARGUMENT,
            "closed or invalid",
        );
    }
}

#[test]
fn use_after_close_and_threads() {
    let f = Fixture::at(wall());
    let issued = f.issue(&f.spec("job.fvg").entry("shotgun/"));
    let token = ctoken(issued.token.as_ref().unwrap());
    let g = open_on(&f, &issued.path, Some(&token), None, "a").unwrap();
    let addr = g as usize;
    let readers: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let g = addr as *const fv_vault;
                for _ in 0..50 {
                    let name = if i % 2 == 0 { RENDER } else { PUBLISH };
                    let want = if i % 2 == 0 { RENDER_KEY } else { PUBLISH_KEY };
                    assert_eq!(read_field(g, name, fv_field::ApiKey).unwrap(), want);
                    assert_eq!(read_field(g, OTHER, fv_field::Secret), Err(FV_NOT_FOUND));
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    close(g);
    assert_eq!(
        read_field(g, RENDER, fv_field::ApiKey),
        Err(FV_INVALID_ARGUMENT)
    );
    assert!(
        msg().contains("fv_vault handle is closed or invalid"),
        "{}",
        msg()
    );
    // SAFETY: a closed handle: detected by the registry, never dereferenced.
    unsafe { fv_vault_close(g) };
    assert!(msg().contains("closed or invalid"), "{}", msg());
}

/// `fv_grant_use_window` of `grant`: (first opened, use until), or the failure code
/// (with both out-params checked untouched).
pub(crate) fn use_window(grant: *const fv_vault) -> Result<(u64, u64), fv_result> {
    let (mut first, mut until) = (7u64, 7u64);
    // SAFETY: a handle the library returned (live or closed, both detected) and live
    // out-params.
    match unsafe { fv_grant_use_window(grant, &mut first, &mut until) } {
        FV_OK => Ok((first, until)),
        other => {
            assert_eq!(
                (first, until),
                (7, 7),
                "out-params are written only on success"
            );
            Err(other)
        }
    }
}

#[test]
fn the_use_window_of_a_vault_null_or_closed_handle_is_refused() {
    let f = Fixture::at(wall());
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let token = ctoken(issued.token.as_ref().unwrap());
    let g = open_on(&f, &issued.path, Some(&token), None, "a").unwrap();
    let window = use_window(g).unwrap();
    let path = cpath(&f.path("plain-vault"));
    let mut vault = null_mut();
    let mut opts = null_mut();
    let (mut first, mut until) = (7u64, 7u64);
    // SAFETY: NULLs, live locals and handles the library returned; each freed once.
    unsafe {
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        assert_eq!(fv_options_set_kdf(opts, 8, 1, 1), FV_OK);
        let r = fv_vault_create_passphrase(path.as_ptr(), b"pw".as_ptr(), 2, opts, &mut vault);
        assert_eq!(r, FV_OK, "{}", msg());
        fv_options_free(opts);

        // A vault has no use window.
        assert_eq!(use_window(vault), Err(FV_INVALID_ARGUMENT));
        let m = msg();
        assert!(
            m.contains("grant: ") && m.contains("not a job grant"),
            "{m}"
        );
        fv_vault_close(vault);

        fails(
            fv_grant_use_window(g, null_mut(), &mut until),
            FV_INVALID_ARGUMENT,
            "first_opened_out is NULL",
        );
        fails(
            fv_grant_use_window(g, &mut first, null_mut()),
            FV_INVALID_ARGUMENT,
            "use_until_out is NULL",
        );
        assert_eq!(
            (first, until),
            (7, 7),
            "out-params are written only on success"
        );
        fails(
            fv_grant_use_window(null(), &mut first, &mut until),
            FV_INVALID_ARGUMENT,
            "grant is NULL",
        );
        // Another handle type where the grant belongs: the registry says which.
        let mut other = null_mut();
        assert_eq!(fv_options_new(&mut other), FV_OK);
        fails(
            fv_grant_use_window(other.cast::<fv_vault>(), &mut first, &mut until),
            FV_INVALID_ARGUMENT,
            "grant: expected an fv_vault, got an fv_options",
        );
        fv_options_free(other);
    }
    assert_eq!(use_window(g), Ok(window), "{}", msg());
    close(g);
    assert_eq!(use_window(g), Err(FV_INVALID_ARGUMENT));
    assert!(
        msg().contains("grant: fv_vault handle is closed or invalid"),
        "{}",
        msg()
    );
}

#[test]
fn result_names() {
    // SAFETY: no pointers in; static text out.
    let name = unsafe { CStr::from_ptr(fv_result_name(FV_HOST_NOT_ALLOWED as u32)) };
    assert_eq!(name.to_str().unwrap(), "FV_HOST_NOT_ALLOWED");
    assert_eq!(fv_result::from_u32(13), Some(FV_HOST_NOT_ALLOWED));
}
