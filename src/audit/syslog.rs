//! A copy of each audit line for the system log, when the agent is asked for
//! one: an RFC 3164 message (formatted by the `syslog` crate) sent as one
//! datagram to the local syslog socket, `/dev/log` by default, which journald
//! and rsyslog both read. Facility `authpriv`, which distributions route to
//! their restricted log (`/var/log/secure`, `/var/log/auth.log`).
//!
//! Unix only: elsewhere asking for a copy is refused when the agent starts.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where a system's syslog daemon (or journald) listens.
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";

/// The open connection to the syslog socket.
pub(crate) struct SyslogCopy {
    path: PathBuf,
    #[cfg(unix)]
    socket: std::os::unix::net::UnixDatagram,
    #[cfg(unix)]
    formatter: syslog::Formatter3164,
}

impl SyslogCopy {
    /// Connects to the syslog socket at `path`.
    #[cfg(unix)]
    pub(crate) fn connect(path: &Path) -> Result<SyslogCopy> {
        use std::os::unix::net::UnixDatagram;
        let io = |e| {
            Error::io(
                format!("connecting to the syslog socket {}", path.display()),
                e,
            )
        };
        let socket = UnixDatagram::unbound().map_err(io)?;
        socket.connect(path).map_err(io)?;
        // A stalled daemon must not hold every request forever: a send that
        // does not go through in a second fails the request instead.
        socket
            .set_write_timeout(Some(std::time::Duration::from_secs(1)))
            .map_err(io)?;
        Ok(SyslogCopy {
            path: path.to_path_buf(),
            socket,
            formatter: syslog::Formatter3164 {
                facility: syslog::Facility::LOG_AUTHPRIV,
                hostname: None,
                process: "farmvault-agent".into(),
                pid: std::process::id(),
            },
        })
    }

    /// Off Unix there is no syslog socket to reach.
    #[cfg(not(unix))]
    pub(crate) fn connect(path: &Path) -> Result<SyslogCopy> {
        Err(Error::invalid(format!(
            "a syslog copy of the audit log ({}) needs a Unix system",
            path.display()
        )))
    }

    /// Sends one audit line.
    #[cfg(unix)]
    pub(crate) fn send(&self, line: &[u8]) -> Result<()> {
        use syslog::LogFormat;
        let mut message = Vec::with_capacity(line.len() + 64);
        let text = String::from_utf8_lossy(line);
        self.formatter
            .format(&mut message, syslog::Severity::LOG_INFO, text)
            .expect("formatting into memory cannot fail");
        self.socket.send(&message).map(|_| ()).map_err(|e| {
            Error::io(
                format!(
                    "sending the audit record to the syslog socket {} (requests that read or change secrets are refused until it can be sent)",
                    self.path.display()
                ),
                e,
            )
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn send(&self, _line: &[u8]) -> Result<()> {
        unreachable!("connect refuses off Unix")
    }
}
