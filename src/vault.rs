//! The vault: open or create, then put, get, list, renew, purge, batch, and key management.

use crate::backup;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::credential::{Credential, Kind};
use crate::crypto::{fill_random, KdfParams, SymmetricKey};
use crate::error::{Error, Result};
use crate::format::{
    self, decode_expiry_key, entry_aad, entry_key, expiry_key, HeaderBody, Payload, PayloadRef,
    RecordMeta, SlotKind, RECORD_META_LEN, VAULT_ID_LEN,
};
use crate::keyslot::{self, Kek, Keys, SlotMatch, Unlock};
use crate::secret::SecretString;
use crate::store::{self, Store};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLockReadGuard};
use std::time::Duration;
use zeroize::Zeroizing;

/// Longest entry name, in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// Largest secret (the sum of a credential's fields), in bytes.
pub const MAX_SECRET_LEN: usize = 1024 * 1024;
/// Longest TTL accepted (100 years): anything longer is a unit mistake.
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// How long an open waits for another process to release the vault, by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How to open or create a vault. `farmvault::open` and `farmvault::create` are sugar over it.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) path: PathBuf,
    kdf: KdfParams,
    pub(crate) lock_timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl Config {
    /// A config for the vault directory at `path`, with safe defaults:
    /// Argon2id m=64 MiB t=3 p=1, a 10 s lock wait, the system clock.
    pub fn new(path: impl Into<PathBuf>) -> Config {
        Config {
            path: path.into(),
            kdf: KdfParams::DEFAULT,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            clock: Arc::new(SystemClock),
        }
    }

    /// Argon2id costs for passphrase slots this handle creates (at create, or on a
    /// passphrase change). Cheaper than the default only for tests and benchmarks.
    pub fn kdf(mut self, kdf: KdfParams) -> Config {
        self.kdf = kdf;
        self
    }

    /// How long an open waits for another process holding the vault before `Locked`.
    pub fn lock_timeout(mut self, timeout: Duration) -> Config {
        self.lock_timeout = timeout;
        self
    }

    /// The clock expiries are measured against (tests pass a `ManualClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Config {
        self.clock = clock;
        self
    }

    /// Creates a new vault at the path, unlocked by `unlock`. The directory may
    /// exist if empty; an existing vault is never overwritten.
    pub fn create(self, unlock: &Unlock) -> Result<Vault> {
        let path = &self.path;
        if store::has_store(path) {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
        if let Unlock::Passphrase(p) = unlock {
            // Before anything is on disk: a refusal must not leave a headerless store.
            if p.is_empty() {
                return Err(Error::invalid("the passphrase is empty"));
            }
            self.kdf.check()?;
        }
        Config::refuse_non_empty(path)?;
        store::create_private_dir(path)
            .map_err(|e| Error::io(format!("creating vault directory {}", path.display()), e))?;
        let store = store::open_store(path, self.lock_timeout)?;
        let _admin = store.admin.lock().unwrap_or_else(|e| e.into_inner());
        if read_header_bytes(&store)?.is_some() {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
        let mut vault_id = [0u8; VAULT_ID_LEN];
        fill_random(&mut vault_id)?;
        let keys = Keys::derive(vault_id, SymmetricKey::generate()?);
        let (slot, kek) = keyslot::new_slot(0, &vault_id, &keys.dek, unlock, self.kdf)?;
        let body = HeaderBody {
            vault_id,
            created: self.clock.now().secs(),
            dek_generation: 0,
            next_slot_id: 1,
            slots: vec![slot],
            grant_policy: format::GrantPolicy::default(),
        };
        let header = seal_header(&keys, &body);
        store
            .db
            .insert(format::space::HEADER, header)
            .map_err(|e| store::sled_error(&store.path, e))?;
        flush(&store)?;
        let keys = Arc::new(keys);
        *store.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        store.attach_backup(keys)?;
        drop(_admin);
        Ok(Vault::new(store, self, kek))
    }

    /// Refuses a directory that exists and holds anything: a vault needs its own.
    pub(crate) fn refuse_non_empty(path: &Path) -> Result<()> {
        if path.exists() {
            let non_empty = std::fs::read_dir(path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
                .next()
                .is_some();
            if non_empty {
                return Err(Error::invalid(format!(
                    "{} exists and is not empty; a vault needs a directory of its own",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// Opens the existing vault at the path with `unlock`.
    pub fn open(self, unlock: &Unlock) -> Result<Vault> {
        if !store::has_store(&self.path) && self.path.join(backup::SNAPSHOT_FILE).is_file() {
            return Err(Error::corrupt(
                &self.path,
                "the storage files are missing but its backup is here; `farmvault repair` rebuilds the vault from it",
            ));
        }
        if !store::has_store(&self.path) {
            return Err(Error::NoVault {
                path: self.path.clone(),
            });
        }
        let store = store::open_store(&self.path, self.lock_timeout)?;
        let admin = store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let header = read_header_bytes(&store)?.ok_or_else(|| {
            Error::corrupt(
                &store.path,
                "the header is missing (was creation interrupted? remove the directory and create the vault again)",
            )
        })?;
        let (keys, kek) = unlock_header(&store.path, &header, unlock)?;
        let keys = Arc::new(keys);
        *store.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        store.attach_backup(keys)?;
        drop(admin);
        Ok(Vault::new(store, self, kek))
    }
}

/// Finds the keyslot `unlock` opens in the header `bytes` of the vault at `path`,
/// and authenticates the header: the vault's subkeys and the slot's key.
pub(crate) fn unlock_header(path: &Path, bytes: &[u8], unlock: &Unlock) -> Result<(Keys, Kek)> {
    let (body, authed, mac) =
        format::decode_header(bytes).map_err(|what| Error::corrupt(path, what))?;
    let mut found = None;
    for slot in &body.slots {
        match keyslot::try_slot(slot, &body.vault_id, unlock)? {
            SlotMatch::No => continue,
            SlotMatch::Damaged => {
                return Err(Error::corrupt(
                    path,
                    format!("keyslot {} is damaged: the key is right but the wrapped data key does not open", slot.id),
                ))
            }
            SlotMatch::Yes(dek, kek) => {
                found = Some((dek, kek));
                break;
            }
        }
    }
    let (dek, kek) = found.ok_or_else(|| Error::WrongKey {
        path: path.to_path_buf(),
    })?;
    let keys = Keys::derive(body.vault_id, dek);
    if !keys.header.verify(&[authed], mac) {
        return Err(Error::corrupt(
            path,
            "the header failed authentication: it was edited or damaged",
        ));
    }
    Ok((keys, kek))
}

/// Opens the vault at `path` with the default config.
pub fn open(path: impl Into<PathBuf>, unlock: &Unlock) -> Result<Vault> {
    Config::new(path).open(unlock)
}

/// Creates a vault at `path` with the default config.
pub fn create(path: impl Into<PathBuf>, unlock: &Unlock) -> Result<Vault> {
    Config::new(path).create(unlock)
}

/// Options of a put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutOptions {
    /// Time to live; `None` keeps the entry until it is deleted.
    pub ttl: Option<Duration>,
    /// Flush to disk before returning (the default). `false` leaves the write to
    /// sled's background flush (within 500 ms) or the next durable write: for bulk
    /// loads that end with `Vault::flush`.
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
    ops: Vec<(String, BatchOp)>,
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

/// Options of a data-key rotation.
#[derive(Clone, Debug, Default)]
pub struct RotateOptions {
    /// Unlocks of other keyslots to keep (the slot this handle opened with is always kept).
    pub keep: Vec<Unlock>,
    /// Drop slots that cannot be rewrapped (no unlock given for them) instead of refusing.
    pub drop_other_slots: bool,
}

/// An open vault. Cheap to share between threads (`&Vault` or `Arc<Vault>`);
/// every handle on the same directory in a process shares one database.
pub struct Vault {
    pub(crate) store: Arc<Store>,
    clock: Arc<dyn Clock>,
    kdf: KdfParams,
    /// The key-encryption key this handle opened with: a rotation rewraps its slot.
    own: Mutex<Kek>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.store.path)
            .finish_non_exhaustive()
    }
}

fn read_header_bytes(store: &Store) -> Result<Option<sled::IVec>> {
    store
        .db
        .get(format::space::HEADER)
        .map_err(|e| store::sled_error(&store.path, e))
}

fn seal_header(keys: &Keys, body: &HeaderBody) -> Vec<u8> {
    format::encode_header(body, |authed| keys.header.tag(&[authed]))
}

/// Flushes sled, then the backup journal: a write is acknowledged only once both
/// hold it.
fn flush(store: &Store) -> Result<()> {
    store
        .db
        .flush()
        .map_err(|e| store::sled_error(&store.path, e))?;
    store.sync_backup()
}

/// Checks an entry name: UTF-8 (by type), 1 to 1024 bytes, no control characters.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "entry names are 1 to {MAX_NAME_LEN} bytes, got {}",
            name.len()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "entry name {:?} contains a control character",
            name.escape_debug().to_string()
        )));
    }
    Ok(())
}

fn validate_credential(name: &str, c: &Credential) -> Result<()> {
    c.validate()
        .map_err(|e| Error::invalid(format!("entry {name:?}: {e}")))?;
    let size: usize = crate::credential::Field::ALL
        .iter()
        .filter(|f| **f != crate::credential::Field::Secret)
        .filter_map(|f| c.field(*f).map(<[u8]>::len))
        .sum::<usize>()
        .max(c.secret().len());
    if size > MAX_SECRET_LEN {
        return Err(Error::invalid(format!(
            "entry {name:?}: secrets are at most {MAX_SECRET_LEN} bytes, got {size}"
        )));
    }
    Ok(())
}

fn expiry_for(now: UnixTime, ttl: Option<Duration>) -> Result<Option<UnixTime>> {
    match ttl {
        None => Ok(None),
        Some(t) if t.is_zero() => Err(Error::invalid("a TTL must be longer than zero")),
        Some(t) if t > MAX_TTL => Err(Error::invalid(format!(
            "a TTL of {} s is longer than the 100-year maximum",
            t.as_secs()
        ))),
        Some(t) => Ok(Some(now.plus(t))),
    }
}

/// Entries written earlier in the same batch: blind -> (created, expires), or
/// `None` once deleted.
type Staged = HashMap<[u8; 32], Option<(UnixTime, Option<UnixTime>)>>;

/// The vault's keys under the read lock that keeps a rotation out (`Vault::keys`).
pub(crate) struct KeysGuard<'a>(RwLockReadGuard<'a, Option<Arc<Keys>>>);

