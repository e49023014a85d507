//! The agent: one process holds a vault open and unlocked, and serves it to
//! the other processes of its user over a Unix socket.
//!
//! Each connection gets a thread (a workstation has a handful of clients; a
//! render node a few jobs), checked by its peer's uid before anything is
//! read. The vault handle is shared by every connection; `Lock` drops it,
//! which closes the store and wipes its keys (they are zeroed when freed),
//! and `Unlock` opens it again through the caller-given [`Unlocker`]. A
//! watchdog thread locks the agent after `idle` without a request, and
//! `max_unlocked` after it was unlocked, as gpg-agent's cache limits do.
//!
//! Every request that reads or changes a secret, and every lock and unlock,
//! is recorded in the vault's audit log (`crate::audit`) before it is
//! answered. A record that cannot be written fails the request: a read sends
//! no secret, and a change is not begun while the log is known to be
//! unwritable. The watchdog makes the log durable once a second.

use super::audit_log::audit_key;
use super::connection::{self, After};
use super::peer::Peer;
use super::protocol::{AgentStatus, Request, Response, WireError, PROTOCOL_VERSION};
use super::socket_dir;
use crate::audit::{Asker, AuditLog, Operation, SyslogCopy};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::vault::{Batch, PutOptions, Vault};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Opens the vault again after a lock: given the terminal the client named,
/// when it named one, the agent's own way to unlock it (a key file, a
/// passphrase file, a prompt on that terminal).
pub type Unlocker = Box<dyn Fn(Option<&Path>) -> Result<Vault> + Send + Sync>;

/// How an agent runs.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// The socket to listen on ([`super::default_socket`] for a user's agent).
    pub socket: PathBuf,
    /// Lock after this long without a request.
    pub idle: Option<Duration>,
    /// Lock this long after each unlock, used or not.
    pub max_unlocked: Option<Duration>,
    /// Also send each audit record to the syslog socket at this path
    /// ([`crate::audit::DEFAULT_SYSLOG_SOCKET`] for the system's).
    pub audit_syslog: Option<PathBuf>,
}

struct Unlocked {
    held: Held,
    at: Instant,
    at_unix: u64,
}

/// The open vault and the audit log its requests are recorded in.
#[derive(Clone)]
struct Held {
    vault: Arc<Vault>,
    audit: Arc<AuditLog>,
}

impl Held {
    /// Opens the vault's audit log (verifying it) and records the unlock.
    fn new(vault: Vault, options: &AgentOptions, who: &Asker) -> Result<Held> {
        let syslog = options
            .audit_syslog
            .as_deref()
            .map(SyslogCopy::connect)
            .transpose()?;
        let audit = AuditLog::open(vault.path(), audit_key(&vault)?, syslog)?;
        audit.append(Operation::Unlock, Vec::new(), "ok", who, None)?;
        Ok(Held {
            vault: Arc::new(vault),
            audit: Arc::new(audit),
        })
    }
}

struct Shared {
    options: AgentOptions,
    vault_path: PathBuf,
    unlocked: RwLock<Option<Unlocked>>,
    unlocker: Unlocker,
    /// Serialises unlocks: one prompt at a time.
    unlocking: Mutex<()>,
    /// When the agent started: `last_request_ms` counts from it.
    started: Instant,
    /// When the last request that used the vault came, in ms after `started`:
    /// an atomic, so a request takes no lock to say so.
    last_request_ms: AtomicU64,
    clients: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU64,
    stopping: AtomicBool,
    uid: u32,
    /// The listening socket, to wake the accept loop when stopping.
    waker: Option<UnixListener>,
}

/// A bound agent, ready to serve.
pub struct Agent {
    shared: Arc<Shared>,
    listener: UnixListener,
}

/// Stops an agent from another thread (a signal handler's thread, say).
#[derive(Clone)]
pub struct Stopper(Arc<Shared>);

impl Stopper {
    /// Asks the agent to stop: it finishes the requests in flight, closes the
    /// vault and returns from [`Agent::serve`].
    pub fn stop(&self) {
        self.0.stop();
    }
}

impl Agent {
    /// Binds the socket for `vault` (its directory made 0700 and checked),
    /// replacing a socket no agent answers on, and records the socket in the
    /// vault's lock file. `AlreadyExists` when another agent answers there.
    pub fn bind(vault: Vault, options: AgentOptions, unlocker: Unlocker) -> Result<Agent> {
        let socket = options.socket.clone();
        socket_dir::prepare(&socket)?;
        let listener = connection::bind(&socket, "`farmvault agent stop`")?;
        vault.record_agent(&socket)?;
        let now = SystemClock.now().secs();
        let vault_path = vault.path().to_path_buf();
        let held = Held::new(vault, &options, &Asker::agent())?;
        let shared = Arc::new(Shared {
            vault_path,
            unlocked: RwLock::new(Some(Unlocked {
                held,
                at: Instant::now(),
                at_unix: now,
            })),
            unlocker,
            unlocking: Mutex::new(()),
            started: Instant::now(),
            last_request_ms: AtomicU64::new(0),
            clients: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            uid: rustix::process::geteuid().as_raw(),
            waker: listener.try_clone().ok(),
            options,
        });
        Ok(Agent { shared, listener })
    }

