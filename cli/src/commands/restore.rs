//! `farmvault restore FILE`: creates the vault at `--vault` from a backup,
//! unlocked with a key that opened the vault when the backup was written.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output;
use crate::perms::check_vault_dir;
use crate::print::{emit, say};
use crate::unlock;
use clap::Args;
use std::path::PathBuf;

/// `restore`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A backup written by `farmvault backup FILE`.
    pub file: PathBuf,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `restore FILE`.
pub fn run(g: &Global, a: &RestoreArgs) -> Result<i32, CliError> {
    let path = unlock::vault_path(g)?;
    // Refused as `init` and `open` refuse it, before a passphrase is asked for.
    check_vault_dir(g, &path)?;
    let how = unlock::unlock_existing(g, &a.file)?;
    let (vault, r) = unlock::config(g, &path).restore(&a.file, &how)?;
    unlock::after_open(&vault);
    if a.json {
        emit(output::recovery_json(&r).to_string())?;
    } else {
        say(
            g,
            format!(
                "restored {} from {} into {}",
                output::entry_count(r.entries),
                a.file.display(),
                vault.path().display()
            ),
        )?;
    }
    Ok(OK)
}
