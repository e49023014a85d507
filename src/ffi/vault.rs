//! `fv_vault`: open, create, close, and everything done through an open vault.

use super::args::ttl;
use super::batch::fv_batch;
use super::credential::fv_credential;
use super::entry::{fv_entry, fv_entry_view, fv_list, EntryData, ListData};
use super::handle::{self, Castable, HandleType, OwnedArc};
use super::info::FV_MAX_NAME_LEN;
use super::options::{fv_options, Options};
use super::result::Failure;
use crate::grant::{Grant, ReadCredentials};
use crate::keys::{KeyFile, Unlock};
use crate::secret::SecretString;
use crate::vault::{PutOptions, RotateOptions, Vault};
use crate::{Error, Result};
use std::ffi::c_char;

/// An open vault, or a job grant opened read-only (`fv_grant_open`). Thread-safe: one
/// `fv_vault *` may be used from any number of threads at once, and closing it while
/// calls are in flight on other threads is safe (they finish; later calls fail with
/// FV_INVALID_ARGUMENT). Functions that only read take a `const fv_vault *`; on a
/// grant, every function that writes returns FV_READ_ONLY.
pub struct fv_vault {
    _private: [u8; 0],
}

/// The Rust side of `fv_vault`.
pub(crate) enum Handle {
    /// A vault opened with its passphrase or a key file: reads, writes, key management.
    Vault(Vault),
    /// A job grant opened with its token and/or a farm identity: reads only.
    Grant(Grant),
}

impl Handle {
    /// Where every read goes: the read functions below serve a vault and a grant alike.
    pub(crate) fn reader(&self) -> &dyn ReadCredentials {
        match self {
            Handle::Vault(v) => v,
            Handle::Grant(g) => g,
        }
    }

    /// Where every write goes; a grant answers `Error::ReadOnly`.
    pub(crate) fn writer(&self) -> Result<&Vault> {
        match self {
            Handle::Vault(v) => Ok(v),
            Handle::Grant(g) => Err(Error::ReadOnly(format!(
                "this handle is the job grant {} [{}], which only reads; store, change and \
                 remove credentials through the vault that issued it",
                g.info().id,
                g.info().label
            ))),
        }
    }
}

impl Castable for fv_vault {
    type Ownership = OwnedArc;
    type Rust = Handle;
    const TYPE: HandleType = HandleType::Vault;
}

/// Flag of `fv_vault_rotate`: drop the keyslots this handle cannot rewrap (every slot
/// but the one it was opened with) instead of refusing.
pub const FV_ROTATE_DROP_OTHER_SLOTS: u32 = 1;

/// Opens or creates the vault at `path` and hands it over as a new `fv_vault`.
fn open_into(
    path: &std::path::Path,
    unlock: &Unlock,
    options: Option<&Options>,
    create: bool,
    out: super::args::Out<*mut fv_vault>,
) -> std::result::Result<(), Failure> {
    let config = options.cloned().unwrap_or_default().config(path);
    let vault = if create {
        config.create(unlock)?
    } else {
        config.open(unlock)?
    };
    out.write(handle::new_arc::<fv_vault>(Handle::Vault(vault)));
    Ok(())
}

ffi_fn! {
    /// Creates a vault in the directory `path` (which must not exist or be empty),
    /// unlocked by a passphrase of `passphrase_len` UTF-8 bytes at `passphrase`.
    /// `opts` may be NULL for the defaults.
    ///
    /// `out`: receives an own `fv_vault *`; close it with `fv_vault_close`.
    /// Returns FV_ALREADY_EXISTS if a vault is there, FV_INVALID_ARGUMENT for a bad
    /// argument, a non-empty directory or one refused as insecure (see
    /// `fv_options_set_allow_insecure_permissions`), FV_IO, FV_LOCKED.
    fn fv_vault_create_passphrase(
        path: *const c_char,
        passphrase: *const u8,
        passphrase_len: usize,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(path);
        let unlock = Unlock::Passphrase(SecretString::from(try_text!(passphrase, passphrase_len)));
        open_into(path, &unlock, try_ref_opt!(opts), true, out)
    }
}