    /// The socket it listens on.
    pub fn socket(&self) -> &Path {
        &self.shared.options.socket
    }

    /// A handle that stops it from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.shared.clone())
    }

    /// Serves until stopped (`Request::Stop`, or a [`Stopper`]); then waits up
    /// to 10 s for the requests in flight, closes the vault and removes the
    /// socket.
    pub fn serve(self) -> Result<()> {
        let watchdog = {
            let shared = self.shared.clone();
            std::thread::Builder::new()
                .name("farmvault-agent-watchdog".into())
                .spawn(move || shared.watch())
                .map_err(|e| Error::io("starting the agent's watchdog thread", e))?
        };
        let shared = self.shared.clone();
        connection::accept_until_stopped(
            &self.listener,
            &self.shared.stopping,
            "farmvault-agent-client",
            move |stream| shared.serve_connection(stream),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.shared.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.shared
            .lock(Operation::Stop, "stopped", &Asker::agent());
        let _ = std::fs::remove_file(&self.shared.options.socket);
        let _ = watchdog.join();
        Ok(())
    }
}

impl Shared {
    fn socket(&self) -> &Path {
        &self.options.socket
    }

    fn stop(&self) {
        connection::stop(&self.stopping, self.waker.as_ref(), self.socket());
    }

    /// Drops the vault: its store closes and its keys are wiped once the
    /// requests that hold it finish. The audit log records it (`op`: lock or
    /// stop, `why`), best effort: a lock never waits on the log.
    fn lock(&self, op: Operation, why: &str, who: &Asker) {
        let taken = self
            .unlocked
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(u) = &taken {
            let _ = u
                .held
                .audit
                .append(op, Vec::new(), "ok", who, Some(why.to_owned()));
            let _ = u.held.audit.sync();
        }
        drop(taken);
    }

    fn unlock(&self, tty: Option<&Path>, who: &Asker) -> Result<()> {
        let _one = self.unlocking.lock().unwrap_or_else(|e| e.into_inner());
        if self.held().is_ok() {
            return Ok(());
        }
        let vault = (self.unlocker)(tty)?;
        vault.record_agent(self.socket())?;
        let held = Held::new(vault, &self.options, who)?;
        *self.unlocked.write().unwrap_or_else(|e| e.into_inner()) = Some(Unlocked {
            held,
            at: Instant::now(),
            at_unix: SystemClock.now().secs(),
        });
        self.touch();
        Ok(())
    }

    fn held(&self) -> Result<Held> {
        self.unlocked
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|u| u.held.clone())
            .ok_or_else(|| Error::AgentLocked {
                socket: self.socket().to_path_buf(),
            })
    }

    fn status(&self) -> AgentStatus {
        let unlocked = self.unlocked.read().unwrap_or_else(|e| e.into_inner());
        AgentStatus {
            version: PROTOCOL_VERSION,
            pid: std::process::id(),
            vault: self.vault_path.clone(),
            unlocked: unlocked.is_some(),
            unlocked_until: match (&*unlocked, self.options.max_unlocked) {
                (Some(u), Some(max)) => Some(u.at_unix + max.as_secs()),
                _ => None,
            },
            idle_secs: self.options.idle.map(|d| d.as_secs()),
            clients: self.clients.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
        }
    }

    /// Records a request now, for the idle limit.
    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_request_ms.store(now, Ordering::Relaxed);
    }

    /// Locks the agent when it has been idle, or unlocked, too long, and
    /// makes the audit log durable once a second.
    fn watch(&self) {
        let mut synced = Instant::now();
        while !self.stopping.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
            let expired = {
                let unlocked = self.unlocked.read().unwrap_or_else(|e| e.into_inner());
                let Some(u) = unlocked.as_ref() else { continue };
                if synced.elapsed() >= Duration::from_secs(1) {
                    // A failure is kept by the log, which then refuses records.
                    let _ = u.held.audit.sync();
                    synced = Instant::now();
                }
                let last = Duration::from_millis(self.last_request_ms.load(Ordering::Relaxed));
                let idle = self.started.elapsed().saturating_sub(last);
                if self.options.idle.is_some_and(|d| idle >= d) {
                    Some("idle")
                } else if self
                    .options
                    .max_unlocked
                    .is_some_and(|d| u.at.elapsed() >= d)
                {
                    Some("max-unlocked")
                } else {
                    None
                }
            };
            if let Some(why) = expired {
                self.lock(Operation::Lock, why, &Asker::agent());
            }
        }
    }

    fn serve_connection(&self, stream: UnixStream) {
        let after = connection::serve(
            stream,
            &self.clients,
            |p| self.admit(*p),
            |req, p| {
                let stop = matches!(req, Request::Stop);
                self.in_flight.fetch_add(1, Ordering::SeqCst);
                let reply = self.answer(req, &p.asker());
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                (reply, if stop { After::Stop } else { After::Next })
            },
        );
        if after == After::Stop {
            self.stop();
        }
    }

    /// Only the agent's own user is served.
    fn admit(&self, p: Peer) -> std::result::Result<(), String> {
        if p.uid == self.uid {
            Ok(())
        } else {
            Err(format!(
                "refused: this agent serves uid {} only, and the process{} at the other end is uid {}",
                self.uid,
                p.pid.map(|pid| format!(" {pid}")).unwrap_or_default(),
                p.uid
            ))
        }
    }

    fn answer(&self, req: Request, who: &Asker) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        match self.dispatch(req, who) {
            Ok(r) => r,
            Err(e) => Response::Error(WireError::from_error(&e)),
        }
    }

    fn dispatch(&self, req: Request, who: &Asker) -> Result<Response> {
        match req {
            Request::Hello { version } if version == PROTOCOL_VERSION => {
                return Ok(Response::Hello(self.status()))
            }
            Request::Hello { version } => {
                return Err(Error::Agent {
                    socket: self.socket().to_path_buf(),
                    what: format!(
                        "the client speaks protocol version {version} and this agent {PROTOCOL_VERSION}: use a farmvault of the agent's version"
                    ),
                })
            }
            Request::Status => return Ok(Response::Status(self.status())),
            Request::Lock => {
                self.lock(Operation::Lock, "requested", who);
                return Ok(Response::Done);
            }
            Request::Unlock { tty } => {
                self.unlock(tty.as_deref(), who)?;
                return Ok(Response::Done);
            }
            Request::Stop => return Ok(Response::Done),
            _ => {}
        }
        let held = self.held()?;
        self.touch();
        let Some((op, entries)) = audited(&req) else {
            return execute(&held, req);
        };
        // A change is not begun while the log is known to be unwritable.
        if op != Operation::Get {
            held.audit.ready()?;
        }
        let result = execute(&held, req);
        let (outcome, detail) = match &result {
            Ok(Response::Count(n)) => ("ok".to_owned(), Some(format!("{n} removed"))),
            Ok(_) => ("ok".to_owned(), None),
            Err(e) => (e.to_string(), None),
        };
        // The answer (a secret, for a get) is sent only once its record is written.
        held.audit.append(op, entries, &outcome, who, detail)?;
        result
    }
}

