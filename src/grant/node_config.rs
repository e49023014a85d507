//! Files an administrator puts on a render node for farmvault to obey, in the
//! node configuration directory: `/etc/farmvault` on Unix,
//! `%ProgramData%\farmvault` on Windows.
//!
//! A job runs on the node as an ordinary user and must not be able to choose
//! what limits it, so a setting that constrains job grants comes from here and
//! never from the job's own arguments or environment. What is read:
//!
//! - `grant-hostname`: the hostname a grant's host pattern is checked against
//!   on this node, instead of the one the OS reports (see `host.rs`);
//! - `issuers`: the grant issuer keys this node takes grants from (see
//!   `issuer.rs`), whatever a job's environment says.
//!
//! On Unix a directory or file here that anyone but root could have written
//! (not owned by uid 0, writable by group or others, or a symbolic link) is
//! refused, `Error::Insecure` naming it (`storage::perms::open_root_file`);
//! files may be readable by everyone, as they hold no secret.
//!
//! Off Unix no owner check is possible with the standard library, so nothing
//! is checked and the directory's ACL is all that protects it. The ACL of
//! `C:\ProgramData` lets every user create a folder there, so an administrator
//! must create `C:\ProgramData\farmvault` (which then inherits the
//! administrators' ACL) on every node that uses it; where it is missing, any
//! user could create it and put their own settings in it. The directory is
//! `C:\ProgramData\farmvault` as such: the `ProgramData` variable is not read,
//! because a job sets its own environment.

use crate::error::{Error, Result};
use crate::storage::{fsio, perms};
use std::path::{Path, PathBuf};

/// Longest node file read: each is a line or a few.
const MAX_NODE_FILE_LEN: u64 = 64 * 1024;

/// The node configuration directory.
pub(crate) fn node_config_dir() -> PathBuf {
    #[cfg(windows)]
    {
        PathBuf::from(r"C:\ProgramData\farmvault")
    }
    #[cfg(not(windows))]
    {
        PathBuf::from("/etc/farmvault")
    }
}

/// The text of the node file `name`, `None` when it (or the node configuration
/// directory) does not exist. Errors: `Insecure` for a file or directory that
/// anyone but root could have written (Unix), `InvalidArgument` for one that is
/// not a regular file, not UTF-8 or over 64 KiB, `Io` when it cannot be read.
pub(crate) fn read_node_file(name: &str) -> Result<Option<String>> {
    read_node_file_in(&node_config_dir(), name)
}

/// [`read_node_file`] from the directory `dir` instead (tests point it at a
/// directory of their own with `GrantOpen::node_config_dir`).
pub(crate) fn read_node_file_in(dir: &Path, name: &str) -> Result<Option<String>> {
    let Some(file) = perms::open_root_file(dir, name, "node configuration")? else {
        return Ok(None);
    };
    let path = dir.join(name);
    let bytes = fsio::read_at_most(file, MAX_NODE_FILE_LEN)
        .map_err(|e| {
            Error::io(
                format!("reading node configuration file {}", path.display()),
                e,
            )
        })?
        .ok_or_else(|| {
            Error::invalid(format!(
                "node configuration file {} is larger than {} KiB",
                path.display(),
                MAX_NODE_FILE_LEN >> 10
            ))
        })?;
    String::from_utf8(bytes).map(Some).map_err(|_| {
        Error::invalid(format!(
            "node configuration file {} is not UTF-8 text",
            path.display()
        ))
    })
}
