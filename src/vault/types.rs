//! The values the vault API takes and returns: put and rotation options, an entry
//! and its metadata, a batch of changes, a keyslot's description.

use crate::clock::UnixTime;
use crate::credential::{Credential, Kind};
use crate::crypto::KdfParams;
use crate::keys::Unlock;
use std::fmt;
use std::time::Duration;

/// Options of a put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutOptions {
    /// Time to live; `None` keeps the entry until it is deleted.
    pub ttl: Option<Duration>,
    /// On disk before returning (the default: one `fdatasync` of the journal).
    /// `false` returns before anything is synced: sled's background flush
    /// (within 500 ms) may write it, the next durable write or `Vault::flush`
    /// makes it durable; for bulk loads that end with `Vault::flush`.
    pub durable: bool,
}

impl Default for PutOptions {
    fn default() -> Self {
        PutOptions {
            ttl: None,
            durable: true,
        }
    }
}

impl PutOptions {
    /// Durable, no TTL.
    pub fn new() -> PutOptions {
        PutOptions::default()
    }

    /// With a time to live.
    pub fn ttl(mut self, ttl: Duration) -> PutOptions {
        self.ttl = Some(ttl);
        self
    }

    /// Durable (flushed before return) or not.
    pub fn durable(mut self, durable: bool) -> PutOptions {
        self.durable = durable;
        self
    }
}

/// What is known of an entry without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryMeta {
    /// The entry's name.
    pub name: String,
    /// The credential kind.
    pub kind: Kind,
    /// The site URL of typed credentials.
    pub host: Option<String>,
    /// When it was first stored.
    pub created: UnixTime,
    /// When it was last written (put or renew).
    pub updated: UnixTime,
    /// When it expires, if ever.
    pub expires: Option<UnixTime>,
}

impl EntryMeta {
    /// Whether the entry has expired at `now`.
    pub fn is_expired_at(&self, now: UnixTime) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }
}

/// An entry read back: its metadata and its credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Metadata.
    pub meta: EntryMeta,
    /// The credential (its `Debug` is redacted).
    pub credential: Credential,
}

/// A set of puts and deletes applied atomically and flushed once.
#[derive(Default)]
pub struct Batch {
    pub(super) ops: Vec<(String, BatchOp)>,
}

/// One operation of a batch: a put (credential and TTL) or, as `None`, a delete.
type BatchOp = Option<(Credential, Option<Duration>)>;

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds a put of opaque bytes.
    pub fn put(&mut self, name: &str, secret: &[u8], ttl: Option<Duration>) {
        self.put_credential(
            name,
            Credential::Opaque(crate::SecretBytes::from_slice(secret)),
            ttl,
        );
    }

    /// Adds a put of a typed credential.
    pub fn put_credential(&mut self, name: &str, credential: Credential, ttl: Option<Duration>) {
        self.ops.push((name.to_owned(), Some((credential, ttl))));
    }

    /// Adds a delete (the batch fails with `NotFound` if the entry does not exist).
    pub fn delete(&mut self, name: &str) {
        self.ops.push((name.to_owned(), None));
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The operations, in order: a put (credential and TTL) or, as `None`, a
    /// delete.
    pub(crate) fn into_ops(self) -> Vec<(String, BatchOp)> {
        self.ops
    }
}

/// A keyslot as `Vault::keyslots` reports it (no key material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// Slot id.
    pub id: u32,
    /// `"passphrase"` or `"key_file"`.
    pub kind: &'static str,
    /// Argon2id costs of a passphrase slot.
    pub kdf: Option<KdfParams>,
}

impl SlotInfo {
    /// True for a passphrase slot whose Argon2id costs are below the default
    /// (`KdfParams::is_weak`): its passphrase is cheap to guess offline from a
    /// copy of the vault. Key-file slots are never weak.
    pub fn is_weak(&self) -> bool {
        self.kdf.is_some_and(|k| k.is_weak())
    }
}

/// Options of a data-key rotation.
#[derive(Clone, Debug, Default)]
pub struct RotateOptions {
    /// Unlocks of other keyslots to keep (the slot this handle opened with is always kept).
    pub keep: Vec<Unlock>,
    /// Drop slots that cannot be rewrapped (no unlock given for them) instead of refusing.
    pub drop_other_slots: bool,
}
