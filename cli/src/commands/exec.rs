//! `exec --env VAR=NAME[:field] ... -- COMMAND ARGS`: secrets into a child's
//! environment only, the way `op run` and `vault agent` do it.
//!
//! Every secret is read (and the vault closed) before the command starts; an
//! expired or missing entry stops here, before the job runs half-equipped.
//! Secrets go into the child's environment block only, never its arguments;
//! with `--files`, into files of a private directory (`private_dir`) removed
//! when the child exits, instead. The child inherits no variable that unlocks anything
//! (`UNLOCK_VARS`: key file, passphrase files, a grant's bundle, token and farm
//! identity, and the `--token-env` variable) unless `--pass-env VAR` names it:
//! it gets the secrets it was given, not the means to open the vault or grant.
//!
//! With `--grant` / FARMVAULT_GRANT_FILE the values come from a job grant
//! instead of the vault (see `source`): what a farm job runs.
//!
//! Output masking (`supervise`, `mask`): every secret value given to the
//! child (the fields that are secrets; not a host, login or script name) is
//! replaced by `***` in its stdout and stderr as they stream through. On by
//! default for each of the two that is not a terminal (a farm job's log, a
//! pipe, a file: where a printed secret would stay), off for a terminal (an
//! interactive program keeps its terminal); `--mask` masks both, `--no-mask`
//! neither.
//!
//! With nothing to mask, on Unix, farmvault replaces itself with the command
//! (execvp): the child has farmvault's pid, receives signals directly, and
//! its exit status is the status; no farmvault process stays around holding
//! secrets. It inherits the soft core-file limit of 0 (it may raise it).
//! Otherwise farmvault runs the command as a supervised child and exits as it
//! does (`supervise`).

use crate::args::Global;
use crate::error::{CliError, EXEC_CANNOT_RUN, EXEC_NOT_FOUND, NOT_FOUND};
use crate::private_dir::PrivateDir;
use crate::sgtk_home::SgtkHome;
use crate::source::{self, GrantSource, Source};
use crate::supervise::{self, Masked};
use crate::unlock;
use clap::Args;
use farmvault::Field;
use std::ffi::OsString;
use std::process::Command;
use zeroize::Zeroizing;

/// `exec`.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// VAR=NAME[:field]: put entry NAME's field (default: its main secret) in VAR. Repeatable, each VAR once.
    /// In NAME, `\:` is a colon that is part of the name and `\\` a backslash:
    /// `X=a\:host` is the entry "a:host", `X=a:host` the field host of entry "a".
    #[arg(long = "env", value_name = "VAR=NAME[:field]", value_parser = parse_env_spec, required_unless_present = "env_file")]
    pub env: Vec<EnvSpec>,
    /// Read more VAR=NAME[:field] lines, with --env's grammar, from FILE: one per
    /// line; blank lines and lines starting with # are skipped. A job's whole
    /// environment in one reviewed file. Repeatable.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Read through a job grant.
    #[command(flatten)]
    pub source: GrantSource,
    /// Let the child inherit VAR, one of the variables that unlock a vault or a
    /// grant (FARMVAULT_KEY_FILE, FARMVAULT_PASSPHRASE_FILE, FARMVAULT_NEW_PASSPHRASE_FILE,
    /// FARMVAULT_KEEP_PASSPHRASE_FILE, FARMVAULT_GRANT_FILE, FARMVAULT_GRANT_TOKEN,
    /// FARMVAULT_IDENTITY, the --token-env variable), which are otherwise removed. Repeatable.
    #[arg(long = "pass-env", value_name = "VAR")]
    pub pass_env: Vec<String>,
    /// Replace every secret value given to the command by *** in its stdout and
    /// stderr, also on a terminal. Default: each of the two that is not a
    /// terminal is masked (a job log, a pipe, a file).
    #[arg(long, conflicts_with = "no_mask")]
    pub mask: bool,
    /// Pass the command's output through unmasked, and replace farmvault with the
    /// command (no supervising process).
    #[arg(long)]
    pub no_mask: bool,
    /// Give the command a private SHOTGUN_HOME (0700, on tmpfs where there is one)
    /// for the Toolkit's session cache, wiped when it exits; session tokens
    /// tk-core renewed there come back into the entries they came from.
    #[arg(long)]
    pub sgtk_home: bool,
    /// Deliver the secrets as files instead of variables: each VAR becomes the file
    /// $FARMVAULT_CREDENTIALS_DIRECTORY/VAR (0400) in a fresh private directory
    /// (0700, on tmpfs where there is one), removed when the command exits.
    #[arg(long, conflicts_with = "fd")]
    pub files: bool,
    /// Deliver each secret in a sealed memory file the command inherits (Linux):
    /// VAR holds its path, /dev/fd/N, which any program can open. Nothing touches
    /// a filesystem, and nothing outlives the command.
    #[cfg(target_os = "linux")]
    #[arg(long)]
    pub fd: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
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

