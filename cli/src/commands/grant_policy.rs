//! `farmvault grant-policy`: the vault's caps on the two clocks of every job grant.
//!
//! stdout is the policy and nothing else, in the same shape whether it was
//! only read or just changed, so a script can parse either; the note that a
//! change reaches only later grants goes to stderr (unless --quiet), like
//! `grant`'s summary.

use crate::args::Global;
use crate::duration::{exact, parse_duration};
use crate::error::{CliError, OK};
use crate::print::write_out;
use crate::unlock;
use clap::Args;
use farmvault::GrantPolicy;
use std::time::Duration;

/// `grant-policy`.
#[derive(Args, Debug)]
#[command(after_help = "\
The grant policy is stored in the vault and caps the two clocks of every job
grant the vault issues: `grant --claim-within` may ask for at most the max
claim-by window, `grant --use-for` at most the max use window. Defaults: 7d to
claim, 24h of use. Grants cannot be recalled, so keep the limits no longer than
your longest jobs need; neither may be over 366d.

With no option, prints the policy. --max-claim and/or --max-use set one or both
(the other is kept) and print the new policy. Either way the vault is unlocked,
like other admin commands. A change affects only grants issued after it: grants
already issued keep the windows they were issued with.

Example, for weekend-long renders:
  farmvault grant-policy --max-use 72h
  farmvault grant shotgun/render_farm --claim-within 72h --use-for 60h --label job-4711")]
pub struct GrantPolicyArgs {
    /// Set the longest claim-by window `grant --claim-within` may ask for (e.g. 14d).
    #[arg(long, value_name = "DUR", value_parser = parse_limit)]
    pub max_claim: Option<Duration>,
    /// Set the longest use window `grant --use-for` may ask for (e.g. 72h).
    #[arg(long, value_name = "DUR", value_parser = parse_limit)]
    pub max_use: Option<Duration>,
    /// Print JSON: {"max_claim_secs", "max_use_secs"}.
    #[arg(long)]
    pub json: bool,
}

/// A grant-policy limit: a duration, as `grant` parses its windows, of whole
/// seconds (the vault stores seconds) and above zero (an unusable limit).
fn parse_limit(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err("a limit must be longer than zero: it would refuse every grant".into());
    }
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "{text:?} is not a whole number of seconds: limits are kept in seconds"
        ));
    }
    let ceiling = farmvault::GrantPolicy::MAX_LIMIT_SECS;
    if d.as_secs() > ceiling {
        return Err(format!(
            "a limit may be at most {}d: a grant cannot be recalled",
            ceiling / 86_400
        ));
    }
    Ok(d)
}

/// `grant-policy [--max-claim DUR] [--max-use DUR] [--json]`.
pub fn run(g: &Global, a: &GrantPolicyArgs) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let old = vault.grant_policy()?;
    let new = GrantPolicy {
        max_claim_secs: a.max_claim.map_or(old.max_claim_secs, |d| d.as_secs()),
        max_use_secs: a.max_use.map_or(old.max_use_secs, |d| d.as_secs()),
    };
    let setting = a.max_claim.is_some() || a.max_use.is_some();
    if setting && new != old {
        vault.set_grant_policy(new)?;
    }
    drop(vault);
    if a.json {
        let v = serde_json::json!({
            "max_claim_secs": new.max_claim_secs,
            "max_use_secs": new.max_use_secs,
        });
        write_out(v.to_string().as_bytes(), false)?;
    } else {
        write_out(policy_text(&new).as_bytes(), true)?;
    }
    if setting && !g.quiet {
        eprintln!("{}", change_note(&old, &new));
    }
    Ok(OK)
}

/// The two lines `grant-policy` prints.
fn policy_text(p: &GrantPolicy) -> String {
    format!(
        "max claim-by window: {:<18} caps `grant --claim-within`\n\
         max use window:      {:<18} caps `grant --use-for`\n",
        with_secs(p.max_claim_secs),
        with_secs(p.max_use_secs),
    )
}

/// `72h (259200 s)`.
fn with_secs(secs: u64) -> String {
    format!("{} ({secs} s)", exact(secs))
}

/// What a change did, on stderr.
fn change_note(old: &GrantPolicy, new: &GrantPolicy) -> String {
    if old == new {
        return "grant policy unchanged (it already had these limits)".into();
    }
    let mut was = Vec::new();
    if old.max_claim_secs != new.max_claim_secs {
        was.push(format!(
            "max claim-by window was {}",
            exact(old.max_claim_secs)
        ));
    }
    if old.max_use_secs != new.max_use_secs {
        was.push(format!("max use window was {}", exact(old.max_use_secs)));
    }
    format!(
        "grant policy changed ({}). It applies to grants issued from now on; \
         grants already issued keep their windows.",
        was.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_limits_are_whole_nonzero_seconds() {
        assert_eq!(parse_limit("72h").unwrap(), Duration::from_secs(259_200));
        for bad in ["0s", "0h", "1500ms", "500ms", "banana", "72"] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_names_both_limits_and_the_flags_they_cap() {
        let t = policy_text(&GrantPolicy::default());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2, "{t}");
        assert!(lines[0].starts_with("max claim-by window: 7d (604800 s)"));
        assert!(lines[0].ends_with("`grant --claim-within`"));
        assert!(lines[1].starts_with("max use window:      24h (86400 s)"));
        assert!(lines[1].ends_with("`grant --use-for`"));
    }

    #[test]
    fn the_change_note_says_what_it_was_and_that_issued_grants_keep_theirs() {
        let old = GrantPolicy::default();
        let new = GrantPolicy {
            max_use_secs: 259_200,
            ..old
        };
        let n = change_note(&old, &new);
        assert!(n.contains("max use window was 24h"), "{n}");
        assert!(!n.contains("claim-by"), "{n}");
        assert!(
            n.contains("grants already issued keep their windows"),
            "{n}"
        );
        assert!(change_note(&old, &old).contains("unchanged"));
    }
}
