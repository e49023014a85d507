//! `farmvault key-file add|remove PATH`: a keyslot opened by a key file.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output::keyslots_json;
use crate::print::{emit, say};
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
        /// Print {vault, key_file, action, keyslots} as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remove the keyslot the key file at PATH opens (not the last one).
    Remove {
        /// The key file.
        path: PathBuf,
        /// Print {vault, key_file, action, keyslots} as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `key-file add` or `key-file remove`.
pub fn run(g: &Global, c: KeyFileCommand) -> Result<i32, CliError> {
    match c {
        KeyFileCommand::Add {
            path,
            generate,
            json,
        } => add(g, &path, generate, json),
        KeyFileCommand::Remove { path, json } => remove(g, &path, json),
    }
}

/// `key-file add PATH [--generate]`.
fn add(g: &Global, path: &Path, generate: bool, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open_direct(g)?;
    let key = if generate {
        generate_key_file(path, "--generate")?
    } else {
        unlock::read_key_file(g, path)?
    };
    if let Err(e) = vault.add_key_file(&key) {
        if generate {
            let _ = std::fs::remove_file(path);
        }
        return Err(e.into());
    }
    if json {
        return report(&vault, path, "added");
    }
    say(
        g,
        format!("added a keyslot for the key file {}", path.display()),
    )?;
    Ok(OK)
}

/// `key-file remove PATH`.
fn remove(g: &Global, path: &Path, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open_direct(g)?;
    let key = unlock::read_key_file(g, path)?;
    vault.remove_key_file(&key)?;
    if json {
        return report(&vault, path, "removed");
    }
    say(
        g,
        format!(
            "removed the keyslot of the key file {} (the file itself is left alone)",
            path.display()
        ),
    )?;
    Ok(OK)
}

/// `--json` of `key-file add|remove`: what changed and the keyslots left.
fn report(vault: &farmvault::Vault, path: &Path, action: &str) -> Result<i32, CliError> {
    let v = serde_json::json!({
        "vault": vault.path().display().to_string(),
        "key_file": path.display().to_string(),
        "action": action,
        "keyslots": keyslots_json(&vault.keyslots()?),
    });
    emit(v.to_string())?;
    Ok(OK)
}
