//! Session tokens tk-core renewed during a job, brought back into the vault.
//!
//! tk-core caches every session it builds or renews in
//! `<shotgun_home>/<site>/authentication.yml`. When a job ran tk-core with a
//! private `SHOTGUN_HOME` (`farmvault exec --sgtk-home`, Python's
//! `farmvault.sgtk.private_shotgun_home`), the token cached there for an
//! entry's site and login, when it differs from the entry's, is the one the
//! server now knows: it goes back into that entry before the directory is
//! wiped.

use super::import::DEFAULT_SESSION_TTL;
use super::session_cache::{read_session_cache, session_cache_site_name};
use crate::credential::{Credential, SessionToken};
use crate::error::Result;
use crate::vault::{PutOptions, Vault};
use std::path::Path;

/// The session tk-core cached under `shotgun_home` for `current`'s site and
/// login, when its token differs from `current`'s: `current` with that token
/// (and the cached session metadata, when there is some). `None` when the
/// cache has no such user or the same token.
pub fn renewed_session(
    current: &SessionToken,
    shotgun_home: &Path,
) -> Result<Option<SessionToken>> {
    let site = session_cache_site_name(&current.host);
    let cached = read_session_cache(shotgun_home)?;
    let found = cached
        .iter()
        .find(|c| c.site == site && c.session.login.trim() == current.login.trim());
    Ok(found
        .filter(|c| c.session.session_token.expose() != current.session_token.expose())
        .map(|c| SessionToken {
            host: current.host.clone(),
            login: current.login.clone(),
            session_token: c.session.session_token.clone(),
            http_proxy: current.http_proxy.clone(),
            session_metadata: c
                .session
                .session_metadata
                .clone()
                .or_else(|| current.session_metadata.clone()),
        }))
}

/// Writes the session tk-core renewed under `shotgun_home` for entry `name`
/// (a session token) back into it, with the TTL of a fresh import
/// ([`DEFAULT_SESSION_TTL`]); `true` when it wrote. An entry of another kind,
/// or a cache with nothing newer, writes nothing.
///
/// # Errors
///
/// The vault's read and write errors (`NotFound`, `Expired`, `ReadOnly`
/// through a read-only handle, ...); [`crate::Error::Io`] or
/// [`crate::Error::InvalidArgument`] for a cache that cannot be read.
pub fn bring_home(vault: &Vault, shotgun_home: &Path, name: &str) -> Result<bool> {
    let Credential::SessionToken(current) = vault.get(name)?.credential else {
        return Ok(false);
    };
    match renewed_session(&current, shotgun_home)? {
        Some(renewed) => {
            vault.put_credential(
                name,
                &Credential::SessionToken(renewed),
                &PutOptions::new().ttl(DEFAULT_SESSION_TTL),
            )?;
            Ok(true)
        }
        None => Ok(false),
    }
}
