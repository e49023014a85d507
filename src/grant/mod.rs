//! Job grants: scoped, expiring, read-only credentials for one render-farm job,
//! the farm's answer to a cloud provider's "assume role" temporary credentials.
//!
//! An artist's or wrangler's session (holding the vault) issues a grant for a
//! job: copies of a few named entries, sealed into one self-contained bundle
//! file, opened by a bearer token, by a farm identity, or by both together. The
//! job gets neither the vault, nor its passphrase, nor anything that works after
//! the grant expires.
//!
//! ```no_run
//! use farmvault::grant::{Grant, GrantOpen, GrantSpec, ReadCredentials};
//! use std::time::Duration;
//! # fn main() -> farmvault::Result<()> {
//! # let vault: farmvault::Vault = unimplemented!();
//! // Submit side: the job may wait 72 h in the queue, then reads for 4 h.
//! let issued = vault.grant(
//!     &GrantSpec::new("/farm/grants/job-4711.fvg", "job-4711")
//!         .entry("shotgun/")
//!         .claim_within(Duration::from_secs(72 * 3600))
//!         .use_for(Duration::from_secs(4 * 3600))
//!         .hosts("render*"),
//! )?;
//! let token = issued.token.expect("a token was asked for"); // -> FARMVAULT_GRANT_TOKEN
//!
//! // Job side, on a render node:
//! let grant = Grant::open("/farm/grants/job-4711.fvg", &GrantOpen::new().token(token))?;
//! let key = grant.get("shotgun/render_farm")?;
//! # Ok(()) }
//! ```
//!
//! ## Two clocks
//!
//! A job's time in the queue must not burn its credential, so a grant has a
//! *claim-by* deadline (the job must first open it before then; capped by the
//! vault's [`GrantPolicy`](crate::GrantPolicy)`.max_claim_secs`) and a *use
//! window* that starts at the first open on a machine (capped by `max_use_secs`).
//! Neither may be zero or unbounded. Each entry inside expires at the earlier of
//! its own expiry and the end of the use window; past the window every read is
//! [`Error::Expired`]. The claim-by deadline is sealed into the bundle. The first
//! open is recorded in a small local state file (see [`default_state_dir`]); that
//! record is advisory against someone who holds the opening material and can
//! edit the state directory: deleting it restarts the window, but only before the
//! claim-by deadline, so no grant ever reads after `claim_by + use window`.
//!
//! ## What a grant protects against, and what it does not
//!
//! - The bundle holds no entry name or secret in the clear; its header (label,
//!   times, host pattern, entry count, unlock methods, issuer vault id) is
//!   readable by anyone ([`read_info`]) and authenticated when the grant opens.
//!   Do not put secrets in the label.
//! - The token is opaque and expires with the grant: job info pages show it
//!   instead of a raw API key. Anyone who has the token *and* the bundle can read
//!   the granted entries until the grant expires. With recipients and
//!   `require_both`, the token alone is useless off the farm.
//! - **An opened grant cannot be taken back.** [`Vault::revoke_grants`] writes a
//!   signed revocation list that every later open reads (see `revoke`), but a
//!   process that already opened the grant, or anyone who copied its secrets,
//!   keeps them; keep the windows short, and to cut a credential off at once,
//!   revoke it at the server (rotate the script key).
//! - Every bundle is signed by the issuing vault's key (see `issuer`); only a
//!   node that pins issuers ([`GrantOpen::issuers`], `FARMVAULT_ISSUERS`) tells a
//!   grant from the studio's vault from one anyone made (a recipient-only grant
//!   is encrypted to a public key: without a pin, anyone can make one).
//! - The host pattern is checked against the hostname the node's administrator
//!   wrote in the node configuration file `/etc/farmvault/grant-hostname` (root's;
//!   `%ProgramData%\farmvault\grant-hostname` on Windows), else the one the OS
//!   reports; a mismatch is [`Error::HostNotAllowed`]. The opener cannot pass
//!   another hostname, nor another clock for the windows. It keeps honest
//!   mistakes (a job landing on a workstation) out, not an attacker who controls
//!   a machine's hostname, nor anyone who holds the bundle and its opening
//!   material and decrypts it with code of their own: keeping the key out of
//!   the job's reach (a render node's agent, `crate::agent::NodeAgent`) is what
//!   enforces the windows and the pattern against them.
//!
//! The vault keeps a sealed record of every grant it issued (id, label, entry
//! names, times, host pattern, recipient count; never the grant key or token):
//! [`Vault::list_grants`], under sled keys `G ‖ grant_id`, re-sealed by a
//! data-key rotation like entries are.
//!
//! ## Formats
//!
//! A bundle is one file, written atomically (temp file, fsync, rename) with
//! owner-only permissions; integers big-endian:
//!
//! ```text
//! "FVGR" ‖ version:u16 (=1) ‖ h:u32 ‖ header ‖ l:u32 ‖ locks ‖ nonce:24 ‖ ciphertext ‖ tag:16
//! header = postcard(grant_id:16, issuer vault id:16, created, claim_by, use_secs,
//!                   host_pattern?, label, entry_count, unlock method, recipient count)
//! locks  = postcard(token lock?, recipient lock?)
//! ```
//!
//! The payload is `seal[grant_key](pad256(postcard(entries)), aad)` with
//! XChaCha20-Poly1305 and `aad = "farmvault/v1/grant-payload" ‖ every byte before
//! the nonce`; the entries (names, times, credentials) exist only in there. The
//! grant key is random per grant and wrapped as follows (HKDF-SHA256, RFC 5869):
//!
//! ```text
//! token      = "fvg1_" ‖ base64url_nopad(grant_id:16 ‖ token_secret:32)
//! token lock = check:16 ‖ seal[HKDF(token_secret, grant_id, "…grant-token-kek")](s_token,
//!                                 "farmvault/v1/grant-token" ‖ magic..header)
//! rcpt lock  = age_encrypt(farm recipients, s_rcpt:32 ‖ HMAC[HKDF(s_rcpt)](magic..header))
//! ```
//!
//! With one unlock method (or either), `s_token = s_rcpt = grant_key`; with
//! `require_both` they are independent random shares and `grant_key =
//! HKDF(ikm = s_token, salt = s_rcpt, info = "farmvault/v1/grant-key-both" ‖ grant_id)`.
//! The recipient lock is a standard binary age file to X25519 recipients, so
//! identity files made by `age-keygen` work as farm identities.

