//! Refuses key files, passphrase files and vault directories that other users
//! could read or write, the way ssh refuses a private key with loose modes.

use crate::exit_code::CliError;
use std::path::Path;

/// Refuses a regular file that is readable or writable by group or others.
/// Pipes and devices (`/dev/stdin`) are not checked: they have no lasting contents.
pub fn check_private_file(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    check(path, what, insecure_ok, false)
}

/// Refuses a directory that is readable, writable or searchable by group or others.
pub fn check_private_dir(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    check(path, what, insecure_ok, true)
}

#[cfg(unix)]
fn check(path: &Path, what: &str, insecure_ok: bool, dir: bool) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        // Missing or unreadable: the read that follows reports it precisely.
        return Ok(());
    };
    let mode = meta.permissions().mode();
    let kind_matches = if dir { meta.is_dir() } else { meta.is_file() };
    if !kind_matches || mode & 0o077 == 0 || insecure_ok {
        return Ok(());
    }
    Err(CliError::new(
        crate::exit_code::INSECURE,
        format!(
            "{what} {} is accessible by group or others (mode {:04o})",
            path.display(),
            mode & 0o7777
        ),
        format!(
            "run `chmod {} {}`, or pass --insecure-permissions",
            if dir { "700" } else { "600" },
            path.display()
        ),
    ))
}

/// Elsewhere (Windows) access is governed by ACLs inherited from the parent
/// folder, which have no portable equivalent of a mode: nothing to check.
#[cfg(not(unix))]
fn check(_path: &Path, _what: &str, _insecure_ok: bool, _dir: bool) -> Result<(), CliError> {
    Ok(())
}
