//! The subcommands, one file each. `Command` is their table, in the order
//! `farmvault --help` lists them; `run` hands each to its file.

#[cfg(unix)]
mod agent;
#[cfg(unix)]
mod agent_node;
mod audit;
mod backup;
mod check;
mod compact;
mod completions;
mod exec;
mod export_sgtk;
mod farm_keygen;
mod get;
mod grant;
mod grant_info;
mod grant_issuer;
mod grant_policy;
mod grant_revoke;
mod grants;
mod import_flow_tokens;
mod import_session_cache;
mod import_sgtk;
mod init;
mod key_file;
mod list;
mod man_page;
mod passwd;
mod purge;
mod put;
mod renew;
mod repair;
mod restore;
mod rm;
mod rotate;

use crate::args::{Global, JsonArg};
use crate::error::CliError;
use clap::Subcommand;

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a vault (passphrase prompted twice, or --key-file); never overwrites one.
    Init(init::InitArgs),
    /// Store a secret read from stdin or a hidden prompt (never from arguments).
    Put(put::PutArgs),
    /// Print an entry's secret or one field to stdout (not to a terminal unless --reveal).
    ///
    /// An expired entry exits 4 for every reader and stays in the vault (a read never
    /// removes anything) until `purge` removes it or `put` replaces it.
    Get(get::GetArgs),
    /// List entries: name, kind, host, created, expiry. Never secrets.
    ///
    /// Expired entries are listed, marked EXPIRED ("expired": true in JSON), until
    /// `purge` removes them; `get` of one exits 4.
    List(list::ListArgs),
    /// Remove an entry.
    Rm(rm::RmArgs),
    /// Set a new TTL on an entry, counted from now.
    ///
    /// Extends a live entry only: an expired one exits 4 and is left as it was
    /// (its secret is stale; store a fresh one with `put`).
    Renew(renew::RenewArgs),
    /// Remove every expired entry; prints how many.
    ///
    /// The only command that removes entries because they expired: reads report
    /// them (exit 4) and leave them in place.
    Purge(JsonArg),
    /// Rewrite the vault with its live entries only, giving back the space of removed ones.
    ///
    /// Entries, keys and keyslots are unchanged; a crash at any point leaves the
    /// vault as it was before or after. `purge` runs it by itself after removing
    /// at least 1,000 entries and at least as many as remain.
    Compact(JsonArg),
    /// Change the passphrase (new one prompted twice, or FARMVAULT_NEW_PASSPHRASE_FILE).
    Passwd(JsonArg),
    /// Add or remove a key-file keyslot.
    #[command(subcommand)]
    KeyFile(key_file::KeyFileCommand),
    /// Replace the data key and re-encrypt every entry.
    Rotate(rotate::RotateArgs),
    /// Store what tk-core serialized, read from stdin: a user (serialize_user) or a TANK_CONTEXT (Context.serialize), JSON or pickle.
    ///
    /// A user and a context are told apart by the keys of the dict they hold, not by
    /// searching the text. Stdin is read as bytes: UTF-8 text, or a pickle's raw bytes
    /// (tk-core's text written out as ISO-8859-1); one trailing newline is stripped, and
    /// a UTF-8 byte order mark before JSON is skipped. A context is stored whole, as a
    /// tank_context entry that export-sgtk prints back byte for byte; --user-only
    /// stores only its user.
    ImportSgtk(import_sgtk::ImportSgtkArgs),
    /// Print an entry as tk-core reads it (not to a terminal unless --reveal).
    ///
    /// A script_key or session_token: the JSON tk-core's deserialize_user accepts
    /// (serialize_user(user, use_json=True), byte for byte). A tank_context: the
    /// context exactly as it was imported, in its form (JSON, pickle text, or a
    /// pickle's raw bytes). A flow_token: adsk_flow_tokens.json holding that
    /// application and profile. One newline follows unless --no-newline, which gives
    /// the exact bytes.
    ExportSgtk(export_sgtk::ExportSgtkArgs),
    /// Move session tokens out of tk-core's plaintext authentication.yml files into the vault.
    ///
    /// --remove then sets each imported user's session_token to null and replaces a
    /// non-empty session_metadata (SSO cookie data, now in the vault) with
    /// "moved-to-farmvault", so that tk-core caches the metadata of that user's next
    /// SSO login over it; every other key, user and file is kept. --json prints
    /// {imported: [names], removed: [{site, file, tokens}]}.
    ImportSessionCache(import_session_cache::ImportSessionCacheArgs),
    /// Move tk-core 0.24's Flow OAuth tokens out of its plaintext adsk_flow_tokens.json into the vault.
    ///
    /// Each application and profile becomes a flow_token entry PREFIX<app_id>/<profile>
    /// that expires when its access token does (the JWT's exp). A profile whose access
    /// token has expired, has no readable exp, or is missing is skipped and stays in
    /// the file. --remove then deletes the imported profiles from the file as tk-core
    /// does (its other keys, applications and profiles keep their bytes).
    ImportFlowTokens(import_flow_tokens::ImportFlowTokensArgs),
    /// Run a command with secrets in its environment only; exits with its status.
    Exec(exec::ExecArgs),
    /// Exit 0 when no entry is expired or expiring, 1 otherwise (list on stderr).
    Check(check::CheckArgs),
    /// Issue a job grant: a bundle file of the named entries, read-only and expiring; prints its token.
    Grant(grant::GrantArgs),
    /// Show a grant bundle's clear header and who signed it (no key needed, no secrets).
    GrantInfo(grant_info::GrantInfoArgs),
    /// Print the vault's grant issuer public key (fvi1_…), for render nodes to pin.
    GrantIssuer(grant_issuer::GrantIssuerArgs),
    /// List the grants this vault issued (never their tokens).
    Grants(JsonArg),
    /// Show or change the vault's caps on grant windows (default caps: 7d to claim, 24h of use).
    GrantPolicy(grant_policy::GrantPolicyArgs),
    /// Revoke grants this vault issued: add them to its signed revocation list beside the bundles.
    GrantRevoke(grant_revoke::GrantRevokeArgs),
    /// Create a farm identity file (0600) and print its public key for `grant --to`.
    FarmKeygen(farm_keygen::FarmKeygenArgs),
    /// Write an encrypted backup of the whole vault to FILE (0600, never overwrites); or --verify the vault's own.
    Backup(backup::BackupArgs),
    /// Create the vault at --vault from a backup FILE; unlock with a key valid when the backup was written.
    Restore(restore::RestoreArgs),
    /// Rebuild a vault whose storage will not open from the backup it keeps of itself.
    Repair(repair::RepairArgs),
    /// Share one unlocked vault with this user's other processes: start, status, lock, unlock, stop.
    ///
    /// Commands reach the agent when FARMVAULT_AGENT names its socket and no
    /// --key-file or --passphrase-file is given: no prompt, no Argon2 per command.
    /// Key changes, rotation, compaction, backups and grants need the vault itself:
    /// stop the agent first.
    #[cfg(unix)]
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Print the agent's audit log (who read or changed which entry, when); --verify checks it.
    ///
    /// Every get, put, rm, renew, batch and purge that went through an agent, and its
    /// starts, unlocks, locks and stops, with the asking process's uid, pid and
    /// executable; never a secret. Read through the agent when FARMVAULT_AGENT names
    /// one, else by opening the vault (its key MACs the log). Exit 7 when a line was
    /// edited, removed or reordered, or the log was truncated; the lines before the
    /// damage still print. docs/AGENT.md says what is recorded and when it is durable.
    Audit(audit::AuditArgs),
    /// Print the completion script of a shell (bash, zsh, fish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into DIR.
    ManPage(man_page::ManPageArgs),
}

