//! The backup: a copy of the vault that does not depend on sled, so a sled store
//! that refuses to open after an abrupt stop loses nothing.
//!
//! This file is longer than the others on purpose: it holds both formats (snapshot
//! and journal) and both directions (written while the vault is open, read back by
//! `attach`, `restore` and `repair`), which share one set of constants and one MAC
//! chain; kept together, a change to a frame is made in one place.
//!
//! Two files beside sled's, in the vault directory:
//! - `backup.fvbk`, a snapshot of every sled item (header, sealed records, expiry
//!   index, side records), replaced atomically (temporary file, fsync, rename,
//!   fsync of the directory);
//! - `journal.fvjl`, the changes made since that snapshot, appended in frames
//!   and fdatasynced before a durable write returns: the write-ahead log
//!   (`commit`, `replay`).
//!
//! Both hold only what sled holds: blinded names and sealed records, so they are
//! as confidential as the store. Both are authenticated under `backup`, a subkey
//! of the data key: the snapshot by one MAC, the journal by a chain of MACs that
//! starts from the snapshot's, so frames can be neither reordered, dropped from
//! the middle, nor moved onto another snapshot. When the journal outgrows the
//! snapshot (and on every header change or rotation) both are rewritten:
//! "compaction". Formats (integers big-endian, as in the store):
//!
//! ```text
//! snapshot = "FVBK" ‖ version:u16 ‖ generation:u64 ‖ count:u64 ‖ item* ‖ mac:32
//!   item   = key_len:u16 ‖ key ‖ value_len:u32 ‖ value
//!   mac    = HMAC[backup]("farmvault/v1/snapshot" ‖ every byte before mac)
//! journal = "FVJL" ‖ version:u16 ‖ generation:u64 ‖ anchor:32 ‖ frame*
//!   anchor = the snapshot's mac (a journal of another generation is ignored)
//!   frame  = body_len:u32 ‖ body ‖ mac:32, body = op+
//!   op     = 1 ‖ key_len:u16 ‖ key ‖ value_len:u32 ‖ value   (insert)
//!          | 2 ‖ key_len:u16 ‖ key                            (remove)
//!          | 3                                                (clean close)
//!          | 4                                                (reopened for writing)
//!   mac    = HMAC[backup]("farmvault/v1/journal" ‖ previous mac ‖ body_len ‖ body)
//! ```
//!
//! The last handle to close writes the close op once sled is durable; a session
//! that takes up a closed journal writes the open op (and fsyncs) before its first
//! change to sled. An open that does not find the close op last (a crash; a torn
//! frame, never acknowledged) replays the journal's commits that sled lacks
//! (`replay`), then rewrites both files from the store. Non-durable writes wait
//! in memory and reach the journal with the next durable write, `Vault::flush`
//! or the last handle's drop.

use super::fsio;
use crate::error::{Error, Result};
use crate::keys::Keys;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The snapshot's file name in the vault directory.
pub const SNAPSHOT_FILE: &str = "backup.fvbk";
/// The journal's file name in the vault directory.
pub const JOURNAL_FILE: &str = "journal.fvjl";

const SNAPSHOT_MAGIC: &[u8; 4] = b"FVBK";
const JOURNAL_MAGIC: &[u8; 4] = b"FVJL";
const VERSION: u16 = 1;
const MAC_LEN: usize = 32;
const SNAPSHOT_HEAD_LEN: usize = 4 + 2 + 8 + 8;
const JOURNAL_HEAD_LEN: usize = 4 + 2 + 8 + MAC_LEN;
const SNAPSHOT_LABEL: &[u8] = b"farmvault/v1/snapshot";
const JOURNAL_LABEL: &[u8] = b"farmvault/v1/journal";
/// Prefix of the temporary files `replace_file` writes before its rename.
pub const TEMP_PREFIX: &str = ".farmvault-";
const OP_INSERT: u8 = 1;
const OP_REMOVE: u8 = 2;
/// The last handle closed after sled's flush: the store and the backup agree.
const OP_CLOSE: u8 = 3;
/// A session took up a cleanly closed journal and is about to write.
const OP_OPEN: u8 = 4;
/// The journal is compacted once it is larger than this or the snapshot.
const MIN_COMPACT_LEN: u64 = 1 << 20;
/// Backups up to this size are read and authenticated whole at every open.
const FULL_CHECK_MAX: u64 = 1 << 20;
/// The journal file grows ahead by this much at a time.
const PREALLOC_LEN: u64 = 256 * 1024;
/// Non-durable changes are written out (not fsynced) once this many bytes wait.
const MAX_PENDING_LEN: usize = 1 << 20;

