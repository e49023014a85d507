//! `farmvault grant`: issues a job grant, a bundle file of the named entries,
//! read-only and expiring. (The job side reads through `get`, `list` and `exec`
//! with `--grant`; see `source`.)
//!
//! `grant` prints the token, and only the token, on stdout, so a submit script
//! can take it with `TOKEN=$(farmvault grant …)`; the bundle's path and a
//! summary go to stderr. The token is a secret: like `get`, `grant` refuses to
//! print it to a terminal unless --reveal, and checks that before issuing, so
//! a refusal leaves no grant behind.

use crate::args::Global;
use crate::duration::{exact, human, parse_duration};
use crate::error::{CliError, EXISTS, NOT_FOUND, OK};
use crate::output::{self, access_phrase, printable, GrantJson, GrantWith};
use crate::perms::refuse_existing;
use crate::print::{guard_terminal, write_out};
use crate::source::{GRANT_FILE_ENV, IDENTITY_ENV, TOKEN_ENV};
use crate::unlock;
use clap::Args;
use farmvault::grant::{self, GrantInfo, GrantSpec};
use farmvault::{Error, GrantPolicy, Kind, UnixTime, Vault};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// `grant`.
#[derive(Args, Debug)]
pub struct GrantArgs {
    /// Entries to grant: exact names, or prefixes ending in `/` for every live entry under them.
    #[arg(required = true, value_name = "NAME|PREFIX/")]
    pub entries: Vec<String>,
    /// The job must first open the grant within this (e.g. 72h: its time in the queue).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub claim_within: Duration,
    /// How long it reads after its first open on a machine (e.g. 4h).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub use_for: Duration,
    /// The job's name or id (stored in the clear: no secrets in it).
    #[arg(long, value_name = "JOB")]
    pub label: String,
    /// Only machines whose hostname matches this glob (`render*`; `*` and `?`) may open it.
    #[arg(long, value_name = "PATTERN")]
    pub hosts: Option<String>,
    /// A farm public key (age1…) or a file of them, one a line; repeatable.
    #[arg(long = "to", value_name = "FILE|age1…")]
    pub to: Vec<String>,
    /// Need the token and a farm identity together to open it.
    #[arg(long, requires = "to")]
    pub require_both: bool,
    /// Issue no token: only a farm identity opens it.
    #[arg(long, requires = "to", conflicts_with = "require_both")]
    pub no_token: bool,
    /// Where to write the bundle; never overwritten. Default: ./<label>.fvgrant.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print JSON (with the token) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Allow printing the token to a terminal.
    #[arg(long)]
    pub reveal: bool,
}

/// The extension of the bundles `grant` names by default.
const BUNDLE_EXT: &str = "fvgrant";

/// `--to` values: recipients files (one `age1…` a line) and literal public keys.
fn recipients(to: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for t in to {
        let t = t.trim();
        if Path::new(t).is_file() {
            out.extend(grant::read_recipients_file(t)?);
        } else if t.starts_with("age1") {
            // Checked by the core when the grant is issued.
            out.push(t.to_owned());
        } else if t.starts_with("AGE-SECRET-KEY-") {
            return Err(CliError::usage(
                "--to was given a farm identity (a secret key), not its public key",
                "it may now be in your shell history and process list: make a new identity with `farmvault farm-keygen` and pass the age1… key it prints",
            ));
        } else {
            return Err(CliError::usage(
                format!("--to {t:?} is neither a recipients file nor a farm public key (age1…)"),
                "pass the age1… key `farmvault farm-keygen` printed, or a file of them, one a line",
            ));
        }
    }
    Ok(out)
}

/// `./<label>.fvgrant`, or `./<label>-2.fvgrant` and so on when taken: never an existing file.
fn default_out(label: &str) -> Result<PathBuf, CliError> {
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let stem = match safe.trim_start_matches('.') {
        "" => "grant",
        s => s,
    };
    for n in 1..1000 {
        let name = match n {
            1 => format!("{stem}.{BUNDLE_EXT}"),
            n => format!("{stem}-{n}.{BUNDLE_EXT}"),
        };
        let path = Path::new(".").join(name);
        // symlink_metadata: a dangling link counts as taken too.
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(path);
        }
    }
    Err(CliError::new(
        EXISTS,
        format!("./{stem}.{BUNDLE_EXT} and 998 numbered variants already exist"),
        "choose a path with --out",
    ))
}

/// Errors of issuing: a prefix with nothing live under it is said as such, and
/// a window over the vault's policy names the command that raises the limit
/// (the core's message cannot: it does not know the CLI).
fn issue_error(e: Error, vault: &Vault, a: &GrantArgs) -> CliError {
    match e {
        Error::NotFound { name } if name.ends_with('/') => CliError::new(
            NOT_FOUND,
            format!("no live entry under {name:?}"),
            "check the prefix with `farmvault list PREFIX`",
        ),
        // The core checks the label first: only a message about a window is the policy's.
        Error::InvalidArgument(msg) if msg.contains("window") => match raise_hint(vault, a) {
            Some(hint) => CliError::usage(msg, hint),
            None => Error::InvalidArgument(msg).into(),
        },
        other => other.into(),
    }
}

/// Whole seconds, rounded up, as the core measures a requested window.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

