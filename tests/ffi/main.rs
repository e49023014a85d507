//! The C ABI (`farmvault::ffi`, `include/farmvault.h`) as Rust sees it; its
//! grant functions are tested with the grants, and `tests/c/` runs it from C.

/// Fixtures made by older builds.
#[path = "../common/files.rs"]
#[allow(dead_code, reason = "only the fixture unpacking is used here")]
mod files;
/// The last error, failure checks, secrets and fields.
mod support;

/// Handles are ids never issued twice: closed ones stay refused.
mod handles;
/// The committed header is what cbindgen makes of `src/ffi`.
mod header;
/// Vaults, entries, credentials and options through the `fv_*` functions.
mod vault;
/// `fv_wipe` on the caller's copies of secrets.
mod wipe;
