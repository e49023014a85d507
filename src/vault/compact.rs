//! Compaction: the store rewritten into a fresh generation with its live items
//! only (`Store::rewrite`), which gives back the space removed entries still
//! hold in sled's segments and the backup, and the rule that makes a purge
//! run it by itself.

use super::handle::Direct;
use crate::error::Result;
use crate::format;
use crate::storage::rewrite::Edits;

/// A purge that removes at least this many entries, and at least as many as
/// remain, compacts the vault after it: the store then holds mostly dead
/// space, and a rewrite of what remains costs less than the purge did.
pub const PURGE_COMPACT_MIN_REMOVED: u64 = 1000;

/// What a compaction did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Entries in the vault, all of them kept.
    pub entries: u64,
    /// Bytes of the vault directory's files before.
    pub bytes_before: u64,
    /// Bytes after.
    pub bytes_after: u64,
}

impl Direct {
    pub fn compact(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CompactReport> {
        let _admin = self.store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let keys = self.keys();
        let _writes = self.store.lock_writes();
        let done = self.store.rewrite(Edits::default(), keys.arc(), progress)?;
        Ok(CompactReport {
            entries: done.entries,
            bytes_before: done.bytes_before,
            bytes_after: done.bytes_after,
        })
    }

    /// Runs `compact` after a purge that removed `removed` entries when the
    /// rule of `PURGE_COMPACT_MIN_REMOVED` says so.
    pub(super) fn compact_after_purge(&self, removed: u64) -> Result<()> {
        if removed < PURGE_COMPACT_MIN_REMOVED {
            return Ok(());
        }
        let remaining = self
            .store
            .live()
            .db
            .scan_prefix([format::space::ENTRY])
            .count() as u64;
        if removed >= remaining {
            self.compact(&mut |_, _| {})?;
        }
        Ok(())
    }
}
