//! `farmvault purge`: removes every expired entry and says how many (stderr;
//! `--json` prints the count on stdout).

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::{emit, say};
use crate::unlock;

/// `purge`.
pub fn run(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let n = vault.purge_expired()?;
    if json {
        emit(serde_json::json!({ "purged": n }).to_string())?;
    } else {
        say(
            g,
            format!(
                "purged {n} expired entr{}",
                if n == 1 { "y" } else { "ies" }
            ),
        )?;
    }
    Ok(OK)
}
