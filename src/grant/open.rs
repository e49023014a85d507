//! Opening a grant bundle: the read-only `Grant` handle and its two clocks.

use super::issuer::{IssuerKey, Pins};
use super::lock::{self, Opened, Token};
use super::{
    bundle, default_state_dir, host, read_bundle, state, GrantAccess, GrantId, GrantInfo,
    ReadCredentials,
};
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::credential::Credential;
use crate::crypto::SealingKey;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::vault::{validate_lookup_name, Entry, EntryMeta};
use bundle::{GrantedEntry, Payload};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to open a grant bundle: the material, and where the first open is
/// recorded. Built with `GrantOpen::new` and setters.
///
/// The claim-by deadline and the use window are measured against the system
/// clock, and the host pattern is checked against the hostname the node's
/// administrator wrote in the node configuration file (`/etc/farmvault/grant-hostname`,
/// root's; `%ProgramData%\farmvault\grant-hostname` on Windows), else the one
/// the OS reports. Nothing a caller passes here moves either: the knobs that
/// do (`clock`, `hostname`, `node_config_dir`) exist only with the
/// `test-overrides` cargo feature, which only farmvault's own tests enable.
#[derive(Clone, Debug)]
pub struct GrantOpen {
    token: Option<SecretString>,
    identity_file: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    #[cfg(feature = "test-overrides")]
    hostname: Option<String>,
    #[cfg(feature = "test-overrides")]
    node_config_dir: Option<PathBuf>,
    insecure_permissions: bool,
    issuers: Option<Vec<IssuerKey>>,
    route: Route,
}

/// Whether an open goes through a render node's agent.
#[derive(Clone, Debug)]
enum Route {
    /// Through the agent `FARMVAULT_NODE_AGENT` names, when it names one.
    FromEnv,
    /// Through the agent on this socket.
    Agent(PathBuf),
    /// In this process.
    Local,
}

impl Default for GrantOpen {
    fn default() -> Self {
        GrantOpen {
            token: None,
            identity_file: None,
            state_dir: None,
            clock: Arc::new(SystemClock),
            #[cfg(feature = "test-overrides")]
            hostname: None,
            #[cfg(feature = "test-overrides")]
            node_config_dir: None,
            insecure_permissions: false,
            issuers: None,
            route: Route::FromEnv,
        }
    }
}

impl GrantOpen {
    /// No material yet, the default state directory ([`default_state_dir`]:
    /// `FARMVAULT_STATE_DIR`, else the per-user one).
    pub fn new() -> GrantOpen {
        GrantOpen::default()
    }

    /// The bearer token (`fvg1_…`; surrounding whitespace is ignored).
    pub fn token(mut self, token: impl Into<SecretString>) -> GrantOpen {
        self.token = Some(token.into());
        self
    }

    /// A farm identity file (age format, `AGE-SECRET-KEY-1…` lines; keep it 0600
    /// on local disk: one that is another user's, that group or others can
    /// access, or a symbolic link to a file is refused on open, `Error::Insecure`).
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> GrantOpen {
        self.identity_file = Some(path.into());
        self
    }

    /// Opens with an identity file that is another user's, that group or others
    /// can access, or that is a symbolic link, instead of refusing it (the CLI's
    /// `--insecure-permissions`).
    pub fn allow_insecure_permissions(mut self, allow: bool) -> GrantOpen {
        self.insecure_permissions = allow;
        self
    }

