//! `fv_options`: how a vault is opened or created (KDF costs, lock wait, clock,
//! whether insecure permissions are accepted), and how a job grant is opened
//! (state directory, permissions of the farm identity). A grant's windows and
//! host pattern are not the caller's to move: `fv_grant_open` refuses options
//! that carry a fixed time or a hostname.

use super::handle::{self, Castable, HandleType, OwnedBox};
use super::result::Failure;
use crate::clock::{ManualClock, UnixTime};
use crate::crypto::KdfParams;
use crate::grant::{node_hostname_path, GrantOpen, IssuerKey};
use crate::keys::KeyFile;
use crate::vault::Config;
use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Options for opening or creating a vault or opening a job grant: an opaque builder.
/// Create it with `fv_options_new`, set what differs from the defaults, pass it to any
/// `fv_vault_open_*`/`fv_vault_create_*` or to `fv_grant_open` (which only read it),
/// free it with `fv_options_free`. One thread at a time. Each setting says which opens
/// it applies to; the others ignore it.
pub struct fv_options {
    _private: [u8; 0],
}

/// The Rust side of `fv_options`: only what was set; the rest is `Config`'s default.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    kdf: Option<KdfParams>,
    lock_timeout: Option<Duration>,
    fixed_time: Option<UnixTime>,
    state_dir: Option<PathBuf>,
    hostname: Option<String>,
    issuers: Option<Vec<IssuerKey>>,
    insecure_permissions: bool,
    network_filesystem: bool,
    /// Opens never go through an agent (`fv_options_set_use_agent(false)`).
    direct_only: bool,
}

impl Castable for fv_options {
    type Ownership = OwnedBox;
    type Rust = Options;
    const TYPE: HandleType = HandleType::Options;
}

impl Options {
    /// The core config for the vault at `path`.
    pub(crate) fn config(&self, path: &Path) -> Config {
        let mut config = Config::new(path);
        if let Some(kdf) = self.kdf {
            config = config.kdf(kdf);
        }
        if let Some(timeout) = self.lock_timeout {
            config = config.lock_timeout(timeout);
        }
        if let Some(t) = self.fixed_time {
            config = config.clock(Arc::new(ManualClock::new(t)));
        }
        config
            .allow_insecure_permissions(self.insecure_permissions)
            .allow_network_filesystem(self.network_filesystem)
            .use_agent(!self.direct_only)
    }

    /// Reads the key file at `path`, refusing one others could read or replace
    /// unless `options` (NULL: the defaults) allow insecure permissions.
    pub(crate) fn key_file(options: Option<&Options>, path: &Path) -> crate::Result<KeyFile> {
        if options.is_some_and(|o| o.insecure_permissions) {
            KeyFile::read_insecure_permissions(path)
        } else {
            KeyFile::read(path)
        }
    }

    /// How a job grant is opened with these options (its material is added by
    /// the caller). A fixed time or a hostname is refused rather than ignored:
    /// a caller that set one expects it to apply, and it never does to a grant.
    pub(crate) fn grant_open(&self) -> Result<GrantOpen, Failure> {
        if self.fixed_time.is_some() {
            return Err(Failure::invalid(
                "opts: a pinned clock is refused for job grants: their windows are measured \
                 against the system clock (fv_options_set_fixed_time(opts, 0) clears it)",
            ));
        }
        if self.hostname.is_some() {
            return Err(Failure::invalid(format!(
                "opts: a hostname is refused for job grants: their host pattern is checked \
                 against the hostname in the node configuration file {}, which the node's \
                 administrator writes, else the one the OS reports \
                 (fv_options_set_hostname(opts, NULL) clears it)",
                node_hostname_path().display()
            )));
        }
        let mut how = GrantOpen::new();
        if let Some(dir) = &self.state_dir {
            how = how.state_dir(dir);
        }
        if let Some(keys) = &self.issuers {
            how = how.issuers(keys.iter().copied());
        }
        Ok(how.allow_insecure_permissions(self.insecure_permissions))
    }
}

/// Longest hostname `fv_options_set_hostname` takes (a DNS name is at most 253 bytes).
const MAX_HOSTNAME_LEN: usize = 253;

ffi_fn! {
    /// Creates options holding the defaults: Argon2id m=65536 KiB t=3 p=1 for new
    /// passphrase slots, a 10 s wait for a vault another process holds, the system clock.
    ///
    /// `out`: receives an own `fv_options *` on success; free it with `fv_options_free`.
    /// Returns FV_INVALID_ARGUMENT if `out` is NULL, FV_PANIC after a panic.
    fn fv_options_new(out: *mut *mut fv_options) -> fv_result {
        let out = try_out!(out);
        out.write(handle::new_box::<fv_options>(Options::default()));
        Ok(())
    }
}