/// Journal ops, encoded, for one change (a put, a batch, a purge).
#[derive(Default)]
pub(crate) struct Ops(Vec<u8>);

impl Ops {
    pub fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.0.push(OP_INSERT);
        put_key(&mut self.0, key);
        self.0
            .extend_from_slice(&(value.len() as u32).to_be_bytes());
        self.0.extend_from_slice(value);
    }

    pub fn remove(&mut self, key: &[u8]) {
        self.0.push(OP_REMOVE);
        put_key(&mut self.0, key);
    }
}

fn put_key(out: &mut Vec<u8>, key: &[u8]) {
    // Sled keys here are at most 41 bytes (`X ‖ expires ‖ blind`).
    out.extend_from_slice(&(key.len() as u16).to_be_bytes());
    out.extend_from_slice(key);
}

/// The live journal of an unlocked vault: where the next frame goes and what it
/// chains from. One per store, behind a mutex taken after the entry write lock.
pub(crate) struct Journal {
    dir: PathBuf,
    file: File,
    keys: Arc<Keys>,
    generation: u64,
    chain: [u8; MAC_LEN],
    /// Where the frames end.
    len: u64,
    /// The file's length: zeros from `len` on.
    capacity: u64,
    snapshot_len: u64,
    pending: Vec<u8>,
    /// A journal write failed: the next change compacts instead of appending.
    broken: bool,
    /// The journal on disk ends with a close mark: the first change of this
    /// session must first write an open mark, or a crash would leave a journal
    /// that looks clean beside a store that changed.
    ends_closed: bool,
}

