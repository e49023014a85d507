//! The `Vault` handle and what every vault operation shares: the store it reads and
//! writes, the read-locked keys, and the one way a change reaches sled and the
//! backup journal.

use crate::clock::Clock;
use crate::crypto::KdfParams;
use crate::error::{Error, Result};
use crate::format::{self, HeaderBody};
use crate::keys::{Kek, Keys};
use crate::storage::{Changes, Store};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLockReadGuard};

/// An open vault. Cheap to share between threads (`&Vault` or `Arc<Vault>`);
/// every handle on the same directory in a process shares one database.
pub struct Vault {
    pub(crate) store: Arc<Store>,
    pub(super) clock: Arc<dyn Clock>,
    /// The clock was given by the caller (`Config::clock`), not the system's.
    pub(super) simulated_clock: bool,
    pub(super) kdf: KdfParams,
    /// The key-encryption key this handle opened with: a rotation rewraps its slot.
    pub(super) own: Mutex<Kek>,
    /// The header format version this handle's open upgraded the vault from.
    pub(super) upgraded_from: Option<u16>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.store.path)
            .finish_non_exhaustive()
    }
}

/// The vault's keys under the read lock that keeps a rotation out (`Vault::keys`).
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

impl Vault {
    pub(crate) fn new(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        simulated_clock: bool,
        kdf: KdfParams,
        own: Kek,
    ) -> Vault {
        Vault {
            store,
            clock,
            simulated_clock,
            kdf,
            own: Mutex::new(own),
            upgraded_from: None,
        }
    }

    /// The format version this handle's open upgraded the vault from, when the
    /// vault was written by an older farmvault (docs/FORMAT.md lists which
    /// versions read which). Older builds cannot open it once upgraded.
    pub fn upgraded_from(&self) -> Option<u16> {
        self.upgraded_from
    }

    /// The canonical path of the vault directory.
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
