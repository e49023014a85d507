//! A vault directory another user could read or replace is refused by the
//! library itself, by open, create, restore and repair alike and in the same
//! words (so the C ABI, Python and the CLI refuse it too): one owned by another
//! user, one group or others can access, one reached through a symbolic link,
//! and one in a folder every user may write to without the sticky bit.
//! `Config::allow_insecure_permissions(true)` is the explicit way past.
//!
//! The other-user cases need a directory that really belongs to someone else:
//! run as root, they hand it to `nobody` (uid 65534); otherwise they print why
//! they are skipped.
#![cfg(unix)]

use crate::support::*;
use farmvault::{Config, Error, Result, Vault};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The user the other-user cases hand directories to.
const NOBODY: u32 = 65534;

/// Whether the other-user cases can run here (they need root to `chown`).
fn can_chown(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!("skipped {test}: only root can give a directory to another user (uid {NOBODY})");
    false
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Asserts an `Insecure` refusal of `path` whose message holds every needle;
/// returns the message.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T>, path: &Path, needles: &[&str]) -> String {
    match r {
        Err(e @ Error::Insecure { .. }) => {
            let Error::Insecure { path: p, .. } = &e else {
                unreachable!()
            };
            assert_eq!(p, path);
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            for n in needles {
                assert!(msg.contains(n), "{n:?} not in {msg:?}");
            }
            msg
        }
        other => panic!("{}: not refused as insecure: {other:?}", path.display()),
    }
}

fn cfg(p: &Path) -> Config {
    Config::new(p).kdf(cheap())
}

fn backup_of(fx: &Fx) -> std::path::PathBuf {
    let file = fx.dir.path().join("copy.fvbk");
    fx.open().backup_to(&file).unwrap();
    file
}

#[test]
fn a_vault_directory_open_to_others_is_refused_by_open_create_and_restore() {
    let fx = Fx::empty();
    drop(fx.create());
    let backup = backup_of(&fx);
    let fix = format!("chmod 700 {}", fx.path.display());
    for m in [0o777, 0o757, 0o770, 0o755, 0o750, 0o701] {
        chmod(&fx.path, m);
        refused(
            fx.cfg().open(&pw()),
            &fx.path,
            &[&format!("(mode {m:04o})"), &fix],
        );
        refused(fx.cfg().repair(&pw(), false), &fx.path, &[&fix]);
        assert_eq!(mode(&fx.path), m, "a refused open changed nothing");
    }
    // The explicit way past opens it (and the open makes it private again).
    chmod(&fx.path, 0o777);
    drop(
        fx.cfg()
            .allow_insecure_permissions(true)
            .open(&pw())
            .unwrap(),
    );
    assert_eq!(mode(&fx.path), 0o700);

    // Create and restore refuse up front what open would refuse, in the same
    // words, and leave the directory as it was.
    let empty = fx.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    chmod(&empty, 0o777);
    let by_open = refused(cfg(&empty).open(&pw()), &empty, &["(mode 0777)"]);
    let by_create = refused(cfg(&empty).create(&pw()), &empty, &["(mode 0777)"]);
    let by_restore = refused(cfg(&empty).restore(&backup, &pw()), &empty, &[]);
    assert_eq!(by_create, by_open);
    assert_eq!(by_restore, by_open);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    assert_eq!(mode(&empty), 0o777);
    let v = cfg(&empty)
        .allow_insecure_permissions(true)
        .create(&pw())
        .unwrap();
    drop(v);
    cfg(&empty).open(&pw()).unwrap();
}

