//! `farmvault import-flow-tokens`: moves tk-core 0.24's Flow (Autodesk Platform
//! Services) OAuth tokens out of its plaintext `adsk_flow_tokens.json` into the
//! vault. Finding, reading and editing the file is the library's (`farmvault::sgtk`).

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output::expiry_phrase;
use crate::print::{emit, say};
use crate::unlock;
use clap::Args;
use farmvault::sgtk::{self, import_flow_tokens as import_file, FlowImportOptions};
use serde::Serialize;
use std::path::PathBuf;

/// `import-flow-tokens`.
#[derive(Args, Debug)]
pub struct ImportFlowTokensArgs {
    /// The Toolkit home holding adsk_flow_tokens.json. Default: $SHOTGUN_HOME, else the platform's (~/.shotgun on Linux).
    #[arg(long, value_name = "DIR")]
    pub shotgun_home: Option<PathBuf>,
    /// Remove the imported profiles from the file once they are safely in the vault (everything else in it is kept).
    #[arg(long)]
    pub remove: bool,
    /// Entry names are PREFIX<app_id>/<profile>.
    #[arg(long, default_value = "flow/")]
    pub prefix: String,
    /// Print JSON: {file, imported: [names], skipped: [{app_id, profile, reason}], removed}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    app_id: &'a str,
    profile: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct ImportJson<'a> {
    file: String,
    imported: &'a [String],
    skipped: Vec<SkippedJson<'a>>,
    removed: usize,
}

/// `import-flow-tokens`.
pub fn run(g: &Global, a: &ImportFlowTokensArgs) -> Result<i32, CliError> {
    let home = match &a.shotgun_home {
        Some(h) => h.clone(),
        None => sgtk::default_shotgun_home().ok_or_else(|| {
            CliError::usage(
                "cannot find the Toolkit home (no SHOTGUN_HOME and no home folder)",
                "pass --shotgun-home DIR",
            )
        })?,
    };
    let vault = unlock::open(g)?;
    let options = FlowImportOptions {
        prefix: a.prefix.clone(),
        remove_from_file: a.remove,
    };
    let report = import_file(&vault, &home, &options)?;
    if a.json {
        let out = ImportJson {
            file: report.file.display().to_string(),
            imported: &report.imported,
            skipped: report
                .skipped
                .iter()
                .map(|s| SkippedJson {
                    app_id: &s.app_id,
                    profile: &s.profile,
                    reason: &s.reason,
                })
                .collect(),
            removed: report.removed,
        };
        emit(serde_json::to_string(&out).expect("report serialises"))?;
        return Ok(OK);
    }
    let now = vault.now();
    for name in &report.imported {
        let meta = vault.metadata(name)?;
        say(
            g,
            format!(
                "imported {name}; it {} (with its access token)",
                expiry_phrase(now, meta.expires)
            ),
        )?;
    }
    for s in &report.skipped {
        say(
            g,
            format!(
                "skipped {}/{}: {}; it stays in {}",
                crate::output::printable(&s.app_id),
                crate::output::printable(&s.profile),
                s.reason,
                report.file.display()
            ),
        )?;
    }
    if report.imported.is_empty() && report.skipped.is_empty() {
        say(
            g,
            format!("no Flow tokens found in {}", report.file.display()),
        )?;
        return Ok(OK);
    }
    if a.remove {
        say(
            g,
            format!(
                "removed {} profile(s) from {}",
                report.removed,
                report.file.display()
            ),
        )?;
    } else if !report.imported.is_empty() {
        say(
            g,
            "the tokens are still in tk-core's plaintext file too; run again with --remove to take them out",
        )?;
    }
    Ok(OK)
}
