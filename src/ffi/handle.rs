//! Opaque handles: which Rust type stands behind each C type, who owns it, and the
//! registry of live handles.
//!
//! A handle given to C is an id, never an address: a number from a process-wide
//! counter that is never issued twice, cast to the opaque pointer type (C sees
//! `fv_vault *` as before; the value is never dereferenced, by C or by the library).
//! The registry, [`LIVE`], maps each live id to its C type and to the address of the
//! Rust value; every handle coming back is looked up there before anything is
//! touched. So a NULL, a closed handle, a double free, a pointer that is not a
//! handle, or an `fv_entry *` passed where an `fv_vault *` belongs is
//! `FV_INVALID_ARGUMENT` with a message, not undefined behaviour. And because ids are
//! never reused, a stale handle stays refused for the life of the process: it can
//! never reach a value opened after it was closed, as an address reused by the
//! allocator would.
//!
//! Ownership follows rustls-ffi's `Castable`: `fv_vault` is shared through an `Arc`
//! (any number of threads at once; a close racing with calls in flight is safe because
//! a call takes its own strong reference under the registry's read lock), every other
//! handle is a `Box` used by one thread at a time.

use super::result::Failure;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
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
/// only ever sees behind a pointer) to the Rust value its handles stand for.
pub(crate) trait Castable {
    /// Box or Arc.
    type Ownership: Ownership;
    /// The Rust value a handle stands for.
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

/// What the registry knows of a live handle's kind.
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

// ---- ids ----

/// The next block of ids to hand out. Starts at 1: id 0 would be NULL.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many ids a thread takes from [`NEXT_ID`] at once, so that threads making
/// handles at the same time (every get makes one) do not contend for one counter.
/// The ids a thread leaves unused when it ends are never issued.
const ID_BLOCK: u64 = 1024;

thread_local! {
    /// This thread's block of ids: the next one, and the end of the block.
    static IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Odd, so multiplying by it permutes the integers modulo 2^`usize::BITS`: distinct
/// counters give distinct ids, and no counter but 0 gives 0. (The golden ratio's
/// fraction, truncated to `usize` on narrower targets, where it is odd too.)
const SCRAMBLE: usize = 0x9e37_79b9_7f4a_7c15_u64 as usize;

/// A block of `n` fresh counters from [`NEXT_ID`]: its first one.
fn take_ids(n: u64) -> u64 {
    // The counter never wraps and never passes what a pointer can hold (on 64-bit
    // targets, more than a process can use up: at a billion handles a second, 584
    // years). Once no block is left it stays where it is, and every new handle fails
    // (FV_PANIC) rather than reuse an id.
    NEXT_ID
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
            next.checked_add(n)
                .filter(|end| usize::try_from(end - 1).is_ok())
        })
        .expect("farmvault has issued every handle id a pointer can hold")
}

/// A new handle id: never 0, never issued before in this process.
///
/// The counter is scrambled (multiplied by [`SCRAMBLE`]) so that ids do not look like
/// small integers or addresses: a stray one passed as a handle (a count, an index, a
/// pointer to something else) is refused unless it happens to equal a live id, and
/// ids made one after the other spread over the registry's shards and the slots of a
/// shard's table alike ([`shard`], [`Table::home`]).
fn new_id() -> usize {
    let counter = IDS
        .try_with(|ids| {
            let (mut next, mut end) = ids.get();
            if next == end {
                next = take_ids(ID_BLOCK);
                end = next + ID_BLOCK;
            }
            ids.set((next + 1, end));
            next
        })
        // A thread being torn down (a destructor making a handle) takes one id.
        .unwrap_or_else(|_| take_ids(1));
    // `take_ids` hands out only counters that fit.
    let counter = usize::try_from(counter).expect("handle counters fit in usize");
    counter.wrapping_mul(SCRAMBLE)
}

/// The id a handle stands for.
fn id_of<C>(ptr: *const C) -> usize {
    ptr.addr()
}

/// The handle C sees for `id`: the id as a pointer without provenance, which is
/// never dereferenced.
fn handle_of<C>(id: usize) -> *mut C {
    std::ptr::without_provenance_mut(id)
}

