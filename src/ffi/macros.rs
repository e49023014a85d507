//! `ffi_fn!`, the one way to define an exported function, and the `try_*!` argument
//! helpers used in its bodies.
//!
//! A body is written as a closure body returning `Result<T, Failure>`, so `?` works on
//! core errors and on the argument helpers. `ffi_fn!` turns it into
//!
//! ```text
//! #[no_mangle] pub unsafe extern "C" fn name(args) -> T
//! ```
//!
//! whose value on failure is chosen by the return type (see `boundary::Fallback`):
//!
//! | return type    | `Ok(v)` | failure (message in the last error) | panic    |
//! | ---            | ---     | ---                                 | ---      |
//! | `fv_result`    | `FV_OK` | the failure's code                  | `FV_PANIC` |
//! | pointer        | `v`     | `NULL`                              | `NULL`   |
//! | integer / bool | `v`     | `0` / `false`                       | same     |
//! | nothing        |         | (message only)                      | same     |
//!
//! A function whose natural fallback would be a valid value (kind 0 is
//! `FV_KIND_OPAQUE`) names its own with `#[fallback(EXPR)]` after its docs.
//!
//! `fv_result` is `#[must_use]` in Rust; in the header, functions returning it carry
//! `FV_MUST_USE` (`[[nodiscard]]` / `warn_unused_result`).
//!
//! `tests/ffi/header.rs` expands this macro itself for cbindgen (which does not expand
//! macros on stable): keep the two in step when the grammar below changes.

macro_rules! ffi_fn {
    (
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $arg_ty:ty),* $(,)?) -> fv_result $body:block
    ) => {
        $(#[doc = $doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $arg_ty),*) -> $crate::ffi::result::fv_result {
            $crate::ffi::boundary::result(
                stringify!($name),
                move || -> ::core::result::Result<(), $crate::ffi::result::Failure> { $body },
            )
        }
    };
    (
        $(#[doc = $doc:literal])*
        #[fallback($fallback:expr)]
        fn $name:ident($($arg:ident: $arg_ty:ty),* $(,)?) -> $ret:ty $body:block
    ) => {
        $(#[doc = $doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $arg_ty),*) -> $ret {
            $crate::ffi::boundary::value(
                stringify!($name),
                $fallback,
                move || -> ::core::result::Result<$ret, $crate::ffi::result::Failure> { $body },
            )
        }
    };
    (
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $arg_ty:ty),* $(,)?) -> $ret:ty $body:block
    ) => {
        $(#[doc = $doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $arg_ty),*) -> $ret {
            $crate::ffi::boundary::value(
                stringify!($name),
                <$ret as $crate::ffi::boundary::Fallback>::FALLBACK,
                move || -> ::core::result::Result<$ret, $crate::ffi::result::Failure> { $body },
            )
        }
    };
    (
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $arg_ty:ty),* $(,)?) $body:block
    ) => {
        $(#[doc = $doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $arg_ty),*) {
            $crate::ffi::boundary::value(
                stringify!($name),
                (),
                move || -> ::core::result::Result<(), $crate::ffi::result::Failure> { $body },
            )
        }
    };
}

/// `&T` for a handle argument owned through a `Box`, checked against the registry.
macro_rules! try_ref {
    ($ptr:ident) => {
        // SAFETY: only used in `ffi_fn!` bodies, whose callers promise (the header's
        // contract) that no other thread frees this handle during the call; NULL and
        // closed handles are caught by the registry before any dereference.
        unsafe { $crate::ffi::handle::try_ref($ptr, stringify!($ptr)) }?
    };
}

/// Like `try_ref!` for a nullable handle argument: NULL is `None`.
macro_rules! try_ref_opt {
    ($ptr:ident) => {
        if $ptr.is_null() {
            None
        } else {
            Some(try_ref!($ptr))
        }
    };
}

