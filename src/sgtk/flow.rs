//! tk-core 0.24's Flow (Autodesk Platform Services) OAuth tokens: the plaintext
//! `adsk_flow_tokens.json` in the Toolkit home, read, written, and edited in place.
//!
//! tk-core (`tank_vendor/adsk_auth/file_store.py`) keeps one JSON object,
//! `{"adsk.flow.<app_id>.access_token": {<profile>: <JWT>},
//! "adsk.flow.<app_id>.refresh_token": {<profile>: <token>}}`, written by
//! `json.dump` (Python's default separators, ASCII, keys in insertion order, no
//! newline), mode 0600. It reads it with `json.load` (a later duplicate key wins),
//! ignores keys it does not know, and removes a profile by deleting it from both
//! dicts, leaving them empty. An access token's expiry is its JWT `exp` claim, read
//! without checking the signature.

use super::json::{apply_cuts, member_cuts, object_members, push_json_str, Member};
use super::user::*;
use crate::clock::UnixTime;
use crate::credential::FlowToken;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::storage::fsio;
use base64ct::Encoding as _;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The file's name in the Toolkit home (`$SHOTGUN_HOME`, else the platform's).
pub const FLOW_TOKENS_FILE: &str = "adsk_flow_tokens.json";

/// The APS application id tk-core 0.24 authenticates as, unless
/// `TK_FLOW_AUTH_APPLICATION_ID` names another.
pub const DEFAULT_FLOW_APP_ID: &str = "8QyoQKXZ7HDuQFmptJGrzsp2GwpATmyV";

const SERVICE_PREFIX: &str = "adsk.flow.";
const ACCESS: &str = ".access_token";
const REFRESH: &str = ".refresh_token";

/// `<shotgun_home>/adsk_flow_tokens.json`.
pub fn flow_tokens_file(shotgun_home: &Path) -> PathBuf {
    shotgun_home.join(FLOW_TOKENS_FILE)
}

/// One application and profile in the file, whatever tokens it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowProfile {
    /// The application id.
    pub app_id: String,
    /// The profile.
    pub profile: String,
    /// The access token (a JWT), when the file holds one.
    pub access_token: Option<SecretString>,
    /// The refresh token, when the file holds one.
    pub refresh_token: Option<SecretString>,
}

impl FlowProfile {
    /// The token pair as a credential; `None` without an access token.
    pub fn to_credential(&self) -> Option<FlowToken> {
        Some(FlowToken {
            app_id: self.app_id.clone(),
            profile: self.profile.clone(),
            access_token: self.access_token.clone()?,
            refresh_token: self.refresh_token.clone(),
        })
    }
}

/// The expiry of a Flow access token: its JWT payload's `exp` claim, read as tk-core
/// reads it (no signature check). `None` when the token is not a three-part JWT, its
/// payload is not base64url JSON, or `exp` is missing, not a number or not positive.
pub fn flow_token_expiry(access_token: &str) -> Option<UnixTime> {
    #[derive(serde::Deserialize)]
    struct Claims {
        exp: Option<f64>,
    }
    let mut parts = access_token.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let decoded = Zeroizing::new(
        base64ct::Base64UrlUnpadded::decode_vec(payload.trim_end_matches('=')).ok()?,
    );
    // Only `exp` is kept: serde skips every other claim without copying it.
    let claims: Claims = serde_json::from_slice(&decoded).ok()?;
    let exp = claims.exp.filter(|e| e.is_finite() && *e >= 1.0)?;
    // Whole seconds, as `exp` is: a fraction is dropped.
    Some(UnixTime(exp as u64))
}

