//! The grant bundle on disk: every flipped byte is refused, nothing sensitive is
//! in the clear, and the vault's records of issued grants.
//!
//! Which error a flipped byte may give: `UntrustedGrant` (the issuer's signature
//! over every byte no longer verifies: checked first, so this is what most flips
//! give), `Tampered` (authentication failed) or
//! `Corrupt` (the bytes do not even parse) anywhere. `WrongGrantKey` only inside the
//! locks section, where the bytes are the key wrap itself: the token lock's
//! 16-byte check (whose job is to recognise the right token) and the age stanzas
//! of the recipient lock (an X25519 stanza that no longer opens is, to age,
//! "not for this identity"). Never `Ok`, never a panic.

use crate::files::files_under;
use crate::support::*;
use base64ct::{Base64UrlUnpadded, Encoding};
use farmvault::grant::{Grant, GrantAccess, GrantOpen};
use farmvault::*;
use std::ops::Range;
use std::path::Path;

/// The locks section's byte range, from the documented layout:
/// magic:4 ‖ version:2 ‖ h:u32 ‖ header ‖ l:u32 ‖ locks ‖ payload.
fn locks_range(bytes: &[u8]) -> Range<usize> {
    let h = u32::from_be_bytes(bytes[6..10].try_into().unwrap()) as usize;
    let l_at = 10 + h;
    let l = u32::from_be_bytes(bytes[l_at..l_at + 4].try_into().unwrap()) as usize;
    l_at + 4..l_at + 4 + l
}

/// Flips every byte of the bundle (two ways) and opens each copy with `how`.
/// Returns how many flips were reported as `WrongGrantKey`.
fn flip_every_byte(f: &Fixture, bundle: &Path, how: &GrantOpen) -> usize {
    let original = std::fs::read(bundle).unwrap();
    assert!(original.starts_with(b"FVGR"));
    let locks = locks_range(&original);
    let copy = f.path("flipped.fvg");
    let mut wrong_key = 0;
    for i in 0..original.len() {
        for mask in [0x01u8, 0xff] {
            let mut bytes = original.clone();
            bytes[i] ^= mask;
            std::fs::write(&copy, &bytes).unwrap();
            match Grant::open(&copy, how) {
                Err(
                    Error::UntrustedGrant { .. } | Error::Tampered { .. } | Error::Corrupt { .. },
                ) => {}
                Err(Error::WrongGrantKey { .. }) if locks.contains(&i) => wrong_key += 1,
                Err(e) => panic!("flip {mask:#04x} at byte {i} (locks {locks:?}): {e:?}"),
                Ok(g) => panic!(
                    "flip {mask:#04x} at byte {i} opened: {:?}",
                    g.get(RENDER).map(|e| e.meta)
                ),
            }
        }
    }
    // Truncations too.
    for cut in [0, 3, 9, 20, locks.start, locks.end, original.len() - 1] {
        std::fs::write(&copy, &original[..cut]).unwrap();
        assert!(
            matches!(
                Grant::open(&copy, how),
                Err(Error::UntrustedGrant { .. } | Error::Tampered { .. } | Error::Corrupt { .. })
            ),
            "cut at {cut}"
        );
    }
    // The untouched bundle still opens, and no flipped copy recorded a first open.
    assert!(!f.path("state-a").exists());
    Grant::open(bundle, how).unwrap();
    wrong_key
}

#[test]
fn every_flipped_byte_is_refused() {
    let f = Fixture::new();
    let (farm, farm_pub) = f.identity("farm.key");

    let token_only = f.issue(&f.spec("token.fvg").entry("shotgun/").hosts("render*"));
    let how = f.how("a").token(token_only.token.clone().unwrap());
    let wrong = flip_every_byte(&f, &token_only.path, &how);
    assert!(
        wrong <= 2 * 16,
        "only the token check may say WrongGrantKey: {wrong}"
    );
    std::fs::remove_dir_all(f.path("state-a")).unwrap();

    let rcpt = f.issue(
        &f.spec("rcpt.fvg")
            .entry(RENDER)
            .recipient(&farm_pub)
            .token(false),
    );
    flip_every_byte(&f, &rcpt.path, &f.how("a").identity_file(&farm));
    std::fs::remove_dir_all(f.path("state-a")).unwrap();

    let both = f.issue(
        &f.spec("both.fvg")
            .entry(RENDER)
            .entry(PUBLISH)
            .recipient(&farm_pub)
            .require_both(true),
    );
    assert_eq!(both.info.access, GrantAccess::TokenAndRecipient);
    let how = f
        .how("a")
        .token(both.token.clone().unwrap())
        .identity_file(&farm);
    flip_every_byte(&f, &both.path, &how);
    std::fs::remove_dir_all(f.path("state-a")).unwrap();

    // Token-or-recipient, opened by the token: the recipient lock is still bound.
    let either = f.issue(&f.spec("either.fvg").entry(RENDER).recipient(&farm_pub));
    let how = f.how("a").token(either.token.clone().unwrap());
    flip_every_byte(&f, &either.path, &how);
}

