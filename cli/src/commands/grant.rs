//! grant, grant-info, grants, farm-keygen: job grants from the issuing side.
//! (The job side reads through `get`, `list` and `exec` with `--grant`; see `source`.)
//!
//! `grant` prints the token, and only the token, on stdout, so a submit script
//! can take it with `TOKEN=$(farmvault grant …)`; the bundle's path and a
//! summary go to stderr. The token is a secret: like `get`, `grant` refuses to
//! print it to a terminal unless --reveal, and checks that before issuing, so
//! a refusal leaves no grant behind.

use crate::args::{FarmKeygenArgs, Global, GrantArgs, GrantInfoArgs};
use crate::duration::exact;
use crate::error::{grant_error, CliError, EXISTS, NOT_FOUND, OK};
use crate::output::{self, access_phrase, printable, GrantJson, GrantWith, GrantsJson};
use crate::perms::refuse_existing;
use crate::source::{GRANT_FILE_ENV, IDENTITY_ENV, TOKEN_ENV};
use crate::stdout::{guard_terminal, write_out};
use crate::unlock;
use farmvault::grant::{self, GrantInfo, GrantSpec};
use farmvault::{Error, GrantPolicy, UnixTime, Vault};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

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

/// `grant NAME|PREFIX/... --claim-within DUR --use-for DUR --label JOB`.
pub fn grant(g: &Global, a: &GrantArgs) -> Result<i32, CliError> {
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
    s += "Grants cannot be recalled: to cut one off early, revoke the credential at the site.";
    s
}

/// `grant-info FILE`: the clear header, no key needed.
pub fn grant_info(a: &GrantInfoArgs) -> Result<i32, CliError> {
    let info = grant::read_info(&a.file).map_err(|e| grant_error(e, &a.file, None))?;
    if a.json {
        #[derive(Serialize)]
        struct Header {
            path: String,
            authenticated: bool,
        }
        let out = GrantWith {
            grant: GrantJson::new(&info),
            extra: Header {
                path: a.file.display().to_string(),
                authenticated: false,
            },
        };
        write_out(
            serde_json::to_string(&out)
                .expect("a grant serialises")
                .as_bytes(),
            false,
        )?;
        return Ok(OK);
    }
    let now = farmvault::Clock::now(&farmvault::SystemClock);
    let rows = [
        ("grant", info.id.to_hex()),
        ("label", printable(&info.label)),
        (
            "issuer vault",
            info.issuer.iter().map(|b| format!("{b:02x}")).collect(),
        ),
        ("created", output::when(now, info.created)),
        ("claim by", output::when(now, info.claim_by)),
        (
            "use window",
            format!(
                "{} from the first open on a machine",
                crate::duration::human(info.use_window.as_secs())
            ),
        ),
        (
            "ends by",
            format!("{} at the latest", output::when(now, info.latest_end())),
        ),
        (
            "hosts",
            info.host_pattern.clone().unwrap_or_else(|| "any".into()),
        ),
        ("opens with", access_phrase(&info)),
        (
            "entries",
            format!("{} (names are sealed in the bundle)", info.entry_count),
        ),
        (
            "authenticated",
            "no: this is the bundle's clear header, read without a key; opening the grant checks it"
                .into(),
        ),
    ];
    let text: String = rows.iter().map(|(k, v)| format!("{k:<14} {v}\n")).collect();
    write_out(text.as_bytes(), true)?;
    Ok(OK)
}

/// `grants`: what this vault issued, never a token.
pub fn grants(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let now = vault.now();
    let list = vault.list_grants()?;
    if json {
        let out = GrantsJson {
            now: now.0,
            now_at: output::rfc3339(now.0),
            grants: list.iter().map(GrantJson::new).collect(),
        };
        write_out(
            serde_json::to_string(&out)
                .expect("grants serialise")
                .as_bytes(),
            false,
        )?;
    } else if list.is_empty() {
        if !g.quiet {
            eprintln!("no grants");
        }
    } else {
        write_out(output::grants_table(&list, now).as_bytes(), true)?;
    }
    Ok(OK)
}

/// `farm-keygen --identity PATH`: a new farm identity (0600), its public key on stdout.
pub fn farm_keygen(g: &Global, a: &FarmKeygenArgs) -> Result<i32, CliError> {
    refuse_existing(
        &a.identity,
        "farmvault never overwrites a farm identity: choose another --identity path",
    )?;
    let public = grant::generate_farm_identity(&a.identity)?;
    if a.json {
        let v = serde_json::json!({
            "identity": a.identity.display().to_string(),
            "public_key": public,
        });
        write_out(v.to_string().as_bytes(), false)?;
    } else {
        write_out(public.as_bytes(), false)?;
    }
    if !g.quiet {
        eprintln!(
            "wrote farm identity {} (mode 0600): put it on each render node's local disk, keep it 0600 and point {IDENTITY_ENV} at it; \
             the public key (stdout) goes to `farmvault grant --to`",
            a.identity.display()
        );
    }
    Ok(OK)
}
