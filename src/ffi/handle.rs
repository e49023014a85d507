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
    /// Which C type it is, as the registry records it.
    const TYPE: HandleType;
}

/// The C handle types, as the registry records them (a byte compared in one
/// instruction, not the type's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandleType {
    Vault,
    Options,
    Credential,
    Secret,
    Entry,
    List,
    Batch,
}

impl HandleType {
    /// The C type's name, for messages ("fv_vault").
    fn name(self) -> &'static str {
        match self {
            HandleType::Vault => "fv_vault",
            HandleType::Options => "fv_options",
            HandleType::Credential => "fv_credential",
            HandleType::Secret => "fv_secret",
            HandleType::Entry => "fv_entry",
            HandleType::List => "fv_list",
            HandleType::Batch => "fv_batch",
        }
    }
}

/// What the registry knows of a live address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Live {
    /// A handle the caller owns (and frees or closes).
    Owned(HandleType),
    /// A handle borrowed from its parent (an entry of an `fv_list`): readable, never freed.
    Borrowed(HandleType),
}

impl Live {
    fn handle_type(self) -> HandleType {
        match self {
            Live::Owned(t) | Live::Borrowed(t) => t,
        }
    }
}

/// The registry's key for a handle: its address, complemented. Stored as is, the
/// address would look like a pointer to a leak checker scanning memory, and a handle a
/// C caller never freed would count as reachable instead of lost. Never 0 (that would
/// be the address `usize::MAX`), which [`Table`] uses for an empty slot.
fn key<T>(ptr: *const T) -> usize {
    !ptr.addr()
}

/// One slot of a [`Table`]: `key` 0 is empty.
#[derive(Clone, Copy)]
struct Slot {
    key: usize,
    live: Live,
}

const EMPTY: Slot = Slot {
    key: 0,
    live: Live::Owned(HandleType::Vault),
};

/// The live handles of one shard: a set of distinct addresses with a byte each, in
/// an open-addressing table (linear probing, deletion by backward shift, so there are
/// no tombstones and a lookup stops at the first empty slot), at most half full.
///
/// Made for this one job because it is on the path of every get: a `BTreeMap` insert
/// and remove cost about 290 instructions a handle, hashbrown's about 210, this table
/// well under 100 (counted with the ffi bench's callgrind loop, docs/PERFORMANCE.md). It also keeps the only pointer to its memory
/// at the start of the block (a `Vec`), so valgrind sees it as reachable, where
/// hashbrown's interior pointer reads as "possibly lost".
struct Table {
    /// A power of two of slots (or none before the first insert).
    slots: Vec<Slot>,
    /// Occupied slots.
    len: usize,
}

impl Table {
    const fn new() -> Table {
        Table {
            slots: Vec::new(),
            len: 0,
        }
    }

    /// The slot where the search for `key` starts. The addresses of one shard share
    /// their low bits (alignment, and the bits that chose the shard), so the index
    /// comes from the high bits of a multiplicative (Fibonacci) hash, which depend
    /// on all of them.
    fn home(&self, key: usize) -> usize {
        let bits = self.slots.len().trailing_zeros();
        let h = (key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // `bits` is at least 4 (see `resize`), so the shift is below 64.
        (h >> (64 - bits)) as usize
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `key`, if any.
    fn find(&self, key: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            match self.slots[i].key {
                k if k == key => return Some(i),
                0 => return None,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn get(&self, key: usize) -> Option<Live> {
        self.find(key).map(|i| self.slots[i].live)
    }

    /// Records `key` (not already present: addresses of live handles are distinct).
    fn insert(&mut self, key: usize, live: Live) {
        debug_assert!(key != 0 && self.find(key).is_none());
        if (self.len + 1) * 2 > self.slots.len() {
            self.resize((self.len + 1) * 4);
        }
        let mask = self.mask();
        let mut i = self.home(key);
        while self.slots[i].key != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { key, live };
        self.len += 1;
    }

    /// Removes the slot `i` (from [`Table::find`]), shifting back the slots after it
    /// that would otherwise be cut off from their home by the new hole.
    fn remove_at(&mut self, i: usize) {
        let mask = self.mask();
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let k = self.slots[j].key;
            if k == 0 {
                break;
            }
            // The slot at j may fill the hole if the hole lies on its probe path, from
            // its home to j.
            let home = self.home(k);
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[j];
                hole = j;
            }
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
        // Give back the memory of a long list once it is freed.
        if self.slots.len() > 64 && self.len * 8 < self.slots.len() {
            self.resize(self.len * 4);
        }
    }

    /// Rebuilds the table with room for at least `want` slots (a power of two, 16 or
    /// more).
    fn resize(&mut self, want: usize) {
        let size = want.max(16).next_power_of_two();
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.key != 0) {
            self.insert(slot.key, slot.live);
        }
    }
}

/// Live handles by (complemented) address, in shards so that threads working on
/// different handles do not contend for one lock (`tests/ffi/vault.rs` measures the cost).
/// Lookups take a shard's read lock; registering a handle and releasing it take its
/// write lock, once each.
static LIVE: [Shard; SHARDS] = [const { Shard(RwLock::new(Table::new())) }; SHARDS];

const SHARDS: usize = 16;

/// One shard of the registry, on a cache line of its own.
#[repr(align(64))]
struct Shard(RwLock<Table>);

/// The shard holding `key` (allocations are 16-byte aligned: skip the zero bits).
fn shard(key: usize) -> &'static RwLock<Table> {
    &LIVE[(key >> 4) % SHARDS].0
}

fn live_read(key: usize) -> std::sync::RwLockReadGuard<'static, Table> {
    // A shard is valid after any panic: a change panics (allocating) only in `resize`,
    // before it replaces the slots.
    shard(key).read().unwrap_or_else(PoisonError::into_inner)
}

