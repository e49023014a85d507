//! `farmvault grant-revoke ID... --dir DIR`: revokes grants this vault issued,
//! by adding them to the vault's signed revocation list in DIR.
//!
//! stdout is the list file's path, so a script can copy it wherever nodes read
//! lists from; what changed goes to stderr (unless --quiet).

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::write_out;
use crate::unlock;
use clap::Args;
use farmvault::grant::GrantId;
use std::path::PathBuf;

/// `grant-revoke`.
#[derive(Args, Debug)]
#[command(after_help = "\
A handed-out grant cannot be taken back from the job, so revocation works where
jobs look: this adds the grant ids (as `farmvault grants` lists them) to the
vault's revocation list, `revoked-<vault id>.fvrl` in --dir, signed with the
vault's issuer key (`farmvault grant-issuer`). Every grant open reads the list
of the bundle's issuer in the bundle's own directory and in each directory
FARMVAULT_REVOCATIONS names (separated by colons), and refuses a listed grant
(exit code 4, C ABI FV_EXPIRED). The list is read at each open: a task that
already opened the grant keeps reading until its use window ends, so also
rotate the credential at the site when it leaked.

Example, with the bundles in /farm/grants:
  farmvault grants
  farmvault grant-revoke 9d5324dee7e8fac941ddafc330c116a4 --dir /farm/grants")]
pub struct GrantRevokeArgs {
    /// The ids of the grants to revoke (32 hex digits each, as `farmvault grants` shows).
    #[arg(required = true, value_name = "ID", value_parser = parse_id)]
    pub ids: Vec<GrantId>,
    /// The directory the grant bundles are in (where every open looks for the list).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

fn parse_id(text: &str) -> Result<GrantId, String> {
    text.parse::<GrantId>().map_err(|e| e.to_string())
}

/// `grant-revoke ID... --dir DIR`.
pub fn run(g: &Global, a: &GrantRevokeArgs) -> Result<i32, CliError> {
    if !a.dir.is_dir() {
        return Err(CliError::usage(
            format!("--dir {} is not a directory", a.dir.display()),
            "name the directory the grant bundles were written to",
        ));
    }
    let vault = unlock::open(g)?;
    let done = vault.revoke_grants(&a.ids, &a.dir)?;
    drop(vault);
    write_out(format!("{}\n", done.path.display()).as_bytes(), true)?;
    if !g.quiet {
        let already = a.ids.len() - done.added.len();
        eprintln!(
            "revoked {} grant{} ({} already listed); the list now names {}. Opens from now on \
             refuse them; a task that already opened one reads until its use window ends.",
            done.added.len(),
            if done.added.len() == 1 { "" } else { "s" },
            already,
            done.total,
        );
    }
    Ok(OK)
}
