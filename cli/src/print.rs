//! What goes where: data (secrets, tokens, tables, JSON) on stdout and nothing
//! else, so `farmvault get NAME | tool` and `$(farmvault grant ...)` read only
//! data; confirmations on stderr (unless `--quiet`); and the refusal to print a
//! secret to a terminal. A reader that went away (`farmvault list | head -1`)
//! is not an error worth a message.

use crate::args::Global;
use crate::error::{CliError, INSECURE};
use std::io::{IsTerminal, Write};

/// Prints a confirmation on stderr unless `--quiet`.
pub fn say(g: &Global, msg: impl AsRef<str>) -> Result<(), CliError> {
    if !g.quiet {
        eprintln!("{}", msg.as_ref());
    }
    Ok(())
}

/// Prints a line on stdout.
pub fn emit(line: impl AsRef<str>) -> Result<(), CliError> {
    write_out(line.as_ref().as_bytes(), false)
}

/// Writes `bytes` (and a newline unless `no_newline`) to stdout.
pub fn write_out(bytes: &[u8], no_newline: bool) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let r = out
        .write_all(bytes)
        .and_then(|()| {
            if no_newline {
                Ok(())
            } else {
                out.write_all(b"\n")
            }
        })
        .and_then(|()| out.flush());
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| CliError::io("writing to stdout", &e)),
    }
}

/// Refuses to print a secret to a terminal unless `--reveal`.
pub fn guard_terminal(reveal: bool, what: &str) -> Result<(), CliError> {
    if !reveal && std::io::stdout().is_terminal() {
        return Err(CliError::new(
            INSECURE,
            format!("refusing to print {what} to a terminal"),
            "pipe it into the program that needs it, or pass --reveal",
        ));
    }
    Ok(())
}