impl Journal {
    /// Queues `ops` (already applied to sled) for the next frame.
    pub fn record(&mut self, ops: &Ops) -> Result<()> {
        self.pending.extend_from_slice(&ops.0);
        if self.pending.len() >= MAX_PENDING_LEN {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Called before sled is changed: makes sure the journal on disk no longer
    /// ends with a close mark (one fsync, on a session's first change).
    pub fn mark_open(&mut self) -> Result<()> {
        if self.ends_closed {
            self.pending.push(OP_OPEN);
            self.sync()?;
            self.ends_closed = false;
        }
        Ok(())
    }

    /// Whether the next change should rewrite snapshot and journal instead.
    pub fn wants_compaction(&self) -> bool {
        self.broken || self.len + self.pending.len() as u64 > MIN_COMPACT_LEN.max(self.snapshot_len)
    }

    /// Writes what is pending as one frame and fsyncs the journal: after this,
    /// every change recorded so far survives a sled store that will not open.
    pub fn sync(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            self.write_pending()?;
        }
        self.file
            .sync_data()
            .map_err(|e| self.fail(e, "syncing the backup journal"))
    }

    fn write_pending(&mut self) -> Result<()> {
        let len = (self.pending.len() as u32).to_be_bytes();
        let mac = self
            .keys
            .backup
            .tag(&[JOURNAL_LABEL, &self.chain, &len, &self.pending]);
        let mut frame = Vec::with_capacity(4 + self.pending.len() + MAC_LEN);
        frame.extend_from_slice(&len);
        frame.extend_from_slice(&self.pending);
        frame.extend_from_slice(&mac);
        if let Err(e) = self.write_at_end(&frame) {
            return Err(self.fail(e, "appending to the backup journal"));
        }
        self.chain = mac;
        self.len += frame.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Writes `frame` at the journal's logical end. The file is grown ahead in
    /// zero-filled steps of `PREALLOC_LEN`, so the fdatasync after a frame has
    /// no file size to commit: it measured about a third cheaper than appending
    /// on ext4. A crash leaves the zeros after the last frame, which read as the
    /// end of the frames; a clean close cuts them off.
    fn write_at_end(&mut self, frame: &[u8]) -> std::io::Result<()> {
        let end = self.len + frame.len() as u64;
        if end > self.capacity {
            let grown = end + PREALLOC_LEN;
            (&self.file).seek(SeekFrom::Start(self.capacity))?;
            std::io::copy(
                &mut std::io::repeat(0).take(grown - self.capacity),
                &mut &self.file,
            )?;
            self.capacity = grown;
        }
        (&self.file).seek(SeekFrom::Start(self.len))?;
        (&self.file).write_all(frame)
    }

    fn fail(&mut self, e: std::io::Error, doing: &str) -> Error {
        self.broken = true;
        Error::io(format!("{doing} in {}", self.dir.display()), e)
    }
}

impl Journal {
    /// Marks a clean close: called once sled has flushed, as the last handle goes.
    /// An open that does not find this mark last (the process crashed, or exited
    /// without closing) rewrites the backup from the store, because a write in
    /// flight at the crash may have reached one and not the other.
    pub fn close(&mut self) {
        // One fdatasync for what is pending and the mark: should the pages reach
        // the disk out of order, a mark whose frame before it is missing no
        // longer authenticates, which reads as not closed.
        if self.broken || (!self.pending.is_empty() && self.write_pending().is_err()) {
            return;
        }
        self.pending.push(OP_CLOSE);
        if self.write_pending().is_err() {
            return;
        }
        // Cut the zeros grown ahead off, so the close mark is the file's last bytes.
        self.ends_closed = self.file.set_len(self.len).is_ok() && self.file.sync_data().is_ok();
    }
}

impl Journal {
    /// Drops a journal whose store was rewritten elsewhere: what it had pending
    /// is in the new generation already, and its file is about to go.
    pub fn abandon(mut self) {
        self.pending.clear();
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // What non-durable writes left waiting goes out, even without a close.
        // Nothing waiting means nothing to sync: a close synced already, and a
        // journal replaced by compaction is covered by the snapshot.
        if !self.pending.is_empty() {
            let _ = self.sync();
        }
    }
}

/// Rewrites snapshot and journal from the store's current items: the new snapshot
/// (generation `generation`) first, then an empty journal chained to it. A crash
/// between the two leaves a journal of the old generation, which is ignored: the
/// new snapshot already holds everything. Callers hold the entry write lock.
pub(crate) fn compact(
    dir: &Path,
    db: &sled::Db,
    keys: Arc<Keys>,
    generation: u64,
) -> Result<Journal> {
    let snapshot = write_snapshot(db, &keys, generation, &dir.join(SNAPSHOT_FILE), false)?;
    let anchor = snapshot.mac;
    let mut head = Vec::with_capacity(JOURNAL_HEAD_LEN);
    head.extend_from_slice(JOURNAL_MAGIC);
    head.extend_from_slice(&VERSION.to_be_bytes());
    head.extend_from_slice(&generation.to_be_bytes());
    head.extend_from_slice(&anchor);
    let path = dir.join(JOURNAL_FILE);
    replace_file(&path, |w| w.write_all(&head))?;
    let file = open_for_write(&path)?;
    Ok(Journal {
        dir: dir.to_path_buf(),
        file,
        keys,
        generation,
        chain: anchor,
        len: head.len() as u64,
        capacity: head.len() as u64,
        snapshot_len: snapshot.len,
        pending: Vec::new(),
        broken: false,
        ends_closed: false,
    })
}

impl Journal {
    /// Compacts into the next generation, keeping what is pending (already in sled,
    /// so in the new snapshot). `keys` replaces the MAC key (after a rotation).
    pub fn compact_next(&mut self, db: &sled::Db, keys: Option<Arc<Keys>>) -> Result<()> {
        let keys = keys.unwrap_or_else(|| self.keys.clone());
        let next = compact(&self.dir, db, keys, self.generation.wrapping_add(1))?;
        self.pending.clear();
        *self = next;
        Ok(())
    }
}

/// What `write_snapshot` wrote.
pub(crate) struct SnapshotWritten {
    /// The file's length.
    pub len: u64,
    /// Its MAC: the anchor of the journal that follows it.
    pub mac: [u8; MAC_LEN],
    /// Sled items in it.
    pub items: u64,
    /// Entries among them.
    pub entries: u64,
}

/// Writes a snapshot of every item of `db` to `dest`: replacing the vault's own
/// atomically (compaction), or, with `new`, into a file that must not exist
/// (`Vault::backup_to`, which never overwrites or follows what is at a path
/// the caller named: the exclusive create refuses it, with no check before).
pub(crate) fn write_snapshot(
    db: &sled::Db,
    keys: &Keys,
    generation: u64,
    dest: &Path,
    new: bool,
) -> Result<SnapshotWritten> {
    let items: Vec<(sled::IVec, sled::IVec)> = db
        .iter()
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::sled(dest.parent().unwrap_or(dest), e))?;
    let mut bytes = Vec::with_capacity(
        SNAPSHOT_HEAD_LEN
            + MAC_LEN
            + items
                .iter()
                .map(|(k, v)| 6 + k.len() + v.len())
                .sum::<usize>(),
    );
    bytes.extend_from_slice(SNAPSHOT_MAGIC);
    bytes.extend_from_slice(&VERSION.to_be_bytes());
    bytes.extend_from_slice(&generation.to_be_bytes());
    bytes.extend_from_slice(&(items.len() as u64).to_be_bytes());
    for (k, v) in &items {
        put_key(&mut bytes, k);
        bytes.extend_from_slice(&(v.len() as u32).to_be_bytes());
        bytes.extend_from_slice(v);
    }
    let mac = keys.backup.tag(&[SNAPSHOT_LABEL, &bytes]);
    bytes.extend_from_slice(&mac);
    if new {
        fsio::write_new_private(dest, &bytes)
            .map_err(|e| Error::io(format!("writing {}", dest.display()), e))?;
    } else {
        replace_file(dest, |w| w.write_all(&bytes))?;
    }
    Ok(SnapshotWritten {
        len: bytes.len() as u64,
        mac,
        items: items.len() as u64,
        entries: count_entries(items.iter().map(|(k, _)| &k[..])),
    })
}

/// How many of these sled keys are entry records.
pub(crate) fn count_entries<'a>(keys: impl Iterator<Item = &'a [u8]>) -> u64 {
    keys.filter(|k| k.first() == Some(&crate::format::space::ENTRY))
        .count() as u64
}