/// The registry's record of a value's address: its complement. Stored as is, the
/// address would look like a pointer to a leak checker scanning memory, and a handle
/// a C caller never freed would count as reachable instead of lost. The address is
/// exposed, so [`address`] can make a pointer to the value again.
fn hide<T>(ptr: *const T) -> usize {
    !ptr.expose_provenance()
}

/// The pointer to the value whose address [`hide`] recorded.
fn address<T>(hidden: usize) -> *const T {
    std::ptr::with_exposed_provenance(!hidden)
}

// ---- the registry ----

/// One slot of a [`Table`]: `id` 0 is empty.
#[derive(Clone, Copy)]
struct Slot {
    id: usize,
    live: Live,
    /// The value's address, as [`hide`] records it.
    hidden: usize,
}

const EMPTY: Slot = Slot {
    id: 0,
    live: Live::Owned(HandleType::Vault),
    hidden: 0,
};

/// The live handles of one shard: a set of distinct ids with their kind and value, in
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

    /// The slot where the search for `id` starts: the id's high bits. An id is a
    /// counter times [`SCRAMBLE`], so its high bits are the counter's multiplicative
    /// (Fibonacci) hash, which spreads counters made one after the other; the low
    /// bits chose the shard and are the same for every id in it.
    fn home(&self, id: usize) -> usize {
        let bits = self.slots.len().trailing_zeros();
        // `bits` is at least 4 (see `resize`), so the shift is below `usize::BITS`.
        id >> (usize::BITS - bits)
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `id`, if any.
    fn find(&self, id: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = self.home(id);
        loop {
            match self.slots[i].id {
                k if k == id => return Some(i),
                0 => return None,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn get(&self, id: usize) -> Option<Slot> {
        self.find(id).map(|i| self.slots[i])
    }

    /// Records `slot` (its id not already present: ids are never issued twice).
    fn insert(&mut self, slot: Slot) {
        debug_assert!(slot.id != 0 && self.find(slot.id).is_none());
        if (self.len + 1) * 2 > self.slots.len() {
            self.resize((self.len + 1) * 4);
        }
        let mask = self.mask();
        let mut i = self.home(slot.id);
        while self.slots[i].id != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
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
            let k = self.slots[j].id;
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
        for slot in old.into_iter().filter(|s| s.id != 0) {
            self.insert(slot);
        }
    }
}

/// Live handles by id, in shards so that threads working on different handles do not
/// contend for one lock (`tests/ffi/vault.rs` measures the cost). Lookups take a
/// shard's read lock; registering a handle and releasing it take its write lock, once
/// each.
static LIVE: [Shard; SHARDS] = [const { Shard(RwLock::new(Table::new())) }; SHARDS];

const SHARDS: usize = 16;

/// One shard of the registry, on a cache line of its own.
#[repr(align(64))]
struct Shard(RwLock<Table>);

/// The shard holding `id`: its low bits, which for ids made one after the other
/// take every value in turn ([`SCRAMBLE`] is odd).
fn shard(id: usize) -> &'static RwLock<Table> {
    &LIVE[id % SHARDS].0
}

fn live_read(id: usize) -> std::sync::RwLockReadGuard<'static, Table> {
    // A shard is valid after any panic: a change panics (allocating) only in `resize`,
    // before it replaces the slots.
    shard(id).read().unwrap_or_else(PoisonError::into_inner)
}

fn live_write(id: usize) -> std::sync::RwLockWriteGuard<'static, Table> {
    shard(id).write().unwrap_or_else(PoisonError::into_inner)
}

/// Records the value at `value` as a new handle of kind `live`, and returns it.
fn register<C, T>(value: *const T, live: Live) -> *mut C {
    let id = new_id();
    live_write(id).insert(Slot {
        id,
        live,
        hidden: hide(value),
    });
    handle_of(id)
}

/// The failure for a handle the registry does not vouch for as a `C`.
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

/// The slot of `ptr` if it is a live `C` (owned or borrowed).
fn check<C: Castable>(live: &Table, ptr: *const C, arg: &str) -> Result<Slot, Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{arg} is NULL")));
    }
    match live.get(id_of(ptr)) {
        Some(slot) if slot.live.handle_type() == C::TYPE => Ok(slot),
        other => Err(not_live::<C>(other.map(|s| s.live), arg)),
    }
}