/// When `grant` was refused because a window is over the policy, the command
/// that would raise the limit; `None` when the policy is not why (or unreadable).
fn raise_hint(vault: &Vault, a: &GrantArgs) -> Option<String> {
    let p = vault.grant_policy().ok()?;
    let claim = ceil_secs(a.claim_within);
    let use_for = ceil_secs(a.use_for);
    let ceiling = GrantPolicy::MAX_LIMIT_SECS;
    if claim > ceiling || use_for > ceiling {
        return Some(format!(
            "no grant window can be longer than {}: ask for less",
            exact(ceiling)
        ));
    }
    let mut flags = String::new();
    if claim > p.max_claim_secs {
        flags += &format!(" --max-claim {}", exact(claim));
    }
    if use_for > p.max_use_secs {
        flags += &format!(" --max-use {}", exact(use_for));
    }
    (!flags.is_empty()).then(|| {
        format!(
            "`farmvault grant-policy{flags}` raises the limit for grants issued from then on; \
             `farmvault grant-policy` shows it"
        )
    })
}

/// A use window longer than this, on a credential that does not expire by
/// itself, gets a warning.
const LONG_USE: Duration = Duration::from_secs(4 * 3600);

/// The warning for a grant that packs a script key or a login and password (valid
/// at the server until someone revokes them) for more than [`LONG_USE`]:
/// whoever holds the bundle and its token can use them for the whole window,
/// where a session token would expire at the server by itself.
fn long_lived_warning(vault: &Vault, a: &GrantArgs) -> Option<String> {
    if a.use_for <= LONG_USE {
        return None;
    }
    let mut names = Vec::new();
    for sel in &a.entries {
        let metas = if sel.ends_with('/') {
            vault.list(sel).unwrap_or_default()
        } else {
            vault.metadata(sel).into_iter().collect()
        };
        names.extend(
            metas
                .into_iter()
                .filter(|m| matches!(m.kind, Kind::ScriptKey | Kind::LoginPassword))
                .map(|m| m.name),
        );
    }
    let first = names.first()?;
    Some(format!(
        "farmvault: warning: this grant holds {} long-lived credential(s) ({}{}), usable for its whole {} use window by whoever has the bundle and its token; a session token expires at the server by itself: grant one instead, or a --use-for of {} or less",
        names.len(),
        printable(first),
        if names.len() > 1 { ", ..." } else { "" },
        human(a.use_for.as_secs()),
        human(LONG_USE.as_secs()),
    ))
}

/// `grant NAME|PREFIX/... --claim-within DUR --use-for DUR --label JOB`.
pub fn run(g: &Global, a: &GrantArgs) -> Result<i32, CliError> {
    if !a.no_token {
        // Before anything is issued: a refused token must not leave a grant behind.
        guard_terminal(a.reveal, "a grant token")?;
    }
    for name in &a.entries {
        farmvault::validate_name(name)?;
    }
    let recipients = recipients(&a.to)?;
    let out = match &a.out {
        Some(p) => {
            refuse_existing(
                p,
                "farmvault never overwrites a grant bundle: choose another --out",
            )?;
            p.clone()
        }
        None => default_out(&a.label)?,
    };
    let mut spec = GrantSpec::new(&out, &a.label)
        .entries(a.entries.iter().cloned())
        .claim_within(a.claim_within)
        .use_for(a.use_for)
        .token(!a.no_token)
        .require_both(a.require_both);
    if let Some(h) = &a.hosts {
        spec = spec.hosts(h);
    }
    for r in recipients {
        spec = spec.recipient(r);
    }
    let vault = unlock::open(g)?;
    let issued = vault.grant(&spec).map_err(|e| issue_error(e, &vault, a))?;
    if let Some(w) = long_lived_warning(&vault, a) {
        eprintln!("{w}");
    }
    let now = vault.now();
    drop(vault);
    // Absolute: the submit script hands it to a job that runs elsewhere.
    let path = std::path::absolute(&issued.path).unwrap_or_else(|_| issued.path.clone());

    let token = issued.token.as_ref().map(|t| t.expose());
    if a.json {
        #[derive(Serialize)]
        struct Issued<'a> {
            path: String,
            token: Option<&'a str>,
        }
        let out = GrantWith {
            grant: GrantJson::new(&issued.info),
            extra: Issued {
                path: path.display().to_string(),
                token,
            },
        };
        let text = Zeroizing::new(serde_json::to_string(&out).expect("a grant serialises"));
        write_out(text.as_bytes(), false)?;
    } else if let Some(t) = token {
        write_out(t.as_bytes(), false)?;
    }
    if !g.quiet {
        eprintln!("{}", issue_summary(&issued.info, &path, now));
    }
    Ok(OK)
}

/// What `grant` says on stderr.
fn issue_summary(i: &GrantInfo, path: &Path, now: UnixTime) -> String {
    let names = i.entries.as_deref().unwrap_or_default().join(", ");
    let mut s = format!(
        "issued grant {} {:?}: {} entr{} ({names}); opens with {}\n",
        i.id,
        i.label,
        i.entry_count,
        if i.entry_count == 1 { "y" } else { "ies" },
        access_phrase(i),
    );
    s += &format!(
        "bundle: {} (no secret in the clear; give the job its path as {GRANT_FILE_ENV})\n",
        path.display()
    );
    if let Some(k) = &i.signer {
        s += &format!(
            "signed by this vault's issuer key {k} (nodes that pin it take only its grants)\n"
        );
    }
    s += &format!(
        "claim by {}, then {} from the first open on a machine; never reads after {}; hosts: {}\n",
        output::when(now, i.claim_by),
        crate::duration::human(i.use_window.as_secs()),
        output::rfc3339(i.latest_end().0),
        i.host_pattern.as_deref().unwrap_or("any"),
    );
    if i.access.has_token_lock() {
        s += &format!(
            "the token is on stdout: give it to the job as {TOKEN_ENV}, never on a command line. "
        );
    }
    if i.access.has_recipient_lock() {
        s += &format!("Render nodes open it with their farm identity ({IDENTITY_ENV}). ");
    }
    s += "An opened grant cannot be taken back: `farmvault grant-revoke` stops later opens; \
          to cut the credential off at once, revoke it at the site.";
    s
}
