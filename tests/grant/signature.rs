//! Issuer signatures: one signing key per vault, kept through rotation and
//! backups; pinned issuers take only their own grants, before anything is
//! decrypted; format-1 bundles (made by farmvault 0.1.0, unsigned) still open
//! where nothing is pinned.

use crate::files::unpack_fixture;
use crate::support::*;
use farmvault::grant::{check_signature, read_info, Grant, GrantOpen, IssuerKey, Signature};
use farmvault::*;
use std::sync::Arc;

#[test]
fn a_vault_signs_with_one_key_that_survives_rotation_and_restore() {
    let f = Fixture::new();
    let issuer = f.vault.grant_issuer().unwrap();
    assert_eq!(f.vault.grant_issuer().unwrap(), issuer, "made once");
    let a = f.issue(&f.spec("a.fvg").entry(RENDER));
    assert_eq!(a.info.signer, Some(issuer));
    assert_eq!(read_info(&a.path).unwrap().signer, Some(issuer));
    let check = check_signature(&a.path).unwrap();
    assert_eq!(check.signature, Signature::Valid(issuer));

    f.vault
        .rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap();
    assert_eq!(
        f.vault.grant_issuer().unwrap(),
        issuer,
        "kept by a rotation"
    );
    let b = f.issue(&f.spec("b.fvg").entry(RENDER));
    assert_eq!(b.info.signer, Some(issuer));
    assert!(f
        .vault
        .list_grants()
        .unwrap()
        .iter()
        .all(|g| g.signer == Some(issuer)));

    let backup = f.path("vault.fvbk");
    f.vault.backup_to(&backup).unwrap();
    let (restored, _) = Config::new(f.path("restored"))
        .restore(&backup, &Unlock::passphrase("pw"))
        .unwrap();
    assert_eq!(
        restored.grant_issuer().unwrap(),
        issuer,
        "kept by a restore"
    );
}

#[test]
fn pinned_issuers_take_only_their_own_grants_before_any_key_is_tried() {
    let studio = Fixture::new();
    let other = Fixture::new();
    let ours = studio.vault.grant_issuer().unwrap();
    let theirs = other.vault.grant_issuer().unwrap();
    assert_ne!(ours, theirs);
    let g = other.issue(&other.spec("g.fvg").entry(RENDER));
    let token = g.token.clone().unwrap();

    let refused = Grant::open(
        &g.path,
        &other.how("a").token(token.clone()).issuers([ours]),
    );
    match refused {
        Err(Error::UntrustedGrant { why, .. }) => {
            assert!(why.contains(&theirs.to_string()), "{why}");
            assert!(why.contains("does not list"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // The signature is checked first: a wrong token gets the same answer, so
    // nothing was unwrapped or decrypted for an untrusted bundle.
    let wrong = Grant::open(
        &g.path,
        &other.how("a").token(altered_token(&token)).issuers([ours]),
    );
    assert!(
        matches!(wrong, Err(Error::UntrustedGrant { .. })),
        "{wrong:?}"
    );
    assert!(!other.path("state-a").exists(), "nothing recorded");

    let opened = Grant::open(
        &g.path,
        &other.how("a").token(token.clone()).issuers([ours, theirs]),
    )
    .unwrap();
    assert_eq!(opened.info().signer, Some(theirs));
    let none: [IssuerKey; 0] = [];
    let empty = Grant::open(&g.path, &other.how("b").token(token).issuers(none));
    assert!(matches!(empty, Err(Error::InvalidArgument(_))), "{empty:?}");
}

/// The format-1 fixture, unpacked, and the time its grants were issued.
fn format_1_fixture() -> (tempfile::TempDir, UnixTime) {
    let tmp = unpack_fixture("grant-v1.tar.gz");
    let made: u64 = std::fs::read_to_string(tmp.path().join("made-at.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (tmp, UnixTime(made))
}

fn fixture_token(dir: &std::path::Path, file: &str) -> SecretString {
    SecretString::from(std::fs::read_to_string(dir.join(file)).unwrap().trim())
}

#[test]
fn format_1_bundles_open_where_no_issuer_is_pinned() {
    let (tmp, made) = format_1_fixture();
    let dir = tmp.path();
    let info = read_info(dir.join("token-grant.fvg")).unwrap();
    assert_eq!(info.label, "fixture-job-v1");
    assert_eq!(info.signer, None);
    assert_eq!(
        check_signature(dir.join("token-grant.fvg"))
            .unwrap()
            .signature,
        Signature::Unsigned
    );
    let clock = ManualClock::new(made.plus(std::time::Duration::from_secs(60)));
    let how = |state: &str| {
        GrantOpen::new()
            .clock(Arc::new(clock.clone()))
            .hostname("render01")
            .state_dir(dir.join(state))
    };
    let g = Grant::open(
        dir.join("token-grant.fvg"),
        &how("s1").token(fixture_token(dir, "token.txt")),
    )
    .unwrap();
    match g.get("shotgun/render_farm").unwrap().credential {
        Credential::ScriptKey(k) => assert_eq!(k.api_key.expose(), "fixture-api-key-v1-0123456789"),
        other => panic!("{:?}", other.kind()),
    }
    let both = Grant::open(
        dir.join("both-grant.fvg"),
        &how("s2")
            .token(fixture_token(dir, "both-token.txt"))
            .identity_file(dir.join("farm-identity.txt")),
    )
    .unwrap();
    assert_eq!(both.info().signer, None);

    // Pinned: an unsigned bundle is refused, whoever the pin names.
    let someone = Fixture::new().vault.grant_issuer().unwrap();
    let pinned = Grant::open(
        dir.join("token-grant.fvg"),
        &how("s3")
            .token(fixture_token(dir, "token.txt"))
            .issuers([someone]),
    );
    match pinned {
        Err(Error::UntrustedGrant { why, .. }) => assert!(why.contains("unsigned"), "{why}"),
        other => panic!("{other:?}"),
    }
}
