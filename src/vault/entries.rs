//! Entry operations: put, get, metadata, delete, renew, batches, list, purge.
//!
//! An entry is one sealed record under its blinded name, plus an expiry-index item
//! when it has a TTL (docs/FORMAT.md). Writers hold the store's entry write lock
//! across read-modify-write, so no write acts on a record a racing write replaced.

use super::handle::Direct;
use super::types::{Batch, Entry, EntryMeta, PutOptions};
use crate::clock::UnixTime;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::format::{
    self, decode_expiry_key, entry_aad, entry_key, expiry_key, hex, Payload, PayloadRef,
    RecordMeta, RECORD_META_LEN,
};
use crate::keys::Keys;
use crate::storage::Changes;
use std::collections::HashMap;
use std::time::Duration;

/// Longest entry name, in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// Largest secret (the sum of a credential's fields), in bytes.
pub const MAX_SECRET_LEN: usize = 1024 * 1024;
/// Longest TTL accepted (100 years): anything longer is a unit mistake.
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Checks an entry name: UTF-8 (by type), 1 to 1024 bytes, no control characters
/// and no bidirectional controls (`is_control_or_bidi`), since names are printed
/// to terminals and a bidi control makes one name display as another.
pub fn validate_name(name: &str) -> Result<()> {
    validate_lookup_name(name)?;
    if let Some(c) = name
        .chars()
        .find(|c| crate::credential::is_control_or_bidi(*c))
    {
        return Err(Error::invalid(format!(
            "entry name {:?} contains the bidi control character U+{:04X}",
            name.escape_debug().to_string(),
            u32::from(c)
        )));
    }
    Ok(())
}

/// The rule for naming an entry that may already exist (get, metadata, renew,
/// delete): 1 to `MAX_NAME_LEN` bytes and no control character, what every
/// earlier version refused at put too. Bidi controls are refused only when a
/// name is written, so an entry stored under one before that rule can still be
/// read, renewed and deleted by its name.
pub(crate) fn validate_lookup_name(name: &str) -> Result<()> {
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

/// A record opened and authenticated.
pub(super) struct Opened {
    pub(super) meta: RecordMeta,
    pub(super) payload: Payload,
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

impl Direct {
    /// Seals `payload` into a record: one allocation, the payload encoded straight
    /// into the record buffer and encrypted there (no plaintext copy to wipe).
    pub(super) fn seal_record(
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
    pub(super) fn open_record(
        keys: &Keys,
        label: &str,
        blind: &[u8; 32],
        record: &[u8],
    ) -> Result<Opened> {
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

    /// Reads and authenticates `name`; `Expired` if its expiry has passed on this
    /// handle's clock. Never writes: every reader of an expired entry is told
    /// `Expired` until a purge, put or delete removes or replaces it, and a handle
    /// on a simulated clock changes what its caller is told, never what is stored.
    fn read(&self, keys: &Keys, name: &str) -> Result<(Opened, [u8; 32])> {
        validate_lookup_name(name)?;
        let blind = keys.blind(name);
        let record = self
            .store
            .live()
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
        let mut batch = Changes::default();
        put.stage(&mut batch);
        self.commit(&keys, batch)?;
        drop(writes);
        if options.durable {
            self.store.flush()?;
        }
        Ok(())
    }

    /// The clear times of the record stored under `blind`, if any. Unauthenticated,
    /// which is fine: they only carry `created` over and name the index item to
    /// drop, and purge re-checks every index item against its record.
    fn previous_times(&self, blind: &[u8; 32]) -> Result<Times> {
        Ok(self
            .store
            .live()
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

    pub fn metadata(&self, name: &str) -> Result<EntryMeta> {
        let keys = self.keys();
        let (opened, _) = self.read(&keys, name)?;
        Ok(Self::meta_of(&opened))
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        let mut b = Batch::new();
        b.delete(name);
        self.apply(b)
    }

    pub fn renew(&self, name: &str, ttl: Option<Duration>) -> Result<EntryMeta> {
        let now = self.now();
        let expires = expiry_for(now, ttl)?;
        let keys = self.keys();
        let writes = self.store.lock_writes();
        let (opened, blind) = self.read(&keys, name)?;
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
        self.commit(&keys, batch)?;
        drop(writes);
        self.store.flush()?;
        let mut meta = Self::meta_of(&opened);
        meta.updated = now;
        meta.expires = expires;
        Ok(meta)
    }

    pub fn apply(&self, batch: Batch) -> Result<()> {
        let now = self.now();
        let keys = self.keys();
        let writes = self.store.lock_writes();
        let mut sled_batch = Changes::default();
        let mut staged = Staged::new();
        for (name, op) in &batch.ops {
            if op.is_some() {
                validate_name(name)?;
            } else {
                validate_lookup_name(name)?;
            }
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
                            .live()
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
        self.commit(&keys, sled_batch)?;
        drop(writes);
        self.store.flush()
    }

    pub fn flush(&self) -> Result<()> {
        self.store.flush()
    }

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
        for item in self.store.live().db.scan_prefix([format::space::ENTRY]) {
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

    pub fn purge_expired(&self) -> Result<usize> {
        let now = self.now().min(self.system_now());
        let keys = self.keys();
        let writes = self.store.lock_writes();
        let mut batch = Changes::default();
        let mut removed = 0;
        {
            let live = self.store.live();
            let db = &live.db;
            let start = [format::space::EXPIRY];
            let end = expiry_key(UnixTime(now.secs().saturating_add(1)), &[0; 32]);
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
        }
        self.commit(&keys, batch)?;
        drop(writes);
        drop(keys);
        self.store.flush()?;
        self.compact_after_purge(removed as u64)?;
        Ok(removed)
    }
}
