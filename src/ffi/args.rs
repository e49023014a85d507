//! C arguments to Rust values: NUL-terminated strings read with a bounded scan,
//! `(ptr, len)` pairs checked against their limit, out-params written only on success.
//! Messages name the argument and never show its bytes (they may be a secret).

use super::info::{FV_MAX_PATH_LEN, FV_MAX_SECRET_LEN};
use super::result::Failure;
use std::ffi::c_char;
use std::path::Path;
use std::ptr::NonNull;

/// The bytes of a NUL-terminated argument, without the NUL, at most `max` of them,
/// and whether they are all ASCII.
///
/// # Safety
/// `ptr` is NULL or readable up to its NUL or `max` + 1 bytes, whichever comes first,
/// and not written during the call.
unsafe fn bounded<'a>(
    ptr: *const c_char,
    arg: &str,
    max: usize,
) -> Result<(&'a [u8], bool), Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{arg} is NULL")));
    }
    let bytes = ptr.cast::<u8>();
    // The bitwise OR of every byte: below 0x80 when all are ASCII (then valid UTF-8,
    // and `cstr` skips the decoder: most names are ASCII).
    let mut seen = 0u8;
    let mut len = 0;
    // Four bytes a round while all four are within the limit: each is read only after
    // the one before it was found not to be the NUL (the caller's promise covers
    // bytes up to the NUL), but the bound is checked once a round. A name is scanned
    // on every get; this loop costs about half of a one-byte one.
    'scan: {
        while len + 3 <= max {
            for k in 0..4 {
                // SAFETY: bytes len..len + k are not NUL and len + k <= max.
                let b = unsafe { bytes.add(len + k).read() };
                if b == 0 {
                    len += k;
                    break 'scan;
                }
                seen |= b;
            }
            len += 4;
        }
        loop {
            if len > max {
                return Err(Failure::invalid(format!(
                    "{arg} is longer than {max} bytes or not NUL-terminated"
                )));
            }
            // SAFETY: no NUL at 0..len and len <= max: the caller's promise covers it.
            let b = unsafe { bytes.add(len).read() };
            if b == 0 {
                break;
            }
            seen |= b;
            len += 1;
        }
    }
    // SAFETY: the loop just read these `len` bytes (len <= max, far below isize::MAX).
    let slice = unsafe { std::slice::from_raw_parts(bytes, len) };
    Ok((slice, seen < 0x80))
}

/// A NUL-terminated UTF-8 argument of at most `max` bytes.
///
/// # Safety
/// As for [`bounded`].
pub(crate) unsafe fn cstr<'a>(
    ptr: *const c_char,
    arg: &str,
    max: usize,
) -> Result<&'a str, Failure> {
    // SAFETY: the caller's promise is the one `bounded` needs.
    let (bytes, ascii) = unsafe { bounded(ptr, arg, max) }?;
    if ascii {
        // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::invalid(format!(
            "{arg} is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// A NUL-terminated path of at most `FV_MAX_PATH_LEN` bytes: any bytes on Unix (paths
/// are bytes there), UTF-8 elsewhere.
///
/// # Safety
/// As for [`bounded`].
pub(crate) unsafe fn path<'a>(ptr: *const c_char, arg: &str) -> Result<&'a Path, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: the caller's promise is the one `bounded` needs.
        let (bytes, _) = unsafe { bounded(ptr, arg, FV_MAX_PATH_LEN) }?;
        if bytes.is_empty() {
            return Err(Failure::invalid(format!("{arg} is empty")));
        }
        Ok(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: the caller's promise is the one `cstr` needs.
        let text = unsafe { cstr(ptr, arg, FV_MAX_PATH_LEN) }?;
        if text.is_empty() {
            return Err(Failure::invalid(format!("{arg} is empty")));
        }
        Ok(Path::new(text))
    }
}

/// A `(ptr, len)` input: non-NULL, 1 to `FV_MAX_SECRET_LEN` bytes.
///
/// # Safety
/// `ptr` is NULL or readable for `len` bytes and not written during the call.
pub(crate) unsafe fn slice<'a>(
    ptr: *const u8,
    len: usize,
    arg: &str,
    len_arg: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{arg} is NULL")));
    }
    if len == 0 {
        return Err(Failure::invalid(format!(
            "{len_arg} is 0; {arg} needs at least 1 byte"
        )));
    }
    if len > FV_MAX_SECRET_LEN {
        return Err(Failure::invalid(format!(
            "{len_arg} is {len}; {arg} holds at most {FV_MAX_SECRET_LEN} bytes (FV_MAX_SECRET_LEN)"
        )));
    }
    // SAFETY: non-NULL, readable for `len` bytes by the caller's promise, and len is
    // at most 1 MiB so the slice is far below isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A `(ptr, len)` input that must be UTF-8 text (an API key, a token, a passphrase).