/// Runs `command`; returns the exit status.
pub fn run(g: &Global, command: Command) -> Result<i32, CliError> {
    match command {
        Command::Init(a) => init::run(g, &a),
        Command::Put(a) => put::run(g, a),
        Command::Get(a) => get::run(g, &a),
        Command::List(a) => list::run(g, &a),
        Command::Rm(a) => rm::run(g, &a),
        Command::Renew(a) => renew::run(g, &a),
        Command::Purge(a) => purge::run(g, a.json),
        Command::Compact(a) => compact::run(g, a.json),
        Command::Check(a) => check::run(g, &a),
        Command::Passwd(a) => passwd::run(g, a.json),
        Command::KeyFile(c) => key_file::run(g, c),
        Command::Rotate(a) => rotate::run(g, &a),
        Command::ImportSgtk(a) => import_sgtk::run(g, &a),
        Command::ExportSgtk(a) => export_sgtk::run(g, &a),
        Command::ImportSessionCache(a) => import_session_cache::run(g, &a),
        Command::ImportFlowTokens(a) => import_flow_tokens::run(g, &a),
        Command::Exec(a) => exec::run(g, a),
        Command::Grant(a) => grant::run(g, &a),
        Command::GrantInfo(a) => grant_info::run(&a),
        Command::GrantIssuer(a) => grant_issuer::run(g, &a),
        Command::Grants(a) => grants::run(g, a.json),
        Command::GrantPolicy(a) => grant_policy::run(g, &a),
        Command::GrantRevoke(a) => grant_revoke::run(g, &a),
        Command::FarmKeygen(a) => farm_keygen::run(g, &a),
        Command::Backup(a) => backup::run(g, &a),
        Command::Restore(a) => restore::run(g, &a),
        Command::Repair(a) => repair::run(g, &a),
        #[cfg(unix)]
        Command::Agent(c) => agent::run(g, c),
        Command::Audit(a) => audit::run(g, &a),
        Command::Completions(a) => completions::run(&a),
        Command::ManPage(a) => man_page::run(g, &a),
    }
}
