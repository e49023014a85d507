//! `farmvault import-session-cache`: moves session tokens out of tk-core's
//! plaintext `authentication.yml` files into the vault. Finding, reading and
//! rewriting those files is the library's (`farmvault::sgtk`).

use crate::args::Global;
use crate::duration::{parse_ttl, Ttl};
use crate::error::{CliError, OK};
use crate::output::expiry_phrase;
use crate::print::{emit, say};
use crate::unlock;
use clap::Args;
use farmvault::sgtk::{self, import_session_cache as import_cache, ImportOptions};
use serde::Serialize;
use std::path::PathBuf;

/// `import-session-cache`.
#[derive(Args, Debug)]
pub struct ImportSessionCacheArgs {
    /// tk-core's cache root. Default: $SHOTGUN_HOME, else the platform's (~/.shotgun on Linux).
    #[arg(long, value_name = "DIR")]
    pub shotgun_home: Option<PathBuf>,
    /// Once they are safely in the vault, null the imported tokens in authentication.yml and replace their session_metadata with a placeholder tk-core overwrites at the next login (every other key is kept).
    #[arg(long)]
    pub remove: bool,
    /// Entry names are PREFIX<site>/<login>.
    #[arg(long, default_value = "shotgun/")]
    pub prefix: String,
    /// Time to live of the imported tokens, or `none`.
    #[arg(long, value_name = "DUR|none", default_value = "24h", value_parser = parse_ttl)]
    pub ttl: Ttl,
    /// Print JSON: {imported: [names], removed: [{site, file, tokens}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RemovedJson {
    site: String,
    file: String,
    tokens: usize,
}

#[derive(Serialize)]
struct ImportJson {
    imported: Vec<String>,
    removed: Vec<RemovedJson>,
}

/// `import-session-cache`.
pub fn run(g: &Global, a: &ImportSessionCacheArgs) -> Result<i32, CliError> {
    let home = match &a.shotgun_home {
        Some(h) => h.clone(),
        None => sgtk::default_shotgun_home().ok_or_else(|| {
            CliError::usage(
                "cannot find tk-core's cache folder (no SHOTGUN_HOME and no home folder)",
                "pass --shotgun-home DIR",
            )
        })?,
    };
    let vault = unlock::open(g)?;
    let options = ImportOptions {
        prefix: a.prefix.clone(),
        ttl: a.ttl.as_option(),
        remove_from_cache: a.remove,
    };
    let report = import_cache(&vault, &home, &options)?;
    if a.json {
        let out = ImportJson {
            imported: report.imported.clone(),
            removed: report
                .removed
                .iter()
                .map(|r| RemovedJson {
                    site: r.site.clone(),
                    file: r.file.display().to_string(),
                    tokens: r.tokens,
                })
                .collect(),
        };
        emit(serde_json::to_string(&out).expect("report serialises"))?;
        return Ok(OK);
    }
    if report.imported.is_empty() {
        say(
            g,
            format!("no session tokens found under {}", home.display()),
        )?;
        return Ok(OK);
    }
    let now = vault.now();
    for name in &report.imported {
        let meta = vault.metadata(name)?;
        say(
            g,
            format!("imported {name}; it {}", expiry_phrase(now, meta.expires)),
        )?;
    }
    for r in &report.removed {
        say(
            g,
            format!("removed {} token(s) from {}", r.tokens, r.file.display()),
        )?;
    }
    if !a.remove {
        say(
            g,
            "the tokens are still in tk-core's plaintext cache too; run again with --remove to take them out",
        )?;
    }
    Ok(OK)
}
