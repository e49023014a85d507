//! One sled database per vault directory per process, and the cross-process lock wait.
//!
//! sled 0.34 refuses a second open of a directory even from the same process
//! (`could not acquire lock on ".../db"`, an `io::ErrorKind::Other` recognisable
//! only by its text). Two plugins in one Nuke session must both open the vault,
//! so handles on the same canonical path share one `Store`; each open still
//! proves its own passphrase or key file against the header.
//!
//! Across processes, the vault's `lock` file (`layout`) is held by the one
//! process that has the vault open, whichever generation is live: sled's own
//! lock is per directory, and a rewrite changes the directory.

use super::backup::{self, Journal};
use super::fsio;
use super::holder::LockHolder;
use super::layout::{self, LockAttempt, VaultLock};
use super::perms::{self, DirId};
use super::replay;
use super::sled_guard::{self, GuardedDb};
use crate::error::{Error, Result};
use crate::keys::Keys;
use crate::os::fork;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, Weak};
use std::time::{Duration, Instant};

/// The live generation of a store: its sled database and the directory that
/// holds it and the backup.
pub(crate) struct Live {
    pub(crate) db: GuardedDb,
    /// The generation directory, or the vault directory (flat layout).
    pub(crate) dir: PathBuf,
    /// The generation's number; `None` for the flat layout.
    pub(crate) generation: Option<u64>,
}

/// A vault's sled database, shared by every handle on it in this process.
pub(crate) struct Store {
    /// The vault directory, canonical: what errors name.
    pub(crate) path: PathBuf,
    /// Replaced only by a rewrite (`rewrite`), which holds `admin` and `writes`.
    pub(super) live: RwLock<Live>,
    lock: Mutex<VaultLock>,
    /// The unlocked subkeys, once any handle has proved a key. Writers hold the
    /// read side across seal and insert, a rotation holds the write side, so no
    /// record is ever sealed under a key that is being replaced.
    pub(crate) keys: RwLock<Option<Arc<Keys>>>,
    /// Serialises header changes (passphrase, key files, rotation, grants).
    pub(crate) admin: Mutex<()>,
    /// Serialises the read-modify-writes of entries (put, batch, renew, purge), so
    /// none acts on a record that a racing write has replaced. Taken after `keys`; never held across a flush.
    pub(crate) writes: Mutex<()>,
    /// The backup journal, once a handle has unlocked the vault (its MACs need
    /// the keys). Taken after `writes`.
    pub(crate) backup: Mutex<Option<Journal>>,
    /// The first durable flush of this store that failed, as its error said.
    /// After a failed fsync the kernel may have dropped the dirty pages and a
    /// later fsync can succeed without writing them, so a later success proves
    /// nothing: from then on this process refuses every write to the store, and
    /// the next open (with every handle closed) recovers the vault from disk.
    pub(super) sync_failed: OnceLock<String>,
    /// The number of the last commit applied to sled (`commit`).
    pub(super) sequence: AtomicU64,
    /// The latest time (Unix seconds) any handle of this process has seen the
    /// vault at: its clock record, or a later write's (`vault::time_seen`).
    pub(crate) time_seen: AtomicU64,
    /// The time the clock record on disk holds, as far as this process knows.
    pub(crate) time_recorded: AtomicU64,
}

impl Store {
    /// The live generation, read-locked: a rewrite waits until the guard goes.
    pub(crate) fn live(&self) -> RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Names `socket` in the vault's lock file: this process serves the vault
    /// as an agent there.
    pub(crate) fn record_agent(&self, socket: &Path) {
        self.lock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record_agent(socket);
    }

    /// Takes the entry write lock.
    pub(crate) fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn lock_backup(&self) -> std::sync::MutexGuard<'_, Option<Journal>> {
        self.backup.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds (or, when missing or stale, rewrites) the backup of a vault just
    /// unlocked with `keys`; a no-op when another handle already did.
    pub(crate) fn attach_backup(&self, keys: Arc<Keys>) -> Result<()> {
        let _writes = self.lock_writes();
        let mut journal = self.lock_backup();
        if journal.is_none() {
            let dir = self.live().dir.clone();
            *journal = Some(match backup::take_up_clean(&dir, &keys)? {
                Some(clean) => clean,
                None => self.recover_unclean(keys)?,
            });
        }
        drop(journal);
        self.load_sequence()
    }

    /// After an abrupt stop: the journal's commits that sled lacks are applied,
    /// sled is made durable, and the backup is rewritten from it.
    fn recover_unclean(&self, keys: Arc<Keys>) -> Result<Journal> {
        let live = self.live();
        replay::catch_up(&live.dir, &live.db, &keys)?;
        self.remember_failure(sled_guard::flush_durably(&live.db, &live.dir))?;
        backup::compact(
            &live.dir,
            &live.db,
            keys,
            backup::next_generation(&live.dir),
        )
    }