/// Takes up the journal of a vault that just opened when the last process to
/// hold it closed cleanly (the journal ends with its close mark, and the backup
/// authenticates): the store and the backup then agree. `None` otherwise: the
/// caller replays the journal into the store (`replay::catch_up`) and rewrites
/// both files with `compact`. A backup up to `FULL_CHECK_MAX` is authenticated
/// whole, so damage is found while the store can still replace it; a larger
/// one only at its ends (see `check_backup_ends`).
pub(crate) fn take_up_clean(dir: &Path, keys: &Arc<Keys>) -> Result<Option<Journal>> {
    remove_stale_temporaries(dir);
    let Some(found) = find_clean_journal(dir, keys) else {
        return Ok(None);
    };
    Ok(Some(Journal {
        dir: dir.to_path_buf(),
        file: open_for_write(&dir.join(JOURNAL_FILE))?,
        keys: keys.clone(),
        generation: found.generation,
        chain: found.chain,
        len: found.len,
        capacity: found.len,
        snapshot_len: found.snapshot_len,
        pending: Vec::new(),
        broken: false,
        ends_closed: true,
    }))
}

/// The generation the next compaction of the backup in `dir` writes.
pub(crate) fn next_generation(dir: &Path) -> u64 {
    read_snapshot_generation(dir).map_or(1, |g| g.wrapping_add(1))
}

struct JournalEnd {
    generation: u64,
    chain: [u8; MAC_LEN],
    len: u64,
    snapshot_len: u64,
}

fn read_snapshot_generation(dir: &Path) -> Option<u64> {
    let mut head = [0u8; SNAPSHOT_HEAD_LEN];
    File::open(dir.join(SNAPSHOT_FILE))
        .ok()?
        .read_exact(&mut head)
        .ok()?;
    (&head[..4] == SNAPSHOT_MAGIC).then_some(u64::from_be_bytes(head[6..14].try_into().unwrap()))
}

fn find_clean_journal(dir: &Path, keys: &Keys) -> Option<JournalEnd> {
    let snapshot_len = std::fs::metadata(dir.join(SNAPSHOT_FILE)).ok()?.len();
    let journal_len = std::fs::metadata(dir.join(JOURNAL_FILE)).ok()?.len();
    if snapshot_len.saturating_add(journal_len) <= FULL_CHECK_MAX {
        check_whole_backup(dir, keys)
    } else {
        check_backup_ends(dir, keys, snapshot_len, journal_len)
    }
}

