//! The agent's wire protocol (docs/AGENT.md describes it byte by byte).
//!
//! A connection carries frames: a 4-byte big-endian length, then that many
//! bytes of postcard. A client sends one [`Request`] per frame and reads one
//! [`Response`]; the first request of a connection is `Hello`, which names the
//! protocol version. A frame over [`MAX_FRAME`] bytes, or one that does not
//! decode, is answered with an error and the connection is closed.
//!
//! Secrets travel inside `Put`, `Batch` and `Entry` frames only; the buffers
//! that hold a frame are wiped when dropped. No passphrase or key file ever
//! does: the agent unlocks from its own sources (`UnlockFrom`).

use crate::clock::UnixTime;
use crate::credential::{Credential, Kind};
use crate::error::Error;
use crate::format::{GRANT_ID_LEN, VAULT_ID_LEN};
use crate::secret::SecretString;
use crate::storage::holder::LockHolder;
use crate::vault::{Entry, EntryMeta};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The protocol version this build speaks. A `Hello` with another is refused,
/// naming both.
pub const PROTOCOL_VERSION: u16 = 1;

/// The largest frame either side accepts: a secret of `MAX_SECRET_LEN` (1 MiB)
/// with its name and framing fits many times over; a batch larger than this
/// is refused whole.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;

/// One operation of a batch: a put (credential, TTL in seconds) or, as
/// `None`, a delete.
pub type BatchOp = Option<(Credential, Option<u64>)>;

/// What a client asks.
#[derive(Serialize, Deserialize)]
pub enum Request {
    /// The first request of a connection.
    Hello {
        version: u16,
    },
    Get {
        name: String,
    },
    Metadata {
        name: String,
    },
    List {
        prefix: String,
    },
    Put {
        name: String,
        credential: Credential,
        ttl_secs: Option<u64>,
        durable: bool,
    },
    Delete {
        name: String,
    },
    Renew {
        name: String,
        ttl_secs: Option<u64>,
    },
    /// Puts and deletes, all or nothing.
    Batch {
        ops: Vec<(String, BatchOp)>,
    },
    Flush,
    Damaged,
    Purge,
    /// The agent's own state.
    Status,
    /// Wipes the keys; the agent answers `AgentLocked` until unlocked.
    Lock,
    /// Unlocks again from the agent's own source, or by prompting on the
    /// terminal the client names (the client's, as gpg-agent's pinentry does):
    /// the passphrase goes from that terminal to the agent, never over the socket.
    Unlock {
        tty: Option<PathBuf>,
    },
    /// Stops the agent: it wipes the keys, closes the vault and exits.
    Stop,
    /// The audit log, read and verified by the agent (added after version 1
    /// shipped: an agent that predates it refuses the frame).
    AuditLog,
    /// A node agent opens a job grant with its farm identity (and the token,
    /// for a grant that needs both) and binds it to the asking job. The
    /// bundle's bytes come from the job, which can read it; `path` locates
    /// the revocation lists beside it. Added after version 1 shipped, as are
    /// the requests below.
    GrantOpen {
        path: PathBuf,
        bundle: Vec<u8>,
        token: Option<SecretString>,
    },
    /// Reads an entry of a grant this job opened through the node agent.
    GrantGet {
        grant: [u8; GRANT_ID_LEN],
        name: String,
    },
}

/// An entry's metadata on the wire.
#[derive(Serialize, Deserialize)]
pub struct WireMeta {
    name: String,
    kind: u32,
    host: Option<String>,
    created: u64,
    updated: u64,
    expires: Option<u64>,
}

impl From<EntryMeta> for WireMeta {
    fn from(m: EntryMeta) -> WireMeta {
        WireMeta {
            name: m.name,
            kind: m.kind as u32,
            host: m.host,
            created: m.created.secs(),
            updated: m.updated.secs(),
            expires: m.expires.map(UnixTime::secs),
        }
    }
}

impl WireMeta {
    /// The metadata, or `None` when the kind is one this build does not know.
    pub fn into_meta(self) -> Option<EntryMeta> {
        Some(EntryMeta {
            name: self.name,
            kind: Kind::from_u32(self.kind)?,
            host: self.host,
            created: UnixTime(self.created),
            updated: UnixTime(self.updated),
            expires: self.expires.map(UnixTime),
        })
    }
}

/// What the agent answers.
#[derive(Serialize, Deserialize)]
pub enum Response {
    Hello(AgentStatus),
    Entry {
        meta: WireMeta,
        credential: Credential,
    },
    Meta(WireMeta),
    List(Vec<WireMeta>),
    Names(Vec<String>),
    Count(u64),
    Done,
    Status(AgentStatus),
    Error(WireError),
    /// An [`crate::audit::AuditReport`] as JSON: its records omit empty
    /// fields, which postcard cannot carry.
    AuditLog(String),
    /// A grant the node agent opened: what it is, its window by the agent's
    /// clock, and its entries' metadata (the secrets stay with the agent).
    GrantOpened(WireGrant),
}

