//! The vault directory through the command line: what the library refuses
//! (another user's, open to group or others, a symbolic link, in a folder every
//! user may write to without the sticky bit) every command refuses, `init` and
//! `restore` included, with exit 8, the library's words and
//! `--insecure-permissions` as the way out; `init` never makes a vault the next
//! command would refuse.
//!
//! The other-user cases run the CLI as `nobody` (uid 65534) through `setpriv`
//! (or `runuser`), or give a directory to `nobody` with `chown`: they need root,
//! and print why they are skipped without it.
#![cfg(unix)]

use crate::common::{self, as_nobody, chmod, code, is_root, write_private, Env, Run, NOBODY, PW};
use std::path::PathBuf;

/// A passphrase file `nobody` owns (0600), for runs as `nobody`.
fn nobodys_passphrase_file(env: &Env) -> PathBuf {
    let p = env.path("nobody.pass");
    write_private(&p, format!("{PW}\n").as_bytes());
    std::os::unix::fs::chown(&p, Some(NOBODY), Some(NOBODY)).unwrap();
    p
}

#[track_caller]
fn refused(r: Run, needles: &[&str]) -> Run {
    let r = r.expect(code::INSECURE);
    r.one_line_error();
    for n in needles {
        assert!(r.stderr.contains(n), "{n:?} not in {}", r.stderr);
    }
    assert!(r.stderr.contains("--insecure-permissions"), "{}", r.stderr);
    r
}

/// `init`, run as another user in root's world-writable directory, refuses it
/// up front with the message and exit status of the next command, so it never
/// makes a vault that every later command would refuse.
#[test]
fn init_as_another_user_refuses_what_the_next_command_would() {
    const TEST: &str = "init_as_another_user_refuses_what_the_next_command_would";
    let env = Env::new();
    if as_nobody(&env, TEST).is_none() {
        return;
    }
    // nobody may pass through the workspace; the vault directory is root's, 0777.
    chmod(env.dir.path(), 0o755);
    std::fs::create_dir(&env.vault).unwrap();
    chmod(&env.vault, 0o777);
    let pass = nobodys_passphrase_file(&env);
    let run = |args: &[&str]| {
        let mut c = as_nobody(&env, TEST).expect("checked above");
        c.env("FARMVAULT_PASSPHRASE_FILE", &pass).args(args);
        common::run(&mut c, None)
    };
    let owner = format!("owned by uid 0, not by you (uid {NOBODY})");
    let init = refused(run(&["init"]), &[&owner]);
    assert_eq!(
        std::fs::read_dir(&env.vault).unwrap().count(),
        0,
        "init made something"
    );
    let list = refused(run(&["list"]), &[&owner]);
    assert_eq!(init.stderr, list.stderr);
}

/// Run as root against a private directory `nobody` owns: refused by `init`
/// and by every other command, though its mode is fine.
#[test]
fn another_users_private_directory_is_refused() {
    if !is_root() {
        eprintln!("skipped another_users_private_directory_is_refused: only root can give a directory to another user");
        return;
    }
    let env = Env::with_vault();
    std::os::unix::fs::chown(&env.vault, Some(NOBODY), Some(NOBODY)).unwrap();
    let owner = format!("owned by uid {NOBODY}, not by you (uid 0)");
    let list = refused(env.run(&["list"], None), &[&owner]);
    assert!(
        list.stderr.contains(&env.vault.display().to_string()),
        "{}",
        list.stderr
    );
    env.run(&["list", "--insecure-permissions"], None)
        .expect(code::OK);

    let theirs = env.path("theirs");
    std::fs::create_dir(&theirs).unwrap();
    chmod(&theirs, 0o700);
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    let init = refused(
        common::run(env.cmd().env("FARMVAULT_PATH", &theirs).arg("init"), None),
        &[&owner],
    );
    let list = refused(
        common::run(env.cmd().env("FARMVAULT_PATH", &theirs).arg("list"), None),
        &[&owner],
    );
    assert_eq!(init.stderr, list.stderr);
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
}

#[test]
fn init_refuses_a_directory_open_to_others_as_the_next_command_would() {
    let env = Env::new();
    std::fs::create_dir(&env.vault).unwrap();
    chmod(&env.vault, 0o777);
    let fix = format!("chmod 700 {}", env.vault.display());
    let init = refused(env.run(&["init"], None), &["(mode 0777)", &fix]);
    assert_eq!(std::fs::read_dir(&env.vault).unwrap().count(), 0);
    let list = refused(env.run(&["list"], None), &["(mode 0777)", &fix]);
    assert_eq!(init.stderr, list.stderr);
    // The way out makes the vault (and the open makes the directory private).
    env.run(&["init", "--insecure-permissions"], None)
        .expect(code::OK);
    env.run(&["list"], None).expect(code::OK);
}

#[test]
fn a_vault_directory_behind_a_symbolic_link_is_refused() {
    let env = Env::with_vault();
    let link = env.path("link");
    std::os::unix::fs::symlink(&env.vault, &link).unwrap();
    let named = format!("vault directory {} is a symbolic link", link.display());
    let at_link =
        |args: &[&str]| common::run(env.cmd().env("FARMVAULT_PATH", &link).args(args), None);
    refused(at_link(&["list"]), &[&named]);
    refused(at_link(&["backup", "--verify"]), &[&named]);
    at_link(&["list", "--insecure-permissions"]).expect(code::OK);
    // A link to an empty directory is not created into.
    let target = env.path("target");
    std::fs::create_dir(&target).unwrap();
    chmod(&target, 0o700);
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    refused(at_link(&["init"]), &[&named]);
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
}

#[test]
fn a_vault_in_a_folder_everyone_may_write_without_the_sticky_bit_is_refused() {
    let env = Env::with_vault();
    chmod(env.dir.path(), 0o777);
    let folder = env.dir.path().display().to_string();
    refused(env.run(&["list"], None), &[&folder, "no sticky bit"]);
    chmod(env.dir.path(), 0o1777);
    env.run(&["list"], None).expect(code::OK);
    chmod(env.dir.path(), 0o700);
}
