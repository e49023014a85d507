//! `farmvault backup FILE`: an encrypted copy of the vault elsewhere, for a
//! disk that may fail; `backup --verify`: reads the vault's own backup as a
//! repair would and checks it matches the store.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output;
use crate::perms::refuse_existing;
use crate::print::{emit, say};
use crate::unlock::{self, existing_vault};
use clap::Args;
use std::path::PathBuf;

/// `backup`.
#[derive(Args, Debug)]
#[command(after_help = "\
Every vault also keeps a backup of itself (backup.fvbk and journal.fvjl in the
vault directory), brought up to date by every durable write; `farmvault repair`
uses it. `backup FILE` writes a copy elsewhere, for a disk that may fail: it is
as encrypted as the vault (names blinded, records sealed, the data key wrapped
by the keyslots of the moment), so it needs a passphrase or key file that opened
the vault when it was written.")]
pub struct BackupArgs {
    /// Where to write the backup.
    #[arg(required_unless_present = "verify", conflicts_with = "verify")]
    pub file: Option<PathBuf>,
    /// Instead: read the vault's own backup as a repair would and check it matches the store.
    #[arg(long)]
    pub verify: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `backup FILE` or `backup --verify`.
pub fn run(g: &Global, a: &BackupArgs) -> Result<i32, CliError> {
    let Some(file) = &a.file else {
        let (path, how) = existing_vault(g)?;
        let vault = unlock::config(g, &path).open(&how)?;
        unlock::after_open(&vault);
        let r = vault.verify_backup(&how)?;
        if a.json {
            emit(output::recovery_json(&r).to_string())?;
        } else {
            say(
                g,
                format!(
                    "the backup of {} matches the vault: {}, {} journal frame(s) on the snapshot",
                    vault.path().display(),
                    output::entry_count(r.entries),
                    r.journal_frames
                ),
            )?;
        }
        return Ok(OK);
    };
    refuse_existing(
        file,
        "farmvault never overwrites a backup: choose another path",
    )?;
    let vault = unlock::open(g)?;
    let r = vault.backup_to(file)?;
    if a.json {
        emit(
            serde_json::json!({ "file": file.display().to_string(), "entries": r.entries })
                .to_string(),
        )?;
    } else {
        say(
            g,
            format!(
                "wrote a backup of {} ({}) to {}; restore it with `farmvault restore`",
                vault.path().display(),
                output::entry_count(r.entries),
                file.display()
            ),
        )?;
    }
    Ok(OK)
}
