//! `Vault`, the handle callers hold: a vault this process opened itself
//! (`Direct`), whatever the operation. Every public operation of a vault is
//! here, with its documentation; the work is done in the module named for it
//! (`entries`, `keys`, `compact`, `recovery`, `time_seen`). Issuing and
//! listing grants are `Vault` methods of `crate::grant`, which depends on
//! this module and not the other way round.

use super::compact::CompactReport;
use super::handle::Direct;
use super::types::{Batch, Entry, EntryMeta, PutOptions, RotateOptions, SlotInfo};
use crate::agent::Client;
use crate::clock::UnixTime;
use crate::credential::Credential;
use crate::crypto::{Prf, SealingKey};
use crate::error::{Error, Result};
use crate::keys::{KeyFile, Unlock};
use crate::secret::SecretString;
use crate::storage::backup::RecoveryReport;
use crate::GrantPolicy;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// An open vault. Cheap to share between threads (`&Vault` or `Arc<Vault>`);
/// every handle on the same directory in a process shares one database.
///
/// A handle belongs to the process that opened it: in a child made by `fork`
/// every call fails at once with `Error::Forked` (open the vault again in the
/// child, after `exec` or not).
pub struct Vault {
    backend: Backend,
}

enum Backend {
    /// This process has the store open.
    Direct(Direct),
    /// A farmvault agent has it, and this handle reaches it over its socket.
    Agent(Client),
}

/// How a handle reaches its vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// This process has the vault's store open.
    Direct,
    /// Through a farmvault agent's socket.
    Agent,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

impl Vault {
    pub(super) fn direct_handle(d: Direct) -> Vault {
        Vault {
            backend: Backend::Direct(d),
        }
    }

    /// Reaches the vault a farmvault agent serves on `socket`; with `None`, the
    /// socket `FARMVAULT_AGENT` names, else this user's default
    /// ([`crate::agent::default_socket`]). No credential is needed: the agent
    /// serves only its own user's processes, and holds the keys itself.
    /// `Agent` when no agent answers there, `AgentLocked` when it is locked.
    pub fn connect(socket: Option<&Path>) -> Result<Vault> {
        let socket = match socket {
            Some(s) => s.to_path_buf(),
            None => crate::agent::socket_from_env(),
        };
        Ok(Vault {
            backend: Backend::Agent(Client::connect(&socket)?),
        })
    }

    /// Whether this handle has the vault open itself or reaches it through an
    /// agent.
    pub fn access(&self) -> Access {
        match &self.backend {
            Backend::Direct(_) => Access::Direct,
            Backend::Agent(_) => Access::Agent,
        }
    }

