//! Refuses key files, passphrase files and vault directories that other users
//! could read or write, the way ssh refuses a private key with loose modes.

use crate::exit_code::{CliError, INSECURE};
use std::path::Path;

/// Refuses a regular file that is readable or writable by group or others.
/// Pipes and devices (`/dev/stdin`) are not checked: they have no lasting contents.
#[cfg(unix)]
pub fn check_private_file(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        // Missing or unreadable: the read that follows reports it precisely.
        return Ok(());
    };
    let mode = meta.permissions().mode();
    if !meta.is_file() || mode & 0o077 == 0 || insecure_ok {
        return Ok(());
    }
    Err(CliError::new(
        INSECURE,
        format!(
            "{what} {} is accessible by group or others (mode {:04o})",
            path.display(),
            mode & 0o7777
        ),
        format!(
            "run `chmod 600 {}`, or pass --insecure-permissions",
            path.display()
        ),
    ))
}

/// Refuses a directory that is readable, writable or searchable by group or others.
#[cfg(unix)]
pub fn check_private_dir(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = meta.permissions().mode();
    if !meta.is_dir() || mode & 0o077 == 0 || insecure_ok {
        return Ok(());
    }
    Err(CliError::new(
        INSECURE,
        format!(
            "{what} {} is accessible by group or others (mode {:04o})",
            path.display(),
            mode & 0o7777
        ),
        format!(
            "run `chmod 700 {}`, or pass --insecure-permissions",
            path.display()
        ),
    ))
}

/// Elsewhere (Windows) access is governed by ACLs inherited from the parent
/// folder, which have no portable equivalent of a mode: nothing to check.
#[cfg(not(unix))]
pub fn check_private_file(_path: &Path, _what: &str, _insecure_ok: bool) -> Result<(), CliError> {
    Ok(())
}

/// See `check_private_file`: no-op where there are no Unix modes.
#[cfg(not(unix))]
pub fn check_private_dir(_path: &Path, _what: &str, _insecure_ok: bool) -> Result<(), CliError> {
    Ok(())
}
