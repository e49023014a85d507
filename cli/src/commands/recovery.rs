//! backup, restore, repair.

use crate::args::{BackupArgs, Global, RepairArgs, RestoreArgs};
use crate::error::{CliError, OK};
use crate::output;
use crate::perms::refuse_existing;
use crate::stdout::{emit, say};
use crate::unlock::{self, existing_vault};

/// `backup FILE` or `backup --verify`.
pub fn backup(g: &Global, a: &BackupArgs) -> Result<i32, CliError> {
    let Some(file) = &a.file else {
        let (path, how) = existing_vault(g)?;
        let vault = unlock::config(g, &path).open(&how)?;
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

/// `restore FILE`.
pub fn restore(g: &Global, a: &RestoreArgs) -> Result<i32, CliError> {
    let path = unlock::vault_path(g)?;
    let how = unlock::unlock_existing(g, &a.file)?;
    let (vault, r) = unlock::config(g, &path).restore(&a.file, &how)?;
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

/// `repair [--force]`.
pub fn repair(g: &Global, a: &RepairArgs) -> Result<i32, CliError> {
    let (path, how) = existing_vault(g)?;
    let (vault, report) = unlock::config(g, &path).repair(&how, a.force)?;
    match (report, a.json) {
        (None, true) => emit(serde_json::json!({ "repaired": false }).to_string())?,
        (None, false) => emit(format!(
            "{} opens: nothing to repair (--force rebuilds it anyway)",
            vault.path().display()
        ))?,
        (Some(r), true) => {
            let mut v = output::recovery_json(&r);
            v["repaired"] = true.into();
            emit(v.to_string())?;
        }
        (Some(r), false) => {
            emit(format!(
                "rebuilt {} from its backup: {} ({} journal frame(s) on the snapshot)",
                vault.path().display(),
                output::entry_count(r.entries),
                r.journal_frames
            ))?;
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
                emit(format!(
                    "the damaged storage is in {} (encrypted; delete it once the vault works)",
                    aside.display()
                ))?;
            }
        }
    }
    Ok(OK)
}
