//! `farmvault grant-info FILE`: a grant bundle's clear header, read without a
//! key. Nothing has authenticated it (opening the grant does), so it says so,
//! and the label is printed with control characters escaped.

use crate::error::{grant_error, CliError, OK};
use crate::output::{self, access_phrase, printable, GrantJson, GrantWith};
use crate::print::write_out;
use clap::Args;
use farmvault::grant;
use serde::Serialize;
use std::path::PathBuf;

/// `grant-info`.
#[derive(Args, Debug)]
pub struct GrantInfoArgs {
    /// The grant bundle.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `grant-info FILE`: the clear header, no key needed.
pub fn run(a: &GrantInfoArgs) -> Result<i32, CliError> {
    let info = grant::read_info(&a.file).map_err(|e| grant_error(e, &a.file, None))?;
    if a.json {
        #[derive(Serialize)]
        struct Header {
            path: String,
            authenticated: bool,
        }
        let out = GrantWith {
            grant: GrantJson::new(&info),
            extra: Header {
                path: a.file.display().to_string(),
                authenticated: false,
            },
        };
        write_out(
            serde_json::to_string(&out)
                .expect("a grant serialises")
                .as_bytes(),
            false,
        )?;
        return Ok(OK);
    }
    let now = farmvault::Clock::now(&farmvault::SystemClock);
    let rows = [
        ("grant", info.id.to_hex()),
        ("label", printable(&info.label)),
        (
            "issuer vault",
            info.issuer.iter().map(|b| format!("{b:02x}")).collect(),
        ),
        ("created", output::when(now, info.created)),
        ("claim by", output::when(now, info.claim_by)),
        (
            "use window",
            format!(
                "{} from the first open on a machine",
                crate::duration::human(info.use_window.as_secs())
            ),
        ),
        (
            "ends by",
            format!("{} at the latest", output::when(now, info.latest_end())),
        ),
        (
            "hosts",
            info.host_pattern.clone().unwrap_or_else(|| "any".into()),
        ),
        ("opens with", access_phrase(&info)),
        (
            "entries",
            format!("{} (names are sealed in the bundle)", info.entry_count),
        ),
        (
            "authenticated",
            "no: this is the bundle's clear header, read without a key; opening the grant checks it"
                .into(),
        ),
    ];
    let text: String = rows.iter().map(|(k, v)| format!("{k:<14} {v}\n")).collect();
    write_out(text.as_bytes(), true)?;
    Ok(OK)
}