    /// Where first opens are recorded, instead of [`default_state_dir`] (which
    /// reads `FARMVAULT_STATE_DIR`, then the per-user directory): what a job
    /// with no `HOME` passes when its environment cannot carry the variable.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> GrantOpen {
        self.state_dir = Some(dir.into());
        self
    }

    /// Takes only grants signed by one of these issuers (`fvi1_…` keys, as
    /// `farmvault grant-issuer` prints them); an unsigned bundle, one signed by
    /// another key or one changed after signing is `UntrustedGrant`, before
    /// anything in it is decrypted. `FARMVAULT_ISSUERS` pins too: where both
    /// are set, the signer must be in both lists. An empty list is
    /// `InvalidArgument` at open.
    pub fn issuers(mut self, keys: impl IntoIterator<Item = IssuerKey>) -> GrantOpen {
        self.issuers = Some(keys.into_iter().collect());
        self
    }

    /// Opens through the render node's agent on `socket`
    /// ([`crate::agent::NodeAgent`]) instead of in this process: the agent holds the
    /// farm identity and checks the windows, host pattern, pins and revocation
    /// by its own clock, hostname and configuration; this process sends the
    /// bundle (and the token, if one is set) and receives each entry as it is
    /// read. By default an open goes through the agent `FARMVAULT_NODE_AGENT`
    /// names when it is set, so C, C++ and Python callers need no change.
    pub fn node_agent(mut self, socket: impl Into<PathBuf>) -> GrantOpen {
        self.route = Route::Agent(socket.into());
        self
    }

    /// Opens in this process even when `FARMVAULT_NODE_AGENT` is set (what the
    /// node agent itself does).
    pub fn in_process(mut self) -> GrantOpen {
        self.route = Route::Local;
        self
    }

    /// The node agent's socket this open goes through, if any.
    pub(super) fn agent_socket(&self) -> Option<PathBuf> {
        match &self.route {
            Route::Agent(s) => Some(s.clone()),
            Route::Local => None,
            Route::FromEnv => crate::agent::node_agent_from_env(),
        }
    }

    /// The clock the windows are measured against, instead of the system's
    /// (tests pass a `ManualClock`). Only with the `test-overrides` feature.
    #[cfg(feature = "test-overrides")]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> GrantOpen {
        self.clock = clock;
        self
    }

    /// The hostname to check the host pattern against, instead of the node
    /// configuration's or the OS's. Only with the `test-overrides` feature.
    #[cfg(feature = "test-overrides")]
    pub fn hostname(mut self, name: impl Into<String>) -> GrantOpen {
        self.hostname = Some(name.into());
        self
    }

    /// The node configuration directory to read `grant-hostname` from, instead
    /// of `/etc/farmvault` (tests point it at a root-owned directory of their
    /// own). Only with the `test-overrides` feature.
    #[cfg(feature = "test-overrides")]
    pub fn node_config_dir(mut self, dir: impl Into<PathBuf>) -> GrantOpen {
        self.node_config_dir = Some(dir.into());
        self
    }

    /// The hostname the host pattern is checked against: a test's override,
    /// else the node configuration's, else the OS's.
    fn hostname_to_check(&self) -> Result<String> {
        #[cfg(feature = "test-overrides")]
        if let Some(name) = &self.hostname {
            return Ok(name.clone());
        }
        host::hostname_to_check(self.node_dir())
    }

    /// The node configuration directory a test pointed this open at; `None`:
    /// the node's own.
    pub(super) fn node_dir(&self) -> Option<&Path> {
        #[cfg(feature = "test-overrides")]
        {
            self.node_config_dir.as_deref()
        }
        #[cfg(not(feature = "test-overrides"))]
        {
            None
        }
    }
}

/// An opened grant: a read-only view of the entries it holds, until its use
/// window ends. Safe to share between threads.
pub struct Grant {
    path: PathBuf,
    info: GrantInfo,
    first_open: UnixTime,
    use_until: UnixTime,
    metas: BTreeMap<String, EntryMeta>,
    secrets: Secrets,
    clock: Arc<dyn Clock>,
}

/// Where a grant's secrets are.
pub(super) enum Secrets {
    /// In this process, by entry name.
    Here(BTreeMap<String, Credential>),
    /// With the render node's agent on this socket, which reads each one
    /// when asked (and checks the window again).
    Agent(PathBuf),
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("path", &self.path)
            .field("id", &self.info.id)
            .field("label", &self.info.label)
            .field("use_until", &self.use_until)
            .finish_non_exhaustive()
    }
}

pub(super) fn open_plaintext(plain: &[u8]) -> Option<Vec<GrantedEntry>> {
    let (payload, rest): (Payload, &[u8]) = postcard::take_from_bytes(plain).ok()?;
    rest.iter().all(|b| *b == 0).then_some(payload.entries)
}

