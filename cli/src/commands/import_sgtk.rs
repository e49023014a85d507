//! `farmvault import-sgtk NAME`: stores what tk-core serialized, read from stdin as
//! bytes: a user (`serialize_user`, JSON or protocol-0 pickle) or a `TANK_CONTEXT`
//! (`Context.serialize`, either form), told apart by structure. The parsing lives in
//! the library (`farmvault::sgtk`), shared with the C ABI and Python.

use crate::args::Global;
use crate::duration::{default_ttl, parse_ttl, Ttl};
use crate::error::{CliError, OK};
use crate::output::{expiry_phrase, MetaJson};
use crate::print::{emit, say};
use crate::{prompt, unlock};
use clap::Args;
use farmvault::{sgtk, Credential, PutOptions};

/// `import-sgtk`.
#[derive(Args, Debug)]
pub struct ImportSgtkArgs {
    /// Entry name to store it under.
    pub name: String,
    /// Time to live or `none`. Default: 24h for a session user (alone or in a context), none for a script user.
    #[arg(long, value_name = "DUR|none", value_parser = parse_ttl)]
    pub ttl: Option<Ttl>,
    /// For a TANK_CONTEXT: store only the user it carries (a session_token or script_key entry), not the context.
    #[arg(long)]
    pub user_only: bool,
    /// Print the stored entry's metadata as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `import-sgtk NAME`: stdin holds what `serialize_user` or `Context.serialize` wrote:
/// text, or a pickle's raw bytes (tk-core's text written out as ISO-8859-1).
pub fn run(g: &Global, a: &ImportSgtkArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    // `print(serialize_user(user))` adds a newline that is not part of the
    // payload: `stdin_bounded` strips it.
    let bytes = prompt::stdin_bounded("the serialized user or context", sgtk::MAX_INPUT_LEN)?;
    let mut credential = sgtk::parse(&bytes[..])?;
    drop(bytes);
    if a.user_only {
        if let Credential::TankContext(c) = credential {
            credential = c.user().clone();
        }
    }
    let vault = unlock::open(g)?;
    let kind = credential.kind();
    let user_kind = match &credential {
        Credential::TankContext(c) => c.user().kind(),
        other => other.kind(),
    };
    let mut options = PutOptions::new();
    options.ttl = default_ttl(user_kind, a.ttl);
    vault.put_credential(&a.name, &credential, &options)?;
    let meta = vault.metadata(&a.name)?;
    if a.json {
        emit(
            serde_json::to_string(&MetaJson::new(&meta, vault.now())).expect("metadata serialises"),
        )?;
        return Ok(OK);
    }
    let what = if kind == user_kind {
        kind.to_string()
    } else {
        format!("{kind} of a {user_kind} user")
    };
    say(
        g,
        format!(
            "stored {} ({what}, {}); it {}",
            a.name,
            meta.host.as_deref().unwrap_or("-"),
            expiry_phrase(vault.now(), meta.expires)
        ),
    )?;
    Ok(OK)
}
