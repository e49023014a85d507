//! Side records: sealed records other than entries (an issued grant's record, the
//! grant-signing key), kept in their own keyspaces and re-sealed by a data-key
//! rotation like entries are.

use super::handle::Direct;
use crate::error::{Error, Result};
use crate::format::{self, hex, VAULT_ID_LEN};
use crate::keys::Keys;
use crate::storage::rewrite::Edits;
use crate::storage::Changes;
use std::path::Path;
use zeroize::Zeroizing;

/// A side record's sled key and opened plaintext.
pub(crate) type SideRecord = (Vec<u8>, Zeroizing<Vec<u8>>);

/// AAD of a side record (a sealed record other than an entry, e.g. an issued grant).
fn side_aad(vault_id: &[u8; VAULT_ID_LEN], key: &[u8]) -> Vec<u8> {
    let mut aad = b"farmvault/v1/side".to_vec();
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(key);
    aad
}

// Job grants (src/grant/) keep their records here.
impl Direct {
    /// This vault's random id (the issuer id a grant bundle names).
    pub(crate) fn vault_id(&self) -> [u8; VAULT_ID_LEN] {
        self.keys().vault_id
    }

    /// Stores `plaintext` sealed under the entry key at sled key `key` (whose first
    /// byte is a keyspace of `format::space` other than entries), flushed. Side
    /// records are re-sealed by a data-key rotation like entries are.
    pub(crate) fn put_side_record(&self, key: &[u8], plaintext: &[u8]) -> Result<()> {
        let writes = self.store.lock_writes();
        self.put_side_record_locked(key, plaintext)?;
        drop(writes);
        self.store.flush()
    }

    /// `put_side_record`, for a caller that holds the write lock.
    fn put_side_record_locked(&self, key: &[u8], plaintext: &[u8]) -> Result<()> {
        let keys = self.keys();
        let mut sealed = Vec::new();
        keys.entry
            .seal_into(plaintext, &side_aad(&keys.vault_id, key), &mut sealed)?;
        let mut change = Changes::default();
        change.insert(key, &sealed);
        self.commit(&keys, change)
    }

    /// The side record at `key`, opened; if there is none, stores what `make`
    /// returns (flushed) and returns that. The check and the store happen under
    /// the write lock, so two threads asking at once get the same record.
    pub(crate) fn side_record_or_insert(
        &self,
        key: &[u8],
        make: impl FnOnce() -> Result<Zeroizing<Vec<u8>>>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let writes = self.store.lock_writes();
        if let Some(sealed) = self.store.live().db.get(key).map_err(|e| self.sled(e))? {
            let keys = self.keys();
            return keys
                .entry
                .open(&sealed, &side_aad(&keys.vault_id, key))
                .ok_or_else(|| Error::Tampered { entry: hex(key) });
        }
        let plain = make()?;
        self.put_side_record_locked(key, &plain)?;
        drop(writes);
        self.store.flush()?;
        Ok(plain)
    }

    /// Every side record under keyspace `space`, opened; one that fails
    /// authentication is an error naming its key.
    pub(crate) fn side_records(&self, space: u8) -> Result<Vec<SideRecord>> {
        let keys = self.keys();
        let mut out = Vec::new();
        for item in self.store.live().db.scan_prefix([space]) {
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
pub(super) fn restage_side_records(
    path: &Path,
    db: &sled::Db,
    old: &Keys,
    new: &Keys,
    batch: &mut Edits,
) -> Result<()> {
    for space in [format::space::GRANT, format::space::ISSUER] {
        for item in db.scan_prefix([space]) {
            let (k, v) = item.map_err(|e| Error::sled(path, e))?;
            let plain = old
                .entry
                .open(&v, &side_aad(&old.vault_id, &k))
                .ok_or_else(|| Error::Tampered { entry: hex(&k) })?;
            let mut sealed = Vec::new();
            new.entry
                .seal_into(&plain, &side_aad(&new.vault_id, &k), &mut sealed)?;
            batch.insert(&k, &sealed);
        }
    }
    Ok(())
}
