//! `farmvault key-file add|remove PATH`: a keyslot opened by a key file.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::stdout::say;
use crate::unlock::{self, generate_key_file};
use clap::Subcommand;
use std::path::{Path, PathBuf};

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

/// `key-file add` or `key-file remove`.
pub fn run(g: &Global, c: KeyFileCommand) -> Result<i32, CliError> {
    match c {
        KeyFileCommand::Add { path, generate } => add(g, &path, generate),
        KeyFileCommand::Remove { path } => remove(g, &path),
    }
}

/// `key-file add PATH [--generate]`.
fn add(g: &Global, path: &Path, generate: bool) -> Result<i32, CliError> {
    let vault = unlock::open_direct(g)?;
    let key = if generate {
        generate_key_file(path)?
    } else {
        unlock::read_key_file(g, path)?
    };
    if let Err(e) = vault.add_key_file(&key) {
        if generate {
            let _ = std::fs::remove_file(path);
        }
        return Err(e.into());
    }
    say(
        g,
        format!("added a keyslot for the key file {}", path.display()),
    )?;
    Ok(OK)
}

/// `key-file remove PATH`.
fn remove(g: &Global, path: &Path) -> Result<i32, CliError> {
    let vault = unlock::open_direct(g)?;
    let key = unlock::read_key_file(g, path)?;
    vault.remove_key_file(&key)?;
    say(
        g,
        format!(
            "removed the keyslot of the key file {} (the file itself is left alone)",
            path.display()
        ),
    )?;
    Ok(OK)
}