/// `VAR=NAME[:field]`. The field follows the last `:` that is not escaped; a
/// suffix that is not a field name belongs to the entry name. `\:` in NAME is
/// a colon of the name, `\\` a backslash.
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
    let (name, field) = match last_unescaped_colon(target) {
        Some(i) if i > 0 => match target[i + 1..].parse::<Field>() {
            Ok(field) => (&target[..i], Some(field)),
            Err(_) => (target, None),
        },
        _ => (target, None),
    };
    let name = unescape(name).ok_or_else(|| {
        format!(
            "{s:?}: a backslash in NAME must be followed by : or \\ (\\: is a colon of the name)"
        )
    })?;
    if name.is_empty() {
        return Err(format!("{s:?} names no entry"));
    }
    Ok(EnvSpec {
        var: var.to_owned(),
        name,
        field,
    })
}

/// Where the last `:` that no backslash escapes is.
fn last_unescaped_colon(s: &str) -> Option<usize> {
    let mut last = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ':' => last = Some(i),
            _ => {}
        }
    }
    last
}

/// `\:` to `:` and `\\` to `\`; `None` for any other backslash.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ (':' | '\\')) => out.push(e),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The specs of an `--env-file`: one per line, `#` comments and blank lines
/// skipped; a bad line is named by its number (its text may name a secret's
/// entry, never a secret, but the number is enough).
fn read_env_file(path: &std::path::Path) -> Result<Vec<EnvSpec>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("reading --env-file {}", path.display()), &e))?;
    let mut specs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        specs.push(parse_env_spec(line).map_err(|e| {
            CliError::usage(
                format!("{} line {}: {e}", path.display(), n + 1),
                "each line is VAR=NAME[:field], as --env takes",
            )
        })?);
    }
    Ok(specs)
}

/// Variables the child does not inherit (besides the `--token-env` one): every
/// one that unlocks a vault or a grant, or names what does.
const UNLOCK_VARS: [&str; 8] = [
    "FARMVAULT_KEY_FILE",
    "FARMVAULT_PASSPHRASE_FILE",
    unlock::PLAIN_PASSPHRASE_ENV,
    unlock::NEW_PASSPHRASE_FILE_ENV,
    unlock::KEEP_PASSPHRASE_FILE_ENV,
    source::GRANT_FILE_ENV,
    source::TOKEN_ENV,
    source::IDENTITY_ENV,
];

