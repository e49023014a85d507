//! Opaque handles: which Rust type stands behind each C type, who owns it, and the
//! registry of live handles.
//!
//! Every pointer handed to C is recorded in [`LIVE`] with its C type; every pointer
//! coming back is looked up there before it is dereferenced. So a NULL, a closed
//! handle, a double free or an `fv_entry *` passed where an `fv_vault *` belongs is
//! `FV_INVALID_ARGUMENT` with a message, not undefined behaviour. (A freed address that
//! the allocator has since handed to a new handle of the same type cannot be told
//! apart; that is the limit of "where it can be detected".)
//!
//! Ownership follows rustls-ffi's `Castable`: `fv_vault` is shared through an `Arc`
//! (any number of threads at once; a close racing with calls in flight is safe because
//! a call takes its own strong reference under the registry's read lock), every other
//! handle is a `Box` used by one thread at a time.

use super::result::Failure;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

/// How a C handle owns its Rust value.
pub(crate) trait Ownership {}

/// Owned through `Box::into_raw`; freed with `Box::from_raw`.
pub(crate) struct OwnedBox;
impl Ownership for OwnedBox {}

/// Shared through `Arc::into_raw`; closing drops the handle's strong reference.
pub(crate) struct OwnedArc;
impl Ownership for OwnedArc {}

/// Ties an opaque C type (`fv_vault`, a zero-sized `_private: [u8; 0]` struct that C
/// only ever sees behind a pointer) to the Rust value it points at.
pub(crate) trait Castable {
    /// Box or Arc.
    type Ownership: Ownership;
    /// The Rust value behind the pointer.
    type Rust;
    /// The C type's name, for messages ("fv_vault").
    const NAME: &'static str;
}

/// What the registry knows of a live address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Live {
    /// A handle the caller owns (and frees or closes).
    Owned(&'static str),
    /// A handle borrowed from its parent (an entry of an `fv_list`): readable, never freed.
    Borrowed(&'static str),
}

impl Live {
    fn name(self) -> &'static str {
        match self {
            Live::Owned(n) | Live::Borrowed(n) => n,
        }
    }
}

/// The registry's key for a handle: its address, complemented. Stored as is, the
/// address would look like a pointer to a leak checker scanning memory, and a handle a
/// C caller never freed would count as reachable instead of lost.
fn key<T>(ptr: *const T) -> usize {
    !ptr.addr()
}

/// Live handles by (complemented) address, in shards so that threads working on
/// different handles do not contend for one lock (`tests/ffi.rs` measures the cost).
/// `BTreeMap`s because they have a `const` constructor and stay small.
static LIVE: [Shard; SHARDS] = [const { Shard(RwLock::new(BTreeMap::new())) }; SHARDS];

const SHARDS: usize = 16;

/// One shard of the registry, on a cache line of its own.
#[repr(align(64))]
struct Shard(RwLock<BTreeMap<usize, Live>>);

/// The shard holding `key` (allocations are 16-byte aligned: skip the zero bits).
fn shard(key: usize) -> &'static RwLock<BTreeMap<usize, Live>> {
    &LIVE[(key >> 4) % SHARDS].0
}

fn live_read(key: usize) -> std::sync::RwLockReadGuard<'static, BTreeMap<usize, Live>> {
    // A shard is valid after any panic (each change is one insert or remove).
    shard(key).read().unwrap_or_else(PoisonError::into_inner)
}

fn live_write(key: usize) -> std::sync::RwLockWriteGuard<'static, BTreeMap<usize, Live>> {
    shard(key).write().unwrap_or_else(PoisonError::into_inner)
}

/// The failure for a pointer the registry does not vouch for as a `C`.
fn not_live<C: Castable>(found: Option<Live>, arg: &str) -> Failure {
    match found {
        Some(other) => Failure::invalid(format!(
            "{arg}: expected an {}, got an {}",
            C::NAME,
            other.name()
        )),
        None => Failure::invalid(format!(
            "{arg}: {} handle is closed or invalid (already freed, or not from farmvault)",
            C::NAME
        )),
    }
}

/// Checks that `ptr` is a live `C` (owned or borrowed).
fn check<C: Castable>(
    live: &BTreeMap<usize, Live>,
    ptr: *const C,
    arg: &str,
) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{arg} is NULL")));
    }
    match live.get(&key(ptr)).copied() {
        Some(l) if l.name() == C::NAME => Ok(()),
        other => Err(not_live::<C>(other, arg)),
    }
}

/// Hands `value` to C as a new owned `C` handle.
pub(crate) fn new_box<C: Castable<Ownership = OwnedBox>>(value: C::Rust) -> *mut C {
    let ptr = Box::into_raw(Box::new(value)).cast::<C>();
    live_write(key(ptr)).insert(key(ptr), Live::Owned(C::NAME));
    ptr
}

/// Records `value` (owned by its parent, which outlives this record) as a borrowed `C`.
pub(crate) fn lend<C: Castable<Ownership = OwnedBox>>(value: &C::Rust) -> *const C {
    let ptr = std::ptr::from_ref(value).cast::<C>();
    live_write(key(ptr)).insert(key(ptr), Live::Borrowed(C::NAME));
    ptr
}

