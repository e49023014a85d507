//! tk-core's plaintext session cache (`<root>/<site>/authentication.yml`): read,
//! and rewritten without the tokens farmvault has taken in.

use super::user::*;
use super::yaml::emit_yaml;
use crate::credential::SessionToken;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::storage::fsio;
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// What `remove_tokens_from_session_cache` leaves in a user's non-empty
/// `session_metadata` once the vault holds it: a non-empty value, so that tk-core
/// caches the metadata of the user's next SSO login over it.
pub const SESSION_METADATA_MOVED: &str = "moved-to-farmvault";

/// One session token found in tk-core's session cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedSession {
    /// The site folder's name under the cache root, e.g. `mysite`.
    pub site: String,
    /// The site URL the folder stands for (see the module documentation for how it is
    /// found).
    pub host: String,
    /// The cached session: `host`, `login`, `session_token`, and `session_metadata` when
    /// set; `http_proxy` is always `None` (the cache does not record it).
    pub session: SessionToken,
}

/// The cache folder name tk-core uses for `host`: the URL's netloc up to its first `:`,
/// lower-cased, with `.shotgunstudio.com` and `.shotgrid.autodesk.com` removed. A host
/// without a scheme is taken as `https://<host>` (tk-core sanitizes hosts that way before
/// it stores them).
pub fn session_cache_site_name(host: &str) -> String {
    let host = host.trim();
    let after_scheme = match host.find("://") {
        Some(i) => &host[i + 3..],
        None => host,
    };
    let netloc = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let site = netloc.split(':').next().unwrap_or_default().to_lowercase();
    site.replace(".shotgunstudio.com", "")
        .replace(".shotgrid.autodesk.com", "")
}

/// The session cache file tk-core uses for `host` under `shotgun_home`:
/// `<shotgun_home>/<site>/authentication.yml`.
pub fn session_cache_file(shotgun_home: &Path, host: &str) -> PathBuf {
    shotgun_home
        .join(session_cache_site_name(host))
        .join(CACHE_FILE_NAME)
}

/// Reads every session token in tk-core's cache under `shotgun_home` (see
/// [`default_shotgun_home`]): each `<shotgun_home>/<site>/authentication.yml`, sites in
/// name order, users in file order.
///
/// The global `<shotgun_home>/authentication.yml` is not a user file; its `current_host`
/// and `recent_hosts` give each site folder its host (the module documentation has the
/// fallback when none matches). Users whose `session_token` is missing, null or empty are
/// skipped; logins are trimmed as tk-core trims them; an empty `session_metadata` counts
/// as unset, as in tk-core's `get_session_data`.
///
/// # Errors
///
/// [`Error::Io`] when `shotgun_home` or a file cannot be read;
/// [`Error::InvalidArgument`] naming the file when one is larger than
/// [`MAX_CACHE_FILE_LEN`], is not YAML, or has a value of the wrong type.
pub fn read_session_cache(shotgun_home: &Path) -> Result<Vec<CachedSession>> {
    let hosts = known_hosts(&shotgun_home.join(CACHE_FILE_NAME))?;
    let entries = fs::read_dir(shotgun_home).map_err(|e| {
        Error::io(
            format!(
                "reading tk-core's session cache folder {}",
                shotgun_home.display()
            ),
            e,
        )
    })?;
    let mut sites = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            Error::io(
                format!(
                    "reading tk-core's session cache folder {}",
                    shotgun_home.display()
                ),
                e,
            )
        })?;
        // A folder name that is not UTF-8 cannot have come from a host name.
        let Ok(site) = entry.file_name().into_string() else {
            continue;
        };
        let file = entry.path().join(CACHE_FILE_NAME);
        if file.is_file() {
            sites.push((site, file));
        }
    }
    sites.sort();

    let mut sessions = Vec::new();
    for (site, file) in sites {
        let host = host_for_site(&site, &hosts);
        let mut doc = load_yaml(&file)?;
        let Some(users) = users_of(&mut doc, &file)? else {
            continue;
        };
        for (i, user) in users.iter_mut().enumerate() {
            let Yaml::Mapping(user) = user else {
                return Err(cache_err(&file, format!("users[{i}] is not a mapping")));
            };
            let login = match user.get("login") {
                Some(Yaml::String(s)) => s.trim().to_owned(),
                None | Some(Yaml::Null) => continue,
                Some(_) => {
                    return Err(cache_err(
                        &file,
                        format!("users[{i}].login is not a string"),
                    ))
                }
            };
            let Some(token) = take_yaml_secret(user, "session_token", i, &file)? else {
                continue;
            };
            let metadata = take_yaml_secret(user, "session_metadata", i, &file)?;
            if login.is_empty() || token.is_empty() {
                continue;
            }
            sessions.push(CachedSession {
                site: site.clone(),
                host: host.clone(),
                session: SessionToken {
                    host: host.clone(),
                    login,
                    session_token: token,
                    http_proxy: None,
                    // The placeholder a removal leaves is no cookie.
                    session_metadata: metadata
                        .filter(|m| !m.is_empty() && m.expose() != SESSION_METADATA_MOVED),
                },
            });
        }
    }
    Ok(sessions)
}