ffi_fn! {
    /// Creates a vault in the directory `path` (which must not exist or be empty),
    /// unlocked by the key file at `key_file_path` (make one with
    /// `fv_key_file_generate`). `opts` may be NULL for the defaults.
    ///
    /// `out`: receives an own `fv_vault *`; close it with `fv_vault_close`.
    /// Returns FV_ALREADY_EXISTS if a vault is there, FV_INVALID_ARGUMENT for a bad
    /// argument, a key file that is not FV_KEY_FILE_LEN bytes, one that group or
    /// others can access (the message says the `chmod 600` to run), or a key file or
    /// directory refused as insecure (see `fv_options_set_allow_insecure_permissions`),
    /// FV_IO, FV_LOCKED.
    fn fv_vault_create_key_file(
        path: *const c_char,
        key_file_path: *const c_char,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(path);
        let opts = try_ref_opt!(opts);
        let key_file = try_path!(key_file_path);
        let unlock = Unlock::KeyFile(Options::key_file(opts, key_file)?);
        open_into(path, &unlock, opts, true, out)
    }
}

ffi_fn! {
    /// Opens the vault in the directory `path` with a passphrase of `passphrase_len`
    /// UTF-8 bytes at `passphrase`. `opts` may be NULL for the defaults.
    ///
    /// `out`: receives an own `fv_vault *`; close it with `fv_vault_close`.
    /// Returns FV_WRONG_KEY, FV_NO_VAULT, FV_LOCKED (another process holds it past the
    /// lock timeout), FV_CORRUPT, FV_IO, FV_INVALID_ARGUMENT (also a vault directory
    /// refused as insecure: see `fv_options_set_allow_insecure_permissions`).
    fn fv_vault_open_passphrase(
        path: *const c_char,
        passphrase: *const u8,
        passphrase_len: usize,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(path);
        let unlock = Unlock::Passphrase(SecretString::from(try_text!(passphrase, passphrase_len)));
        open_into(path, &unlock, try_ref_opt!(opts), false, out)
    }
}

ffi_fn! {
    /// Opens the vault in the directory `path` with the key file at `key_file_path`.
    /// `opts` may be NULL for the defaults.
    ///
    /// `out`: receives an own `fv_vault *`; close it with `fv_vault_close`.
    /// Returns FV_WRONG_KEY, FV_NO_VAULT, FV_LOCKED, FV_CORRUPT (also when the storage
    /// is damaged: `farmvault repair` rebuilds it from the vault's backup), FV_IO (an
    /// unreadable key file), FV_INVALID_ARGUMENT (also a key file that group or others
    /// can access: the message says the `chmod 600` to run; and a key file or vault
    /// directory refused as insecure: see `fv_options_set_allow_insecure_permissions`).
    fn fv_vault_open_key_file(
        path: *const c_char,
        key_file_path: *const c_char,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(path);
        let opts = try_ref_opt!(opts);
        let key_file = try_path!(key_file_path);
        let unlock = Unlock::KeyFile(Options::key_file(opts, key_file)?);
        open_into(path, &unlock, opts, false, out)
    }
}

/// `fv_vault_access`: the handle has the vault open itself.
pub const FV_ACCESS_DIRECT: u32 = 0;
/// `fv_vault_access`: the handle reaches the vault through a farmvault agent.
pub const FV_ACCESS_AGENT: u32 = 1;
/// `fv_vault_access` of a job grant: it reads its bundle itself.
pub const FV_ACCESS_GRANT: u32 = 2;

ffi_fn! {
    /// Reaches the vault a farmvault agent serves on the Unix socket `socket_path`;
    /// NULL for the socket FARMVAULT_AGENT names, else this user's default
    /// ($XDG_RUNTIME_DIR/farmvault/agent.sock). No passphrase or key file: the
    /// agent holds the keys, and serves only processes of its own user. The handle
    /// does what a direct one does, with the same codes; after a fork the child's
    /// calls connect anew and work.
    ///
    /// `out`: receives an own `fv_vault *`; close it with `fv_vault_close`.
    /// Returns FV_AGENT (no agent there, it refused this process, or it stopped),
    /// FV_AGENT_LOCKED, FV_INVALID_ARGUMENT.
    fn fv_vault_connect(socket_path: *const c_char, out: *mut *mut fv_vault) -> fv_result {
        let out = try_out!(out);
        let socket = try_path_opt!(socket_path);
        let vault = crate::Vault::connect(socket)?;
        out.write(handle::new_arc::<fv_vault>(Handle::Vault(vault)));
        Ok(())
    }
}

