//! The command line, as clap (derive) parses it.

use crate::duration::{parse_duration, parse_ttl, Ttl};
use clap::{Args, Parser, Subcommand, ValueEnum};
use farmvault::Field;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

const AFTER_HELP: &str = "\
Vault path: --vault, else FARMVAULT_PATH, else the per-user data directory
($XDG_DATA_HOME/farmvault/vault or ~/.local/share/farmvault/vault; macOS:
~/Library/Application Support/farmvault/vault; Windows: %APPDATA%\\farmvault\\vault).

Unlock: --key-file / FARMVAULT_KEY_FILE (32 random bytes), else
--passphrase-file / FARMVAULT_PASSPHRASE_FILE (a file holding the passphrase; one
trailing newline is stripped), else a hidden prompt on the terminal. A passphrase
is never taken from the command line or from a plain environment variable:
FARMVAULT_PASSPHRASE is refused. Key files, passphrase files, farm identities
and the vault directory must not be accessible by group or others (chmod 600 /
chmod 700), unless --insecure-permissions. Without a terminal, `passwd` reads the new
passphrase from FARMVAULT_NEW_PASSPHRASE_FILE and `rotate --keep-passphrase` the
passphrase to keep from FARMVAULT_KEEP_PASSPHRASE_FILE.

Secrets are read from stdin or a hidden prompt, never from arguments. `get`,
`export-sgtk` and `grant` refuse to print a secret (or a grant token) to a
terminal unless --reveal; pipes are fine.

Job grants: `grant` issues one (the token on stdout, nothing else there);
`get`, `list` and `exec` read through one instead of the vault when --grant /
FARMVAULT_GRANT_FILE names a bundle, opened by the token in FARMVAULT_GRANT_TOKEN
(or the variable --token-env names; never an argument) and/or the farm identity
--identity / FARMVAULT_IDENTITY (mode 0600, checked like key files).
`grant-policy` shows or changes the vault's caps on a grant's two windows.

