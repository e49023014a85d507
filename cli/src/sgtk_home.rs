//! `exec --sgtk-home`: the Toolkit's `SHOTGUN_HOME` as a private directory of
//! one run, so the session tokens tk-core caches there never reach a lasting
//! disk, and the ones it renewed come back into the vault.
//!
//! tk-core writes every session token it is handed, and every one it renews,
//! to `$SHOTGUN_HOME/<site>/authentication.yml` in plain text (docs/TOOLKIT.md).
//! Here that directory is a `PrivateDir` (0700, on tmpfs where there is one),
//! wiped and removed when the run ends. Before that, each session token
//! cached there for a login and site that an injected session-token entry
//! names, and that differs from what the vault holds now, is written back to
//! that entry with the TTL of a freshly imported session. Through a grant
//! nothing can be written: the renewed tokens go with the directory.

use crate::error::CliError;
use crate::private_dir::PrivateDir;
use crate::unlock;
use farmvault::sgtk::{read_session_cache, session_cache_site_name, DEFAULT_SESSION_TTL};
use farmvault::{Credential, PutOptions, SessionToken};
use std::path::Path;

/// The directory, and the session-token entries the child was given.
pub struct SgtkHome {
    dir: PrivateDir,
    given: Vec<(String, SessionToken)>,
}

impl SgtkHome {
    /// A fresh private `SHOTGUN_HOME` (after removing those killed runs left).
    pub fn create() -> Result<SgtkHome, CliError> {
        Ok(SgtkHome {
            dir: PrivateDir::create("sgtk-home")?,
            given: Vec::new(),
        })
    }

    /// The directory the child gets as `SHOTGUN_HOME`.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remembers entry `name` when it is a session token the child was given.
    pub fn note(&mut self, name: &str, credential: &Credential) {
        if let Credential::SessionToken(s) = credential {
            if !self.given.iter().any(|(n, _)| n == name) {
                self.given.push((name.to_owned(), s.clone()));
            }
        }
    }

    /// The tokens tk-core cached that differ from the ones given: the entry
    /// each came from, and the session to store there.
    fn renewed(&self) -> Vec<(String, SessionToken)> {
        // A cache that cannot be read has nothing to bring back.
        let cached = read_session_cache(self.path()).unwrap_or_default();
        let mut out = Vec::new();
        for (name, given) in &self.given {
            let site = session_cache_site_name(&given.host);
            let found = cached
                .iter()
                .find(|c| c.site == site && c.session.login.trim() == given.login.trim());
            if let Some(c) = found {
                if c.session.session_token.expose() != given.session_token.expose() {
                    out.push((
                        name.clone(),
                        SessionToken {
                            host: given.host.clone(),
                            login: given.login.clone(),
                            session_token: c.session.session_token.clone(),
                            http_proxy: given.http_proxy.clone(),
                            session_metadata: c
                                .session
                                .session_metadata
                                .clone()
                                .or_else(|| given.session_metadata.clone()),
                        },
                    ));
                }
            }
        }
        out
    }

    /// After the child: brings renewed tokens back into the vault (`writable`:
    /// the run read the vault, not a grant), says how many on stderr (never
    /// the tokens), then wipes and removes the directory.
    pub fn finish(self, g: &crate::args::Global, writable: bool) -> Result<(), CliError> {
        let renewed = self.renewed();
        if renewed.is_empty() {
            return Ok(());
        }
        if !writable {
            eprintln!(
                "farmvault: {} renewed session token(s) wiped with the private SHOTGUN_HOME: a grant is read-only",
                renewed.len()
            );
            return Ok(());
        }
        let vault = unlock::open(g)?;
        let mut written = 0;
        for (name, session) in renewed {
            // Another run may have brought the same token home already.
            let current = vault.get(&name).ok().map(|e| e.credential);
            if let Some(Credential::SessionToken(now)) = &current {
                if now.session_token.expose() == session.session_token.expose() {
                    continue;
                }
            }
            vault.put_credential(
                &name,
                &Credential::SessionToken(session),
                &PutOptions::new().ttl(DEFAULT_SESSION_TTL),
            )?;
            written += 1;
        }
        if written > 0 && !g.quiet {
            eprintln!("farmvault: brought {written} renewed session token(s) back into the vault");
        }
        Ok(())
    }
}
