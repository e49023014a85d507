//! Revocation: a grant named in its issuer's signed list beside the bundle is
//! refused at open; a list that does not verify, or is another vault's, fails
//! the open rather than being skipped.

use crate::support::*;
use farmvault::grant::{revocation_list_path, Grant};
use farmvault::*;

#[test]
fn a_revoked_grant_no_longer_opens_and_others_still_do() {
    let f = Fixture::new();
    let a = f.issue(&f.spec("a.fvg").entry(RENDER));
    let b = f.issue(&f.spec("b.fvg").entry(PUBLISH));
    let how = |g: &farmvault::grant::IssuedGrant, m: &str| f.how(m).token(g.token.clone().unwrap());
    Grant::open(&a.path, &how(&a, "before")).unwrap();

    let done = f.vault.revoke_grants(&[a.id], f.dir.path()).unwrap();
    assert_eq!(
        done.path,
        revocation_list_path(f.dir.path(), &a.info.issuer)
    );
    assert_eq!((done.added.clone(), done.total), (vec![a.id], 1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&done.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "every job account reads it");
    }
    // Even on a machine where it was opened before: the list is read at each open.
    match Grant::open(&a.path, &how(&a, "before")) {
        Err(Error::Revoked { grant, list }) => {
            assert_eq!(grant, a.id.to_hex());
            assert_eq!(list, done.path);
        }
        other => panic!("{other:?}"),
    }
    Grant::open(&b.path, &how(&b, "b")).unwrap();

    let again = f.vault.revoke_grants(&[a.id, b.id], f.dir.path()).unwrap();
    assert_eq!((again.added, again.total), (vec![b.id], 2));
    assert!(matches!(
        Grant::open(&b.path, &how(&b, "b")),
        Err(Error::Revoked { .. })
    ));
}

#[test]
fn an_unknown_id_writes_nothing() {
    let f = Fixture::new();
    let a = f.issue(&f.spec("a.fvg").entry(RENDER));
    let stranger = farmvault::grant::GrantId([7; 16]);
    let r = f.vault.revoke_grants(&[a.id, stranger], f.dir.path());
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    assert!(!revocation_list_path(f.dir.path(), &a.info.issuer).exists());
}

#[test]
fn a_list_that_does_not_verify_or_is_another_vaults_fails_the_open() {
    let f = Fixture::new();
    let a = f.issue(&f.spec("a.fvg").entry(RENDER));
    let how = f.how("m").token(a.token.clone().unwrap());
    let ours = f.vault.revoke_grants(&[a.id], f.dir.path()).unwrap().path;
    let revoked_bytes = std::fs::read(&ours).unwrap();

    // Every flipped byte: never an open as if nothing were revoked.
    for i in 0..revoked_bytes.len() {
        let mut bytes = revoked_bytes.clone();
        bytes[i] ^= 0x01;
        std::fs::write(&ours, &bytes).unwrap();
        match Grant::open(&a.path, &how) {
            Err(Error::Corrupt { .. } | Error::Revoked { .. }) => {}
            other => panic!("flip at {i}: {:?}", other.map(|g| g.info().id)),
        }
    }

    // Another vault's valid list, put under this vault's name.
    let other = Fixture::new();
    let o = other.issue(&other.spec("o.fvg").entry(RENDER));
    let theirs = other
        .vault
        .revoke_grants(&[o.id], other.dir.path())
        .unwrap()
        .path;
    std::fs::copy(&theirs, &ours).unwrap();
    assert!(matches!(
        Grant::open(&a.path, &how),
        Err(Error::Corrupt { .. })
    ));
    // With no list at all, the grant opens again: deleting the list undoes a
    // revocation, which is why the grants directory is the submit side's alone.
    std::fs::remove_file(&ours).unwrap();
    Grant::open(&a.path, &how).unwrap();
}
