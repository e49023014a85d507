//! The options every command takes (`Global`), the `--json`-only options two
//! commands share, and the text `farmvault --help` ends with. Each command's
//! own options are in its file under `commands/`.

use crate::duration::parse_duration;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

pub const AFTER_HELP: &str = "\
Vault path: --vault, else FARMVAULT_PATH, else the per-user data directory
($XDG_DATA_HOME/farmvault/vault or ~/.local/share/farmvault/vault; macOS:
~/Library/Application Support/farmvault/vault; Windows: %APPDATA%\\farmvault\\vault).

Unlock: --key-file / FARMVAULT_KEY_FILE (32 random bytes), else
--passphrase-file / FARMVAULT_PASSPHRASE_FILE (a file holding the passphrase; one
trailing newline is stripped), else a hidden prompt on the terminal. A passphrase
is never taken from the command line or from a plain environment variable:
FARMVAULT_PASSPHRASE is refused. Key files, passphrase files, farm identities
and the vault directory must be yours, not accessible by group or others (chmod
600 / chmod 700) and not symbolic links, and the vault directory not in a folder
every user may write to without the sticky bit, unless --insecure-permissions;
`init` refuses up front whatever the next command would refuse. Without a
terminal, `passwd` reads the new passphrase from FARMVAULT_NEW_PASSPHRASE_FILE
and `rotate --keep-passphrase` the passphrase to keep from
FARMVAULT_KEEP_PASSPHRASE_FILE.

Secrets are read from stdin or a hidden prompt, never from arguments: at most
1 MiB (plus one trailing newline), refused at once beyond that. `get`,
`export-sgtk` and `grant` refuse to print a secret (or a grant token) to a
terminal unless --reveal (before asking for a passphrase); pipes are fine.
Names, hosts and logins may not hold control or bidi characters; text output
escapes them in entries stored earlier, --json keeps them exact. `put --host`
takes an https:// URL without user:password@ (http:// with --allow-http).
`exec` removes every variable that unlocks a vault or a grant from the child's
environment unless `--pass-env VAR` names it.

Job grants: `grant` issues one (the token on stdout, nothing else there);
`get`, `list` and `exec` read through one instead of the vault when --grant /
FARMVAULT_GRANT_FILE names a bundle, opened by the token in FARMVAULT_GRANT_TOKEN
(or the variable --token-env names; never an argument) and/or the farm identity
--identity / FARMVAULT_IDENTITY (mode 0600, checked like key files). The first
open on a machine starts the grant's use window and is recorded in --state-dir /
FARMVAULT_STATE_DIR, else $XDG_STATE_HOME/farmvault/grants or
~/.local/state/farmvault/grants: set one for jobs that run without HOME.
`grant-policy` shows or changes the vault's caps on a grant's two windows.

Output: data (secrets, tokens, tables, JSON) on stdout and nothing else;
confirmations and warnings on stderr (--quiet drops confirmations).

JSON (--json, on every command but exec, whose output is its child's, and
completions / man-page): stable shapes, fields only ever added; times as unix
seconds (`expires`) and RFC 3339 UTC (`expires_at`); absent values are null.
  entry metadata: {name, kind, host, created, created_at, updated, updated_at,
                   expires, expires_at, expired}
  list:   {now, now_at, entries: [metadata...]}
  get:    metadata + {fields: {host, api_script, api_key, login, session_token,
          session_metadata, password, http_proxy | app_id, profile, access_token,
          refresh_token | secret, secret_encoding}} by kind (tank_context: its user's
          fields + tank_context, tank_context_encoding);
          with --field: {name, field, value, encoding}
  check:  {now, now_at, ok, expired: [...], expiring: [...], damaged: [ids]}
  put, import-sgtk, renew: metadata    rm: {removed}    purge: {purged}
  init:   {vault, unlock: passphrase|key_file, key_file, generated_key_file}
  passwd: {vault, keyslots: [{id, kind}...]}    rotate: {vault, entries, keyslots}
  key-file add|remove: {vault, key_file, action: added|removed, keyslots}
  export-sgtk: {name, kind, value, encoding}
  compact: {entries, bytes_before, bytes_after}
  backup FILE: {file, entries}
  backup --verify, restore: {entries, snapshot_items, journal_frames,
          ignored_journal_bytes, journal_skipped, moved_aside}
  repair: {repaired} + the same when it repaired
  import-session-cache: {imported: [names], removed: [{site, file, tokens}]}
  import-flow-tokens: {file, imported: [names], skipped: [{app_id, profile, reason}],
          removed}
  grant record: {id, label, issuer, created, created_at, claim_by, claim_by_at,
          use_window_secs, ends_by, ends_by_at, host_pattern, access, recipients,
          entry_count, entries}   (entries: null from a bundle's header)
  grant:  grant record + {path, token}    grant-info: grant record + {path, authenticated}
  grants: {now, now_at, grants: [grant record...]}
  grant-policy: {max_claim_secs, max_use_secs}
  farm-keygen: {identity, public_key}
  agent status: {socket, pid, vault, unlocked, unlocked_until, idle_secs, clients,
          requests, protocol}    agent lock|unlock|stop: {socket, agent}
  agent start: {socket}

Testing only: FARMVAULT_INSECURE_KDF_FOR_TESTS=1 (or --insecure-kdf-for-tests)
makes init/passwd use trivially weak Argon2id costs so test suites run fast. It
is for tests; never use it for a vault that holds real credentials. Every
command that opens a vault with such a passphrase slot warns once on stderr.
";

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

    /// Accept key files, passphrase files, farm identities and vault directories that other users could read or replace (another user's, open to group or others, symbolic links).
    #[arg(long, global = true)]
    pub insecure_permissions: bool,

    /// Use a vault on a network filesystem (NFS, SMB, sshfs): refused by default, because locks, fsync and rename there do not keep it safe; only for a vault used from one host at a time.
    #[arg(long, global = true, env = "FARMVAULT_ALLOW_NETWORK_FILESYSTEM")]
    pub allow_network_filesystem: bool,

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

    // Last: clap interleaves globals with each command's own options by index,
    // so one added here leaves every other option where its help had it.
    /// Record a job grant's first open on this machine in this directory (get, list, exec with --grant; default: the per-user state directory).
    #[arg(long, global = true, env = "FARMVAULT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// Commands whose only option is `--json`.
#[derive(Args, Debug)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
