//! Helpers shared by the tests that call the C ABI from Rust (`tests/ffi.rs`,
//! `tests/ffi_grant.rs`): the last error, failure checks, paths, secrets and fields.
#![allow(dead_code)]

use farmvault::ffi::credential::fv_field;
use farmvault::ffi::entry::*;
use farmvault::ffi::result::fv_result::{self, *};
use farmvault::ffi::result::*;
use farmvault::ffi::secret::*;
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
