//! Opening and creating a vault: `Config`, the builder `farmvault::open` and
//! `farmvault::create` are sugar over, and the unlock of a header.

use super::api::Vault;
use super::handle::{read_header_bytes, seal_header, Direct};
use crate::clock::{Clock, SystemClock};
use crate::crypto::{fill_random, KdfParams, SymmetricKey};
use crate::error::{Error, Result};
use crate::format::{self, HeaderBody, VAULT_ID_LEN};
use crate::keys::{self, Kek, Keys, SlotMatch, Unlock};
use crate::storage::perms::{self, DirId};
use crate::storage::store::Opening;
use crate::storage::{backup, fsio, layout, netfs, store, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long an open waits for another process to release the vault, by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How to open or create a vault. `farmvault::open` and `farmvault::create` are sugar over it.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) path: PathBuf,
    kdf: KdfParams,
    pub(crate) lock_timeout: Duration,
    clock: Arc<dyn Clock>,
    simulated_clock: bool,
    insecure_permissions: bool,
    network_filesystem: bool,
    use_agent: bool,
}

impl Config {
    /// A config for the vault directory at `path`, with safe defaults:
    /// Argon2id m=64 MiB t=3 p=1, a 10 s lock wait, the system clock.
    pub fn new(path: impl Into<PathBuf>) -> Config {
        Config {
            path: path.into(),
            kdf: KdfParams::DEFAULT,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            clock: Arc::new(SystemClock),
            simulated_clock: false,
            insecure_permissions: false,
            network_filesystem: false,
            use_agent: true,
        }
    }

    /// Whether `open` may go through a farmvault agent that holds the vault
    /// (default: yes). When an agent holds it, `open` checks the passphrase or
    /// key file against the vault's header first (`WrongKey` as ever), then
    /// returns a handle through the agent ([`Vault::access`] says so) instead
    /// of waiting for a lock the agent keeps. With `false`, `open` only ever
    /// opens the vault itself, and an agent holding it is `Locked`.
    pub fn use_agent(mut self, allow: bool) -> Config {
        self.use_agent = allow;
        self
    }

    /// Argon2id costs for passphrase slots this handle creates (at create, or on a
    /// passphrase change). Cheaper than the default only for tests and benchmarks.
    pub fn kdf(mut self, kdf: KdfParams) -> Config {
        self.kdf = kdf;
        self
    }

    /// How long an open waits for another process holding the vault before `Locked`.
    pub fn lock_timeout(mut self, timeout: Duration) -> Config {
        self.lock_timeout = timeout;
        self
    }