/// An opened grant on the wire: its authenticated header and window.
#[derive(Serialize, Deserialize)]
pub struct WireGrant {
    pub id: [u8; GRANT_ID_LEN],
    pub issuer: [u8; VAULT_ID_LEN],
    pub signer: Option<[u8; 32]>,
    pub label: String,
    pub created: u64,
    pub claim_by: u64,
    pub use_secs: u64,
    pub host_pattern: Option<String>,
    pub access: String,
    pub recipients: u32,
    pub first_open: u64,
    pub use_until: u64,
    pub entries: Vec<WireMeta>,
}

impl Response {
    pub(crate) fn entry(e: Entry) -> Response {
        Response::Entry {
            meta: e.meta.into(),
            credential: e.credential,
        }
    }
}

/// The agent's state, as `farmvault agent status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// The protocol version the agent speaks.
    pub version: u16,
    /// The agent's process id.
    pub pid: u32,
    /// The vault directory it serves.
    pub vault: PathBuf,
    /// Whether it holds the vault's keys now.
    pub unlocked: bool,
    /// When it locks itself at the latest (`--max-unlocked`), Unix seconds.
    pub unlocked_until: Option<u64>,
    /// How long it stays unlocked without a request (`--idle`), in seconds.
    pub idle_secs: Option<u64>,
    /// Connections open now, this one included.
    pub clients: u64,
    /// Requests served since it started.
    pub requests: u64,
}

/// An error, carried so that the client raises the same `Error` variant (and
/// so the same C code and Python exception) a direct call would.
#[derive(Serialize, Deserialize)]
pub enum WireError {
    NotFound {
        name: String,
    },
    Expired {
        name: String,
        expired_at: u64,
    },
    WrongKey {
        path: PathBuf,
    },
    Tampered {
        entry: String,
    },
    Corrupt {
        path: PathBuf,
        what: String,
    },
    Locked {
        path: PathBuf,
        waited_ms: u64,
        holder: Option<(u32, String)>,
    },
    NoVault {
        path: PathBuf,
    },
    InvalidArgument(String),
    ReadOnly(String),
    Io {
        context: String,
        os_code: Option<i32>,
        message: String,
    },
    AgentLocked {
        socket: PathBuf,
    },
    HeldByAgent {
        operation: String,
        socket: PathBuf,
    },
    /// Anything else, with its message; also the agent's own refusals
    /// (another uid, a malformed frame, another protocol version).
    Agent {
        message: String,
    },
    // The grant errors a node agent answers with (added after version 1).
    WrongGrantKey {
        path: PathBuf,
    },
    UntrustedGrant {
        path: PathBuf,
        why: String,
    },
    Revoked {
        grant: String,
        list: PathBuf,
    },
    HostNotAllowed {
        hostname: String,
        pattern: String,
    },
}

impl WireError {
    /// The wire form of `e`.
    pub fn from_error(e: &Error) -> WireError {
        match e {
            Error::NotFound { name } => WireError::NotFound { name: name.clone() },
            Error::Expired { name, expired_at } => WireError::Expired {
                name: name.clone(),
                expired_at: *expired_at,
            },
            Error::WrongKey { path } => WireError::WrongKey { path: path.clone() },
            Error::Tampered { entry } => WireError::Tampered {
                entry: entry.clone(),
            },
            Error::Corrupt { path, what } => WireError::Corrupt {
                path: path.clone(),
                what: what.clone(),
            },
            Error::Locked {
                path,
                waited_ms,
                holder,
            } => WireError::Locked {
                path: path.clone(),
                waited_ms: *waited_ms,
                holder: holder.as_ref().map(|h| (h.pid, h.program.clone())),
            },
            Error::NoVault { path } => WireError::NoVault { path: path.clone() },
            Error::InvalidArgument(m) => WireError::InvalidArgument(m.clone()),
            Error::ReadOnly(m) => WireError::ReadOnly(m.clone()),
            Error::Io { context, source } => WireError::Io {
                context: context.clone(),
                os_code: source.raw_os_error(),
                message: source.to_string(),
            },
            Error::AgentLocked { socket } => WireError::AgentLocked {
                socket: socket.clone(),
            },
            Error::HeldByAgent { operation, socket } => WireError::HeldByAgent {
                operation: operation.clone(),
                socket: socket.clone(),
            },
            Error::WrongGrantKey { path } => WireError::WrongGrantKey { path: path.clone() },
            Error::UntrustedGrant { path, why } => WireError::UntrustedGrant {
                path: path.clone(),
                why: why.clone(),
            },
            Error::Revoked { grant, list } => WireError::Revoked {
                grant: grant.clone(),
                list: list.clone(),
            },
            Error::HostNotAllowed { hostname, pattern } => WireError::HostNotAllowed {
                hostname: hostname.clone(),
                pattern: pattern.clone(),
            },
            other => WireError::Agent {
                message: other.to_string(),
            },
        }
    }

