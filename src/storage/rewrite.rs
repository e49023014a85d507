//! Rewriting a store into a fresh generation (`layout`): the live items only,
//! with a new backup, so nothing the old files held survives in the vault's
//! directory. Key changes use it (an old keyslot or data key must not be left
//! in sled's log segments or the backup), and so does `compact`, which gives
//! back the space of removed entries.

use super::backup;
use super::fsio;
use super::layout;
use super::sled_guard::{self, GuardedDb};
use super::store::{sled_config, Live};
use super::Store;
use crate::error::{Error, Result};
use crate::keys::Keys;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Changes a rewrite makes to the items it copies: a value to set, or `None`
/// to leave the item out.
#[derive(Default)]
pub(crate) struct Edits(BTreeMap<Vec<u8>, Option<Vec<u8>>>);

impl Edits {
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.0.insert(key.to_vec(), Some(value.to_vec()));
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.0.insert(key.to_vec(), None);
    }
}

/// What a rewrite did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// Items (header, records, index, side records) in the new generation.
    pub items: u64,
    /// Entries among them.
    pub entries: u64,
    /// Bytes of the vault directory's files before.
    pub bytes_before: u64,
    /// Bytes after.
    pub bytes_after: u64,
}

/// Items are copied into the new store in batches of this many, with a
/// progress report after each.
const CHUNK: usize = 1000;

impl Store {
    /// Copies every item, with `edits` applied, into the next generation's new
    /// sled store, makes it and its new backup (MACed with `keys`) durable,
    /// switches `CURRENT` to it, and removes the old generation's files. A
    /// crash before the switch leaves the old generation live, one after it
    /// the new; the next open removes the other. The caller holds `admin` and
    /// `writes`. `progress` is called with (items copied, items in all).
    pub(crate) fn rewrite(
        &self,
        edits: Edits,
        keys: Arc<Keys>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Rewritten> {
        self.refuse_after_failed_sync()?;
        let bytes_before = dir_bytes(&self.path);
        let (mut items, next) = {
            let live = self.live();
            let items: BTreeMap<Vec<u8>, Vec<u8>> = live
                .db
                .iter()
                .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::sled(&self.path, e))?;
            (items, live.generation.map_or(1, |g| g.wrapping_add(1)))
        };
        for (k, v) in edits.0 {
            match v {
                Some(v) => items.insert(k, v),
                None => items.remove(&k),
            };
        }
        let dir = layout::generation_dir(&self.path, next);
        let built = build(&dir, &items, keys, progress);
        let (db, journal) = match built {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let io = |e| {
            Error::io(
                format!("switching {} to its new files", self.path.display()),
                e,
            )
        };
        if let Err(e) = layout::switch_to(&self.path, next) {
            drop(db);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(io(e));
        }
        {
            let mut live = self.live.write().unwrap_or_else(|e| e.into_inner());
            let old = std::mem::replace(
                &mut *live,
                Live {
                    db: GuardedDb::new(db),
                    dir,
                    generation: Some(next),
                },
            );
            if let Some(old_journal) = self.lock_backup().replace(journal) {
                old_journal.abandon();
            }
            drop(old);
        }
        layout::remove_stale(&self.path, Some(next));
        Ok(Rewritten {
            items: items.len() as u64,
            entries: backup::count_entries(items.keys().map(Vec::as_slice)),
            bytes_before,
            bytes_after: dir_bytes(&self.path),
        })
    }
}

/// Writes `items` into a new sled store and backup in `dir`, durably.
fn build(
    dir: &Path,
    items: &BTreeMap<Vec<u8>, Vec<u8>>,
    keys: Arc<Keys>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(sled::Db, backup::Journal)> {
    // Left by a rewrite of this process that failed part way.
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| Error::io(format!("removing {}", dir.display()), e))?;
    }
    fsio::create_private_dir(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let db = sled_config(dir).open().map_err(|e| Error::sled(dir, e))?;
    let total = items.len() as u64;
    let mut done = 0;
    let all: Vec<_> = items.iter().collect();
    for chunk in all.chunks(CHUNK) {
        let mut batch = sled::Batch::default();
        for (k, v) in chunk {
            batch.insert(k.as_slice(), v.as_slice());
        }
        db.apply_batch(batch).map_err(|e| Error::sled(dir, e))?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    sled_guard::flush_durably(&db, dir)?;
    fsio::restrict_permissions(dir);
    let journal = backup::compact(dir, &db, keys, 1)?;
    Ok((db, journal))
}

/// The bytes of every file under `dir`, subdirectories included.
pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