fn live_write(key: usize) -> std::sync::RwLockWriteGuard<'static, Table> {
    shard(key).write().unwrap_or_else(PoisonError::into_inner)
}

/// The failure for a pointer the registry does not vouch for as a `C`.
fn not_live<C: Castable>(found: Option<Live>, arg: &str) -> Failure {
    match found {
        Some(other) => Failure::invalid(format!(
            "{arg}: expected an {}, got an {}",
            C::TYPE.name(),
            other.handle_type().name()
        )),
        None => Failure::invalid(format!(
            "{arg}: {} handle is closed or invalid (already freed, or not from farmvault)",
            C::TYPE.name()
        )),
    }
}

/// Checks that `ptr` is a live `C` (owned or borrowed).
fn check<C: Castable>(live: &Table, ptr: *const C, arg: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{arg} is NULL")));
    }
    match live.get(key(ptr)) {
        Some(l) if l.handle_type() == C::TYPE => Ok(()),
        other => Err(not_live::<C>(other, arg)),
    }
}

/// Hands `value` to C as a new owned `C` handle.
pub(crate) fn new_box<C: Castable<Ownership = OwnedBox>>(value: C::Rust) -> *mut C {
    register(Box::new(value))
}

/// Hands a boxed value to C as a new owned `C` handle.
fn register<C: Castable<Ownership = OwnedBox>>(value: Box<C::Rust>) -> *mut C {
    let ptr = Box::into_raw(value).cast::<C>();
    live_write(key(ptr)).insert(key(ptr), Live::Owned(C::TYPE));
    ptr
}

/// Like [`new_box`], and also returns `f` of the value (a view borrowing from it)
/// computed before it is handed over.
pub(crate) fn new_box_with<C: Castable<Ownership = OwnedBox>, R>(
    value: C::Rust,
    f: impl FnOnce(&C::Rust) -> R,
) -> (*mut C, R) {
    let boxed = Box::new(value);
    let r = f(&boxed);
    (register(boxed), r)
}

/// Records `value` (owned by its parent, which outlives this record) as a borrowed `C`.
pub(crate) fn lend<C: Castable<Ownership = OwnedBox>>(value: &C::Rust) -> *const C {
    let ptr = std::ptr::from_ref(value).cast::<C>();
    live_write(key(ptr)).insert(key(ptr), Live::Borrowed(C::TYPE));
    ptr
}

/// Ends a record made by [`lend`] (the parent is going away).
pub(crate) fn end_loan<C: Castable<Ownership = OwnedBox>>(value: &C::Rust) {
    let addr = key(std::ptr::from_ref(value));
    let mut live = live_write(addr);
    if let Some(i) = live.find(addr) {
        if live.slots[i].live == Live::Borrowed(C::TYPE) {
            live.remove_at(i);
        }
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
        if live.get(key(ptr)) != Some(Live::Owned(C::TYPE)) {
            return Err(Failure::invalid(format!(
                "{arg}: this {} is borrowed from its parent and cannot be changed",
                C::TYPE.name()
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
    let key = key(ptr);
    let mut live = live_write(key);
    let Some(i) = live.find(key) else {
        return Err(not_live::<C>(None, arg));
    };
    match live.slots[i].live {
        Live::Owned(t) if t == C::TYPE => {
            live.remove_at(i);
            Ok(())
        }
        Live::Borrowed(t) if t == C::TYPE => Err(Failure::invalid(format!(
            "{arg}: this {} is borrowed from its parent; free the parent instead",
            t.name()
        ))),
        other => Err(not_live::<C>(Some(other), arg)),
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
    live_write(key(ptr)).insert(key(ptr), Live::Owned(C::TYPE));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The table against a `HashMap` model: inserts and removes in a pseudo-random
    /// order, growing to thousands of keys and shrinking back, with keys shaped like
    /// the registry's (complemented 16-byte-aligned addresses sharing a shard's bits).
    #[test]
    fn table_agrees_with_a_map() {
        let mut t = Table::new();
        let mut model: HashMap<usize, Live> = HashMap::new();
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let key_of = |n: u64| !(0x5555_0000_0000usize + ((n as usize % 50_000) << 8));
        for round in 0..200_000 {
            let k = key_of(rand());
            let growing = (round / 20_000) % 2 == 0;
            match model.get(&k).copied() {
                Some(live) if !growing || rand() % 4 == 0 => {
                    let i = t.find(k).expect("a present key is found");
                    assert_eq!(t.slots[i].live, live);
                    t.remove_at(i);
                    model.remove(&k);
                }
                Some(_) => {}
                None if growing || rand() % 4 == 0 => {
                    let live = if rand() % 2 == 0 {
                        Live::Owned(HandleType::Entry)
                    } else {
                        Live::Borrowed(HandleType::Secret)
                    };
                    t.insert(k, live);
                    model.insert(k, live);
                }
                None => {}
            }
            assert_eq!(t.len, model.len());
            if round % 997 == 0 {
                for (k, v) in &model {
                    assert_eq!(t.get(*k), Some(*v));
                }
                assert_eq!(t.get(key_of(rand()) ^ 0x10), None, "a key never inserted");
                assert!(t.slots.len() >= 2 * t.len && t.slots.len().is_power_of_two());
            }
        }
        for k in model.keys() {
            let i = t.find(*k).unwrap();
            t.remove_at(i);
        }
        assert_eq!(t.len, 0);
        assert!(t.slots.len() <= 64, "the table shrinks back");
    }
}
