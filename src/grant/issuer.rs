//! Issuer signatures: every vault has a grant-signing key pair (Ed25519, RFC 8032,
//! through `ed25519-dalek`) that signs each bundle it issues over all its bytes,
//! and a node may pin the public keys of the vaults it takes grants from.
//!
//! Without a signature, whoever holds a bundle and its token can re-mint it: open
//! it, change the clear header (claim-by, use window, host pattern) and seal it
//! again under the same grant key; the stock tools would accept the copy. A
//! signature binds the whole bundle to the issuing vault's private key, which never
//! leaves the vault (it is stored sealed under the vault's entry key, like a
//! secret). Pinning is what makes that count: with no issuer pinned, a signature
//! that does not verify is still refused, but an unsigned bundle (or one a forger
//! signed with a key of their own) opens as before.
//!
//! ```text
//! signature = Ed25519-sign(issuer key, "farmvault/v2/grant-signature" ‖ bytes[0 .. len-64])
//! public key text = "fvi1_" ‖ base64url_nopad(key:32)
//! ```

use crate::error::{Error, Result};
use base64ct::{Base64UrlUnpadded, Encoding};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use std::fmt;
use std::path::Path;
use zeroize::Zeroizing;

/// The prefix of an issuer public key's text form.
pub const ISSUER_KEY_PREFIX: &str = "fvi1_";
/// Length of an Ed25519 public key.
pub(crate) const ISSUER_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature: the last bytes of a signed bundle.
pub(crate) const SIGNATURE_LEN: usize = 64;
/// What a bundle's signature covers begins with this, so no other signature an
/// issuer key makes (a revocation list's) can ever be taken for a grant's.
const SIGNATURE_CONTEXT: &[u8] = b"farmvault/v2/grant-signature";
/// Version byte of the sealed record that holds a vault's signing key.
const SIGNING_RECORD_VERSION: u8 = 1;
/// The environment variable a job or tool may pin issuers with: public keys
/// separated by commas or whitespace.
pub const ISSUERS_ENV: &str = "FARMVAULT_ISSUERS";
/// The node configuration file that pins issuers for every grant opened on
/// the node (`/etc/farmvault/issuers`): one key per line, `#` comments.
pub const NODE_ISSUERS_FILE: &str = "issuers";

/// A grant issuer's public key: the vault's Ed25519 verifying key. Its text form
/// is `fvi1_` followed by the key in unpadded base64url (48 characters in all).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IssuerKey(pub(crate) [u8; ISSUER_KEY_LEN]);

impl IssuerKey {
    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; ISSUER_KEY_LEN] {
        &self.0
    }
}

impl fmt::Display for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(ISSUER_KEY_PREFIX)?;
        f.write_str(&Base64UrlUnpadded::encode_string(&self.0))
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerKey({self})")
    }
}

impl std::str::FromStr for IssuerKey {
    type Err = Error;
    /// Parses `fvi1_…`; surrounding whitespace is ignored. A public key is no
    /// secret, but the message still leaves the text out: a secret pasted into the
    /// wrong place must not end up in a log.
    fn from_str(s: &str) -> Result<IssuerKey> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "not a grant issuer public key ({ISSUER_KEY_PREFIX}… as `farmvault grant-issuer` prints it): {why}"
            ))
        };
        let body = s
            .trim()
            .strip_prefix(ISSUER_KEY_PREFIX)
            .ok_or_else(|| bad("it does not start with fvi1_"))?;
        let mut key = [0u8; ISSUER_KEY_LEN];
        match Base64UrlUnpadded::decode(body, &mut key) {
            Ok(k) if k.len() == ISSUER_KEY_LEN => {}
            _ => return Err(bad("the rest is not 32 bytes of unpadded base64url")),
        }
        // A point that does not decode could never verify anything: say so now.
        VerifyingKey::from_bytes(&key).map_err(|_| bad("the bytes are not an Ed25519 key"))?;
        Ok(IssuerKey(key))
    }
}

/// A vault's grant-signing key, as the vault holds it. Wiped on drop.
pub(crate) struct IssuerSigningKey(SigningKey);