impl std::ops::Deref for KeysGuard<'_> {
    type Target = Keys;
    fn deref(&self) -> &Keys {
        self.0
            .as_ref()
            .expect("a Vault exists only after its store was unlocked")
    }
}

/// A record opened and authenticated.
struct Opened {
    meta: RecordMeta,
    payload: Payload,
}

/// A previous record's clear (created, expires) times.
type Times = Option<(UnixTime, Option<UnixTime>)>;

/// A put sealed and ready to write: its record and the index changes it brings.
struct PreparedPut {
    blind: [u8; 32],
    record: Vec<u8>,
    created: UnixTime,
    expires: Option<UnixTime>,
    /// The previous record's index item, which goes.
    stale_index: Option<UnixTime>,
}

/// One atomic change: the sled batch, and the same ops for the backup journal.
#[derive(Default)]
struct Changes {
    sled: sled::Batch,
    journal: backup::Ops,
}

impl Changes {
    fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.sled.insert(key, value);
        self.journal.insert(key, value);
    }

    fn remove(&mut self, key: &[u8]) {
        self.sled.remove(key);
        self.journal.remove(key);
    }
}

impl PreparedPut {
    fn stage(self, batch: &mut Changes) {
        if let Some(old) = self.stale_index {
            batch.remove(&expiry_key(old, &self.blind)[..]);
        }
        batch.insert(&entry_key(&self.blind)[..], &self.record);
        if let Some(e) = self.expires {
            batch.insert(&expiry_key(e, &self.blind)[..], &[][..]);
        }
    }
}

