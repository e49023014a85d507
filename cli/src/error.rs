//! Exit statuses of `farmvault`, and the one-line error every failure becomes,
//! with the status and words each library error maps to.
//!
//! The numbers are part of the command line's interface (scripts branch on them):
//! never renumber, only add.
//!
//! Every other module of the command line returns `CliError`, so this one uses
//! none of them: the variables and flags its messages name are written out, and
//! the RFC 3339 times they carry are formatted here (`output` prints times with
//! the same function).

use farmvault::Error;
use std::fmt;
use std::path::Path;

/// Success.
pub const OK: i32 = 0;
/// `check` found expired or expiring entries; or a failure with no code of its own.
pub const FAILURE: i32 = 1;
/// Usage: a bad flag, argument, duration, field or name (clap's code too). Also a
/// job grant whose host pattern this machine's hostname does not match
/// (`Error::HostNotAllowed`): like a bad argument, the job was sent to the wrong place.
/// And a job grant with no directory to record its first open in (no
/// `--state-dir`, `FARMVAULT_STATE_DIR` or home directory): the job's
/// environment lacks a setting, as with a missing token.
pub const USAGE: i32 = 2;
/// No entry of that name, or the entry has no such field.
pub const NOT_FOUND: i32 = 3;
/// The entry's TTL has run out (it stays until a purge; every read says so): refresh it. Also a job
/// grant past its claim-by deadline or use window.
pub const EXPIRED: i32 = 4;
/// The passphrase or key file does not open this vault; or the token or farm
/// identity does not open a job grant.
pub const WRONG_KEY: i32 = 5;
/// Another process holds the vault and did not release it in time.
pub const LOCKED: i32 = 6;
/// An entry or the vault failed authentication: tampered with or damaged
/// (`check` returns it when an entry is damaged).
pub const CORRUPT: i32 = 7;
/// Refused as insecure: a key, passphrase or identity file or a vault directory
/// another user could read or replace (`Error::Insecure`: its owner, its mode, a
/// symbolic link), a passphrase in a plain environment variable, a secret about
/// to be printed to a terminal.
pub const INSECURE: i32 = 8;
/// An operating-system I/O error (missing file, no space, no permission).
pub const IO: i32 = 9;
/// There is no vault at the path.
pub const NO_VAULT: i32 = 10;
/// Refused to overwrite: a vault, key file, grant bundle or farm identity already exists there.
pub const EXISTS: i32 = 11;
/// `exec`: the command was found but could not be run.
/// The farmvault agent cannot be reached: none at the socket, it stopped, or
/// it refused this process.
pub const AGENT: i32 = 12;
pub const EXEC_CANNOT_RUN: i32 = 126;
/// `exec`: the command was not found.
pub const EXEC_NOT_FOUND: i32 = 127;

/// Stands for the command that failed in hints written before it is known
/// (`From<Error>`); `main` puts the command's name in its place.
pub const THIS_COMMAND: &str = "farmvault <command>";

/// The table printed at the end of `--help`.
pub const HELP_TABLE: &str = "\
Exit status:
  0    ok
  1    check: something is expired or expiring; other failures
  2    usage: bad flag, argument, duration, field or entry name;
       or this host does not match the grant's host pattern;
       or no directory for the grant's state (--state-dir)
  3    no such entry, or the entry has no such field
  4    the entry has expired (it stays until `purge`): store a fresh one;
       or the grant is past its claim-by deadline or use window
  5    wrong passphrase or key file; or the grant's token / farm identity
  6    the vault is locked by another process (see --lock-timeout)
  7    tampered or corrupt entry, vault or grant bundle (check: a damaged entry)
  8    refused as insecure (another user's file or directory, loose modes, a
       symbolic link, FARMVAULT_PASSPHRASE, secret to a terminal)
  9    I/O error
  10   no vault at the path (farmvault init)
  11   refused to overwrite an existing vault, key file, grant bundle or identity
  12   the farmvault agent cannot be reached (none at FARMVAULT_AGENT, it
       stopped, or it refused this process)
  126  exec: the command could not be run
  127  exec: the command was not found
  exec otherwise exits with the child's own status.";