/// Reads and authenticates all of snapshot and journal (small backups: well
/// under a millisecond), so damage is found while the store can replace it.
fn check_whole_backup(dir: &Path, keys: &Keys) -> Option<JournalEnd> {
    let bytes = std::fs::read(dir.join(SNAPSHOT_FILE)).ok()?;
    let snapshot = parse_snapshot(&bytes).ok()?;
    if !snapshot.authenticates(keys) {
        return None;
    }
    let journal = std::fs::read(dir.join(JOURNAL_FILE)).ok()?;
    let frames = parse_journal(&journal, snapshot.generation, &snapshot.mac).ok()?;
    let last = frames.frames.last()?;
    let all_authentic = frames.frames.iter().all(|f| {
        keys.backup
            .verify(&[JOURNAL_LABEL, &f.prev, f.len_and_body], &f.mac)
    });
    let closed = last.len_and_body[4..] == [OP_CLOSE] && last.end == journal.len();
    (all_authentic && closed).then_some(JournalEnd {
        generation: snapshot.generation,
        chain: last.mac,
        len: journal.len() as u64,
        snapshot_len: bytes.len() as u64,
    })
}

/// For large backups, what an open can afford (a key-file open of a 100,000-entry
/// vault takes a few milliseconds; docs/PERFORMANCE.md): the journal's head names the snapshot's generation
/// and MAC, and it ends with a close frame that authenticates. The bytes between
/// are checked by `Vault::verify_backup` and by every repair.
fn check_backup_ends(
    dir: &Path,
    keys: &Keys,
    snapshot_len: u64,
    journal_len: u64,
) -> Option<JournalEnd> {
    const CLOSE_FRAME_LEN: u64 = 4 + 1 + MAC_LEN as u64;
    let mut snapshot = File::open(dir.join(SNAPSHOT_FILE)).ok()?;
    let mut head = [0u8; SNAPSHOT_HEAD_LEN];
    snapshot.read_exact(&mut head).ok()?;
    let mut anchor = [0u8; MAC_LEN];
    snapshot
        .seek(SeekFrom::Start(snapshot_len.checked_sub(MAC_LEN as u64)?))
        .ok()?;
    snapshot.read_exact(&mut anchor).ok()?;
    if &head[..4] != SNAPSHOT_MAGIC || head[4..6] != VERSION.to_be_bytes() {
        return None;
    }
    let generation = u64::from_be_bytes(head[6..14].try_into().unwrap());

    let mut journal = File::open(dir.join(JOURNAL_FILE)).ok()?;
    let mut jhead = [0u8; JOURNAL_HEAD_LEN];
    journal.read_exact(&mut jhead).ok()?;
    parse_journal(&jhead, generation, &anchor).ok()?;
    let close_at = journal_len.checked_sub(CLOSE_FRAME_LEN)?;
    let prev = if close_at == JOURNAL_HEAD_LEN as u64 {
        anchor
    } else {
        let mut prev = [0u8; MAC_LEN];
        journal
            .seek(SeekFrom::Start(close_at.checked_sub(MAC_LEN as u64)?))
            .ok()?;
        journal.read_exact(&mut prev).ok()?;
        prev
    };
    let mut close = [0u8; CLOSE_FRAME_LEN as usize];
    journal.seek(SeekFrom::Start(close_at)).ok()?;
    journal.read_exact(&mut close).ok()?;
    let (len_and_body, mac) = close.split_at(5);
    let closed = len_and_body == [0, 0, 0, 1, OP_CLOSE]
        && keys
            .backup
            .verify(&[JOURNAL_LABEL, &prev, len_and_body], mac);
    closed.then_some(JournalEnd {
        generation,
        chain: mac.try_into().unwrap(),
        len: journal_len,
        snapshot_len,
    })
}

/// A frame as framed, not yet authenticated.
struct Frame<'a> {
    /// The MAC it claims to chain from (the stored MAC of the frame before).
    prev: [u8; MAC_LEN],
    /// `body_len ‖ body`.
    len_and_body: &'a [u8],
    mac: [u8; MAC_LEN],
    end: usize,
}

struct JournalFrames<'a> {
    body_start: usize,
    frames: Vec<Frame<'a>>,
}

