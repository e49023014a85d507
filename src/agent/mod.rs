//! The farmvault agent: one process holds a vault open and unlocked, and the
//! other processes of its user reach it over a Unix domain socket, as
//! `ssh-agent` and `gpg-agent` serve keys. docs/AGENT.md has the protocol and
//! how to run one.
//!
//! - `protocol`: frames, requests, replies, errors on the wire;
//! - `server`: [`Agent`], the serving side (the `farmvault agent` command
//!   runs it);
//! - `client`: what a [`crate::Vault`] from [`crate::Vault::connect`] uses;
//! - `peer`: who is at the other end of a connection;
//! - `socket_dir`: where the socket lives, and the checks on its directory;
//! - `audit_log`: `Vault::audit_log`, read through the agent or directly.
//!
//! Unix only: Windows has no `SO_PEERCRED`, and the standard library no Unix
//! sockets there; [`crate::Vault::connect`] says so (`no_client.rs`).

mod audit_log;
#[cfg(unix)]
mod client;
#[cfg(not(unix))]
#[path = "no_client.rs"]
mod client;
#[cfg(unix)]
mod connection;
#[cfg(unix)]
mod node;
#[cfg(unix)]
pub(crate) mod node_client;
#[cfg(unix)]
mod peer;
// The frames are internal; the `internals` feature opens them to the fuzzer.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod protocol;
#[cfg(not(feature = "internals"))]
mod protocol;
#[cfg(unix)]
mod server;
#[cfg(unix)]
mod socket_dir;

pub(crate) use client::Client;
#[cfg(unix)]
pub use node::{node_audit_log, NodeAgent, NodeOptions, NodeStopper, DEFAULT_NODE_SOCKET};
pub use protocol::{AgentStatus, PROTOCOL_VERSION};
#[cfg(unix)]
pub use server::{Agent, AgentOptions, Stopper, Unlocker};
#[cfg(unix)]
pub use socket_dir::{default_socket, SOCKET_NAME};

/// The environment variable that names an agent's socket, as `ssh-agent`'s
/// `SSH_AUTH_SOCK` does.
pub const AGENT_ENV: &str = "FARMVAULT_AGENT";

/// The environment variable that points a job's grant opens at a render
/// node's agent (`NodeAgent`): set, every grant open goes through it.
pub const NODE_AGENT_ENV: &str = "FARMVAULT_NODE_AGENT";

/// The render node's agent `FARMVAULT_NODE_AGENT` names, when it names one:
/// grant opens that name no route go through it.
pub fn node_agent_from_env() -> Option<PathBuf> {
    std::env::var_os(NODE_AGENT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

use crate::error::Result;
use std::path::{Path, PathBuf};

/// The socket `FARMVAULT_AGENT` names, else this user's default.
#[cfg(unix)]
pub fn socket_from_env() -> PathBuf {
    std::env::var_os(AGENT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(default_socket)
}

/// Without Unix sockets there is no default: only what `FARMVAULT_AGENT` names.
#[cfg(not(unix))]
pub fn socket_from_env() -> PathBuf {
    std::env::var_os(AGENT_ENV)
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The state of the agent on `socket`: pid, vault, whether it is unlocked,
/// until when, its clients.
#[cfg(unix)]
pub fn status(socket: &Path) -> Result<AgentStatus> {
    Client::connect(socket)?.status()
}

/// Locks the agent on `socket`: it wipes the vault's keys and closes it, and
/// answers `AgentLocked` until [`unlock`].
#[cfg(unix)]
pub fn lock(socket: &Path) -> Result<()> {
    Client::connect(socket)?.lock()
}

/// Unlocks the agent on `socket` again: from its own key or passphrase file,
/// or by prompting on the terminal `tty` (the caller's).
#[cfg(unix)]
pub fn unlock(socket: &Path, tty: Option<PathBuf>) -> Result<()> {
    Client::connect(socket)?.unlock(tty)
}

/// Stops the agent on `socket`, and returns once it has: its requests in
/// flight finished, the vault closed and the socket removed (within 15 s).
#[cfg(unix)]
pub fn stop(socket: &Path) -> Result<()> {
    Client::connect(socket)?.stop()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while socket.exists() {
        if std::time::Instant::now() > deadline {
            return Err(crate::error::Error::Agent {
                socket: socket.to_path_buf(),
                what: "it was asked to stop, and 15 s later its socket is still there".into(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(())
}
