//! `farmvault repair`: rebuilds a vault whose storage will not open from the
//! backup it keeps of itself, and says what it kept and what it set aside.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output;
use crate::print::{emit, say};
use crate::unlock::{self, existing_vault};
use clap::Args;

/// `repair`.
#[derive(Args, Debug)]
#[command(after_help = "\
When the storage will not open (exit 7, \"storage is damaged\"), repair reads
the vault's own backup, checks it with your passphrase or key file, moves the
damaged storage files into a damaged-<time> folder of the vault directory (they
hold only encrypted data: delete the folder once the vault works) and rebuilds
the storage. Every write acknowledged before the damage is kept. A vault that
opens is left alone unless --force.")]
pub struct RepairArgs {
    /// Rebuild even when the storage opens (e.g. to restore entries `check` reports damaged).
    #[arg(long)]
    pub force: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `repair [--force]`.
pub fn run(g: &Global, a: &RepairArgs) -> Result<i32, CliError> {
    let (path, how) = existing_vault(g)?;
    let (vault, report) = unlock::config(g, &path).repair(&how, a.force)?;
    unlock::after_open(&vault);
    match (report, a.json) {
        (None, true) => emit(serde_json::json!({ "repaired": false }).to_string())?,
        (None, false) => say(
            g,
            format!(
                "{} opens: nothing to repair (--force rebuilds it anyway)",
                vault.path().display()
            ),
        )?,
        (Some(r), true) => {
            let mut v = output::recovery_json(&r);
            v["repaired"] = true.into();
            emit(v.to_string())?;
        }
        (Some(r), false) => {
            say(
                g,
                format!(
                    "rebuilt {} from its backup: {} ({} journal frame(s) on the snapshot)",
                    vault.path().display(),
                    output::entry_count(r.entries),
                    r.journal_frames
                ),
            )?;
            if let Some(why) = &r.journal_skipped {
                eprintln!("farmvault: warning: {why}");
            }
            if r.ignored_journal_bytes > 0 {
                eprintln!(
                    "farmvault: note: {} bytes at the end of the journal did not authenticate (a write torn by the crash, never acknowledged) and were ignored",
                    r.ignored_journal_bytes
                );
            }
            if let Some(aside) = &r.moved_aside {
                // Not a confirmation: where the old files went, even with --quiet.
                eprintln!(
                    "farmvault: note: the damaged storage is in {} (encrypted; delete it once the vault works)",
                    aside.display()
                );
            }
        }
    }
    Ok(OK)
}