/// Splits a journal of `generation` anchored at `anchor` into frames; `Err` when
/// it belongs to another snapshot or is not a journal at all.
fn parse_journal<'a>(
    bytes: &'a [u8],
    generation: u64,
    anchor: &[u8; MAC_LEN],
) -> std::result::Result<JournalFrames<'a>, &'static str> {
    if bytes.len() < JOURNAL_HEAD_LEN || &bytes[..4] != JOURNAL_MAGIC {
        return Err("it is not a farmvault journal");
    }
    if u16::from_be_bytes([bytes[4], bytes[5]]) != VERSION {
        return Err("its format version is not one this farmvault reads");
    }
    if u64::from_be_bytes(bytes[6..14].try_into().unwrap()) != generation
        || bytes[14..JOURNAL_HEAD_LEN] != anchor[..]
    {
        return Err("it belongs to an older snapshot");
    }
    let mut frames = Vec::new();
    let mut at = JOURNAL_HEAD_LEN;
    let mut prev = *anchor;
    loop {
        let rest = &bytes[at..];
        if rest.len() < 4 {
            break;
        }
        let body_len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let Some(total) = body_len.checked_add(4 + MAC_LEN) else {
            break;
        };
        if body_len == 0 || rest.len() < total {
            break;
        }
        let mac: [u8; MAC_LEN] = rest[4 + body_len..total].try_into().unwrap();
        frames.push(Frame {
            prev,
            len_and_body: &rest[..4 + body_len],
            mac,
            end: at + total,
        });
        prev = mac;
        at += total;
    }
    Ok(JournalFrames {
        body_start: JOURNAL_HEAD_LEN,
        frames,
    })
}

/// What a repair or restore read and applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot's generation.
    pub generation: u64,
    /// Items (header, records, index, side records) in the snapshot.
    pub snapshot_items: u64,
    /// Journal frames applied on top of it.
    pub journal_frames: u64,
    /// Bytes at the journal's end that did not form a frame that authenticates
    /// (a write torn by a crash, never acknowledged), ignored.
    pub ignored_journal_bytes: u64,
    /// Why the journal was not used at all, when it was not.
    pub journal_skipped: Option<String>,
    /// Entries in the recovered vault.
    pub entries: u64,
    /// Where the damaged store was moved (repair only).
    pub moved_aside: Option<PathBuf>,
}

/// A snapshot parsed but not yet authenticated (its MAC key comes from the header
/// inside it, which the caller unlocks).
pub(crate) struct SnapshotView<'a> {
    pub generation: u64,
    pub items: Vec<(&'a [u8], &'a [u8])>,
    authed: &'a [u8],
    mac: [u8; MAC_LEN],
}

impl<'a> SnapshotView<'a> {
    /// The vault header item, which every header change rewrites the snapshot
    /// with.
    pub fn header(&self) -> Option<&'a [u8]> {
        self.items
            .iter()
            .find(|(k, _)| *k == crate::format::space::HEADER)
            .map(|(_, v)| *v)
    }

    /// Checks the snapshot's MAC under `keys`.
    pub fn authenticates(&self, keys: &Keys) -> bool {
        keys.backup
            .verify(&[SNAPSHOT_LABEL, self.authed], &self.mac)
    }
}

/// Parses a snapshot file's bytes; `Err` names what is wrong.
pub(crate) fn parse_snapshot(bytes: &[u8]) -> std::result::Result<SnapshotView<'_>, String> {
    if bytes.len() < SNAPSHOT_HEAD_LEN + MAC_LEN || &bytes[..4] != SNAPSHOT_MAGIC {
        return Err("it is not a farmvault backup (no FVBK header)".into());
    }
    let version = u16::from_be_bytes([bytes[4], bytes[5]]);
    if version != VERSION {
        return Err(format!(
            "it is backup format version {version}; this farmvault reads version {VERSION}"
        ));
    }
    let generation = u64::from_be_bytes(bytes[6..14].try_into().unwrap());
    let count = u64::from_be_bytes(bytes[14..22].try_into().unwrap());
    let (authed, mac) = bytes.split_at(bytes.len() - MAC_LEN);
    let mut at = SNAPSHOT_HEAD_LEN;
    let mut items = Vec::new();
    for _ in 0..count {
        let (key, value, next) = take_item(authed, at, true)
            .ok_or("it is truncated or damaged (an item runs past its end)")?;
        items.push((key, value));
        at = next;
    }
    if at != authed.len() {
        return Err("it is damaged (bytes after the last item)".into());
    }
    Ok(SnapshotView {
        generation,
        items,
        authed,
        mac: mac.try_into().unwrap(),
    })
}

