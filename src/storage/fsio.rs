//! Every file farmvault writes goes through here, so each write is private (0600
//! files and 0700 directories on Unix), durable (the file fsynced, then its
//! directory) and atomic where it replaces something (a temporary sibling renamed
//! or linked into place), the way SQLite funnels its writes through one layer.
//!
//! Off Unix, modes do not apply (access follows the parent's ACLs) and a directory
//! has no handle to fsync (NTFS journals a rename's metadata itself): those steps
//! are skipped there, everything else is the same.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) with owner-only permissions where the OS has
/// them, durably: the directory that holds each one created is fsynced, so a
/// power cut after this returns cannot take a new vault's directory with it
/// (POSIX makes a new directory entry durable only by a sync of its parent).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let created: Vec<&Path> = dir
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
        .collect();
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    for new in created {
        sync_dir(parent_dir(new))?;
    }
    Ok(())
}

/// Best effort: `dir` 0700 and what it holds 0600 (subdirectories 0700), whatever
/// the umask was when a library (sled) created them.
#[cfg(unix)]
pub(crate) fn restrict_permissions(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let mode = if entry.path().is_dir() { 0o700 } else { 0o600 };
            let _ = std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode));
        }
    }
}

/// Off Unix, access follows the parent's ACLs: nothing portable to set.
#[cfg(not(unix))]
pub(crate) fn restrict_permissions(_dir: &Path) {}

/// Creates the new file `path` readable only by its owner; fails
/// (`AlreadyExists`) if anything is there, a symbolic link included, even one
/// pointing nowhere: `create_new` is `O_CREAT | O_EXCL`, which never follows a
/// link, and it is the create itself that refuses, so no check comes before it
/// for another process to race.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Writes `bytes` to the new private file `path` and fsyncs it, then its
/// directory (so the new name survives a power cut too); refuses to overwrite
/// or follow anything already there ([`create_private_file`]). A write that
/// fails removes the partial file it created, so a half-written key or backup
/// is never left to be mistaken for a whole one.
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = create_private_file(path)?;
    if let Err(e) = f.write_all(bytes).and_then(|()| f.sync_all()) {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    sync_dir(parent_dir(path))
}

/// Makes a rename or link in `dir` durable (Unix; elsewhere there is nothing to sync).
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The directory a path's file lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Replaces `path` atomically with what `write` produces: a private temporary file
/// named `<temp_prefix>…tmp` in the same directory, fsynced, renamed over `path`,
/// then the directory fsynced. A crash leaves either the old file or the new one
/// (and perhaps a temporary file, which its owner removes by its prefix).
pub(crate) fn replace_private(
    path: &Path,
    temp_prefix: &str,
    write: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent_dir(path);
    // tempfile creates the file 0600 on Unix.
    let tmp = tempfile::Builder::new()
        .prefix(temp_prefix)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// A private, fsynced temporary file beside its destination, not yet visible
/// under the destination's name; removed when dropped.
pub(crate) struct StagedFile {
    temp: PathBuf,
    dest: PathBuf,
}

impl StagedFile {
    /// Writes `bytes` to a new private temporary file beside `dest` (a random
    /// name, so racing writers never share one) and fsyncs it; `ctx` says what is
    /// being written, for the error.
    pub(crate) fn write(
        dest: &Path,
        bytes: &[u8],
        ctx: impl Fn() -> String,
    ) -> crate::Result<StagedFile> {
        let mut r = [0u8; 8];
        crate::crypto::fill_random(&mut r)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dest.with_file_name(format!(".{name}.{}.tmp", crate::format::hex(&r)));
        let staged = StagedFile {
            temp,
            dest: dest.to_path_buf(),
        };
        write_new_private(&staged.temp, bytes).map_err(|e| crate::Error::io(ctx(), e))?;
        Ok(staged)
    }

    /// Makes the file readable by every user (0644), for files that hold no
    /// secret and that other accounts must read. A no-op off Unix, where the
    /// directory's ACL decides.
    pub(crate) fn make_world_readable(&self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.temp, std::fs::Permissions::from_mode(0o644))?;
        }
        Ok(())
    }

    /// Renames the file into place (replacing whatever is there). The directory's
    /// fsync that follows is best effort: the file is in place and what the caller
    /// committed beside it stands, so a failure there is not reported as one.
    pub(crate) fn rename_into_place(self) -> std::io::Result<()> {
        std::fs::rename(&self.temp, &self.dest)?;
        let _ = sync_dir(parent_dir(&self.dest));
        Ok(())
    }

    /// Links the file into place only if nothing is there yet (`AlreadyExists`
    /// when something is, so the first of racing writers wins); the directory's
    /// fsync is best effort, as for [`StagedFile::rename_into_place`].
    pub(crate) fn link_into_place(&self) -> std::io::Result<()> {
        std::fs::hard_link(&self.temp, &self.dest)?;
        let _ = sync_dir(parent_dir(&self.dest));
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Reads all of `r` when it holds at most `max` bytes; `None` when it holds
/// more (reading stops one byte past `max`, so a huge or endless file costs
/// nothing). For files that hold no secret: the buffer is not wiped.
pub(crate) fn read_at_most(r: impl std::io::Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    r.take(max + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}
