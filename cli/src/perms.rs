//! Refuses passphrase files, farm identities and vault directories that other
//! users could read or write, the way ssh refuses a private key with loose
//! modes. Key files are refused by the library itself (`KeyFile::read`), so the
//! C ABI and Python refuse them too; `unlock::read_key_file` gives that refusal
//! this module's exit status. And refuses to write over a path where something
//! exists.

use crate::error::{CliError, EXISTS, INSECURE};
use std::path::Path;

/// Refuses a path where anything exists, a symbolic link included (exit 11),
/// with `hint` saying what to do. An early, friendlier word only: what writes
/// the file creates it exclusively, so something put there after this check is
/// refused too.
pub fn refuse_existing(path: &Path, hint: &str) -> Result<(), CliError> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(CliError::new(
            EXISTS,
            format!("{} already exists", path.display()),
            hint,
        ));
    }
    Ok(())
}

/// Refuses a regular file that is readable or writable by group or others.
/// Pipes and devices (`/dev/stdin`) are not checked: they have no lasting contents.
pub fn check_private_file(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    check(path, what, insecure_ok, false)
}

/// Refuses a directory that is readable, writable or searchable by group or others.
pub fn check_private_dir(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    check(path, what, insecure_ok, true)
}

/// The mode test is the core's (`farmvault::perms`), the one check behind the
/// library refusing a loose farm identity too; here it gets the CLI's exit code
/// and the `--insecure-permissions` way out.
fn check(path: &Path, what: &str, insecure_ok: bool, dir: bool) -> Result<(), CliError> {
    let Some(mode) = farmvault::perms::loose_mode(path, dir) else {
        return Ok(());
    };
    if insecure_ok {
        return Ok(());
    }
    Err(CliError::new(
        INSECURE,
        format!(
            "{what} {} is accessible by group or others (mode {mode:04o})",
            path.display(),
        ),
        format!(
            "run `chmod {} {}`, or pass --insecure-permissions",
            if dir { "700" } else { "600" },
            path.display()
        ),
    ))
}
