//! `farmvault passwd`: changes the passphrase (the new one prompted twice, or
//! read from FARMVAULT_NEW_PASSPHRASE_FILE without a terminal).

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output::keyslots_json;
use crate::print::{emit, say};
use crate::unlock::{self, new_passphrase, weak_kdf_warning, NEW_PASSPHRASE_FILE_ENV};
use std::path::PathBuf;

/// `passwd`.
pub fn run(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open_direct(g)?;
    let file = std::env::var_os(NEW_PASSPHRASE_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let new = new_passphrase(g, file)?;
    weak_kdf_warning(g);
    vault.change_passphrase(&new)?;
    if json {
        let v = serde_json::json!({
            "vault": vault.path().display().to_string(),
            "keyslots": keyslots_json(&vault.keyslots()?),
        });
        emit(v.to_string())?;
    } else {
        say(g, "passphrase changed")?;
    }
    Ok(OK)
}