impl Vault {
    pub(crate) fn new(store: Arc<Store>, config: Config, own: Kek) -> Vault {
        Vault {
            store,
            clock: config.clock,
            kdf: config.kdf,
            own: Mutex::new(own),
        }
    }

    /// The canonical path of the vault directory.
    pub fn path(&self) -> &Path {
        &self.store.path
    }

    /// The current time on this vault's clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The vault's keys, read-locked: a rotation waits until the guard is dropped.
    /// Borrowed through the guard, not cloned out of its `Arc`: a get then
    /// touches one shared counter (the lock's), not two, which is what threads
    /// sharing a handle contend on.
    pub(crate) fn keys(&self) -> KeysGuard<'_> {
        KeysGuard(self.store.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn sled(&self, e: sled::Error) -> Error {
        store::sled_error(&self.store.path, e)
    }

    /// Seals `payload` into a record: one allocation, the payload encoded straight
    /// into the record buffer and encrypted there (no plaintext copy to wipe).
    /// Applies `changes` to sled atomically and records them in the backup journal.
    /// Callers hold the entry write lock, so the journal's order is sled's.
    fn commit(&self, changes: Changes) -> Result<()> {
        self.store.prepare_backup()?;
        self.store
            .db
            .apply_batch(changes.sled)
            .map_err(|e| self.sled(e))?;
        self.store.record_backup(&changes.journal)
    }

    fn seal_record(
        keys: &Keys,
        blind: &[u8; 32],
        meta: &RecordMeta,
        payload: &PayloadRef<'_>,
    ) -> Result<Vec<u8>> {
        let len = postcard::serialize_with_flavor::<_, postcard::ser_flavors::Size, usize>(
            payload,
            postcard::ser_flavors::Size::default(),
        )
        .expect("a payload always serialises");
        let clear = meta.encode();
        let aad = entry_aad(&keys.vault_id, blind, &clear);
        let mut record = Vec::with_capacity(RECORD_META_LEN + crate::crypto::sealed_len(len));
        record.extend_from_slice(&clear);
        keys.entry.seal_with(len, &aad, &mut record, |buf| {
            postcard::to_slice(payload, buf).expect("sized by the same encoder");
        })?;
        Ok(record)
    }

    /// Opens a record; `label` names the entry in errors (its name, or its on-disk id).
    fn open_record(keys: &Keys, label: &str, blind: &[u8; 32], record: &[u8]) -> Result<Opened> {
        let tampered = || Error::Tampered {
            entry: label.to_owned(),
        };
        let meta = RecordMeta::decode(record).map_err(|_| tampered())?;
        let clear: &[u8; RECORD_META_LEN] = record[..RECORD_META_LEN]
            .try_into()
            .expect("decode checked the length");
        let aad = entry_aad(&keys.vault_id, blind, clear);
        let plain = keys
            .entry
            .open(&record[RECORD_META_LEN..], &aad)
            .ok_or_else(tampered)?;
        let payload: Payload = postcard::from_bytes(&plain).map_err(|_| tampered())?;
        Ok(Opened { meta, payload })
    }

    /// Reads and authenticates `name`; `Expired` removes it.
    fn read(&self, keys: &Keys, name: &str) -> Result<(Opened, [u8; 32])> {
        self.read_inner(keys, name, false)
    }

    /// `read`, for callers that may hold the entry write lock (`writes_held`).
    fn read_inner(&self, keys: &Keys, name: &str, writes_held: bool) -> Result<(Opened, [u8; 32])> {
        validate_name(name)?;
        let blind = keys.blind(name);
        let record = self
            .store
            .db
            .get(entry_key(&blind))
            .map_err(|e| self.sled(e))?
            .ok_or_else(|| Error::NotFound {
                name: name.to_owned(),
            })?;
        let opened = Self::open_record(keys, name, &blind, &record)?;
        if opened.payload.name != name {
            return Err(Error::Tampered {
                entry: name.to_owned(),
            });
        }
        if let Some(exp) = opened.meta.expires.filter(|e| self.now() >= *e) {
            // Best effort: a purge catches what this misses. Not flushed: losing the
            // removal in a crash only means the next read removes it again. Only
            // if the record is still the one read: a racing put must not be lost.
            let _writes = (!writes_held).then(|| self.store.lock_writes());
            let current = self.store.db.get(entry_key(&blind));
            if matches!(&current, Ok(Some(r)) if *r == record) {
                let mut b = Changes::default();
                b.remove(&entry_key(&blind)[..]);
                b.remove(&expiry_key(exp, &blind)[..]);
                let _ = self.commit(b);
            }
            return Err(Error::Expired {
                name: name.to_owned(),
                expired_at: exp.secs(),
            });
        }
        Ok((opened, blind))
    }

    fn meta_of(opened: &Opened) -> EntryMeta {
        EntryMeta {
            name: opened.payload.name.clone(),
            kind: opened.payload.credential.kind(),
            host: opened.payload.credential.host().map(str::to_owned),
            created: opened.meta.created,
            updated: opened.meta.updated,
            expires: opened.meta.expires,
        }
    }

    /// Stores opaque bytes under `name`, replacing what was there.
    pub fn put(&self, name: &str, secret: &[u8], options: &PutOptions) -> Result<()> {
        self.put_credential(
            name,
            &Credential::Opaque(crate::SecretBytes::from_slice(secret)),
            options,
        )
    }

    /// Stores a typed credential under `name`, replacing what was there.
    pub fn put_credential(
        &self,
        name: &str,
        credential: &Credential,
        options: &PutOptions,
    ) -> Result<()> {
        validate_name(name)?;
        validate_credential(name, credential)?;
        let now = self.now();
        let expires = expiry_for(now, options.ttl)?;
        let keys = self.keys();
        let blind = keys.blind(name);
        let writes = self.store.lock_writes();
        let previous = self.previous_times(&blind)?;
        let put = Self::prepare_put(&keys, blind, previous, name, credential, now, expires)?;
        if put.stale_index.is_none() && put.expires.is_none() {
            // One key to write, which sled writes atomically on its own: `insert`
            // skips what `apply_batch` adds (a log reservation and a batch marker),
            // about a fifth of a put's instructions.
            let key = entry_key(&blind);
            let record = sled::IVec::from(put.record);
            self.store.prepare_backup()?;
            self.store
                .db
                .insert(key, record.clone())
                .map_err(|e| self.sled(e))?;
            let mut ops = backup::Ops::default();
            ops.insert(&key, &record);
            self.store.record_backup(&ops)?;
        } else {
            let mut batch = Changes::default();
            put.stage(&mut batch);
            self.commit(batch)?;
        }
        drop(writes);
        if options.durable {
            flush(&self.store)?;
        }
        Ok(())
    }

    /// The clear times of the record stored under `blind`, if any. Unauthenticated,
    /// which is fine: they only carry `created` over and name the index item to
    /// drop, and purge re-checks every index item against its record.
    fn previous_times(&self, blind: &[u8; 32]) -> Result<Times> {
        Ok(self
            .store
            .db
            .get(entry_key(blind))
            .map_err(|e| self.sled(e))?
            .and_then(|r| RecordMeta::decode(&r).ok())
            .map(|m| (m.created, m.expires)))
    }

    /// Seals a put of `credential` under `name` over a record with `previous` times.
    fn prepare_put(
        keys: &Keys,
        blind: [u8; 32],
        previous: Times,
        name: &str,
        credential: &Credential,
        now: UnixTime,
        expires: Option<UnixTime>,
    ) -> Result<PreparedPut> {
        let meta = RecordMeta {
            created: previous.map_or(now, |(c, _)| c),
            updated: now,
            expires,
        };
        let payload = PayloadRef { name, credential };
        Ok(PreparedPut {
            blind,
            record: Self::seal_record(keys, &blind, &meta, &payload)?,
            created: meta.created,
            expires,
            stale_index: previous
                .and_then(|(_, old)| old)
                .filter(|old| Some(*old) != expires),
        })
    }

    /// Adds a put to `batch`. `staged` tracks entries already written earlier in the
    /// same batch (blind -> (created, expires)), so their index items are replaced too.
    #[allow(clippy::too_many_arguments)]
    fn stage_put(
        &self,
        keys: &Keys,
        batch: &mut Changes,
        staged: &mut Staged,
        name: &str,
        credential: &Credential,
        now: UnixTime,
        expires: Option<UnixTime>,
    ) -> Result<()> {
        let blind = keys.blind(name);
        let previous = match staged.get(&blind) {
            Some(p) => *p,
            None => self.previous_times(&blind)?,
        };
        let put = Self::prepare_put(keys, blind, previous, name, credential, now, expires)?;
        staged.insert(blind, Some((put.created, expires)));
        put.stage(batch);
        Ok(())
    }

    /// Reads `name`. An expired entry is removed and reported as `Expired`.
    pub fn get(&self, name: &str) -> Result<Entry> {
        let keys = self.keys();
        let (opened, _) = self.read(&keys, name)?;
        let credential = opened.payload.credential;
        Ok(Entry {
            meta: EntryMeta {
                name: opened.payload.name,
                kind: credential.kind(),
                host: credential.host().map(str::to_owned),
                created: opened.meta.created,
                updated: opened.meta.updated,
                expires: opened.meta.expires,
            },
            credential,
        })
    }

    /// Metadata of `name` (kind, host, times), never the secret.
    pub fn metadata(&self, name: &str) -> Result<EntryMeta> {
        let keys = self.keys();
        let (opened, _) = self.read(&keys, name)?;
        Ok(Self::meta_of(&opened))
    }

    /// Deletes `name`; `NotFound` if there is no such entry.
    pub fn delete(&self, name: &str) -> Result<()> {
        let mut b = Batch::new();
        b.delete(name);
        self.apply(b)
    }

    /// Sets a new TTL on `name` from now (`None`: never expires). An entry that has
    /// already expired cannot be renewed: it is `Expired`; store it again.
    pub fn renew(&self, name: &str, ttl: Option<Duration>) -> Result<EntryMeta> {
        let now = self.now();
        let expires = expiry_for(now, ttl)?;
        let keys = self.keys();
        let writes = self.store.lock_writes();
        let (opened, blind) = self.read_inner(&keys, name, true)?;
        let mut batch = Changes::default();
        let mut staged = HashMap::new();
        staged.insert(blind, Some((opened.meta.created, opened.meta.expires)));
        self.stage_put(
            &keys,
            &mut batch,
            &mut staged,
            name,
            &opened.payload.credential,
            now,
            expires,
        )?;
        self.commit(batch)?;
        drop(writes);
        flush(&self.store)?;
        let mut meta = Self::meta_of(&opened);
        meta.updated = now;
        meta.expires = expires;
        Ok(meta)
    }

    /// Applies every put and delete of `batch` atomically, flushed once. Nothing is
    /// written if any operation is invalid or deletes a missing entry.
    pub fn apply(&self, batch: Batch) -> Result<()> {
        let now = self.now();
        let keys = self.keys();
        let writes = self.store.lock_writes();
        let mut sled_batch = Changes::default();
        let mut staged = Staged::new();
        for (name, op) in &batch.ops {
            validate_name(name)?;
            match op {
                Some((credential, ttl)) => {
                    validate_credential(name, credential)?;
                    let expires = expiry_for(now, *ttl)?;
                    self.stage_put(
                        &keys,
                        &mut sled_batch,
                        &mut staged,
                        name,
                        credential,
                        now,
                        expires,
                    )?;
                }
                None => {
                    let blind = keys.blind(name);
                    let current = match staged.get(&blind) {
                        Some(p) => *p,
                        None => self
                            .store
                            .db
                            .get(entry_key(&blind))
                            .map_err(|e| self.sled(e))?
                            .map(|r| {
                                RecordMeta::decode(&r)
                                    .map(|m| (m.created, m.expires))
                                    .unwrap_or((UnixTime(0), None))
                            }),
                    };
                    let Some((_, expires)) = current else {
                        return Err(Error::NotFound { name: name.clone() });
                    };
                    sled_batch.remove(&entry_key(&blind)[..]);
                    if let Some(e) = expires {
                        sled_batch.remove(&expiry_key(e, &blind)[..]);
                    }
                    staged.insert(blind, None);
                }
            }
        }
        self.commit(sled_batch)?;
        drop(writes);
        flush(&self.store)
    }

    /// Flushes every write made so far to disk.
    pub fn flush(&self) -> Result<()> {
        flush(&self.store)
    }

    /// Entries whose name starts with `prefix` (`""` for all), sorted by name,
    /// expired ones included (check `EntryMeta::is_expired_at`). Entries that fail
    /// authentication are left out: `damaged()` lists them.
    pub fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>> {
        let keys = self.keys();
        let mut out = Vec::new();
        self.for_each_entry(&keys, |_, opened| {
            if let Some(o) = opened.filter(|o| o.payload.name.starts_with(prefix)) {
                out.push(Self::meta_of(&o));
            }
        })?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// On-disk ids (hex of the blinded name) of entries that fail authentication.
    pub fn damaged(&self) -> Result<Vec<String>> {
        let keys = self.keys();
        let mut out = Vec::new();
        self.for_each_entry(&keys, |id, opened| {
            if opened.is_none() {
                out.push(hex(id));
            }
        })?;
        Ok(out)
    }

    /// Visits every stored entry with its on-disk id and, when it authenticates under
    /// the key its name blinds to, the opened record (`None`: damaged). The one rule
    /// `list` and `damaged` share, so they can never disagree.
    fn for_each_entry(
        &self,
        keys: &Keys,
        mut visit: impl FnMut(&[u8], Option<Opened>),
    ) -> Result<()> {
        for item in self.store.db.scan_prefix([format::space::ENTRY]) {
            let (k, v) = item.map_err(|e| self.sled(e))?;
            let id = &k[1..];
            let opened = <[u8; 32]>::try_from(id).ok().and_then(|blind| {
                Self::open_record(keys, "", &blind, &v)
                    .ok()
                    .filter(|o| keys.blind(&o.payload.name) == blind)
            });
            visit(id, opened);
        }
        Ok(())
    }

    /// Removes every entry whose expiry has passed, through the expiry index and
    /// without decrypting; returns how many entries it removed.
    pub fn purge_expired(&self) -> Result<usize> {
        let now = self.now();
        let _keys = self.keys();
        let writes = self.store.lock_writes();
        let db = &self.store.db;
        let start = [format::space::EXPIRY];
        let end = expiry_key(UnixTime(now.secs().saturating_add(1)), &[0; 32]);
        let mut batch = Changes::default();
        let mut removed = 0;
        for item in db.range(&start[..]..&end[..]) {
            let (k, _) = item.map_err(|e| self.sled(e))?;
            batch.remove(&k);
            let Some((exp, blind)) = decode_expiry_key(&k) else {
                continue;
            };
            // An index item is acted on only if its record agrees (stale items, left
            // by a racing overwrite, are just dropped).
            let record = db.get(entry_key(&blind)).map_err(|e| self.sled(e))?;
            let agrees = record
                .and_then(|r| RecordMeta::decode(&r).ok())
                .is_some_and(|m| m.expires == Some(exp));
            if agrees && exp <= now {
                batch.remove(&entry_key(&blind)[..]);
                removed += 1;
            }
        }
        self.commit(batch)?;
        drop(writes);
        flush(&self.store)?;
        Ok(removed)
    }

    fn read_header(&self, keys: &Keys) -> Result<HeaderBody> {
        let bytes = read_header_bytes(&self.store)?
            .ok_or_else(|| Error::corrupt(&self.store.path, "the header is missing"))?;
        let (body, authed, mac) =
            format::decode_header(&bytes).map_err(|w| Error::corrupt(&self.store.path, w))?;
        if !keys.header.verify(&[authed], mac) {
            return Err(Error::corrupt(
                &self.store.path,
                "the header failed authentication: it was edited or damaged",
            ));
        }
        Ok(body)
    }

    /// Replaces the header, then compacts the backup, so no copy of the old keyslots
    /// outlives the change there.
    fn write_header(&self, keys: &Keys, body: &HeaderBody) -> Result<()> {
        let writes = self.store.lock_writes();
        self.store.prepare_backup()?;
        self.store
            .db
            .insert(format::space::HEADER, seal_header(keys, body))
            .map_err(|e| self.sled(e))?;
        self.store.compact_backup(None)?;
        drop(writes);
        flush(&self.store)
    }

    /// The vault-wide caps on job grants.
    pub fn grant_policy(&self) -> Result<format::GrantPolicy> {
        let keys = self.keys();
        Ok(self.read_header(&keys)?.grant_policy)
    }

    /// Sets the vault-wide caps on job grants (both non-zero and at most
    /// `GrantPolicy::MAX_LIMIT_SECS`). Grants already issued keep their windows.
    pub fn set_grant_policy(&self, policy: format::GrantPolicy) -> Result<()> {
        if policy.max_claim_secs == 0 || policy.max_use_secs == 0 {
            return Err(Error::invalid(
                "grant limits must be longer than zero: a grant cannot be unbounded, nor useless",
            ));
        }
        let ceiling = format::GrantPolicy::MAX_LIMIT_SECS;
        for (what, secs) in [
            ("max claim-by window", policy.max_claim_secs),
            ("max use window", policy.max_use_secs),
        ] {
            if secs > ceiling {
                return Err(Error::invalid(format!(
                    "the {what} of {secs} s is over the most a grant policy allows, {} days \
                     ({ceiling} s): a grant cannot be recalled",
                    ceiling / 86_400
                )));
            }
        }
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let keys = self.keys();
        let mut body = self.read_header(&keys)?;
        body.grant_policy = policy;
        self.write_header(&keys, &body)
    }

    /// The keyslots (no key material).
    pub fn keyslots(&self) -> Result<Vec<SlotInfo>> {
        let keys = self.keys();
        let body = self.read_header(&keys)?;
        Ok(body
            .slots
            .iter()
            .map(|s| match &s.kind {
                SlotKind::Passphrase { kdf, .. } => SlotInfo {
                    id: s.id,
                    kind: "passphrase",
                    kdf: Some(*kdf),
                },
                SlotKind::KeyFile { .. } => SlotInfo {
                    id: s.id,
                    kind: "key_file",
                    kdf: None,
                },
            })
            .collect())
    }

    /// Sets the passphrase: rewraps the data key in a new passphrase slot (with this
    /// handle's KDF costs) and drops the old passphrase slot. Entries are untouched.
    pub fn change_passphrase(&self, new: &SecretString) -> Result<()> {
        if new.is_empty() {
            return Err(Error::invalid("the new passphrase is empty"));
        }
        self.add_slot(&Unlock::Passphrase(new.clone()), true)
    }

    /// Adds a key-file slot for `key_file`.
    pub fn add_key_file(&self, key_file: &keyslot::KeyFile) -> Result<()> {
        self.add_slot(&Unlock::KeyFile(key_file.clone()), false)
    }

    fn add_slot(&self, unlock: &Unlock, replace_same_kind: bool) -> Result<()> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let keys = self.keys();
        let mut body = self.read_header(&keys)?;
        for slot in &body.slots {
            if let SlotMatch::Yes(..) = keyslot::try_slot(slot, &body.vault_id, unlock)? {
                if !replace_same_kind {
                    return Err(Error::invalid(format!(
                        "keyslot {} already opens the vault with this key file",
                        slot.id
                    )));
                }
            }
        }
        let id = body.next_slot_id;
        let (slot, kek) = keyslot::new_slot(id, &body.vault_id, &keys.dek, unlock, self.kdf)?;
        if replace_same_kind {
            body.slots
                .retain(|s| !matches!(s.kind, SlotKind::Passphrase { .. }));
        }
        body.slots.push(slot);
        body.next_slot_id += 1;
        self.write_header(&keys, &body)?;
        let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        if !body.slots.iter().any(|s| s.id == own.slot_id) {
            *own = kek;
        }
        Ok(())
    }

    /// Removes the slot `key_file` opens. The last slot cannot be removed.
    pub fn remove_key_file(&self, key_file: &keyslot::KeyFile) -> Result<()> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let keys = self.keys();
        let mut body = self.read_header(&keys)?;
        let unlock = Unlock::KeyFile(key_file.clone());
        let mut found = None;
        for slot in &body.slots {
            if let SlotMatch::Yes(..) = keyslot::try_slot(slot, &body.vault_id, &unlock)? {
                found = Some(slot.id);
            }
        }
        let id = found
            .ok_or_else(|| Error::invalid("no keyslot of this vault is opened by that key file"))?;
        if body.slots.len() == 1 {
            return Err(Error::invalid(
                "that key file is the vault's only keyslot; add a passphrase or another key file first",
            ));
        }
        body.slots.retain(|s| s.id != id);
        self.write_header(&keys, &body)
    }

