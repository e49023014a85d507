//! `exec --sgtk-home`: the Toolkit's `SHOTGUN_HOME` as a private directory of
//! one run, so the session tokens tk-core caches there never reach a lasting
//! disk, and the ones it renewed come back into the vault.
//!
//! tk-core writes every session token it is handed, and every one it renews,
//! to `$SHOTGUN_HOME/<site>/authentication.yml` in plain text (docs/TOOLKIT.md).
//! Here that directory is a `PrivateDir` (0700, on tmpfs where there is one),
//! wiped and removed when the run ends. Before that, the library's
//! `sgtk::bring_home` writes each session token cached there for the site and
//! login of an injected session-token entry, when it differs from what the
//! vault holds now, back to that entry. Through a grant nothing can be
//! written: the renewed tokens go with the directory.

use crate::error::CliError;
use crate::private_dir::PrivateDir;
use crate::unlock;
use farmvault::sgtk::{bring_home, renewed_session};
use farmvault::{Credential, SessionToken};
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

    /// After the child: brings renewed tokens back into the vault (`writable`:
    /// the run read the vault, not a grant), says how many on stderr (never
    /// the tokens), then wipes and removes the directory.
    pub fn finish(self, g: &crate::args::Global, writable: bool) -> Result<(), CliError> {
        if !writable {
            let renewed = self
                .given
                .iter()
                .filter(|(_, s)| matches!(renewed_session(s, self.path()), Ok(Some(_))))
                .count();
            if renewed > 0 {
                eprintln!(
                    "farmvault: {renewed} renewed session token(s) wiped with the private SHOTGUN_HOME: a grant is read-only"
                );
            }
            return Ok(());
        }
        // Reopened only when there is something to write: no second unlock otherwise.
        if !self
            .given
            .iter()
            .any(|(_, s)| matches!(renewed_session(s, self.path()), Ok(Some(_))))
        {
            return Ok(());
        }
        let vault = unlock::open(g)?;
        let mut written = 0;
        for (name, _) in &self.given {
            if bring_home(&vault, self.path(), name)? {
                written += 1;
            }
        }
        if written > 0 && !g.quiet {
            eprintln!("farmvault: brought {written} renewed session token(s) back into the vault");
        }
        Ok(())
    }
}