/// One `key_len ‖ key [‖ value_len ‖ value]` at `at`: (key, value, next offset).
fn take_item(bytes: &[u8], at: usize, with_value: bool) -> Option<(&[u8], &[u8], usize)> {
    let key_len = u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize;
    let key_end = at + 2 + key_len;
    let key = bytes.get(at + 2..key_end)?;
    if !with_value {
        return Some((key, &[], key_end));
    }
    let value_len = u32::from_be_bytes(bytes.get(key_end..key_end + 4)?.try_into().ok()?) as usize;
    let value_end = key_end.checked_add(4 + value_len)?;
    Some((key, bytes.get(key_end + 4..value_end)?, value_end))
}

/// Applies the frames of `journal` that authenticate, in order, to `items`.
/// Stops at the first frame that does not (reported as ignored bytes).
pub(crate) fn replay_journal(
    journal: &[u8],
    snapshot: &SnapshotView<'_>,
    keys: &Keys,
    items: &mut BTreeMap<Vec<u8>, Vec<u8>>,
    report: &mut RecoveryReport,
) {
    let (frames, used_to) = match authentic_frames(journal, snapshot, keys) {
        Ok(f) => f,
        Err(why) => {
            report.journal_skipped = Some(format!("the journal was not used: {why}"));
            return;
        }
    };
    for ops in frames {
        for (key, value) in ops {
            match value {
                Some(v) => items.insert(key.to_vec(), v.to_vec()),
                None => items.remove(key),
            };
        }
        report.journal_frames += 1;
    }
    // Zeros after the frames are space grown ahead, not lost writes.
    let tail = &journal[used_to..];
    report.ignored_journal_bytes = tail
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i as u64 + 1);
}

/// An insert (`Some(value)`) or a remove of one sled key.
pub(crate) type Op<'a> = (&'a [u8], Option<&'a [u8]>);

/// The ops of each frame of `journal` that authenticates and parses, in
/// order, up to the first that does not (a torn tail), and the offset where
/// the last of them ends. `Err` says why the journal is not `snapshot`'s.
pub(crate) fn authentic_frames<'a>(
    journal: &'a [u8],
    snapshot: &SnapshotView<'_>,
    keys: &Keys,
) -> std::result::Result<(Vec<Vec<Op<'a>>>, usize), &'static str> {
    let frames = parse_journal(journal, snapshot.generation, &snapshot.mac)?;
    let mut used_to = frames.body_start;
    let mut out = Vec::new();
    for f in &frames.frames {
        if !keys
            .backup
            .verify(&[JOURNAL_LABEL, &f.prev, f.len_and_body], &f.mac)
        {
            break;
        }
        // An authenticated frame always parses; one that does not ends the use.
        let Some(ops) = parse_ops(&f.len_and_body[4..]) else {
            break;
        };
        out.push(ops);
        used_to = f.end;
    }
    Ok((out, used_to))
}

/// One frame's inserts and removes, in order (marks skipped); `None` when they
/// do not parse.
fn parse_ops(body: &[u8]) -> Option<Vec<Op<'_>>> {
    let mut parsed = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let op = body[at];
        if op == OP_CLOSE || op == OP_OPEN {
            at += 1;
            continue;
        }
        let (key, value, next) = take_item(body, at + 1, op == OP_INSERT)?;
        match op {
            OP_INSERT => parsed.push((key, Some(value))),
            OP_REMOVE => parsed.push((key, None)),
            _ => return None,
        }
        at = next;
    }
    Some(parsed)
}

/// Writes a backup file atomically and privately (`fsio::replace_private`);
/// what a crash leaves behind carries `TEMP_PREFIX`.
fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> Result<()> {
    fsio::replace_private(path, TEMP_PREFIX, write)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// Removes what a crash mid-`replace_file` left. Safe: this process holds the
/// store's lock, so no other writer is at work in the directory.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn open_for_write(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))
}