    /// Replaces the data key and re-encrypts every entry, in one atomic batch: after
    /// a crash the vault holds either the old key and records or the new ones.
    /// Keyslots are rewrapped: this handle's own, those in `options.keep`; any
    /// other slot makes it refuse unless `options.drop_other_slots`. `progress`
    /// is called with (done, total) as entries are re-encrypted. Returns the count.
    pub fn rotate_data_key(
        &self,
        options: &RotateOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let mut guard = self.store.keys.write().unwrap_or_else(|e| e.into_inner());
        let old = guard.as_ref().expect("unlocked").clone();
        let mut body = self.read_header(&old)?;
        let new = Keys::derive(body.vault_id, SymmetricKey::generate()?);

        // Rewrap first, so a refusal changes nothing.
        let own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        let mut slots = Vec::new();
        for slot in &body.slots {
            let kek = if slot.id == own.slot_id {
                Some(own.key.clone())
            } else {
                let mut k = None;
                for unlock in &options.keep {
                    if let SlotMatch::Yes(_, kek) = keyslot::try_slot(slot, &body.vault_id, unlock)?
                    {
                        k = Some(kek.key);
                        break;
                    }
                }
                k
            };
            match kek {
                Some(kek) => slots.push(keyslot::wrap(
                    slot.id,
                    &body.vault_id,
                    slot.kind.clone(),
                    &new.dek,
                    &kek,
                )),
                None if options.drop_other_slots => {}
                None => {
                    return Err(Error::invalid(format!(
                        "keyslot {} cannot be rewrapped without its passphrase or key file; \
                         pass it to keep the slot, or allow dropping it",
                        slot.id
                    )))
                }
            }
        }
        drop(own);
        if slots.is_empty() {
            return Err(Error::invalid(
                "no keyslot would remain: this handle's own keyslot is gone and the others \
                 cannot be rewrapped; pass the passphrase or key file of one to keep",
            ));
        }

        let db = &self.store.db;
        let records: Vec<(sled::IVec, sled::IVec)> = db
            .scan_prefix([format::space::ENTRY])
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.sled(e))?;
        let total = records.len();
        let mut batch = sled::Batch::default();
        for (i, (k, v)) in records.iter().enumerate() {
            let blind: [u8; 32] = k[1..].try_into().map_err(|_| {
                Error::corrupt(&self.store.path, "an entry key has the wrong length")
            })?;
            let opened = Self::open_record(&old, &hex(&blind), &blind, v)?;
            let new_blind = new.blind(&opened.payload.name);
            batch.remove(k.clone());
            if let Some(e) = opened.meta.expires {
                batch.remove(&expiry_key(e, &blind)[..]);
                batch.insert(&expiry_key(e, &new_blind)[..], &[][..]);
            }
            let payload = PayloadRef {
                name: &opened.payload.name,
                credential: &opened.payload.credential,
            };
            let record = Self::seal_record(&new, &new_blind, &opened.meta, &payload)?;
            batch.insert(&entry_key(&new_blind)[..], record);
            progress(i + 1, total);
        }
        restage_side_records(&self.store.path, db, &old, &new, &mut batch)?;
        body.slots = slots;
        body.dek_generation += 1;
        batch.insert(format::space::HEADER, seal_header(&new, &body));
        let writes = self.store.lock_writes();
        self.store.prepare_backup()?;
        db.apply_batch(batch).map_err(|e| self.sled(e))?;
        flush(&self.store)?;
        // The backup is rewritten under the new key before the rotation returns; a
        // crash before that leaves the old backup, a consistent pre-rotation vault.
        let new = Arc::new(new);
        self.store.compact_backup(Some(new.clone()))?;
        drop(writes);
        *guard = Some(new);
        Ok(total)
    }
}

