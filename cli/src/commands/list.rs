//! `farmvault list [PREFIX]`: the entries' names, kinds, hosts, creation and
//! expiry, of the vault or of a job grant; never secrets.

use crate::args::Global;
use crate::duration::parse_duration;
use crate::error::{CliError, OK};
use crate::output::{self, ListJson, MetaJson};
use crate::print::{emit, write_out};
use crate::source::{GrantSource, Source};
use clap::Args;
use std::time::Duration;

/// `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only names starting with this.
    pub prefix: Option<String>,
    /// List the entries of a job grant.
    #[command(flatten)]
    pub source: GrantSource,
    /// Only entries expired or expiring within this (e.g. 1h).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub expiring_within: Option<Duration>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn warn_damaged(vault: &farmvault::Vault) -> Result<(), CliError> {
    let damaged = vault.damaged()?;
    if !damaged.is_empty() {
        eprintln!(
            "farmvault: warning: {} entr{} failed authentication and {} left out (run `farmvault check`)",
            damaged.len(),
            if damaged.len() == 1 { "y" } else { "ies" },
            if damaged.len() == 1 { "is" } else { "are" },
        );
    }
    Ok(())
}

/// `list [PREFIX]`, of the vault or of a grant.
pub fn run(g: &Global, a: &ListArgs) -> Result<i32, CliError> {
    let source = Source::open(g, &a.source)?;
    let now = source.now();
    let mut entries = source.list(a.prefix.as_deref().unwrap_or(""))?;
    if let Some(within) = a.expiring_within {
        entries.retain(|m| output::expiring(m, now, within));
    }
    if a.json {
        let out = ListJson {
            now: now.0,
            now_at: output::rfc3339(now.0),
            entries: entries.iter().map(|m| MetaJson::new(m, now)).collect(),
        };
        emit(serde_json::to_string(&out).expect("list serialises"))?;
    } else if entries.is_empty() {
        if !g.quiet {
            eprintln!("no entries");
        }
    } else {
        write_out(output::table(&entries, now).as_bytes(), true)?;
    }
    if let Source::Vault(vault) = &source {
        warn_damaged(vault)?;
    }
    Ok(OK)
}
