//! Where an agent's socket lives, and the checks on its directory.
//!
//! A user's agent listens in `$XDG_RUNTIME_DIR/farmvault/` (a per-user
//! tmpfs the login session makes, 0700, removed at logout), or, where that is
//! unset (a cron job, an ssh session without a session manager),
//! `/tmp/farmvault-<uid>/`. Either way the agent makes the directory 0700 and
//! refuses one that another user owns, that group or others can enter, or
//! that is a symbolic link: whoever could write there could put a socket of
//! their own in the agent's place and collect what clients send.

use crate::error::{Error, Result};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket's file name in its directory.
pub const SOCKET_NAME: &str = "agent.sock";

/// The default socket of this user's agent.
pub fn default_socket() -> PathBuf {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let dir = match runtime {
        Some(r) => r.join("farmvault"),
        None => {
            std::env::temp_dir().join(format!("farmvault-{}", rustix::process::geteuid().as_raw()))
        }
    };
    dir.join(SOCKET_NAME)
}

/// Makes the socket's directory (0700) when missing, and refuses it when it
/// is not this user's alone.
pub(crate) fn prepare(socket: &Path) -> Result<()> {
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "agent socket {} has no directory",
                socket.display()
            ))
        })?;
    if std::fs::symlink_metadata(dir).is_err() {
        crate::storage::fsio::create_private_dir(dir).map_err(|e| {
            Error::io(
                format!("creating the agent's directory {}", dir.display()),
                e,
            )
        })?;
    }
    check(dir)
}

/// The directory holding a socket must be a real directory of this user's,
/// closed to everyone else.
pub(crate) fn check(dir: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| {
        Error::io(
            format!("reading the agent's directory {}", dir.display()),
            e,
        )
    })?;
    refuse(
        dir,
        problem(&meta, false, 0o077, "open to group or others"),
        "the agent's directory",
        "remove it (another user could have put a socket of their own there) or pass a socket in a private directory",
    )
}

/// A render node's agent's socket directory: made 0755 when missing (jobs
/// enter it to connect); refused when another user (root aside) owns it, or
/// group or others may write it (they could put a socket of their own in the
/// agent's place).
pub(crate) fn prepare_shared(socket: &Path) -> Result<()> {
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| Error::invalid(format!("socket {} has no directory", socket.display())))?;
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    refuse(
        dir,
        problem(&meta, true, 0o022, "writable by group or others"),
        "the node agent's socket directory",
        "make it owned by the agent's user (or root) and mode 0755",
    )
}

/// What is wrong with a socket directory whose metadata is `meta`: a symbolic
/// link, not a directory, another user's (root's allowed with `root_may_own`),
/// or any of the mode bits `forbidden` set (`open`: what they allow).
fn problem(
    meta: &std::fs::Metadata,
    root_may_own: bool,
    forbidden: u32,
    open: &str,
) -> Option<String> {
    let me = rustix::process::geteuid().as_raw();
    let mode = meta.permissions().mode();
    if meta.file_type().is_symlink() {
        Some("is a symbolic link".to_owned())
    } else if !meta.is_dir() {
        Some("is not a directory".to_owned())
    } else if meta.uid() != me && !(root_may_own && meta.uid() == 0) {
        Some(format!(
            "belongs to uid {}, not to this user (uid {me})",
            meta.uid()
        ))
    } else if mode & forbidden != 0 {
        Some(format!("is {open} (mode {:o})", mode & 0o777))
    } else {
        None
    }
}

/// `Insecure` naming `dir` (`what`: what it is) when `problem` says what is wrong with it.
fn refuse(dir: &Path, problem: Option<String>, what: &str, fix: &str) -> Result<()> {
    match problem {
        None => Ok(()),
        Some(problem) => Err(Error::Insecure {
            path: dir.to_path_buf(),
            what: format!("{what} {} {problem}", dir.display()),
            fix: fix.into(),
        }),
    }
}
