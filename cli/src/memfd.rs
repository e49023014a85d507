//! `exec --fd` (Linux): each secret in an anonymous memory file (memfd) the
//! command inherits, so nothing touches a filesystem: no directory to clean
//! up, nothing a crash leaves behind. The command finds it at `/dev/fd/N`,
//! a path any program can open; it vanishes when the last descriptor closes.

use crate::error::CliError;
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::{MemfdFlags, SealFlags};
use std::io::Write;

/// A secret in a sealed memfd whose descriptor the command inherits.
pub struct SecretFd(OwnedFd);

impl SecretFd {
    /// A memfd named `var` (what `/proc/PID/fd` shows: never the value) holding
    /// `value`, sealed against any change, its descriptor left open across exec.
    pub fn new(var: &str, value: &[u8]) -> Result<SecretFd, CliError> {
        let fail = |e: std::io::Error| CliError::io(format!("putting {var} in a memory file"), &e);
        let fd = rustix::fs::memfd_create(var, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
            .map_err(|e| fail(e.into()))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(value).map_err(fail)?;
        let fd = OwnedFd::from(file);
        rustix::fs::fcntl_add_seals(
            &fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )
        .map_err(|e| fail(e.into()))?;
        // Inherited by the command (the only process farmvault starts).
        rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty()).map_err(|e| fail(e.into()))?;
        Ok(SecretFd(fd))
    }

    /// Where the command opens it.
    pub fn path(&self) -> String {
        format!("/dev/fd/{}", self.0.as_raw_fd())
    }
}