    /// The clock expiries are measured against (tests pass a `ManualClock`). A
    /// simulated clock changes what this handle's caller is told, never what is
    /// stored: reads never remove an entry, and `Vault::purge_expired` removes only
    /// what is expired on the system clock too. TTLs of this handle's puts and
    /// renewals count from this clock, which is the caller's choice.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Config {
        self.clock = clock;
        self.simulated_clock = true;
        self
    }

    /// Opens or creates a vault directory that another user could read or
    /// replace, instead of refusing it (the CLI's `--insecure-permissions`).
    ///
    /// By default every open, create, repair and restore first refuses, with
    /// `Error::Insecure` naming the path, what is wrong and the fix, a vault
    /// directory that is not the caller's (its owner is not the effective uid),
    /// that group or others can access, that is a symbolic link, or that is in a
    /// folder every user may write to without the sticky bit
    /// ([`crate::perms::check_vault_dir`]). Off Unix nothing is checked.
    pub fn allow_insecure_permissions(mut self, allow: bool) -> Config {
        self.insecure_permissions = allow;
        self
    }

    /// Opens or creates a vault on a network filesystem (NFS, SMB, CIFS, a FUSE
    /// network client such as sshfs) instead of refusing it (the CLI's
    /// `--allow-network-filesystem`).
    ///
    /// By default every open, create, repair and restore refuses a vault
    /// directory on one with `Error::NetworkFilesystem`: the lock that keeps two
    /// processes from writing at once may not be seen by another host, `fsync`
    /// may return before the server has the bytes, and a rename may not be
    /// atomic for other clients, so two hosts, or a server that restarts, can
    /// lose acknowledged writes or damage the store. Allowing it is for a
    /// vault used from one host at a time on a server trusted with fsync.
    /// Detected on Linux (statfs, and the mount type for FUSE); elsewhere every
    /// path is taken for local.
    pub fn allow_network_filesystem(mut self, allow: bool) -> Config {
        self.network_filesystem = allow;
        self
    }

    /// The checks of [`Config::allow_insecure_permissions`] and
    /// [`Config::allow_network_filesystem`] on the vault directory: which
    /// directory passed, if one is there.
    pub(crate) fn check_dir(&self) -> Result<Option<DirId>> {
        if !self.network_filesystem {
            if let Some(filesystem) = netfs::network_filesystem(&self.path) {
                return Err(Error::NetworkFilesystem {
                    path: self.path.clone(),
                    filesystem,
                });
            }
        }
        if self.insecure_permissions {
            return Ok(None);
        }
        perms::checked_vault_dir(&self.path)
    }

    /// The store of the vault directory, refused unless it is the directory
    /// `checked` passed: sled opens it by path, so a directory put in its place
    /// after the check is told apart here, before anything is read or written.
    pub(crate) fn open_checked_store(
        &self,
        checked: Option<DirId>,
        opening: Opening,
    ) -> Result<Arc<Store>> {
        store::open_store(&self.path, self.lock_timeout, opening, checked)
    }

    /// Creates the vault directory (0700, with any missing parents) and checks
    /// it again: a directory another user made at the path after the first
    /// check (in `/tmp`, say) is refused, not used.
    pub(crate) fn create_dir(&self) -> Result<Option<DirId>> {
        fsio::create_private_dir(&self.path).map_err(|e| {
            Error::io(
                format!("creating vault directory {}", self.path.display()),
                e,
            )
        })?;
        self.check_dir()
    }

    /// Creates a new vault at the path, unlocked by `unlock`. The directory may
    /// exist if empty; an existing vault is never overwritten. A directory that
    /// `open` would refuse is refused first, in the same words
    /// ([`Config::allow_insecure_permissions`]).
    pub fn create(self, unlock: &Unlock) -> Result<Vault> {
        let path = &self.path;
        self.check_dir()?;
        if store::has_store(path) {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
        if let Unlock::Passphrase(p) = unlock {
            // Before anything is on disk: a refusal must not leave a headerless store.
            if p.is_empty() {
                return Err(Error::invalid("the passphrase is empty"));
            }
            self.kdf.check()?;
        }
        Config::refuse_non_empty(path)?;
        let checked = self.create_dir()?;
        let store = self.open_checked_store(checked, Opening::Create)?;
        let _admin = store.admin.lock().unwrap_or_else(|e| e.into_inner());
        if read_header_bytes(&store)?.is_some() {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
        let mut vault_id = [0u8; VAULT_ID_LEN];
        fill_random(&mut vault_id)?;
        let keys = Keys::derive(vault_id, SymmetricKey::generate()?);
        let (slot, kek) = keys::new_slot(0, &vault_id, &keys.dek, unlock, self.kdf)?;
        let body = HeaderBody {
            vault_id,
            created: self.clock.now().secs(),
            dek_generation: 0,
            next_slot_id: 1,
            slots: vec![slot],
            grant_policy: format::GrantPolicy::default(),
        };
        let header = seal_header(&keys, &body);
        store
            .live()
            .db
            .insert(format::space::HEADER, header)
            .map_err(|e| Error::sled(&store.path, e))?;
        store.flush()?;
        let keys = Arc::new(keys);
        *store.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        store.attach_backup(keys)?;
        drop(_admin);
        let mut vault = self.handle(store, kek);
        vault.after_unlock()?;
        Ok(Vault::direct_handle(vault))
    }

    /// Refuses a directory that exists and holds anything: a vault needs its own.
    pub(crate) fn refuse_non_empty(path: &Path) -> Result<()> {
        if path.exists() {
            let non_empty = std::fs::read_dir(path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
                .next()
                .is_some();
            if non_empty {
                return Err(Error::invalid(format!(
                    "{} exists and is not empty; a vault needs a directory of its own",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// Opens the existing vault at the path with `unlock`; first refuses a
    /// vault directory another user could read or replace
    /// ([`Config::allow_insecure_permissions`]).
    pub fn open(self, unlock: &Unlock) -> Result<Vault> {
        let checked = self.check_dir()?;
        if !store::has_store(&self.path) && self.path.join(backup::SNAPSHOT_FILE).is_file() {
            return Err(Error::corrupt(
                &self.path,
                "the storage files are missing but its backup is here; `farmvault repair` rebuilds the vault from it",
            ));
        }
        if !store::has_store(&self.path) {
            return Err(Error::NoVault {
                path: self.path.clone(),
            });
        }
        let store = match self.open_checked_store(checked, Opening::Existing) {
            Ok(store) => store,
            Err(Error::Locked {
                holder: Some(holder),
                ..
            }) if self.use_agent && holder.agent.is_some() => {
                let socket = holder.agent.expect("checked by the guard");
                return self.through_agent(&socket, unlock);
            }
            Err(e) => return Err(e),
        };
        let admin = store.admin.lock().unwrap_or_else(|e| e.into_inner());
        let header = read_header_bytes(&store)?.ok_or_else(|| {
            Error::corrupt(
                &store.path,
                "the header is missing (was creation interrupted? remove the directory and create the vault again)",
            )
        })?;
        let (keys, kek) = unlock_header(&store.path, &header, unlock)?;
        let keys = Arc::new(keys);
        *store.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys.clone());
        store.attach_backup(keys)?;
        drop(admin);
        let mut vault = self.handle(store, kek);
        vault.after_unlock()?;
        Ok(Vault::direct_handle(vault))
    }
}

impl Config {
    /// Checks `unlock` against the header of the vault without opening its
    /// store (another process, an agent, holds it): the header in the live
    /// generation's backup snapshot, which every header change rewrites, must
    /// open with it. `WrongKey` when it does not.
    fn check_unlock(&self, unlock: &Unlock) -> Result<()> {
        let data = layout::data_dir(&self.path)
            .map_err(|e| Error::corrupt(&self.path, format!("reading its CURRENT pointer: {e}")))?;
        let path = data.join(backup::SNAPSHOT_FILE);
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::io(format!("reading the vault's backup {}", path.display()), e))?;
        let snapshot = backup::parse_snapshot(&bytes).map_err(|w| Error::corrupt(&path, w))?;
        let header = snapshot
            .header()
            .ok_or_else(|| Error::corrupt(&path, "the backup holds no vault header"))?;
        unlock_header(&self.path, header, unlock).map(|_| ())
    }

    /// `open` of a vault the agent on `socket` holds: the credential proved
    /// against the vault's header, then a handle through the agent, which must
    /// serve this very vault.
    fn through_agent(&self, socket: &Path, unlock: &Unlock) -> Result<Vault> {
        self.check_unlock(unlock)?;
        let vault = Vault::connect(Some(socket))?;
        let ours = std::fs::canonicalize(&self.path).ok();
        if ours.as_deref() != Some(vault.path()) {
            return Err(Error::Agent {
                socket: socket.to_path_buf(),
                what: format!(
                    "the vault's lock file names this agent, but it serves {}, not {}",
                    vault.path().display(),
                    self.path.display()
                ),
            });
        }
        Ok(vault)
    }
}

impl Direct {
    /// What every open does once a key is proved: upgrades an older header, and
    /// reads the latest time the vault has seen.
    pub(super) fn after_unlock(&mut self) -> Result<()> {
        let body = self.upgrade_header()?;
        let keys = self.keys();
        self.load_time_seen(&keys, body.created)
    }
}

impl Config {
    /// The handle this config makes on `store`, unlocked with `own`.
    pub(super) fn handle(self, store: Arc<Store>, own: Kek) -> Direct {
        Direct::new(store, self.clock, self.simulated_clock, self.kdf, own)
    }
}

/// Finds the keyslot `unlock` opens in the header `bytes` of the vault at `path`,
/// and authenticates the header: the vault's subkeys and the slot's key.
pub(crate) fn unlock_header(path: &Path, bytes: &[u8], unlock: &Unlock) -> Result<(Keys, Kek)> {
    let (body, authed, mac) =
        format::decode_header(bytes).map_err(|what| Error::corrupt(path, what))?;
    let mut found = None;
    for slot in &body.slots {
        match keys::try_slot(slot, &body.vault_id, unlock)? {
            SlotMatch::No => continue,
            SlotMatch::Damaged => {
                return Err(Error::corrupt(
                    path,
                    format!("keyslot {} is damaged: the key is right but the wrapped data key does not open", slot.id),
                ))
            }
            SlotMatch::Yes(dek, kek) => {
                found = Some((dek, kek));
                break;
            }
        }
    }
    let (dek, kek) = found.ok_or_else(|| Error::WrongKey {
        path: path.to_path_buf(),
    })?;
    let keys = Keys::derive(body.vault_id, dek);
    if !keys.header.verify(&[authed], mac) {
        return Err(Error::corrupt(
            path,
            "the header failed authentication: it was edited or damaged",
        ));
    }
    Ok((keys, kek))
}

/// Opens the vault at `path` with the default config.
pub fn open(path: impl Into<PathBuf>, unlock: &Unlock) -> Result<Vault> {
    Config::new(path).open(unlock)
}

/// Creates a vault at `path` with the default config.
pub fn create(path: impl Into<PathBuf>, unlock: &Unlock) -> Result<Vault> {
    Config::new(path).create(unlock)
}
