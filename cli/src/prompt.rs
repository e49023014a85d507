//! Reading secrets: hidden prompts on the terminal, secret files, stdin.
//! Everything read lands in self-wiping buffers.

use crate::error::{CliError, USAGE};
use farmvault::SecretString;
use std::io::{IsTerminal, Read};
use std::path::Path;
use zeroize::Zeroizing;

/// Strips one trailing newline (`\n` or `\r\n`).
pub fn strip_newline(bytes: &mut Zeroizing<Vec<u8>>) {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
}

fn into_text(bytes: Zeroizing<Vec<u8>>, what: &str) -> Result<SecretString, CliError> {
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError::usage(
            format!("{what} is not valid UTF-8"),
            "store it as UTF-8 text",
        )
    })?;
    Ok(SecretString::new(text.to_owned()))
}

/// Room for the one trailing newline (`\r\n`) stripped from what is read.
const NEWLINE_ROOM: usize = 2;

/// Reads at most `limit` bytes (plus a trailing newline) from `r` into a buffer
/// allocated once, up front: a growing `Vec` would leave unwiped copies of the
/// secret behind in freed memory, and an endless input (`< /dev/zero`) must stop
/// at the limit rather than fill memory. More than that is refused, naming the limit.
pub fn read_bounded(
    r: &mut impl Read,
    limit: usize,
    what: &str,
    keep_newline: bool,
) -> Result<Zeroizing<Vec<u8>>, CliError> {
    // One byte past the limit (and the newline room) tells "too long" from "exactly".
    let cap = limit + NEWLINE_ROOM + 1;
    let mut buf = Zeroizing::new(vec![0u8; cap]);
    let mut len = 0;
    while len < cap {
        match r.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CliError::io(format!("reading {what}"), &e)),
        }
    }
    buf.truncate(len);
    if !keep_newline {
        strip_newline(&mut buf);
    }
    if len == cap || buf.len() > limit {
        return Err(CliError::usage(
            format!("{what} is longer than the limit of {limit} bytes"),
            "farmvault stopped reading there; store something shorter",
        ));
    }
    Ok(buf)
}

/// Reads a secret text file (`what`: "passphrase file", "proxy file"), stripping
/// one trailing newline; opened once and checked on that descriptor
/// (`perms::open_private_file`) unless `insecure_ok`.
pub fn read_secret_file(
    path: &Path,
    what: &str,
    insecure_ok: bool,
) -> Result<SecretString, CliError> {
    let ctx = || format!("{what} {}", path.display());
    let mut f = crate::perms::open_private_file(path, what, insecure_ok)?;
    let bytes = read_bounded(&mut f, farmvault::MAX_SECRET_LEN, &ctx(), false)?;
    into_text(bytes, &ctx())
}

/// A hidden prompt on the terminal (rpassword reads /dev/tty, so stdin may carry data).
pub fn hidden(prompt: &str) -> Result<SecretString, CliError> {
    match rpassword::prompt_password(prompt) {
        Ok(s) => Ok(SecretString::new(s)),
        Err(e) => Err(CliError::usage(
            format!("cannot prompt on a terminal: {e}"),
            "set FARMVAULT_KEY_FILE or FARMVAULT_PASSPHRASE_FILE, or run on a terminal",
        )),
    }
}

/// A new passphrase: from `env_file` if set (checked as `read_secret_file`
/// does, unless `insecure_ok`), else prompted twice.
pub fn new_passphrase(
    env_file: Option<&Path>,
    what: &str,
    insecure_ok: bool,
) -> Result<SecretString, CliError> {
    let p = match env_file {
        Some(path) => read_secret_file(path, &format!("{what} file"), insecure_ok)?,
        None => {
            let first = hidden(&format!("New {what}: "))?;
            let again = hidden(&format!("Repeat the {what}: "))?;
            if first != again {
                return Err(CliError::usage(
                    format!("the two {what}s differ"),
                    "run the command again and type the same one twice",
                ));
            }
            first
        }
    };
    if p.is_empty() {
        return Err(CliError::usage(
            format!("the {what} is empty"),
            "choose a non-empty one",
        ));
    }
    Ok(p)
}

