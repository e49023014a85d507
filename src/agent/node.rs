//! The node agent: on a render node, one process holds the farm identity and
//! opens job grants for the jobs, so the key that decrypts a grant is out of
//! the job's reach and the grant's windows, host pattern, issuer pins and
//! revocation lists are enforced by a process the job cannot change.
//!
//! It holds no vault. It runs as its own user (the farm identity file is
//! readable by that user only) and listens on a socket other users may
//! connect to (`/run/farmvault/node.sock` by default); each connection is
//! checked by the kernel's word on the peer (`peer`): jobs of the allowed
//! users or groups get the grant operations, the agent's own user gets
//! `status` and `stop` too, everyone else nothing.
//!
//! A job sends the bundle's bytes (it can read the bundle; the agent need
//! not), and its token for a grant that needs both. The agent opens the grant
//! as [`Grant::open`] does, by its own clock and hostname, records the first
//! open in its own state directory, and binds the grant to the job that
//! opened it first: its uid and, on Linux, its cgroup, so the task's child
//! processes read too and another job does not. Reads come back one entry at
//! a time, each checked against the use window again. Every open and read is
//! in the agent's audit log (`<state dir>/audit.log`, keyed by
//! `<state dir>/audit.key`), before it is answered.

use super::connection::{self, After};
use super::peer::Peer;
use super::protocol::{AgentStatus, Request, Response, WireError, WireGrant, PROTOCOL_VERSION};
use crate::audit::{Asker, AuditKey, AuditLog, Operation, SyslogCopy};
use crate::crypto::{Prf, SealingKey, SymmetricKey};
use crate::error::{Error, Result};
use crate::grant::{Grant, GrantOpen, GRANT_ID_LEN};
use crate::storage::fsio;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The node agent's socket when none is named.
pub const DEFAULT_NODE_SOCKET: &str = "/run/farmvault/node.sock";

/// How a node agent runs.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// The socket to listen on ([`DEFAULT_NODE_SOCKET`] by default).
    pub socket: PathBuf,
    /// The farm identity file grants are opened with (this user's, 0600).
    pub identity: PathBuf,
    /// Where first opens, the audit log and its key are kept (this user's).
    pub state_dir: PathBuf,
    /// Users whose jobs may open grants.
    pub allow_uids: Vec<u32>,
    /// Groups whose members' jobs may open grants (Linux: read from the peer's
    /// `/proc/<pid>/status`; elsewhere only `allow_uids` admit).
    pub allow_gids: Vec<u32>,
    /// Also send each audit record to the syslog socket at this path.
    pub audit_syslog: Option<PathBuf>,
}

/// Who opened a grant: the peer's uid and, where the platform tells, the
/// cgroup its process is in (the job's, which its children share).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Claimant {
    uid: u32,
    scope: Option<String>,
}

impl Claimant {
    fn of(p: &Peer) -> Claimant {
        Claimant {
            uid: p.uid,
            scope: p.pid.and_then(cgroup_of),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn cgroup_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .ok()
        .map(|s| s.trim().to_owned())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn cgroup_of(_pid: u32) -> Option<String> {
    None
}

/// The peer's groups (real, effective and supplementary), where the platform
/// tells: Linux's `/proc/<pid>/status`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn groups_of(pid: u32) -> Vec<u32> {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Vec::new();
    };
    status
        .lines()
        .filter_map(|l| l.strip_prefix("Gid:").or_else(|| l.strip_prefix("Groups:")))
        .flat_map(|rest| rest.split_whitespace().filter_map(|g| g.parse().ok()))
        .collect()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn groups_of(_pid: u32) -> Vec<u32> {
    Vec::new()
}

struct Opened {
    claimant: Claimant,
    grant: Arc<Grant>,
}

struct Shared {
    options: NodeOptions,
    uid: u32,
    audit: AuditLog,
    grants: Mutex<HashMap<[u8; GRANT_ID_LEN], Opened>>,
    stopping: AtomicBool,
    clients: AtomicU64,
    requests: AtomicU64,
    waker: Option<UnixListener>,
}

/// A bound node agent, ready to serve.
pub struct NodeAgent {
    shared: Arc<Shared>,
    listener: UnixListener,
}

/// Stops a node agent from another thread.
#[derive(Clone)]
pub struct NodeStopper(Arc<Shared>);

impl NodeStopper {
    /// Asks the agent to stop; [`NodeAgent::serve`] returns.
    pub fn stop(&self) {
        self.0.stop();
    }
}

impl NodeAgent {
    /// Checks the identity (readable by this user only; it is opened at every
    /// grant open, so a replaced file takes effect at once), prepares the state
    /// directory (0700) and the socket's directory (this user's, closed to
    /// writes by others, open to enter: jobs connect), and binds the socket
    /// (0666: the peer check, not the file mode, decides who is served).
    pub fn bind(options: NodeOptions) -> Result<NodeAgent> {
        if options.allow_uids.is_empty() && options.allow_gids.is_empty() {
            return Err(Error::invalid(
                "a node agent with no allowed user or group would serve no job: name the job \
                 accounts with --allow-user or --allow-group",
            ));
        }
        crate::grant::check_identity_file(&options.identity)?;
        if std::fs::symlink_metadata(&options.state_dir).is_err() {
            fsio::create_private_dir(&options.state_dir).map_err(|e| {
                Error::io(
                    format!(
                        "creating the state directory {}",
                        options.state_dir.display()
                    ),
                    e,
                )
            })?;
        }
        super::socket_dir::check(&options.state_dir)?;
        let socket = options.socket.clone();
        super::socket_dir::prepare_shared(&socket)?;
        let listener = connection::bind(&socket, "SIGTERM, or `farmvault agent stop` as its user")?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666))
            .map_err(|e| Error::io(format!("opening {} to jobs", socket.display()), e))?;
        let syslog = options
            .audit_syslog
            .as_deref()
            .map(SyslogCopy::connect)
            .transpose()?;
        let audit = AuditLog::open(&options.state_dir, audit_key(&options.state_dir)?, syslog)?;
        Ok(NodeAgent {
            shared: Arc::new(Shared {
                uid: rustix::process::geteuid().as_raw(),
                audit,
                grants: Mutex::new(HashMap::new()),
                stopping: AtomicBool::new(false),
                clients: AtomicU64::new(0),
                requests: AtomicU64::new(0),
                waker: listener.try_clone().ok(),
                options,
            }),
            listener,
        })
    }

