//! Owner-only permissions on files that hold keys: the one check behind refusing
//! a key file or a farm identity that other users could read (on open, in the
//! core, so the C ABI and Python refuse them too) and the CLI's refusal of loose
//! passphrase files and vault directories, the way ssh refuses a private key
//! with loose modes.
//!
//! Public (as `farmvault::perms`) so that a tool built on the library refuses
//! the files it reads itself (passphrase files, proxies) with the same rule and
//! the same words as the library does.

use crate::error::{Error, Result};
use std::path::Path;

/// The permission bits of `path` when group or others can access it and it is a
/// regular file (or, with `dir`, a directory); `None` when it is private, missing
/// (the read that follows reports that precisely), of the other kind (pipes and
/// devices such as `/dev/stdin` have no lasting contents), or off Unix (where
/// access is governed by ACLs with no portable equivalent of a mode).
pub fn loose_mode(path: &Path, dir: bool) -> Option<u32> {
    loose_mode_of(&std::fs::metadata(path).ok()?, dir)
}

/// [`loose_mode`] of metadata already in hand (an open file's, so the mode
/// checked is that of the file read).
pub fn loose_mode_of(meta: &std::fs::Metadata, dir: bool) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        let kind_matches = if dir { meta.is_dir() } else { meta.is_file() };
        (kind_matches && mode & 0o077 != 0).then_some(mode & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, dir);
        None
    }
}

/// The message for a loose file or directory: what, where, and the fix.
pub fn loose_message(path: &Path, what: &str, mode: u32, dir: bool) -> String {
    format!(
        "{}{mode:04o}); run `chmod {} {}`",
        loose_prefix(path, what),
        if dir { "700" } else { "600" },
        path.display()
    )
}

fn loose_prefix(path: &Path, what: &str) -> String {
    format!(
        "{what} {} is accessible by group or others (mode ",
        path.display()
    )
}

/// Whether `message` (of an `InvalidArgument`) is the refusal of `what` at
/// `path` for its loose mode, as [`loose_message`] writes it: for a caller that
/// reports that refusal in its own way (the CLI's exit status 8).
pub fn is_loose_refusal(message: &str, path: &Path, what: &str) -> bool {
    message.starts_with(&loose_prefix(path, what))
}

/// Refuses (`InvalidArgument`, saying how to fix it) a regular file that group or
/// others can read or write.
pub fn check_private_file(path: &Path, what: &str) -> Result<()> {
    match loose_mode(path, false) {
        Some(mode) => Err(Error::invalid(loose_message(path, what, mode, false))),
        None => Ok(()),
    }
}
