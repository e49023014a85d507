//! Backup, restore and repair: the ways back to a working vault that do not
//! depend on sled. The files are described in `backup.rs`.

use super::api::Vault;
use super::config::{unlock_header, Config};
use super::handle::Direct;
use crate::error::{Error, Result};
use crate::keys::{Kek, Keys, Unlock};
use crate::storage::backup::{self, RecoveryReport};
use crate::storage::perms::DirId;
use crate::storage::store::Opening;
use crate::storage::{fsio, layout, store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A backup read, authenticated and unlocked.
struct Recovered {
    items: BTreeMap<Vec<u8>, Vec<u8>>,
    keys: Keys,
    kek: Kek,
    report: RecoveryReport,
}

/// Largest backup file `Config::restore` reads (1 GiB). A backup comes from
/// elsewhere and its header declares an item count, not a size, so the cap is
/// what keeps a huge or endless file (`/dev/zero`) from filling memory; the
/// vault's own backup, which it wrote itself, is read whole.
pub const MAX_RESTORE_LEN: u64 = 1 << 30;

/// Reads a backup file, refusing one longer than `limit` bytes without reading
/// past the limit, and one that does not start as a backup before reading on.
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |e| Error::io(format!("reading backup {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let too_long = || {
        Error::invalid(format!(
            "backup {} is larger than the limit of {limit} bytes a restore reads",
            path.display()
        ))
    };
    // A regular file says its size: refuse before reading any of it.
    if f.metadata().map_err(io)?.len() > limit {
        return Err(too_long());
    }
    let mut bytes = Vec::new();
    (&mut f).take(4).read_to_end(&mut bytes).map_err(io)?;
    if bytes != b"FVBK" {
        return Err(Error::corrupt(
            path,
            "it is not a farmvault backup (no FVBK header)",
        ));
    }
    f.take(limit.saturating_sub(4).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    // A pipe or a device does not: stop one byte past the limit.
    if bytes.len() as u64 > limit {
        return Err(too_long());
    }
    Ok(bytes)
}

/// Reads the snapshot at `snapshot_path` (and, for a vault's own backup, its
/// journal), unlocks its header with `unlock` and authenticates it all.
fn read_backup(
    snapshot_path: &Path,
    journal_path: Option<&Path>,
    unlock: &Unlock,
    limit: u64,
) -> Result<Recovered> {
    let bytes = read_file(snapshot_path, limit)?;
    let snapshot = backup::parse_snapshot(&bytes).map_err(|w| Error::corrupt(snapshot_path, w))?;
    let header = snapshot
        .header()
        .ok_or_else(|| Error::corrupt(snapshot_path, "the backup holds no vault header"))?;
    let (keys, kek) = unlock_header(snapshot_path, header, unlock)?;
    if !snapshot.authenticates(&keys) {
        return Err(Error::corrupt(
            snapshot_path,
            "the backup failed authentication: it was edited or damaged",
        ));
    }
    let mut items: BTreeMap<Vec<u8>, Vec<u8>> = snapshot
        .items
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    let mut report = RecoveryReport {
        generation: snapshot.generation,
        snapshot_items: items.len() as u64,
        ..RecoveryReport::default()
    };
    if let Some(path) = journal_path {
        match std::fs::read(path) {
            Ok(journal) => {
                backup::replay_journal(&journal, &snapshot, &keys, &mut items, &mut report)
            }
            Err(e) => report.journal_skipped = Some(format!("the journal was not read: {e}")),
        }
    }
    report.entries = backup::count_entries(items.keys().map(Vec::as_slice));
    Ok(Recovered {
        items,
        keys,
        kek,
        report,
    })
}

/// Writes `recovered` into a new sled store in `dir` and opens it as a vault
/// with a fresh backup.
/// `checked`: the directory the caller's checks passed (`Config::check_dir`).
fn rebuild(
    config: Config,
    checked: Option<DirId>,
    opening: Opening,
    recovered: Recovered,
) -> Result<(Vault, RecoveryReport)> {
    let store = config.open_checked_store(checked, opening)?;
    let mut batch = sled::Batch::default();
    for (k, v) in &recovered.items {
        batch.insert(&k[..], &v[..]);
    }
    store
        .live()
        .db
        .apply_batch(batch)
        .map_err(|e| Error::sled(&store.path, e))?;
    store.flush()?;
    let keys = Arc::new(recovered.keys);
    *store.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
    {
        let _writes = store.lock_writes();
        // A generation past the one read, so the old journal can never chain onto it.
        let live = store.live();
        let journal = backup::compact(
            &live.dir,
            &live.db,
            keys,
            recovered.report.generation.wrapping_add(1),
        )?;
        *store.backup.lock().unwrap_or_else(|e| e.into_inner()) = Some(journal);
    }
    store.load_sequence()?;
    let mut vault = config.handle(store, recovered.kek);
    vault.after_unlock()?;
    Ok((Vault::direct_handle(vault), recovered.report))
}

impl Config {
    /// Rebuilds the vault's sled store from its own backup (snapshot and journal)
    /// when the store will not open or read whole: sled refuses it or fails on an
    /// item, or its header is missing or damaged. The damaged files are moved, not
    /// deleted, into a `damaged-<time>` folder of the vault directory (it holds
    /// only encrypted data; remove it once the vault works). `force` rebuilds even
    /// a store that opens (to undo records damaged on disk). Returns the opened vault, and what was read, or `None`
    /// when the store opened and nothing was done. The backup must open with
    /// `unlock` before anything is moved: a wrong key changes nothing.
    pub fn repair(self, unlock: &Unlock, force: bool) -> Result<(Vault, Option<RecoveryReport>)> {
        let checked = self.check_dir()?;
        let dir = self.path.clone();
        let data = layout::data_dir(&dir).map_err(|e| Error::corrupt(&dir, e.to_string()))?;
        let snapshot_path = data.join(backup::SNAPSHOT_FILE);
        if !store::has_store(&dir) && !snapshot_path.is_file() {
            return Err(Error::NoVault { path: dir });
        }
        if store::has_store(&dir) {
            match self.clone().open(unlock) {
                // sled opens lazily: a store is healthy only if it reads whole.
                Ok(vault) if !force && reads_whole(&vault) => return Ok((vault, None)),
                Ok(vault) => {
                    drop(vault);
                    if store::is_open_in_process(&dir) {
                        return Err(Error::invalid(
                            "other handles on this vault are open in this process; close them before a repair",
                        ));
                    }
                }
                // Only a store that is damaged is rebuilt: a wrong key, another
                // process holding the vault, or a bad argument are the caller's.
                Err(
                    e @ (Error::WrongKey { .. }
                    | Error::Locked { .. }
                    | Error::InvalidArgument(_)
                    | Error::Insecure { .. }),
                ) => return Err(e),
                Err(_) => {}
            }
        }
        let recovered = read_backup(
            &snapshot_path,
            Some(&data.join(backup::JOURNAL_FILE)),
            unlock,
            u64::MAX,
        )?;
        let moved = move_store_aside(&dir, &data)?;
        let (vault, mut report) = rebuild(self, checked, Opening::Rebuild, recovered)?;
        report.moved_aside = Some(moved);
        Ok((vault, Some(report)))
    }

    /// Creates the vault at this config's path from a backup file written by
    /// `Vault::backup_to`, unlocked by a passphrase or key file valid when the
    /// backup was written. The path must not hold a vault, and is refused as
    /// `create` refuses it ([`Config::allow_insecure_permissions`]).
    pub fn restore(self, from: &Path, unlock: &Unlock) -> Result<(Vault, RecoveryReport)> {
        self.check_dir()?;
        let dir = self.path.clone();
        if store::has_store(&dir) || dir.join(backup::SNAPSHOT_FILE).exists() {
            return Err(Error::AlreadyExists { path: dir });
        }
        Config::refuse_non_empty(&dir)?;
        let recovered = read_backup(from, None, unlock, MAX_RESTORE_LEN)?;
        let checked = self.create_dir()?;
        rebuild(self, checked, Opening::Create, recovered)
    }
}

impl Direct {
    pub fn backup_to(&self, dest: &Path) -> Result<RecoveryReport> {
        if dest.is_dir() {
            return Err(Error::invalid(format!(
                "{} is a directory; name the backup file to write",
                dest.display()
            )));
        }
        let keys = self.keys();
        let store = &self.store;
        let _writes = store.lock_writes();
        let written = backup::write_snapshot(&store.live().db, &keys, 0, dest, true)?;
        Ok(RecoveryReport {
            snapshot_items: written.items,
            entries: written.entries,
            ..RecoveryReport::default()
        })
    }

    pub fn verify_backup(&self, unlock: &Unlock) -> Result<RecoveryReport> {
        let store = &self.store;
        store.sync_backup()?;
        let _writes = store.lock_writes();
        let data = store.live().dir.clone();
        let snapshot_path = data.join(backup::SNAPSHOT_FILE);
        let recovered = read_backup(
            &snapshot_path,
            Some(&data.join(backup::JOURNAL_FILE)),
            unlock,
            u64::MAX,
        )?;
        let mut live = BTreeMap::new();
        for item in store.live().db.iter() {
            let (k, v) = item.map_err(|e| Error::sled(&store.path, e))?;
            live.insert(k.to_vec(), v.to_vec());
        }
        if live != recovered.items {
            let differ = live
                .iter()
                .filter(|(k, v)| recovered.items.get(*k) != Some(*v))
                .count()
                + recovered
                    .items
                    .keys()
                    .filter(|k| !live.contains_key(*k))
                    .count();
            return Err(Error::corrupt(
                &snapshot_path,
                format!(
                    "the backup disagrees with the store on {differ} items; any write rewrites it"
                ),
            ));
        }
        Ok(recovered.report)
    }
}

/// Whether sled reads every item of the vault's store without an error.
fn reads_whole(vault: &Vault) -> bool {
    vault
        .direct()
        .is_ok_and(|d| d.store.live().db.iter().all(|item| item.is_ok()))
}

/// Moves sled's files out of `data`, the live generation's directory (everything
/// but the backup, and in the flat layout the vault's own files and earlier
/// `damaged-*` folders) into a new `damaged-<unix time>` folder of the vault
/// directory `dir`; returns it.
fn move_store_aside(dir: &Path, data: &Path) -> Result<PathBuf> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut aside = dir.join(format!("damaged-{now}"));
    let mut n = 1;
    while aside.exists() {
        aside = dir.join(format!("damaged-{now}-{n}"));
        n += 1;
    }
    let fail = |e| {
        Error::io(
            format!("moving the damaged store aside into {}", aside.display()),
            e,
        )
    };
    fsio::create_private_dir(&aside).map_err(fail)?;
    for entry in std::fs::read_dir(data).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let keep = name == backup::SNAPSHOT_FILE
            || name == backup::JOURNAL_FILE
            || name == layout::LOCK_FILE
            || name.starts_with("damaged-")
            || name.starts_with(backup::TEMP_PREFIX);
        if !keep {
            std::fs::rename(entry.path(), aside.join(&*name)).map_err(fail)?;
        }
    }
    Ok(aside)
}