ffi_fn! {
    /// Frees options from `fv_options_new`. NULL is a no-op; a pointer already freed is
    /// detected and reported through `fv_last_error_message`.
    fn fv_options_free(opts: *mut fv_options) {
        handle::free_box(opts, "opts")
    }
}

ffi_fn! {
    /// Sets the Argon2id costs of passphrase slots made through a handle opened with
    /// these options (at create, and on `fv_vault_change_passphrase`): memory in KiB,
    /// passes, lanes. Opening an existing slot always uses the costs stored with it.
    /// Anything below the default is for tests and benchmarks only
    /// (`fv_options_set_kdf(opts, 8, 1, 1)` makes a test vault in microseconds).
    ///
    /// Returns FV_INVALID_ARGUMENT for costs Argon2id refuses (m < 8 * p, t = 0, p = 0)
    /// or above m=4194304 KiB, t=64, p=64, or for a NULL or freed `opts`.
    fn fv_options_set_kdf(opts: *mut fv_options, m_kib: u32, t: u32, p: u32) -> fv_result {
        let opts = try_mut!(opts);
        opts.kdf = Some(KdfParams::new(m_kib, t, p)?);
        Ok(())
    }
}

ffi_fn! {
    /// Sets how long an open waits, in milliseconds, for another process that holds
    /// the vault before failing with FV_LOCKED (0: do not wait).
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts`.
    fn fv_options_set_lock_timeout_ms(opts: *mut fv_options, timeout_ms: u64) -> fv_result {
        let opts = try_mut!(opts);
        opts.lock_timeout = Some(Duration::from_millis(timeout_ms));
        Ok(())
    }
}

ffi_fn! {
    /// Pins the handle's clock at `unix_secs` (seconds since 1970, UTC); 0 goes back to
    /// the system clock. Expiry checks, TTLs and timestamps of a handle opened with
    /// these options then use that instant. For tests and dry runs ("is this entry
    /// still valid at the job's start time?"): a TTL is a freshness aid, not an access
    /// control, so on a vault this grants nothing the key does not. The pinned time
    /// changes what the handle answers, never what is stored: reads never remove an
    /// entry, and `fv_vault_purge_expired` removes only what is expired at the
    /// system's time too; puts and renewals count their TTL from the pinned instant,
    /// as the caller asked.
    ///
    /// For vault handles only: `fv_grant_open` refuses options that carry a fixed time
    /// (FV_INVALID_ARGUMENT), because a job grant's claim-by deadline and use window
    /// are measured against the system clock, which the job does not get to move.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts`.
    fn fv_options_set_fixed_time(opts: *mut fv_options, unix_secs: u64) -> fv_result {
        let opts = try_mut!(opts);
        opts.fixed_time = (unix_secs != 0).then_some(UnixTime(unix_secs));
        Ok(())
    }
}

ffi_fn! {
    /// Sets the directory where `fv_grant_open` records a grant's first open on this
    /// machine (the start of its use window), instead of the default: the directory
    /// `FARMVAULT_STATE_DIR` names, else the per-user one
    /// (`$XDG_STATE_HOME/farmvault/grants`, else `~/.local/state/farmvault/grants`).
    /// NULL goes back to the default. An override: for tests, and for jobs whose home
    /// directory is missing, read-only or shared between machines. Without it,
    /// `FARMVAULT_STATE_DIR` or a home directory, `fv_grant_open` returns
    /// FV_INVALID_ARGUMENT naming `FARMVAULT_STATE_DIR`. Vault opens ignore it.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts` or a bad path.
    fn fv_options_set_state_dir(opts: *mut fv_options, dir: *const c_char) -> fv_result {
        let opts = try_mut!(opts);
        opts.state_dir = try_path_opt!(dir).map(Path::to_path_buf);
        Ok(())
    }
}

/// Longest list of issuer keys `fv_options_set_issuers` takes.
const MAX_ISSUERS_LEN: usize = 64 * 1024;