#[test]
fn a_vault_directory_reached_through_a_symbolic_link_is_refused() {
    let fx = Fx::empty();
    drop(fx.create());
    let link = fx.dir.path().join("link");
    std::os::unix::fs::symlink(&fx.path, &link).unwrap();
    // The link is named, and the fix names the real directory.
    let real = fx.canonical().display().to_string();
    let msg = refused(
        cfg(&link).open(&pw()),
        &link,
        &["is a symbolic link", &real],
    );
    assert!(
        msg.starts_with(&format!("vault directory {} is", link.display())),
        "{msg}"
    );
    // A trailing slash does not make the open follow it.
    let slashed = link.join("");
    refused(cfg(&slashed).open(&pw()), &slashed, &["symbolic link"]);
    // A link to an empty directory is not created into.
    let target = fx.dir.path().join("target");
    private_dir(&target);
    let new_link = fx.dir.path().join("new-link");
    std::os::unix::fs::symlink(&target, &new_link).unwrap();
    refused(cfg(&new_link).create(&pw()), &new_link, &["symbolic link"]);
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
    // The explicit way past follows it to the same vault.
    let v = cfg(&link)
        .allow_insecure_permissions(true)
        .open(&pw())
        .unwrap();
    assert_eq!(v.path(), fx.canonical());
}

#[test]
fn a_vault_in_a_folder_everyone_may_write_without_the_sticky_bit_is_refused() {
    let fx = Fx::empty();
    drop(fx.create());
    let shared = fx.dir.path();
    let new_vault = shared.join("new").join("vault");
    chmod(shared, 0o777);
    let folder = shared.display().to_string();
    let needles = [folder.as_str(), "no sticky bit", "(mode 0777)", "chmod o-w"];
    refused(fx.cfg().open(&pw()), &fx.path, &needles);
    // A new vault there would be as easy to replace: refused before anything
    // is created.
    refused(cfg(&new_vault).create(&pw()), &new_vault, &needles);
    assert!(!shared.join("new").exists());
    // With the sticky bit (as /tmp has), others cannot rename what is ours.
    chmod(shared, 0o1777);
    drop(fx.open());
    drop(cfg(&new_vault).create(&pw()).unwrap());
    chmod(shared, 0o700);
}

#[test]
fn another_users_vault_directory_is_refused() {
    if !can_chown("another_users_vault_directory_is_refused") {
        return;
    }
    let me = rustix::process::geteuid().as_raw();
    let owner = format!("owned by uid {NOBODY}, not by you (uid {me})");
    // A vault the caller made, then given to another user: private, but theirs.
    let fx = Fx::empty();
    drop(fx.create());
    std::os::unix::fs::chown(&fx.path, Some(NOBODY), Some(NOBODY)).unwrap();
    refused(fx.cfg().open(&pw()), &fx.path, &[&owner]);
    refused(fx.cfg().repair(&pw(), true), &fx.path, &[&owner]);
    drop(
        fx.cfg()
            .allow_insecure_permissions(true)
            .open(&pw())
            .unwrap(),
    );

    // Another user's empty, world-writable directory: create refuses it up
    // front, with open's words, rather than make a vault every open refuses.
    let theirs = fx.dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    chmod(&theirs, 0o777);
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    let by_create = refused(cfg(&theirs).create(&pw()), &theirs, &[&owner]);
    assert_eq!(
        by_create,
        refused(cfg(&theirs).open(&pw()), &theirs, &[&owner])
    );
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
}

/// `check_vault_dir`, the check a tool runs before asking for a passphrase, is
/// the one open runs: it refuses and accepts the same directories.
#[test]
fn check_vault_dir_is_the_check_open_makes() {
    let fx = Fx::empty();
    drop(fx.create());
    farmvault::perms::check_vault_dir(&fx.path).unwrap();
    chmod(&fx.path, 0o770);
    let by_check = farmvault::perms::check_vault_dir(&fx.path).unwrap_err();
    let by_open = fx.cfg().open(&pw()).map(|_: Vault| ()).unwrap_err();
    assert_eq!(by_check.to_string(), by_open.to_string());
    // Missing is not refused (open then says there is no vault).
    farmvault::perms::check_vault_dir(&fx.dir.path().join("missing")).unwrap();
}
