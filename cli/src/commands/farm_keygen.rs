//! `farmvault farm-keygen --identity PATH`: a new farm identity (0600) for the
//! render nodes, and its public key on stdout for `grant --to`.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::perms::{create_private_parents, refuse_existing};
use crate::print::write_out;
use crate::source::IDENTITY_ENV;
use clap::Args;
use farmvault::grant;
use std::path::PathBuf;

/// `farm-keygen`.
#[derive(Args, Debug)]
pub struct FarmKeygenArgs {
    /// Where to write the new identity file (mode 0600); never overwritten.
    #[arg(long, value_name = "PATH")]
    pub identity: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `farm-keygen --identity PATH`: a new farm identity (0600), its public key on stdout.
pub fn run(g: &Global, a: &FarmKeygenArgs) -> Result<i32, CliError> {
    refuse_existing(
        &a.identity,
        "farmvault never overwrites a farm identity: choose another --identity path",
    )?;
    create_private_parents(&a.identity)?;
    let public = grant::generate_farm_identity(&a.identity)?;
    if a.json {
        let v = serde_json::json!({
            "identity": a.identity.display().to_string(),
            "public_key": public,
        });
        write_out(v.to_string().as_bytes(), false)?;
    } else {
        write_out(public.as_bytes(), false)?;
    }
    if !g.quiet {
        eprintln!(
            "wrote farm identity {} (mode 0600): put it on each render node's local disk, keep it 0600 and point {IDENTITY_ENV} at it; \
             the public key (stdout) goes to `farmvault grant --to`",
            a.identity.display()
        );
    }
    Ok(OK)
}