    /// The error a direct call would have returned; `socket` names the agent
    /// in the errors that are the agent's own.
    pub fn into_error(self, socket: &std::path::Path) -> Error {
        match self {
            WireError::NotFound { name } => Error::NotFound { name },
            WireError::Expired { name, expired_at } => Error::Expired { name, expired_at },
            WireError::WrongKey { path } => Error::WrongKey { path },
            WireError::Tampered { entry } => Error::Tampered { entry },
            WireError::Corrupt { path, what } => Error::Corrupt { path, what },
            WireError::Locked {
                path,
                waited_ms,
                holder,
            } => Error::Locked {
                path,
                waited_ms,
                holder: holder.map(|(pid, program)| LockHolder {
                    pid,
                    program,
                    agent: None,
                }),
            },
            WireError::NoVault { path } => Error::NoVault { path },
            WireError::InvalidArgument(m) => Error::InvalidArgument(m),
            WireError::ReadOnly(m) => Error::ReadOnly(m),
            WireError::Io {
                context,
                os_code,
                message,
            } => Error::Io {
                context,
                source: match os_code {
                    Some(code) => std::io::Error::from_raw_os_error(code),
                    None => std::io::Error::other(message),
                },
            },
            WireError::AgentLocked { socket } => Error::AgentLocked { socket },
            WireError::HeldByAgent { operation, socket } => {
                Error::HeldByAgent { operation, socket }
            }
            WireError::Agent { message } => Error::Agent {
                socket: socket.to_path_buf(),
                what: message,
            },
            WireError::WrongGrantKey { path } => Error::WrongGrantKey { path },
            WireError::UntrustedGrant { path, why } => Error::UntrustedGrant { path, why },
            WireError::Revoked { grant, list } => Error::Revoked { grant, list },
            WireError::HostNotAllowed { hostname, pattern } => {
                Error::HostNotAllowed { hostname, pattern }
            }
        }
    }
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The peer closed the connection before a frame began.
    Closed,
    /// The length prefix promises more than `MAX_FRAME`.
    TooLarge(usize),
    /// Reading failed, or the connection ended inside a frame.
    Io(std::io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Closed => write!(f, "the connection was closed"),
            FrameError::TooLarge(n) => {
                write!(f, "a frame of {n} bytes is over the limit of {MAX_FRAME}")
            }
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads one frame's body; the buffer is wiped when dropped.
pub fn read_frame(r: &mut impl Read) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Io(std::io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = Zeroizing::new(vec![0u8; len]);
    r.read_exact(&mut body).map_err(FrameError::Io)?;
    Ok(body)
}

/// Encodes `msg` and writes it as one frame (one `write` of prefix and body).
/// The buffer is wiped when dropped.
pub fn write_frame(w: &mut impl Write, msg: &impl Serialize) -> std::io::Result<()> {
    let mut frame = Zeroizing::new(
        postcard::to_extend(msg, vec![0u8; 4])
            .map_err(|e| std::io::Error::other(format!("encoding a frame: {e}")))?,
    );
    let len = frame.len() - 4;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("a request or reply of {len} bytes is over the agent's limit of {MAX_FRAME}"),
        ));
    }
    frame[..4].copy_from_slice(&(len as u32).to_be_bytes());
    w.write_all(&frame)
}

/// Decodes a frame's body.
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    postcard::from_bytes(body).map_err(|e| format!("a frame that does not decode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_an_oversized_prefix_is_refused_before_any_read() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &Request::Get { name: "a/b".into() }).unwrap();
        let body = read_frame(&mut buf.as_slice()).unwrap();
        assert!(matches!(decode::<Request>(&body), Ok(Request::Get { name }) if name == "a/b"));

        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(matches!(
            read_frame(&mut huge.as_slice()),
            Err(FrameError::TooLarge(n)) if n == MAX_FRAME + 1
        ));
        assert!(matches!(
            read_frame(&mut [].as_slice()),
            Err(FrameError::Closed)
        ));
        assert!(matches!(
            read_frame(&mut [0u8, 0, 0, 9, 1].as_slice()),
            Err(FrameError::Io(_))
        ));
        assert!(decode::<Request>(&[200, 1, 2]).is_err());
    }
}
