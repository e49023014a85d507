//! `farmvault check`: exits 0 when no entry is expired or expiring, 1 when one
//! is and 7 when one is damaged, listing them on stderr, so a cron job or a
//! farm's health check can branch on it.

use crate::args::Global;
use crate::duration::parse_duration;
use crate::error::{CliError, CORRUPT, FAILURE, OK};
use crate::output::{self, CheckJson, MetaJson};
use crate::print::{emit, say};
use crate::unlock;
use clap::Args;
use farmvault::EntryMeta;
use std::time::Duration;

/// `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Also fail on entries expiring within this (e.g. 2h). Default: only expired ones.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub expiring_within: Option<Duration>,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `check [--expiring-within DUR]`.
pub fn run(g: &Global, a: &CheckArgs) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let now = vault.now();
    let within = a.expiring_within.unwrap_or(Duration::ZERO);
    let entries = vault.list("")?;
    let (expired, expiring): (Vec<&EntryMeta>, Vec<&EntryMeta>) = entries
        .iter()
        .filter(|m| output::expiring(m, now, within) || m.is_expired_at(now))
        .partition(|m| m.is_expired_at(now));
    let damaged = vault.damaged()?;
    let ok = expired.is_empty() && expiring.is_empty() && damaged.is_empty();
    if a.json {
        let out = CheckJson {
            now: now.0,
            now_at: output::rfc3339(now.0),
            ok,
            expired: expired.iter().map(|m| MetaJson::new(m, now)).collect(),
            expiring: expiring.iter().map(|m| MetaJson::new(m, now)).collect(),
            damaged: damaged.clone(),
        };
        emit(serde_json::to_string(&out).expect("check serialises"))?;
    }
    for (label, list) in [("expired", &expired), ("expiring", &expiring)] {
        for m in list {
            let when = output::expiry_cell(now, m.expires);
            eprintln!(
                "{label}: {} ({}, {when})",
                output::printable(&m.name),
                m.kind
            );
        }
    }
    for id in &damaged {
        eprintln!("damaged: entry with on-disk id {id} fails authentication");
    }
    if !damaged.is_empty() {
        return Ok(CORRUPT);
    }
    if !ok {
        return Ok(FAILURE);
    }
    if !a.json {
        let window = match a.expiring_within {
            Some(d) => format!(
                " or expiring within {}",
                crate::duration::human(d.as_secs())
            ),
            None => String::new(),
        };
        say(
            g,
            format!("ok: {} entries, none expired{window}", entries.len()),
        )?;
    }
    Ok(OK)
}
