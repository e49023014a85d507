//! Helpers of the tests that call the C ABI from Rust (these, and the grant
//! tests' `ffi` module): the last error, failure checks, paths, secrets and fields.

use farmvault::ffi::fv_result::{self, *};
use farmvault::ffi::*;
use std::ffi::{c_char, CStr, CString};
use std::path::Path;
use std::ptr::null_mut;

/// This thread's last error message.
pub fn msg() -> String {
    // SAFETY: fv_last_error_message never returns NULL and its text lives until the
    // next fv_ call on this thread; it is copied out at once.
    unsafe { CStr::from_ptr(fv_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Asserts `code` is `expected` and the last error mentions `needle`.
#[track_caller]
pub fn fails(code: fv_result, expected: fv_result, needle: &str) {
    assert_eq!(code, expected, "message: {}", msg());
    let m = msg();
    assert!(m.contains(needle), "{needle:?} not in {m:?}");
}

pub fn cpath(p: &Path) -> CString {
    CString::new(p.to_str().expect("temp paths are UTF-8")).expect("no NUL in temp paths")
}

/// The bytes of a secret, which is then freed.
pub fn take(secret: *mut fv_secret) -> Vec<u8> {
    // SAFETY: `secret` is a live handle; data is valid for len bytes plus the NUL
    // until the free below.
    unsafe {
        let len = fv_secret_len(secret);
        let data = fv_secret_data(secret);
        assert_eq!(*data.add(len), 0, "secrets are NUL-terminated");
        let out = std::slice::from_raw_parts(data, len).to_vec();
        fv_secret_free(secret);
        out
    }
}

pub fn field(entry: *const fv_entry, f: fv_field) -> Result<Vec<u8>, fv_result> {
    let mut s = null_mut();
    // SAFETY: `entry` is live; `s` is a live out-param.
    match unsafe { fv_entry_field(entry, f as u32, &mut s) } {
        FV_OK => Ok(take(s)),
        other => {
            assert!(s.is_null(), "out-params are written only on success");
            Err(other)
        }
    }
}

pub fn text(p: *const c_char) -> String {
    assert!(!p.is_null(), "{}", msg());
    // SAFETY: a non-NULL string the library lent for the duration of this copy.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// The bytes an `fv_bytes` of a view points at; `None` for `{NULL, 0}`.
pub fn bytes_of(b: fv_bytes) -> Option<Vec<u8>> {
    if b.data.is_null() {
        assert_eq!(b.len, 0, "an unset field has length 0");
        return None;
    }
    // SAFETY: a non-NULL `fv_bytes` of a view of a live entry: `len` readable bytes.
    Some(unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec())
}

/// Every field of the view, by `fv_field` number, as `bytes_of` reads it.
pub fn view_fields(v: &fv_entry_view) -> [(fv_field, Option<Vec<u8>>); 9] {
    [
        (fv_field::Host, bytes_of(v.host)),
        (fv_field::Login, bytes_of(v.login)),
        (fv_field::ScriptName, bytes_of(v.script_name)),
        (fv_field::ApiKey, bytes_of(v.api_key)),
        (fv_field::SessionToken, bytes_of(v.session_token)),
        (fv_field::SessionMetadata, bytes_of(v.session_metadata)),
        (fv_field::HttpProxy, bytes_of(v.http_proxy)),
        (fv_field::Password, bytes_of(v.password)),
        (fv_field::Secret, bytes_of(v.secret)),
    ]
}

/// The view of `entry` through `fv_entry_get_view`, checked against every accessor:
/// kind, times, name, host, and each field as `fv_entry_field` reads it (or its
/// FV_NOT_FOUND / FV_INVALID_ARGUMENT for an entry holding metadata only).
pub fn checked_view(entry: *const fv_entry) -> fv_entry_view {
    let mut view = std::mem::MaybeUninit::<fv_entry_view>::uninit();
    let size = std::mem::size_of::<fv_entry_view>();
    // SAFETY: `entry` is live; `view` is a local of the size passed.
    let view = unsafe {
        assert_eq!(
            fv_entry_get_view(entry, view.as_mut_ptr(), size),
            FV_OK,
            "{}",
            msg()
        );
        view.assume_init()
    };
    assert_eq!(view.size, size);
    // SAFETY: `entry` is live; the accessors only read it.
    unsafe {
        assert_eq!(view.kind, fv_entry_kind(entry));
        assert_eq!(view.has_credential, fv_entry_has_credential(entry));
        assert_eq!(view.created, fv_entry_created(entry));
        assert_eq!(view.updated, fv_entry_updated(entry));
        assert_eq!(view.expires, fv_entry_expires(entry));
        assert_eq!(
            bytes_of(view.name).unwrap(),
            text(fv_entry_name(entry)).as_bytes()
        );
        let host = fv_entry_host(entry);
        let host = (!host.is_null()).then(|| text(host).into_bytes());
        assert_eq!(bytes_of(view.host), host);
    }
    for (f, value) in view_fields(&view) {
        match field(entry, f) {
            Ok(v) => assert_eq!(value.as_deref(), Some(v.as_slice()), "{f:?}"),
            Err(FV_NOT_FOUND) => assert_eq!(value, None, "{f:?}"),
            Err(FV_INVALID_ARGUMENT) if !view.has_credential => {
                // Metadata only: the view has the host and nothing else.
                if f != fv_field::Host {
                    assert_eq!(value, None, "{f:?}");
                }
            }
            Err(other) => panic!("{f:?}: {other:?} {}", msg()),
        }
    }
    view
}