/// The audit record a request gets: what it does and the entries it names;
/// `None` for requests that neither read nor change a secret.
fn audited(req: &Request) -> Option<(Operation, Vec<String>)> {
    Some(match req {
        Request::Get { name } => (Operation::Get, vec![name.clone()]),
        Request::Put { name, .. } => (Operation::Put, vec![name.clone()]),
        Request::Delete { name } => (Operation::Delete, vec![name.clone()]),
        Request::Renew { name, .. } => (Operation::Renew, vec![name.clone()]),
        Request::Batch { ops } => (
            Operation::Batch,
            ops.iter().map(|(n, _)| n.clone()).collect(),
        ),
        Request::Purge => (Operation::Purge, Vec::new()),
        _ => return None,
    })
}

/// Runs a request on the open vault.
fn execute(held: &Held, req: Request) -> Result<Response> {
    let vault = &held.vault;
    let secs = Duration::from_secs;
    Ok(match req {
        Request::Get { name } => Response::entry(vault.get(&name)?),
        Request::Metadata { name } => Response::Meta(vault.metadata(&name)?.into()),
        Request::List { prefix } => {
            Response::List(vault.list(&prefix)?.into_iter().map(Into::into).collect())
        }
        Request::Put {
            name,
            credential,
            ttl_secs,
            durable,
        } => {
            let mut opts = PutOptions::new().durable(durable);
            opts.ttl = ttl_secs.map(secs);
            vault.put_credential(&name, &credential, &opts)?;
            Response::Done
        }
        Request::Delete { name } => {
            vault.delete(&name)?;
            Response::Done
        }
        Request::Renew { name, ttl_secs } => {
            Response::Meta(vault.renew(&name, ttl_secs.map(secs))?.into())
        }
        Request::Batch { ops } => {
            let mut batch = Batch::new();
            for (name, op) in ops {
                match op {
                    Some((credential, ttl)) => {
                        batch.put_credential(&name, credential, ttl.map(secs))
                    }
                    None => batch.delete(&name),
                }
            }
            vault.apply(batch)?;
            Response::Done
        }
        Request::Flush => {
            vault.flush()?;
            Response::Done
        }
        Request::Damaged => Response::Names(vault.damaged()?),
        Request::Purge => Response::Count(vault.purge_expired()? as u64),
        Request::AuditLog => Response::AuditLog(
            serde_json::to_string(&held.audit.report()?).expect("a report always serialises"),
        ),
        Request::GrantOpen { .. } | Request::GrantGet { .. } => {
            return Err(Error::invalid(
                "this is a user's agent, which serves its vault: grants are opened by a \
                 render node's agent (`farmvault agent start --node`, FARMVAULT_NODE_AGENT)",
            ))
        }
        Request::Hello { .. }
        | Request::Status
        | Request::Lock
        | Request::Unlock { .. }
        | Request::Stop => unreachable!("answered by dispatch"),
    })
}
