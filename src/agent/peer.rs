//! Who is at the other end of a connection, as the kernel says: the peer's
//! uid (and pid, where the platform gives it), read when the connection is
//! accepted. Linux and Android: `SO_PEERCRED`. macOS and the BSDs:
//! `getpeereid` (no pid). Elsewhere the agent cannot tell and serves no one.

use std::os::unix::net::UnixStream;

/// A connected client.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer {
    pub(crate) uid: u32,
    pub(crate) pid: Option<u32>,
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