JSON (--json): stable shapes, fields only ever added; times as unix seconds
(`expires`) and RFC 3339 UTC (`expires_at`); absent values are null.
  entry metadata: {name, kind, host, created, created_at, updated, updated_at,
                   expires, expires_at, expired}
  list:   {now, now_at, entries: [metadata...]}
  get:    metadata + {fields: {host, api_script, api_key, login, session_token,
          session_metadata, password, http_proxy | secret, secret_encoding}} by kind;
          with --field: {name, field, value, encoding}
  check:  {now, now_at, ok, expired: [...], expiring: [...], damaged: [ids]}
  renew:  metadata          purge: {purged}
  import-session-cache: {imported: [names], removed: [{site, tokens}]}
  grant record: {id, label, issuer, created, created_at, claim_by, claim_by_at,
          use_window_secs, ends_by, ends_by_at, host_pattern, access, recipients,
          entry_count, entries}   (entries: null from a bundle's header)
  grant:  grant record + {path, token}    grant-info: grant record + {path, authenticated}
  grants: {now, now_at, grants: [grant record...]}
  grant-policy: {max_claim_secs, max_use_secs}
  farm-keygen: {identity, public_key}

Testing only: FARMVAULT_INSECURE_KDF_FOR_TESTS=1 (or --insecure-kdf-for-tests)
makes init/passwd use trivially weak Argon2id costs so test suites run fast. It
is for tests; never use it for a vault that holds real credentials.
";

/// farmvault: an encrypted, on-disk vault of production-tracking credentials
/// (script keys, session tokens) with per-entry expiry, for render farms.
#[derive(Parser, Debug)]
#[command(name = "farmvault", version, after_help = AFTER_HELP.to_owned() + "\n" + crate::error::HELP_TABLE)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The vault directory.
    #[arg(long, global = true, env = "FARMVAULT_PATH", value_name = "DIR")]
    pub vault: Option<PathBuf>,

    /// Unlock with this key file (32 bytes) instead of a passphrase.
    #[arg(long, global = true, env = "FARMVAULT_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,

    /// Read the passphrase from this file (one trailing newline stripped).
    #[arg(
        long,
        global = true,
        env = "FARMVAULT_PASSPHRASE_FILE",
        value_name = "PATH"
    )]
    pub passphrase_file: Option<PathBuf>,

    /// Accept key files, passphrase files, farm identities and vault directories that group or others can access.
    #[arg(long, global = true)]
    pub insecure_permissions: bool,

    /// How long to wait for another process holding the vault.
    #[arg(long, global = true, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    /// FOR TESTS ONLY: weak Argon2id costs for new passphrase slots, so test suites are fast.
    #[arg(
        long,
        global = true,
        env = "FARMVAULT_INSECURE_KDF_FOR_TESTS",
        value_parser = clap::builder::FalseyValueParser::new(),
        hide_short_help = true
    )]
    pub insecure_kdf_for_tests: bool,

    /// Print only data and errors, no confirmations.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a vault (passphrase prompted twice, or --key-file); never overwrites one.
    Init(InitArgs),
    /// Store a secret read from stdin or a hidden prompt (never from arguments).
    Put(PutArgs),
    /// Print an entry's secret or one field to stdout (not to a terminal unless --reveal).
    Get(GetArgs),
    /// List entries: name, kind, host, created, expiry. Never secrets.
    List(ListArgs),
    /// Remove an entry.
    Rm(NameArg),
    /// Set a new TTL on an entry, counted from now.
    Renew(RenewArgs),
    /// Remove every expired entry; prints how many.
    Purge(JsonArg),
    /// Change the passphrase (new one prompted twice, or FARMVAULT_NEW_PASSPHRASE_FILE).
    Passwd,
    /// Add or remove a key-file keyslot.
    #[command(subcommand)]
    KeyFile(KeyFileCommand),
    /// Replace the data key and re-encrypt every entry.
    Rotate(RotateArgs),
    /// Store what tk-core's serialize_user writes (JSON or pickle), or a TANK_CONTEXT, read from stdin.
    ImportSgtk(ImportSgtkArgs),
    /// Print an entry as the JSON tk-core's deserialize_user accepts (not to a terminal unless --reveal).
    ExportSgtk(ExportSgtkArgs),
    /// Move session tokens out of tk-core's plaintext authentication.yml files into the vault.
    ImportSessionCache(ImportSessionCacheArgs),
    /// Run a command with secrets in its environment only; exits with its status.
    Exec(ExecArgs),
    /// Exit 0 when no entry is expired or expiring, 1 otherwise (list on stderr).
    Check(CheckArgs),
    /// Issue a job grant: a bundle file of the named entries, read-only and expiring; prints its token.
    Grant(GrantArgs),
    /// Show a grant bundle's clear header (no key needed, no secrets; not authenticated).
    GrantInfo(GrantInfoArgs),
    /// List the grants this vault issued (never their tokens).
    Grants(JsonArg),
    /// Show or change the vault's caps on grant windows (default caps: 7d to claim, 24h of use).
    GrantPolicy(GrantPolicyArgs),
    /// Create a farm identity file (0600) and print its public key for `grant --to`.
    FarmKeygen(FarmKeygenArgs),
    /// Write an encrypted backup of the whole vault to FILE (0600, never overwrites); or --verify the vault's own.
    Backup(BackupArgs),
    /// Create the vault at --vault from a backup FILE; unlock with a key valid when the backup was written.
    Restore(RestoreArgs),
    /// Rebuild a vault whose storage will not open from the backup it keeps of itself.
    Repair(RepairArgs),
}

