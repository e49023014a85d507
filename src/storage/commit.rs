//! The one way a change reaches the disk: applied to sled, recorded in the
//! journal, made durable by the journal alone.
//!
//! The journal is the write-ahead log. Every commit carries the next number of
//! the store's commit sequence, stored as the sled item `format::space::SEQUENCE`
//! after the commit's ops (in the same sled batch when there are several) and
//! recorded last among the commit's ops in the journal. A durable
//! write returns once the journal's `fdatasync` did: sled is not flushed then,
//! so after an abrupt stop sled may be behind the journal, and the first key
//! holder to open the vault replays the commits whose numbers sled lacks
//! (`replay::catch_up`). A checkpoint (sled flushed and its file fsynced, then
//! the backup compacted into a new snapshot and an empty journal) runs when the
//! journal outgrows its bound, on header changes and at the last handle's close.

use super::backup;
use super::sled_guard;
use super::Store;
use crate::error::{Error, Result};
use crate::format;
use crate::keys::Keys;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One atomic change: its ops for sled (kept apart while there is only one,
/// see `apply_ops`), and the same ops encoded for the journal.
#[derive(Default)]
pub(crate) struct Changes {
    single: Option<Op>,
    batch: sled::Batch,
    count: usize,
    journal: backup::Ops,
}

/// An insert (`Some(value)`) or a remove of one sled key.
type Op = (Vec<u8>, Option<Vec<u8>>);

impl Changes {
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.journal.insert(key, value);
        self.push((key.to_vec(), Some(value.to_vec())));
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.journal.remove(key);
        self.push((key.to_vec(), None));
    }

    fn push(&mut self, op: Op) {
        self.count += 1;
        if self.count == 1 {
            self.single = Some(op);
            return;
        }
        if let Some(first) = self.single.take() {
            add_to_batch(&mut self.batch, first);
        }
        add_to_batch(&mut self.batch, op);
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }
}

fn add_to_batch(batch: &mut sled::Batch, (key, value): Op) {
    match value {
        Some(v) => batch.insert(key, v),
        None => batch.remove(key),
    }
}

/// Applies `changes` (a commit's ops, then its sequence item `seq`) to `db`.
///
/// A commit of one op is applied as two plain writes, the op then the
/// sequence item: sled's `apply_batch` writes out and syncs its log buffer
/// twice per batch (to place its batch marker), which measured ten times the
/// cost of a put. Cut between the two, sled holds the op and the older
/// sequence number, a whole change that the journal does not need to redo.
/// A commit of several ops (a put with a TTL, a batch, a purge) stays one
/// sled batch, so sled never holds part of it, whatever cuts it short.
fn apply_ops(db: &sled::Db, changes: Changes, seq: u64) -> sled::Result<()> {
    let seq_op = (
        format::space::SEQUENCE.to_vec(),
        Some(seq.to_be_bytes().to_vec()),
    );
    match changes.single {
        Some(op) => {
            for (key, value) in [op, seq_op] {
                match value {
                    Some(v) => db.insert(key, v)?,
                    None => db.remove(key)?,
                };
            }
            Ok(())
        }
        None => {
            let mut batch = changes.batch;
            add_to_batch(&mut batch, seq_op);
            db.apply_batch(batch)
        }
    }
}

impl Store {
    /// Refuses every change once a sync of this store has failed.
    pub(crate) fn refuse_after_failed_sync(&self) -> Result<()> {
        match self.sync_failed.get() {
            None => Ok(()),
            Some(why) => Err(Error::io(
                format!("writing to the vault at {}", self.path.display()),
                std::io::Error::other(format!(
                    "an earlier write failed to reach the disk ({why}), so this process \
                     writes no more to it: close every handle on the vault and open it again"
                )),
            )),
        }
    }

    /// Remembers the first failed sync, which refuses every later write.
    pub(crate) fn remember_failure<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            let _ = self.sync_failed.set(e.to_string());
        }
        result
    }

    /// Applies `changes` to sled (`apply_ops`), numbered with the next commit of
    /// the sequence, and queues them for the journal (written by `flush`, or
    /// sooner when 1 MiB waits). The caller holds `writes`, so the journal's
    /// order is sled's. A checkpoint follows when the journal has outgrown its
    /// bound.
    pub(crate) fn apply(&self, mut changes: Changes) -> Result<()> {
        self.refuse_after_failed_sync()?;
        // Nothing to change (a purge that found nothing) writes nothing.
        if changes.is_empty() {
            return Ok(());
        }
        let marked = match self.lock_backup().as_mut() {
            Some(journal) => journal.mark_open(),
            None => Ok(()),
        };
        self.remember_failure(marked)?;
        let seq = self.sequence.load(Ordering::Relaxed) + 1;
        changes
            .journal
            .insert(format::space::SEQUENCE, &seq.to_be_bytes());
        let journal_ops = std::mem::take(&mut changes.journal);
        apply_ops(&self.live().db, changes, seq).map_err(|e| Error::sled(&self.path, e))?;
        self.sequence.store(seq, Ordering::Relaxed);
        let recorded = match self.lock_backup().as_mut() {
            Some(journal) => journal.record(&journal_ops),
            None => Ok(()),
        };
        self.remember_failure(recorded)?;
        if self
            .lock_backup()
            .as_ref()
            .is_some_and(backup::Journal::wants_compaction)
        {
            self.checkpoint(None)?;
        }
        Ok(())
    }

    /// Makes every change applied so far durable: the journal's frame written
    /// and fdatasynced, nothing of sled's. A failure is remembered and refuses
    /// every later write. Without a journal (before the first unlock) sled
    /// itself is made durable.
    pub(crate) fn flush(&self) -> Result<()> {
        let synced = match self.lock_backup().as_mut() {
            Some(journal) => journal.sync(),
            None => {
                let live = self.live();
                sled_guard::flush_durably(&live.db, &live.dir)
            }
        };
        self.remember_failure(synced)
    }

    /// Makes sled hold every change durably (its flush, then an fsync of its
    /// file: sled's own flush only starts the writeback), then rewrites the
    /// backup as a fresh snapshot and an empty journal. `keys` replaces the
    /// backup's MAC key after a rotation. The caller holds `writes`.
    pub(crate) fn checkpoint(&self, keys: Option<Arc<Keys>>) -> Result<()> {
        self.refuse_after_failed_sync()?;
        let live = self.live();
        self.remember_failure(sled_guard::flush_durably(&live.db, &live.dir))?;
        let compacted = match self.lock_backup().as_mut() {
            Some(journal) => journal.compact_next(&live.db, keys),
            None => Ok(()),
        };
        self.remember_failure(compacted)
    }
}