/// A failure: printed as `farmvault: <what> (<hint>)` on one line, exiting with `code`.
///
/// Neither field ever holds a secret: they are built from names, paths and
/// farmvault's own error messages, which never carry secret bytes.
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub code: i32,
    /// What was wrong.
    pub what: String,
    /// What to do about it.
    pub hint: String,
}

impl CliError {
    /// A failure with `code`.
    pub fn new(code: i32, what: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError {
            code,
            what: what.into(),
            hint: hint.into(),
        }
    }

    /// A usage error.
    pub fn usage(what: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError::new(USAGE, what, hint)
    }

    /// An I/O error while doing `context`.
    pub fn io(context: impl fmt::Display, e: &std::io::Error) -> CliError {
        let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
            EXISTS
        } else {
            IO
        };
        let hint = match e.kind() {
            // A full disk refuses a write before it changes anything stored;
            // sled's open writes too, so a read can meet it as well.
            std::io::ErrorKind::StorageFull => {
                "the disk is full: free some space and run the command again; what was stored before is kept"
            }
            _ => "check that the path exists and that you may read and write it",
        };
        CliError::new(code, format!("{context}: {e}"), hint)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, always: newlines in a message (from an OS error, a path) are flattened.
        let flat = |s: &str| s.replace(['\n', '\r'], " ");
        write!(f, "farmvault: {} ({})", flat(&self.what), flat(&self.hint))
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        match e {
            Error::NotFound { name } => CliError::new(
                NOT_FOUND,
                format!("no entry named {name:?}"),
                "check the name with `farmvault list`",
            ),
            Error::Expired { name, expired_at } => CliError::new(
                EXPIRED,
                format!("entry {name:?} expired at {}", rfc3339(expired_at)),
                "store a fresh one with `farmvault put` or `farmvault import-sgtk`; `farmvault purge` removes expired entries",
            ),
            Error::WrongKey { path } => CliError::new(
                WRONG_KEY,
                format!("wrong passphrase or key file for the vault at {}", path.display()),
                "check --key-file / FARMVAULT_KEY_FILE or --passphrase-file / FARMVAULT_PASSPHRASE_FILE, or retype the passphrase",
            ),
            // Grant opens go through `grant_error`; this keeps any other path to the same words.
            Error::WrongGrantKey { path } => grant_error(Error::WrongGrantKey { path: path.clone() }, &path, None),
            Error::Tampered { entry } => CliError::new(
                CORRUPT,
                format!("entry {entry:?} failed authentication: it was modified or damaged on disk"),
                "remove it with `farmvault rm` and store it again; restore the vault from a backup if many entries are affected",
            ),
            Error::UntrustedGrant { path, why } => untrusted_grant(&path.display().to_string(), &why),
            e @ Error::Revoked { .. } => revoked(&e),
            Error::Corrupt { path, what }
                if path.file_name() == Some(std::ffi::OsStr::new(farmvault::audit::LOG_FILE)) =>
            {
                CliError::new(
                    CORRUPT,
                    format!("{} (in {})", what, path.display()),
                    "keep a copy of audit.log and audit.head for whoever investigates; an agent starts again once both are moved aside",
                )
            }
            Error::Corrupt { path, what } => CliError::new(
                CORRUPT,
                format!("the vault at {} is corrupt: {what}", path.display()),
                "restore the vault directory from a backup",
            ),
            Error::Locked {
                path,
                waited_ms,
                holder,
            } => {
                let hint = match holder.as_ref().and_then(|h| h.agent.as_ref()) {
                    Some(socket) => format!(
                        "reach it through the agent (FARMVAULT_AGENT={} and no --key-file / --passphrase-file), or run `farmvault agent stop` first",
                        socket.display()
                    ),
                    None => "retry when that process is done, or wait longer with --lock-timeout".into(),
                };
                CliError::new(
                    LOCKED,
                    format!(
                        "the vault at {} is in use by {} (waited {waited_ms} ms)",
                        path.display(),
                        holder.map_or_else(|| "another process".to_owned(), |h| h.to_string())
                    ),
                    hint,
                )
            }
            e @ Error::AgentLocked { .. } => CliError::new(
                LOCKED,
                e.to_string(),
                "`farmvault agent unlock` asks for the passphrase on this terminal",
            ),
            e @ Error::HeldByAgent { .. } => CliError::new(
                LOCKED,
                e.to_string(),
                "`farmvault agent stop`, then the command with --key-file or --passphrase-file (or a prompt), then `farmvault agent start` again",
            ),
            e @ Error::Agent { .. } => CliError::new(
                AGENT,
                e.to_string(),
                "`farmvault agent status` says whether one runs; unset FARMVAULT_AGENT to open the vault directly",
            ),
            Error::NoVault { path } => CliError::new(
                NO_VAULT,
                format!("no vault at {}", path.display()),
                "create one with `farmvault init`, or point --vault / FARMVAULT_PATH at the right directory",
            ),
            Error::AlreadyExists { path } => CliError::new(
                EXISTS,
                format!("a vault already exists at {}", path.display()),
                "farmvault never overwrites a vault: choose another --vault path",
            ),
            Error::InvalidArgument(msg) => {
                CliError::usage(msg, format!("see `{THIS_COMMAND} --help`"))
            }
            Error::Insecure { what, fix, .. } => {
                CliError::new(INSECURE, what, format!("{fix}, or pass --insecure-permissions"))
            }
            e @ Error::NetworkFilesystem { .. } => CliError::new(
                INSECURE,
                e.to_string(),
                "use a vault on a local disk (--vault DIR or FARMVAULT_PATH), or pass --allow-network-filesystem for a vault used from one host \
                 at a time (docs/SECURITY.md says what it risks)",
            ),
            e @ Error::HostNotAllowed { .. } => CliError::usage(
                e.to_string(),
                "`farmvault grant-info FILE` shows the grant's host pattern",
            ),
            Error::ReadOnly(msg) => CliError::new(
                FAILURE,
                format!("not permitted: {msg}"),
                "use a handle that may write",
            ),
            Error::Io { context, source } => CliError::io(context, &source),
            other => CliError::new(FAILURE, other.to_string(), "see `farmvault --help`"),
        }
    }
}