/// `backup`.
#[derive(Args, Debug)]
#[command(after_help = "\
Every vault also keeps a backup of itself (backup.fvbk and journal.fvjl in the
vault directory), brought up to date by every durable write; `farmvault repair`
uses it. `backup FILE` writes a copy elsewhere, for a disk that may fail: it is
as encrypted as the vault (names blinded, records sealed, the data key wrapped
by the keyslots of the moment), so it needs a passphrase or key file that opened
the vault when it was written.")]
pub struct BackupArgs {
    /// Where to write the backup.
    #[arg(required_unless_present = "verify", conflicts_with = "verify")]
    pub file: Option<PathBuf>,
    /// Instead: read the vault's own backup as a repair would and check it matches the store.
    #[arg(long)]
    pub verify: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `restore`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A backup written by `farmvault backup FILE`.
    pub file: PathBuf,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `repair`.
#[derive(Args, Debug)]
#[command(after_help = "\
When the storage will not open (exit 7, \"storage is damaged\"), repair reads
the vault's own backup, checks it with your passphrase or key file, moves the
damaged storage files into a damaged-<time> folder of the vault directory (they
hold only encrypted data: delete the folder once the vault works) and rebuilds
the storage. Every write acknowledged before the damage is kept. A vault that
opens is left alone unless --force.")]
pub struct RepairArgs {
    /// Rebuild even when the storage opens (e.g. to restore entries `check` reports damaged).
    #[arg(long)]
    pub force: bool,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Generate the --key-file (32 random bytes, mode 0600) instead of reading it; never overwrites.
    #[arg(long, requires = "key_file")]
    pub generate_key_file: bool,
}

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
    /// Site URL (script_key, session_token, login_password).
    #[arg(long)]
    pub host: Option<String>,
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
}

/// Where `get`, `list` and `exec` read from instead of the vault: a job grant.
#[derive(Args, Debug, Clone)]
pub struct GrantSource {
    /// Read through this grant bundle instead of the vault.
    #[arg(long = "grant", env = "FARMVAULT_GRANT_FILE", value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// The environment variable holding the grant's token (never the token itself).
    #[arg(long, value_name = "VAR", requires = "bundle")]
    pub token_env: Option<String>,
    /// A farm identity file that opens the grant (mode 0600).
    #[arg(long, env = "FARMVAULT_IDENTITY", value_name = "PATH")]
    pub identity: Option<PathBuf>,
}

/// `get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// Entry name.
    pub name: String,
    /// Read through a job grant.
    #[command(flatten)]
    pub source: GrantSource,
    /// Print one field: host, login, api_script (script_name), api_key, session_token,
    /// session_metadata, http_proxy, password, secret. Default: the main secret.
    #[arg(long, value_parser = parse_field)]
    pub field: Option<Field>,
    /// Print JSON (see --help of farmvault).
    #[arg(long)]
    pub json: bool,
    /// Allow printing a secret to a terminal.
    #[arg(long)]
    pub reveal: bool,
    /// No newline after the value.
    #[arg(short = 'n', long)]
    pub no_newline: bool,
}

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

/// A command taking only an entry name.
#[derive(Args, Debug)]
pub struct NameArg {
    /// Entry name.
    pub name: String,
}

/// `renew`.
#[derive(Args, Debug)]
pub struct RenewArgs {
    /// Entry name.
    pub name: String,
    /// New time to live from now, or `none`.
    #[arg(long, value_name = "DUR|none", value_parser = parse_ttl)]
    pub ttl: Ttl,
    /// Print the entry's metadata as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Commands whose only option is `--json`.
#[derive(Args, Debug)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `key-file`.
#[derive(Subcommand, Debug)]
pub enum KeyFileCommand {
    /// Add a keyslot opened by the key file at PATH.
    Add {
        /// The key file.
        path: PathBuf,
        /// Generate PATH (32 random bytes, mode 0600) first; never overwrites.
        #[arg(long)]
        generate: bool,
    },
    /// Remove the keyslot the key file at PATH opens (not the last one).
    Remove {
        /// The key file.
        path: PathBuf,
    },
}

/// `rotate`.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// Key files of other keyslots to keep (rewrapped under the new data key).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub keep_key_file: Vec<PathBuf>,
    /// Keep the passphrase slot too when unlocking with a key file (passphrase from
    /// FARMVAULT_KEEP_PASSPHRASE_FILE or a prompt).
    #[arg(long)]
    pub keep_passphrase: bool,
    /// Drop keyslots that cannot be rewrapped instead of refusing.
    #[arg(long)]
    pub drop_other_slots: bool,
}

/// `import-sgtk`.
#[derive(Args, Debug)]
pub struct ImportSgtkArgs {
    /// Entry name to store it under.
    pub name: String,
    /// Time to live or `none`. Default: 24h for session users, none for script users.
    #[arg(long, value_name = "DUR|none", value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
}

