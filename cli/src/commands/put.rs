//! `farmvault put NAME`: stores a secret read from stdin or a hidden prompt,
//! never from arguments (every user sees those in the process list), typed by
//! `--kind` with the kind's other fields from flags.

use crate::args::Global;
use crate::duration::{default_ttl, parse_ttl, Ttl};
use crate::error::{CliError, INSECURE, OK};
use crate::output::{expiry_phrase, MetaJson};
use crate::print::{emit, say};
use crate::{prompt, unlock};
use clap::{Args, ValueEnum};
use farmvault::{
    Credential, Kind, LoginPassword, PutOptions, ScriptKey, SecretBytes, SecretString, SessionToken,
};
use std::ffi::OsString;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Credential kinds, as `--kind` spells them.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum KindArg {
    /// Opaque bytes.
    Opaque,
    /// An API script key (--host, --script-name).
    ScriptKey,
    /// A user session token (--host, --login).
    SessionToken,
    /// A login and password (--host, --login).
    LoginPassword,
}

/// `put`.
#[derive(Args, Debug)]
pub struct PutArgs {
    /// Entry name, e.g. shotgun/render_farm.
    pub name: String,
    /// Refused: secrets never go on the command line.
    #[arg(hide = true, num_args = 0..)]
    pub stray: Vec<OsString>,
    /// Credential kind.
    #[arg(long, value_enum, default_value = "opaque")]
    pub kind: KindArg,
    /// Site URL (script_key, session_token, login_password): https://, without user:password@.
    #[arg(long)]
    pub host: Option<String>,
    /// Accept an http:// --host, whose credential then crosses the network in clear.
    #[arg(long, requires = "host")]
    pub allow_http: bool,
    /// User login (session_token, login_password).
    #[arg(long)]
    pub login: Option<String>,
    /// API script name (script_key).
    #[arg(long)]
    pub script_name: Option<String>,
    /// HTTP proxy `host[:port]`; one with credentials (`user:pass@`) must come from --http-proxy-file.
    #[arg(long, conflicts_with = "http_proxy_file")]
    pub http_proxy: Option<String>,
    /// Read the HTTP proxy (which may hold credentials) from this file.
    #[arg(long, value_name = "PATH")]
    pub http_proxy_file: Option<PathBuf>,
    /// Read tk-core's session metadata (session_token) from this file.
    #[arg(long, value_name = "PATH")]
    pub session_metadata_file: Option<PathBuf>,
    /// Time to live (90s, 15m, 8h, 7d, 1h30m) or `none`. Default: 24h for session tokens, none otherwise.
    #[arg(long, value_name = "DUR|none", value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
    /// Keep a trailing newline of the secret read from stdin (it is stripped by default).
    #[arg(long)]
    pub keep_newline: bool,
    /// Print the stored entry's metadata as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

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
                format!("{flag} does not apply to --kind {kind}"),
                "drop it, or choose the right --kind",
            ));
        }
        if !given && needs.contains(&kind) {
            return Err(CliError::usage(
                format!("--kind {kind} needs {flag}"),
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
        Some(path) => Ok(Some(prompt::read_secret_file(
            path,
            "proxy file",
            g.insecure_permissions,
        )?)),
        None => Ok(None),
    }
}

/// `put NAME`.
pub fn run(g: &Global, a: PutArgs) -> Result<i32, CliError> {
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
    if let Some(host) = a.host.as_deref().filter(|h| !h.is_empty()) {
        farmvault::check_host(host, a.allow_http)?;
    }
    let proxy = proxy_of(g, &a)?;
    let metadata = match &a.session_metadata_file {
        Some(path) => Some(prompt::read_secret_file(
            path,
            "session metadata file",
            g.insecure_permissions,
        )?),
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
    if a.json {
        emit(
            serde_json::to_string(&MetaJson::new(&meta, vault.now())).expect("metadata serialises"),
        )?;
        return Ok(OK);
    }
    say(
        g,
        format!(
            "stored {} ({kind}); it {}",
            a.name,
            expiry_phrase(vault.now(), meta.expires)
        ),
    )?;
    Ok(OK)
}