    /// The socket it listens on.
    pub fn socket(&self) -> &Path {
        &self.shared.options.socket
    }

    /// A handle that stops it from another thread.
    pub fn stopper(&self) -> NodeStopper {
        NodeStopper(self.shared.clone())
    }

    /// Serves until stopped; then removes the socket and syncs the audit log.
    /// Meanwhile a thread makes the audit log durable once a second (a line
    /// is written before its answer; its `fdatasync` is grouped).
    pub fn serve(self) -> Result<()> {
        let syncer = {
            let shared = self.shared.clone();
            std::thread::Builder::new()
                .name("farmvault-node-audit".into())
                .spawn(move || {
                    while !shared.stopping.load(Ordering::SeqCst) {
                        std::thread::sleep(std::time::Duration::from_millis(1000));
                        // A failure is kept by the log, which then refuses records.
                        let _ = shared.audit.sync();
                    }
                })
                .map_err(|e| Error::io("starting the node agent's audit thread", e))?
        };
        let shared = self.shared.clone();
        connection::accept_until_stopped(
            &self.listener,
            &self.shared.stopping,
            "farmvault-node-client",
            move |stream| shared.serve_connection(stream),
        );
        let _ = self
            .shared
            .audit
            .append(Operation::Stop, Vec::new(), "ok", &Asker::agent(), None);
        let _ = self.shared.audit.sync();
        let _ = std::fs::remove_file(&self.shared.options.socket);
        let _ = syncer.join();
        Ok(())
    }
}

/// The audit log of the node agent whose state directory is `state_dir`,
/// read and verified with the key there (so only its user, or root, can). A
/// log that does not verify is not an error: the report says what is wrong.
pub fn node_audit_log(state_dir: &Path) -> Result<crate::audit::AuditReport> {
    if !state_dir.join("audit.key").exists() {
        return Err(Error::invalid(format!(
            "{} holds no node agent's audit key: name the --state-dir of `farmvault agent node`",
            state_dir.display()
        )));
    }
    crate::audit::read(state_dir, &audit_key(state_dir)?)
}

/// The audit key of a node agent: 32 random bytes in `<state>/audit.key`,
/// made at its first start.
fn audit_key(state: &Path) -> Result<AuditKey> {
    let path = state.join("audit.key");
    let bytes = match std::fs::read(&path) {
        Ok(b) => zeroize::Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let k = SymmetricKey::generate()?;
            fsio::write_new_private(&path, k.expose())
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            zeroize::Zeroizing::new(k.expose().to_vec())
        }
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    let key = SymmetricKey::from_slice(&bytes, "the node agent's audit key")?;
    Ok(AuditKey {
        mac: Prf::new(&key.derive(b"node", b"farmvault/v1/node-audit-mac")),
        seal: SealingKey::new(&key.derive(b"node", b"farmvault/v1/node-audit-seal")),
        generation: 0,
    })
}

impl Shared {
    fn stop(&self) {
        connection::stop(&self.stopping, self.waker.as_ref(), &self.options.socket);
    }

    /// A job of an allowed user or group, or the agent's own user.
    fn admit(&self, p: &Peer) -> std::result::Result<(), String> {
        let o = &self.options;
        if p.uid == self.uid || o.allow_uids.contains(&p.uid) {
            return Ok(());
        }
        if let Some(pid) = p.pid {
            if groups_of(pid).iter().any(|g| o.allow_gids.contains(g)) {
                return Ok(());
            }
        }
        Err(format!(
            "refused: this node agent serves the jobs of its allowed users and groups, and uid {} is not one of them",
            p.uid
        ))
    }