/// A side record's sled key and opened plaintext.
pub(crate) type SideRecord = (Vec<u8>, Zeroizing<Vec<u8>>);

/// AAD of a side record (a sealed record other than an entry, e.g. an issued grant).
fn side_aad(vault_id: &[u8; VAULT_ID_LEN], key: &[u8]) -> Vec<u8> {
    let mut aad = b"farmvault/v1/side".to_vec();
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(key);
    aad
}

// Used by job grants (src/grant/, issue 7).
impl Vault {
    /// This vault's random id (the issuer id a grant bundle names).
    pub(crate) fn vault_id(&self) -> [u8; VAULT_ID_LEN] {
        self.keys().vault_id
    }

    /// Stores `plaintext` sealed under the entry key at sled key `key` (whose first
    /// byte is a keyspace of `format::space` other than entries), flushed. Side
    /// records are re-sealed by a data-key rotation like entries are.
    pub(crate) fn put_side_record(&self, key: &[u8], plaintext: &[u8]) -> Result<()> {
        let keys = self.keys();
        let mut sealed = Vec::new();
        keys.entry
            .seal_into(plaintext, &side_aad(&keys.vault_id, key), &mut sealed)?;
        let writes = self.store.lock_writes();
        let mut change = Changes::default();
        change.insert(key, &sealed);
        self.commit(change)?;
        drop(writes);
        flush(&self.store)
    }

