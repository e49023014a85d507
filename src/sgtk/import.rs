//! Moving session tokens out of tk-core's plaintext session cache
//! (`<SHOTGUN_HOME>/<site>/authentication.yml`) into a vault: one implementation
//! for the command line, the C ABI and Python.
//!
//! The order is what makes it safe: every token is written to the vault in one
//! atomic, flushed batch first; only then, and only when asked, are the tokens
//! removed from the YAML files. A failure at any point leaves each token in the
//! vault, in the cache, or in both, never in neither.

use super::session_cache::{read_session_cache, remove_tokens_from_session_cache};
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::vault::{validate_name, Batch, Vault};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// tk-core's file name for a site's session cache.
const CACHE_FILE_NAME: &str = "authentication.yml";

/// Sessions expire on the server after 24 hours of inactivity by default.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(24 * 3600);

/// How to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// Entries are named `<prefix><site>/<login>`; default `"shotgun/"`.
    pub prefix: String,
    /// TTL of the imported entries, counted from the import (the cache does not
    /// record when a session started); default 24 hours, `None` for no expiry.
    pub ttl: Option<Duration>,
    /// Remove the imported tokens from the cache files once they are in the vault.
    pub remove_from_cache: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            prefix: "shotgun/".to_owned(),
            ttl: Some(DEFAULT_SESSION_TTL),
            remove_from_cache: false,
        }
    }
}

/// Tokens removed from one site's cache file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedTokens {
    /// The site folder's name, e.g. `mysite`.
    pub site: String,
    /// The cache file that was rewritten.
    pub file: PathBuf,
    /// How many users' tokens were removed from it.
    pub tokens: usize,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Names of the entries written, in cache order (sites by name, users in file order).
    pub imported: Vec<String>,
    /// Per site, the tokens removed from the cache (empty unless `remove_from_cache`).
    pub removed: Vec<RemovedTokens>,
}

/// The entry name a cached session is stored under.
pub fn entry_name(prefix: &str, site: &str, login: &str) -> String {
    format!("{prefix}{site}/{login}")
}