/// `&mut T` for a handle argument owned through a `Box`, checked against the registry.
macro_rules! try_mut {
    ($ptr:ident) => {
        // SAFETY: as for `try_ref!`; the header also says a mutable handle is used by
        // one thread at a time, so this is the only reference during the call.
        unsafe { $crate::ffi::handle::try_mut($ptr, stringify!($ptr)) }?
    };
}

/// A new strong reference to a handle shared through an `Arc`, checked against the
/// registry (safe even against a concurrent close).
macro_rules! try_arc {
    ($ptr:ident) => {
        $crate::ffi::handle::try_arc($ptr, stringify!($ptr))?
    };
}

/// `&str` from a NUL-terminated UTF-8 argument of at most `$max` bytes (bounded scan).
macro_rules! try_cstr {
    ($ptr:ident, $max:expr) => {
        // SAFETY: only used in `ffi_fn!` bodies, whose callers promise that a string
        // argument is NULL or readable up to its NUL; the scan stops at `$max` + 1 bytes.
        unsafe { $crate::ffi::args::cstr($ptr, stringify!($ptr), $max) }?
    };
}

/// Like `try_cstr!` for a nullable argument: NULL is `None`.
macro_rules! try_cstr_opt {
    ($ptr:ident, $max:expr) => {
        if $ptr.is_null() {
            None
        } else {
            Some(try_cstr!($ptr, $max))
        }
    };
}

/// A path from a NUL-terminated argument (any bytes on Unix, UTF-8 elsewhere).
macro_rules! try_path {
    ($ptr:ident) => {
        // SAFETY: as for `try_cstr!`.
        unsafe { $crate::ffi::args::path($ptr, stringify!($ptr)) }?
    };
}

/// Like `try_path!` for a nullable argument: NULL is `None`.
macro_rules! try_path_opt {
    ($ptr:ident) => {
        if $ptr.is_null() {
            None
        } else {
            Some(try_path!($ptr))
        }
    };
}

/// `&[u8]` from a `(ptr, len)` pair: non-NULL, 1 to `FV_MAX_SECRET_LEN` bytes.
macro_rules! try_slice {
    ($ptr:ident, $len:ident) => {
        // SAFETY: only used in `ffi_fn!` bodies, whose callers promise that `$ptr` is
        // readable for `$len` bytes; the length is checked against the limit first.
        unsafe { $crate::ffi::args::slice($ptr, $len, stringify!($ptr), stringify!($len)) }?
    };
}

/// `&str` from a `(ptr, len)` pair that must be UTF-8 (a key, a token, a passphrase).
macro_rules! try_text {
    ($ptr:ident, $len:ident) => {
        // SAFETY: as for `try_slice!`.
        unsafe { $crate::ffi::args::text($ptr, $len, stringify!($ptr), stringify!($len)) }?
    };
}

/// A checked out-param, written only on success.
macro_rules! try_out {
    ($ptr:ident) => {
        // SAFETY: only used in `ffi_fn!` bodies, whose callers promise that an
        // out-param is NULL or valid for one write of its type.
        unsafe { $crate::ffi::args::Out::new($ptr, stringify!($ptr)) }?
    };
}

/// An out-param the caller may pass as NULL (it does not want that result):
/// `None` then, else as `try_out!`.
macro_rules! try_out_opt {
    ($ptr:ident) => {
        if $ptr.is_null() {
            None
        } else {
            Some(try_out!($ptr))
        }
    };
}

/// A checked out-param of a growable struct and the size the caller passed for it
/// (see `args::SizedOut`), written only on success.
macro_rules! try_view_out {
    ($ptr:ident, $size:ident) => {
        // SAFETY: only used in `ffi_fn!` bodies, whose callers promise that an
        // out-param is NULL or valid for writes of the size they pass with it.
        unsafe {
            $crate::ffi::args::SizedOut::new($ptr, $size, stringify!($ptr), stringify!($size))
        }?
    };
}
