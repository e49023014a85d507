//! grant-policy: the vault's caps on the two clocks of every job grant.
//!
//! stdout is the policy and nothing else, in the same shape whether it was
//! only read or just changed, so a script can parse either; the note that a
//! change reaches only later grants goes to stderr (unless --quiet), like
//! `grant`'s summary.

use crate::args::{Global, GrantPolicyArgs};
use crate::duration::exact;
use crate::error::{CliError, OK};
use crate::stdout::write_out;
use crate::unlock;
use farmvault::GrantPolicy;

/// `grant-policy [--max-claim DUR] [--max-use DUR] [--json]`.
pub fn grant_policy(g: &Global, a: &GrantPolicyArgs) -> Result<i32, CliError> {
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