impl Grant {
    /// Opens the grant bundle at `bundle_path` with the material in `how`.
    ///
    /// Order of checks: the issuer signature, before anything is decrypted
    /// (`UntrustedGrant` when it does not verify, or when pinned issuers, see
    /// [`GrantOpen::issuers`], do not name its signer; a format-1 bundle has
    /// none and opens only where nothing is pinned); then revocation (`Revoked` when
    /// a revocation list of its issuer names it, see [`Vault::revoke_grants`](crate::Vault::revoke_grants));
    /// the material opens the grant key (`WrongGrantKey` otherwise,
    /// including a missing half of a `require_both` grant; `InvalidArgument` when
    /// no material is given or the token is malformed) and the whole bundle
    /// authenticates (`Tampered`, or `Corrupt` when it is not a readable bundle);
    /// then the host pattern, against the node configuration's hostname or the
    /// OS's (`HostNotAllowed`, naming the hostname and the pattern; `Insecure` or
    /// `InvalidArgument` for a node configuration file refused or malformed);
    /// then time, on the system clock: a grant never opened on this machine is `Expired`
    /// once past its claim-by deadline, else its first open is recorded now; any
    /// open or read past the use window is `Expired`. Nothing is recorded unless every earlier check passed.
    pub fn open(bundle_path: impl AsRef<Path>, how: &GrantOpen) -> Result<Grant> {
        let path = bundle_path.as_ref();
        let bytes = read_bundle(path)?;
        if let Some(socket) = how.agent_socket() {
            let o = super::through_agent::open(path, bytes, how.token.clone(), &socket)?;
            return Ok(Grant {
                path: path.to_path_buf(),
                info: o.info,
                first_open: o.first_open,
                use_until: o.use_until,
                metas: o.metas,
                secrets: Secrets::Agent(socket),
                clock: Arc::new(SystemClock),
            });
        }
        Grant::open_bytes(path, &bytes, how)
    }

    /// [`Grant::open`] of a bundle already read: `bytes` are its contents,
    /// `path` where it was read from (revocation lists are looked for beside
    /// it; errors name it). A node agent opens what a job sent it this way.
    pub(crate) fn open_bytes(path: &Path, bytes: &[u8], how: &GrantOpen) -> Result<Grant> {
        if how.token.is_none() && how.identity_file.is_none() {
            return Err(Error::invalid(
                "opening a grant needs its token, a farm identity file, or both",
            ));
        }
        let token = how.token.as_ref().map(Token::decode).transpose()?;
        let identities = how
            .identity_file
            .as_deref()
            .map(|id| lock::read_identities(id, how.insecure_permissions))
            .transpose()?;
        let parsed = bundle::parse(bytes).map_err(|w| Error::corrupt(path, w))?;
        let signer = Pins::gather(how.issuers.as_deref(), how.node_dir())?.check(
            path,
            parsed.signer,
            parsed.signature,
        )?;
        super::revoke::check(path, &parsed)?;
        let grant_id = GrantId(parsed.header.grant_id);
        let wrong = || Error::WrongGrantKey {
            path: path.to_path_buf(),
        };
        let tampered = || Error::Tampered {
            entry: format!("grant bundle {}", path.display()),
        };
        let outcome = |o: Opened| match o {
            Opened::Yes(k) => Ok(Some(k)),
            Opened::WrongKey => Ok(None),
            Opened::Tampered => Err(tampered()),
            Opened::Corrupt(w) => Err(Error::corrupt(path, w)),
        };
        let by_token = match (&parsed.locks.token, &token) {
            (Some(l), Some(t)) => outcome(lock::unlock_token(l, t, parsed.header_prefix))?,
            _ => None,
        };
        let need_rcpt = match parsed.access {
            GrantAccess::Recipient | GrantAccess::TokenAndRecipient => true,
            GrantAccess::TokenOrRecipient => by_token.is_none(),
            GrantAccess::Token => false,
        };
        let by_rcpt = match (&parsed.locks.recipients, &identities) {
            (Some(blob), Some(ids)) if need_rcpt => {
                outcome(lock::unlock_recipients(blob, ids, parsed.header_prefix))?
            }
            _ => None,
        };
        let grant_key = match parsed.access {
            GrantAccess::Token => by_token,
            GrantAccess::Recipient => by_rcpt,
            GrantAccess::TokenOrRecipient => by_token.or(by_rcpt),
            GrantAccess::TokenAndRecipient => match (by_token, by_rcpt) {
                (Some(t), Some(r)) => Some(lock::combine_shares(&t, &r, &grant_id)),
                _ => None,
            },
        }
        .ok_or_else(wrong)?;
        let aad = [lock::PAYLOAD_AAD, parsed.authed].concat();
        let plain = SealingKey::new(&grant_key)
            .open(parsed.payload, &aad)
            .ok_or_else(tampered)?;
        let granted = open_plaintext(&plain).ok_or_else(|| {
            Error::corrupt(path, "the sealed payload authenticates but is unreadable")
        })?;
        if granted.len() != parsed.header.entry_count as usize {
            return Err(Error::corrupt(
                path,
                "the sealed payload disagrees with the header's entry count",
            ));
        }

        let mut info = GrantInfo::from_header(&parsed.header, parsed.access, signer, None);
        if let Some(pattern) = &info.host_pattern {
            let hostname = how.hostname_to_check()?;
            if !host::matches(pattern, &hostname) {
                return Err(host::refused(&hostname, pattern));
            }
        }

        let now = how.clock.now();
        let dir = match &how.state_dir {
            Some(d) => d.clone(),
            None => default_state_dir()?,
        };
        let state_path = state::state_path(&dir, &info.id);
        let first_open = match state::read(&state_path)? {
            Some(t) => t,
            None if now >= info.claim_by => {
                return Err(Error::Expired {
                    name: info.display_name(),
                    expired_at: info.claim_by.secs(),
                })
            }
            None => state::record_first_open(&state_path, now)?,
        }
        .min(info.claim_by);
        let use_until = first_open.plus(info.use_window);

        let mut metas = BTreeMap::new();
        let mut credentials = BTreeMap::new();
        for g in granted {
            let own = g.expires.map(UnixTime);
            let expires = Some(own.map_or(use_until, |e| e.min(use_until)));
            let meta = EntryMeta {
                name: g.name.clone(),
                kind: g.credential.kind(),
                host: g.credential.host().map(str::to_owned),
                created: UnixTime(g.created),
                updated: UnixTime(g.updated),
                expires,
            };
            metas.insert(g.name.clone(), meta);
            credentials.insert(g.name, g.credential);
        }
        info.entries = Some(metas.keys().cloned().collect());
        let grant = Grant {
            path: path.to_path_buf(),
            info,
            first_open,
            use_until,
            metas,
            secrets: Secrets::Here(credentials),
            clock: how.clock.clone(),
        };
        grant.check_window()?;
        Ok(grant)
    }