/// The one-line error for a failure to open or read the grant at `bundle`;
/// `name` is the entry being read (`None` while opening).
pub fn grant_error(e: Error, bundle: &Path, name: Option<&str>) -> CliError {
    let shown = bundle.display();
    match e {
        Error::WrongGrantKey { .. } => CliError::new(
            WRONG_KEY,
            format!("the token or farm identity given does not open the grant {shown}"),
            "check FARMVAULT_GRANT_TOKEN (or --token-env) and --identity / FARMVAULT_IDENTITY; a grant issued with --require-both needs both",
        ),
        Error::Expired { name: n, expired_at } if name == Some(n.as_str()) => CliError::new(
            EXPIRED,
            format!(
                "entry {n:?} in the grant {shown} expired at {}, before the grant did",
                rfc3339(expired_at)
            ),
            "store a fresh value in the vault (or renew it there while it is live), then issue a new grant",
        ),
        Error::Expired { name: n, expired_at } => CliError::new(
            EXPIRED,
            format!(
                "{n} ({shown}) expired at {}: it was not opened on this machine before its claim-by deadline, or its use window is over",
                rfc3339(expired_at)
            ),
            "grants are never extended: issue a new one for the job",
        ),
        Error::NotFound { name: n } => CliError::new(
            NOT_FOUND,
            format!("the grant {shown} holds no entry named {n:?}"),
            "a grant reads only the entries it was issued for: `farmvault list --grant FILE` shows them",
        ),
        Error::Tampered { .. } => CliError::new(
            CORRUPT,
            format!("the grant {shown} failed authentication: it was modified or damaged after it was issued"),
            "issue the grant again",
        ),
        Error::UntrustedGrant { why, .. } => untrusted_grant(&shown.to_string(), &why),
        e @ Error::Revoked { .. } => revoked(&e),
        Error::Agent { socket, what } if farmvault::agent::node_agent_from_env().is_some() => CliError::new(
            AGENT,
            format!("the node agent at {}: {what}", socket.display()),
            format!(
                "`farmvault agent node` runs it (as its own user, with the farm identity); \
                 {} names its socket: unset it to open grants in this process",
                farmvault::agent::NODE_AGENT_ENV
            ),
        ),
        Error::Corrupt { path, what } if path == bundle => CliError::new(
            CORRUPT,
            format!("{shown} is not a readable grant bundle: {what}"),
            "check that --grant / FARMVAULT_GRANT_FILE names the file `farmvault grant` wrote; if it does, issue the grant again",
        ),
        Error::Corrupt { path, what } => CliError::new(
            CORRUPT,
            format!("{} is corrupt: {what}", path.display()),
            "remove it and open the grant again",
        ),
        e @ Error::HostNotAllowed { .. } => CliError::new(
            USAGE,
            e.to_string(),
            format!("`farmvault grant-info {shown}` shows the grant's host pattern"),
        ),
        Error::InvalidArgument(msg) if msg.starts_with(farmvault::grant::ISSUERS_ENV) => CliError::new(
            USAGE,
            format!("cannot open the grant {shown}: {msg}"),
            format!(
                "set {} to the fvi1_… keys `farmvault grant-issuer` prints, separated by commas, or unset it",
                farmvault::grant::ISSUERS_ENV
            ),
        ),
        Error::InvalidArgument(msg) if name.is_none() => CliError::new(
            USAGE,
            format!("cannot open the grant {shown}: {msg}"),
            "set FARMVAULT_GRANT_TOKEN to the fvg1_… token `farmvault grant` printed, or give the right farm identity",
        ),
        other => other.into(),
    }
}

