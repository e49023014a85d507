//! Who is at the other end of a connection, as the kernel says: the peer's
//! uid (and pid, where the platform gives it), read when the connection is
//! accepted. Linux and Android: `SO_PEERCRED`. macOS and the BSDs:
//! `getpeereid` (no pid). Elsewhere the agent cannot tell and serves no one.

use crate::audit::Asker;
use std::os::unix::net::UnixStream;

/// A connected client.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer {
    pub(crate) uid: u32,
    pub(crate) pid: Option<u32>,
}

impl Peer {
    /// The peer as the audit log names it, with its executable where the
    /// platform says (read now, while the process that connected is there).
    pub(crate) fn asker(self) -> Asker {
        Asker {
            uid: Some(self.uid),
            pid: self.pid,
            exe: self.pid.and_then(executable),
        }
    }
}

/// The executable of process `pid`: `/proc/<pid>/exe` on Linux; elsewhere
/// unknown (macOS's `proc_pidpath` needs unsafe FFI this module does not do).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn executable(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn executable(_pid: u32) -> Option<String> {
    None
}

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer(stream: &UnixStream) -> std::io::Result<Peer> {
    let cred = rustix::net::sockopt::socket_peercred(stream)?;
    Ok(Peer {
        uid: cred.uid.as_raw(),
        pid: u32::try_from(cred.pid.as_raw_nonzero().get()).ok(),
    })
}

#[cfg(all(
    unix,
    not(any(target_os = "linux", target_os = "android")),
    any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )
))]
pub(crate) fn peer(stream: &UnixStream) -> std::io::Result<Peer> {
    let uid = crate::os::peer::peer_uid(stream)?;
    Ok(Peer { uid, pid: None })
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
pub(crate) fn peer(_stream: &UnixStream) -> std::io::Result<Peer> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "this platform does not say who is at the other end of a Unix socket",
    ))
}
