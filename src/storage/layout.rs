//! Where a vault's files are: the generation directory `CURRENT` names, and the
//! lock that spans generations.
//!
//! ```text
//! <vault>/CURRENT     "gen-<n>\n", replaced atomically: the switch between generations
//! <vault>/lock        locked (flock) by the one process that has the vault open,
//!                     which writes its pid and program name in it (`holder`)
//! <vault>/gen-<n>/    sled's files, backup.fvbk, journal.fvjl
//! ```
//!
//! A rewrite (a key change, `compact`) builds the next generation beside the
//! live one, syncs it, then points `CURRENT` at it: a crash before that leaves
//! the old generation and a partial new one, a crash after it the new one and
//! the old, and the next open removes whichever `CURRENT` does not name. A
//! directory that holds files cannot be replaced by a rename, hence the
//! pointer; a symbolic link is not used because vault paths reached through
//! links are refused.
//!
//! A vault written before generations existed keeps its files in the vault
//! directory itself and has no `CURRENT`; its first rewrite moves it into a
//! generation.

use super::fsio;
use super::holder::{self, LockHolder};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The pointer file: which generation directory is live.
pub const CURRENT_FILE: &str = "CURRENT";
/// The file whose lock marks the vault as open by a process.
pub const LOCK_FILE: &str = "lock";
const GEN_PREFIX: &str = "gen-";
/// Prefix of the temporary file `CURRENT` is written through.
const TEMP_PREFIX: &str = ".CURRENT-";
/// The names sled 0.34 and the backup give files and folders in their
/// directory: what is moved out of, or removed from, a vault directory that
/// holds its files in the flat layout.
const STORE_NAMES: [&str; 5] = ["db", "conf", "blobs", "backup.fvbk", "journal.fvjl"];

/// The generation a vault directory holds now: `None` for the flat layout.
pub fn current(dir: &Path) -> std::io::Result<Option<u64>> {
    let text = match std::fs::read_to_string(dir.join(CURRENT_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    parse_generation(text.trim_end_matches('\n'))
        .map(Some)
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} does not name a generation (gen-<number>)",
                    dir.join(CURRENT_FILE).display()
                ),
            )
        })
}

fn parse_generation(name: &str) -> Option<u64> {
    let n = name.strip_prefix(GEN_PREFIX)?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// The directory of generation `n`.
pub fn generation_dir(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{GEN_PREFIX}{n}"))
}

/// Where the live store's files are: the generation `CURRENT` names, or the
/// vault directory itself (flat layout).
pub fn data_dir(dir: &Path) -> std::io::Result<PathBuf> {
    Ok(match current(dir)? {
        Some(n) => generation_dir(dir, n),
        None => dir.to_path_buf(),
    })
}

/// Points `CURRENT` at generation `n`, atomically and durably.
pub(crate) fn switch_to(dir: &Path, n: u64) -> std::io::Result<()> {
    let line = format!("{GEN_PREFIX}{n}\n");
    fsio::replace_private(&dir.join(CURRENT_FILE), TEMP_PREFIX, |w| {
        std::io::Write::write_all(w, line.as_bytes())
    })
}

/// Whether `dir` holds a store in either layout.
pub(crate) fn has_store(dir: &Path) -> bool {
    dir.join(CURRENT_FILE).is_file() || dir.join("db").is_file()
}

/// Removes what a rewrite stopped part way left: generation directories
/// `CURRENT` does not name, a flat layout's files once a generation is live,
/// and the pointer's temporary files. Called with the vault's lock held, so no
/// process is using any of it. Best effort: what stays is tried again at the
/// next open.
pub(crate) fn remove_stale(dir: &Path, live: Option<u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale_generation = parse_generation(&name).is_some_and(|n| Some(n) != live);
        let flat_leftover = live.is_some()
            && (STORE_NAMES.contains(&&*name)
                || name.starts_with("snap.")
                || name.starts_with(".farmvault-"));
        let temp = name.starts_with(TEMP_PREFIX);
        if stale_generation || flat_leftover || temp {
            let path = entry.path();
            let gone = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed |= gone.is_ok();
        }
    }
    if removed {
        let _ = fsio::sync_dir(dir);
    }
}

/// The lock on a vault directory, held while a process has the vault open.
pub(crate) struct VaultLock {
    file: File,
}

impl VaultLock {
    /// Records in the lock file that this process serves the vault as an
    /// agent on `socket`, so a process that finds the vault in use can say
    /// where to reach it.
    pub(crate) fn record_agent(&mut self, socket: &Path) {
        holder::record(&mut self.file, Some(socket));
    }
}

/// What an attempt at the vault's lock found.
pub(crate) enum LockAttempt {
    /// This process holds it now, and has recorded itself in the lock file.
    Taken(VaultLock),
    /// Another process holds it: the one the lock file names, when it does.
    Busy(Option<LockHolder>),
}

/// Takes the vault's lock without waiting. The lock file is created (0600)
/// when missing.
pub(crate) fn try_lock(dir: &Path) -> std::io::Result<LockAttempt> {
    let path = dir.join(LOCK_FILE);
    let mut file = match fsio::create_private_file(&path) {
        Ok(f) => {
            fsio::sync_dir(dir)?;
            f
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?,
        Err(e) => return Err(e),
    };
    // The same advisory lock sled takes on its own file, through the same crate.
    match fs2::FileExt::try_lock_exclusive(&file) {
        Ok(()) => {
            holder::record(&mut file, None);
            Ok(LockAttempt::Taken(VaultLock { file }))
        }
        Err(e) if e.kind() == fs2::lock_contended_error().kind() => {
            Ok(LockAttempt::Busy(holder::read(&mut file)))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_generation;

    #[test]
    fn only_gen_and_a_number_name_a_generation() {
        assert_eq!(parse_generation("gen-1"), Some(1));
        assert_eq!(parse_generation("gen-18446744073709551615"), Some(u64::MAX));
        for bad in [
            "gen-",
            "gen-x",
            "gen--1",
            "gen-1 ",
            "Gen-1",
            "gen-99999999999999999999",
            "db",
        ] {
            assert_eq!(parse_generation(bad), None, "{bad}");
        }
    }
}