mod bundle;
mod host;
mod issue;
mod issuer;
mod lock;
mod node_config;
mod open;
#[cfg(test)]
mod remint;
mod revoke;
mod state;
mod through_agent;

pub use issue::{GrantSpec, IssuedGrant};
pub(crate) use issuer::parse_issuers as parse_issuer_list;
pub use issuer::{IssuerKey, Signature, SignatureCheck, ISSUERS_ENV, ISSUER_KEY_PREFIX};
pub use lock::TOKEN_PREFIX;
pub use open::{Grant, GrantOpen};
pub use revoke::{revocation_list_path, Revocation, REVOCATIONS_ENV};
pub use state::{default_state_dir, STATE_DIR_ENV};

pub(crate) use host::node_hostname_path;

use crate::clock::UnixTime;
use crate::error::{Error, Result};
use crate::format::hex;
use crate::format::VAULT_ID_LEN;
use crate::storage::fsio;
use crate::vault::{Entry, EntryMeta, Vault};
use bundle::Header;
use std::fmt;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// The grant bundle format version this build writes (2: signed by the issuer).
pub const GRANT_FORMAT_VERSION: u16 = 2;
/// The oldest grant bundle format version this build reads (1: unsigned, refused
/// wherever issuers are pinned).
pub const OLDEST_GRANT_FORMAT_VERSION: u16 = 1;
pub use crate::format::GRANT_ID_LEN;
/// Longest grant label, in bytes.
pub const MAX_LABEL_LEN: usize = 256;

/// The reads a vault and a grant share, so plugin code reads the same way from either.
///
/// A grant is read-only: it has no write methods at all (the C ABI answers a
/// write through a grant handle with `Error::ReadOnly`).
pub trait ReadCredentials {
    /// Reads `name`: `NotFound` if absent, `Expired` once its TTL (or the grant) ran out.
    fn get(&self, name: &str) -> Result<Entry>;
    /// Metadata of `name` (kind, host, times), never the secret.
    fn metadata(&self, name: &str) -> Result<EntryMeta>;
    /// Entries whose name starts with `prefix`, sorted by name.
    fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>>;
}

impl ReadCredentials for Vault {
    fn get(&self, name: &str) -> Result<Entry> {
        Vault::get(self, name)
    }

    fn metadata(&self, name: &str) -> Result<EntryMeta> {
        Vault::metadata(self, name)
    }

    fn list(&self, prefix: &str) -> Result<Vec<EntryMeta>> {
        Vault::list(self, prefix)
    }
}

/// A grant's random 128-bit id; shown as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantId(pub [u8; GRANT_ID_LEN]);

impl GrantId {
    /// The id in lower-case hex.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantId({self})")
    }
}