/// Moves a string out of a YAML mapping into a self-wiping buffer.
pub(super) fn take_yaml_secret(
    user: &mut Mapping,
    key: &str,
    index: usize,
    file: &Path,
) -> Result<Option<SecretString>> {
    match user.get_mut(key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) => Ok(Some(SecretString::new(std::mem::take(s)))),
        Some(_) => Err(cache_err(
            file,
            format!("users[{index}].{key} is not a string"),
        )),
    }
}

pub(super) fn cache_err(file: &Path, what: impl std::fmt::Display) -> Error {
    invalid(format!("tk-core session cache {}: {what}", file.display()))
}

/// The hosts of tk-core's global file, `current_host` first.
pub(super) fn known_hosts(global: &Path) -> Result<Vec<String>> {
    if !global.is_file() {
        return Ok(Vec::new());
    }
    let doc = load_yaml(global)?;
    let mut hosts = Vec::new();
    if let Yaml::Mapping(m) = &doc {
        if let Some(Yaml::String(h)) = m.get("current_host") {
            hosts.push(h.clone());
        }
        if let Some(Yaml::Sequence(recent)) = m.get("recent_hosts") {
            hosts.extend(recent.iter().filter_map(|h| h.as_str().map(str::to_owned)));
        }
    }
    Ok(hosts)
}

pub(super) fn host_for_site(site: &str, hosts: &[String]) -> String {
    if let Some(host) = hosts.iter().find(|h| session_cache_site_name(h) == site) {
        return host.trim().to_owned();
    }
    if site.contains('.') {
        format!("https://{site}")
    } else {
        format!("https://{site}.shotgrid.autodesk.com")
    }
}

pub(super) fn load_yaml(file: &Path) -> Result<Yaml> {
    let read_err = |e| Error::io(format!("reading {}", file.display()), e);
    let f = fs::File::open(file).map_err(read_err)?;
    let mut text = Zeroizing::new(String::new());
    f.take(MAX_CACHE_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_CACHE_FILE_LEN {
        return Err(cache_err(
            file,
            format!("larger than {MAX_CACHE_FILE_LEN} bytes"),
        ));
    }
    if text.trim().is_empty() {
        return Ok(Yaml::Null);
    }
    // Only the position is reported: the parser's own text could quote the file.
    serde_yaml_ng::from_str(&text).map_err(|e| match e.location() {
        Some(at) => cache_err(
            file,
            format!("not valid YAML (line {} column {})", at.line(), at.column()),
        ),
        None => cache_err(file, "not valid YAML"),
    })
}

/// The `users` list of a site file; `None` when the file has none.
pub(super) fn users_of<'d>(doc: &'d mut Yaml, file: &Path) -> Result<Option<&'d mut Vec<Yaml>>> {
    match doc {
        Yaml::Null => Ok(None),
        Yaml::Mapping(m) => match m.get_mut("users") {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Sequence(users)) => Ok(Some(users)),
            Some(_) => Err(cache_err(file, "\"users\" is not a list")),
        },
        _ => Err(cache_err(file, "the document is not a mapping")),
    }
}

