//! `fv_vault_grant`: a submit-side tool written in C or Python (a DCC's farm
//! submitter) issues a job grant the way `farmvault grant` does.

use super::info::FV_MAX_TEXT_LEN;
use super::result::Failure;
use super::secret::{fv_secret, new_secret};
use super::vault::fv_vault;
use crate::grant::{read_recipients_file, GrantSpec, GRANT_ID_LEN};
use std::ffi::c_char;
use std::time::Duration;

/// Length of a grant id, as `fv_vault_grant` writes it.
pub const FV_GRANT_ID_LEN: usize = 16;
const _: () = assert!(FV_GRANT_ID_LEN == GRANT_ID_LEN);

/// `fv_vault_grant` flag: issue no token; the grant opens with a farm identity alone.
pub const FV_GRANT_NO_TOKEN: u32 = 1;
/// `fv_vault_grant` flag: the grant opens only with its token and a farm identity together.
pub const FV_GRANT_REQUIRE_BOTH: u32 = 2;

/// The words of a list argument: one item a line, or separated by commas.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

ffi_fn! {
    /// Issues a job grant from `vault`, as `farmvault grant` does: writes the new
    /// bundle file `out_path` (0600; an existing path is refused) holding copies of
    /// `entries` (entry names, or prefixes ending in `/` for every live entry under
    /// them; one a line, or separated by commas), labelled `label` (the job's name,
    /// stored in the clear), signed with the vault's issuer key, and records it in the
    /// vault.
    ///
    /// The job must first open it within `claim_within_secs`, and it reads for
    /// `use_for_secs` from that first open (neither 0; both capped by the vault's grant
    /// policy). `hosts`: NULL, or a glob the opening machine's hostname must match.
    /// `recipients`: NULL, or farm public keys (`age1…`, one a line or separated by
    /// commas) or the path of a file of them, to encrypt the grant to; `flags`:
    /// FV_GRANT_NO_TOKEN (identity only; needs recipients) and/or FV_GRANT_REQUIRE_BOTH.
    ///
    /// `token_out`: receives the token (`fvg1_…`, a secret: give it to the job in its
    /// environment, never on a command line; free it with `fv_secret_free`), or NULL
    /// with FV_GRANT_NO_TOKEN; required otherwise. `id_out`: NULL, or receives the
    /// grant's 16-byte id (what `farmvault grant-revoke` takes, in hex).
    ///
    /// Returns FV_NOT_FOUND or FV_EXPIRED for an entry that is missing or expired
    /// (nothing is written then), FV_INVALID_ARGUMENT for a bad argument, a window
    /// that is 0 or over the policy, or an `out_path` that exists, FV_READ_ONLY for a
    /// grant handle, FV_IO; through an agent, the error that says issuing needs the
    /// vault itself (stop the agent first, as for `farmvault grant`).
    fn fv_vault_grant(
        vault: *const fv_vault,
        out_path: *const c_char,
        label: *const c_char,
        entries: *const c_char,
        claim_within_secs: u64,
        use_for_secs: u64,
        hosts: *const c_char,
        recipients: *const c_char,
        flags: u32,
        token_out: *mut *mut fv_secret,
        id_out: *mut [u8; FV_GRANT_ID_LEN],
    ) -> fv_result {
        let vault = try_arc!(vault);
        let out_path = try_path!(out_path);
        let label = try_cstr!(label, FV_MAX_TEXT_LEN);
        let entries = try_cstr!(entries, FV_MAX_TEXT_LEN);
        let hosts = try_cstr_opt!(hosts, FV_MAX_TEXT_LEN);
        let recipients = try_cstr_opt!(recipients, FV_MAX_TEXT_LEN);
        if flags & !(FV_GRANT_NO_TOKEN | FV_GRANT_REQUIRE_BOTH) != 0 {
            return Err(Failure::invalid(format!("flags has unknown bits: {flags:#x}")));
        }
        let token = flags & FV_GRANT_NO_TOKEN == 0;
        let token_out = if token { Some(try_out!(token_out)) } else { None };
        let id_out = try_out_opt!(id_out);
        let mut spec = GrantSpec::new(out_path, label)
            .entries(items(entries))
            .claim_within(Duration::from_secs(claim_within_secs))
            .use_for(Duration::from_secs(use_for_secs))
            .token(token)
            .require_both(flags & FV_GRANT_REQUIRE_BOTH != 0);
        if let Some(h) = hosts {
            spec = spec.hosts(h);
        }
        for r in recipients.map(items).into_iter().flatten() {
            if r.starts_with("age1") {
                spec = spec.recipient(r);
            } else {
                for key in read_recipients_file(r)? {
                    spec = spec.recipient(key);
                }
            }
        }
        let issued = vault.writer()?.grant(&spec)?;
        if let (Some(out), Some(t)) = (token_out, &issued.token) {
            out.write(new_secret(t.expose().as_bytes()));
        }
        if let Some(out) = id_out {
            out.write(issued.id.0);
        }
        Ok(())
    }
}
