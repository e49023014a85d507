//! The grant bundle's byte layout: encode and strict decode.
//!
//! ```text
//! offset        size  field
//! 0             4     magic "FVGR"
//! 4             2     format version, u16 big-endian (2; 1 is still read)
//! 6             4     header_len h, u32 big-endian
//! 10            h     header: postcard(Header) ‖ signer:32     <- clear, for grant-info
//! 10+h          4     locks_len l, u32 big-endian
//! 14+h          l     locks: postcard(Locks)                   <- the wrapped grant key
//! 14+h+l        p     payload: nonce:24 ‖ ciphertext ‖ tag:16
//! end-64        64    signature: Ed25519 by `signer` (see `issuer`)
//! ```
//!
//! `header_prefix = bytes[0 .. 10+h]` is bound into each lock (see `lock`), and the
//! payload is `seal[grant_key](pad256(postcard(Payload)), aad)` with
//! `aad = "farmvault/v1/grant-payload" ‖ bytes[0 .. 14+h+l]`, so every byte before
//! the payload is authenticated by it and every byte of it by its own tag. The
//! signature covers `bytes[0 .. end-64]`: everything, for whoever holds only the
//! issuer's public key. Version 1 is the same without `signer` and the signature.
//! Decoding is strict: each postcard section must be consumed exactly, and the
//! header must agree with the locks it describes.

use crate::credential::Credential;
use crate::crypto::{NONCE_LEN, TAG_LEN};
use crate::format::VAULT_ID_LEN;
use crate::grant::issuer::{IssuerKey, ISSUER_KEY_LEN, SIGNATURE_LEN};
use crate::grant::{
    host, GrantAccess, GRANT_FORMAT_VERSION, GRANT_ID_LEN, MAX_LABEL_LEN,
    OLDEST_GRANT_FORMAT_VERSION,
};
use serde::{Deserialize, Serialize};

/// Magic bytes at the start of a grant bundle.
pub(crate) const MAGIC: &[u8; 4] = b"FVGR";
const FIXED_LEN: usize = 4 + 2 + 4;
/// Largest bundle read: far above any real grant, low enough to refuse a wrong file fast.
pub(crate) const MAX_BUNDLE_LEN: u64 = 64 * 1024 * 1024;
/// Plaintext is padded to a multiple of this, so sizes leak only coarsely.
pub(crate) const PAD_TO: usize = 256;

/// The clear header. Field order is format: append only (with a version bump).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub grant_id: [u8; GRANT_ID_LEN],
    pub issuer: [u8; VAULT_ID_LEN],
    pub created: u64,
    pub claim_by: u64,
    pub use_secs: u64,
    pub host_pattern: Option<String>,
    pub label: String,
    pub entry_count: u32,
    pub access: u8,
    pub recipients: u32,
}

/// The header section of a version-2 bundle: the header, then the signer's key.
#[derive(Deserialize)]
struct SignedHeader {
    header: Header,
    signer: [u8; ISSUER_KEY_LEN],
}

/// `SignedHeader` as written (postcard writes a struct as its fields in order,
/// so this is exactly `postcard(Header) ‖ signer`).
#[derive(Serialize)]
struct SignedHeaderRef<'a> {
    header: &'a Header,
    signer: &'a [u8; ISSUER_KEY_LEN],
}

/// A decoded header section.
pub(crate) struct HeaderSection {
    pub header: Header,
    pub access: GrantAccess,
    /// The issuer key a version-2 header names; version 1 names none.
    pub signer: Option<IssuerKey>,
    /// Where the header section ends (`10+h`).
    pub end: usize,
}

/// The grant key (or its shares), wrapped for each way of opening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Locks {
    pub token: Option<TokenLock>,
    /// A binary age file encrypted to the farm recipients.
    pub recipients: Option<Vec<u8>>,
}

/// A secret wrapped under a key derived from the bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenLock {
    /// Tells a wrong token (check differs) from a damaged lock (check matches, open fails).
    pub check: [u8; 16],
    /// `seal[token_kek](secret, aad)`: nonce ‖ ciphertext ‖ tag.
    pub wrapped: Vec<u8>,
}

/// The sealed plaintext. Field order is format: append only.
#[derive(Serialize, Deserialize)]
pub(crate) struct Payload {
    pub entries: Vec<GrantedEntry>,
}

/// One entry copied into the grant, with the times it had in the vault.
#[derive(Serialize, Deserialize)]
pub(crate) struct GrantedEntry {
    pub name: String,
    pub created: u64,
    pub updated: u64,
    pub expires: Option<u64>,
    pub credential: Credential,
}

/// A decoded bundle, borrowing the file's bytes.
pub(crate) struct Parsed<'a> {
    pub header: Header,
    pub access: GrantAccess,
    /// The key the header names as the signer (version 2).
    pub signer: Option<IssuerKey>,
    /// The signature (version 2) and the bytes it covers (`bytes[0 .. end-64]`).
    pub signature: Option<(&'a [u8; SIGNATURE_LEN], &'a [u8])>,
    /// `bytes[0 .. 10+h]`: bound into the locks.
    pub header_prefix: &'a [u8],
    pub locks: Locks,
    /// `bytes[0 .. 14+h+l]`: the payload's associated data (after the label).
    pub authed: &'a [u8],
    pub payload: &'a [u8],
}

