//! The command line's side of the library's rules for what it trusts on disk
//! (`farmvault::perms`, one implementation for the library, the C ABI, Python
//! and this): a vault directory is checked before anything is asked for, and
//! passphrase, proxy and session-metadata files are opened once and checked on
//! that descriptor, as the library opens key files and farm identities. A
//! refusal exits 8 (`Error::Insecure`, mapped in `error`), with
//! `--insecure-permissions` as the way out. And refuses to write over a path
//! where something exists.

use crate::args::Global;
use crate::error::{CliError, EXISTS};
use std::fs::File;
use std::path::Path;

/// Creates the folders above `path` that do not exist yet, each 0700 (a key
/// file's folder is nobody else's business: `~/.config/farmvault/farm.key`),
/// and fsyncs the folder that holds each new one, so a power cut cannot keep
/// the key file written into them while losing the folders themselves.
/// Folders that already exist are left as they are.
pub fn create_private_parents(path: &Path) -> Result<(), CliError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let missing: Vec<&Path> = parent
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(parent)
        .map_err(|e| CliError::io(format!("creating {}", parent.display()), &e))?;
    #[cfg(unix)]
    for dir in missing {
        let holder = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(holder)
            .and_then(|f| f.sync_all())
            .map_err(|e| CliError::io(format!("syncing {}", holder.display()), &e))?;
    }
    Ok(())
}

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

/// Refuses a vault directory the library would refuse to open or create there
/// (another user's, open to group or others, a symbolic link, in a folder
/// everyone may write to without the sticky bit) unless `--insecure-permissions`,
/// and one on a network filesystem unless `--allow-network-filesystem`: called
/// before any passphrase is asked for, so the refusal comes first.
pub fn check_vault_dir(g: &Global, path: &Path) -> Result<(), CliError> {
    if !g.allow_network_filesystem {
        if let Some(filesystem) = farmvault::network_filesystem(path) {
            return Err(farmvault::Error::NetworkFilesystem {
                path: path.to_path_buf(),
                filesystem,
            }
            .into());
        }
    }
    if g.insecure_permissions {
        return Ok(());
    }
    Ok(farmvault::perms::check_vault_dir(path)?)
}

/// Opens a secret file (`what`: "passphrase file", "proxy file") once, refused
/// unless it is the caller's, private and not a link to a file, as the
/// descriptor read says; pipes and devices (`/dev/stdin`) are read unchecked.
pub fn open_private_file(path: &Path, what: &str, insecure_ok: bool) -> Result<File, CliError> {
    Ok(farmvault::perms::open_private_file(
        path,
        what,
        insecure_ok,
    )?)
}
