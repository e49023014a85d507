//! put, get, list, rm, renew, purge, check.

use crate::args::{CheckArgs, GetArgs, Global, KindArg, ListArgs, PutArgs, RenewArgs};
use crate::duration::default_ttl;
use crate::error::{CliError, CORRUPT, FAILURE, INSECURE, OK};
use crate::output::{self, CheckJson, ListJson, MetaJson};
use crate::source::{field_value, Source};
use crate::stdout::{emit, guard_terminal, say, write_out};
use crate::{prompt, unlock};
use farmvault::{
    Credential, EntryMeta, Field, Kind, LoginPassword, PutOptions, ScriptKey, SecretBytes,
    SecretString, SessionToken,
};
use std::time::Duration;
use zeroize::Zeroizing;

fn kind_of(k: KindArg) -> Kind {
    match k {
        KindArg::Opaque => Kind::Opaque,
        KindArg::ScriptKey => Kind::ScriptKey,
        KindArg::SessionToken => Kind::SessionToken,
        KindArg::LoginPassword => Kind::LoginPassword,
    }
}

/// Checks `put`'s typed-field flags against the kind: each flag is refused where
/// the kind has no such field and required where the kind cannot do without it.
fn check_flags(a: &PutArgs, kind: Kind) -> Result<(), CliError> {
    use Kind::{LoginPassword as Lp, ScriptKey as Sk, SessionToken as St};
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
    // (flag, given, kinds that take it, kinds that need it)
    let flags: [(&str, bool, &[Kind], &[Kind]); 5] = [
        ("--host", set(&a.host), &[Sk, St, Lp], &[Sk, St, Lp]),
        ("--login", set(&a.login), &[St, Lp], &[St, Lp]),
        ("--script-name", set(&a.script_name), &[Sk], &[Sk]),
        (
            "--http-proxy",
            a.http_proxy.is_some() || a.http_proxy_file.is_some(),
            &[Sk, St, Lp],
            &[],
        ),
        (
            "--session-metadata-file",
            a.session_metadata_file.is_some(),
            &[St],
            &[],
        ),
    ];
    for (flag, given, takes, needs) in flags {
        if given && !takes.contains(&kind) {
            return Err(CliError::usage(
                format!("{flag} does not apply to a {kind}"),
                "drop it, or choose the right --kind",
            ));
        }
        if !given && needs.contains(&kind) {
            return Err(CliError::usage(
                format!("a {kind} needs {flag}"),
                format!("add {flag} VALUE"),
            ));
        }
    }
    Ok(())
}

fn proxy_of(g: &Global, a: &PutArgs) -> Result<Option<SecretString>, CliError> {
    if let Some(p) = &a.http_proxy {
        if p.contains('@') {
            return Err(CliError::new(
                INSECURE,
                "--http-proxy holds credentials (user:pass@), which every user can see in the process list",
                "put the proxy in a file only you can read and pass --http-proxy-file PATH",
            ));
        }
        return Ok(Some(SecretString::from(p.as_str())));
    }
    match &a.http_proxy_file {
        Some(path) => {
            crate::perms::check_private_file(path, "proxy file", g.insecure_permissions)?;
            Ok(Some(prompt::read_secret_file(path, "proxy file")?))
        }
        None => Ok(None),
    }
}

