//! The one error type of farmvault.
//!
//! Expected outcomes a caller acts on (`NotFound`, `Expired`, `WrongKey`,
//! `WrongGrantKey`) and
//! fail-stop faults (`Corrupt`, `Io`, ...) are distinct variants, so `?` works
//! for the faults and a `match` still separates the outcomes. Messages name
//! paths, entries and arguments; they never carry secret bytes, passphrases or
//! key material.

use crate::storage::holder::LockHolder;
use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in farmvault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No entry of that name (or it was removed).
    #[error("no entry named {name:?}")]
    NotFound {
        /// The entry name that was asked for.
        name: String,
    },
    /// The entry exists but its TTL has run out; every read says so until a purge,
    /// put or delete removes or replaces it. Refresh it.
    #[error("entry {name:?} expired at {expired_at} (unix seconds); refresh it")]
    Expired {
        /// The entry (or grant) that expired.
        name: String,
        /// When it expired, in seconds since the Unix epoch.
        expired_at: u64,
    },
    /// The passphrase or key file does not open this vault.
    #[error("wrong passphrase or key file for {path}")]
    WrongKey {
        /// The vault that refused the key.
        path: PathBuf,
    },
    /// The token or farm identity given does not open this job grant (its
    /// `WrongKey`; the same code, FV_WRONG_KEY, through the C ABI).
    #[error("wrong token or farm identity for the grant {path}")]
    WrongGrantKey {
        /// The grant bundle that refused them.
        path: PathBuf,
    },
    /// An entry failed authentication: it was modified on disk or damaged.
    #[error("entry {entry:?} failed authentication: it was tampered with or damaged on disk")]
    Tampered {
        /// The entry name (or its on-disk id when the name is unknown).
        entry: String,
    },
    /// A job grant bundle whose issuer signature does not verify, or whose signer
    /// this machine's pinned issuers do not name (an unsigned bundle where issuers
    /// are pinned among them). Reported before anything in it is decrypted; the C
    /// ABI's code for it is FV_TAMPERED.
    #[error("the grant {path} is not from a trusted issuer: {why}")]
    UntrustedGrant {
        /// The grant bundle.
        path: PathBuf,
        /// Why: what is wrong with its signature, or which pin list refused it.
        why: String,
    },
    /// A job grant its issuer revoked: a revocation list it signed names it.
    /// The C ABI reports it as FV_EXPIRED (the same remedy: a new grant).
    #[error("grant {grant} was revoked by its issuer (listed in {list})")]
    Revoked {
        /// The grant's id, in hex.
        grant: String,
        /// The revocation list that names it.
        list: PathBuf,
    },
    /// The vault header or a record is unreadable.
    #[error("vault at {path} is corrupt: {what}")]
    Corrupt {
        /// The vault or file that is corrupt.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// Another process holds the vault and did not release it within the lock timeout.
    #[error("vault at {path} is in use by {} (waited {waited_ms} ms); close the other program or raise the lock timeout", holder_text(.holder))]
    Locked {
        /// The vault directory.
        path: PathBuf,
        /// How long the open waited, in milliseconds.
        waited_ms: u64,
        /// The process the vault's lock file names, when it names one that
        /// is running.
        holder: Option<LockHolder>,
    },
    /// A vault handle used in a child process made by `fork` after the handle
    /// was opened: the store's threads and locks are the parent's.
    #[error("the vault at {path} was opened before this process was forked; a handle belongs to the process that opened it: open the vault in the child (after the parent closed it), or share it through the farmvault agent")]
    Forked {
        /// The vault directory.
        path: PathBuf,
    },
    /// The farmvault agent serving the vault is locked: it holds no keys until
    /// `farmvault agent unlock`.
    #[error("the farmvault agent at {socket} is locked; unlock it with `farmvault agent unlock`")]
    AgentLocked {
        /// The agent's socket.
        socket: PathBuf,
    },
    /// An operation that needs the vault itself (a key change, a rotation, a
    /// compaction, a backup, issuing grants) on a handle that reaches the vault
    /// through the agent. Through the C ABI it is `FV_LOCKED`: the agent holds
    /// the vault.
    #[error("`{operation}` needs the vault itself, which the farmvault agent at {socket} holds: run `farmvault agent stop` first, then again")]
    HeldByAgent {
        /// What was asked (`change_passphrase`, `compact`, ...).
        operation: String,
        /// The agent's socket.
        socket: PathBuf,
    },
    /// The farmvault agent could not be reached, or refused the connection, or
    /// the connection broke: the message says which.
    #[error("farmvault agent at {socket}: {what}")]
    Agent {
        /// The agent's socket.
        socket: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// There is no vault at that path.
    #[error("no vault at {path}; create one first (farmvault init)")]
    NoVault {
        /// The path that holds no vault.
        path: PathBuf,
    },
    /// A vault already exists where one was to be created.
    #[error("a vault already exists at {path}; refusing to overwrite it")]
    AlreadyExists {
        /// The existing vault.
        path: PathBuf,
    },
    /// A caller passed something invalid; the message says what.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A file or directory farmvault was asked to trust could be read, replaced or
    /// re-pointed by another user: a vault directory, key file or farm identity
    /// that is not the caller's, that group or others can access, or that is a
    /// symbolic link (see `farmvault::perms`). Refused unless insecure permissions
    /// are allowed explicitly (`Config::allow_insecure_permissions`,
    /// `KeyFile::read_insecure_permissions`, `GrantOpen::allow_insecure_permissions`).
    /// Through the C ABI it is `FV_INVALID_ARGUMENT`, the code a loose key file has
    /// always had.
    #[error("{what}; {fix}")]
    Insecure {
        /// The file or directory refused, as the caller named it.
        path: PathBuf,
        /// What is wrong, naming the path (the owner's uid and the caller's, the
        /// mode, or the link).
        what: String,
        /// How to fix it.
        fix: String,
    },
    /// The vault directory is on a network filesystem (NFS, SMB, a FUSE network
    /// client such as sshfs), where locks, `fsync` and `rename` do not keep it
    /// safe. Refused unless allowed explicitly
    /// (`Config::allow_network_filesystem`). Through the C ABI it is
    /// `FV_INVALID_ARGUMENT`.
    #[error(
        "vault directory {path:?} is on a network filesystem ({filesystem}), where locks, \
         fsync and rename do not keep a vault safe: keep it on a local disk, or run the \
         farmvault agent on a host that has one"
    )]
    NetworkFilesystem {
        /// The vault directory, as the caller named it.
        path: PathBuf,
        /// The filesystem's name (`nfs`, `cifs`, `fuse.sshfs`).
        filesystem: String,
    },
    /// This machine's hostname does not match a job grant's host pattern, so the
    /// grant will not open here. Not `WrongGrantKey` (the token or identity may be
    /// right) nor `InvalidArgument` (nothing the caller passed is malformed): run
    /// the job on a matching host, or issue a grant for this one.
    #[error(
        "this machine's hostname {hostname:?} does not match the grant's host pattern \
         {pattern:?}: run the job on a matching host, or issue a grant for this one"
    )]
    HostNotAllowed {
        /// The hostname that was checked (this machine's, or the one the opener gave).
        hostname: String,
        /// The grant's host pattern (a glob of `*` and `?`).
        pattern: String,
    },
    /// The operation is not allowed on this handle (for example a write on a read-only grant).
    #[error("not permitted: {0}")]
    ReadOnly(String),
    /// An operating-system I/O error, with what farmvault was doing.
    #[error("{context}: {source}")]
    Io {
        /// What farmvault was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The holder of a busy vault, as an error message names it.
fn holder_text(holder: &Option<LockHolder>) -> String {
    holder
        .as_ref()
        .map_or_else(|| "another process".to_owned(), LockHolder::to_string)
}

impl Error {
    /// Maps a sled error to ours, naming the vault.
    pub(crate) fn sled(dir: &std::path::Path, e: sled::Error) -> Error {
        match e {
            sled::Error::Io(io) => Error::io(format!("vault storage at {}", dir.display()), io),
            sled::Error::Corruption { .. } => Error::corrupt(
                dir,
                format!(
                    "storage is damaged: {e}; `farmvault repair` rebuilds it from the vault's backup"
                ),
            ),
            other => Error::corrupt(dir, format!("storage error: {other}")),
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
            what: what.into(),
        }
    }
}