    /// The bundle's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the grant is (authenticated; entry names included).
    pub fn info(&self) -> &GrantInfo {
        &self.info
    }

    /// When this machine first opened the grant (the start of the use window).
    pub fn first_opened(&self) -> UnixTime {
        self.first_open
    }

    /// When the use window ends on this machine: every read fails `Expired` from then.
    pub fn use_until(&self) -> UnixTime {
        self.use_until
    }

    /// The current time on this grant's clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    fn check_window(&self) -> Result<UnixTime> {
        let now = self.now();
        if now >= self.use_until {
            return Err(Error::Expired {
                name: self.info.display_name(),
                expired_at: self.use_until.secs(),
            });
        }
        Ok(now)
    }

    fn meta(&self, name: &str) -> Result<&EntryMeta> {
        let now = self.check_window()?;
        validate_lookup_name(name)?;
        let m = self.metas.get(name).ok_or_else(|| Error::NotFound {
            name: name.to_owned(),
        })?;
        match m.expires {
            Some(exp) if now >= exp => Err(Error::Expired {
                name: name.to_owned(),
                expired_at: exp.secs(),
            }),
            _ => Ok(m),
        }
    }

    /// Reads `name`: `NotFound` if the grant does not hold it, `Expired` past its
    /// own expiry or the grant's use window. Through a node agent, the agent
    /// checks both again by its own clock before it answers.
    pub fn get(&self, name: &str) -> Result<Entry> {
        let meta = self.meta(name)?;
        match &self.secrets {
            Secrets::Here(credentials) => Ok(Entry {
                meta: meta.clone(),
                credential: credentials[name].clone(),
            }),
            Secrets::Agent(socket) => super::through_agent::read(socket, self.info.id, name),
        }
    }

    /// Metadata of `name` (its `expires` is the earlier of its own and the grant's).
    pub fn metadata(&self, name: &str) -> Result<EntryMeta> {
        self.meta(name).cloned()
    }

    /// The node agent's socket when this grant was opened through one.
    pub fn node_agent(&self) -> Option<&Path> {
        match &self.secrets {
            Secrets::Here(_) => None,
            Secrets::Agent(socket) => Some(socket),
        }
    }

    /// The entries whose name starts with `prefix`, sorted by name (those past
    /// their own expiry included, as `Vault::list` does); `Expired` past the use window.
    pub fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>> {
        self.check_window()?;
        Ok(self
            .metas
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, m)| m.clone())
            .collect())
    }

    /// The credential of `name` (shorthand for `get(name)?.credential`).
    pub fn credential(&self, name: &str) -> Result<Credential> {
        self.get(name).map(|e| e.credential)
    }
}

impl ReadCredentials for Grant {
    fn get(&self, name: &str) -> Result<Entry> {
        Grant::get(self, name)
    }

    fn metadata(&self, name: &str) -> Result<EntryMeta> {
        Grant::metadata(self, name)
    }

    fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>> {
        Grant::list(self, prefix)
    }
}