impl std::str::FromStr for GrantId {
    type Err = Error;
    /// Parses 32 hex digits.
    fn from_str(s: &str) -> Result<GrantId> {
        let bad = || Error::invalid(format!("{s:?} is not a grant id (32 hex digits)"));
        if s.len() != 2 * GRANT_ID_LEN || !s.is_ascii() {
            return Err(bad());
        }
        let mut id = [0u8; GRANT_ID_LEN];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(GrantId(id))
    }
}

/// Which material opens a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantAccess {
    /// The bearer token alone.
    Token,
    /// A farm identity alone (one of the grant's recipients).
    Recipient,
    /// Either the token or a farm identity.
    TokenOrRecipient,
    /// The token and a farm identity together (`require_both`).
    TokenAndRecipient,
}

impl GrantAccess {
    fn to_u8(self) -> u8 {
        match self {
            GrantAccess::Token => 1,
            GrantAccess::Recipient => 2,
            GrantAccess::TokenOrRecipient => 3,
            GrantAccess::TokenAndRecipient => 4,
        }
    }

    fn from_u8(b: u8) -> Option<GrantAccess> {
        Some(match b {
            1 => GrantAccess::Token,
            2 => GrantAccess::Recipient,
            3 => GrantAccess::TokenOrRecipient,
            4 => GrantAccess::TokenAndRecipient,
            _ => return None,
        })
    }

    /// Stable name: `token`, `recipient`, `token_or_recipient`, `token_and_recipient`.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantAccess::Token => "token",
            GrantAccess::Recipient => "recipient",
            GrantAccess::TokenOrRecipient => "token_or_recipient",
            GrantAccess::TokenAndRecipient => "token_and_recipient",
        }
    }

    /// Whether the bundle holds a token lock (a token is issued).
    pub fn has_token_lock(self) -> bool {
        !matches!(self, GrantAccess::Recipient)
    }

    /// Whether the bundle holds a lock for farm recipients.
    pub fn has_recipient_lock(self) -> bool {
        !matches!(self, GrantAccess::Token)
    }
}

impl fmt::Display for GrantAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a grant is: from a bundle's clear header ([`read_info`], [`Grant::info`])
/// or from the issuing vault's record ([`Vault::list_grants`]). No key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantInfo {
    /// The grant's id.
    pub id: GrantId,
    /// The id of the vault that issued it.
    pub issuer: [u8; VAULT_ID_LEN],
    /// The label (job name or id) given at issue.
    pub label: String,
    /// When it was issued.
    pub created: UnixTime,
    /// The job must first open it before this time.
    pub claim_by: UnixTime,
    /// How long it reads after the first open on a machine.
    pub use_window: Duration,
    /// The glob the opening machine's hostname must match, if any.
    pub host_pattern: Option<String>,
    /// How many entries it holds.
    pub entry_count: u32,
    /// The entry names: known to the vault's record and to an opened grant,
    /// `None` from a bundle's header (names are sealed).
    pub entries: Option<Vec<String>>,
    /// Which material opens it.
    pub access: GrantAccess,
    /// How many farm public keys it was encrypted to.
    pub recipients: u32,
    /// The issuer key that signed it (format 2). From a bundle's header this is
    /// the key the header *names*: [`check_signature`] says whether it signed; an
    /// opened grant's has been checked. `None` for a format-1 bundle (unsigned).
    pub signer: Option<IssuerKey>,
}

impl GrantInfo {
    /// The latest time it can read: `claim_by + use_window`.
    pub fn latest_end(&self) -> UnixTime {
        self.claim_by.plus(self.use_window)
    }

    fn from_header(
        h: &Header,
        access: GrantAccess,
        signer: Option<IssuerKey>,
        entries: Option<Vec<String>>,
    ) -> GrantInfo {
        GrantInfo {
            id: GrantId(h.grant_id),
            issuer: h.issuer,
            label: h.label.clone(),
            created: UnixTime(h.created),
            claim_by: UnixTime(h.claim_by),
            use_window: Duration::from_secs(h.use_secs),
            host_pattern: h.host_pattern.clone(),
            entry_count: h.entry_count,
            entries,
            access,
            recipients: h.recipients,
            signer,
        }
    }

    /// How the grant is named in errors: `grant <id> [<label>]`.
    fn display_name(&self) -> String {
        format!("grant {} [{}]", self.id, self.label)
    }
}

/// Checks that `path` is a farm identity this user alone can read, as a grant
/// open would (`Insecure` otherwise), without keeping its keys.
pub(crate) fn check_identity_file(path: &Path) -> Result<()> {
    lock::read_identities(path, false).map(|_| ())
}

