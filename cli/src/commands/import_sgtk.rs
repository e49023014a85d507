//! `farmvault import-sgtk NAME`: stores what tk-core's `serialize_user` wrote
//! (JSON or a protocol-0 pickle), or a `TANK_CONTEXT`, read from stdin. The
//! parsing lives in the library (`farmvault::sgtk`), shared with the C ABI
//! and Python.

use crate::args::Global;
use crate::duration::{default_ttl, parse_ttl, Ttl};
use crate::error::{CliError, OK};
use crate::output::expiry_phrase;
use crate::stdout::say;
use crate::{prompt, unlock};
use clap::Args;
use farmvault::{sgtk, PutOptions};

/// `import-sgtk`.
#[derive(Args, Debug)]
pub struct ImportSgtkArgs {
    /// Entry name to store it under.
    pub name: String,
    /// Time to live or `none`. Default: 24h for session users, none for script users.
    #[arg(long, value_name = "DUR|none", value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
}

/// `import-sgtk NAME`: stdin holds what `serialize_user` wrote (JSON or a
/// protocol-0 pickle) or a `TANK_CONTEXT` (JSON with `_current_user`).
pub fn run(g: &Global, a: &ImportSgtkArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    // `print(serialize_user(user))` adds a newline that is not part of the
    // payload: `stdin_bounded` strips it.
    let bytes = prompt::stdin_bounded("the serialized user", sgtk::MAX_INPUT_LEN)?;
    let text = prompt::text(bytes, "the serialized user")?;
    let credential = if text.expose().contains("\"_current_user\"") {
        sgtk::parse_tank_context(text.expose())?
    } else {
        sgtk::parse_serialized_user(text.expose())?
    };
    drop(text);
    let vault = unlock::open(g)?;
    let kind = credential.kind();
    let mut options = PutOptions::new();
    options.ttl = default_ttl(kind, a.ttl);
    vault.put_credential(&a.name, &credential, &options)?;
    let meta = vault.metadata(&a.name)?;
    say(
        g,
        format!(
            "stored {} ({kind}, {}); it {}",
            a.name,
            meta.host.as_deref().unwrap_or("-"),
            expiry_phrase(vault.now(), meta.expires)
        ),
    )?;
    Ok(OK)
}
