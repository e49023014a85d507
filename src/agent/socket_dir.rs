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
    let me = rustix::process::geteuid().as_raw();
    let what = if meta.file_type().is_symlink() {
        Some("is a symbolic link".to_owned())
    } else if !meta.is_dir() {
        Some("is not a directory".to_owned())
    } else if meta.uid() != me {
        Some(format!(
            "belongs to uid {}, not to this user (uid {me})",
            meta.uid()
        ))
    } else if meta.permissions().mode() & 0o077 != 0 {
        Some(format!(
            "is open to group or others (mode {:o})",
            meta.permissions().mode() & 0o777
        ))
    } else {
        None
    };
    match what {
        None => Ok(()),
        Some(what) => Err(Error::Insecure {
            path: dir.to_path_buf(),
            what: format!("the agent's directory {} {what}", dir.display()),
            fix: "remove it (another user could have put a socket of their own there) or pass a socket in a private directory".into(),
        }),
    }
}
