//! What farmvault trusts on disk, and the one set of rules behind refusing the
//! rest: a vault directory, key file, farm identity or passphrase file that
//! another user could read, replace or re-point is refused (`Error::Insecure`),
//! the way ssh refuses a private key with loose modes. The library refuses them
//! itself (so the C ABI and Python do too); the CLI calls the same functions and
//! gives the refusal its exit status 8.
//!
//! - A vault directory must be the caller's (owner = effective uid), private
//!   (no group or other bits), not a symbolic link itself, and not inside a
//!   directory every user may write to without the sticky bit (where anyone can
//!   rename it away and put their own in its place). A world-writable parent with
//!   the sticky bit (`/tmp`) is fine: others cannot rename what is ours there.
//!   A group-writable parent is trusted, as the members of its group are
//!   (docs/SECURITY.md says why, and how this compares with ssh).
//! - A file that holds a key is opened once, without following a symbolic link
//!   at its last component, and the owner and mode checked are those of the
//!   descriptor that is then read (`fstat`), so nothing can be swapped between
//!   the check and the read. Pipes and devices (`/dev/stdin`, which is itself a
//!   link to the descriptor) are not checked: they have no lasting contents.
//!
//! - A file an administrator puts on the machine for the library to obey (the
//!   node configuration, `grant::node_config`) is another user's by design, and
//!   others may read it; what matters is who could have written it. It and its
//!   directory must be root's (uid 0), writable by no group or other, and not
//!   symbolic links: otherwise the user the setting constrains could have
//!   written it.
//!
//! sled opens its directory by path, so for a vault directory the check is made
//! on a descriptor opened without following links, and the directory sled then
//! opened is compared with it (device and inode) before anything is read.
//!
//! Off Unix there is no check: access follows ACLs inherited from the parent
//! folder, with no portable equivalent of an owner and a mode, and creating a
//! symbolic link needs a privilege ordinary users lack.
//!
//! Public (as `farmvault::perms`) so that a tool built on the library refuses
//! the files it reads itself (passphrase files, proxies) with the same rules and
//! the same words as the library does.

use crate::error::{Error, Result};
use std::fs::{File, Metadata};
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
pub fn loose_mode_of(meta: &Metadata, dir: bool) -> Option<u32> {
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
    loose_refusal(path, what, mode, dir).to_string()
}

fn loose_prefix(path: &Path, what: &str) -> String {
    format!(
        "{what} {} is accessible by group or others (mode ",
        path.display()
    )
}

/// Whether `message` is the refusal of `what` at `path` for its loose mode, as
/// [`loose_message`] writes it. Matching [`Error::Insecure`] says the same
/// without reading the text.
pub fn is_loose_refusal(message: &str, path: &Path, what: &str) -> bool {
    message.starts_with(&loose_prefix(path, what))
}

/// Refuses (`Error::Insecure`, saying how to fix it) a regular file that group
/// or others can read or write. Checked by path: a file that is then read should
/// be opened with [`open_private_file`] instead, which checks what it reads.
pub fn check_private_file(path: &Path, what: &str) -> Result<()> {
    match loose_mode(path, false) {
        Some(mode) => Err(loose_refusal(path, what, mode, false)),
        None => Ok(()),
    }
}

fn insecure(path: &Path, what: String, fix: String) -> Error {
    Error::Insecure {
        path: path.to_path_buf(),
        what,
        fix,
    }
}

fn loose_refusal(path: &Path, what: &str, mode: u32, dir: bool) -> Error {
    insecure(
        path,
        format!("{}{mode:04o})", loose_prefix(path, what)),
        format!(
            "run `chmod {} {}`",
            if dir { "700" } else { "600" },
            path.display()
        ),
    )
}

/// Opens the file `path` (a `what`: "key file", "farm identity", "passphrase
/// file") for reading, once, and refuses it unless it is safe to read a secret
/// from: a symbolic link at its last component is not followed, and a regular
/// file must belong to the caller and give group and others no access, as the
/// descriptor returned says (`fstat`), so the file checked is the file read.
/// Pipes and devices, also through a link (`/dev/stdin`), are read unchecked.
/// `allow_insecure` opens it as any other file (the explicit way past, the
/// CLI's `--insecure-permissions`).
///
/// Errors: `Insecure` naming the path, what is wrong and the fix; `Io` when it
/// cannot be opened.
pub fn open_private_file(path: &Path, what: &str, allow_insecure: bool) -> Result<File> {
    let (file, meta) = open_no_follow(path, what, allow_insecure)?;
    if !allow_insecure {
        check_opened_file(path, what, &meta)?;
    }
    Ok(file)
}