ffi_fn! {
    /// How the handle reaches its vault: FV_ACCESS_DIRECT (this process has it
    /// open), FV_ACCESS_AGENT (through an agent's socket) or FV_ACCESS_GRANT (a
    /// job grant).
    ///
    /// `access_out`: receives the value. Returns FV_INVALID_ARGUMENT.
    fn fv_vault_access(vault: *const fv_vault, access_out: *mut u32) -> fv_result {
        let out = try_out!(access_out);
        let vault = try_arc!(vault);
        out.write(match &*vault {
            Handle::Vault(v) => match v.access() {
                crate::Access::Direct => FV_ACCESS_DIRECT,
                crate::Access::Agent => FV_ACCESS_AGENT,
            },
            Handle::Grant(_) => FV_ACCESS_GRANT,
        });
        Ok(())
    }
}

ffi_fn! {
    /// Closes the vault handle. NULL is a no-op. A handle already closed is detected
    /// and reported through `fv_last_error_message`. Calls in flight on other threads
    /// finish first; the database is flushed and released with the last handle on it.
    fn fv_vault_close(vault: *mut fv_vault) {
        handle::close_arc(vault, "vault")
    }
}

ffi_fn! {
    /// The vault format version this handle's open upgraded the vault from: 1 for a
    /// vault written by farmvault 0.1, which 0.1 can no longer open once upgraded;
    /// 0 when the open upgraded nothing, and for a job grant.
    ///
    /// `version_out`: receives the version. Returns FV_INVALID_ARGUMENT.
    fn fv_vault_upgraded_from(vault: *const fv_vault, version_out: *mut u16) -> fv_result {
        let out = try_out!(version_out);
        let vault = try_arc!(vault);
        out.write(match &*vault {
            Handle::Vault(v) => v.upgraded_from().unwrap_or(0),
            Handle::Grant(_) => 0,
        });
        Ok(())
    }
}

ffi_fn! {
    /// How many seconds the system clock is behind the latest time the vault has
    /// seen, when more than FV_CLOCK_BEHIND_TOLERANCE_SECS: the clock was set back,
    /// and expiry is judged at that later time. 0 when the clock is fine, and for a
    /// job grant (its windows are judged on their own clocks).
    ///
    /// `secs_out`: receives the seconds. Returns FV_INVALID_ARGUMENT.
    fn fv_vault_clock_behind(vault: *const fv_vault, secs_out: *mut u64) -> fv_result {
        let out = try_out!(secs_out);
        let vault = try_arc!(vault);
        out.write(match &*vault {
            Handle::Vault(v) => v.clock_behind().map_or(0, |d| d.as_secs()),
            Handle::Grant(_) => 0,
        });
        Ok(())
    }
}

ffi_fn! {
    /// Writes a new random key file of FV_KEY_FILE_LEN bytes at `path`, readable by its
    /// owner only (0600 on Unix). Never overwrites: an existing file is FV_IO.
    ///
    /// Returns FV_IO or FV_INVALID_ARGUMENT.
    fn fv_key_file_generate(path: *const c_char) -> fv_result {
        let path = try_path!(path);
        KeyFile::generate()?.write_new(path)?;
        Ok(())
    }
}

ffi_fn! {
    /// Stores a copy of `secret_len` bytes at `secret` (1 to FV_MAX_SECRET_LEN) as an
    /// opaque entry named `name` (NUL-terminated UTF-8, 1 to FV_MAX_NAME_LEN bytes),
    /// replacing what was there. `ttl_secs` is its time to live; 0: it never expires.
    /// On disk (flushed) when it returns.
    ///
    /// Returns FV_INVALID_ARGUMENT for a bad argument or a TTL over 100 years, FV_IO,
    /// FV_READ_ONLY on a read-only handle.
    fn fv_vault_put(
        vault: *mut fv_vault,
        name: *const c_char,
        secret: *const u8,
        secret_len: usize,
        ttl_secs: u64,
    ) -> fv_result {
        let vault = try_arc!(vault);
        let name = try_cstr!(name, FV_MAX_NAME_LEN);
        let secret = try_slice!(secret, secret_len);
        let options = PutOptions { ttl: ttl(ttl_secs), ..PutOptions::new() };
        vault.writer()?.put(name, secret, &options)?;
        Ok(())
    }
}

