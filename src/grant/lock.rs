//! How the grant key is wrapped: under the bearer token, to farm recipients, or
//! split between them. Written in the notation of docs/DESIGN.md (the bytes are in
//! docs/FORMAT.md, "Job grants"); the primitives are
//! `crate::crypto`'s (XChaCha20-Poly1305, HKDF-SHA256 per RFC 5869, HMAC-SHA256
//! per RFC 2104) and age's X25519 recipients (<https://c2sp.org/age>).
//!
//! ```text
//! token      = "fvg1_" ‖ base64url_nopad(grant_id:16 ‖ token_secret:32)
//! token_kek  = HKDF(ikm = token_secret, salt = grant_id, info = "farmvault/v1/grant-token-kek")
//! check      = HKDF(ikm = token_secret, salt = grant_id, info = "farmvault/v1/grant-token-check")[..16]
//! token lock = check ‖ seal[token_kek](s_token, "farmvault/v1/grant-token" ‖ header_prefix)
//! binding    = HMAC[HKDF(ikm = s_rcpt, info = "farmvault/v1/grant-header-binding")](header_prefix)
//! rcpt lock  = age_encrypt(recipients, s_rcpt:32 ‖ binding:32)
//! ```
//!
//! With one way of opening (token, recipients, or either), `s_token = s_rcpt =
//! grant_key`, a random 256-bit key. With both required, `s_token` and `s_rcpt` are
//! independent random shares and
//! `grant_key = HKDF(ikm = s_token, salt = s_rcpt, info = "farmvault/v1/grant-key-both" ‖ grant_id)`:
//! either share alone leaves the key unknown. Each lock authenticates the clear
//! header as it opens (the token lock through its AAD, the recipient lock through
//! `binding`), so a changed header is reported as tampering, not as a wrong key.

use crate::crypto::{fill_random, Prf, SealingKey, SymmetricKey, KEY_LEN};
use crate::error::{Error, Result};
use crate::grant::bundle::TokenLock;
use crate::grant::{GrantId, GRANT_ID_LEN};
use crate::secret::SecretString;
use crate::storage::perms;
use base64ct::{Base64UrlUnpadded, Encoding};
use std::io::{Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

/// The prefix of every grant token (format 1).
pub const TOKEN_PREFIX: &str = "fvg1_";
const TOKEN_RAW_LEN: usize = GRANT_ID_LEN + KEY_LEN;
const TOKEN_B64_LEN: usize = 64;

/// HKDF `info` labels and AAD labels of grants; never reuse one for another purpose.
mod purpose {
    pub const TOKEN_KEK: &[u8] = b"farmvault/v1/grant-token-kek";
    pub const TOKEN_CHECK: &[u8] = b"farmvault/v1/grant-token-check";
    pub const TOKEN_AAD: &[u8] = b"farmvault/v1/grant-token";
    pub const HEADER_BINDING: &[u8] = b"farmvault/v1/grant-header-binding";
    pub const BOTH: &[u8] = b"farmvault/v1/grant-key-both";
}

/// AAD label of the sealed payload.
pub(crate) const PAYLOAD_AAD: &[u8] = b"farmvault/v1/grant-payload";

/// The outcome of trying one lock.
pub(crate) enum Opened {
    /// The lock opened and the header it binds is intact.
    Yes(SymmetricKey),
    /// The material is not this lock's key.
    WrongKey,
    /// The key is right but the lock or the header it binds was changed.
    Tampered,
    /// The lock's bytes are not well-formed.
    Corrupt(String),
}

/// A decoded grant token: the grant it is for and its secret.
pub(crate) struct Token {
    pub grant_id: GrantId,
    pub secret: SymmetricKey,
}

impl Token {
    /// A fresh token for `grant_id`.
    pub fn generate(grant_id: GrantId) -> Result<Token> {
        Ok(Token {
            grant_id,
            secret: SymmetricKey::generate()?,
        })
    }

    /// `"fvg1_" ‖ base64url_nopad(grant_id ‖ token_secret)`.
    pub fn encode(&self) -> SecretString {
        let mut raw = Zeroizing::new([0u8; TOKEN_RAW_LEN]);
        raw[..GRANT_ID_LEN].copy_from_slice(&self.grant_id.0);
        raw[GRANT_ID_LEN..].copy_from_slice(self.secret.expose());
        let mut b64 = Zeroizing::new([0u8; TOKEN_B64_LEN]);
        let text = Base64UrlUnpadded::encode(&raw[..], &mut b64[..])
            .expect("64 characters hold the base64 of 48 bytes");
        let mut out = String::with_capacity(TOKEN_PREFIX.len() + TOKEN_B64_LEN);
        out.push_str(TOKEN_PREFIX);
        out.push_str(text);
        SecretString::new(out)
    }

    /// Parses a token (surrounding whitespace ignored). Errors never echo the token.
    pub fn decode(token: &SecretString) -> Result<Token> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "the grant token is malformed ({why}); a token is \"{TOKEN_PREFIX}\" followed by \
                 {TOKEN_B64_LEN} base64url characters"
            ))
        };
        let text = token.expose().trim();
        let b64 = text
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| bad("wrong prefix"))?;
        if b64.len() != TOKEN_B64_LEN {
            return Err(bad("wrong length"));
        }
        let mut raw = Zeroizing::new([0u8; TOKEN_RAW_LEN]);
        let n = Base64UrlUnpadded::decode(b64, &mut raw[..])
            .map_err(|_| bad("not base64url"))?
            .len();
        if n != TOKEN_RAW_LEN {
            return Err(bad("wrong length"));
        }
        let grant_id = GrantId(raw[..GRANT_ID_LEN].try_into().expect("16 bytes"));
        let secret = SymmetricKey::from_slice(&raw[GRANT_ID_LEN..], "a token secret")?;
        Ok(Token { grant_id, secret })
    }

    fn kek_and_check(&self) -> (SymmetricKey, [u8; 16]) {
        let kek = self.secret.derive(&self.grant_id.0, purpose::TOKEN_KEK);
        let check = self.secret.derive(&self.grant_id.0, purpose::TOKEN_CHECK);
        let check = check.expose()[..16].try_into().expect("16 of 32 bytes");
        (kek, check)
    }
}

