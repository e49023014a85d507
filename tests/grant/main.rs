//! Job grants: issuing, the bundle on disk, opening from Rust and through the
//! C ABI (`farmvault::grant`, `fv_grant_*`).

/// The C ABI helpers, shared with the `ffi` tests.
#[path = "../ffi/support.rs"]
mod ffi_support;
/// Every file under a folder.
#[path = "../common/files.rs"]
mod files;
/// The fixture vault and the names and secrets it holds.
mod support;

/// Flipped bytes, splicing, nothing in the clear, the vault's records.
mod bundle;
/// `fv_grant_open` and `fv_grant_use_window` called from Rust.
mod ffi;
/// `fv_grant_open` on the system clock and this machine's hostname, from Rust.
mod ffi_windows;
/// A farm identity that others can read is refused.
mod identity_perms;
/// The node configuration file naming the hostname grants check (Unix: root-owned).
#[cfg(unix)]
mod node_config;
/// Issuing, the ways of opening, the two clocks, the host pattern.
mod open;
/// Nothing but the `test-overrides` feature moves a grant's clock or hostname.
mod overrides;
/// Revocation lists: written by the issuer, read at every open.
mod revoke;
/// Issuer signatures, pinned issuers, and format-1 bundles made by 0.1.0.
mod signature;
