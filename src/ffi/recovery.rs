//! Backups and repair from C: what `farmvault backup`, `backup --verify`,
//! `restore` and `repair` do, for tools that hold the vault themselves.

use super::handle;
use super::options::{fv_options, Options};
use super::result::Failure;
use super::vault::{fv_vault, Handle};
use crate::keys::Unlock;
use crate::secret::SecretString;
use std::ffi::c_char;

/// The unlock a recovery call was given: a passphrase of `passphrase_len` bytes
/// at `passphrase`, or the key file at `key_file_path`; exactly one.
macro_rules! try_unlock {
    ($passphrase:ident, $passphrase_len:ident, $key_file_path:ident, $opts:expr) => {{
        match ($passphrase.is_null(), $key_file_path.is_null()) {
            (false, true) => {
                Unlock::Passphrase(SecretString::from(try_text!($passphrase, $passphrase_len)))
            }
            (true, false) => {
                let path = try_path!($key_file_path);
                Unlock::KeyFile(Options::key_file($opts, path)?)
            }
            _ => {
                return Err(Failure::invalid(
                    "give exactly one of passphrase and key_file_path (the other NULL)",
                ))
            }
        }
    }};
}

ffi_fn! {
    /// Writes a backup of the whole vault to the new file `dest_path` (0600, fsynced;
    /// an existing path is refused and left as it was): the vault's own authenticated
    /// snapshot, as encrypted as the vault, which `fv_vault_restore` reads back with a
    /// passphrase or key file valid then. `entries_out`: NULL, or receives how many
    /// entries it holds.
    ///
    /// Returns FV_IO (FV_ALREADY_EXISTS's message names an existing `dest_path`),
    /// FV_READ_ONLY for a grant handle, FV_INVALID_ARGUMENT; through an agent, the
    /// error that says a backup needs the vault itself.
    fn fv_vault_backup(vault: *const fv_vault, dest_path: *const c_char, entries_out: *mut u64) -> fv_result {
        let vault = try_arc!(vault);
        let dest = try_path!(dest_path);
        let entries_out = try_out_opt!(entries_out);
        let report = vault.writer()?.backup_to(dest)?;
        if let Some(out) = entries_out {
            out.write(report.entries);
        }
        Ok(())
    }
}

ffi_fn! {
    /// Reads the vault's own backup back as a repair would, unlocked with the
    /// passphrase (`passphrase_len` bytes at `passphrase`) or the key file at
    /// `key_file_path` (exactly one; the other NULL), and checks it holds exactly
    /// what the store holds. `entries_out`: NULL, or receives how many entries it holds.
    ///
    /// Returns FV_CORRUPT (naming the backup file) when it does not, FV_WRONG_KEY,
    /// FV_READ_ONLY for a grant handle, FV_INVALID_ARGUMENT, FV_IO.
    fn fv_vault_verify_backup(
        vault: *const fv_vault,
        passphrase: *const u8,
        passphrase_len: usize,
        key_file_path: *const c_char,
        entries_out: *mut u64,
    ) -> fv_result {
        let vault = try_arc!(vault);
        let unlock = try_unlock!(passphrase, passphrase_len, key_file_path, None);
        let entries_out = try_out_opt!(entries_out);
        let report = vault.writer()?.verify_backup(&unlock)?;
        if let Some(out) = entries_out {
            out.write(report.entries);
        }
        Ok(())
    }
}

ffi_fn! {
    /// Rebuilds the vault in the directory `path` from its own backup (snapshot and
    /// journal) when its storage will not open or read whole, as `farmvault repair`
    /// does, unlocked with a passphrase or a key file (exactly one; the other NULL).
    /// The damaged files are moved into a `damaged-<time>` folder of the vault, not
    /// deleted; a wrong key changes nothing. `force`: rebuild even a store that opens.
    ///
    /// `out`: receives the opened vault (close it with `fv_vault_close`).
    /// `repaired_out`: NULL, or receives whether anything was rebuilt (false: the
    /// store opened as it was). Returns FV_WRONG_KEY, FV_NO_VAULT, FV_CORRUPT (the
    /// backup too is damaged), FV_LOCKED, FV_IO, FV_INVALID_ARGUMENT.
    fn fv_vault_repair(
        path: *const c_char,
        passphrase: *const u8,
        passphrase_len: usize,
        key_file_path: *const c_char,
        force: bool,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
        repaired_out: *mut bool,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(path);
        let opts = try_ref_opt!(opts);
        let unlock = try_unlock!(passphrase, passphrase_len, key_file_path, opts);
        let repaired_out = try_out_opt!(repaired_out);
        let config = opts.cloned().unwrap_or_default().config(path);
        let (vault, report) = config.repair(&unlock, force)?;
        if let Some(r) = repaired_out {
            r.write(report.is_some());
        }
        out.write(handle::new_arc::<fv_vault>(Handle::Vault(vault)));
        Ok(())
    }
}

ffi_fn! {
    /// Creates the vault in the directory `path` (which must hold no vault) from the
    /// backup file `backup_path` that `fv_vault_backup` (or `farmvault backup`) wrote,
    /// unlocked with a passphrase or key file valid when it was written (exactly one;
    /// the other NULL).
    ///
    /// `out`: receives the restored vault (close it with `fv_vault_close`). Returns
    /// FV_ALREADY_EXISTS when `path` holds a vault, FV_WRONG_KEY, FV_CORRUPT (a damaged
    /// backup), FV_IO, FV_INVALID_ARGUMENT.
    fn fv_vault_restore(
        path: *const c_char,
        backup_path: *const c_char,
        passphrase: *const u8,
        passphrase_len: usize,
        key_file_path: *const c_char,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(path);
        let backup = try_path!(backup_path);
        let opts = try_ref_opt!(opts);
        let unlock = try_unlock!(passphrase, passphrase_len, key_file_path, opts);
        let config = opts.cloned().unwrap_or_default().config(path);
        let (vault, _) = config.restore(backup, &unlock)?;
        out.write(handle::new_arc::<fv_vault>(Handle::Vault(vault)));
        Ok(())
    }
}
