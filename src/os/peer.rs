//! `getpeereid`, which the libc of macOS and the BSDs has and rustix does
//! not wrap: the effective uid of the process at the other end of a
//! connected Unix socket.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

pub(crate) fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: the descriptor is the stream's, open for the whole call (the
    // borrow keeps it so); `uid` and `gid` are valid, writable locals that
    // getpeereid fills and nothing else aliases.
    let r = unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) };
    if r == 0 {
        Ok(uid)
    } else {
        Err(std::io::Error::last_os_error())
    }
}