/// Ends a record made by [`lend`] (the parent is going away).
pub(crate) fn end_loan<C: Castable<Ownership = OwnedBox>>(value: &C::Rust) {
    let addr = key(std::ptr::from_ref(value));
    let mut live = live_write(addr);
    if live.get(&addr) == Some(&Live::Borrowed(C::NAME)) {
        live.remove(&addr);
    }
}

/// `&C::Rust` for an owned or borrowed handle.
///
/// # Safety
/// No other thread frees `ptr` during the returned reference's use (the header's
/// one-thread-at-a-time rule for non-vault handles).
pub(crate) unsafe fn try_ref<'a, C: Castable<Ownership = OwnedBox>>(
    ptr: *const C,
    arg: &str,
) -> Result<&'a C::Rust, Failure> {
    check(&live_read(key(ptr)), ptr, arg)?;
    // SAFETY: the registry holds this address as a live `C`, so it came from `new_box`
    // or `lend` for `C::Rust` and has not been freed; the caller rules out a
    // concurrent free.
    Ok(unsafe { &*ptr.cast::<C::Rust>() })
}

/// `&mut C::Rust` for an owned handle (a borrowed one is read-only).
///
/// # Safety
/// No other thread uses `ptr` during the returned reference's use.
pub(crate) unsafe fn try_mut<'a, C: Castable<Ownership = OwnedBox>>(
    ptr: *mut C,
    arg: &str,
) -> Result<&'a mut C::Rust, Failure> {
    {
        let live = live_read(key(ptr));
        check(&live, ptr, arg)?;
        if live.get(&key(ptr)) != Some(&Live::Owned(C::NAME)) {
            return Err(Failure::invalid(format!(
                "{arg}: this {} is borrowed from its parent and cannot be changed",
                C::NAME
            )));
        }
    }
    // SAFETY: a live owned `C` from `new_box` (registry), used by this thread alone
    // (the caller's promise), so this is the only reference.
    Ok(unsafe { &mut *ptr.cast::<C::Rust>() })
}

/// Removes an owned `C` from the registry under the write lock, so that the caller is
/// the only one to reclaim it; a closed, borrowed or foreign pointer is refused.
fn take_owned<C: Castable>(ptr: *const C, arg: &str) -> Result<(), Failure> {
    let mut live = live_write(key(ptr));
    match live.get(&key(ptr)).copied() {
        Some(Live::Owned(n)) if n == C::NAME => {
            live.remove(&key(ptr));
            Ok(())
        }
        Some(Live::Borrowed(n)) if n == C::NAME => Err(Failure::invalid(format!(
            "{arg}: this {n} is borrowed from its parent; free the parent instead"
        ))),
        other => Err(not_live::<C>(other, arg)),
    }
}

/// Frees an owned handle. NULL is a no-op; a closed, borrowed or foreign pointer
/// records a message and frees nothing.
pub(crate) fn free_box<C: Castable<Ownership = OwnedBox>>(
    ptr: *mut C,
    arg: &str,
) -> Result<(), Failure> {
    if ptr.is_null() {
        return Ok(());
    }
    take_owned(ptr, arg)?;
    // SAFETY: the address was a live owned `C` from `new_box` and this thread removed
    // it from the registry under the write lock, so no one else reclaims it.
    drop(unsafe { Box::from_raw(ptr.cast::<C::Rust>()) });
    Ok(())
}

/// Hands `value` to C as a new shared `C` handle.
pub(crate) fn new_arc<C: Castable<Ownership = OwnedArc>>(value: C::Rust) -> *mut C {
    let ptr = Arc::into_raw(Arc::new(value)).cast::<C>().cast_mut();
    live_write(key(ptr)).insert(key(ptr), Live::Owned(C::NAME));
    ptr
}

/// A new strong reference to a shared handle: the value stays alive for the call
/// even if another thread closes the handle meanwhile.
pub(crate) fn try_arc<C: Castable<Ownership = OwnedArc>>(
    ptr: *const C,
    arg: &str,
) -> Result<Arc<C::Rust>, Failure> {
    let live = live_read(key(ptr));
    check(&live, ptr, arg)?;
    let raw = ptr.cast::<C::Rust>();
    // SAFETY: registered, so `raw` came from `Arc::into_raw` in `new_arc` and the
    // handle's strong reference is still held: `close_arc` removes the address under
    // the write lock before releasing it, and we hold the read lock until we own a
    // strong reference of our own.
    unsafe {
        Arc::increment_strong_count(raw);
        Ok(Arc::from_raw(raw))
    }
}

/// Releases a shared handle. NULL is a no-op; a closed or foreign pointer records a
/// message. Calls in flight on other threads keep the value alive until they return.
pub(crate) fn close_arc<C: Castable<Ownership = OwnedArc>>(
    ptr: *mut C,
    arg: &str,
) -> Result<(), Failure> {
    if ptr.is_null() {
        return Ok(());
    }
    take_owned(ptr, arg)?;
    // SAFETY: from `Arc::into_raw` in `new_arc` (registry); this thread removed it from
    // the registry under the write lock, so the handle's strong reference is released
    // exactly once. Dropped outside the lock: the last drop flushes the database.
    drop(unsafe { Arc::from_raw(ptr.cast_const().cast::<C::Rust>()) });
    Ok(())
}