fn token_aad(header_prefix: &[u8]) -> Vec<u8> {
    [purpose::TOKEN_AAD, header_prefix].concat()
}

/// `check ‖ seal[token_kek](secret, "farmvault/v1/grant-token" ‖ header_prefix)`.
pub(crate) fn lock_token(
    token: &Token,
    header_prefix: &[u8],
    secret: &SymmetricKey,
) -> Result<TokenLock> {
    let (kek, check) = token.kek_and_check();
    let mut wrapped = Vec::new();
    SealingKey::new(&kek).seal_into(secret.expose(), &token_aad(header_prefix), &mut wrapped)?;
    Ok(TokenLock { check, wrapped })
}

/// Opens the token lock. The check is compared in constant time.
pub(crate) fn unlock_token(lock: &TokenLock, token: &Token, header_prefix: &[u8]) -> Opened {
    let (kek, check) = token.kek_and_check();
    let same = check
        .iter()
        .zip(lock.check.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    if !same {
        return Opened::WrongKey;
    }
    match SealingKey::new(&kek).open(&lock.wrapped, &token_aad(header_prefix)) {
        Some(bytes) => match SymmetricKey::from_slice(&bytes, "a grant key") {
            Ok(k) => Opened::Yes(k),
            Err(_) => Opened::Tampered,
        },
        None => Opened::Tampered,
    }
}

fn binding(secret: &SymmetricKey, header_prefix: &[u8]) -> [u8; 32] {
    Prf::new(&secret.derive(b"", purpose::HEADER_BINDING)).tag(&[header_prefix])
}

/// `age_encrypt(recipients, secret ‖ binding(header_prefix))`, as a binary age file.
pub(crate) fn lock_recipients(
    recipients: &[age::x25519::Recipient],
    header_prefix: &[u8],
    secret: &SymmetricKey,
) -> Result<Vec<u8>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| Error::invalid(format!("encrypting to the farm recipients: {e}")))?;
    let mut plain = Zeroizing::new([0u8; 2 * KEY_LEN]);
    plain[..KEY_LEN].copy_from_slice(secret.expose());
    plain[KEY_LEN..].copy_from_slice(&binding(secret, header_prefix));
    let mut out = Vec::new();
    let io = |e: std::io::Error| Error::io("encrypting the grant key to the farm recipients", e);
    let mut w = encryptor.wrap_output(&mut out).map_err(io)?;
    w.write_all(&plain[..]).map_err(io)?;
    w.finish().map_err(io)?;
    Ok(out)
}

