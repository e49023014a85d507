//! The attack issuer signatures exist for: whoever holds a bundle and its token
//! opens it with code of their own, rewrites the clear header (a year of use, no
//! host pattern) and seals it again under the same grant key. Where issuers are
//! pinned, every way of doing so is refused before anything is decrypted; where
//! nothing is pinned the copy opens, which is why nodes pin.

use super::bundle::{self, Header, Locks};
use super::issuer::IssuerSigningKey;
use super::lock::{self, Opened, Token};
use super::{Grant, GrantOpen, GrantSpec, GRANT_FORMAT_VERSION};
use crate::crypto::SealingKey;
use crate::error::Error;
use std::time::Duration;

/// The ways a forger may re-mint a bundle they can open.
#[derive(Clone, Copy, Debug)]
enum Forgery {
    /// Keep the issuer's key in the header and its signature at the end.
    KeepSignature,
    /// Sign with a key pair of their own.
    OwnKey,
    /// Write format 1, which has no signature.
    Unsigned,
}

/// Re-mints `original` as a forger holding only the bundle and `token` would.
fn remint(original: &[u8], token: &Token, how: Forgery) -> Vec<u8> {
    let parsed = bundle::parse(original).unwrap();
    let Opened::Yes(grant_key) = lock::unlock_token(
        parsed.locks.token.as_ref().unwrap(),
        token,
        parsed.header_prefix,
    ) else {
        panic!("the token opens its own grant");
    };
    let aad = [lock::PAYLOAD_AAD, parsed.authed].concat();
    let plain = SealingKey::new(&grant_key)
        .open(parsed.payload, &aad)
        .unwrap();
    let header = Header {
        use_secs: 365 * 24 * 3600,
        claim_by: parsed.header.claim_by + 365 * 24 * 3600,
        host_pattern: None,
        ..parsed.header.clone()
    };
    let own = IssuerSigningKey::generate().unwrap();
    let prefix = match how {
        Forgery::KeepSignature => bundle::encode_header(&header, &parsed.signer.unwrap()),
        Forgery::OwnKey => bundle::encode_header(&header, &own.public()),
        Forgery::Unsigned => {
            let body = postcard::to_allocvec(&header).unwrap();
            let mut out = b"FVGR".to_vec();
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(&body);
            out
        }
    };
    let locks = Locks {
        token: Some(lock::lock_token(token, &prefix, &grant_key).unwrap()),
        recipients: None,
    };
    let mut bytes = bundle::encode_locks(prefix, &locks);
    let aad = [lock::PAYLOAD_AAD, &bytes[..]].concat();
    SealingKey::new(&grant_key)
        .seal_into(&plain, &aad, &mut bytes)
        .unwrap();
    match how {
        Forgery::KeepSignature => bytes.extend_from_slice(&original[original.len() - 64..]),
        Forgery::OwnKey => {
            let sig = own.sign(&bytes);
            bytes.extend_from_slice(&sig);
        }
        Forgery::Unsigned => {}
    }
    bytes
}

#[test]
fn a_reminted_bundle_is_refused_where_issuers_are_pinned() {
    assert_eq!(GRANT_FORMAT_VERSION, 2);
    let dir = tempfile::tempdir().unwrap();
    let vault = super::issue::tests::vault_holding(dir.path(), "shotgun/render", b"the-api-key");
    let issued = vault
        .grant(
            &GrantSpec::new(dir.path().join("g.fvg"), "job")
                .entry("shotgun/render")
                .claim_within(Duration::from_secs(600))
                .use_for(Duration::from_secs(60))
                .hosts("no-such-host-*"),
        )
        .unwrap();
    let issuer = vault.grant_issuer().unwrap();
    let token_text = issued.token.unwrap();
    let token = Token::decode(&token_text).unwrap();
    let original = std::fs::read(&issued.path).unwrap();
    let how = |state: &str| {
        GrantOpen::new()
            .token(token_text.clone())
            .state_dir(dir.path().join(state))
    };

    for forgery in [Forgery::KeepSignature, Forgery::OwnKey, Forgery::Unsigned] {
        let copy = dir.path().join(format!("{forgery:?}.fvg"));
        std::fs::write(&copy, remint(&original, &token, forgery)).unwrap();
        let pinned = Grant::open(&copy, &how("pinned").issuers([issuer]));
        assert!(
            matches!(pinned, Err(Error::UntrustedGrant { .. })),
            "{forgery:?} with the issuer pinned: {pinned:?}"
        );
        let unpinned = Grant::open(&copy, &how(&format!("{forgery:?}")));
        match forgery {
            // Any change breaks the issuer's signature, pinned or not.
            Forgery::KeepSignature => assert!(
                matches!(unpinned, Err(Error::UntrustedGrant { .. })),
                "{unpinned:?}"
            ),
            // Unpinned, a forger's own signature or none at all is accepted, and
            // the forged windows and missing host pattern hold: pin issuers.
            Forgery::OwnKey | Forgery::Unsigned => {
                let g = unpinned.unwrap();
                assert_eq!(
                    g.get("shotgun/render").unwrap().credential.secret(),
                    b"the-api-key"
                );
            }
        }
    }
    // Nothing refused recorded a first open.
    assert!(!dir.path().join("pinned").exists());
    // The original: refused here by its host pattern, after its signature passed.
    let original_open = Grant::open(&issued.path, &how("orig").issuers([issuer]));
    assert!(
        matches!(original_open, Err(Error::HostNotAllowed { .. })),
        "{original_open:?}"
    );
}
