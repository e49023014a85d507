//! Key management on an open vault: the header's keyslots (passphrase, key files),
//! the data-key rotation, and the vault-wide grant policy stored in the header.

use super::handle::{read_header_bytes, seal_header, Direct, KeysGuard};
use super::side::restage_side_records;
use super::types::{RotateOptions, SlotInfo};
use crate::crypto::{purpose, Prf, SealingKey, SymmetricKey};
use crate::error::{Error, Result};
use crate::format::{self, entry_key, expiry_key, hex, HeaderBody, PayloadRef, SlotKind};
use crate::keys::{self, Keys, SlotMatch, Unlock};
use crate::secret::SecretString;
use crate::storage::rewrite::Edits;
use crate::storage::Changes;
use std::sync::Arc;

impl Direct {
    /// The keys of the agent's audit log, `derive[dek](audit-log-mac)` and
    /// `derive[dek](audit-log-seal)`, and the data-key generation they belong
    /// to: a rotation gives new keys, and the agent starts a new log.
    pub(crate) fn audit_key(&self) -> Result<(Prf, SealingKey, u32)> {
        let keys = self.keys();
        let generation = self.read_header(&keys)?.dek_generation;
        let mac = keys.dek.derive(&keys.vault_id, purpose::AUDIT);
        let seal = keys.dek.derive(&keys.vault_id, purpose::AUDIT_SEAL);
        Ok((Prf::new(&mac), SealingKey::new(&seal), generation))
    }

    pub(super) fn read_header(&self, keys: &Keys) -> Result<HeaderBody> {
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

    /// Replaces the header, then checkpoints: sled holds the header durably
    /// (an open reads it before any replay), and the backup is compacted, so no
    /// copy of the old keyslots outlives the change there.
    fn write_header(&self, keys: &Keys, body: &HeaderBody) -> Result<()> {
        let _writes = self.store.lock_writes();
        let mut change = Changes::default();
        change.insert(format::space::HEADER, &seal_header(keys, body));
        self.store.apply(change)?;
        self.store.checkpoint(None)
    }

    /// Replaces the header by rewriting the store into a new generation
    /// (`Store::rewrite`), so the keyslots it drops are in none of the vault's
    /// files afterwards: not in sled's log segments, not in the backup.
    fn replace_header(&self, keys: &KeysGuard<'_>, body: &HeaderBody) -> Result<()> {
        let _writes = self.store.lock_writes();
        let mut edits = Edits::default();
        edits.insert(format::space::HEADER, &seal_header(keys, body));
        self.store.rewrite(edits, keys.arc(), &mut |_, _| {})?;
        Ok(())
    }

    /// Rewrites a header older than `format::FORMAT_VERSION` in the current
    /// format, and records the version it was on this handle. Crash-safe: the
    /// header is one sled item, replaced and flushed in one write, and the
    /// backup is compacted with it; a crash leaves the old header or the new.
    /// Returns the header as read.
    pub(super) fn upgrade_header(&mut self) -> Result<HeaderBody> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = read_header_bytes(&self.store)?
            .ok_or_else(|| Error::corrupt(&self.store.path, "the header is missing"))?;
        let version = format::header_version(&bytes).unwrap_or(format::FORMAT_VERSION);
        let keys = self.keys();
        let body = self.read_header(&keys)?;
        if version < format::FORMAT_VERSION {
            self.write_header(&keys, &body)?;
            drop(keys);
            self.upgraded_from = Some(version);
        }
        Ok(body)
    }

    pub fn grant_policy(&self) -> Result<format::GrantPolicy> {
        let keys = self.keys();
        Ok(self.read_header(&keys)?.grant_policy)
    }

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

    pub fn change_passphrase(&self, new: &SecretString) -> Result<()> {
        if new.is_empty() {
            return Err(Error::invalid("the new passphrase is empty"));
        }
        self.add_slot(&Unlock::Passphrase(new.clone()), true)
    }

