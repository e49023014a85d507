//! `fv_result`, the thread-local last error, and the mapping from [`crate::Error`].

use crate::error::Error;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// The result of every `fv_` function that can fail.
///
/// The values are permanent: a code is never renumbered or reused (a retired code
/// stays here as a comment). Functions that receive a code from C, such as
/// `fv_result_name`, take a `uint32_t` and map unknown values to a fixed string.
///
/// cbindgen:prefix-with-name=false
#[must_use = "an fv_result reports a failure that must be handled"]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum fv_result {
    /// Success.
    FV_OK = 0,
    /// No entry of that name, or the credential has no value for the field asked for.
    FV_NOT_FOUND = 1,
    /// The entry's TTL has run out (it stays stored, and every read says so, until a
    /// purge removes it or a put replaces it). Refresh it and store it again.
    FV_EXPIRED = 2,
    /// The passphrase or key file does not open this vault; for a grant, the
    /// token or farm identity does not open it.
    FV_WRONG_KEY = 3,
    /// An entry failed authentication: it was modified on disk or damaged.
    FV_TAMPERED = 4,
    /// The vault header or a record is unreadable.
    FV_CORRUPT = 5,
    /// Another process holds the vault and did not release it within the lock timeout.
    FV_LOCKED = 6,
    /// An argument is invalid: NULL, closed handle, bad UTF-8, too long, wrong length;
    /// or a vault directory, key file or farm identity refused as insecure (another
    /// user's, open to group or others, or a symbolic link: the message says which
    /// and the fix; see `fv_options_set_allow_insecure_permissions`).
    FV_INVALID_ARGUMENT = 7,
    /// An operating-system I/O error.
    FV_IO = 8,
    /// farmvault panicked inside this call (a bug); the call had no effect or is unknown.
    FV_PANIC = 9,
    /// There is no vault at that path.
    FV_NO_VAULT = 10,
    /// A vault already exists where one was to be created.
    FV_ALREADY_EXISTS = 11,
    /// The operation is not allowed on this handle (a write through a read-only handle).
    FV_READ_ONLY = 12,
    /// This machine's hostname does not match the job grant's host pattern: run the
    /// job on a matching host, or issue a grant for this one.
    FV_HOST_NOT_ALLOWED = 13,
    /// The vault handle was opened before this process was forked: in the child,
    /// open the vault again (after the parent closed it), or reach it through the
    /// farmvault agent. The handle still belongs to the parent; closing it in the
    /// child is safe and touches nothing of the parent's.
    FV_FORKED = 14,
    /// The farmvault agent that serves the vault is locked: `farmvault agent unlock`.
    FV_AGENT_LOCKED = 15,
    /// The farmvault agent could not be reached (none at the socket, or it
    /// stopped), refused this process, or broke the connection.
    FV_AGENT = 16,
}

impl fv_result {
    /// Every code, in numeric order.
    pub const ALL: [fv_result; 17] = [
        fv_result::FV_OK,
        fv_result::FV_NOT_FOUND,
        fv_result::FV_EXPIRED,
        fv_result::FV_WRONG_KEY,
        fv_result::FV_TAMPERED,
        fv_result::FV_CORRUPT,
        fv_result::FV_LOCKED,
        fv_result::FV_INVALID_ARGUMENT,
        fv_result::FV_IO,
        fv_result::FV_PANIC,
        fv_result::FV_NO_VAULT,
        fv_result::FV_ALREADY_EXISTS,
        fv_result::FV_READ_ONLY,
        fv_result::FV_HOST_NOT_ALLOWED,
        fv_result::FV_FORKED,
        fv_result::FV_AGENT_LOCKED,
        fv_result::FV_AGENT,
    ];

    /// The code's C name, NUL-terminated.
    const fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            fv_result::FV_OK => c"FV_OK",
            fv_result::FV_NOT_FOUND => c"FV_NOT_FOUND",
            fv_result::FV_EXPIRED => c"FV_EXPIRED",
            fv_result::FV_WRONG_KEY => c"FV_WRONG_KEY",
            fv_result::FV_TAMPERED => c"FV_TAMPERED",
            fv_result::FV_CORRUPT => c"FV_CORRUPT",
            fv_result::FV_LOCKED => c"FV_LOCKED",
            fv_result::FV_INVALID_ARGUMENT => c"FV_INVALID_ARGUMENT",
            fv_result::FV_IO => c"FV_IO",
            fv_result::FV_PANIC => c"FV_PANIC",
            fv_result::FV_NO_VAULT => c"FV_NO_VAULT",
            fv_result::FV_ALREADY_EXISTS => c"FV_ALREADY_EXISTS",
            fv_result::FV_READ_ONLY => c"FV_READ_ONLY",
            fv_result::FV_HOST_NOT_ALLOWED => c"FV_HOST_NOT_ALLOWED",
            fv_result::FV_FORKED => c"FV_FORKED",
            fv_result::FV_AGENT_LOCKED => c"FV_AGENT_LOCKED",
            fv_result::FV_AGENT => c"FV_AGENT",
        }
    }

    /// The code's C name (`"FV_NOT_FOUND"`).
    pub fn name(self) -> &'static str {
        self.c_name()
            .to_str()
            .expect("the code names are ASCII literals")
    }

    /// The code with this number, if any (never a transmute).
    pub fn from_u32(code: u32) -> Option<fv_result> {
        fv_result::ALL.into_iter().find(|r| *r as u32 == code)
    }
}