/// Reads a bundle file, refusing anything implausibly large.
fn read_bundle(path: &Path) -> Result<Vec<u8>> {
    let ctx = || format!("reading grant bundle {}", path.display());
    let f = std::fs::File::open(path).map_err(|e| Error::io(ctx(), e))?;
    fsio::read_at_most(f, bundle::MAX_BUNDLE_LEN)
        .map_err(|e| Error::io(ctx(), e))?
        .ok_or_else(|| {
            Error::corrupt(
                path,
                format!(
                    "larger than {} MiB: not a grant bundle",
                    bundle::MAX_BUNDLE_LEN >> 20
                ),
            )
        })
}

/// Reads a bundle's clear header, with no key: what `grant-info` shows. Nothing
/// here is authenticated (a changed header shows here, and fails [`Grant::open`]).
pub fn read_info(bundle_path: impl AsRef<Path>) -> Result<GrantInfo> {
    let path = bundle_path.as_ref();
    let bytes = read_bundle(path)?;
    let h = bundle::parse_header(&bytes).map_err(|w| Error::corrupt(path, w))?;
    Ok(GrantInfo::from_header(&h.header, h.access, h.signer, None))
}

/// Checks a bundle's signature with no key, as an open would: what
/// `farmvault grant-info` shows. `Corrupt` when the file is no readable bundle.
pub fn check_signature(bundle_path: impl AsRef<Path>) -> Result<SignatureCheck> {
    let path = bundle_path.as_ref();
    let bytes = read_bundle(path)?;
    let parsed = bundle::parse(&bytes).map_err(|w| Error::corrupt(path, w))?;
    let pins = issuer::Pins::gather(None, None)?;
    Ok(SignatureCheck {
        signature: issuer::signature_of(parsed.signer, parsed.signature),
        pinned_by: pins.origins(),
        trusted: pins.check(path, parsed.signer, parsed.signature).is_ok(),
    })
}

/// Creates a farm identity: a new age X25519 key written to the new file
/// `identity_path` (0600; refuses to overwrite) in `age-keygen`'s format. Returns
/// the public key (`age1…`) to give to [`GrantSpec::recipient`].
pub fn generate_farm_identity(identity_path: impl AsRef<Path>) -> Result<String> {
    use age::secrecy::ExposeSecret;
    let path = identity_path.as_ref();
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let secret = identity.to_string();
    let mut text = Zeroizing::new(String::with_capacity(256));
    text.push_str("# farmvault farm identity (age X25519): keep this file 0600 on local disk\n");
    text.push_str("# public key: ");
    text.push_str(&public);
    text.push('\n');
    text.push_str(secret.expose_secret());
    text.push('\n');
    fsio::write_new_private(path, text.as_bytes())
        .map_err(|e| Error::io(format!("writing farm identity {}", path.display()), e))?;
    Ok(public)
}

/// The public key (`age1…`) of the first identity in a farm identity file. Only
/// the public key leaves this call, so the file's permissions are not checked.
pub fn farm_public_key(identity_path: impl AsRef<Path>) -> Result<String> {
    let ids = lock::read_identities(identity_path.as_ref(), true)?;
    Ok(ids[0].to_public().to_string())
}

/// Reads farm public keys from a recipients file: one `age1…` per line, `#`
/// comments and blank lines ignored. Each is checked.
pub fn read_recipients_file(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading recipients {}", path.display()), e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A line that is no public key may be anything, a secret among them (a
        // key file or identity given by mistake): the error names its place,
        // never its text.
        lock::parse_recipient(line).map_err(|_| {
            Error::invalid(format!(
                "recipients file {} line {}: not an age X25519 public key (age1…)",
                path.display(),
                i + 1
            ))
        })?;
        out.push(line.to_owned());
    }
    if out.is_empty() {
        return Err(Error::invalid(format!(
            "recipients file {} holds no public key",
            path.display()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::issue::seal_plaintext;
    use super::open::open_plaintext;
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn grant_id_round_trip() {
        let id = GrantId([0xab; 16]);
        assert_eq!(id.to_hex().parse::<GrantId>().unwrap(), id);
        assert!("xyz".parse::<GrantId>().is_err());
    }

    #[test]
    fn padding_is_exact() {
        let plain = seal_plaintext(&BTreeMap::new()).unwrap();
        assert_eq!(plain.len(), bundle::PAD_TO);
        assert!(open_plaintext(&plain).unwrap().is_empty());
        let mut bad = plain.to_vec();
        *bad.last_mut().unwrap() = 1;
        assert!(open_plaintext(&bad).is_none());
    }
}
