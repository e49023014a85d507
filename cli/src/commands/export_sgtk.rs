//! `farmvault export-sgtk NAME`: prints an entry in the form tk-core reads, written
//! by the library (`farmvault::sgtk::export`): a user as the JSON `deserialize_user`
//! accepts, a context byte for byte as it came in, a Flow token pair as
//! `adsk_flow_tokens.json`. It holds the secret, so it reaches a terminal only with
//! `--reveal`.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output;
use crate::print::{guard_terminal, write_out};
use crate::unlock;
use clap::Args;
use farmvault::sgtk;

/// `export-sgtk`.
#[derive(Args, Debug)]
pub struct ExportSgtkArgs {
    /// Entry name.
    pub name: String,
    /// Allow printing it (it holds a secret) to a terminal.
    #[arg(long)]
    pub reveal: bool,
    /// The exact bytes, with no newline after them (by default one newline follows, as after `print`).
    #[arg(short = 'n', long)]
    pub no_newline: bool,
    /// Print {name, kind, value, encoding} as JSON on stdout instead of the bytes.
    #[arg(long)]
    pub json: bool,
}

/// `export-sgtk NAME`: what tk-core reads for the entry (it holds the secret).
pub fn run(g: &Global, a: &ExportSgtkArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    guard_terminal(a.reveal, "a serialized credential (it holds a secret)")?;
    let vault = unlock::open(g)?;
    let entry = vault.get(&a.name)?;
    let bytes = sgtk::export(&entry.credential)?;
    if a.json {
        let (text, encoding) = output::text_of(&bytes);
        let v = serde_json::json!({
            "name": a.name,
            "kind": entry.credential.kind().as_str(),
            "value": text.as_str(),
            "encoding": encoding,
        });
        let out = zeroize::Zeroizing::new(v.to_string());
        output::wipe_value(v);
        write_out(out.as_bytes(), a.no_newline)?;
    } else {
        write_out(&bytes, a.no_newline)?;
    }
    Ok(OK)
}