/// Writes a token pair as tk-core's `persist_tokens` writes it into an empty file:
/// `{"adsk.flow.<app>.access_token": {"<profile>": "<jwt>"},
/// "adsk.flow.<app>.refresh_token": {"<profile>": "<token>"}}`, byte for byte
/// `json.dump`'s output, the refresh token left out when there is none.
pub fn to_flow_tokens_json(token: &FlowToken) -> String {
    let mut out = String::with_capacity(256 + token.access_token.len());
    let member = |out: &mut String, suffix: &str, value: &str| {
        push_json_str(out, &format!("{SERVICE_PREFIX}{}{suffix}", token.app_id));
        out.push_str(": {");
        push_json_str(out, &token.profile);
        out.push_str(": ");
        push_json_str(out, value);
        out.push('}');
    };
    out.push('{');
    member(&mut out, ACCESS, token.access_token.expose());
    if let Some(refresh) = &token.refresh_token {
        out.push_str(", ");
        member(&mut out, REFRESH, refresh.expose());
    }
    out.push('}');
    out
}

/// Reads every application and profile of a token file, in file order, a later
/// duplicate key replacing an earlier one as in Python. Keys other than
/// `adsk.flow.<app>.access_token` / `.refresh_token` are not tk-core's Flow tokens and
/// are passed over. A missing file holds no tokens.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::InvalidArgument`] naming the
/// file when it is over [`MAX_CACHE_FILE_LEN`], not UTF-8 JSON, not an object, or a
/// token dict or token is of another type. No value is ever quoted.
pub fn read_flow_tokens(file: &Path) -> Result<Vec<FlowProfile>> {
    let Some(text) = load(file)? else {
        return Ok(Vec::new());
    };
    let mut found: Vec<FlowProfile> = Vec::new();
    for Service {
        app_id,
        is_access,
        profiles,
    } in services(&text, file)?
    {
        for m in profiles {
            let token: SecretString =
                match serde_json::from_str::<Option<String>>(&text[m.value.clone()]) {
                    Ok(Some(t)) => SecretString::new(t),
                    // json.dump never writes a null token; tk-core would find none.
                    Ok(None) => continue,
                    Err(_) => {
                        return Err(file_err(
                            file,
                            format!(
                            "the {} token of application {app_id:?}, profile {:?}, is not a string",
                            if is_access { "access" } else { "refresh" },
                            m.key
                        ),
                        ))
                    }
                };
            let token = Some(token).filter(|t| !t.is_empty());
            let at = match found
                .iter()
                .position(|p| p.app_id == app_id && p.profile == m.key)
            {
                Some(at) => at,
                None => {
                    found.push(FlowProfile {
                        app_id: app_id.clone(),
                        profile: m.key.clone(),
                        access_token: None,
                        refresh_token: None,
                    });
                    found.len() - 1
                }
            };
            if is_access {
                found[at].access_token = token;
            } else {
                found[at].refresh_token = token;
            }
        }
    }
    found.retain(|p| p.access_token.is_some() || p.refresh_token.is_some());
    Ok(found)
}

/// Removes the tokens of `which` (application id, profile) from a token file, as
/// tk-core's `delete_tokens` does: each profile leaves both token dicts, which stay
/// (empty if it was their only one); every other key, application and profile keeps
/// its bytes. Returns how many profiles lost a token. Nothing is written when none
/// did; otherwise the file is replaced atomically (temporary file, fsync, rename,
/// fsync of the folder; a symbolic link is followed), 0600 on Unix, so tk-core and
/// the file's other users go on reading it.
///
/// # Errors
///
/// As [`read_flow_tokens`], and [`Error::Io`] when the file cannot be replaced.
pub fn remove_flow_tokens(file: &Path, which: &[(&str, &str)]) -> Result<usize> {
    let Some(text) = load(file)? else {
        return Ok(0);
    };
    let mut cuts = Vec::new();
    let mut removed: Vec<(&str, &str)> = Vec::new();
    let top = object_members(&text, json_start(&text)).map_err(|e| file_err(file, e))?;
    for service in &top {
        let Some((app_id, _)) = parse_service(&service.key) else {
            continue;
        };
        // Every occurrence of a duplicate key: an ignored one still holds a secret.
        let Ok(profiles) = object_members(&text, service.value.start) else {
            continue;
        };
        let doomed: Vec<usize> = profiles
            .iter()
            .enumerate()
            .filter(|(_, m)| which.contains(&(app_id, m.key.as_str())))
            .map(|(i, _)| i)
            .collect();
        for &i in &doomed {
            let pair = which
                .iter()
                .find(|w| **w == (app_id, profiles[i].key.as_str()))
                .expect("doomed members match one of `which`");
            if !removed.contains(pair) {
                removed.push(*pair);
            }
        }
        cuts.extend(member_cuts(&profiles, &doomed));
    }
    if cuts.is_empty() {
        return Ok(0);
    }
    let edited = Zeroizing::new(apply_cuts(&text, cuts));
    let target = std::fs::canonicalize(file)
        .map_err(|e| Error::io(format!("resolving {}", file.display()), e))?;
    fsio::replace_private(&target, ".adsk_flow_tokens.json.", |w| {
        w.write_all(edited.as_bytes())
    })
    .map_err(|e| Error::io(format!("rewriting {}", target.display()), e))?;
    Ok(removed.len())
}