/// The first half of [`open_private_file`]: the open, refusing a link to a
/// regular file unless `allow_insecure`, and the descriptor's metadata; the
/// caller checks them with [`check_opened_file`] when it is ready to.
pub(crate) fn open_no_follow(
    path: &Path,
    what: &str,
    allow_insecure: bool,
) -> Result<(File, Metadata)> {
    let io = |e| Error::io(format!("reading {what} {}", path.display()), e);
    let file = if allow_insecure {
        File::open(path).map_err(io)?
    } else {
        os::open_file_no_follow(path).or_else(|e| {
            if !is_symlink(path) {
                return Err(io(e));
            }
            // Opened through the link only to tell a pipe or a device (which is
            // read unchecked) from a file; the descriptor that is then read is
            // the one whose kind was checked.
            let through = File::open(path).map_err(io)?;
            match through.metadata() {
                Ok(m) if !m.is_file() && !m.is_dir() => Ok(through),
                _ => Err(symlink_refusal(path, what)),
            }
        })?
    };
    let meta = file.metadata().map_err(io)?;
    Ok((file, meta))
}

/// The second half of [`open_private_file`]: refuses a regular file, known by
/// its open descriptor's `meta`, that is not the caller's or that group or
/// others can access.
pub(crate) fn check_opened_file(path: &Path, what: &str, meta: &Metadata) -> Result<()> {
    if !meta.is_file() {
        return Ok(());
    }
    let foreign = os::foreign_owner(meta);
    let loose = loose_mode_of(meta, false);
    // Only a file the usual rule refuses is looked for among the service
    // manager's credentials (an environment read and two path resolutions).
    if (foreign.is_some() || loose.is_some()) && os::is_service_credential(path, meta) {
        return Ok(());
    }
    if let Some((owner, me)) = foreign {
        return Err(insecure(
            path,
            format!(
                "{what} {} is owned by uid {owner}, not by you (uid {me})",
                path.display()
            ),
            format!("use a {what} of your own, or have it `chown`ed to uid {me}"),
        ));
    }
    match loose {
        Some(mode) => Err(loose_refusal(path, what, mode, false)),
        None => Ok(()),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn symlink_refusal(path: &Path, what: &str) -> Error {
    let fix = match std::fs::canonicalize(path) {
        Ok(real) => format!("name what it points to, {}, instead", real.display()),
        Err(_) => "name the file itself instead".to_owned(),
    };
    insecure(
        path,
        format!(
            "{what} {} is a symbolic link, which whoever can write its folder could re-point",
            path.display()
        ),
        fix,
    )
}

/// Opens the file `name` in `dir`, both put on the machine by its administrator
/// (`what`: "node configuration" makes "node configuration directory …" and
/// "node configuration file …" of the messages), for reading; `None` when the
/// directory or the file does not exist. On Unix it refuses (`Insecure`) a
/// directory or file that anyone but root could have written: not owned by uid
/// 0, writable by group or others, or a symbolic link (never followed). The
/// file must be a regular one; others may read it, as it holds no secret. The
/// directory is checked first, so no one but root can have swapped the file
/// between its check and its open. Off Unix nothing is checked (see the
/// module's comment): the directory's ACL is all there is.
///
/// Errors: `Insecure` naming the path, what is wrong and the fix;
/// `InvalidArgument` for something other than a regular file; `Io` when either
/// cannot be examined.
pub(crate) fn open_root_file(dir: &Path, name: &str, what: &str) -> Result<Option<File>> {
    let path = dir.join(name);
    let io = |p: &Path, e| Error::io(format!("reading {what} {}", p.display()), e);
    #[cfg(unix)]
    {
        let dir_what = format!("{what} directory");
        // Without a trailing slash or `.`, which would make the open follow a link.
        let dir_n: std::path::PathBuf = dir.components().collect();
        match os::open_dir_no_follow(&dir_n) {
            Ok(d) => check_root_written(dir, &dir_what, &d.metadata().map_err(|e| io(dir, e))?)?,
            Err(e) => {
                return match std::fs::symlink_metadata(&dir_n) {
                    Err(missing) if missing.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Ok(m) if m.file_type().is_symlink() => Err(symlink_refusal(dir, &dir_what)),
                    _ => Err(io(dir, e)),
                }
            }
        }
    }
    let file_what = format!("{what} file");
    let file = match os::open_file_no_follow(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) if is_symlink(&path) => return Err(symlink_refusal(&path, &file_what)),
        Err(e) => return Err(io(&path, e)),
    };
    let meta = file.metadata().map_err(|e| io(&path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "{file_what} {} is not a regular file",
            path.display()
        )));
    }
    #[cfg(unix)]
    check_root_written(&path, &file_what, &meta)?;
    Ok(Some(file))
}

