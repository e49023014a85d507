//! The client side: a `Vault` that reaches its vault through an agent.
//!
//! Each thread has its own connection to each agent, made on its first
//! request, so threads never wait on each other's round trips and nothing is
//! locked across a call. A connection belongs to the process that made it: a
//! child made by `fork` finds its parent's connection marked with another
//! fork count, closes its copy and connects anew, so a forked child's calls
//! work as its parent's do.

use super::protocol::{
    decode, read_frame, write_frame, AgentStatus, FrameError, Request, Response, WireMeta,
    PROTOCOL_VERSION,
};
use crate::audit::AuditReport;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::os::fork;
use crate::vault::{Batch, Entry, EntryMeta, PutOptions};
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

thread_local! {
    /// This thread's connections, by socket, with the fork count they were made at.
    static CONNECTIONS: RefCell<HashMap<PathBuf, (u64, UnixStream)>> = RefCell::new(HashMap::new());
}

/// A connection to an agent: the socket and the vault it serves.
#[derive(Debug)]
pub(crate) struct Client {
    socket: PathBuf,
    vault: PathBuf,
}

impl Client {
    /// Reaches the agent at `socket` and learns which vault it serves.
    pub(crate) fn connect(socket: &Path) -> Result<Client> {
        let status = match call(socket, &Request::Status)? {
            Response::Status(s) => s,
            other => return Err(unexpected(socket, &other)),
        };
        Ok(Client {
            socket: socket.to_path_buf(),
            vault: status.vault,
        })
    }

    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }

    fn call(&self, req: &Request) -> Result<Response> {
        call(&self.socket, req)
    }

    fn done(&self, req: &Request) -> Result<()> {
        match self.call(req)? {
            Response::Done => Ok(()),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    fn meta(&self, m: WireMeta) -> Result<EntryMeta> {
        m.into_meta().ok_or_else(|| self.newer())
    }

    /// An answer this build cannot read: the agent is newer.
    fn newer(&self) -> Error {
        Error::Agent {
            socket: self.socket.clone(),
            what: "it answered with a credential kind this farmvault does not know; the agent is newer than this library".into(),
        }
    }

    pub(crate) fn status(&self) -> Result<AgentStatus> {
        match self.call(&Request::Status)? {
            Response::Status(s) => Ok(s),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn lock(&self) -> Result<()> {
        self.done(&Request::Lock)
    }

    pub(crate) fn unlock(&self, tty: Option<PathBuf>) -> Result<()> {
        self.done(&Request::Unlock { tty })
    }

    pub(crate) fn stop(&self) -> Result<()> {
        self.done(&Request::Stop)
    }

    pub(crate) fn upgraded_from(&self) -> Option<u16> {
        None
    }

    pub(crate) fn path(&self) -> &Path {
        &self.vault
    }

    pub(crate) fn put_credential(
        &self,
        name: &str,
        credential: &Credential,
        options: &PutOptions,
    ) -> Result<()> {
        self.done(&Request::Put {
            name: name.to_owned(),
            credential: credential.clone(),
            ttl_secs: options.ttl.map(secs_up),
            durable: options.durable,
        })
    }

    pub(crate) fn get(&self, name: &str) -> Result<Entry> {
        match self.call(&Request::Get {
            name: name.to_owned(),
        })? {
            Response::Entry { meta, credential } => Ok(Entry {
                meta: self.meta(meta)?,
                credential,
            }),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn metadata(&self, name: &str) -> Result<EntryMeta> {
        match self.call(&Request::Metadata {
            name: name.to_owned(),
        })? {
            Response::Meta(m) => self.meta(m),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn delete(&self, name: &str) -> Result<()> {
        self.done(&Request::Delete {
            name: name.to_owned(),
        })
    }

    pub(crate) fn renew(&self, name: &str, ttl: Option<Duration>) -> Result<EntryMeta> {
        match self.call(&Request::Renew {
            name: name.to_owned(),
            ttl_secs: ttl.map(secs_up),
        })? {
            Response::Meta(m) => self.meta(m),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn apply(&self, batch: Batch) -> Result<()> {
        let ops = batch
            .into_ops()
            .into_iter()
            .map(|(name, op)| (name, op.map(|(c, ttl)| (c, ttl.map(secs_up)))))
            .collect();
        self.done(&Request::Batch { ops })
    }

    pub(crate) fn flush(&self) -> Result<()> {
        self.done(&Request::Flush)
    }

    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>> {
        match self.call(&Request::List {
            prefix: prefix.to_owned(),
        })? {
            Response::List(l) => l.into_iter().map(|m| self.meta(m)).collect(),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn damaged(&self) -> Result<Vec<String>> {
        match self.call(&Request::Damaged)? {
            Response::Names(n) => Ok(n),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn purge_expired(&self) -> Result<usize> {
        match self.call(&Request::Purge)? {
            Response::Count(n) => Ok(n as usize),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    pub(crate) fn audit_log(&self) -> Result<AuditReport> {
        match self.call(&Request::AuditLog)? {
            Response::AuditLog(json) => serde_json::from_str(&json).map_err(|e| Error::Agent {
                socket: self.socket.clone(),
                what: format!("its audit report does not decode: {e}"),
            }),
            other => Err(unexpected(&self.socket, &other)),
        }
    }

    /// The agent judges expiry on its own clock; this is the system's.
    pub(crate) fn now(&self) -> UnixTime {
        SystemClock.now()
    }

    pub(crate) fn clock_behind(&self) -> Option<Duration> {
        None
    }
}

/// A TTL in whole seconds, rounded up as a direct put rounds it.
fn secs_up(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

pub(super) fn unexpected(socket: &Path, r: &Response) -> Error {
    match r {
        Response::Error(_) => unreachable!("errors are mapped by call"),
        _ => Error::Agent {
            socket: socket.to_path_buf(),
            what: "it answered a request with a reply of another kind".into(),
        },
    }
}

/// One round trip on this thread's connection to `socket`, made (with its
/// `Hello`) when there is none for this process yet. A connection that fails
/// is dropped; the next call makes a new one.
pub(super) fn call(socket: &Path, req: &Request) -> Result<Response> {
    CONNECTIONS.with(|conns| {
        let mut conns = conns.borrow_mut();
        let forks = fork::count();
        if conns.get(socket).is_none_or(|(f, _)| *f != forks) {
            // A parent's connection in a forked child: closing this copy of
            // it leaves the parent's open.
            conns.remove(socket);
            let stream = open(socket)?;
            conns.insert(socket.to_path_buf(), (forks, stream));
        }
        let (_, stream) = conns.get_mut(socket).expect("inserted above");
        let r = round_trip(socket, stream, req);
        if matches!(r, Err(Error::Agent { .. })) {
            conns.remove(socket);
        }
        match r? {
            Response::Error(e) => Err(e.into_error(socket)),
            ok => Ok(ok),
        }
    })
}

fn open(socket: &Path) -> Result<UnixStream> {
    let mut stream = UnixStream::connect(socket).map_err(|e| Error::Agent {
        socket: socket.to_path_buf(),
        what: match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                format!("no agent is running there ({e}); start one with `farmvault agent start`")
            }
            _ => format!("cannot connect: {e}"),
        },
    })?;
    match round_trip(
        socket,
        &mut stream,
        &Request::Hello {
            version: PROTOCOL_VERSION,
        },
    )? {
        Response::Hello(_) => Ok(stream),
        Response::Error(e) => Err(e.into_error(socket)),
        other => Err(unexpected(socket, &other)),
    }
}

fn round_trip(socket: &Path, stream: &mut UnixStream, req: &Request) -> Result<Response> {
    let lost = |what: String| Error::Agent {
        socket: socket.to_path_buf(),
        what,
    };
    if let Err(e) = write_frame(stream, req) {
        // An agent that refuses a connection (another uid) answers before it
        // reads anything, then closes: its refusal may be waiting here.
        if let Ok(body) = read_frame(stream) {
            if let Ok(refusal @ Response::Error(_)) = decode::<Response>(&body) {
                return Ok(refusal);
            }
        }
        return Err(lost(format!(
            "sending the request failed ({e}); the agent may have stopped"
        )));
    }
    let body = read_frame(stream).map_err(|e| match e {
        FrameError::Closed => lost(
            "the agent closed the connection before answering (it stopped, or was killed); the request may or may not have been applied".into(),
        ),
        other => lost(format!("reading the answer failed: {other}")),
    })?;
    decode::<Response>(&body).map_err(lost)
}