/// `export-sgtk`.
#[derive(Args, Debug)]
pub struct ExportSgtkArgs {
    /// Entry name.
    pub name: String,
    /// Allow printing it (it holds a secret) to a terminal.
    #[arg(long)]
    pub reveal: bool,
}

/// `import-session-cache`.
#[derive(Args, Debug)]
pub struct ImportSessionCacheArgs {
    /// tk-core's cache root. Default: $SHOTGUN_HOME, else the platform's (~/.shotgun on Linux).
    #[arg(long, value_name = "DIR")]
    pub shotgun_home: Option<PathBuf>,
    /// Remove the imported tokens from authentication.yml once they are safely in the vault.
    #[arg(long)]
    pub remove: bool,
    /// Entry names are PREFIX<site>/<login>.
    #[arg(long, default_value = "shotgun/")]
    pub prefix: String,
    /// Time to live of the imported tokens, or `none`.
    #[arg(long, value_name = "DUR|none", default_value = "24h", value_parser = parse_ttl)]
    pub ttl: Ttl,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `exec`.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// VAR=NAME[:field]: put entry NAME's field (default: its main secret) in VAR. Repeatable.
    #[arg(long = "env", value_name = "VAR=NAME[:field]", value_parser = parse_env_spec, required = true)]
    pub env: Vec<EnvSpec>,
    /// Read through a job grant.
    #[command(flatten)]
    pub source: GrantSource,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

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

/// `grant-info`.
#[derive(Args, Debug)]
pub struct GrantInfoArgs {
    /// The grant bundle.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

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

/// `farm-keygen`.
#[derive(Args, Debug)]
pub struct FarmKeygenArgs {
    /// Where to write the new identity file (mode 0600); never overwritten.
    #[arg(long, value_name = "PATH")]
    pub identity: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One `--env` of `exec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvSpec {
    /// The variable.
    pub var: String,
    /// The entry.
    pub name: String,
    /// The field; `None` for the main secret.
    pub field: Option<Field>,
}

fn parse_field(s: &str) -> Result<Field, String> {
    s.parse::<Field>().map_err(|e| match e {
        farmvault::Error::InvalidArgument(m) => m,
        other => other.to_string(),
    })
}

/// `VAR=NAME[:field]`. A `:suffix` that is not a field name belongs to the entry name.
pub fn parse_env_spec(s: &str) -> Result<EnvSpec, String> {
    let (var, target) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not VAR=NAME[:field]"))?;
    let valid_var = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_var {
        return Err(format!(
            "{var:?} is not an environment variable name (letters, digits, _)"
        ));
    }
    let (name, field) = match target.rsplit_once(':') {
        Some((name, f)) if !name.is_empty() => match f.parse::<Field>() {
            Ok(field) => (name, Some(field)),
            Err(_) => (target, None),
        },
        _ => (target, None),
    };
    if name.is_empty() {
        return Err(format!("{s:?} names no entry"));
    }
    Ok(EnvSpec {
        var: var.to_owned(),
        name: name.to_owned(),
        field,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn policy_limits_are_whole_nonzero_seconds() {
        assert_eq!(parse_limit("72h").unwrap(), Duration::from_secs(259_200));
        for bad in ["0s", "0h", "1500ms", "500ms", "banana", "72"] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_specs() {
        let e = parse_env_spec("SG_KEY=shotgun/farm:api_key").unwrap();
        assert_eq!(
            (e.var.as_str(), e.name.as_str(), e.field),
            ("SG_KEY", "shotgun/farm", Some(Field::ApiKey))
        );
        let e = parse_env_spec("X=a:b:host").unwrap();
        assert_eq!((e.name.as_str(), e.field), ("a:b", Some(Field::Host)));
        let e = parse_env_spec("X=tok").unwrap();
        assert_eq!((e.name.as_str(), e.field), ("tok", None));
        let e = parse_env_spec("X=ns:thing").unwrap();
        assert_eq!((e.name.as_str(), e.field), ("ns:thing", None));
        for bad in ["X", "=a", "1X=a", "X-Y=a", "X="] {
            assert!(parse_env_spec(bad).is_err(), "{bad}");
        }
    }
}