/// Hands `value` to C as a new owned `C` handle.
pub(crate) fn new_box<C: Castable<Ownership = OwnedBox>>(value: C::Rust) -> *mut C {
    register_box(Box::new(value))
}

/// Hands a boxed value to C as a new owned `C` handle.
fn register_box<C: Castable<Ownership = OwnedBox>>(value: Box<C::Rust>) -> *mut C {
    let raw = Box::into_raw(value);
    register(raw, Live::Owned(C::TYPE))
}

/// Like [`new_box`], and also returns `f` of the value (a view borrowing from it)
/// computed before it is handed over.
pub(crate) fn new_box_with<C: Castable<Ownership = OwnedBox>, R>(
    value: C::Rust,
    f: impl FnOnce(&C::Rust) -> R,
) -> (*mut C, R) {
    let boxed = Box::new(value);
    let r = f(&boxed);
    (register_box(boxed), r)
}

/// Records `value` (owned by its parent, which outlives this record and ends it with
/// [`end_loan`]) as a new borrowed `C` handle.
pub(crate) fn lend<C: Castable<Ownership = OwnedBox>>(value: &C::Rust) -> *const C {
    register::<C, C::Rust>(value, Live::Borrowed(C::TYPE))
}

/// Ends a loan made by [`lend`] (the parent is going away): the handle is refused from
/// now on.
pub(crate) fn end_loan<C: Castable<Ownership = OwnedBox>>(handle: *const C) {
    let id = id_of(handle);
    let mut live = live_write(id);
    if let Some(i) = live.find(id) {
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
    let slot = check(&live_read(id_of(ptr)), ptr, arg)?;
    // SAFETY: the registry holds this id as a live `C`, so its address came from
    // `new_box` or `lend` for `C::Rust` and has not been freed (a free removes the id
    // first); the caller rules out a concurrent free.
    Ok(unsafe { &*address::<C::Rust>(slot.hidden) })
}

/// `&mut C::Rust` for an owned handle (a borrowed one is read-only).
///
/// # Safety
/// No other thread uses `ptr` during the returned reference's use.
pub(crate) unsafe fn try_mut<'a, C: Castable<Ownership = OwnedBox>>(
    ptr: *mut C,
    arg: &str,
) -> Result<&'a mut C::Rust, Failure> {
    let slot = check(&live_read(id_of(ptr)), ptr, arg)?;
    if slot.live != Live::Owned(C::TYPE) {
        return Err(Failure::invalid(format!(
            "{arg}: this {} is borrowed from its parent and cannot be changed",
            C::TYPE.name()
        )));
    }
    // SAFETY: a live owned `C` from `new_box` (registry), used by this thread alone
    // (the caller's promise), so this is the only reference.
    Ok(unsafe { &mut *address::<C::Rust>(slot.hidden).cast_mut() })
}

/// Removes an owned `C` from the registry under the write lock, so that the caller is
/// the only one to reclaim it, and returns the value's address (as [`hide`] recorded
/// it); a closed, borrowed or foreign handle is refused.
fn take_owned<C: Castable>(ptr: *const C, arg: &str) -> Result<usize, Failure> {
    let id = id_of(ptr);
    let mut live = live_write(id);
    let Some(i) = live.find(id) else {
        return Err(not_live::<C>(None, arg));
    };
    let slot = live.slots[i];
    match slot.live {
        Live::Owned(t) if t == C::TYPE => {
            live.remove_at(i);
            Ok(slot.hidden)
        }
        Live::Borrowed(t) if t == C::TYPE => Err(Failure::invalid(format!(
            "{arg}: this {} is borrowed from its parent; free the parent instead",
            t.name()
        ))),
        other => Err(not_live::<C>(Some(other), arg)),
    }
}

/// Frees an owned handle. NULL is a no-op; a closed, borrowed or foreign handle
/// records a message and frees nothing.
pub(crate) fn free_box<C: Castable<Ownership = OwnedBox>>(
    ptr: *mut C,
    arg: &str,
) -> Result<(), Failure> {
    if ptr.is_null() {
        return Ok(());
    }
    let hidden = take_owned(ptr, arg)?;
    // SAFETY: the address came from `Box::into_raw` in `new_box` for a `C::Rust`, and
    // this thread removed its id from the registry under the write lock, so no one
    // else reclaims it.
    drop(unsafe { Box::from_raw(address::<C::Rust>(hidden).cast_mut()) });
    Ok(())
}

