//! `farmvault rm NAME`: removes an entry.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::{emit, say};
use crate::unlock;
use clap::Args;

/// `rm`.
#[derive(Args, Debug)]
pub struct RmArgs {
    /// Entry name.
    pub name: String,
    /// Print {removed: NAME} as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rm NAME`.
pub fn run(g: &Global, a: &RmArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    let vault = unlock::open(g)?;
    vault.delete(&a.name)?;
    if a.json {
        emit(serde_json::json!({ "removed": a.name }).to_string())?;
    } else {
        say(g, format!("removed {}", a.name))?;
    }
    Ok(OK)
}