#[test]
fn a_bundle_cannot_be_spliced_onto_another_grant() {
    let f = Fixture::new();
    let a = f.issue(&f.spec("a.fvg").entry(RENDER));
    let b = f.issue(&f.spec("b.fvg").entry(PUBLISH));
    let (a_bytes, b_bytes) = (
        std::fs::read(&a.path).unwrap(),
        std::fs::read(&b.path).unwrap(),
    );
    // a's header and locks with b's payload (and b's signature): neither a's
    // signature nor b's covers the result.
    let a_end = locks_range(&a_bytes).end;
    let b_end = locks_range(&b_bytes).end;
    let mut spliced = a_bytes[..a_end].to_vec();
    spliced.extend_from_slice(&b_bytes[b_end..]);
    let copy = f.path("spliced.fvg");
    std::fs::write(&copy, &spliced).unwrap();
    let how = f.how("a").token(a.token.unwrap());
    let spliced = Grant::open(&copy, &how);
    assert!(
        matches!(spliced, Err(Error::UntrustedGrant { .. })),
        "{spliced:?}"
    );
}

#[test]
fn bundle_and_token_hold_no_name_or_secret_in_the_clear() {
    let f = Fixture::new();
    let (_, farm_pub) = f.identity("farm.key");
    let mut issued = vec![f.issue(&f.spec("token.fvg").entry("shotgun/"))];
    issued.push(
        f.issue(
            &f.spec("both.fvg")
                .entry("shotgun/")
                .entry(OTHER)
                .recipient(&farm_pub)
                .require_both(true),
        ),
    );
    let needles: Vec<&[u8]> = SENSITIVE.iter().map(|s| s.as_bytes()).collect();
    for g in &issued {
        let bytes = std::fs::read(&g.path).unwrap();
        assert_eq!(find_any(&bytes, &needles), None, "{}", g.path.display());
        let token = g.token.as_ref().unwrap().expose();
        assert_eq!(find_any(token.as_bytes(), &needles), None);
        // Nor the token, or its secret, inside the bundle.
        let raw = Base64UrlUnpadded::decode_vec(&token[5..]).unwrap();
        assert_eq!(raw.len(), 48);
        assert_eq!(&raw[..16], &g.id.0, "the token starts with the grant id");
        assert_eq!(find_any(&bytes, &[token.as_bytes(), &raw[16..]]), None);
        // The clear header shows the label and the pattern, nothing else readable.
        assert!(find_any(&bytes, &[&b"job-4711"[..]]).is_some());
    }
}

#[test]
fn the_vault_records_grants_and_keeps_them_through_rotation() {
    let f = Fixture::new();
    let (_, farm_pub) = f.identity("farm.key");
    assert!(f.vault.list_grants().unwrap().is_empty());
    let a = f.issue(&f.spec("a.fvg").entry("shotgun/").hosts("render*"));
    f.clock.set(at_hours(1.0));
    let b = f.issue(
        &f.spec("b.fvg")
            .entry(OTHER)
            .recipient(&farm_pub)
            .require_both(true),
    );
    let listed = f.vault.list_grants().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], a.info);
    assert_eq!(listed[1], b.info);
    assert_eq!(
        listed[0].entries.as_deref().unwrap(),
        [ARTIST, PUBLISH, RENDER]
    );
    assert_eq!(listed[0].host_pattern.as_deref(), Some("render*"));
    assert_eq!(listed[0].claim_by, at_hours(72.0));
    assert_eq!(listed[1].created, at_hours(1.0));
    assert_eq!(listed[1].recipients, 1);
    assert_eq!(listed[1].access, GrantAccess::TokenAndRecipient);

    // The records survive the bundles and a data-key rotation.
    std::fs::remove_file(&a.path).unwrap();
    f.vault
        .rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap();
    assert_eq!(f.vault.list_grants().unwrap(), listed);
    // A rotation does not touch issued grants: they open with their own keys.
    let g = Grant::open(
        &b.path,
        &f.how("a")
            .token(b.token.clone().unwrap())
            .identity_file(f.path("farm.key")),
    )
    .unwrap();
    assert_eq!(
        g.get(OTHER).unwrap().credential.secret(),
        OTHER_SECRET.as_bytes()
    );

    // Reopen: the records are still there under the new key.
    let path = f.vault.path().to_path_buf();
    let Fixture {
        dir, vault, clock, ..
    } = f;
    drop(vault);
    let reopened = Config::new(&path)
        .clock(std::sync::Arc::new(clock))
        .open(&Unlock::passphrase("pw"))
        .unwrap();
    assert_eq!(reopened.list_grants().unwrap(), listed);
    drop(reopened);

    // No token, and no token secret, anywhere in the vault's files.
    let mut needles: Vec<Vec<u8>> = Vec::new();
    for t in [&a.token, &b.token] {
        let t = t.as_ref().unwrap().expose();
        needles.push(t.as_bytes().to_vec());
        needles.push(t.as_bytes()[5..].to_vec());
        needles.push(Base64UrlUnpadded::decode_vec(&t[5..]).unwrap()[16..].to_vec());
    }
    let needles: Vec<&[u8]> = needles.iter().map(Vec::as_slice).collect();
    let files = files_under(&path);
    assert!(files.iter().any(|p| p.ends_with("db")));
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(find_any(&bytes, &needles), None, "{}", file.display());
        // The records are sealed: labels and entry names are not in the clear either.
        assert_eq!(
            find_any(&bytes, &[&b"job-4711"[..], RENDER.as_bytes()]),
            None,
            "{}",
            file.display()
        );
    }
    drop(dir);
}