impl IssuerSigningKey {
    /// A new random key pair.
    pub(crate) fn generate() -> Result<IssuerSigningKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        crate::crypto::fill_random(&mut seed[..])?;
        Ok(IssuerSigningKey(SigningKey::from_bytes(&seed)))
    }

    /// The public half.
    pub(crate) fn public(&self) -> IssuerKey {
        IssuerKey(self.0.verifying_key().to_bytes())
    }

    /// Signs the bundle bytes `signed` (everything before the signature).
    pub(crate) fn sign(&self, signed: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.sign_message(&message(signed))
    }

    /// Signs `message` as it is: the caller puts its own context first.
    pub(crate) fn sign_message(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(message).to_bytes()
    }

    /// The sealed record's plaintext: version ‖ seed.
    pub(crate) fn to_record(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(1 + 32));
        out.push(SIGNING_RECORD_VERSION);
        out.extend_from_slice(self.0.as_bytes());
        out
    }

    /// Reads what `to_record` wrote; `None` for any other bytes.
    pub(crate) fn from_record(plain: &[u8]) -> Option<IssuerSigningKey> {
        let (&version, seed) = plain.split_first()?;
        let seed: &[u8; 32] = seed.try_into().ok()?;
        (version == SIGNING_RECORD_VERSION).then(|| IssuerSigningKey(SigningKey::from_bytes(seed)))
    }
}

fn message(signed: &[u8]) -> Vec<u8> {
    [SIGNATURE_CONTEXT, signed].concat()
}

/// Whether `signature` is `key`'s over `signed`. Strict verification: the
/// malleable and small-order forms RFC 8032 leaves open are refused.
pub(crate) fn verifies(key: &IssuerKey, signed: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
    verifies_message(key, &message(signed), signature)
}

/// Whether `signature` is `key`'s over `message` as it is (context included).
pub(crate) fn verifies_message(
    key: &IssuerKey,
    message: &[u8],
    signature: &[u8; SIGNATURE_LEN],
) -> bool {
    let Ok(public) = VerifyingKey::from_bytes(&key.0) else {
        return false;
    };
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    public.verify_strict(message, &signature).is_ok()
}

/// Parses a list of issuer keys: one per line or separated by commas or
/// whitespace; `#` starts a comment that runs to the end of its line. `origin`
/// names where the text came from in errors, which give the position of a bad
/// key, never its text.
pub(crate) fn parse_issuers(text: &str, origin: &str) -> Result<Vec<IssuerKey>> {
    let mut keys = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for word in line.split(|c: char| c == ',' || c.is_whitespace()) {
            if word.is_empty() {
                continue;
            }
            let key = word.parse::<IssuerKey>().map_err(|e| match e {
                Error::InvalidArgument(why) => {
                    Error::invalid(format!("{origin}, line {}: {why}", line_no + 1))
                }
                other => other,
            })?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    if keys.is_empty() {
        return Err(Error::invalid(format!(
            "{origin} names no grant issuer key; list the {ISSUER_KEY_PREFIX}… keys \
             `farmvault grant-issuer` prints for each vault whose grants this machine takes"
        )));
    }
    Ok(keys)
}

/// A bundle's signature, checked against the key its header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// A format-1 bundle: it has none.
    Unsigned,
    /// Signed by this issuer over every byte.
    Valid(IssuerKey),
    /// The header names this issuer, but the signature does not verify: the
    /// bundle was changed after it was signed.
    Invalid(IssuerKey),
}

/// What [`check_signature`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The signature and its signer.
    pub signature: Signature,
    /// Where this machine's pinned issuers come from (a file's path,
    /// `FARMVAULT_ISSUERS`); empty when none are pinned.
    pub pinned_by: Vec<String>,
    /// Whether a grant open here would take the bundle's signature: it verifies
    /// (or is absent and nothing is pinned) and every pin list names its signer.
    pub trusted: bool,
}

/// A bundle's signature (`signature`: the signature and the bytes it covers),
/// verified against the key its header names (`signer`).
pub(crate) fn signature_of(
    signer: Option<IssuerKey>,
    signature: Option<(&[u8; SIGNATURE_LEN], &[u8])>,
) -> Signature {
    match (signer, signature) {
        (Some(key), Some((sig, signed))) if verifies(&key, signed, sig) => Signature::Valid(key),
        (Some(key), _) => Signature::Invalid(key),
        (None, _) => Signature::Unsigned,
    }
}

/// One list of pinned issuers and where it came from.
struct PinSet {
    origin: String,
    keys: Vec<IssuerKey>,
}

/// The issuers a grant open requires: every source that names some must name
/// the bundle's signer, so no source can widen what another allows.
pub(crate) struct Pins {
    sets: Vec<PinSet>,
}

impl Pins {
    /// Where the pin lists come from (a file's path, `FARMVAULT_ISSUERS`).
    pub(crate) fn origins(&self) -> Vec<String> {
        self.sets.iter().map(|s| s.origin.clone()).collect()
    }
}