/// Refuses what `meta` describes (the `what` at `path`) unless only root could
/// have written it: root's, and writable by no group or other.
#[cfg(unix)]
fn check_root_written(path: &Path, what: &str, meta: &Metadata) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if meta.uid() != 0 {
        return Err(insecure(
            path,
            format!(
                "{what} {} is owned by uid {}, not by root: only root may write what the library obeys",
                path.display(),
                meta.uid()
            ),
            format!("run `chown root {}` as root", path.display()),
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(insecure(
            path,
            format!(
                "{what} {} is writable by group or others (mode {mode:04o})",
                path.display()
            ),
            format!("run `chmod go-w {}` as root", path.display()),
        ));
    }
    Ok(())
}

/// Which directory a vault directory is: its device and inode, as checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(unix), allow(dead_code, reason = "never made off Unix"))]
pub(crate) struct DirId {
    dev: u64,
    ino: u64,
}

impl DirId {
    /// The directory at `path` now (following links), if there is one.
    pub(crate) fn of_path(path: &Path) -> Option<DirId> {
        os::dir_id(&std::fs::metadata(path).ok()?)
    }
}

/// Refuses a vault directory that another user could read or replace: not the
/// caller's, accessible by group or others, a symbolic link, or inside a
/// directory every user may write to without the sticky bit. A directory that
/// does not exist yet is fine if the nearest folder that does is not such a
/// shared one (a vault created there is 0700). What `Config::open`,
/// `Config::create`, `repair` and `restore` check unless
/// `Config::allow_insecure_permissions`; public so that a tool can refuse
/// before asking for a passphrase. Nothing is checked off Unix.
///
/// Errors: `Insecure` naming the path, what is wrong and the fix; `Io` when the
/// directory cannot be examined.
pub fn check_vault_dir(path: &Path) -> Result<()> {
    checked_vault_dir(path).map(|_| ())
}

/// [`check_vault_dir`], returning which directory passed (`None` when there is
/// none at `path`, or off Unix).
pub(crate) fn checked_vault_dir(path: &Path) -> Result<Option<DirId>> {
    #[cfg(unix)]
    {
        unix_vault_dir(path)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Refuses a store whose directory (sled opened `store_path`, by path) is not
/// the one `checked` found, naming `path` as the caller gave it.
pub(crate) fn check_same_dir(path: &Path, checked: Option<DirId>, store_path: &Path) -> Result<()> {
    match checked {
        Some(id) if DirId::of_path(store_path) != Some(id) => Err(insecure(
            path,
            format!(
                "vault directory {} was replaced while it was being opened",
                path.display()
            ),
            "open it again, and find out who else can write the folder it is in".to_owned(),
        )),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn unix_vault_dir(path: &Path) -> Result<Option<DirId>> {
    use std::os::unix::fs::PermissionsExt;
    const WHAT: &str = "vault directory";
    // Without a trailing slash or `.`, which would make the open follow a link.
    let path_n: std::path::PathBuf = path.components().collect();
    let io = |e| Error::io(format!("checking vault directory {}", path.display()), e);
    let dir = match os::open_dir_no_follow(&path_n) {
        Ok(dir) => dir,
        Err(e) => {
            return match std::fs::symlink_metadata(&path_n) {
                Ok(m) if m.file_type().is_symlink() => Err(symlink_refusal(path, WHAT)),
                // Not a directory: what opens or creates it says so.
                Ok(m) if !m.is_dir() => Ok(None),
                Ok(_) => Err(io(e)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    check_shared_ancestor(path, &path_n, false)?;
                    Ok(None)
                }
                Err(e) => Err(io(e)),
            };
        }
    };
    let meta = dir.metadata().map_err(io)?;
    if let Some((owner, me)) = os::foreign_owner(&meta) {
        return Err(insecure(
            path,
            format!(
                "{WHAT} {} is owned by uid {owner}, not by you (uid {me}): its owner can read and replace the vault",
                path.display()
            ),
            format!("keep your vault in a directory of your own, or have it `chown`ed to uid {me}"),
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(loose_refusal(path, WHAT, mode, true));
    }
    check_shared_ancestor(path, &path_n, true)?;
    Ok(os::dir_id(&meta))
}

/// Refuses `path` when the folder it is in (with `exists`, its parent; else the
/// nearest ancestor that exists, where the missing ones would be created) is
/// writable by every user without the sticky bit.
#[cfg(unix)]
fn check_shared_ancestor(path: &Path, path_n: &Path, exists: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut folders = path_n.ancestors().skip(1);
    let found = loop {
        let Some(folder) = folders.next() else {
            return Ok(());
        };
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        match std::fs::metadata(folder) {
            Ok(m) => break (folder.to_path_buf(), m),
            Err(_) if !exists => continue,
            // The directory itself was opened: its parent is there.
            Err(_) => return Ok(()),
        }
    };
    let (folder, meta) = found;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() && mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Err(insecure(
            path,
            format!(
                "vault directory {} is in {}, which every user can write to and which has no sticky bit (mode {mode:04o}): anyone can put their own directory in its place",
                path.display(),
                folder.display()
            ),
            format!(
                "run `chmod o-w {0}` (or `chmod +t {0}`), or keep the vault elsewhere",
                folder.display()
            ),
        ));
    }
    Ok(())
}

/// The calls that need the operating system's own types.
#[cfg(unix)]
mod os {
    use super::DirId;
    use rustix::fs::{Mode, OFlags};
    use std::fs::{File, Metadata};
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// Opens a file for reading, failing (`ELOOP` and kin) on a symbolic link at
    /// the last component instead of following it.
    pub(super) fn open_file_no_follow(path: &Path) -> std::io::Result<File> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )?;
        Ok(File::from(fd))
    }

    /// Opens a directory without following a symbolic link at the last
    /// component; only to examine it, so no read permission is needed where
    /// the OS has `O_PATH`.
    pub(super) fn open_dir_no_follow(path: &Path) -> std::io::Result<File> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let access = OFlags::PATH;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let access = OFlags::RDONLY;
        let fd = rustix::fs::open(
            path,
            access | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(File::from(fd))
    }

    /// Whether the file `path` (its open descriptor's `meta`) is a credential
    /// the service manager handed this process (systemd's `LoadCredential=`):
    /// directly in the directory `$CREDENTIALS_DIRECTORY` names, owned by root
    /// (who wrote it) or this user, writable by no one else and readable by no
    /// other. systemd writes such a file 0400 as root and lets the service's
    /// user read it through an ACL entry (which shows as the group's read bit),
    /// in a directory private to the service and mounted read-only, so the
    /// usual "yours, and no group access" rule would refuse exactly the file
    /// that is safest to read.
    pub(super) fn is_service_credential(path: &Path, meta: &Metadata) -> bool {
        let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) else {
            return false;
        };
        let (Ok(dir), Some(parent)) = (std::fs::canonicalize(dir), path.parent()) else {
            return false;
        };
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let me = rustix::process::geteuid().as_raw();
        std::fs::canonicalize(parent).is_ok_and(|p| p == dir)
            && (meta.uid() == 0 || meta.uid() == me)
            && meta.mode() & 0o027 == 0
    }

    /// `(owner, caller)` when what `meta` describes is not the caller's
    /// (the effective uid, the one that owns what this process creates).
    pub(super) fn foreign_owner(meta: &Metadata) -> Option<(u32, u32)> {
        let me = rustix::process::geteuid().as_raw();
        (meta.uid() != me).then_some((meta.uid(), me))
    }

    pub(super) fn dir_id(meta: &Metadata) -> Option<DirId> {
        meta.is_dir().then_some(DirId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

/// Off Unix: links are followed, owners are not checked and directories are
/// not told apart (see the module's comment).
#[cfg(not(unix))]
mod os {
    use super::DirId;
    use std::fs::{File, Metadata};
    use std::path::Path;

    pub(super) fn open_file_no_follow(path: &Path) -> std::io::Result<File> {
        File::open(path)
    }

    /// No service manager hands credentials this way off Unix.
    pub(super) fn is_service_credential(_path: &Path, _meta: &Metadata) -> bool {
        false
    }

    pub(super) fn foreign_owner(_meta: &Metadata) -> Option<(u32, u32)> {
        None
    }

    pub(super) fn dir_id(_meta: &Metadata) -> Option<DirId> {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Read;

    fn private(path: &Path, contents: &[u8]) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, contents).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// The descriptor returned is the one that was checked: after the check,
    /// whatever is put at the path is not what is read.
    #[test]
    fn what_is_read_is_what_was_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id");
        private(&path, b"checked");
        let mut file = open_private_file(&path, "farm identity", false).unwrap();
        std::fs::remove_file(&path).unwrap();
        private(&path, b"swapped");
        let mut read = String::new();
        file.read_to_string(&mut read).unwrap();
        assert_eq!(read, "checked");
    }

    /// A link is refused by the open itself, naming the link, never followed to
    /// a regular file; a link to a pipe (`/dev/stdin`) is read.
    #[test]
    fn a_link_to_a_file_is_refused_by_the_open_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        private(&real, b"k");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(os::open_file_no_follow(&link).is_err());
        match open_private_file(&link, "key file", false) {
            Err(e @ Error::Insecure { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("key file {} is a symbolic link", link.display())),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        // The explicit way past follows it.
        open_private_file(&link, "key file", true).unwrap();
    }

    /// sled opens the vault directory by path after the check: a directory put
    /// in its place in between is told apart by its device and inode.
    #[test]
    fn a_directory_put_in_place_of_the_checked_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for d in [&a, &b] {
            crate::storage::fsio::create_private_dir(d).unwrap();
        }
        let id = checked_vault_dir(&a).unwrap().unwrap();
        check_same_dir(&a, Some(id), &a).unwrap();
        std::fs::rename(&a, dir.path().join("moved")).unwrap();
        std::fs::rename(&b, &a).unwrap();
        match check_same_dir(&a, Some(id), &a) {
            Err(e @ Error::Insecure { .. }) => assert!(e.to_string().contains("replaced"), "{e}"),
            other => panic!("{other:?}"),
        }
        // Nothing checked (insecure permissions allowed): nothing compared.
        check_same_dir(&a, None, &a).unwrap();
    }

    #[test]
    fn vault_directory_rules() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v");
        // Missing: fine, nothing to compare.
        assert_eq!(checked_vault_dir(&vault).unwrap(), None);
        std::fs::create_dir(&vault).unwrap();
        let chmod =
            |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        chmod(&vault, 0o700);
        let id = checked_vault_dir(&vault).unwrap().unwrap();
        assert_eq!(Some(id), DirId::of_path(&vault));
        // A trailing slash does not make a link followed.
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&vault, &link).unwrap();
        for p in [link.clone(), link.join(""), link.join(".")] {
            assert!(
                matches!(checked_vault_dir(&p), Err(Error::Insecure { .. })),
                "{}",
                p.display()
            );
        }
        chmod(&vault, 0o750);
        assert!(matches!(
            checked_vault_dir(&vault),
            Err(Error::Insecure { .. })
        ));
        chmod(&vault, 0o700);
        // A shared parent without the sticky bit, for an existing and a new directory.
        chmod(dir.path(), 0o777);
        assert!(matches!(
            checked_vault_dir(&vault),
            Err(Error::Insecure { .. })
        ));
        assert!(matches!(
            checked_vault_dir(&dir.path().join("new/v")),
            Err(Error::Insecure { .. })
        ));
        chmod(dir.path(), 0o1777);
        checked_vault_dir(&vault).unwrap();
        chmod(dir.path(), 0o700);
    }
}