/// Imports every session token cached under `shotgun_home` into `vault` as
/// `session_token` entries named `<prefix><site>/<login>` (replacing entries of
/// the same name), then, with `remove_from_cache`, removes those tokens from the
/// cache files.
///
/// # Errors
///
/// The errors of `sgtk::read_session_cache` (nothing is written then), an invalid
/// entry name or TTL (nothing is written), the vault's write errors (nothing is
/// removed from the cache), and, after the vault holds every token, an error
/// rewriting a cache file, whose message says the tokens are safe in the vault.
pub fn import_session_cache(
    vault: &Vault,
    shotgun_home: &Path,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let sessions = read_session_cache(shotgun_home)?;
    let mut report = ImportReport::default();
    if sessions.is_empty() {
        return Ok(report);
    }
    let mut batch = Batch::new();
    let mut by_site: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &sessions {
        let name = entry_name(&options.prefix, &s.site, &s.session.login);
        validate_name(&name)?;
        batch.put_credential(
            &name,
            Credential::SessionToken(s.session.clone()),
            options.ttl,
        );
        if !report.imported.contains(&name) {
            report.imported.push(name);
        }
        by_site
            .entry(s.site.as_str())
            .or_default()
            .push(s.session.login.as_str());
    }
    // Atomic and flushed: after this returns, every token is on disk in the vault.
    vault.apply(batch)?;
    if !options.remove_from_cache {
        return Ok(report);
    }
    for (site, logins) in by_site {
        let file = shotgun_home.join(site).join(CACHE_FILE_NAME);
        let tokens = remove_tokens_from_session_cache(&file, &logins).map_err(|e| {
            let safe = format!(
                "the {} imported tokens are safely in the vault, but removing them from {} failed",
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
        report.removed.push(RemovedTokens {
            site: site.to_owned(),
            file,
            tokens,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, Config, KdfParams, Kind, ManualClock, UnixTime, Unlock};
    use std::sync::Arc;

    const SITE_CACHE: &str = "current_user: jdoe
method: qt_web_login
recent_users:
- jdoe
users:
- login: jdoe
  session_metadata: bWV0YQ==
  session_token: tok1
- login: asmith
  session_token: tok2
";

    fn fixture() -> (tempfile::TempDir, PathBuf, Vault, ManualClock) {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("shotgun_home");
        std::fs::create_dir_all(home.join("mysite")).expect("site dir");
        std::fs::write(home.join("mysite").join(CACHE_FILE_NAME), SITE_CACHE).expect("cache");
        std::fs::write(
            home.join(CACHE_FILE_NAME),
            "current_host: https://mysite.shotgrid.autodesk.com\n",
        )
        .expect("global cache");
        let clock = ManualClock::new(UnixTime(1_700_000_000));
        let vault = Config::new(dir.path().join("vault"))
            .kdf(KdfParams::new(8, 1, 1).expect("cheap kdf"))
            .clock(Arc::new(clock.clone()))
            .create(&Unlock::passphrase("pw"))
            .expect("vault");
        (dir, home, vault, clock)
    }

    #[test]
    fn imports_every_token_with_the_default_ttl() {
        let (_dir, home, vault, clock) = fixture();
        let report =
            import_session_cache(&vault, &home, &ImportOptions::default()).expect("import");
        assert_eq!(
            report.imported,
            ["shotgun/mysite/jdoe", "shotgun/mysite/asmith"]
        );
        assert!(report.removed.is_empty());
        let e = vault.get("shotgun/mysite/jdoe").expect("jdoe");
        assert_eq!(e.meta.kind, Kind::SessionToken);
        assert_eq!(e.credential.secret(), b"tok1");
        assert_eq!(
            e.credential.field(crate::Field::SessionMetadata),
            Some(&b"bWV0YQ=="[..])
        );
        assert_eq!(
            e.meta.host.as_deref(),
            Some("https://mysite.shotgrid.autodesk.com")
        );
        assert_eq!(e.meta.expires, Some(clock.now().plus(DEFAULT_SESSION_TTL)));
        // Without remove_from_cache the cache is untouched.
        let text =
            std::fs::read_to_string(home.join("mysite").join(CACHE_FILE_NAME)).expect("cache");
        assert_eq!(text, SITE_CACHE);
    }

    #[test]
    fn removes_from_the_cache_only_after_the_vault_has_them() {
        let (_dir, home, vault, _clock) = fixture();
        let options = ImportOptions {
            prefix: "sg/".into(),
            ttl: None,
            remove_from_cache: true,
        };
        let report = import_session_cache(&vault, &home, &options).expect("import");
        assert_eq!(report.imported, ["sg/mysite/jdoe", "sg/mysite/asmith"]);
        assert_eq!(report.removed.len(), 1);
        assert_eq!(report.removed[0].site, "mysite");
        assert_eq!(report.removed[0].tokens, 2);
        let text =
            std::fs::read_to_string(home.join("mysite").join(CACHE_FILE_NAME)).expect("cache");
        assert!(!text.contains("tok1") && !text.contains("tok2"), "{text}");
        assert!(!text.contains("bWV0YQ=="), "{text}");
        assert_eq!(
            vault.get("sg/mysite/asmith").expect("asmith").meta.expires,
            None
        );
        // A second import finds nothing left to move.
        let again = import_session_cache(&vault, &home, &options).expect("again");
        assert!(again.imported.is_empty());
    }

    #[test]
    fn a_failed_vault_write_leaves_the_cache_alone() {
        let (_dir, home, vault, _clock) = fixture();
        let options = ImportOptions {
            prefix: "bad\u{7}/".into(),
            ttl: Some(DEFAULT_SESSION_TTL),
            remove_from_cache: true,
        };
        assert!(matches!(
            import_session_cache(&vault, &home, &options),
            Err(Error::InvalidArgument(_))
        ));
        let text =
            std::fs::read_to_string(home.join("mysite").join(CACHE_FILE_NAME)).expect("cache");
        assert_eq!(text, SITE_CACHE);
        assert!(vault.list("").expect("list").is_empty());
    }

    #[test]
    fn a_missing_home_is_an_io_error() {
        let (dir, _home, vault, _clock) = fixture();
        let err = import_session_cache(&vault, &dir.path().join("nope"), &ImportOptions::default())
            .expect_err("missing home");
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
    }
}
