//! How many times this process is a `fork` away from the one that started
//! the count: 0 in the process that loaded the library, incremented in each
//! child a `fork` makes (through `pthread_atfork`'s child handler).
//!
//! A handle records the count when it is made and compares it on each call:
//! one atomic load, where `getpid` would be a system call per operation.
//! `fork` copies only the calling thread, so a sled store opened before it
//! has no background threads in the child, and its locks may be held by
//! threads that no longer exist there: the child must not use it.
//!
//! Windows has no `fork`; the count stays 0 there.

use std::sync::atomic::{AtomicU64, Ordering};

static FORKS: AtomicU64 = AtomicU64::new(0);

/// The fork count of this process. The first call registers the handler, so
/// it must happen before the fork it is to see: handles call it when they
/// are made.
pub(crate) fn count() -> u64 {
    register();
    FORKS.load(Ordering::Relaxed)
}

#[cfg(unix)]
extern "C" fn in_child() {
    // Runs in the child right after fork, before fork returns there: only
    // async-signal-safe work is allowed, and an atomic add is.
    FORKS.fetch_add(1, Ordering::Relaxed);
}

#[cfg(unix)]
fn register() {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(|| {
        // SAFETY: pthread_atfork only stores the three function pointers; the
        // one given is a plain `extern "C" fn` with no arguments that lives
        // as long as the library (a static function), and touches only a
        // static atomic. It never fails short of ENOMEM, in which case the
        // count stays 0 and a child is not told apart (as before this check).
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
}

#[cfg(not(unix))]
fn register() {}