/// The code for each error of the core. The match is exhaustive on purpose: `Error` is
/// `#[non_exhaustive]` for other crates, not for this one, so a new variant fails to
/// compile here until it is given a code (a new one, appended, if none fits).
pub(crate) fn code_of(e: &Error) -> fv_result {
    match e {
        Error::NotFound { .. } => fv_result::FV_NOT_FOUND,
        Error::Expired { .. } => fv_result::FV_EXPIRED,
        Error::WrongKey { .. } | Error::WrongGrantKey { .. } => fv_result::FV_WRONG_KEY,
        Error::Tampered { .. } | Error::UntrustedGrant { .. } => fv_result::FV_TAMPERED,
        Error::Revoked { .. } => fv_result::FV_EXPIRED,
        Error::Corrupt { .. } => fv_result::FV_CORRUPT,
        Error::Locked { .. } | Error::HeldByAgent { .. } => fv_result::FV_LOCKED,
        Error::NoVault { .. } => fv_result::FV_NO_VAULT,
        Error::AlreadyExists { .. } => fv_result::FV_ALREADY_EXISTS,
        // Refused as insecure: the code a loose key file has always had, so
        // callers that handle it need no new case.
        Error::InvalidArgument(_) | Error::Insecure { .. } | Error::NetworkFilesystem { .. } => {
            fv_result::FV_INVALID_ARGUMENT
        }
        Error::ReadOnly(_) => fv_result::FV_READ_ONLY,
        Error::HostNotAllowed { .. } => fv_result::FV_HOST_NOT_ALLOWED,
        Error::Io { .. } => fv_result::FV_IO,
        Error::Forked { .. } => fv_result::FV_FORKED,
        Error::AgentLocked { .. } => fv_result::FV_AGENT_LOCKED,
        Error::Agent { .. } => fv_result::FV_AGENT,
    }
}

/// A failed call: its code and the message `fv_last_error_message` will return.
/// Messages name arguments, entries and paths; they never carry secret bytes.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: fv_result,
    pub(crate) message: String,
}

impl Failure {
    /// `FV_INVALID_ARGUMENT` with `message`.
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            code: fv_result::FV_INVALID_ARGUMENT,
            message: message.into(),
        }
    }

    /// `FV_NOT_FOUND` with `message`.
    pub(crate) fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            code: fv_result::FV_NOT_FOUND,
            message: message.into(),
        }
    }

    /// Stores the message as this thread's last error and returns the code.
    pub(crate) fn record(self) -> fv_result {
        set_last_error(&self.message);
        self.code
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            code: code_of(&e),
            message: e.to_string(),
        }
    }
}

thread_local! {
    /// The message of the last failed `fv_` call on this thread.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Sets this thread's last error message (an interior NUL, which no message should
/// hold, is shown as `\0` so the C string is never cut short).
pub(crate) fn set_last_error(message: &str) {
    let c =
        CString::new(message.replace('\0', "\\0")).expect("interior NULs were replaced just above");
    // A message set while the thread is being torn down is dropped: nobody can read it.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(c));
}

/// This thread's last error message, as Rust text (for tests and the C++ layer's docs).
pub fn last_error_message() -> String {
    LAST_ERROR
        .try_with(|slot| {
            slot.borrow()
                .as_ref()
                .map(|c| c.to_string_lossy().into_owned())
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

ffi_fn! {
    /// The message of the last failed `fv_` call on this thread, in UTF-8.
    ///
    /// Returns a pointer owned by the library (do not free it), valid until the next
    /// `fv_` call on this thread. Every failing call sets it; a call that succeeds
    /// leaves it as it was, so it is stale after a success: read it only right after
    /// a call returned something other than `FV_OK`. Never NULL: "" before the first
    /// failure on the thread. It names arguments, entries and paths, never secret
    /// bytes, passphrases or key material.
    fn fv_last_error_message() -> *const c_char {
        let ptr = LAST_ERROR
            .try_with(|slot| slot.borrow().as_ref().map(|c| c.as_ptr()))
            .ok()
            .flatten();
        Ok(ptr.unwrap_or(c"".as_ptr()))
    }
}

ffi_fn! {
    /// The name of a result code as static text ("FV_NOT_FOUND"), or
    /// "FV_UNKNOWN_RESULT" for a number that is not an `fv_result`.
    ///
    /// Returns a pointer to static storage: never NULL, never freed.
    fn fv_result_name(code: u32) -> *const c_char {
        Ok(fv_result::from_u32(code)
            .map_or(c"FV_UNKNOWN_RESULT", fv_result::c_name)
            .as_ptr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_named() {
        for (i, r) in fv_result::ALL.iter().enumerate() {
            assert_eq!(*r as u32, u32::try_from(i).unwrap());
            assert_eq!(fv_result::from_u32(i as u32), Some(*r));
            assert!(r.name().starts_with("FV_"));
        }
        assert_eq!(fv_result::from_u32(fv_result::ALL.len() as u32), None);
    }
}
