//! Keeping key material out of swap: the data key, its subkeys, key-encryption
//! keys, key files and unwrapped grant keys each live in their own heap
//! allocation, locked into RAM (`mlock` on Unix, `VirtualLock` on Windows,
//! through the `region` crate) for as long as they live, wiped in place when
//! dropped and only then unlocked.
//!
//! Locking is best effort and never an error. When the operating system refuses
//! (an `RLIMIT_MEMLOCK` of 0 or one already used up, a Windows working-set
//! quota, a platform with no locking), the key works exactly as before and the
//! failure is recorded: [`status`] reports it, and [`take_warning`] hands its
//! one-line warning to the first caller in the process only, so a program
//! (the `farmvault` command prints it to stderr) warns once however many keys
//! fail. The library itself never prints.
//!
//! Locks are per page, and the operating system does not count them: unlocking
//! a page unlocks it for every object on it. farmvault counts its own locks per
//! page, so two keys that share a page stay locked until both are gone, but
//! another library in the process that unlocks a page it shares with a key
//! unlocks the key too. Temporaries the compiler puts on the stack while a key
//! is derived or a cipher is built are wiped where the types allow, not locked.
//! Locked memory is not proof against hibernation (which writes all of RAM to
//! disk) or against a reader with the process's privileges.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

/// Whether the key material held so far in this process is locked in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// No key material has been held yet.
    Unused,
    /// Every key held so far was locked in memory.
    Locked,
    /// At least one key could not be locked (it works, but the operating system
    /// may write it to swap); `reason` is the first refusal, as the OS gave it.
    Failed {
        /// The operating system's error, e.g. "Operation not permitted (os error 1)".
        reason: String,
    },
}

/// Whether key material is locked in memory in this process (see the module docs).
pub fn status() -> Status {
    match STATE.load(Ordering::Acquire) {
        UNUSED => Status::Unused,
        LOCKED => Status::Locked,
        _ => Status::Failed {
            reason: FAILURE.get().cloned().unwrap_or_default(),
        },
    }
}

/// The warning to show for a failure to lock key material: `Some` for the first
/// caller after the first failure in this process, `None` before it and after.
/// The text names the operating system's error and the fix, never a secret.
pub fn take_warning() -> Option<String> {
    let Status::Failed { reason } = status() else {
        return None;
    };
    if WARNED.swap(true, Ordering::AcqRel) {
        return None;
    }
    Some(format!(
        "could not lock key material in memory: {reason}. The keys work, but the operating \
         system may write them to swap; {HINT}"
    ))
}

#[cfg(unix)]
const HINT: &str = "to keep them in RAM, raise the locked-memory limit \
                    (`ulimit -l`, or LimitMEMLOCK= for a systemd service)";
#[cfg(not(unix))]
const HINT: &str = "to keep them in RAM, raise the process's minimum working-set size";

const UNUSED: u8 = 0;
const LOCKED: u8 = 1;
const FAILED: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNUSED);
static FAILURE: OnceLock<String> = OnceLock::new();
static WARNED: AtomicBool = AtomicBool::new(false);

fn record_success() {
    // Only the first outcome moves the state off UNUSED; a failure overrides it.
    let _ = STATE.compare_exchange(UNUSED, LOCKED, Ordering::AcqRel, Ordering::Acquire);
}

fn record_failure(reason: String) {
    FAILURE.get_or_init(|| reason);
    STATE.store(FAILED, Ordering::Release);
}

/// A value that wipes its own memory when dropped, and a harmless stand-in that
/// replaces it in place (so the wipe happens before the pages are unlocked and
/// the allocation freed).
pub(crate) trait Wipe {
    /// A value holding no secret.
    fn blank() -> Self;
}

/// A `T` in its own heap allocation, locked in memory while it lives (best
/// effort), wiped in place and then unlocked when dropped.
pub(crate) struct Locked<T: Wipe> {
    value: Box<T>,
    /// The page-aligned span this value counted a lock on; `None` when locking failed.
    pages: Option<(usize, usize)>,
}

impl<T: Wipe> Locked<T> {
    /// Moves `value` into a new locked allocation. The moved-from bytes (on the
    /// stack) are not wiped: build secrets in place from [`Locked::blank`] where
    /// the type allows.
    pub fn new(value: T) -> Self {
        let value = Box::new(value);
        let pages = pages::lock(std::ptr::from_ref::<T>(&value).cast(), size_of::<T>());
        Locked { value, pages }
    }

    /// A locked allocation holding [`Wipe::blank`], to fill in place.
    pub fn blank() -> Self {
        Self::new(T::blank())
    }
}

impl<T: Wipe> Deref for Locked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Wipe> DerefMut for Locked<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: Wipe + Clone> Clone for Locked<T> {
    fn clone(&self) -> Self {
        Locked::new(T::clone(&self.value))
    }
}