/// Runs the command; returns only on failure to start it (Unix) or with its status.
pub fn run(g: &Global, mut a: ExecArgs) -> Result<i32, CliError> {
    for file in &a.env_file {
        a.env.extend(read_env_file(file)?);
    }
    let stripped: Vec<&str> = UNLOCK_VARS
        .iter()
        .copied()
        .chain(a.source.token_env.as_deref())
        .collect();
    // A name that is not stripped anyway is most likely a typo of one that is.
    if let Some(other) = a.pass_env.iter().find(|v| !stripped.contains(&v.as_str())) {
        return Err(CliError::usage(
            format!("--pass-env {other:?} is not a variable that exec removes"),
            format!("name one of {}", stripped.join(", ")),
        ));
    }
    // Two values for one variable: whichever came last would silently win.
    for (i, spec) in a.env.iter().enumerate() {
        if a.env[..i].iter().any(|s| s.var == spec.var) {
            return Err(CliError::usage(
                format!("--env {} is given more than once", spec.var),
                "give each variable one --env",
            ));
        }
    }
    if a.sgtk_home && a.env.iter().any(|s| s.var == SHOTGUN_HOME) {
        return Err(CliError::usage(
            format!("--env {SHOTGUN_HOME}=... and --sgtk-home both set {SHOTGUN_HOME}"),
            "drop one of them",
        ));
    }
    let mut home = a.sgtk_home.then(SgtkHome::create).transpose()?;
    let files = a.files.then(|| PrivateDir::create("files")).transpose()?;
    let mut values: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::with_capacity(a.env.len());
    let mut secrets: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    {
        let source = Source::open(g, &a.source)?;
        for spec in &a.env {
            let entry = read(&source, spec)?;
            if let Some(h) = home.as_mut() {
                h.note(&spec.name, &entry.credential);
            }
            let field = spec.field.unwrap_or(Field::Secret);
            let value = source::field_value(&spec.name, &entry.credential, field)?;
            if value.contains(&0) {
                return Err(CliError::usage(
                    format!(
                        "entry {:?} field {field} holds a NUL byte, which an environment variable cannot carry",
                        spec.name
                    ),
                    "pass it to the program another way",
                ));
            }
            if field.is_secret() {
                secrets.push(Zeroizing::new(value.to_vec()));
            }
            values.push((spec.var.clone(), Zeroizing::new(value.to_vec())));
        }
        // The vault (and its lock) or the grant is released before the command starts.
    }
    let (program, args) = a
        .command
        .split_first()
        .ok_or_else(|| CliError::usage("no command to run", "add `-- COMMAND ARGS`"))?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    for var in stripped
        .into_iter()
        .filter(|v| !a.pass_env.iter().any(|p| p == v))
    {
        cmd.env_remove(var);
    }
    // Kept open until the command is done with them (in its own copies).
    #[cfg(target_os = "linux")]
    let mut memfds = Vec::new();
    match &files {
        Some(dir) => {
            for (var, value) in &values {
                write_secret_file(&dir.path().join(var), value)?;
            }
            cmd.env(CREDENTIALS_DIRECTORY, dir.path());
        }
        #[cfg(target_os = "linux")]
        None if a.fd => {
            for (var, value) in &values {
                let fd = crate::memfd::SecretFd::new(var, value)?;
                cmd.env(var, fd.path());
                memfds.push(fd);
            }
        }
        None => {
            for (var, value) in &values {
                cmd.env(var, os_string(value)?);
            }
        }
    }
    if let Some(h) = &home {
        cmd.env(SHOTGUN_HOME, h.path());
    }
    let masked = masked_streams(&a);
    if !(masked.stdout || masked.stderr || home.is_some() || files.is_some()) {
        return start(cmd, program);
    }
    let status = supervise::run(cmd, masked, &secrets, |e| start_error(program, e))?;
    if let Some(h) = home {
        // The job's own outcome stands: a token that cannot come home is
        // reported, and the directory is wiped either way.
        if let Err(e) = h.finish(g, a.source.bundle.is_none()) {
            eprintln!("{e}");
        }
    }
    // The secrets' files go before farmvault exits like the child.
    drop(files);
    supervise::exit_like(status)
}

/// The Toolkit's variable naming its cache root.
const SHOTGUN_HOME: &str = "SHOTGUN_HOME";

/// The variable naming `--files`' directory (as systemd's `$CREDENTIALS_DIRECTORY`).
const CREDENTIALS_DIRECTORY: &str = "FARMVAULT_CREDENTIALS_DIRECTORY";