/// Reads the secret of `put`: stdin when it is not a terminal, up to
/// `MAX_SECRET_LEN` bytes (one trailing newline stripped unless `keep_newline`),
/// else a hidden prompt.
pub fn secret_input(prompt: &str, keep_newline: bool) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let stdin = std::io::stdin();
    let bytes = if stdin.is_terminal() {
        let s = hidden(prompt)?;
        Zeroizing::new(s.expose().as_bytes().to_vec())
    } else {
        read_bounded(
            &mut stdin.lock(),
            farmvault::MAX_SECRET_LEN,
            "the secret on stdin",
            keep_newline,
        )?
    };
    if bytes.is_empty() {
        return Err(CliError::new(
            USAGE,
            "the secret is empty",
            "pipe it on stdin (printf %s \"$X\" | farmvault put NAME) or type it at the prompt",
        ));
    }
    Ok(bytes)
}

/// Stdin, up to `limit` bytes and one trailing newline (stripped), for the import commands.
pub fn stdin_bounded(what: &str, limit: usize) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::usage(
            format!("{what} is read from stdin, which is a terminal"),
            "pipe it in, e.g. `python -c ... | farmvault import-sgtk NAME`",
        ));
    }
    read_bounded(&mut stdin.lock(), limit, &format!("{what} on stdin"), false)
}

/// Text of a secret read elsewhere.
pub fn text(bytes: Zeroizing<Vec<u8>>, what: &str) -> Result<SecretString, CliError> {
    into_text(bytes, what)
}

/// A hidden prompt on the terminal `tty`, for the agent: it prompts on the
/// terminal of the client that asked it to unlock, as gpg-agent's pinentry
/// does, so the passphrase goes from that terminal to the agent and never
/// over the agent's socket. The terminal must be this user's.
#[cfg(unix)]
pub fn hidden_on(tty: &std::path::Path, prompt: &str) -> farmvault::Result<SecretString> {
    use rustix::termios::{isatty, tcgetattr, tcsetattr, LocalModes, OptionalActions};
    use std::io::{Read, Write};
    use std::os::unix::fs::MetadataExt;
    let io = |what: &str, e: std::io::Error| farmvault::Error::Io {
        context: format!("{what} {}", tty.display()),
        source: e,
    };
    let mut term = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tty)
        .map_err(|e| io("opening the terminal", e))?;
    let meta = term.metadata().map_err(|e| io("reading the terminal", e))?;
    if !isatty(&term) || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(farmvault::Error::InvalidArgument(format!(
            "{} is not a terminal of this user's to ask for the passphrase on",
            tty.display()
        )));
    }
    let old = tcgetattr(&term).map_err(|e| io("reading the terminal's modes of", e.into()))?;
    let mut quiet = old.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&term, OptionalActions::Flush, &quiet)
        .map_err(|e| io("turning off echo on", e.into()))?;
    let mut line = Zeroizing::new(Vec::new());
    let read = term.write_all(prompt.as_bytes()).and_then(|()| {
        let mut byte = [0u8; 1];
        while line.len() < MAX_PROMPT_LEN {
            match term.read(&mut byte)? {
                0 => break,
                _ if byte[0] == b'\n' => break,
                _ => line.push(byte[0]),
            }
        }
        Ok(())
    });
    // The echo comes back whatever happened.
    let _ = tcsetattr(&term, OptionalActions::Flush, &old);
    let _ = term.write_all(b"\n");
    read.map_err(|e| io("reading the passphrase from", e))?;
    strip_newline(&mut line);
    let text = into_text(line, "the passphrase")
        .map_err(|e| farmvault::Error::InvalidArgument(e.to_string()))?;
    if text.is_empty() {
        return Err(farmvault::Error::InvalidArgument(
            "no passphrase was typed".into(),
        ));
    }
    Ok(text)
}

/// The longest passphrase a terminal prompt reads.
#[cfg(unix)]
const MAX_PROMPT_LEN: usize = 64 * 1024;