///
/// # Safety
/// As for [`slice`].
pub(crate) unsafe fn text<'a>(
    ptr: *const u8,
    len: usize,
    arg: &str,
    len_arg: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: the caller's promise is the one `slice` needs.
    let bytes = unsafe { slice(ptr, len, arg, len_arg) }?;
    // No offset in the message: where a secret's bad byte sits is a hint about it.
    std::str::from_utf8(bytes).map_err(|_| Failure::invalid(format!("{arg} is not valid UTF-8")))
}

/// An out-param checked for NULL on entry and written once, on success.
pub(crate) struct Out<T> {
    ptr: NonNull<T>,
}

impl<T> Out<T> {
    /// Checks `ptr` (named `arg` in the message) for NULL.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for one write of `T` until [`Out::write`] returns.
    pub(crate) unsafe fn new(ptr: *mut T, arg: &str) -> Result<Out<T>, Failure> {
        NonNull::new(ptr)
            .map(|ptr| Out { ptr })
            .ok_or_else(|| Failure::invalid(format!("{arg} is NULL")))
    }

    /// Writes the result (without reading or dropping what the caller left there).
    pub(crate) fn write(self, value: T) {
        // SAFETY: `new`'s caller promised the pointer is valid for one write of T.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// Largest `view_size` (or other struct size) a caller may pass: far more than any
/// version of a growable struct will need, so a size that is not a `sizeof` (an
/// uninitialised or wrong variable) is refused instead of zeroing caller memory.
pub(crate) const MAX_STRUCT_SIZE: usize = 4096;

/// An out-param of a struct that may grow in later versions (`fv_entry_view`): the
/// caller passes the struct's size as its header has it. At least this library's
/// size (so every member it writes is the caller's), at most [`MAX_STRUCT_SIZE`];
/// the bytes past this library's struct, members of a newer header, are zeroed.
pub(crate) struct SizedOut<T> {
    ptr: NonNull<T>,
    size: usize,
}

impl<T> SizedOut<T> {
    /// Checks `ptr` for NULL and alignment and `size` for its range (`arg` and
    /// `size_arg` name them in messages).
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writes of `size` bytes until [`SizedOut::write`]
    /// returns.
    pub(crate) unsafe fn new(
        ptr: *mut T,
        size: usize,
        arg: &str,
        size_arg: &str,
    ) -> Result<SizedOut<T>, Failure> {
        let ours = std::mem::size_of::<T>();
        let ptr = NonNull::new(ptr).ok_or_else(|| Failure::invalid(format!("{arg} is NULL")))?;
        if !ptr.as_ptr().is_aligned() {
            return Err(Failure::invalid(format!(
                "{arg} is not aligned for its type ({} bytes)",
                std::mem::align_of::<T>()
            )));
        }
        if size < ours || size > MAX_STRUCT_SIZE {
            return Err(Failure::invalid(format!(
                "{size_arg} is {size}; pass the struct's sizeof ({ours} bytes in this library, \
                 and never more than {MAX_STRUCT_SIZE})"
            )));
        }
        Ok(SizedOut { ptr, size })
    }

    /// Writes the result, then zeroes the caller's bytes past it.
    pub(crate) fn write(self, value: T) {
        let ours = std::mem::size_of::<T>();
        // SAFETY: `new`'s caller promised `size` writable bytes at the pointer, which
        // is non-NULL and aligned for T, and `size >= size_of::<T>()`; the tail
        // `ours..size` is inside those bytes (u8 needs no alignment).
        unsafe {
            self.ptr.as_ptr().write(value);
            if self.size > ours {
                self.ptr
                    .as_ptr()
                    .cast::<u8>()
                    .add(ours)
                    .write_bytes(0, self.size - ours);
            }
        }
    }
}

/// A TTL in seconds from C: 0 is "never expires".
pub(crate) fn ttl(secs: u64) -> Option<std::time::Duration> {
    (secs != 0).then(|| std::time::Duration::from_secs(secs))
}
