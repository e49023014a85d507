//! `farmvault get NAME`: prints an entry's secret or one field, from the vault
//! or through a job grant; a secret reaches a terminal only with `--reveal`.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output;
use crate::print::{guard_terminal, write_out};
use crate::source::{field_value, GrantSource, Source};
use clap::Args;
use farmvault::Field;
use zeroize::Zeroizing;

/// `get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// Entry name.
    pub name: String,
    /// Read through a job grant.
    #[command(flatten)]
    pub source: GrantSource,
    /// Print one field: host, login, api_script (script_name), api_key, session_token,
    /// session_metadata, http_proxy, password, app_id, profile, access_token,
    /// refresh_token, tank_context, secret. Default: the main secret.
    #[arg(long, value_parser = parse_field)]
    pub field: Option<Field>,
    /// Print JSON (see --help of farmvault).
    #[arg(long)]
    pub json: bool,
    /// Allow printing a secret to a terminal.
    #[arg(long)]
    pub reveal: bool,
    /// No newline after the value.
    #[arg(short = 'n', long)]
    pub no_newline: bool,
}

fn parse_field(s: &str) -> Result<Field, String> {
    s.parse::<Field>().map_err(|e| match e {
        farmvault::Error::InvalidArgument(m) => m,
        other => other.to_string(),
    })
}

/// `get NAME`, from the vault or through a grant.
pub fn run(g: &Global, a: &GetArgs) -> Result<i32, CliError> {
    farmvault::validate_name(&a.name)?;
    // Refuse a terminal before any prompt: a passphrase typed for a secret that
    // will not be printed is a passphrase typed for nothing.
    let prints_secret = match (a.json, a.field) {
        (true, None) => true,
        (_, field) => field.unwrap_or(Field::Secret).is_secret(),
    };
    if prints_secret {
        guard_terminal(a.reveal, "a secret")?;
    }
    let source = Source::open(g, &a.source)?;
    let entry = source.get(&a.name)?;
    let now = source.now();
    match (a.json, a.field) {
        (true, None) => {
            let text = output::entry_json(&entry.meta, &entry.credential, now);
            write_out(text.as_bytes(), a.no_newline)?;
        }
        (json, field) => {
            let field = field.unwrap_or(Field::Secret);
            let value = field_value(&a.name, &entry.credential, field)?;
            if json {
                let (text, encoding) = output::text_of(value);
                let v = serde_json::json!({
                    "name": a.name,
                    "field": field.as_str(),
                    "value": text.as_str(),
                    "encoding": encoding,
                });
                let out = Zeroizing::new(v.to_string());
                output::wipe_value(v);
                write_out(out.as_bytes(), a.no_newline)?;
            } else {
                write_out(value, a.no_newline)?;
            }
        }
    }
    Ok(OK)
}
