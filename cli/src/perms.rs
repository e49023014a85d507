//! Refuses passphrase files and farm identities that other users could read or
//! write, the way ssh refuses a private key with loose modes. Key files and
//! vault directories are refused by the library itself (`KeyFile::read`,
//! `farmvault::perms::check_vault_dir`), so the C ABI and Python refuse them
//! too; their `Error::Insecure` gets this module's exit status 8 (in `error`).
//! And refuses to write over a path where something exists.

use crate::error::{CliError, EXISTS};
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

/// Refuses a regular file that group or others can read or write (the
/// library's rule, `farmvault::perms::check_private_file`), unless
/// `insecure_ok`. Pipes and devices (`/dev/stdin`) are not checked: they have no
/// lasting contents.
pub fn check_private_file(path: &Path, what: &str, insecure_ok: bool) -> Result<(), CliError> {
    if insecure_ok {
        return Ok(());
    }
    Ok(farmvault::perms::check_private_file(path, what)?)
}

/// Refuses a vault directory the library would refuse to open or create there
/// (another user's, open to group or others, a symbolic link, in a folder
/// everyone may write to without the sticky bit), unless `insecure_ok`: called
/// before any passphrase is asked for, so the refusal comes first.
pub fn check_vault_dir(path: &Path, insecure_ok: bool) -> Result<(), CliError> {
    if insecure_ok {
        return Ok(());
    }
    Ok(farmvault::perms::check_vault_dir(path)?)
}
