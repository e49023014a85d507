//! `farmvault grant-info FILE`: a grant bundle's clear header, read without a
//! key, and whether its issuer signature verifies and this machine's pinned
//! issuers take it. The label is printed with control characters escaped.

use crate::error::{grant_error, CliError, OK};
use crate::output::{self, access_phrase, printable, GrantJson, GrantWith};
use crate::print::write_out;
use clap::Args;
use farmvault::grant::{self, Signature, SignatureCheck};
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
    let check = grant::check_signature(&a.file).map_err(|e| grant_error(e, &a.file, None))?;
    if a.json {
        #[derive(Serialize)]
        struct SignatureJson {
            /// `valid`, `invalid` or `unsigned`.
            status: &'static str,
            issuer: Option<String>,
            pinned_by: Vec<String>,
            trusted: bool,
        }
        #[derive(Serialize)]
        struct Header {
            path: String,
            authenticated: bool,
            signature: SignatureJson,
        }
        let (status, issuer) = match check.signature {
            Signature::Valid(k) => ("valid", Some(k.to_string())),
            Signature::Invalid(k) => ("invalid", Some(k.to_string())),
            Signature::Unsigned => ("unsigned", None),
        };
        let out = GrantWith {
            grant: GrantJson::new(&info),
            extra: Header {
                path: a.file.display().to_string(),
                authenticated: matches!(check.signature, Signature::Valid(_)),
                signature: SignatureJson {
                    status,
                    issuer,
                    pinned_by: check.pinned_by.clone(),
                    trusted: check.trusted,
                },
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
        ("signature", signature_phrase(&check.signature)),
        ("pinned here", pins_phrase(&check)),
    ];
    let text: String = rows.iter().map(|(k, v)| format!("{k:<14} {v}\n")).collect();
    write_out(text.as_bytes(), true)?;
    Ok(OK)
}

/// The signature row: whether it verifies, and by whom.
fn signature_phrase(signature: &Signature) -> String {
    match signature {
        Signature::Valid(k) => format!(
            "valid: issuer {k} signed every byte (pin that key where jobs open it)"
        ),
        Signature::Invalid(k) => format!(
            "DOES NOT VERIFY: the bundle was changed after issuer {k} signed it; every open refuses it"
        ),
        Signature::Unsigned => {
            "none (grant format 1): its clear header is unauthenticated until the grant opens".into()
        }
    }
}

/// The pins row: which pin lists apply here, and whether they take this bundle.
fn pins_phrase(check: &SignatureCheck) -> String {
    if check.pinned_by.is_empty() {
        return "no issuers are pinned on this machine (/etc/farmvault/issuers, FARMVAULT_ISSUERS): any validly signed or unsigned grant opens".into();
    }
    let by = check.pinned_by.join(" and ");
    if check.trusted {
        format!("yes: {by} names its issuer")
    } else {
        format!("REFUSED: {by} does not take it")
    }
}
