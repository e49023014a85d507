//! `farmvault audit`: the agent's audit log, verified, as a table or JSON.

use crate::args::Global;
use crate::duration::parse_duration;
use crate::error::{CliError, CORRUPT, OK};
use crate::output;
use crate::print::{say, write_out};
use crate::unlock;
use clap::Args;
use std::time::Duration;

/// `audit` options.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only the records of the last DUR (e.g. 24h, 7d).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// Check the log and print no records: exit 0 when every line verifies, 7
    /// naming the first that does not.
    #[arg(long)]
    pub verify: bool,
    /// Print JSON: {"verified", "problem", "durable_lines", "torn_tail", "records":
    /// [{"seq", "time", "at", "op", "entries", "result", "uid", "pid", "exe", "detail"}]}
    /// (absent fields are unknown or empty).
    #[arg(long)]
    pub json: bool,
    /// Read a render node's agent's log instead: the --state-dir of `farmvault
    /// agent node` (run as that agent's user; no vault is opened).
    #[cfg(unix)]
    #[arg(long, value_name = "DIR")]
    pub node: Option<std::path::PathBuf>,
}

/// Runs `audit`.
pub fn run(g: &Global, a: &AuditArgs) -> Result<i32, CliError> {
    #[cfg(unix)]
    if let Some(dir) = &a.node {
        let report = farmvault::agent::node_audit_log(dir)?;
        let now = farmvault::Clock::now(&farmvault::SystemClock).0;
        return show(g, a, &report, now, &dir.display().to_string());
    }
    let vault = unlock::open(g)?;
    let report = vault.audit_log()?;
    show(
        g,
        a,
        &report,
        vault.now().0,
        &vault.path().display().to_string(),
    )
}

/// Prints `report` as `a` asks (the records of the last `--since` before
/// `now`); `of` names where the log is, in the error.
fn show(
    g: &Global,
    a: &AuditArgs,
    report: &farmvault::audit::AuditReport,
    now: u64,
    of: &str,
) -> Result<i32, CliError> {
    let cutoff = a.since.map(|d| now.saturating_sub(d.as_secs()));
    let records: Vec<_> = report
        .records
        .iter()
        .filter(|r| cutoff.is_none_or(|c| r.time >= c))
        .collect();
    if a.json {
        let out = output::audit_json(report, &records);
        write_out(out.to_string().as_bytes(), false)?;
    } else if !a.verify {
        write_out(output::audit_table(&records).as_bytes(), true)?;
    }
    match &report.problem {
        None => {
            if a.verify {
                say(
                    g,
                    format!(
                        "audit log verified: {} record(s){}",
                        report.records.len(),
                        report
                            .durable_lines
                            .map(|n| format!(", {n} of them durable"))
                            .unwrap_or_default()
                    ),
                )?;
            }
            Ok(OK)
        }
        Some(problem) => Err(CliError::new(
            CORRUPT,
            format!("the audit log of {of} does not verify: {problem}"),
            "keep a copy of audit.log and audit.head for whoever investigates; an agent starts again once both are moved aside",
        )),
    }
}