/// The application id and kind (`true` for access) of a service key.
fn parse_service(key: &str) -> Option<(&str, bool)> {
    let rest = key.strip_prefix(SERVICE_PREFIX)?;
    let (app_id, is_access) = match rest.strip_suffix(ACCESS) {
        Some(app) => (app, true),
        None => (rest.strip_suffix(REFRESH)?, false),
    };
    Some((app_id, is_access)).filter(|(app, _)| !app.is_empty())
}

/// One `adsk.flow.<app_id>.<kind>` key of the file and its profiles.
struct Service {
    app_id: String,
    /// `access_token` (else `refresh_token`).
    is_access: bool,
    profiles: Vec<Member>,
}

/// The Flow services of the file in order, each with its profiles as Python reads
/// them: the last of duplicate keys, at both levels.
fn services(text: &str, file: &Path) -> Result<Vec<Service>> {
    let top = object_members(text, json_start(text)).map_err(|e| file_err(file, e))?;
    let mut out = Vec::new();
    for (i, service) in top.iter().enumerate() {
        if top[i + 1..].iter().any(|later| later.key == service.key) {
            continue;
        }
        let Some((app_id, is_access)) = parse_service(&service.key) else {
            continue;
        };
        if text.as_bytes().get(service.value.start) != Some(&b'{') {
            return Err(file_err(
                file,
                format!("{:?} is not an object of profiles", service.key),
            ));
        }
        let members = object_members(text, service.value.start).map_err(|e| file_err(file, e))?;
        let last: Vec<Member> = members
            .iter()
            .enumerate()
            .filter(|(j, m)| !members[j + 1..].iter().any(|later| later.key == m.key))
            .map(|(_, m)| m.clone())
            .collect();
        out.push(Service {
            app_id: app_id.to_owned(),
            is_access,
            profiles: last,
        });
    }
    Ok(out)
}

/// Where the top-level value starts (after leading whitespace).
fn json_start(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// The file's text, checked as a JSON object; `None` when there is no file.
fn load(file: &Path) -> Result<Option<Zeroizing<String>>> {
    let read_err = |e| Error::io(format!("reading {}", file.display()), e);
    let f = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    let mut bytes = Zeroizing::new(Vec::new());
    f.take(MAX_CACHE_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_CACHE_FILE_LEN {
        return Err(file_err(
            file,
            format!("larger than {MAX_CACHE_FILE_LEN} bytes"),
        ));
    }
    let text = Zeroizing::new(
        String::from_utf8(std::mem::take(&mut *bytes))
            .map_err(|_| file_err(file, "not UTF-8 text"))?,
    );
    // Checked without copying a value: serde skips them.
    serde_json::from_str::<serde::de::IgnoredAny>(&text)
        .map_err(|e| file_err(file, super::json::json_error_text(&e)))?;
    if !text.trim_start().starts_with('{') {
        return Err(file_err(file, "the JSON is not an object"));
    }
    Ok(Some(text))
}

fn file_err(file: &Path, what: impl std::fmt::Display) -> Error {
    invalid(format!(
        "tk-core Flow token file {}: {what}",
        file.display()
    ))
}