    fn status(&self) -> AgentStatus {
        AgentStatus {
            version: PROTOCOL_VERSION,
            pid: std::process::id(),
            vault: PathBuf::new(),
            unlocked: true,
            unlocked_until: None,
            idle_secs: None,
            clients: self.clients.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
        }
    }

    fn serve_connection(&self, stream: UnixStream) {
        let after = connection::serve(
            stream,
            &self.clients,
            |p| self.admit(p),
            |req, who| {
                let stop = matches!(req, Request::Stop) && who.uid == self.uid;
                self.requests.fetch_add(1, Ordering::SeqCst);
                let reply = match self.dispatch(req, who) {
                    Ok(r) => r,
                    Err(e) => Response::Error(WireError::from_error(&e)),
                };
                (reply, if stop { After::Stop } else { After::Next })
            },
        );
        if after == After::Stop {
            self.stop();
        }
    }

    fn dispatch(&self, req: Request, who: &Peer) -> Result<Response> {
        let own = who.uid == self.uid;
        match req {
            Request::Hello { version } if version == PROTOCOL_VERSION => {
                Ok(Response::Hello(self.status()))
            }
            Request::Hello { version } => Err(Error::invalid(format!(
                "the client speaks protocol version {version} and this agent {PROTOCOL_VERSION}"
            ))),
            Request::Status if own => Ok(Response::Status(self.status())),
            Request::Stop if own => Ok(Response::Done),
            Request::GrantOpen {
                path,
                bundle,
                token,
            } => self.open(who, &path, &bundle, token),
            Request::GrantGet { grant, name } => self.get(who, grant, &name),
            _ => Err(Error::invalid(
                "this is a render node's agent: it opens job grants and reads them \
                 (`status` and `stop` are its own user's), and holds no vault",
            )),
        }
    }

    fn open(
        &self,
        who: &Peer,
        path: &Path,
        bundle: &[u8],
        token: Option<crate::secret::SecretString>,
    ) -> Result<Response> {
        let claimant = Claimant::of(who);
        let mut how = GrantOpen::new()
            .in_process()
            .identity_file(&self.options.identity)
            .state_dir(&self.options.state_dir);
        if let Some(t) = token {
            how = how.token(t);
        }
        let result = Grant::open_bytes(path, bundle, &how).and_then(|grant| {
            let id = grant.info().id.0;
            let mut grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(held) = grants.get(&id) {
                if held.claimant != claimant {
                    return Err(Error::Agent {
                        socket: self.options.socket.clone(),
                        what: format!(
                        "grant {} was opened on this node by another job (uid {}); a grant serves the job that opened it first",
                        grant.info().id,
                        held.claimant.uid
                    ),
                    });
                }
            }
            let grant = Arc::new(grant);
            grants.insert(
                id,
                Opened {
                    claimant: claimant.clone(),
                    grant: grant.clone(),
                },
            );
            Ok(grant)
        });
        let (outcome, name) = match &result {
            Ok(g) => ("ok".to_owned(), format!("grant {}", g.info().id)),
            Err(e) => (e.to_string(), format!("bundle {}", path.display())),
        };
        self.audit.append(
            Operation::GrantOpen,
            vec![name],
            &outcome,
            &who.asker(),
            None,
        )?;
        let grant = result?;
        Ok(Response::GrantOpened(wire_grant(&grant)?))
    }

    fn get(&self, who: &Peer, id: [u8; GRANT_ID_LEN], name: &str) -> Result<Response> {
        let claimant = Claimant::of(who);
        let grant = {
            let grants = self.grants.lock().unwrap_or_else(|e| e.into_inner());
            match grants.get(&id) {
                Some(o) if o.claimant == claimant => Ok(o.grant.clone()),
                Some(_) => Err(Error::Agent {
                    socket: self.options.socket.clone(),
                    what: "that grant was opened on this node by another job".into(),
                }),
                None => Err(Error::Agent {
                    socket: self.options.socket.clone(),
                    what: "this node agent has not opened that grant for this job (it restarted, or the grant was never opened): open it again".into(),
                }),
            }
        };
        let result = grant.and_then(|g| g.get(name));
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        self.audit.append(
            Operation::GrantGet,
            vec![name.to_owned()],
            &outcome,
            &who.asker(),
            Some(format!("grant {}", crate::format::hex(&id))),
        )?;
        Ok(Response::entry(result?))
    }
}

fn wire_grant(g: &Grant) -> Result<WireGrant> {
    let i = g.info();
    Ok(WireGrant {
        id: i.id.0,
        issuer: i.issuer,
        signer: i.signer.map(|k| *k.as_bytes()),
        label: i.label.clone(),
        created: i.created.secs(),
        claim_by: i.claim_by.secs(),
        use_secs: i.use_window.as_secs(),
        host_pattern: i.host_pattern.clone(),
        access: i.access.as_str().to_owned(),
        recipients: i.recipients,
        first_open: g.first_opened().secs(),
        use_until: g.use_until().secs(),
        entries: g.list("")?.into_iter().map(Into::into).collect(),
    })
}