/// Hands `value` to C as a new shared `C` handle.
pub(crate) fn new_arc<C: Castable<Ownership = OwnedArc>>(value: C::Rust) -> *mut C {
    register(Arc::into_raw(Arc::new(value)), Live::Owned(C::TYPE))
}

/// A new strong reference to a shared handle: the value stays alive for the call
/// even if another thread closes the handle meanwhile.
pub(crate) fn try_arc<C: Castable<Ownership = OwnedArc>>(
    ptr: *const C,
    arg: &str,
) -> Result<Arc<C::Rust>, Failure> {
    let live = live_read(id_of(ptr));
    let slot = check(&live, ptr, arg)?;
    let raw = address::<C::Rust>(slot.hidden);
    // SAFETY: registered, so `raw` came from `Arc::into_raw` in `new_arc` and the
    // handle's strong reference is still held: `close_arc` removes the id under the
    // write lock before releasing it, and we hold the read lock until we own a strong
    // reference of our own.
    unsafe {
        Arc::increment_strong_count(raw);
        Ok(Arc::from_raw(raw))
    }
}

/// Releases a shared handle. NULL is a no-op; a closed or foreign handle records a
/// message. Calls in flight on other threads keep the value alive until they return.
pub(crate) fn close_arc<C: Castable<Ownership = OwnedArc>>(
    ptr: *mut C,
    arg: &str,
) -> Result<(), Failure> {
    if ptr.is_null() {
        return Ok(());
    }
    let hidden = take_owned(ptr, arg)?;
    // SAFETY: from `Arc::into_raw` in `new_arc` (registry); this thread removed its id
    // from the registry under the write lock, so the handle's strong reference is
    // released exactly once. Dropped outside the lock: the last drop flushes the
    // database.
    drop(unsafe { Arc::from_raw(address::<C::Rust>(hidden)) });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn slot(id: usize, live: Live) -> Slot {
        Slot {
            id,
            live,
            hidden: !id,
        }
    }

    /// The table against a `HashMap` model: inserts and removes in a pseudo-random
    /// order, growing to thousands of ids and shrinking back, with ids shaped like the
    /// registry's (scrambled counters sharing a shard's low bits).
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
        // The id of the `n`th counter of one shard.
        let id_of_counter = |n: u64| (1 + n as usize * SHARDS).wrapping_mul(SCRAMBLE);
        for round in 0..200_000 {
            let k = id_of_counter(rand() % 50_000);
            let growing = (round / 20_000) % 2 == 0;
            match model.get(&k).copied() {
                Some(live) if !growing || rand() % 4 == 0 => {
                    let i = t.find(k).expect("a present id is found");
                    assert_eq!(t.slots[i].live, live);
                    assert_eq!(t.slots[i].hidden, !k);
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
                    t.insert(slot(k, live));
                    model.insert(k, live);
                }
                None => {}
            }
            assert_eq!(t.len, model.len());
            if round % 997 == 0 {
                for (k, v) in &model {
                    assert_eq!(t.get(*k).map(|s| s.live), Some(*v));
                }
                let absent = id_of_counter(50_000 + rand() % 1000);
                assert!(t.get(absent).is_none(), "an id never inserted");
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

    /// Ids are never 0 and never repeat, across threads and blocks, and the ids one
    /// thread makes in a row visit every shard in turn.
    #[test]
    fn ids_are_fresh_nonzero_and_spread_over_the_shards() {
        let ids: Vec<Vec<usize>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..3 * ID_BLOCK).map(|_| new_id()).collect::<Vec<_>>()))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let mut seen = HashSet::new();
        for thread in &ids {
            for id in thread {
                assert_ne!(*id, 0);
                assert!(seen.insert(*id), "id {id:#x} issued twice");
            }
            let shards: HashSet<usize> = thread[..SHARDS].iter().map(|id| id % SHARDS).collect();
            assert_eq!(shards.len(), SHARDS);
        }
    }
}