/// Why a bundle could not be decoded (becomes `Error::Corrupt`).
type FormatError = String;

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b) as usize)
}

fn exact<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, FormatError> {
    match postcard::take_from_bytes(bytes) {
        Ok((v, [])) => Ok(v),
        Ok((_, rest)) => Err(format!("the {what} has {} stray bytes", rest.len())),
        Err(e) => Err(format!("the {what} is unreadable: {e}")),
    }
}

/// Encodes the header section of a bundle `signer` signs; returns `bytes[0 .. 10+h]`.
pub(crate) fn encode_header(header: &Header, signer: &IssuerKey) -> Vec<u8> {
    let section = SignedHeaderRef {
        header,
        signer: signer.as_bytes(),
    };
    let body = postcard::to_allocvec(&section).expect("a grant header always serialises");
    let mut out = Vec::with_capacity(FIXED_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&GRANT_FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Appends the locks section to `header_prefix`; returns `bytes[0 .. 14+h+l]`.
pub(crate) fn encode_locks(mut header_prefix: Vec<u8>, locks: &Locks) -> Vec<u8> {
    let body = postcard::to_allocvec(locks).expect("grant locks always serialise");
    header_prefix.extend_from_slice(&(body.len() as u32).to_be_bytes());
    header_prefix.extend_from_slice(&body);
    header_prefix
}

/// Reads only the header (for `grant-info`): magic, version, header section.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<HeaderSection, FormatError> {
    if bytes.len() < FIXED_LEN {
        return Err(format!(
            "the file is too short to be a grant bundle ({} bytes)",
            bytes.len()
        ));
    }
    if &bytes[..4] != MAGIC {
        return Err("the magic is not FVGR: not a farmvault grant bundle, or damaged".into());
    }
    let version = u16::from_be_bytes([bytes[4], bytes[5]]);
    if !(OLDEST_GRANT_FORMAT_VERSION..=GRANT_FORMAT_VERSION).contains(&version) {
        return Err(format!(
            "grant format version {version} is not supported by this build (it reads versions \
             {OLDEST_GRANT_FORMAT_VERSION} to {GRANT_FORMAT_VERSION}): a newer farmvault issued it"
        ));
    }
    let h = u32_at(bytes, 6).expect("length checked");
    let end = FIXED_LEN
        .checked_add(h)
        .filter(|e| *e <= bytes.len())
        .ok_or_else(|| format!("the header length {h} runs past the end of the file"))?;
    let section = &bytes[FIXED_LEN..end];
    let (header, signer) = if version == 1 {
        (exact::<Header>(section, "header")?, None)
    } else {
        let s: SignedHeader = exact(section, "header")?;
        (s.header, Some(IssuerKey(s.signer)))
    };
    let access = check_header(&header)?;
    Ok(HeaderSection {
        header,
        access,
        signer,
        end,
    })
}

fn check_header(h: &Header) -> Result<GrantAccess, FormatError> {
    let access = GrantAccess::from_u8(h.access)
        .ok_or_else(|| format!("unknown unlock method {} in the header", h.access))?;
    if h.claim_by <= h.created || h.use_secs == 0 {
        return Err("the header's claim-by deadline or use window is empty".into());
    }
    if h.label.is_empty() || h.label.len() > MAX_LABEL_LEN {
        return Err("the header's label is empty or too long".into());
    }
    if let Some(p) = &h.host_pattern {
        host::validate_pattern(p).map_err(|e| format!("the header's host pattern: {e}"))?;
    }
    if access.has_recipient_lock() != (h.recipients > 0) {
        return Err("the header's recipient count disagrees with its unlock method".into());
    }
    Ok(access)
}

/// Decodes a whole bundle (nothing is authenticated yet).
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed<'_>, FormatError> {
    let HeaderSection {
        header,
        access,
        signer,
        end: h_end,
    } = parse_header(bytes)?;
    let l = u32_at(bytes, h_end).ok_or("the file ends before the locks section")?;
    let l_start = h_end + 4;
    let l_end = l_start
        .checked_add(l)
        .filter(|e| *e <= bytes.len())
        .ok_or_else(|| format!("the locks length {l} runs past the end of the file"))?;
    let locks: Locks = exact(&bytes[l_start..l_end], "locks section")?;
    if locks.token.is_some() != access.has_token_lock()
        || locks.recipients.is_some() != access.has_recipient_lock()
    {
        return Err("the locks section disagrees with the header's unlock method".into());
    }
    let (payload, signature) = match signer {
        None => (&bytes[l_end..], None),
        Some(_) => {
            let at = bytes
                .len()
                .checked_sub(SIGNATURE_LEN)
                .filter(|at| *at >= l_end)
                .ok_or("the file ends before its signature")?;
            let sig: &[u8; SIGNATURE_LEN] = bytes[at..].try_into().expect("64 bytes");
            (&bytes[l_end..at], Some((sig, &bytes[..at])))
        }
    };
    if payload.len() < NONCE_LEN + TAG_LEN {
        return Err(format!(
            "the sealed payload is truncated ({} bytes)",
            payload.len()
        ));
    }
    Ok(Parsed {
        header,
        access,
        signer,
        signature,
        header_prefix: &bytes[..h_end],
        locks,
        authed: &bytes[..l_end],
        payload,
    })
}