ffi_fn! {
    /// Stores a typed credential (from `fv_credential_new_*`, which this call only
    /// reads) as the entry `name`, replacing what was there. `ttl_secs`: 0 never expires.
    ///
    /// Returns FV_INVALID_ARGUMENT for a bad argument or a TTL over 100 years, FV_IO,
    /// FV_READ_ONLY on a read-only handle.
    fn fv_vault_put_credential(
        vault: *mut fv_vault,
        name: *const c_char,
        credential: *const fv_credential,
        ttl_secs: u64,
    ) -> fv_result {
        let vault = try_arc!(vault);
        let name = try_cstr!(name, FV_MAX_NAME_LEN);
        let credential = try_ref!(credential);
        let options = PutOptions { ttl: ttl(ttl_secs), ..PutOptions::new() };
        vault.writer()?.put_credential(name, credential, &options)?;
        Ok(())
    }
}

ffi_fn! {
    /// Reads the entry `name` with its credential.
    ///
    /// `out`: receives an own `fv_entry *`; free it with `fv_entry_free`.
    /// Returns FV_NOT_FOUND; FV_EXPIRED if its TTL has run out on the handle's clock
    /// (refresh the credential and store it again; a read never removes an entry, so
    /// every reader is told FV_EXPIRED until `fv_vault_purge_expired` or a put
    /// removes or replaces it); FV_TAMPERED if it fails authentication;
    /// FV_INVALID_ARGUMENT, FV_IO.
    fn fv_vault_get(vault: *const fv_vault, name: *const c_char, out: *mut *mut fv_entry) -> fv_result {
        let out = try_out!(out);
        let vault = try_arc!(vault);
        let entry = vault.reader().get(try_cstr!(name, FV_MAX_NAME_LEN))?;
        out.write(handle::new_box::<fv_entry>(EntryData::full(entry)));
        Ok(())
    }
}

ffi_fn! {
    /// Reads the entry `name` with its credential, as `fv_vault_get` does, and fills
    /// `*view_out` with its view, as `fv_entry_get_view` does: a whole get in one call.
    ///
    /// `entry_out`: receives an own `fv_entry *`, which owns what the view points at;
    /// free it with `fv_entry_free` once done with the view (that wipes the secrets).
    /// `view_out`: receives the view; `view_size` is `sizeof(fv_entry_view)`.
    /// Returns the codes of `fv_vault_get`; FV_INVALID_ARGUMENT also for a NULL
    /// out-parameter or a `view_size` out of range, checked before anything is read.
    /// Neither out-parameter is written on failure.
    fn fv_vault_get_view(
        vault: *const fv_vault,
        name: *const c_char,
        entry_out: *mut *mut fv_entry,
        view_out: *mut fv_entry_view,
        view_size: usize,
    ) -> fv_result {
        let entry_out = try_out!(entry_out);
        let view_out = try_view_out!(view_out, view_size);
        let vault = try_arc!(vault);
        let entry = vault.reader().get(try_cstr!(name, FV_MAX_NAME_LEN))?;
        // Nothing can fail past the read: both out-params are written, or neither.
        let (entry, ()) =
            handle::new_box_with::<fv_entry, _>(EntryData::full(entry), |e| view_out.write(e.view()));
        entry_out.write(entry);
        Ok(())
    }
}

ffi_fn! {
    /// Reads the metadata of the entry `name` (kind, host, times), not its secret: the
    /// entry's `fv_entry_field` answers FV_INVALID_ARGUMENT.
    ///
    /// `out`: receives an own `fv_entry *`; free it with `fv_entry_free`.
    /// Returns the same codes as `fv_vault_get`.
    fn fv_vault_metadata(vault: *const fv_vault, name: *const c_char, out: *mut *mut fv_entry) -> fv_result {
        let out = try_out!(out);
        let vault = try_arc!(vault);
        let meta = vault.reader().metadata(try_cstr!(name, FV_MAX_NAME_LEN))?;
        out.write(handle::new_box::<fv_entry>(EntryData::meta(meta)));
        Ok(())
    }
}