/// Removes the session tokens of `logins` from one tk-core session cache file and
/// returns how many users lost a token. Logins match as tk-core matches them: trimmed and
/// case-insensitive.
///
/// For each matching user `session_token` is set to `null`, and a non-empty
/// `session_metadata` (SSO cookie data, which the vault now holds) is replaced by
/// [`SESSION_METADATA_MOVED`]; every other key, user and top-level entry is kept. The
/// token is nulled rather than deleted because cores before v0.20.30 read
/// `user["session_token"]` without a default when they cache the next login. The
/// metadata keeps a non-empty value because tk-core, when it caches a user it already
/// has, writes new `session_metadata` only over a non-empty one: with the key gone or
/// empty, it would never again cache the metadata of that user's next SSO login. The
/// placeholder is never read as a cookie: tk-core uses a user's metadata only with its
/// token, which is null, and replaces both at the next login. tk-core reads a null
/// token as "no cached session" and asks the user to log in.
///
/// When something changed the file is rewritten atomically (a temporary file in the same
/// folder, flushed, renamed over it; a symbolic link is followed) with mode 0600 on Unix.
/// Strings are written so that tk-core's PyYAML (YAML 1.1) reads them back as strings:
/// plain when unambiguous, double-quoted ASCII otherwise. Nothing is written when no user
/// matched. tk-core writing the same file at the same moment is not guarded against.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read or replaced; [`Error::InvalidArgument`]
/// naming the file when it is not a tk-core site cache (not YAML, no mapping, `users`
/// not a list of mappings).
pub fn remove_tokens_from_session_cache(file: &Path, logins: &[&str]) -> Result<usize> {
    let wanted: Vec<String> = logins.iter().map(|l| l.trim().to_lowercase()).collect();
    let mut doc = load_yaml(file)?;
    let mut removed = 0;
    if let Some(users) = users_of(&mut doc, file)? {
        for (i, user) in users.iter_mut().enumerate() {
            let Yaml::Mapping(user) = user else {
                return Err(cache_err(file, format!("users[{i}] is not a mapping")));
            };
            let matches = match user.get("login") {
                Some(Yaml::String(login)) => wanted.contains(&login.trim().to_lowercase()),
                _ => false,
            };
            if !matches {
                continue;
            }
            let mut changed = false;
            if let Some(token) = user.get_mut("session_token") {
                if !token.is_null() {
                    wipe_yaml(token);
                    *token = Yaml::Null;
                    changed = true;
                }
            }
            if let Some(metadata) = user.get_mut("session_metadata") {
                if matches!(metadata, Yaml::String(m) if !m.is_empty() && m != SESSION_METADATA_MOVED)
                {
                    wipe_yaml(metadata);
                    *metadata = Yaml::String(SESSION_METADATA_MOVED.to_owned());
                    changed = true;
                }
            }
            removed += usize::from(changed);
        }
    }
    if removed > 0 {
        let text = Zeroizing::new(emit_yaml(&doc).map_err(|what| cache_err(file, what))?);
        atomic_write(file, text.as_bytes())?;
    }
    Ok(removed)
}

pub(super) fn wipe_yaml(value: &mut Yaml) {
    if let Yaml::String(s) = value {
        s.zeroize();
    }
}

/// Replaces `file` (through symlinks, as tk-core's own writes do) with `contents`,
/// atomically and privately (`fsio::replace_private`).
pub(super) fn atomic_write(file: &Path, contents: &[u8]) -> Result<()> {
    let target = fs::canonicalize(file)
        .map_err(|e| Error::io(format!("resolving {}", file.display()), e))?;
    fsio::replace_private(&target, ".authentication.yml.", |w| w.write_all(contents))
        .map_err(|e| Error::io(format!("rewriting {}", target.display()), e))
}
