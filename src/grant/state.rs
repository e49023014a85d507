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
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const FIRST_LINE: &str = "farmvault-grant-state 1";

/// The environment variable naming the directory where first opens are
/// recorded when the opener names none: the same for Rust, C, Python and the
/// command line (whose `--state-dir` reads it too).
pub const STATE_DIR_ENV: &str = "FARMVAULT_STATE_DIR";

/// The directory where first opens are recorded when no `state_dir` is given:
///
/// - `$FARMVAULT_STATE_DIR` ([`STATE_DIR_ENV`]) when it is set and not empty, on
///   every platform: that directory itself, nothing appended (a relative path is
///   taken from the current directory, as a `state_dir` is). It comes first
///   because farm jobs often run with an empty environment (no `HOME`), or with a
///   `HOME` shared between machines;
/// - Linux and other Unix: `$XDG_STATE_HOME/farmvault/grants`, else
///   `~/.local/state/farmvault/grants`;
/// - macOS: `~/Library/Application Support/farmvault/grants`;
/// - Windows: `%LOCALAPPDATA%\farmvault\grants`.
///
/// `InvalidArgument` when none of these is set (the per-user variables count only
/// as absolute paths); the message names `FARMVAULT_STATE_DIR`.
///
/// If the home directory is shared between machines (an NFS home), so is the state:
/// the use window then starts at the first open on any machine that shares it,
/// which is stricter, never looser.
pub fn default_state_dir() -> Result<PathBuf> {
    state_dir_from(|var| std::env::var_os(var)).ok_or_else(no_state_dir)
}

/// The error when neither the opener nor the environment names a state directory.
fn no_state_dir() -> Error {
    Error::invalid(format!(
        "no directory to record the grant's first open in: {STATE_DIR_ENV} is unset and \
         {PLATFORM_VARS}; set {STATE_DIR_ENV} to a directory of this user's that stays \
         on this machine, or pass a state directory to the grant open"
    ))
}

/// [`default_state_dir`] with the environment read through `var`.
fn state_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = var(STATE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    platform_state_base(absolute).map(|base| base.join("farmvault").join("grants"))
}

#[cfg(all(unix, not(target_os = "macos")))]
const PLATFORM_VARS: &str = "neither XDG_STATE_HOME nor HOME is set to an absolute path";

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_state_base(dir: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    dir("XDG_STATE_HOME").or_else(|| dir("HOME").map(|h| h.join(".local").join("state")))
}

#[cfg(target_os = "macos")]
const PLATFORM_VARS: &str = "HOME is not set to an absolute path";

#[cfg(target_os = "macos")]
fn platform_state_base(dir: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    dir("HOME").map(|h| h.join("Library").join("Application Support"))
}

#[cfg(windows)]
const PLATFORM_VARS: &str = "LOCALAPPDATA is not set to an absolute path";

#[cfg(windows)]
fn platform_state_base(dir: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    dir("LOCALAPPDATA")
}

#[cfg(not(any(unix, windows)))]
const PLATFORM_VARS: &str = "this platform has no per-user state directory";

#[cfg(not(any(unix, windows)))]
fn platform_state_base(_dir: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
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

    /// An environment of `pairs` only.
    fn env<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn farmvault_state_dir_comes_first_and_is_used_as_it_is() {
        let all = [
            (STATE_DIR_ENV, "/farm/state"),
            ("XDG_STATE_HOME", "/xdg"),
            ("HOME", "/home/u"),
            ("LOCALAPPDATA", "/local"),
        ];
        assert_eq!(state_dir_from(env(&all)), Some("/farm/state".into()));
        assert_eq!(
            state_dir_from(env(&[(STATE_DIR_ENV, "rel/state")])),
            Some("rel/state".into()),
            "a relative path is used as a state_dir would be"
        );
        // Empty counts as unset: the per-user default stands.
        let empty = [(STATE_DIR_ENV, ""), ("HOME", "/home/u")];
        let home = [("HOME", "/home/u")];
        assert_eq!(state_dir_from(env(&empty)), state_dir_from(env(&home)));
        assert_eq!(state_dir_from(env(&[])), None);
        assert_eq!(state_dir_from(env(&[(STATE_DIR_ENV, "")])), None);
        let Error::InvalidArgument(msg) = no_state_dir() else {
            panic!("not InvalidArgument")
        };
        assert!(msg.contains("set FARMVAULT_STATE_DIR"), "{msg}");
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn xdg_state_home_then_home_when_farmvault_state_dir_is_unset() {
        let grants = |p: &str| Some(PathBuf::from(p).join("farmvault").join("grants"));
        let both = [("XDG_STATE_HOME", "/xdg"), ("HOME", "/home/u")];
        assert_eq!(state_dir_from(env(&both)), grants("/xdg"));
        let home = [("HOME", "/home/u")];
        assert_eq!(state_dir_from(env(&home)), grants("/home/u/.local/state"));
        // A relative per-user variable is ignored, as the XDG spec says.
        let relative = [("XDG_STATE_HOME", "xdg"), ("HOME", "home")];
        assert_eq!(state_dir_from(env(&relative)), None);
    }
}