ffi_fn! {
    /// Lists the entries whose name starts with `prefix` (NULL or "": all), sorted by
    /// name, metadata only, expired ones included until a purge removes them (check
    /// `fv_entry_expires`: those a get answers FV_EXPIRED).
    ///
    /// `out`: receives an own `fv_list *`; free it with `fv_list_free`.
    /// Returns FV_INVALID_ARGUMENT, FV_IO.
    fn fv_vault_list(vault: *const fv_vault, prefix: *const c_char, out: *mut *mut fv_list) -> fv_result {
        let out = try_out!(out);
        let vault = try_arc!(vault);
        let prefix = try_cstr_opt!(prefix, FV_MAX_NAME_LEN).unwrap_or("");
        let metas = vault.reader().list(prefix)?;
        out.write(handle::new_box::<fv_list>(ListData::new(metas)));
        Ok(())
    }
}

ffi_fn! {
    /// Deletes the entry `name`.
    ///
    /// Returns FV_NOT_FOUND if there is none, FV_INVALID_ARGUMENT, FV_IO, FV_READ_ONLY.
    fn fv_vault_delete(vault: *mut fv_vault, name: *const c_char) -> fv_result {
        let vault = try_arc!(vault);
        vault.writer()?.delete(try_cstr!(name, FV_MAX_NAME_LEN))?;
        Ok(())
    }
}

ffi_fn! {
    /// Gives the entry `name` a new TTL of `ttl_secs` from now (0: never expires). An
    /// entry that has already expired is not revived: renewal extends a live
    /// credential, and one whose TTL ran out needs a fresh value (put it again).
    ///
    /// Returns FV_NOT_FOUND; FV_EXPIRED if it has already expired (nothing is
    /// written; store it again); FV_INVALID_ARGUMENT, FV_IO, FV_READ_ONLY.
    fn fv_vault_renew(vault: *mut fv_vault, name: *const c_char, ttl_secs: u64) -> fv_result {
        let vault = try_arc!(vault);
        vault.writer()?.renew(try_cstr!(name, FV_MAX_NAME_LEN), ttl(ttl_secs))?;
        Ok(())
    }
}

ffi_fn! {
    /// Removes every expired entry, without decrypting any: the only call that removes
    /// an entry because it expired. On a handle opened with `fv_options_set_fixed_time`
    /// it removes only entries expired at both that instant and the system's time, so
    /// a pinned clock never removes an entry other users still read as live.
    ///
    /// `removed_out`: receives the number of entries removed.
    /// Returns FV_IO, FV_INVALID_ARGUMENT, FV_READ_ONLY.
    fn fv_vault_purge_expired(vault: *mut fv_vault, removed_out: *mut u64) -> fv_result {
        let out = try_out!(removed_out);
        let vault = try_arc!(vault);
        let removed = vault.writer()?.purge_expired()?;
        out.write(u64::try_from(removed).expect("a count of entries fits in 64 bits"));
        Ok(())
    }
}

ffi_fn! {
    /// Rewrites the vault with its live entries only, giving back the space of
    /// removed and overwritten entries; entries, keys and keyslots are unchanged,
    /// and a crash at any point leaves the vault as it was before or after.
    /// `fv_vault_purge_expired` runs it by itself after removing at least 1,000
    /// entries and at least as many as remain.
    ///
    /// `bytes_after_out`: receives the size in bytes of the vault's files after
    /// (may be NULL). Returns FV_IO, FV_INVALID_ARGUMENT, FV_READ_ONLY.
    fn fv_vault_compact(vault: *mut fv_vault, bytes_after_out: *mut u64) -> fv_result {
        let vault = try_arc!(vault);
        let report = vault.writer()?.compact(&mut |_, _| {})?;
        if let Some(out) = try_out_opt!(bytes_after_out) {
            out.write(report.bytes_after);
        }
        Ok(())
    }
}

