//! Versions and fixed sizes, each as a header constant and a function (for ctypes).
//!
//! The constants are literals because cbindgen copies literals into `#define`s; the
//! assertions below tie each one to its source of truth (Cargo.toml, the core), so a
//! version bump or a changed limit fails to compile until this file follows.

use std::ffi::{c_char, CStr};

/// Major version of the library this header belongs to.
pub const FV_VERSION_MAJOR: u32 = 0;
/// Minor version of the library this header belongs to.
pub const FV_VERSION_MINOR: u32 = 1;
/// Patch version of the library this header belongs to.
pub const FV_VERSION_PATCH: u32 = 0;
/// The version as one comparable number: major * 1000000 + minor * 1000 + patch
/// (SQLite's scheme). Compare with `fv_version_number()` to detect a header/library
/// mismatch.
pub const FV_VERSION_NUMBER: u32 =
    FV_VERSION_MAJOR * 1000000 + FV_VERSION_MINOR * 1000 + FV_VERSION_PATCH;
/// The ABI version: the number in the shared library's SONAME (`libfarmvault.so.1`).
/// It changes only when an existing function's signature or meaning changes.
pub const FV_ABI_VERSION: u32 = 1;

/// Longest entry name, in bytes (without the NUL).
pub const FV_MAX_NAME_LEN: usize = 1024;
/// Largest secret, passphrase or `(ptr, len)` input, in bytes (1 MiB).
pub const FV_MAX_SECRET_LEN: usize = 1048576;
/// Longest path argument, in bytes (without the NUL).
pub const FV_MAX_PATH_LEN: usize = 4096;
/// Longest other text argument (host, login, script name, proxy, session metadata),
/// in bytes (without the NUL).
pub const FV_MAX_TEXT_LEN: usize = 65536;
/// Size of a key file, in bytes.
pub const FV_KEY_FILE_LEN: usize = 32;
/// How far the system clock may be behind the latest time a vault has seen before
/// `fv_vault_clock_behind` reports it, in seconds.
pub const FV_CLOCK_BEHIND_TOLERANCE_SECS: u64 = 300;

const fn parse_decimal(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "a version component is not decimal");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

const _: () = {
    assert!(
        FV_VERSION_MAJOR == parse_decimal(env!("CARGO_PKG_VERSION_MAJOR"))
            && FV_VERSION_MINOR == parse_decimal(env!("CARGO_PKG_VERSION_MINOR"))
            && FV_VERSION_PATCH == parse_decimal(env!("CARGO_PKG_VERSION_PATCH")),
        "src/ffi/info.rs: FV_VERSION_* differ from Cargo.toml's version; update them and \
         regenerate include/farmvault.h (FARMVAULT_BLESS=1 cargo test --test ffi header::)"
    );
    assert!(FV_VERSION_MINOR < 1000 && FV_VERSION_PATCH < 1000);
    assert!(FV_MAX_NAME_LEN == crate::vault::MAX_NAME_LEN);
    assert!(FV_MAX_SECRET_LEN == crate::vault::MAX_SECRET_LEN);
    assert!(FV_CLOCK_BEHIND_TOLERANCE_SECS == crate::vault::CLOCK_BEHIND_TOLERANCE.as_secs());
    assert!(FV_KEY_FILE_LEN == crate::crypto::KEY_LEN);
};

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version holds no NUL"),
    };

ffi_fn! {
    /// The library's version as static text ("0.1.0"). Never NULL, never freed.
    fn fv_version() -> *const c_char {
        Ok(VERSION.as_ptr())
    }
}

ffi_fn! {
    /// The library's version as a number (see `FV_VERSION_NUMBER`). A program built
    /// against this header can check `fv_version_number() == FV_VERSION_NUMBER`.
    fn fv_version_number() -> u32 {
        Ok(FV_VERSION_NUMBER)
    }
}

ffi_fn! {
    /// The library's ABI version (see `FV_ABI_VERSION`). Bindings that load the
    /// library at run time (Python) refuse one whose ABI version differs from theirs.
    fn fv_abi_version() -> u32 {
        Ok(FV_ABI_VERSION)
    }
}

ffi_fn! {
    /// `FV_MAX_NAME_LEN`, for bindings that cannot read the header's macros.
    fn fv_max_name_len() -> usize {
        Ok(FV_MAX_NAME_LEN)
    }
}

ffi_fn! {
    /// `FV_MAX_SECRET_LEN`, for bindings that cannot read the header's macros.
    fn fv_max_secret_len() -> usize {
        Ok(FV_MAX_SECRET_LEN)
    }
}

ffi_fn! {
    /// `FV_MAX_PATH_LEN`, for bindings that cannot read the header's macros.
    fn fv_max_path_len() -> usize {
        Ok(FV_MAX_PATH_LEN)
    }
}

ffi_fn! {
    /// `FV_MAX_TEXT_LEN`, for bindings that cannot read the header's macros.
    fn fv_max_text_len() -> usize {
        Ok(FV_MAX_TEXT_LEN)
    }
}

ffi_fn! {
    /// `FV_KEY_FILE_LEN`, for bindings that cannot read the header's macros.
    fn fv_key_file_len() -> usize {
        Ok(FV_KEY_FILE_LEN)
    }
}
