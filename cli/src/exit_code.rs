//! Exit statuses of `farmvault`, and the one-line error every failure becomes.
//!
//! The numbers are part of the command line's interface (scripts branch on them):
//! never renumber, only add.

use farmvault::Error;
use std::fmt;

/// Success.
pub const OK: i32 = 0;
/// `check` found expired or expiring entries; or a failure with no code of its own.
pub const FAILURE: i32 = 1;
/// Usage: a bad flag, argument, duration, field or name (clap's code too). Also a
/// job grant whose host pattern this machine's hostname does not match
/// (`Error::HostNotAllowed`): like a bad argument, the job was sent to the wrong place.
pub const USAGE: i32 = 2;
/// No entry of that name, or the entry has no such field.
pub const NOT_FOUND: i32 = 3;
/// The entry's TTL has run out (it has been removed): refresh it. Also a job
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
/// Refused as insecure: loose file modes, a passphrase in a plain environment
/// variable, a secret about to be printed to a terminal.
pub const INSECURE: i32 = 8;
/// An operating-system I/O error (missing file, no space, no permission).
pub const IO: i32 = 9;
/// There is no vault at the path.
pub const NO_VAULT: i32 = 10;
/// Refused to overwrite: a vault, key file, grant bundle or farm identity already exists there.
pub const EXISTS: i32 = 11;
/// `exec`: the command was found but could not be run.
pub const EXEC_CANNOT_RUN: i32 = 126;
/// `exec`: the command was not found.
pub const EXEC_NOT_FOUND: i32 = 127;

/// The table printed at the end of `--help`.
pub const HELP_TABLE: &str = "\
Exit status:
  0    ok
  1    check: something is expired or expiring; other failures
  2    usage: bad flag, argument, duration, field or entry name;
       or this host does not match the grant's host pattern
  3    no such entry, or the entry has no such field
  4    the entry has expired (and was removed): store a fresh one;
       or the grant is past its claim-by deadline or use window
  5    wrong passphrase or key file; or the grant's token / farm identity
  6    the vault is locked by another process (see --lock-timeout)
  7    tampered or corrupt entry, vault or grant bundle (check: a damaged entry)
  8    refused as insecure (file modes, FARMVAULT_PASSPHRASE, secret to a terminal)
  9    I/O error
  10   no vault at the path (farmvault init)
  11   refused to overwrite an existing vault, key file, grant bundle or identity
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
        CliError::new(
            code,
            format!("{context}: {e}"),
            "check that the path exists and that you may read and write it",
        )
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
                format!(
                    "entry {name:?} expired at {} and has been removed",
                    crate::output::rfc3339(expired_at)
                ),
                "store a fresh one with `farmvault put` or `farmvault import-sgtk`",
            ),
            Error::WrongKey { path } => CliError::new(
                WRONG_KEY,
                format!("wrong passphrase or key file for the vault at {}", path.display()),
                "check --key-file / FARMVAULT_KEY_FILE or FARMVAULT_PASSPHRASE_FILE, or retype the passphrase",
            ),
            // Grant opens go through `source::grant_error`; this keeps any other path to the same words.
            Error::WrongGrantKey { path } => crate::source::grant_error(Error::WrongGrantKey { path: path.clone() }, &path, None),
            Error::Tampered { entry } => CliError::new(
                CORRUPT,
                format!("entry {entry:?} failed authentication: it was modified or damaged on disk"),
                "remove it with `farmvault rm` and store it again; restore the vault from a backup if many entries are affected",
            ),
            Error::Corrupt { path, what } => CliError::new(
                CORRUPT,
                format!("the vault at {} is corrupt: {what}", path.display()),
                "restore the vault directory from a backup",
            ),
            Error::Locked { path, waited_ms } => CliError::new(
                LOCKED,
                format!(
                    "the vault at {} is in use by another process (waited {waited_ms} ms)",
                    path.display()
                ),
                "retry when that process is done, or wait longer with --lock-timeout",
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
                CliError::usage(msg, "see `farmvault <command> --help`")
            }
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

/// Exits with `code` after flushing stdout.
pub fn exit(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}
