//! `farmvault renew NAME --ttl DUR`: a new time to live, counted from now.

use crate::args::Global;
use crate::duration::{parse_ttl, Ttl};
use crate::error::{CliError, OK};
use crate::output::{expiry_phrase, MetaJson};
use crate::print::{emit, say};
use crate::unlock;
use clap::Args;

/// `renew`.
#[derive(Args, Debug)]
pub struct RenewArgs {
    /// Entry name.
    pub name: String,
    /// New time to live from now, or `none`.
    #[arg(long, value_name = "DUR|none", value_parser = parse_ttl)]
    pub ttl: Ttl,
    /// Print the entry's metadata as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `renew NAME --ttl DUR`.
pub fn run(g: &Global, a: &RenewArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    let vault = unlock::open(g)?;
    let meta = vault.renew(&a.name, a.ttl.as_option())?;
    let now = vault.now();
    if a.json {
        emit(serde_json::to_string(&MetaJson::new(&meta, now)).expect("metadata serialises"))?;
    } else {
        say(
            g,
            format!(
                "renewed {}; it {}",
                a.name,
                expiry_phrase(now, meta.expires)
            ),
        )?;
    }
    Ok(OK)
}
