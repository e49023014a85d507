//! A key file that group or others can access, that another user owns, or that
//! is a symbolic link is refused by the library itself (so the C ABI and Python
//! refuse it too) with a message naming the path and the fix; a private one
//! opens; the explicit escape (`KeyFile::read_insecure_permissions`, behind the
//! CLI's `--insecure-permissions`) still opens it.
#![cfg(unix)]

use crate::support::{chmod, Fx};
use farmvault::{Error, KeyFile, Unlock};
use std::path::Path;

#[track_caller]
fn assert_refused<T>(r: farmvault::Result<T>, key: &Path, mode: u32) {
    match r {
        Err(e @ Error::Insecure { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("key file"), "{msg}");
            assert!(msg.contains(&format!("(mode {mode:04o})")), "{msg}");
            assert!(
                msg.contains(&format!("chmod 600 {}", key.display())),
                "{msg}"
            );
        }
        Err(e) => panic!("mode {mode:o}: {e}"),
        Ok(_) => panic!("mode {mode:o}: a loose key file was read"),
    }
}

#[test]
fn a_loose_key_file_is_refused_with_the_fix() {
    let fx = Fx::empty();
    let key = fx.create_with_key_file();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602, 0o620] {
        chmod(&key, mode);
        assert_refused(KeyFile::read(&key), &key, mode);
        assert_refused(Unlock::key_file_path(&key), &key, mode);
        // The explicit escape reads it, and it opens the vault.
        let k = KeyFile::read_insecure_permissions(&key).unwrap();
        drop(fx.open_with(&Unlock::KeyFile(k)).unwrap());
    }
}

#[test]
fn a_private_key_file_opens() {
    let fx = Fx::empty();
    let key = fx.create_with_key_file();
    for mode in [0o600, 0o400] {
        chmod(&key, mode);
        drop(fx.open_with(&Unlock::key_file_path(&key).unwrap()).unwrap());
    }
}

#[test]
fn a_key_file_of_the_wrong_size_says_so_first() {
    // Not a key file at all: its size is the more useful message, and no byte
    // of it is read.
    let fx = Fx::empty();
    let key = fx.create_with_key_file();
    let long = key.with_file_name("long.key");
    std::fs::write(&long, [7u8; 33]).unwrap();
    chmod(&long, 0o644);
    match KeyFile::read(&long) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains("exactly 32 bytes, it holds 33"), "{msg}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // Missing: an I/O error naming the path, as before.
    match KeyFile::read(key.with_file_name("missing.key")) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("missing.key"), "{e}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// A key file reached through a symbolic link is refused by the open itself
/// (`O_NOFOLLOW`: the one open that is then read), naming the link, so no file
/// put behind the link between a check and a read can be used.
#[test]
fn a_key_file_behind_a_symbolic_link_is_refused_naming_the_link() {
    let fx = Fx::empty();
    let key = fx.create_with_key_file();
    let link = key.with_file_name("link.key");
    std::os::unix::fs::symlink(&key, &link).unwrap();
    for r in [
        KeyFile::read(&link).map(|_| ()),
        Unlock::key_file_path(&link).map(|_| ()),
    ] {
        match r {
            Err(e @ Error::Insecure { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("key file {} is a symbolic link", link.display())),
                    "{msg}"
                );
            }
            other => panic!("a linked key file was read: {other:?}"),
        }
    }
    // The explicit escape follows it.
    let k = KeyFile::read_insecure_permissions(&link).unwrap();
    drop(fx.open_with(&Unlock::KeyFile(k)).unwrap());
}

/// A key file of another user's is refused even when it is private: run as
/// root, the file is given to `nobody`; otherwise the test says why it skips.
#[test]
fn another_users_key_file_is_refused() {
    if !rustix::process::geteuid().is_root() {
        eprintln!(
            "skipped another_users_key_file_is_refused: only root can give a file to another user"
        );
        return;
    }
    let fx = Fx::empty();
    let key = fx.create_with_key_file();
    std::os::unix::fs::chown(&key, Some(65534), Some(65534)).unwrap();
    match KeyFile::read(&key) {
        Err(e @ Error::Insecure { .. }) => {
            assert!(
                e.to_string()
                    .contains("owned by uid 65534, not by you (uid 0)"),
                "{e}"
            )
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    KeyFile::read_insecure_permissions(&key).unwrap();
}
