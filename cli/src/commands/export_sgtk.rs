//! `farmvault export-sgtk NAME`: prints an entry as the JSON tk-core's
//! `deserialize_user` accepts, written by the library (`farmvault::sgtk`). It
//! holds the secret, so it reaches a terminal only with `--reveal`.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::stdout::{guard_terminal, write_out};
use crate::unlock;
use clap::Args;
use farmvault::sgtk;
use zeroize::Zeroizing;

/// `export-sgtk`.
#[derive(Args, Debug)]
pub struct ExportSgtkArgs {
    /// Entry name.
    pub name: String,
    /// Allow printing it (it holds a secret) to a terminal.
    #[arg(long)]
    pub reveal: bool,
}

/// `export-sgtk NAME`: the JSON `deserialize_user` accepts (it holds the secret).
pub fn run(g: &Global, a: &ExportSgtkArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    guard_terminal(a.reveal, "a serialized user (it holds a secret)")?;
    let vault = unlock::open(g)?;
    let entry = vault.get(&a.name)?;
    let json = Zeroizing::new(sgtk::to_serialized_user_json(&entry.credential)?);
    write_out(json.as_bytes(), false)?;
    Ok(OK)
}