/// `put NAME`.
pub fn put(g: &Global, a: PutArgs) -> Result<i32, CliError> {
    if !a.stray.is_empty() {
        return Err(CliError::usage(
            "put takes the secret on stdin or at a hidden prompt, never as an argument",
            "if that was a secret it may be in your shell history: change it, then pipe it: printf %s \"$SECRET\" | farmvault put NAME",
        ));
    }
    farmvault::validate_name(&a.name)?;
    let kind = kind_of(a.kind);
    // Check the flags before asking for anything.
    check_flags(&a, kind)?;
    let proxy = proxy_of(g, &a)?;
    let metadata = match &a.session_metadata_file {
        Some(path) => {
            crate::perms::check_private_file(
                path,
                "session metadata file",
                g.insecure_permissions,
            )?;
            Some(prompt::read_secret_file(path, "session metadata file")?)
        }
        None => None,
    };
    let vault = unlock::open(g)?;
    let label = match kind {
        Kind::ScriptKey => "API key",
        Kind::SessionToken => "Session token",
        Kind::LoginPassword => "Password",
        _ => "Secret",
    };
    let secret = prompt::secret_input(&format!("{label} for {}: ", a.name), a.keep_newline)?;
    let text = || prompt::text(Zeroizing::new(secret.to_vec()), "the secret");
    let host = a.host.clone().unwrap_or_default();
    let credential = match kind {
        Kind::ScriptKey => Credential::ScriptKey(ScriptKey {
            host,
            script_name: a.script_name.clone().unwrap_or_default(),
            api_key: text()?,
            http_proxy: proxy,
        }),
        Kind::SessionToken => Credential::SessionToken(SessionToken {
            host,
            login: a.login.clone().unwrap_or_default(),
            session_token: text()?,
            http_proxy: proxy,
            session_metadata: metadata,
        }),
        Kind::LoginPassword => Credential::LoginPassword(LoginPassword {
            host,
            login: a.login.clone().unwrap_or_default(),
            password: text()?,
            http_proxy: proxy,
        }),
        _ => Credential::Opaque(SecretBytes::from_slice(&secret)),
    };
    let ttl = default_ttl(kind, a.ttl);
    let mut options = PutOptions::new();
    options.ttl = ttl;
    vault.put_credential(&a.name, &credential, &options)?;
    let meta = vault.metadata(&a.name)?;
    say(
        g,
        format!(
            "stored {} ({kind}); it {}",
            a.name,
            output::expiry_phrase(vault.now(), meta.expires)
        ),
    )?;
    Ok(OK)
}

/// `get NAME`, from the vault or through a grant.
pub fn get(g: &Global, a: &GetArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    let source = Source::open(g, &a.source)?;
    let entry = source.get(&a.name)?;
    let now = source.now();
    match (a.json, a.field) {
        (true, None) => {
            guard_terminal(a.reveal, "a secret")?;
            let text = output::entry_json(&entry.meta, &entry.credential, now);
            write_out(text.as_bytes(), a.no_newline)?;
        }
        (json, field) => {
            let field = field.unwrap_or(Field::Secret);
            let value = field_value(&a.name, &entry.credential, field)?;
            if field.is_secret() {
                guard_terminal(a.reveal, "a secret")?;
            }
            if json {
                let (text, encoding) = output::text_of(value);
                let v = serde_json::json!({
                    "name": a.name,
                    "field": field.as_str(),
                    "value": text.as_str(),
                    "encoding": encoding,
                });
                let out = Zeroizing::new(v.to_string());
                output::wipe_value(v);
                write_out(out.as_bytes(), a.no_newline)?;
            } else {
                write_out(value, a.no_newline)?;
            }
        }
    }
    Ok(OK)
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
pub fn list(g: &Global, a: &ListArgs) -> Result<i32, CliError> {
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

/// `rm NAME`.
pub fn rm(g: &Global, name: &str) -> Result<i32, CliError> {
    farmvault::validate_name(name)?;
    let vault = unlock::open(g)?;
    vault.delete(name)?;
    say(g, format!("removed {name}"))?;
    Ok(OK)
}

/// `renew NAME --ttl DUR`.
pub fn renew(g: &Global, a: &RenewArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    let vault = unlock::open(g)?;
    let meta = vault.renew(&a.name, a.ttl.as_option())?;
    let now = vault.now();
    if a.json {
        emit(serde_json::to_string(&MetaJson::new(&meta, now)).expect("metadata serialises"))?;
    } else {
        say(
            g,
            format!(
                "renewed {}; it {}",
                a.name,
                output::expiry_phrase(now, meta.expires)
            ),
        )?;
    }
    Ok(OK)
}

/// `purge`.
pub fn purge(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let n = vault.purge_expired()?;
    if json {
        emit(serde_json::json!({ "purged": n }).to_string())?;
    } else {
        // The count is the command's output: printed even with --quiet.
        emit(format!(
            "purged {n} expired entr{}",
            if n == 1 { "y" } else { "ies" }
        ))?;
    }
    Ok(OK)
}

/// `check [--expiring-within DUR]`.
pub fn check(g: &Global, a: &CheckArgs) -> Result<i32, CliError> {
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
            eprintln!("{label}: {} ({}, {when})", m.name, m.kind);
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
