//! A private directory for one `exec` run (the Toolkit's `SHOTGUN_HOME`):
//! 0700, on a memory filesystem where there is one, wiped and removed when
//! the run ends, and at the next run when a killed one left it behind.
//!
//! Where: `$XDG_RUNTIME_DIR/farmvault/` (the login session's tmpfs), else
//! `/dev/shm/farmvault-<uid>/` on Linux (tmpfs), else
//! `<temp dir>/farmvault-<uid>/` (a disk: documented as the fallback). The
//! parent is made 0700 and refused when it is another user's, open to
//! others, or a symbolic link. Each run's directory is
//! `<purpose>-<pid>-<nanoseconds>`: the pid tells a later run whether the
//! one that made it is still alive.

use crate::error::{CliError, INSECURE};
use std::path::{Path, PathBuf};

/// One run's private directory; wiped and removed when dropped.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Makes a new directory for `purpose` (a file-name word), after removing
    /// those of `purpose` that runs no longer alive left behind.
    pub fn create(purpose: &str) -> Result<PrivateDir, CliError> {
        let base = base_dir()?;
        clean_stale(&base, purpose);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = base.join(format!("{purpose}-{}-{stamp}", std::process::id()));
        make_private(&path)
            .map_err(|e| CliError::io(format!("creating {}", path.display()), &e))?;
        Ok(PrivateDir { path })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        wipe(&self.path);
    }
}

/// Overwrites every file under `dir` with zeros (what a memory filesystem
/// frees is not read back, but a disk's blocks can be), then removes it all.
fn wipe(dir: &Path) {
    zero_files(dir);
    let _ = std::fs::remove_dir_all(dir);
}

fn zero_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            zero_files(&path);
        } else if kind.is_file() {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
                use std::io::Write;
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                let zeros = vec![0u8; len.min(1 << 20) as usize];
                let mut left = len;
                while left > 0 {
                    let n = left.min(zeros.len() as u64) as usize;
                    if f.write_all(&zeros[..n]).is_err() {
                        break;
                    }
                    left -= n as u64;
                }
                let _ = f.sync_data();
            }
        }
    }
}

/// Removes the directories of `purpose` in `base` whose run is gone.
fn clean_stale(base: &Path, purpose: &str) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let prefix = format!("{purpose}-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !alive(pid) {
            wipe(&entry.path());
        }
    }
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    match rustix::process::Pid::from_raw(pid as i32) {
        // EPERM: alive, another user's (the directory is ours, so unlikely).
        Some(p) => !matches!(
            rustix::process::test_kill_process(p),
            Err(rustix::io::Errno::SRCH)
        ),
        None => false,
    }
}

/// Off Unix a directory is removed only by the run that made it.
#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

#[cfg(unix)]
fn base_dir() -> Result<PathBuf, CliError> {
    use std::os::unix::fs::MetadataExt;
    let uid = rustix::process::geteuid().as_raw();
    let base = match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(run) if run.is_absolute() && run.is_dir() => run.join("farmvault"),
        _ if Path::new("/dev/shm").is_dir() => PathBuf::from(format!("/dev/shm/farmvault-{uid}")),
        _ => std::env::temp_dir().join(format!("farmvault-{uid}")),
    };
    if let Err(e) = make_private(&base) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(CliError::io(format!("creating {}", base.display()), &e));
        }
    }
    let meta = std::fs::symlink_metadata(&base)
        .map_err(|e| CliError::io(format!("reading {}", base.display()), &e))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(CliError::new(
            INSECURE,
            format!(
                "{} is not a private directory of yours (uid {uid}, mode 0700, not a link)",
                base.display()
            ),
            "remove it: another user may have made it to read what farmvault puts there",
        ));
    }
    Ok(base)
}

#[cfg(not(unix))]
fn base_dir() -> Result<PathBuf, CliError> {
    let base = std::env::temp_dir().join("farmvault");
    match std::fs::create_dir(&base) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(CliError::io(format!("creating {}", base.display()), &e))
        }
        _ => Ok(base),
    }
}

/// Creates `dir` (not its parents) 0700 where modes exist.
fn make_private(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_runs_directory_is_removed_and_a_live_ones_kept() {
        let base = std::env::temp_dir().join(format!("fv-private-dir-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).unwrap();
        // No process has pid 0x7fff_fff0 here; this one is alive.
        let dead = base.join("sgtk-home-2147483632-1");
        let live = base.join(format!("sgtk-home-{}-1", std::process::id()));
        let other = base.join("files-2147483632-1");
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("authentication.yml"), b"token").unwrap();
        }
        clean_stale(&base, "sgtk-home");
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(other.exists(), "another purpose's directory is left alone");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