    pub fn add_key_file(&self, key_file: &keys::KeyFile) -> Result<()> {
        self.add_slot(&Unlock::KeyFile(key_file.clone()), false)
    }

    fn add_slot(&self, unlock: &Unlock, replace_same_kind: bool) -> Result<()> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let keys = self.keys();
        let mut body = self.read_header(&keys)?;
        for slot in &body.slots {
            if let SlotMatch::Yes(..) = keys::try_slot(slot, &body.vault_id, unlock)? {
                if !replace_same_kind {
                    return Err(Error::invalid(format!(
                        "keyslot {} already opens the vault with this key file",
                        slot.id
                    )));
                }
            }
        }
        let id = body.next_slot_id;
        let (slot, kek) = keys::new_slot(id, &body.vault_id, &keys.dek, unlock, self.kdf)?;
        if replace_same_kind {
            body.slots
                .retain(|s| !matches!(s.kind, SlotKind::Passphrase { .. }));
        }
        body.slots.push(slot);
        body.next_slot_id += 1;
        format::check_slot_caps(&body.slots).map_err(|why| {
            Error::invalid(format!("the vault cannot take another keyslot: {why}"))
        })?;
        if replace_same_kind {
            self.replace_header(&keys, &body)?;
        } else {
            self.write_header(&keys, &body)?;
        }
        let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
        if !body.slots.iter().any(|s| s.id == own.slot_id) {
            *own = kek;
        }
        Ok(())
    }

    pub fn remove_key_file(&self, key_file: &keys::KeyFile) -> Result<()> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let keys = self.keys();
        let mut body = self.read_header(&keys)?;
        let unlock = Unlock::KeyFile(key_file.clone());
        let mut found = None;
        for slot in &body.slots {
            if let SlotMatch::Yes(..) = keys::try_slot(slot, &body.vault_id, &unlock)? {
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
        self.replace_header(&keys, &body)
    }

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
                    if let SlotMatch::Yes(_, kek) = keys::try_slot(slot, &body.vault_id, unlock)? {
                        k = Some(kek.key);
                        break;
                    }
                }
                k
            };
            match kek {
                Some(kek) => slots.push(keys::wrap(
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

        let live = self.store.live();
        let db = &live.db;
        let records: Vec<(sled::IVec, sled::IVec)> = db
            .scan_prefix([format::space::ENTRY])
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.sled(e))?;
        let total = records.len();
        let mut batch = Edits::default();
        for (i, (k, v)) in records.iter().enumerate() {
            let blind: [u8; 32] = k[1..].try_into().map_err(|_| {
                Error::corrupt(&self.store.path, "an entry key has the wrong length")
            })?;
            let opened = Self::open_record(&old, &hex(&blind), &blind, v)?;
            let new_blind = new.blind(&opened.payload.name);
            batch.remove(k);
            if let Some(e) = opened.meta.expires {
                batch.remove(&expiry_key(e, &blind)[..]);
                batch.insert(&expiry_key(e, &new_blind)[..], &[][..]);
            }
            let payload = PayloadRef {
                name: &opened.payload.name,
                credential: &opened.payload.credential,
            };
            let record = Self::seal_record(&new, &new_blind, &opened.meta, &payload)?;
            batch.insert(&entry_key(&new_blind)[..], &record);
            progress(i + 1, total);
        }
        restage_side_records(&self.store.path, db, &old, &new, &mut batch)?;
        self.restage_time_seen(&new, &mut batch);
        body.slots = slots;
        body.dek_generation += 1;
        batch.insert(format::space::HEADER, &seal_header(&new, &body));
        // The rewrite replaces the live store: this read guard must go first.
        drop(live);
        let writes = self.store.lock_writes();
        // A new generation holds the new key, the records sealed under it and a
        // backup MACed with it; the old key's files are removed. A crash
        // leaves one generation or the other, never a mix.
        let new = Arc::new(new);
        self.store.rewrite(batch, new.clone(), &mut |_, _| {})?;
        drop(writes);
        *guard = Some(new);
        Ok(total)
    }
}
