//! `fv_secret`: how every variable-length secret leaves the library.

use super::handle::{self, Castable, HandleType, OwnedBox};
use super::result::Failure;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use zeroize::{Zeroize, Zeroizing};

/// Secret bytes owned by the library: a field of a credential, an opaque entry's
/// bytes, a serialized credential. Read them with `fv_secret_data`/`fv_secret_len`;
/// release them with `fv_secret_free`, which overwrites them with zeros first. Copy
/// out only what you must, and wipe your copy too. One thread at a time.
pub struct fv_secret {
    _private: [u8; 0],
}

/// The Rust side of `fv_secret`: the bytes plus a NUL that `len` does not count.
pub(crate) struct SecretData(Zeroizing<Vec<u8>>);

impl Castable for fv_secret {
    type Ownership = OwnedBox;
    type Rust = SecretData;
    const TYPE: HandleType = HandleType::Secret;
}

impl SecretData {
    /// The bytes, without the trailing NUL.
    fn bytes(&self) -> &[u8] {
        &self.0[..self.0.len() - 1]
    }
}

/// Copies `bytes` into a new owned `fv_secret` (one allocation, wiped on free).
pub(crate) fn new_secret(bytes: &[u8]) -> *mut fv_secret {
    let mut buf = Zeroizing::new(Vec::with_capacity(bytes.len() + 1));
    buf.extend_from_slice(bytes);
    buf.push(0);
    handle::new_box::<fv_secret>(SecretData(buf))
}

ffi_fn! {
    /// The secret's bytes. They are followed by a NUL byte that `fv_secret_len` does not
    /// count, so text fields can be used as C strings (a field that itself holds a NUL
    /// byte reads shorter that way: use the length for opaque bytes).
    ///
    /// Returns a pointer borrowed from `secret`, valid until `fv_secret_free(secret)`;
    /// NULL (with a message) if `secret` is NULL or freed.
    fn fv_secret_data(secret: *const fv_secret) -> *const u8 {
        Ok(try_ref!(secret).0.as_ptr())
    }
}

ffi_fn! {
    /// The number of bytes of the secret, not counting the trailing NUL.
    ///
    /// Returns 0 (with a message) if `secret` is NULL or freed.
    fn fv_secret_len(secret: *const fv_secret) -> usize {
        Ok(try_ref!(secret).bytes().len())
    }
}

ffi_fn! {
    /// Overwrites the secret's bytes with zeros, then frees it. NULL is a no-op; a
    /// secret already freed is detected and reported through
    /// `fv_last_error_message`.
    fn fv_secret_free(secret: *mut fv_secret) {
        handle::free_box(secret, "secret")
    }
}

ffi_fn! {
    /// Overwrites the `len` bytes at `ptr` with zeros, with writes the compiler cannot
    /// drop as dead stores (a plain `memset` just before `free` may be removed): for a
    /// copy of a secret in the caller's own memory, taken from `fv_secret_data` or an
    /// `fv_entry_view`, once it is no longer needed. `ptr` must be writable for `len`
    /// bytes (initialised or not) and not used by another thread during the call.
    ///
    /// `len` 0 wipes nothing, whatever `ptr` is. NULL with a `len` above 0 wipes nothing
    /// and sets the last error message (as every function that returns nothing
    /// reports a bad argument).
    fn fv_wipe(ptr: *mut c_void, len: usize) {
        if len == 0 {
            return Ok(());
        }
        if ptr.is_null() {
            return Err(Failure::invalid(format!(
                "ptr is NULL and len is {len}: nothing was wiped"
            )));
        }
        if isize::try_from(len).is_err() {
            return Err(Failure::invalid(format!(
                "len is {len}, more than any buffer can hold: nothing was wiped"
            )));
        }
        // SAFETY: non-NULL, and the caller promises `len` writable bytes at `ptr` that
        // no one else uses during the call; `MaybeUninit<u8>` has alignment 1 and
        // needs no initialised bytes, and `len` fits in an `isize` (checked above).
        let bytes = unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<u8>>(), len) };
        bytes.zeroize();
        Ok(())
    }
}