/// The one-line error for a grant at `bundle` that has no directory to record
/// its first open in: neither `--state-dir` / `FARMVAULT_STATE_DIR` nor a home
/// directory is set, as in a job started with an empty environment.
pub fn no_state_dir(bundle: &Path) -> CliError {
    let home = if cfg!(windows) {
        "LOCALAPPDATA"
    } else {
        "HOME"
    };
    CliError::usage(
        format!(
            "cannot open the grant {}: there is no directory to record its first open on this \
             machine in (FARMVAULT_STATE_DIR is unset, no --state-dir is given, and {home} is unset)",
            bundle.display()
        ),
        // A fresh directory per job would start the use window again at every open.
        "set FARMVAULT_STATE_DIR or pass --state-dir DIR: a directory of this user's on this \
         machine that later jobs here use too",
    )
}

/// RFC 3339 in UTC, to the second: `2023-11-14T22:13:20Z`.
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Exits with `code` after flushing stdout.
pub fn exit(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

/// A revoked grant: the same exit code as an expired one (the remedy is the same).
fn revoked(e: &Error) -> CliError {
    CliError::new(
        EXPIRED,
        e.to_string(),
        "its issuer revoked it: ask for a new grant (`farmvault grant`)",
    )
}

/// A grant bundle whose issuer signature this machine does not take: the same
/// exit code as any other failed authentication.
fn untrusted_grant(shown: &str, why: &str) -> CliError {
    CliError::new(
        CORRUPT,
        format!("the grant {shown} is not from a trusted issuer: {why}"),
        "issue the grant from a vault this machine pins (`farmvault grant-issuer` prints its key; \
         pins come from /etc/farmvault/issuers and FARMVAULT_ISSUERS), or check which bundle the job was given",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }
}