ffi_fn! {
    /// Applies every put and delete of `batch` atomically, flushed once: all of them or
    /// none. The batch is only read: it is unchanged afterwards (free it, or apply it
    /// elsewhere).
    ///
    /// Returns FV_NOT_FOUND if a delete names a missing entry (nothing is written),
    /// FV_INVALID_ARGUMENT, FV_IO, FV_READ_ONLY.
    fn fv_vault_apply(vault: *mut fv_vault, batch: *const fv_batch) -> fv_result {
        let vault = try_arc!(vault);
        let batch = try_ref!(batch).to_batch();
        vault.writer()?.apply(batch)?;
        Ok(())
    }
}

ffi_fn! {
    /// Sets the vault's passphrase to `passphrase_len` UTF-8 bytes at `passphrase`: the
    /// data key is rewrapped in a new passphrase slot (with the KDF costs of the
    /// options this handle was opened with) and the old passphrase slot is dropped.
    /// Entries are untouched; key-file slots stay.
    ///
    /// Returns FV_INVALID_ARGUMENT, FV_IO, FV_READ_ONLY.
    fn fv_vault_change_passphrase(
        vault: *mut fv_vault,
        passphrase: *const u8,
        passphrase_len: usize,
    ) -> fv_result {
        let vault = try_arc!(vault);
        let passphrase = SecretString::from(try_text!(passphrase, passphrase_len));
        vault.writer()?.change_passphrase(&passphrase)?;
        Ok(())
    }
}

ffi_fn! {
    /// Adds a keyslot for the key file at `key_file_path`, so it opens the vault too.
    ///
    /// Returns FV_INVALID_ARGUMENT if that key file already opens it or is not
    /// FV_KEY_FILE_LEN bytes, FV_IO, FV_READ_ONLY.
    fn fv_vault_add_key_file(vault: *mut fv_vault, key_file_path: *const c_char) -> fv_result {
        let vault = try_arc!(vault);
        let key_file = KeyFile::read(try_path!(key_file_path))?;
        vault.writer()?.add_key_file(&key_file)?;
        Ok(())
    }
}

ffi_fn! {
    /// Removes the keyslot that the key file at `key_file_path` opens.
    ///
    /// Returns FV_INVALID_ARGUMENT if no slot matches or it is the last slot, FV_IO,
    /// FV_READ_ONLY.
    fn fv_vault_remove_key_file(vault: *mut fv_vault, key_file_path: *const c_char) -> fv_result {
        let vault = try_arc!(vault);
        let key_file = KeyFile::read(try_path!(key_file_path))?;
        vault.writer()?.remove_key_file(&key_file)?;
        Ok(())
    }
}

ffi_fn! {
    /// Replaces the vault's data key and re-encrypts every entry, atomically. The slot
    /// this handle was opened with is rewrapped; any other slot makes it refuse
    /// (FV_INVALID_ARGUMENT) unless `flags` holds FV_ROTATE_DROP_OTHER_SLOTS, which
    /// drops them (add key files back with `fv_vault_add_key_file` afterwards).
    ///
    /// `reencrypted_out`: receives the number of entries re-encrypted.
    /// Returns FV_INVALID_ARGUMENT (also for unknown flag bits), FV_TAMPERED if an entry
    /// fails authentication (nothing is changed), FV_IO, FV_READ_ONLY.
    fn fv_vault_rotate(vault: *mut fv_vault, flags: u32, reencrypted_out: *mut u64) -> fv_result {
        let out = try_out!(reencrypted_out);
        let vault = try_arc!(vault);
        if flags & !FV_ROTATE_DROP_OTHER_SLOTS != 0 {
            return Err(Failure::invalid(format!(
                "flags {flags:#x} hold unknown bits; the only flag is FV_ROTATE_DROP_OTHER_SLOTS"
            )));
        }
        let options = RotateOptions {
            keep: Vec::new(),
            drop_other_slots: flags & FV_ROTATE_DROP_OTHER_SLOTS != 0,
        };
        let count = vault.writer()?.rotate_data_key(&options, &mut |_, _| {})?;
        out.write(u64::try_from(count).expect("a count of entries fits in 64 bits"));
        Ok(())
    }
}
