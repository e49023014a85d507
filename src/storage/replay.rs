//! Replay after an abrupt stop: the journal's commits that sled lacks.
//!
//! A durable write returns once its journal frame is fsynced, before sled has
//! written it, so a process killed (or a machine cut off) after the write can
//! leave sled behind the journal. sled recovers to a consistent prefix of its
//! own log, whose last commit number it holds as the sequence item
//! (`format::space::SEQUENCE`): the commits of the journal numbered after it
//! are exactly what it lacks, and they are applied in order, each as one
//! atomic batch. Should sled be behind the snapshot itself (its writes since
//! the last checkpoint lost with the page cache), the snapshot's items are
//! applied first. Should sled be ahead of the journal (its background flush
//! wrote a commit the journal had not yet synced, never acknowledged), there
//! is nothing to apply and sled is kept as it is.

use super::backup::{self, SnapshotView};
use crate::error::{Error, Result};
use crate::format;
use crate::keys::Keys;
use std::path::Path;

/// What `catch_up` applied to sled.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CaughtUp {
    /// sled was behind the snapshot, and was set to it.
    pub from_snapshot: bool,
    /// Journal commits applied.
    pub commits: u64,
}

/// Applies to `db` what the backup in `dir` holds beyond it. A backup that is
/// missing, of another key or damaged is left alone (nothing to replay: the
/// store is kept, and the caller rewrites the backup from it).
pub(crate) fn catch_up(dir: &Path, db: &sled::Db, keys: &Keys) -> Result<CaughtUp> {
    let mut done = CaughtUp::default();
    let Ok(snapshot_bytes) = std::fs::read(dir.join(backup::SNAPSHOT_FILE)) else {
        return Ok(done);
    };
    let Ok(snapshot) = backup::parse_snapshot(&snapshot_bytes) else {
        return Ok(done);
    };
    if !snapshot.authenticates(keys) {
        return Ok(done);
    }
    let sled_err = |e| Error::sled(dir, e);
    let mut applied = stored_sequence(db).map_err(sled_err)?;
    let snapshot_seq = snapshot_sequence(&snapshot);
    if snapshot_seq > applied {
        set_to_snapshot(db, &snapshot).map_err(sled_err)?;
        applied = snapshot_seq;
        done.from_snapshot = true;
    }
    let journal = std::fs::read(dir.join(backup::JOURNAL_FILE)).unwrap_or_default();
    let Ok((frames, _)) = backup::authentic_frames(&journal, &snapshot, keys) else {
        return Ok(done);
    };
    let mut commit = sled::Batch::default();
    for (key, value) in frames.into_iter().flatten() {
        match value {
            Some(v) => commit.insert(key, v),
            None => commit.remove(key),
        }
        // A commit ends with its sequence item; ops after the last one (a
        // journal written before commits were numbered) form no commit.
        if key == format::space::SEQUENCE {
            let batch = std::mem::take(&mut commit);
            let seq = value
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
                .map_or(0, u64::from_be_bytes);
            if seq > applied {
                db.apply_batch(batch).map_err(sled_err)?;
                done.commits += 1;
            }
        }
    }
    Ok(done)
}

/// The commit number a sled store holds (0 for a store older than the sequence,
/// or an empty one).
pub(crate) fn stored_sequence(db: &sled::Db) -> std::result::Result<u64, sled::Error> {
    Ok(db
        .get(format::space::SEQUENCE)?
        .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
        .map_or(0, u64::from_be_bytes))
}

fn snapshot_sequence(snapshot: &SnapshotView<'_>) -> u64 {
    snapshot
        .items
        .iter()
        .find(|(k, _)| *k == format::space::SEQUENCE)
        .and_then(|(_, v)| <[u8; 8]>::try_from(*v).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Makes `db` hold exactly the snapshot's items, in one batch.
fn set_to_snapshot(db: &sled::Db, snapshot: &SnapshotView<'_>) -> sled::Result<()> {
    let wanted: std::collections::BTreeMap<&[u8], &[u8]> = snapshot.items.iter().copied().collect();
    let mut batch = sled::Batch::default();
    for item in db.iter() {
        let (k, _) = item?;
        if !wanted.contains_key(&k[..]) {
            batch.remove(k);
        }
    }
    for (k, v) in wanted {
        batch.insert(k, v);
    }
    db.apply_batch(batch)
}