    /// Reads the commit number sled holds, after an attach or a rebuild.
    pub(crate) fn load_sequence(&self) -> Result<()> {
        let seq =
            replay::stored_sequence(&self.live().db).map_err(|e| Error::sled(&self.path, e))?;
        self.sequence
            .store(seq, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Writes out and fsyncs what the journal holds (repair, verify).
    pub(crate) fn sync_backup(&self) -> Result<()> {
        match self.lock_backup().as_mut() {
            Some(journal) => journal.sync(),
            None => Ok(()),
        }
    }
}

impl Drop for Store {
    /// The last handle is gone: make sled durable, then mark the journal cleanly
    /// closed, so the next open takes both up as they are. After a failed sync
    /// there is no clean close: the next open replays the journal into sled and
    /// rewrites the backup.
    fn drop(&mut self) {
        let live = self.live.get_mut().unwrap_or_else(|e| e.into_inner());
        if self.sync_failed.get().is_none()
            && sled_guard::flush_durably(&live.db, &live.dir).is_ok()
        {
            if let Some(journal) = self.lock_backup().as_mut() {
                journal.close();
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The stores this process has open, by canonical path and by the fork count
/// (`os::fork`) of the process that opened them: a forked child never gets
/// its parent's store, whose threads and locks it does not have.
type Registry = HashMap<(PathBuf, u64), Weak<Store>>;

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Whether a handle of this process still holds the store of `dir`.
pub(crate) fn is_open_in_process(dir: &Path) -> bool {
    let Ok(canonical) = std::fs::canonicalize(dir) else {
        return false;
    };
    let reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    reg.get(&(canonical, fork::count()))
        .is_some_and(|w| w.strong_count() > 0)
}

/// Whether `dir` holds a vault's store, in either layout.
pub(crate) fn has_store(dir: &Path) -> bool {
    layout::has_store(dir)
}

/// What `open_store` may find, and do, in the vault directory.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    /// The store must be there: no sled file in the live generation is `NoVault`.
    Existing,
    /// sled's files were moved aside (repair): a new store is made where the
    /// live generation's were.
    Rebuild,
    /// A new vault: an empty directory gets generation 1.
    Create,
}

/// Returns the process's store for `dir` (canonicalised), opening it if needed and
/// waiting up to `timeout` for another process to release it. The registry is held
/// across one attempt, never across a wait: a wait for another process must not
/// hold up the other opens of this process (other vaults, or new handles on open ones).
///
/// `checked` is the directory the caller's permission checks passed
/// (`perms::checked_vault_dir`): sled opens by path, so a directory put in its
/// place after the check is refused here, before anything is read or written.
pub(crate) fn open_store(
    dir: &Path,
    timeout: Duration,
    opening: Opening,
    checked: Option<DirId>,
) -> Result<Arc<Store>> {
    let canonical = std::fs::canonicalize(dir)
        .map_err(|e| Error::io(format!("resolving vault path {}", dir.display()), e))?;
    perms::check_same_dir(dir, checked, &canonical)?;
    let start = Instant::now();
    let mut delay = Duration::from_millis(5);
    loop {
        let holder = {
            let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
            let key = (canonical.clone(), fork::count());
            if let Some(store) = reg.get(&key).and_then(Weak::upgrade) {
                return Ok(store);
            }
            match try_open(&canonical, opening)? {
                Ok(store) => {
                    reg.retain(|_, w| w.strong_count() > 0);
                    reg.insert(key, Arc::downgrade(&store));
                    return Ok(store);
                }
                Err(holder) => holder,
            }
        };
        let waited = start.elapsed();
        // An agent holds a vault until it is stopped or locked: waiting for
        // it is pointless, and the caller may go through it instead.
        let by_agent = holder.as_ref().is_some_and(|h| h.agent.is_some());
        if waited >= timeout || by_agent {
            return Err(Error::Locked {
                path: canonical,
                waited_ms: waited.as_millis() as u64,
                holder,
            });
        }
        std::thread::sleep(delay.min(timeout - waited));
        delay = (delay * 2).min(Duration::from_millis(200));
    }
}

/// One attempt at opening the store of `dir`: `Err` when another process
/// holds the vault, with that process when its lock file names it.
fn try_open(
    dir: &Path,
    opening: Opening,
) -> Result<std::result::Result<Arc<Store>, Option<LockHolder>>> {
    let io = |e| Error::io(format!("opening the vault at {}", dir.display()), e);
    let lock = match layout::try_lock(dir).map_err(io)? {
        LockAttempt::Taken(lock) => lock,
        LockAttempt::Busy(holder) => return Ok(Err(holder)),
    };
    let mut generation = layout::current(dir).map_err(|e| Error::corrupt(dir, e.to_string()))?;
    if generation.is_none() && !dir.join("db").exists() && opening == Opening::Create {
        fsio::create_private_dir(&layout::generation_dir(dir, 1)).map_err(io)?;
        layout::switch_to(dir, 1).map_err(io)?;
        generation = Some(1);
    }
    let data = match generation {
        Some(n) => layout::generation_dir(dir, n),
        None => dir.to_path_buf(),
    };
    if let (Some(n), false) = (generation, data.is_dir()) {
        return Err(Error::corrupt(
            dir,
            format!(
                "{} names gen-{n}, and there is no such directory (damaged, or edited by hand)",
                layout::CURRENT_FILE
            ),
        ));
    }
    // Only once the live generation is known to be there: a damaged pointer
    // must never make other generations look stale.
    if data.join("db").is_file() || data.join(backup::SNAPSHOT_FILE).is_file() {
        layout::remove_stale(dir, generation);
    }
    if opening == Opening::Existing && !data.join("db").is_file() {
        return Err(if data.join(backup::SNAPSHOT_FILE).is_file() {
            Error::corrupt(
                dir,
                "the storage files are missing but its backup is here; `farmvault repair` rebuilds the vault from it",
            )
        } else {
            Error::NoVault {
                path: dir.to_path_buf(),
            }
        });
    }
    remove_stale_snapshot_temps(&data);
    match sled_config(&data).open() {
        Ok(db) => {
            fsio::restrict_permissions(dir);
            fsio::restrict_permissions(&data);
            Ok(Ok(Arc::new(Store {
                path: dir.to_path_buf(),
                live: RwLock::new(Live {
                    db: GuardedDb::new(db),
                    dir: data,
                    generation,
                }),
                lock: Mutex::new(lock),
                keys: RwLock::new(None),
                admin: Mutex::new(()),
                writes: Mutex::new(()),
                backup: Mutex::new(None),
                sync_failed: OnceLock::new(),
                sequence: AtomicU64::new(0),
                time_seen: AtomicU64::new(0),
                time_recorded: AtomicU64::new(0),
            })))
        }
        // A farmvault older than the vault lock has the store open.
        Err(e) if is_lock_error(&e) => Ok(Err(None)),
        Err(e) => Err(Error::sled(dir, e)),
    }
}

/// Removes the snapshot temp files (`snap.<16 hex digits>.generating`) that an
/// abrupt stop of sled left behind, when no process has the store open.
///
/// sled 0.34 writes a snapshot to such a file, syncs it, then renames it to
/// `snap.<16 hex digits>`; at open it reads the name that sorts last, which is
/// the temp file when one is left over (`.generating` sorts after the bare
/// name). A 0-byte or half-written one, left by SIGKILL, power loss or a full
/// disk, then makes every open fail until it is deleted. sled writes these files
/// only while it holds the exclusive lock on `db`, so taking that same lock
/// first proves that any such file is stale; when another process holds it, its
/// temp file may be live, and nothing is touched. Only the exact names sled makes
/// are removed. Failures are ignored: sled's own open then reports the damage.
fn remove_stale_snapshot_temps(dir: &Path) {
    let Ok(db) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("db"))
    else {
        return;
    };
    // The lock sled takes, through the crate sled takes it with.
    if fs2::FileExt::try_lock_exclusive(&db).is_err() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        if is_snapshot_temp(&entry.file_name().to_string_lossy())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed = true;
        }
    }
    if removed {
        let _ = fsio::sync_dir(dir);
    }
    // Dropping `db` releases the lock before sled takes it.
}

/// `snap.` + 16 upper-case hex digits + `.generating`: the temp name sled 0.34
/// gives a snapshot it has not finished.
fn is_snapshot_temp(name: &str) -> bool {
    name.strip_prefix("snap.")
        .and_then(|rest| rest.strip_suffix(".generating"))
        .is_some_and(|lsn| {
            lsn.len() == 16 && lsn.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'))
        })
}

pub(super) fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir)
        // A vault holds kilobytes to megabytes; sled's 1 GiB default cache would
        // be an unwelcome guest inside a DCC session.
        .cache_capacity(64 * 1024 * 1024)
        .mode(sled::Mode::LowSpace)
}

fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

#[cfg(test)]
mod tests {
    use super::is_snapshot_temp;

    #[test]
    fn only_the_temp_names_sled_makes_are_snapshot_temps() {
        assert!(is_snapshot_temp("snap.00000000000A2F10.generating"));
        for other in [
            "snap.00000000000A2F10",
            "snap.00000000000a2f10.generating",
            "snap.0A2F10.generating",
            "snap.00000000000A2F10.generating.bak",
            "xsnap.00000000000A2F10.generating",
            "db",
            "conf",
        ] {
            assert!(!is_snapshot_temp(other), "{other}");
        }
    }
}