ffi_fn! {
    /// Pins the grant issuers `fv_grant_open` takes: `keys` is one or more issuer
    /// public keys (`fvi1_…`, as `farmvault grant-issuer` prints them), separated by
    /// commas, spaces or newlines; NULL clears the pins. A grant that is unsigned
    /// (made by farmvault 0.1), signed by another key, or changed after signing is
    /// then FV_TAMPERED, before anything in it is decrypted. The node's own pins
    /// (`/etc/farmvault/issuers`) and `FARMVAULT_ISSUERS` apply as well: every list
    /// given must name the signer, so these can narrow the node's, never widen them.
    /// Vault opens ignore it.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts`, or a list that holds
    /// no key or a text that is not one (the message gives its position, not its text).
    fn fv_options_set_issuers(opts: *mut fv_options, keys: *const c_char) -> fv_result {
        let opts = try_mut!(opts);
        opts.issuers = match try_cstr_opt!(keys, MAX_ISSUERS_LEN) {
            None => None,
            Some(text) => Some(crate::grant::parse_issuer_list(text, "keys")?),
        };
        Ok(())
    }
}

ffi_fn! {
    /// Sets a hostname (NUL-terminated, 1 to 253 bytes) that no open uses: it stays
    /// because removing a function breaks the ABI. `fv_grant_open` refuses options
    /// that carry one (FV_INVALID_ARGUMENT): a job must not choose the hostname its
    /// grant's host pattern is checked against. That is the one the node's
    /// administrator writes in the node configuration file
    /// `/etc/farmvault/grant-hostname` (root's, not writable by group or others; on
    /// Windows `%ProgramData%\farmvault\grant-hostname`), for a container or a
    /// cloud instance whose OS hostname is not its farm name; else the one the OS
    /// reports. NULL clears it. Vault opens ignore it.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts` or a bad hostname.
    fn fv_options_set_hostname(opts: *mut fv_options, hostname: *const c_char) -> fv_result {
        let opts = try_mut!(opts);
        opts.hostname = match try_cstr_opt!(hostname, MAX_HOSTNAME_LEN) {
            Some("") => return Err(Failure::invalid("hostname is empty")),
            other => other.map(str::to_owned),
        };
        Ok(())
    }
}

ffi_fn! {
    /// With `allow` true, accepts what is refused by default as insecure: a vault
    /// directory that is not the caller's, that group or others can access, that is
    /// a symbolic link, or that is in a folder every user may write to without the
    /// sticky bit (at `fv_vault_open_*` and `fv_vault_create_*`); a key file
    /// (`fv_vault_*_key_file`) or a farm identity (`fv_grant_open`) that is not the
    /// caller's, that group or others can access, or that is a symbolic link. Each
    /// refusal is FV_INVALID_ARGUMENT with a message naming the path, what is wrong
    /// and the fix; this is the explicit way past it (the CLI's
    /// `--insecure-permissions`), for callers that have their own reason to trust
    /// those files. false (the default) goes back to refusing. Off Unix nothing is
    /// checked either way.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts`.
    fn fv_options_set_allow_insecure_permissions(opts: *mut fv_options, allow: bool) -> fv_result {
        let opts = try_mut!(opts);
        opts.insecure_permissions = allow;
        Ok(())
    }
}

ffi_fn! {
    /// true: open or create a vault on a network filesystem (NFS, SMB, CIFS, a
    /// FUSE network client such as sshfs) instead of refusing it with
    /// FV_INVALID_ARGUMENT (the CLI's `--allow-network-filesystem`). Refused by
    /// default because locks, fsync and rename there do not keep a vault safe:
    /// another host may not see the lock, and fsync may return before the server
    /// has the bytes. Only for a vault used from one host at a time. Detected on
    /// Linux; elsewhere every path is taken for local.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts`.
    fn fv_options_set_allow_network_filesystem(opts: *mut fv_options, allow: bool) -> fv_result {
        let opts = try_mut!(opts);
        opts.network_filesystem = allow;
        Ok(())
    }
}

ffi_fn! {
    /// true (the default): an open of a vault that a farmvault agent holds checks
    /// the passphrase or key file against the vault's header (FV_WRONG_KEY as ever),
    /// then goes through the agent (`fv_vault_access` says FV_ACCESS_AGENT). false:
    /// an open only ever opens the vault itself, and an agent holding it is
    /// FV_LOCKED at once, naming the agent and its socket.
    ///
    /// Returns FV_INVALID_ARGUMENT for a NULL or freed `opts`.
    fn fv_options_set_use_agent(opts: *mut fv_options, use_agent: bool) -> fv_result {
        let opts = try_mut!(opts);
        opts.direct_only = !use_agent;
        Ok(())
    }
}
