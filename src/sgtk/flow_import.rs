//! Moving tk-core's Flow tokens (`<SHOTGUN_HOME>/adsk_flow_tokens.json`) into a
//! vault: one implementation for the command line, the C ABI and Python.
//!
//! As for the session cache, the order makes it safe: every token pair is written to
//! the vault in one atomic, flushed batch first; only then, and only when asked, are
//! those profiles removed from the file. Each entry expires when its access token
//! does (the JWT's `exp`): tk-core holds a token no longer either, and refreshes it.

use super::flow::{flow_token_expiry, flow_tokens_file, read_flow_tokens, remove_flow_tokens};
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::vault::{validate_name, Batch, Vault};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to import Flow tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowImportOptions {
    /// Entries are named `<prefix><app_id>/<profile>`; default `"flow/"`.
    pub prefix: String,
    /// Remove the imported profiles from the file once they are in the vault.
    pub remove_from_file: bool,
}

impl Default for FlowImportOptions {
    fn default() -> Self {
        FlowImportOptions {
            prefix: "flow/".to_owned(),
            remove_from_file: false,
        }
    }
}

/// A profile of the file that was not imported (and so is left in the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFlowToken {
    /// The application id.
    pub app_id: String,
    /// The profile.
    pub profile: String,
    /// Why, in words: an expired access token, one whose expiry cannot be read, or
    /// none at all (a refresh token alone).
    pub reason: String,
}

/// What a Flow token import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowImportReport {
    /// The token file read.
    pub file: PathBuf,
    /// Names of the entries written, in file order.
    pub imported: Vec<String>,
    /// Profiles left alone, in file order.
    pub skipped: Vec<SkippedFlowToken>,
    /// How many profiles were removed from the file (0 unless `remove_from_file`).
    pub removed: usize,
}

/// Imports every Flow token pair of `<shotgun_home>/adsk_flow_tokens.json` into
/// `vault` as `flow_token` entries named `<prefix><app_id>/<profile>` (replacing
/// entries of the same name), each expiring when its access token does; then, with
/// `remove_from_file`, removes those profiles from the file, keeping everything else
/// in it. A profile whose access token has expired, has no readable `exp`, or is
/// missing is skipped and stays in the file. A missing file imports nothing.
///
/// # Errors
///
/// The errors of `sgtk::read_flow_tokens` (nothing is written then), an invalid
/// entry name (nothing is written), the vault's write errors (nothing is removed from
/// the file), and, after the vault holds every token, an error rewriting the file,
/// whose message says the tokens are safe in the vault.
pub fn import_flow_tokens(
    vault: &Vault,
    shotgun_home: &Path,
    options: &FlowImportOptions,
) -> Result<FlowImportReport> {
    let file = flow_tokens_file(shotgun_home);
    let profiles = read_flow_tokens(&file)?;
    let mut report = FlowImportReport {
        file: file.clone(),
        ..FlowImportReport::default()
    };
    let now = vault.now();
    let mut batch = Batch::new();
    let mut moved: Vec<(&str, &str)> = Vec::new();
    for p in &profiles {
        let skip = |reason: &str| SkippedFlowToken {
            app_id: p.app_id.clone(),
            profile: p.profile.clone(),
            reason: reason.to_owned(),
        };
        let Some(token) = p.to_credential() else {
            report.skipped.push(skip(
                "the file holds a refresh token but no access token for it",
            ));
            continue;
        };
        let Some(expires) = flow_token_expiry(token.access_token.expose()) else {
            report.skipped.push(skip(
                "its access token has no readable expiry (not a JWT with an \"exp\" claim)",
            ));
            continue;
        };
        if expires.secs() <= now.secs() {
            report.skipped.push(skip(
                "its access token has expired (tk-core refreshes it at its next use)",
            ));
            continue;
        }
        let name = format!("{}{}/{}", options.prefix, token.app_id, token.profile);
        validate_name(&name)?;
        let ttl = Duration::from_secs(expires.secs() - now.secs());
        batch.put_credential(&name, Credential::FlowToken(token), Some(ttl));
        report.imported.push(name);
        moved.push((&p.app_id, &p.profile));
    }
    if batch.is_empty() {
        return Ok(report);
    }
    // Atomic and flushed: after this returns, every token is on disk in the vault.
    vault.apply(batch)?;
    if !options.remove_from_file {
        return Ok(report);
    }
    report.removed = remove_flow_tokens(&file, &moved).map_err(|e| {
        let safe = format!(
            "the {} imported Flow tokens are safely in the vault, but removing them from {} failed",
            report.imported.len(),
            file.display()
        );
        match e {
            Error::Io { context, source } => Error::Io {
                context: format!("{safe}: {context}"),
                source,
            },
            other => Error::InvalidArgument(format!("{safe}: {other}")),
        }
    })?;
    Ok(report)
}
