//! `farmvault rm NAME`: removes an entry.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::stdout::say;
use crate::unlock;
use clap::Args;

/// A command taking only an entry name.
#[derive(Args, Debug)]
pub struct NameArg {
    /// Entry name.
    pub name: String,
}

/// `rm NAME`.
pub fn run(g: &Global, name: &str) -> Result<i32, CliError> {
    farmvault::validate_name(name)?;
    let vault = unlock::open(g)?;
    vault.delete(name)?;
    say(g, format!("removed {name}"))?;
    Ok(OK)
}
