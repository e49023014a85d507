//! Revoking grants before their windows end: a signed list of revoked grant ids
//! that the issuing vault writes beside its bundles, and every grant open reads.
//!
//! A bundle and its token cannot be taken back from a job, so revocation works
//! where the job's tools look: `farmvault grant-revoke ID` (`Vault::revoke_grants`)
//! adds the ids to the list file `revoked-<issuer vault id>.fvrl` in a directory
//! (the one the bundles are in), signed by the vault's issuer key; a grant open
//! reads the list of its issuer from the bundle's own directory and from the
//! directories `FARMVAULT_REVOCATIONS` names, and refuses a listed grant as
//! `Revoked`. The list is read at every open: a process that already opened the
//! grant keeps what it read until the use window ends, so revoke the credential
//! at the site too when it matters. Whoever can delete the file can undo a
//! revocation; keep the grants directory writable by the submit side only.
//!
//! ```text
//! file = "FVRL" ‖ version:u16 (=1) ‖ postcard(List) ‖ signature:64
//! List = issuer vault id:16 ‖ issuer key:32 ‖ written:u64 ‖ revoked grant ids: Vec<[u8;16]>
//! signature = Ed25519-sign(issuer key, "farmvault/v1/grant-revocations" ‖ bytes[0 .. len-64])
//! ```

use super::bundle::Parsed;
use super::issuer::{IssuerKey, IssuerSigningKey, SIGNATURE_LEN};
use super::{GrantId, GRANT_ID_LEN};
use crate::error::{Error, Result};
use crate::format::{hex, VAULT_ID_LEN};
use crate::storage::fsio::{self, StagedFile};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"FVRL";
const VERSION: u16 = 1;
/// The signature of a list covers this, then the list's bytes.
const CONTEXT: &[u8] = b"farmvault/v1/grant-revocations";
/// Largest list read: a million revoked grants is far past any farm's.
const MAX_LIST_LEN: u64 = 16 * 1024 * 1024;
/// The environment variable naming more directories to read revocation lists
/// from, separated like `PATH` (`:` on Unix, `;` on Windows).
pub const REVOCATIONS_ENV: &str = "FARMVAULT_REVOCATIONS";

#[derive(Serialize, Deserialize)]
struct List {
    issuer: [u8; VAULT_ID_LEN],
    key: [u8; 32],
    written: u64,
    revoked: Vec<[u8; GRANT_ID_LEN]>,
}

/// The list file of the vault `issuer` in `dir`.
pub fn revocation_list_path(dir: &Path, issuer: &[u8; VAULT_ID_LEN]) -> PathBuf {
    dir.join(format!("revoked-{}.fvrl", hex(issuer)))
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [CONTEXT, body].concat()
}

/// Reads and verifies the list at `path`: `None` when there is no file. A file
/// that does not parse, or whose signature does not verify under the key it
/// names, is `Corrupt`: an open must not go on as if nothing were revoked.
fn read(path: &Path) -> Result<Option<List>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::io(
                format!("reading revocation list {}", path.display()),
                e,
            ))
        }
    };
    let bad = |what: &str| Error::corrupt(path, format!("not a readable revocation list: {what}"));
    let bytes = fsio::read_at_most(file, MAX_LIST_LEN)
        .map_err(|e| Error::io(format!("reading revocation list {}", path.display()), e))?
        .ok_or_else(|| bad("too large"))?;
    let body_end = bytes
        .len()
        .checked_sub(SIGNATURE_LEN)
        .filter(|e| *e >= 6)
        .ok_or_else(|| bad("too short"))?;
    if &bytes[..4] != MAGIC || bytes[4..6] != VERSION.to_be_bytes() {
        return Err(bad("wrong magic or version"));
    }
    let list: List = match postcard::take_from_bytes(&bytes[6..body_end]) {
        Ok((l, [])) => l,
        _ => return Err(bad("its body does not decode")),
    };
    let sig: &[u8; SIGNATURE_LEN] = bytes[body_end..].try_into().expect("64 bytes");
    if !super::issuer::verifies_message(
        &IssuerKey(list.key),
        &signed_message(&bytes[..body_end]),
        sig,
    ) {
        return Err(Error::corrupt(
            path,
            "the revocation list's signature does not verify: it was changed after it was signed",
        ));
    }
    Ok(Some(list))
}

