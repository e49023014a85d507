//! `fv_grant_open`: a job grant bundle opened as a read-only `fv_vault`, so plugin code
//! reads through the same functions whether the farm gave it a vault or a grant; and
//! `fv_grant_use_window`: when that grant's use window started and when it ends.

use super::handle;
use super::info::FV_MAX_TEXT_LEN;
use super::options::fv_options;
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
    /// either may be NULL, not both (both may be NULL when FARMVAULT_NODE_AGENT names a render node's
    /// agent: every grant open then goes through it, with the agent's farm identity). A grant issued with `--require-both` needs both.
    /// `opts` may be NULL for the defaults; a grant uses its state directory and
    /// insecure-permissions settings and ignores the rest, except a fixed time or a
    /// hostname, which it refuses (FV_INVALID_ARGUMENT): the grant's windows are
    /// measured against the system clock and its host pattern is checked against the
    /// node's hostname (see `fv_options_set_hostname`), neither chosen by the caller.
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
    /// hostname (the node configuration file's, else the OS's) does not match the
    /// grant's host pattern; FV_TAMPERED or FV_CORRUPT for a damaged bundle; FV_IO (a
    /// missing bundle or identity file); FV_INVALID_ARGUMENT (options with a fixed time
    /// or a hostname; a malformed token, both NULL, a farm identity refused as insecure:
    /// another user's, open to group or others, or a symbolic link, see
    /// `fv_options_set_allow_insecure_permissions`; a node configuration file that
    /// anyone but root could have written, or that names no valid hostname; or no state
    /// directory: none set, `FARMVAULT_STATE_DIR` unset and no home directory). Nothing
    /// is recorded when the open fails.
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
        let mut how = match try_ref_opt!(opts) {
            Some(opts) => opts.grant_open()?,
            None => GrantOpen::new(),
        };
        match token {
            Some("") => return Err(Failure::invalid(
                "token is empty: pass the grant's fvg1_… token, or NULL to open with identity_path alone",
            )),
            Some(t) => how = how.token(SecretString::from(t)),
            // Through a render node's agent, the agent's identity opens it.
            None if identity.is_none() && crate::agent::node_agent_from_env().is_none() => return Err(Failure::invalid(
                "token and identity_path are both NULL: a grant opens with its token, a farm identity file, or both \
                 (or through the node agent FARMVAULT_NODE_AGENT names)",
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

ffi_fn! {
    /// The use window of `grant`, a job grant opened with `fv_grant_open`, in seconds
    /// since 1970 (UTC).
    ///
    /// `first_opened_out`: receives when the window started: at the grant's first open
    /// on this machine, as recorded in the state directory (see
    /// `fv_options_set_state_dir`; later opens report the same time). `use_until_out`:
    /// receives when it ends: every read through the grant from then on is FV_EXPIRED
    /// (an entry whose own TTL ends sooner expires sooner: see `fv_entry_expires`). A
    /// job can check it before a long task, or warn before its credentials end.
    ///
    /// Not a read: it answers after the window is over too, so a job can report when
    /// it ended. Both out-parameters are required; both are written, or neither.
    /// Returns FV_INVALID_ARGUMENT for a NULL out-parameter, a NULL or closed `grant`,
    /// or a handle that is a vault rather than a grant.
    fn fv_grant_use_window(
        grant: *const fv_vault,
        first_opened_out: *mut u64,
        use_until_out: *mut u64,
    ) -> fv_result {
        let first_opened_out = try_out!(first_opened_out);
        let use_until_out = try_out!(use_until_out);
        let handle = try_arc!(grant);
        let Handle::Grant(grant) = &*handle else {
            return Err(Failure::invalid(
                "grant: this fv_vault is a vault, not a job grant; only a handle from \
                 fv_grant_open has a use window",
            ));
        };
        first_opened_out.write(grant.first_opened().secs());
        use_until_out.write(grant.use_until().secs());
        Ok(())
    }
}
