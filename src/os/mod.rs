//! Calls into the operating system that no well-kept crate wraps safely. Each
//! `unsafe` block here says why it holds; the rest of the library is safe code.
//!
//! - `fork`: counts the forks this process has made, so a handle opened
//!   before a `fork` can tell it is in the child;
//! - `peer`: the uid at the other end of a Unix socket on macOS and the BSDs
//!   (Linux reads it through rustix).

pub(crate) mod fork;
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
pub(crate) mod peer;