/// Opens the recipient lock with any of `identities`.
pub(crate) fn unlock_recipients(
    blob: &[u8],
    identities: &[age::x25519::Identity],
    header_prefix: &[u8],
) -> Opened {
    use age::DecryptError as D;
    let decryptor = match age::Decryptor::new_buffered(blob) {
        Ok(d) => d,
        Err(e) => return Opened::Corrupt(format!("the recipient lock is unreadable: {e}")),
    };
    let mut reader = match decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity)) {
        Ok(r) => r,
        Err(D::NoMatchingKeys) => return Opened::WrongKey,
        Err(D::InvalidMac | D::DecryptionFailed) => return Opened::Tampered,
        Err(e) => return Opened::Corrupt(format!("the recipient lock is unreadable: {e}")),
    };
    let mut plain = Zeroizing::new(Vec::with_capacity(2 * KEY_LEN));
    if reader.read_to_end(&mut plain).is_err() || plain.len() != 2 * KEY_LEN {
        return Opened::Tampered;
    }
    let secret =
        SymmetricKey::from_slice(&plain[..KEY_LEN], "a grant key").expect("the length was checked");
    let ok = Prf::new(&secret.derive(b"", purpose::HEADER_BINDING))
        .verify(&[header_prefix], &plain[KEY_LEN..]);
    if ok {
        Opened::Yes(secret)
    } else {
        Opened::Tampered
    }
}

/// `grant_key = HKDF(ikm = s_token, salt = s_rcpt, info = "farmvault/v1/grant-key-both" ‖ grant_id)`.
pub(crate) fn combine_shares(
    token_share: &SymmetricKey,
    recipient_share: &SymmetricKey,
    grant_id: &GrantId,
) -> SymmetricKey {
    token_share.derive(
        recipient_share.expose(),
        &[purpose::BOTH, &grant_id.0[..]].concat(),
    )
}

/// A fresh random grant id.
pub(crate) fn random_grant_id() -> Result<GrantId> {
    let mut id = [0u8; GRANT_ID_LEN];
    fill_random(&mut id)?;
    Ok(GrantId(id))
}

/// A farm identity file: age X25519 identities, one `AGE-SECRET-KEY-1…` per line,
/// `#` comments and blank lines ignored (what `age-keygen` writes). Opened once
/// and refused, unless `allow_insecure`, when it is another user's, group or
/// others can access it, or it is a symbolic link (`perms::open_private_file`):
/// the file checked is the file read.
pub(crate) fn read_identities(
    path: &Path,
    allow_insecure: bool,
) -> Result<Vec<age::x25519::Identity>> {
    let mut file = perms::open_private_file(path, "farm identity", allow_insecure)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("reading farm identity {}", path.display()), e))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::invalid(format!(
            "farm identity {} is not text (an age identity file holds AGE-SECRET-KEY-1… lines)",
            path.display()
        ))
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = line.parse::<age::x25519::Identity>().map_err(|_| {
            Error::invalid(format!(
                "farm identity {} line {}: not an age X25519 identity (AGE-SECRET-KEY-1…)",
                path.display(),
                i + 1
            ))
        })?;
        out.push(id);
    }
    if out.is_empty() {
        return Err(Error::invalid(format!(
            "farm identity {} holds no identity",
            path.display()
        )));
    }
    Ok(out)
}

/// Parses a farm public key (`age1…`), naming it in the error.
pub(crate) fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    let t = text.trim();
    if t.starts_with("AGE-SECRET-KEY-") {
        return Err(Error::invalid(
            "that is a farm identity (a secret key), not a public key: give the age1… line \
             `farm-keygen` printed",
        ));
    }
    t.parse::<age::x25519::Recipient>().map_err(|e| {
        Error::invalid(format!(
            "recipient {t:?} is not an age X25519 public key (age1…): {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip_and_refusals() {
        let t = Token::generate(GrantId([1; 16])).unwrap();
        let s = t.encode();
        assert!(s.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(s.len(), TOKEN_PREFIX.len() + 64);
        let back = Token::decode(&SecretString::from(format!(" {}\n", s.expose()))).unwrap();
        assert_eq!(back.grant_id, t.grant_id);
        assert_eq!(back.secret, t.secret);
        for bad in [
            "",
            "fvg1_",
            "fvg2_AAAA",
            &s.expose()[..60],
            &format!("{}=", s.expose()),
        ] {
            let e = Token::decode(&SecretString::from(bad)).err().unwrap();
            assert!(matches!(e, Error::InvalidArgument(_)), "{bad}");
            assert!(!e.to_string().contains(&s.expose()[5..20]));
        }
    }
}
