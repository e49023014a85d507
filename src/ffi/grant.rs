//! `fv_grant_open`: a job grant bundle opened as a read-only `fv_vault`, so plugin code
//! reads through the same functions whether the farm gave it a vault or a grant.

use super::handle;
use super::info::FV_MAX_TEXT_LEN;
use super::options::{fv_options, Options};
use super::result::Failure;
use super::vault::{fv_vault, Handle};
use crate::grant::{Grant, GrantOpen};
use crate::secret::SecretString;
use std::ffi::c_char;

ffi_fn! {
    /// Opens the job grant bundle at `bundle_path` (written by `farmvault grant`) with
    /// its bearer token (`token`, the NUL-terminated `fvg1_…` text the submit script
    /// put in the job's environment, usually FARMVAULT_GRANT_TOKEN), with the farm
    /// identity file at `identity_path` (usually FARMVAULT_IDENTITY), or with both;
    /// either may be NULL, not both. A grant issued with `--require-both` needs both.
    /// `opts` may be NULL for the defaults; a grant uses its fixed time, state
    /// directory and hostname settings and ignores the rest.
    ///
    /// The token is a secret: it is read during the call only, its copy is wiped
    /// before the call returns, and no message ever shows it.
    ///
    /// `out`: receives an own `fv_vault *` that only reads: `fv_vault_get`,
    /// `fv_vault_metadata` and `fv_vault_list` work as on a vault (entries outside the
    /// grant are FV_NOT_FOUND; every read past the grant's use window is FV_EXPIRED),
    /// and every function that writes returns FV_READ_ONLY. Close it with
    /// `fv_vault_close`.
    ///
    /// The first open on a machine starts the grant's use window and is recorded in
    /// the state directory (see `fv_options_set_state_dir`). Returns FV_WRONG_KEY when
    /// the token or identity does not open the grant (or half of a `--require-both`
    /// grant is missing); FV_EXPIRED when it was first opened here after its claim-by
    /// deadline, or its use window is over; FV_HOST_NOT_ALLOWED when this machine's
    /// hostname does not match the grant's host pattern; FV_TAMPERED or FV_CORRUPT for
    /// a damaged bundle; FV_IO (a missing bundle or identity file); FV_INVALID_ARGUMENT
    /// (a malformed token, both NULL). Nothing is recorded when the open fails.
    fn fv_grant_open(
        bundle_path: *const c_char,
        token: *const c_char,
        identity_path: *const c_char,
        opts: *const fv_options,
        out: *mut *mut fv_vault,
    ) -> fv_result {
        let out = try_out!(out);
        let path = try_path!(bundle_path);
        let token = try_cstr_opt!(token, FV_MAX_TEXT_LEN);
        let identity = try_path_opt!(identity_path);
        let mut how = try_ref_opt!(opts).map_or_else(GrantOpen::new, Options::grant_open);
        match token {
            Some("") => return Err(Failure::invalid(
                "token is empty: pass the grant's fvg1_… token, or NULL to open with identity_path alone",
            )),
            Some(t) => how = how.token(SecretString::from(t)),
            None if identity.is_none() => return Err(Failure::invalid(
                "token and identity_path are both NULL: a grant opens with its token, a farm identity file, or both",
            )),
            None => {}
        }
        if let Some(id) = identity {
            how = how.identity_file(id);
        }
        let grant = Grant::open(path, &how)?;
        out.write(handle::new_arc::<fv_vault>(Handle::Grant(grant)));
        Ok(())
    }
}