impl<T: Wipe> Drop for Locked<T> {
    fn drop(&mut self) {
        // The assignment drops the secret in place (its own Drop wipes it),
        // while the allocation and its lock are still held.
        *self.value = T::blank();
        if let Some(span) = self.pages.take() {
            pages::release(span);
        }
    }
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "illumos",
    windows
))]
mod pages {
    //! Counted page locks over `region::lock`: a page is locked by the first
    //! value on it and unlocked (its guard dropped) with the last.

    use super::{record_failure, record_success, BTreeMap, Mutex};

    /// Page address -> (values on it, the OS lock).
    static LOCKS: Mutex<BTreeMap<usize, (usize, region::LockGuard)>> = Mutex::new(BTreeMap::new());

    fn table() -> std::sync::MutexGuard<'static, BTreeMap<usize, (usize, region::LockGuard)>> {
        LOCKS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the pages under `[start, start + len)`; returns the page-aligned
    /// span counted, or `None` (recorded) when the OS refused.
    pub fn lock(start: *const u8, len: usize) -> Option<(usize, usize)> {
        if len == 0 {
            return None;
        }
        let page = region::page::size();
        let first = start.addr() & !(page - 1);
        let end = (start.addr() + len).div_ceil(page) * page;
        let mut table = table();
        for at in (first..end).step_by(page) {
            if let Some((count, _)) = table.get_mut(&at) {
                *count += 1;
                continue;
            }
            // A pointer into the page at `at`, derived from `start` (no integer casts).
            let ptr = start
                .wrapping_sub(start.addr() - first)
                .wrapping_add(at - first);
            match region::lock(ptr, 1) {
                Ok(guard) => {
                    table.insert(at, (1, guard));
                }
                Err(e) => {
                    release_in(&mut table, (first, at));
                    drop(table);
                    record_failure(
                        e.as_io_error()
                            .map_or_else(|| e.to_string(), |io| io.to_string()),
                    );
                    return None;
                }
            }
        }
        drop(table);
        record_success();
        Some((first, end))
    }

    /// Drops one count on every page of `span`, unlocking those left with none.
    pub fn release(span: (usize, usize)) {
        release_in(&mut table(), span);
    }

    /// How many values count a lock on the page at `at` (0: not locked by us).
    #[cfg(test)]
    pub fn counted(at: usize) -> usize {
        table().get(&at).map_or(0, |(count, _)| *count)
    }

    fn release_in(
        table: &mut BTreeMap<usize, (usize, region::LockGuard)>,
        (first, end): (usize, usize),
    ) {
        let page = region::page::size();
        for at in (first..end).step_by(page) {
            if let Some((count, _)) = table.get_mut(&at) {
                *count -= 1;
                if *count == 0 {
                    // Dropping the guard unlocks the page, under the table's lock
                    // so that no other value can count on it meanwhile.
                    table.remove(&at);
                }
            }
        }
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "illumos",
    windows
)))]
mod pages {
    //! No memory locking on this platform: every attempt is recorded as failed.

    pub fn lock(_start: *const u8, len: usize) -> Option<(usize, usize)> {
        if len > 0 {
            super::record_failure("memory locking is not supported on this platform".into());
        }
        None
    }

    pub fn release(_span: (usize, usize)) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Small(zeroize::Zeroizing<[u8; 8]>);

    impl Wipe for Small {
        fn blank() -> Self {
            Small(zeroize::Zeroizing::new([0; 8]))
        }
    }

    fn small(b: u8) -> Locked<Small> {
        Locked::new(Small(zeroize::Zeroizing::new([b; 8])))
    }

    #[test]
    fn values_read_and_write_through_the_lock() {
        let mut a = Locked::<Small>::blank();
        a.0[7] = 7;
        let b = a.clone();
        assert_eq!(b.0[7], 7);
        drop(a);
        assert_eq!(b.0[7], 7);
        assert_ne!(status(), Status::Unused);
    }

    #[cfg(any(target_os = "linux", target_os = "macos", windows))]
    #[test]
    fn a_shared_page_stays_locked_until_its_last_value_goes() {
        // Small values from one allocator size class: two soon share a page.
        let mut held = Vec::new();
        let (a, b) = loop {
            let (a, b) = (small(1), small(2));
            let (Some(pa), Some(pb)) = (a.pages, b.pages) else {
                // The OS refused (a tight RLIMIT_MEMLOCK): nothing to count.
                assert!(matches!(status(), Status::Failed { .. }));
                return;
            };
            if pa == pb {
                break (a, b);
            }
            held.push((a, b));
            assert!(held.len() < 1000, "no two small values shared a page");
        };
        let page = b.pages.expect("locked").0;
        assert!(pages::counted(page) >= 2);
        drop(a);
        // Other tests may lock values on the page too; b's own count must remain.
        assert!(pages::counted(page) >= 1, "b's page was unlocked with a");
        assert_eq!(*b.0, [2; 8]);
        drop(b);
        drop(held);
    }
}
