//! `farmvault purge`: removes every expired entry and prints how many.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::stdout::emit;
use crate::unlock;

/// `purge`.
pub fn run(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let n = vault.purge_expired()?;
    if json {
        emit(serde_json::json!({ "purged": n }).to_string())?;
    } else {
        // The count is the command's output: printed even with --quiet.
        emit(format!(
            "purged {n} expired entr{}",
            if n == 1 { "y" } else { "ies" }
        ))?;
    }
    Ok(OK)
}
