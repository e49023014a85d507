//! `farmvault grants`: the grants this vault issued; never their tokens.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output::{self, GrantJson, GrantsJson};
use crate::print::write_out;
use crate::unlock;

/// `grants`: what this vault issued, never a token.
pub fn run(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let now = vault.now();
    let list = vault.list_grants()?;
    if json {
        let out = GrantsJson {
            now: now.0,
            now_at: output::rfc3339(now.0),
            grants: list.iter().map(GrantJson::new).collect(),
        };
        write_out(
            serde_json::to_string(&out)
                .expect("grants serialise")
                .as_bytes(),
            false,
        )?;
    } else if list.is_empty() {
        if !g.quiet {
            eprintln!("no grants");
        }
    } else {
        write_out(output::grants_table(&list, now).as_bytes(), true)?;
    }
    Ok(OK)
}