    /// The socket of the agent this handle goes through, if it does.
    pub fn agent_socket(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Direct(_) => None,
            Backend::Agent(a) => Some(a.socket()),
        }
    }

    /// The agent client this handle goes through, if it does.
    pub(crate) fn agent_client(&self) -> Option<&Client> {
        match &self.backend {
            Backend::Direct(_) => None,
            Backend::Agent(a) => Some(a),
        }
    }

    /// The audit log's keys, and the data-key generation they come from
    /// (`Direct::audit_key`).
    pub(crate) fn audit_key(&self) -> Result<(Prf, SealingKey, u32)> {
        self.direct_for("reading the audit log's key")?.audit_key()
    }

    /// The direct handle, for the operations only a process that holds the
    /// store can do: `HeldByAgent` naming `operation` through an agent,
    /// `Forked` in a forked child.
    pub(crate) fn direct_for(&self, operation: &str) -> Result<&Direct> {
        match &self.backend {
            Backend::Direct(d) => d.unforked(),
            Backend::Agent(a) => Err(Error::HeldByAgent {
                operation: operation.to_owned(),
                socket: a.socket().to_path_buf(),
            }),
        }
    }

    /// [`Vault::direct_for`] for internal callers that name no operation.
    pub(crate) fn direct(&self) -> Result<&Direct> {
        self.direct_for("this operation")
    }

    /// Names `socket` in the vault's lock file: this process is the agent
    /// serving the vault there.
    pub(crate) fn record_agent(&self, socket: &Path) -> Result<()> {
        self.direct_for("serving as an agent")?
            .store
            .record_agent(socket);
        Ok(())
    }

    /// The format version this handle's open upgraded the vault from, when the
    /// vault was written by an older farmvault (docs/FORMAT.md lists which
    /// versions read which). Older builds cannot open it once upgraded.
    pub fn upgraded_from(&self) -> Option<u16> {
        match &self.backend {
            Backend::Direct(d) => d.upgraded_from(),
            Backend::Agent(a) => a.upgraded_from(),
        }
    }

    /// The canonical path of the vault directory.
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::Direct(d) => d.path(),
            Backend::Agent(a) => a.path(),
        }
    }

    /// Stores opaque bytes under `name`, replacing what was there (an expired entry
    /// included). The TTL counts from this handle's clock: on a simulated clock
    /// (`Config::clock`) the stored expiry is relative to that instant, which is the
    /// caller's explicit choice.
    pub fn put(&self, name: &str, secret: &[u8], options: &PutOptions) -> Result<()> {
        let credential = Credential::Opaque(crate::SecretBytes::from_slice(secret));
        self.put_credential(name, &credential, options)
    }

    /// Stores a typed credential under `name`, replacing what was there.
    pub fn put_credential(
        &self,
        name: &str,
        credential: &Credential,
        options: &PutOptions,
    ) -> Result<()> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.put_credential(name, credential, options),
            Backend::Agent(a) => a.put_credential(name, credential, options),
        }
    }

    /// Reads `name`. An entry whose expiry has passed on this handle's clock is
    /// `Expired` (naming when it expired) for every reader, and stays in the store
    /// until `purge_expired`, a put or a delete removes or replaces it: a read never
    /// writes.
    pub fn get(&self, name: &str) -> Result<Entry> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.get(name),
            Backend::Agent(a) => a.get(name),
        }
    }

    /// Metadata of `name` (kind, host, times), never the secret. Follows `get`'s
    /// rule: an expired entry is `Expired`, and the read leaves it in place.
    pub fn metadata(&self, name: &str) -> Result<EntryMeta> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.metadata(name),
            Backend::Agent(a) => a.metadata(name),
        }
    }

    /// Deletes `name`; `NotFound` if there is no such entry.
    pub fn delete(&self, name: &str) -> Result<()> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.delete(name),
            Backend::Agent(a) => a.delete(name),
        }
    }

    /// Sets a new TTL on `name` from now (`None`: never expires). An entry that has
    /// already expired on this handle's clock cannot be renewed: it is `Expired`, as
    /// `get` says, and stays as it was; store a fresh one with a put. Renewal extends
    /// a live credential; reviving one whose TTL ran out (a session the server may
    /// already have ended) would hand jobs a stale secret as fresh. On a handle with
    /// a simulated clock the new expiry counts from that clock: the caller's choice.
    pub fn renew(&self, name: &str, ttl: Option<Duration>) -> Result<EntryMeta> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.renew(name, ttl),
            Backend::Agent(a) => a.renew(name, ttl),
        }
    }

    /// Applies every put and delete of `batch` atomically, flushed once. Nothing is
    /// written if any operation is invalid or deletes a missing entry.
    pub fn apply(&self, batch: Batch) -> Result<()> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.apply(batch),
            Backend::Agent(a) => a.apply(batch),
        }
    }

    /// Flushes every write made so far to disk.
    pub fn flush(&self) -> Result<()> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.flush(),
            Backend::Agent(a) => a.flush(),
        }
    }

    /// Entries whose name starts with `prefix` (`""` for all), sorted by name,
    /// expired ones included until a purge removes them (check
    /// `EntryMeta::is_expired_at` against `now()`: the entries `get` would call
    /// `Expired`). Entries that fail authentication are left out: `damaged()` lists
    /// them.
    pub fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.list(prefix),
            Backend::Agent(a) => a.list(prefix),
        }
    }

    /// On-disk ids (hex of the blinded name) of entries that fail authentication.
    pub fn damaged(&self) -> Result<Vec<String>> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.damaged(),
            Backend::Agent(a) => a.damaged(),
        }
    }

    /// Removes every entry whose expiry has passed, through the expiry index and
    /// without decrypting; returns how many entries it removed. The only operation
    /// that removes an entry because it expired (reads report `Expired` and leave it).
    ///
    /// "Passed" means on both this handle's clock and the system clock: a handle on
    /// a simulated clock (`Config::clock`) purges only what is expired at the real
    /// time too, so a clock pinned in the future never removes an entry other users
    /// of the vault still read as live, and a clock pinned in the past never removes
    /// one its own caller is told is live. On the system clock both are the same.
    pub fn purge_expired(&self) -> Result<usize> {
        match &self.backend {
            Backend::Direct(d) => d.unforked()?.purge_expired(),
            Backend::Agent(a) => a.purge_expired(),
        }
    }

    /// The vault-wide caps on job grants.
    pub fn grant_policy(&self) -> Result<GrantPolicy> {
        self.direct_for("grant_policy")?.grant_policy()
    }

    /// Sets the vault-wide caps on job grants (both non-zero and at most
    /// `GrantPolicy::MAX_LIMIT_SECS`). Grants already issued keep their windows.
    pub fn set_grant_policy(&self, policy: GrantPolicy) -> Result<()> {
        self.direct_for("set_grant_policy")?
            .set_grant_policy(policy)
    }

    /// The keyslots (no key material).
    pub fn keyslots(&self) -> Result<Vec<SlotInfo>> {
        self.direct_for("keyslots")?.keyslots()
    }

    /// Sets the passphrase: rewraps the data key in a new passphrase slot (with this
    /// handle's KDF costs) and drops the old passphrase slot. Entries are untouched.
    pub fn change_passphrase(&self, new: &SecretString) -> Result<()> {
        self.direct_for("change_passphrase")?.change_passphrase(new)
    }

    /// Adds a key-file slot for `key_file`.
    pub fn add_key_file(&self, key_file: &KeyFile) -> Result<()> {
        self.direct_for("add_key_file")?.add_key_file(key_file)
    }

    /// Removes the slot `key_file` opens. The last slot cannot be removed.
    pub fn remove_key_file(&self, key_file: &KeyFile) -> Result<()> {
        self.direct_for("remove_key_file")?
            .remove_key_file(key_file)
    }

    /// Replaces the data key and re-encrypts every entry, in one atomic batch: after
    /// a crash the vault holds either the old key and records or the new ones.
    /// Keyslots are rewrapped: this handle's own, those in `options.keep`; any
    /// other slot makes it refuse unless `options.drop_other_slots`. `progress`
    /// is called with (done, total) as entries are re-encrypted. Returns the count.
    pub fn rotate_data_key(
        &self,
        options: &RotateOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize> {
        self.direct_for("rotate_data_key")?
            .rotate_data_key(options, progress)
    }

    /// Rewrites the vault into a fresh generation holding only its live items,
    /// with a new backup, then removes the old files: gives back the space of
    /// removed and overwritten entries. Entries, keys and keyslots are
    /// unchanged; a crash at any point leaves the vault as it was before or
    /// after. `progress` is called with (items copied, items in all).
    pub fn compact(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<CompactReport> {
        self.direct_for("compact")?.compact(progress)
    }

    /// The time expiry is judged at on this handle: its own clock when it was
    /// given one (`Config::clock`); otherwise the system clock, but never earlier
    /// than the latest time the vault has seen.
    pub fn now(&self) -> UnixTime {
        match &self.backend {
            Backend::Direct(d) => d.now(),
            Backend::Agent(a) => a.now(),
        }
    }

    /// How far the system clock is behind the latest time the vault has seen,
    /// when that is more than `CLOCK_BEHIND_TOLERANCE`: the clock was set back,
    /// and expiry is judged at the later time.
    pub fn clock_behind(&self) -> Option<Duration> {
        match &self.backend {
            Backend::Direct(d) => d.clock_behind(),
            Backend::Agent(a) => a.clock_behind(),
        }
    }

    /// Writes a backup of the whole vault to the new file `dest` (mode 0600,
    /// fsynced): the same authenticated snapshot the vault keeps of itself, as
    /// encrypted as the vault. `Config::restore` reads it with a passphrase or
    /// key file valid now. Never overwrites: anything at `dest`, a symbolic link
    /// included, is refused (`Io` of kind `AlreadyExists`) by the create itself,
    /// and left as it was; a failed write removes the partial file.
    pub fn backup_to(&self, dest: &Path) -> Result<RecoveryReport> {
        self.direct_for("backup_to")?.backup_to(dest)
    }

    /// Reads the vault's own backup back as a repair would, and checks it holds
    /// exactly what the store holds. `Corrupt` (naming the backup file) when not.
    pub fn verify_backup(&self, unlock: &Unlock) -> Result<RecoveryReport> {
        self.direct_for("verify_backup")?.verify_backup(unlock)
    }
}
