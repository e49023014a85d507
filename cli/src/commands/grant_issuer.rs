//! `farmvault grant-issuer`: the vault's grant issuer public key, the key render
//! nodes pin to take only grants this vault signed.
//!
//! stdout is the key and nothing else (`fvi1_…`, one line), so a provisioning
//! script can append it to a node's pin list as it is.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::write_out;
use crate::unlock;
use clap::Args;

/// `grant-issuer`.
#[derive(Args, Debug)]
#[command(after_help = "\
Every grant a vault issues is signed with the vault's own Ed25519 key, over all
of the bundle's bytes. Its private half never leaves the vault (it is sealed
there like a secret, made at the vault's first grant or here); this prints the
public half. A render node that pins it takes only grants this vault signed: an
unsigned bundle (from farmvault 0.1), one signed by any other key, or one
changed after signing is refused before anything in it is decrypted.

Pin on a node, for every job there:
  farmvault grant-issuer --public | ssh root@render01 'cat >> /etc/farmvault/issuers'
(/etc/farmvault and the file: root's, not writable by others, or every open refuses them)
or for one job or tool, in its environment:
  FARMVAULT_ISSUERS=fvi1_… (several: separated by commas)

`farmvault grant-info FILE` shows who signed a bundle and whether this machine
takes it.")]
pub struct GrantIssuerArgs {
    /// Print the public key (the default, and the only half that ever leaves the vault).
    #[arg(long)]
    pub public: bool,
    /// Print JSON: {"issuer"}.
    #[arg(long)]
    pub json: bool,
}

/// `grant-issuer [--public] [--json]`.
pub fn run(g: &Global, a: &GrantIssuerArgs) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let key = vault.grant_issuer()?;
    drop(vault);
    let text = if a.json {
        serde_json::json!({ "issuer": key.to_string() }).to_string()
    } else {
        format!("{key}\n")
    };
    write_out(text.as_bytes(), !a.json)?;
    Ok(OK)
}
