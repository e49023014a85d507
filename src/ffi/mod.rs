//! The C ABI: every `fv_*` symbol of `libfarmvault` and `include/farmvault.h`.
//!
//! This is the only module of the crate that may use `unsafe`. Its layout, after
//! rustls-ffi's and hyper's C APIs (docs/DESIGN.md, "The C ABI"):
//!
//! - `macros`: `ffi_fn!`, the one way to define an exported function. It adds
//!   `#[no_mangle] pub unsafe extern "C"`, catches panics and picks the value returned
//!   on failure by the return type (`FV_PANIC`/the error code for `fv_result`, `NULL`,
//!   `0`, `false`); and the `try_*!` helpers that turn C arguments into Rust values.
//! - `boundary`: the panic boundary and the by-type fallback values.
//! - `result`: `fv_result`, the mapping from [`crate::Error`], the thread-local last
//!   error message.
//! - `handle`: the `Castable` trait tying each opaque C type to its Rust type and its
//!   ownership (Box or Arc), and the registry of live handles. A handle is an id that
//!   is never issued twice, not an address, so a use after free or a double free is
//!   `FV_INVALID_ARGUMENT` instead of undefined behaviour, for as long as the process
//!   lives.
//! - `args`: NUL-terminated strings (bounded scan), `(ptr, len)` pairs, out-params.
//! - the exported functions, one module per C type.
//!
//! # The contract every exported function keeps
//!
//! Pointer arguments are NULL or valid for the duration of the call; inputs are
//! borrowed for the call only and never retained. Every pointer is checked for NULL,
//! every handle against the registry before its value is touched, every name for UTF-8
//! and a terminating NUL within its limit, every length against its limit. Out-params
//! are written only on success. A panic never unwinds into C.
//!
//! The exported functions are `unsafe extern "C"`: from Rust they are as unsafe to
//! call as from C (a dangling `const char *` cannot be detected), so `tests/ffi/vault.rs`
//! calls them in `unsafe` blocks. The shared safety contract is the one above, stated
//! once here and in the header's preamble rather than in a `# Safety` section on each.
//!
//! The header is generated from these sources by `tests/ffi/header.rs` (cbindgen, pinned;
//! it expands `ffi_fn!` itself because cbindgen does not expand macros on stable).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![allow(
    non_camel_case_types,
    clippy::missing_safety_doc,
    reason = "C names (fv_vault, fv_result, FV_OK) are the ABI; the safety contract is in the module docs"
)]

#[macro_use]
mod macros;
mod args;
mod boundary;
mod handle;

// The exported modules, in the order the header lists them (blank lines keep rustfmt
// from sorting them: tests/ffi/header.rs reads this order).

mod result;
pub use result::*;

mod info;
pub use info::*;

mod options;
pub use options::*;

mod vault;
pub use vault::*;

mod grant;
pub use grant::*;

mod grant_issue;
pub use grant_issue::*;

mod recovery;
pub use recovery::*;

mod credential;
pub use credential::*;

mod secret;
pub use secret::*;

mod entry;
pub use entry::*;

mod batch;
pub use batch::*;

mod sgtk;
pub use sgtk::*;