/// Refuses `parsed` (the bundle at `bundle`) as `Revoked` when a revocation list
/// of its issuer lists it: the list in the bundle's directory, and in each
/// directory of `FARMVAULT_REVOCATIONS`. A list signed by another key than the
/// bundle's signer is refused as `Corrupt` (format-1 bundles name no signer:
/// any list of their issuer vault that verifies counts).
pub(crate) fn check(bundle: &Path, parsed: &Parsed<'_>) -> Result<()> {
    let issuer = parsed.header.issuer;
    let mut dirs = vec![match bundle.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }];
    if let Some(more) = std::env::var_os(REVOCATIONS_ENV) {
        dirs.extend(std::env::split_paths(&more).filter(|p| !p.as_os_str().is_empty()));
    }
    for dir in dirs {
        let path = revocation_list_path(&dir, &issuer);
        let Some(list) = read(&path)? else { continue };
        if list.issuer != issuer {
            return Err(Error::corrupt(
                &path,
                "the revocation list names another vault than its file name",
            ));
        }
        if let Some(signer) = parsed.signer {
            if list.key != signer.0 {
                return Err(Error::corrupt(
                    &path,
                    format!("the revocation list is signed by another key than the grant's issuer {signer}"),
                ));
            }
        }
        if list.revoked.contains(&parsed.header.grant_id) {
            return Err(Error::Revoked {
                grant: GrantId(parsed.header.grant_id).to_hex(),
                list: path,
            });
        }
    }
    Ok(())
}

/// What [`Vault::revoke_grants`](crate::Vault::revoke_grants) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The list file written.
    pub path: PathBuf,
    /// The ids newly added (already listed ones are not repeated).
    pub added: Vec<GrantId>,
    /// How many grants the list revokes in all.
    pub total: usize,
}

/// Adds `ids` to the list of vault `issuer` in `dir`, signed with `key`,
/// replacing the file atomically (readable by all: it holds no secret, and
/// every job must read it).
pub(crate) fn add(
    dir: &Path,
    issuer: [u8; VAULT_ID_LEN],
    key: &IssuerSigningKey,
    ids: &[GrantId],
    now: u64,
) -> Result<Revocation> {
    let path = revocation_list_path(dir, &issuer);
    let mut revoked = match read(&path)? {
        Some(l) if l.key != key.public().0 => {
            return Err(Error::invalid(format!(
                "{} is signed by another key than this vault's issuer key: move it aside \
                 (it is not this vault's list)",
                path.display()
            )))
        }
        Some(l) => l.revoked,
        None => Vec::new(),
    };
    let mut added = Vec::new();
    for id in ids {
        if !revoked.contains(&id.0) {
            revoked.push(id.0);
            added.push(*id);
        }
    }
    let total = revoked.len();
    let list = List {
        issuer,
        key: key.public().0,
        written: now,
        revoked,
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&VERSION.to_be_bytes());
    bytes.extend_from_slice(&postcard::to_allocvec(&list).expect("a list always serialises"));
    let signature = key.sign_message(&signed_message(&bytes));
    bytes.extend_from_slice(&signature);
    let ctx = || format!("writing revocation list {}", path.display());
    let staged = StagedFile::write(&path, &bytes, ctx)?;
    staged
        .make_world_readable()
        .map_err(|e| Error::io(ctx(), e))?;
    staged
        .rename_into_place()
        .map_err(|e| Error::io(ctx(), e))?;
    Ok(Revocation { path, added, total })
}

impl crate::Vault {
    /// Revokes grants this vault issued: adds their ids to this vault's
    /// revocation list in `dir` (the directory the bundles are in, so every
    /// open finds it; or one `FARMVAULT_REVOCATIONS` names on the nodes),
    /// signed with the vault's issuer key. An id the vault has no record of is
    /// `NotFound`, and nothing is written. Opens from then on are `Revoked`;
    /// a process that already opened the grant keeps reading until its window
    /// ends.
    pub fn revoke_grants(&self, ids: &[GrantId], dir: &Path) -> Result<Revocation> {
        let direct = self.direct_for("revoke_grants")?;
        let known = direct.list_grants()?;
        if let Some(missing) = ids.iter().find(|id| !known.iter().any(|g| g.id == **id)) {
            return Err(Error::NotFound {
                name: format!("grant {missing}"),
            });
        }
        if ids.is_empty() {
            return Err(Error::invalid("name at least one grant id to revoke"));
        }
        let key = direct.issuer_signing_key()?;
        add(dir, direct.vault_id(), &key, ids, direct.now().secs())
    }
}
