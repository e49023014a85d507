//! The local record of a grant's first open on a machine.
//!
//! One small text file per grant, named by the grant id in hex, in a per-user state
//! directory:
//!
//! ```text
//! farmvault-grant-state 1
//! first_open 1767225600
//! ```
//!
//! The first open writes it atomically and without overwriting (temp file, fsync,
//! hard link), so processes racing to open the same grant agree on one first-open
//! time. This state is advisory: whoever holds the grant's opening material and can
//! write this directory can delete or edit it. Deleting it restarts the use window
//! only while the claim-by deadline (sealed in the bundle) has not passed, and a
//! recorded time later than the deadline is clamped to it, so a grant never reads
//! after `claim_by + use window`.

use crate::clock::UnixTime;
use crate::error::{Error, Result};
use crate::grant::GrantId;
use crate::storage::fsio::{self, StagedFile};
use std::path::{Path, PathBuf};

const FIRST_LINE: &str = "farmvault-grant-state 1";

/// The per-user directory where first opens are recorded when no `state_dir` is given:
///
/// - Linux and other Unix: `$XDG_STATE_HOME/farmvault/grants`, else
///   `~/.local/state/farmvault/grants`;
/// - macOS: `~/Library/Application Support/farmvault/grants`;
/// - Windows: `%LOCALAPPDATA%\farmvault\grants`.
///
/// If the home directory is shared between machines (an NFS home), so is the state:
/// the use window then starts at the first open on any machine that shares it,
/// which is stricter, never looser.
pub fn default_state_dir() -> Result<PathBuf> {
    let base = platform_state_base().ok_or_else(|| {
        Error::invalid(
            "no per-user state directory (HOME, XDG_STATE_HOME or LOCALAPPDATA is unset); \
             pass a state directory to the grant open",
        )
    })?;
    Ok(base.join("farmvault").join("grants"))
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_state_base() -> Option<PathBuf> {
    env_dir("XDG_STATE_HOME").or_else(|| env_dir("HOME").map(|h| h.join(".local").join("state")))
}

#[cfg(target_os = "macos")]
fn platform_state_base() -> Option<PathBuf> {
    env_dir("HOME").map(|h| h.join("Library").join("Application Support"))
}

#[cfg(windows)]
fn platform_state_base() -> Option<PathBuf> {
    env_dir("LOCALAPPDATA")
}

#[cfg(not(any(unix, windows)))]
fn platform_state_base() -> Option<PathBuf> {
    None
}

/// The state file of grant `id` in `dir`.
pub(crate) fn state_path(dir: &Path, id: &GrantId) -> PathBuf {
    dir.join(id.to_hex())
}

/// The recorded first open, if this machine has opened the grant before.
pub(crate) fn read(path: &Path) -> Result<Option<UnixTime>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::io(
                format!("reading grant state {}", path.display()),
                e,
            ))
        }
    };
    parse(&text).map(Some).ok_or_else(|| {
        Error::corrupt(
            path,
            "the grant state file is unreadable; it records the first open of a grant on \
             this machine (deleting it restarts the use window only before the claim-by deadline)",
        )
    })
}

fn parse(text: &str) -> Option<UnixTime> {
    let mut lines = text.lines();
    if lines.next()? != FIRST_LINE {
        return None;
    }
    let secs = lines
        .next()?
        .strip_prefix("first_open ")?
        .trim()
        .parse()
        .ok()?;
    Some(UnixTime(secs))
}

/// Records `now` as the first open in `path` unless another process already did,
/// and returns the first open that stands.
pub(crate) fn record_first_open(path: &Path, now: UnixTime) -> Result<UnixTime> {
    let dir = path
        .parent()
        .expect("a state path is a file inside the state directory");
    fsio::create_private_dir(dir).map_err(|e| {
        Error::io(
            format!("creating grant state directory {}", dir.display()),
            e,
        )
    })?;
    let ctx = || format!("recording the first open in {}", path.display());
    let line = format!("{FIRST_LINE}\nfirst_open {}\n", now.secs());
    let staged = StagedFile::write(path, line.as_bytes(), ctx)?;
    let vanished = || Error::corrupt(path, "the grant state file vanished");
    match staged.link_into_place() {
        Ok(()) => Ok(now),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path)?.ok_or_else(vanished),
        // Filesystems without hard links: create-if-absent is then best effort.
        Err(_) if !path.exists() => staged
            .rename_into_place()
            .map(|()| now)
            .map_err(|e| Error::io(ctx(), e)),
        Err(_) => read(path)?.ok_or_else(vanished),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_writer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = state_path(&dir.path().join("s"), &GrantId([7; 16]));
        assert_eq!(read(&p).unwrap(), None);
        assert_eq!(record_first_open(&p, UnixTime(100)).unwrap(), UnixTime(100));
        assert_eq!(record_first_open(&p, UnixTime(200)).unwrap(), UnixTime(100));
        assert_eq!(read(&p).unwrap(), Some(UnixTime(100)));
        std::fs::write(&p, "garbage").unwrap();
        assert!(matches!(read(&p), Err(Error::Corrupt { .. })));
        let leftovers = std::fs::read_dir(p.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "temp files are removed");
    }
}
