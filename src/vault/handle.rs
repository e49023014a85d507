//! The direct handle (`Direct`, what a `Vault` is when this process has the
//! store open) and what every vault operation shares: the store it reads and
//! writes, the read-locked keys, and the one way a change reaches sled and the
//! backup journal.

use crate::clock::Clock;
use crate::crypto::KdfParams;
use crate::error::{Error, Result};
use crate::format::{self, HeaderBody};
use crate::keys::{Kek, Keys};
use crate::os::fork;
use crate::storage::{Changes, Store};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLockReadGuard};

/// A vault this process has open itself: every handle on the same directory in
/// a process shares one database.
pub(crate) struct Direct {
    pub(crate) store: Arc<Store>,
    pub(super) clock: Arc<dyn Clock>,
    /// The clock was given by the caller (`Config::clock`), not the system's.
    pub(super) simulated_clock: bool,
    pub(super) kdf: KdfParams,
    /// The key-encryption key this handle opened with: a rotation rewraps its slot.
    pub(super) own: Mutex<Kek>,
    /// The header format version this handle's open upgraded the vault from.
    pub(super) upgraded_from: Option<u16>,
    /// The process's fork count when the handle was made (`os::fork`).
    forks: u64,
}

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct")
            .field("path", &self.store.path)
            .finish_non_exhaustive()
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        if self.unforked().is_err() {
            // In a forked child the store's threads and locks are the
            // parent's: closing it (sled's final flush, the journal's close
            // mark) could hang or write over the parent's files. One more
            // reference, never released, keeps the child from closing it.
            std::mem::forget(Arc::clone(&self.store));
        }
    }
}

/// The vault's keys under the read lock that keeps a rotation out (`Direct::keys`).
pub(crate) struct KeysGuard<'a>(RwLockReadGuard<'a, Option<Arc<Keys>>>);

impl KeysGuard<'_> {
    /// The keys themselves, shared.
    pub(crate) fn arc(&self) -> Arc<Keys> {
        self.0
            .as_ref()
            .expect("a Vault exists only after its store was unlocked")
            .clone()
    }
}

impl std::ops::Deref for KeysGuard<'_> {
    type Target = Keys;
    fn deref(&self) -> &Keys {
        self.0
            .as_ref()
            .expect("a Vault exists only after its store was unlocked")
    }
}

pub(super) fn read_header_bytes(store: &Store) -> Result<Option<sled::IVec>> {
    store
        .live()
        .db
        .get(format::space::HEADER)
        .map_err(|e| Error::sled(&store.path, e))
}

pub(super) fn seal_header(keys: &Keys, body: &HeaderBody) -> Vec<u8> {
    format::encode_header(body, |authed| keys.header.tag(&[authed]))
}

impl Direct {
    pub(crate) fn new(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        simulated_clock: bool,
        kdf: KdfParams,
        own: Kek,
    ) -> Direct {
        Direct {
            store,
            clock,
            simulated_clock,
            kdf,
            own: Mutex::new(own),
            upgraded_from: None,
            forks: fork::count(),
        }
    }

    /// This handle, when this process is the one that opened it: in a child
    /// made by `fork` the store's background threads and locks are the
    /// parent's, and a call there could hang or write over the parent's
    /// writes, so it fails at once instead.
    pub(crate) fn unforked(&self) -> Result<&Direct> {
        if fork::count() == self.forks {
            Ok(self)
        } else {
            Err(Error::Forked {
                path: self.store.path.clone(),
            })
        }
    }

    pub fn upgraded_from(&self) -> Option<u16> {
        self.upgraded_from
    }

    pub fn path(&self) -> &Path {
        &self.store.path
    }

    /// The vault's keys, read-locked: a rotation waits until the guard is dropped.
    /// Borrowed through the guard, not cloned out of its `Arc`: a get then
    /// touches one shared counter (the lock's), not two, which is what threads
    /// sharing a handle contend on.
    pub(crate) fn keys(&self) -> KeysGuard<'_> {
        KeysGuard(self.store.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub(super) fn sled(&self, e: sled::Error) -> Error {
        Error::sled(&self.store.path, e)
    }

    /// Applies `changes` to sled atomically and queues them for the journal
    /// (`Store::apply`); `Store::flush` makes them durable. Callers hold the
    /// entry write lock, so the journal's order is sled's. A clock record rides
    /// along when one is due (`vault::time_seen`).
    pub(super) fn commit(&self, keys: &Keys, mut changes: Changes) -> Result<()> {
        let time_seen = self.stage_time_seen(keys, &mut changes);
        self.store.apply(changes)?;
        if let Some(secs) = time_seen {
            self.recorded_time_seen(secs);
        }
        Ok(())
    }
}