/// Writes one secret's file, readable by its owner only.
fn write_secret_file(path: &std::path::Path, value: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o400);
    o.open(path)
        .and_then(|mut f| f.write_all(value))
        .map_err(|e| CliError::io(format!("writing {}", path.display()), &e))
}

/// Which output streams `exec` masks: `--mask` both, `--no-mask` neither, by
/// default each that is not a terminal.
fn masked_streams(a: &ExecArgs) -> Masked {
    use std::io::IsTerminal;
    if a.no_mask {
        Masked {
            stdout: false,
            stderr: false,
        }
    } else if a.mask {
        Masked {
            stdout: true,
            stderr: true,
        }
    } else {
        Masked {
            stdout: !std::io::stdout().is_terminal(),
            stderr: !std::io::stderr().is_terminal(),
        }
    }
}

/// Reads the entry of `spec`. `NAME:suffix` where the suffix is no field name is
/// read as the entry `NAME:suffix` (names may hold colons); when there is no
/// such entry but `NAME` is one, the suffix was a field name mistyped, and the
/// error says so rather than that an entry is missing.
fn read(source: &Source, spec: &EnvSpec) -> Result<farmvault::Entry, CliError> {
    match source.get(&spec.name) {
        Err(e) if e.code == NOT_FOUND && spec.field.is_none() => {
            let Some((base, suffix)) = spec.name.rsplit_once(':') else {
                return Err(e);
            };
            match source.get(base) {
                Ok(entry) => Err(source::unknown_field(base, entry.credential.kind(), suffix)),
                Err(_) => Err(e),
            }
        }
        other => other,
    }
}

#[cfg(unix)]
fn os_string(bytes: &[u8]) -> Result<OsString, CliError> {
    use std::os::unix::ffi::OsStringExt;
    Ok(OsString::from_vec(bytes.to_vec()))
}

#[cfg(not(unix))]
fn os_string(bytes: &[u8]) -> Result<OsString, CliError> {
    std::str::from_utf8(bytes).map(OsString::from).map_err(|_| {
        CliError::usage(
            "a secret is not valid UTF-8 and cannot go into an environment variable here",
            "store it as text",
        )
    })
}

fn start_error(program: &OsString, e: &std::io::Error) -> CliError {
    let name = program.to_string_lossy();
    if e.kind() == std::io::ErrorKind::NotFound {
        CliError::new(
            EXEC_NOT_FOUND,
            format!("command {name:?} not found"),
            "check its spelling and PATH",
        )
    } else {
        CliError::new(
            EXEC_CANNOT_RUN,
            format!("cannot run {name:?}: {e}"),
            "check that it is an executable you may run",
        )
    }
}

#[cfg(unix)]
fn start(mut cmd: Command, program: &OsString) -> Result<i32, CliError> {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let _ = std::io::stdout().flush();
    // Only returns on failure.
    let e = cmd.exec();
    Err(start_error(program, &e))
}

#[cfg(not(unix))]
fn start(mut cmd: Command, program: &OsString) -> Result<i32, CliError> {
    let status = cmd.status().map_err(|e| start_error(program, &e))?;
    Ok(status.code().unwrap_or(crate::error::FAILURE))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["X", "=a", "1X=a", "X-Y=a", "X=", "X=a\\b", "X=a\\"] {
            assert!(parse_env_spec(bad).is_err(), "{bad}");
        }
        // Escapes: a colon that is part of the name.
        let e = parse_env_spec("X=a\\:host").unwrap();
        assert_eq!((e.name.as_str(), e.field), ("a:host", None));
        let e = parse_env_spec("X=a\\:b:api_key").unwrap();
        assert_eq!((e.name.as_str(), e.field), ("a:b", Some(Field::ApiKey)));
        let e = parse_env_spec("X=back\\\\slash:host").unwrap();
        assert_eq!(
            (e.name.as_str(), e.field),
            ("back\\slash", Some(Field::Host))
        );
    }
}
