//! A farm identity that group or others can access, that is another user's,
//! or that is a symbolic link is refused when a grant is opened with it, with a
//! message that says how to fix it; the explicit opt-out (the CLI's
//! `--insecure-permissions`) opens it.
#![cfg(unix)]

use crate::support::*;
use farmvault::grant::{Grant, IssuedGrant};
use farmvault::Error;
use std::os::unix::fs::PermissionsExt;

/// A grant of `RENDER` issued to a new farm identity only (no token).
fn issued_to_an_identity() -> (Fixture, std::path::PathBuf, IssuedGrant) {
    let f = Fixture::new();
    let (farm, public) = f.identity("farm.key");
    let issued = f.issue(
        &f.spec("job.fvg")
            .entry(RENDER)
            .token(false)
            .recipient(public),
    );
    (f, farm, issued)
}

/// After a refusal nothing was recorded (it came before the first open), and
/// the explicit opt-out opens the grant with the same `identity`.
fn opens_only_with_the_opt_out(f: &Fixture, issued: &IssuedGrant, identity: &std::path::Path) {
    assert!(!f.path("state-a").exists());
    let g = Grant::open(
        &issued.path,
        &f.how("a")
            .identity_file(identity)
            .allow_insecure_permissions(true),
    )
    .unwrap();
    assert_eq!(
        g.credential(RENDER).unwrap().secret(),
        RENDER_KEY.as_bytes()
    );
}

#[test]
fn a_loose_identity_is_refused_with_the_fix() {
    let (f, farm, issued) = issued_to_an_identity();
    let chmod =
        |mode| std::fs::set_permissions(&farm, std::fs::Permissions::from_mode(mode)).unwrap();
    for mode in [0o640, 0o604, 0o660, 0o644] {
        chmod(mode);
        match Grant::open(&issued.path, &f.how("a").identity_file(&farm)) {
            Err(e @ Error::Insecure { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("farm identity"), "{msg}");
                assert!(msg.contains(&format!("{mode:04o}")), "{msg}");
                assert!(
                    msg.contains(&format!("chmod 600 {}", farm.display())),
                    "{msg}"
                );
            }
            other => panic!("mode {mode:o}: {:?}", other.map(|g| g.info().label.clone())),
        }
        opens_only_with_the_opt_out(&f, &issued, &farm);
        std::fs::remove_dir_all(f.path("state-a")).unwrap();
    }
    chmod(0o600);
    Grant::open(&issued.path, &f.how("a").identity_file(&farm)).unwrap();
}

/// The identity is opened once, without following a symbolic link, and read
/// from that descriptor: a link is refused by the open itself, naming the link,
/// before anything is recorded; no check by path comes first for a file swapped
/// in afterwards to slip past.
#[test]
fn an_identity_behind_a_symbolic_link_is_refused_naming_the_link() {
    let (f, farm, issued) = issued_to_an_identity();
    let link = f.path("linked.key");
    std::os::unix::fs::symlink(&farm, &link).unwrap();
    match Grant::open(&issued.path, &f.how("a").identity_file(&link)) {
        Err(e @ Error::Insecure { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!(
                    "farm identity {} is a symbolic link",
                    link.display()
                )),
                "{msg}"
            );
        }
        other => panic!("{:?}", other.map(|g| g.info().label.clone())),
    }
    opens_only_with_the_opt_out(&f, &issued, &link);
}

/// Another user's identity, even private, is refused (run as root: the file is
/// given to `nobody`; otherwise the test says why it skips).
#[test]
fn another_users_identity_is_refused() {
    if !rustix::process::geteuid().is_root() {
        eprintln!(
            "skipped another_users_identity_is_refused: only root can give a file to another user"
        );
        return;
    }
    let (f, farm, issued) = issued_to_an_identity();
    std::os::unix::fs::chown(&farm, Some(65534), Some(65534)).unwrap();
    match Grant::open(&issued.path, &f.how("a").identity_file(&farm)) {
        Err(e @ Error::Insecure { .. }) => {
            assert!(e.to_string().contains("owned by uid 65534"), "{e}")
        }
        other => panic!("{:?}", other.map(|g| g.info().label.clone())),
    }
    assert!(!f.path("state-a").exists());
}