    /// Every side record under keyspace `space`, opened; one that fails
    /// authentication is an error naming its key.
    pub(crate) fn side_records(&self, space: u8) -> Result<Vec<SideRecord>> {
        let keys = self.keys();
        let mut out = Vec::new();
        for item in self.store.db.scan_prefix([space]) {
            let (k, v) = item.map_err(|e| self.sled(e))?;
            let plain = keys
                .entry
                .open(&v, &side_aad(&keys.vault_id, &k))
                .ok_or_else(|| Error::Tampered { entry: hex(&k) })?;
            out.push((k.to_vec(), plain));
        }
        Ok(out)
    }
}

/// Re-seals every side record from `old` to `new` keys into `batch` (rotation).
fn restage_side_records(
    path: &Path,
    db: &sled::Db,
    old: &Keys,
    new: &Keys,
    batch: &mut sled::Batch,
) -> Result<()> {
    for space in [format::space::GRANT] {
        for item in db.scan_prefix([space]) {
            let (k, v) = item.map_err(|e| store::sled_error(path, e))?;
            let plain = old
                .entry
                .open(&v, &side_aad(&old.vault_id, &k))
                .ok_or_else(|| Error::Tampered { entry: hex(&k) })?;
            let mut sealed = Vec::new();
            new.entry
                .seal_into(&plain, &side_aad(&new.vault_id, &k), &mut sealed)?;
            batch.insert(k, sealed);
        }
    }
    Ok(())
}

/// Lower-case hex, for on-disk ids in messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