impl Pins {
    /// The pins of this process: the node's (the node configuration file
    /// `issuers`, root's: a job cannot remove or widen it; `node_dir` is a
    /// test's own directory in its place), the list its caller passed (if
    /// any), and `FARMVAULT_ISSUERS` when set and not empty.
    pub(crate) fn gather(caller: Option<&[IssuerKey]>, node_dir: Option<&Path>) -> Result<Pins> {
        let mut sets = Vec::new();
        let node_dir = node_dir.map_or_else(super::node_config::node_config_dir, Path::to_path_buf);
        if let Some(text) = super::node_config::read_node_file_in(&node_dir, NODE_ISSUERS_FILE)? {
            let origin = node_dir.join(NODE_ISSUERS_FILE).display().to_string();
            sets.push(PinSet {
                keys: parse_issuers(&text, &origin)?,
                origin,
            });
        }
        if let Some(keys) = caller {
            if keys.is_empty() {
                return Err(Error::invalid(
                    "an empty list of pinned grant issuers would refuse every grant: pass at \
                     least one issuer key, or none to leave issuers unpinned",
                ));
            }
            sets.push(PinSet {
                origin: "the issuers this program pinned".into(),
                keys: keys.to_vec(),
            });
        }
        if let Some(text) = std::env::var_os(ISSUERS_ENV).filter(|v| !v.is_empty()) {
            let text = text
                .into_string()
                .map_err(|_| Error::invalid(format!("{ISSUERS_ENV} is not valid UTF-8")))?;
            sets.push(PinSet {
                keys: parse_issuers(&text, ISSUERS_ENV)?,
                origin: ISSUERS_ENV.into(),
            });
        }
        Ok(Pins { sets })
    }

    /// The signer when the bundle at `path` may be opened here; `UntrustedGrant`
    /// (naming the reason) when its signature (`signature_of`'s arguments) does
    /// not verify, or a pin list does not name its signer. Decrypts nothing.
    pub(crate) fn check(
        &self,
        path: &Path,
        signer: Option<IssuerKey>,
        signature: Option<(&[u8; SIGNATURE_LEN], &[u8])>,
    ) -> Result<Option<IssuerKey>> {
        let refuse = |why: String| Error::UntrustedGrant {
            path: path.to_path_buf(),
            why,
        };
        let signer = match signature_of(signer, signature) {
            Signature::Invalid(_) => {
                return Err(refuse(
                    "its signature does not verify: it was changed after its issuer signed it"
                        .into(),
                ))
            }
            Signature::Valid(key) => Some(key),
            Signature::Unsigned => None,
        };
        for set in &self.sets {
            match signer {
                None => {
                    return Err(refuse(format!(
                        "it is unsigned (grant format 1), and {} pins the issuers this machine \
                         takes grants from: reissue it with a current farmvault",
                        set.origin
                    )))
                }
                Some(key) if !set.keys.contains(&key) => {
                    return Err(refuse(format!(
                        "it is signed by issuer {key}, which {} does not list",
                        set.origin
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_round_trips_and_bad_text_is_refused() {
        let k = IssuerSigningKey::generate().unwrap();
        let text = k.public().to_string();
        assert_eq!(text.len(), 48);
        assert_eq!(text.parse::<IssuerKey>().unwrap(), k.public());
        assert!("fvg1_abc".parse::<IssuerKey>().is_err());
        assert!(text[..40].parse::<IssuerKey>().is_err());
    }

    #[test]
    fn a_signature_covers_every_byte() {
        let k = IssuerSigningKey::generate().unwrap();
        let bytes = b"FVGR header locks payload".to_vec();
        let sig = k.sign(&bytes);
        assert!(verifies(&k.public(), &bytes, &sig));
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 1;
            assert!(!verifies(&k.public(), &changed, &sig), "byte {i}");
        }
        let other = IssuerSigningKey::generate().unwrap();
        assert!(!verifies(&other.public(), &bytes, &sig));
    }

    #[test]
    fn the_record_round_trips() {
        let k = IssuerSigningKey::generate().unwrap();
        let back = IssuerSigningKey::from_record(&k.to_record()).unwrap();
        assert_eq!(back.public(), k.public());
        assert!(IssuerSigningKey::from_record(&[2; 33]).is_none());
    }

    #[test]
    fn issuer_lists_take_lines_commas_and_comments() {
        let a = IssuerSigningKey::generate().unwrap().public();
        let b = IssuerSigningKey::generate().unwrap().public();
        let text = format!("# the studio's vaults\n{a}, {b}\n\n{a} # again\n");
        assert_eq!(parse_issuers(&text, "test").unwrap(), vec![a, b]);
        let err = parse_issuers("fvi1_short\n", "issuers file x").unwrap_err();
        assert!(err.to_string().contains("issuers file x, line 1"), "{err}");
        assert!(!err.to_string().contains("fvi1_short"), "{err}");
        assert!(parse_issuers("# nothing\n", "x").is_err());
    }
}
