//! A key file that group or others can access is refused by the library itself
//! (so the C ABI and Python refuse it too) with a message naming the path and
//! the fix; a private one opens; the explicit escape
//! (`KeyFile::read_insecure_permissions`) still opens it. The command line's
//! `--insecure-permissions` is tested in its own tests (cli/tests/cli/).
#![cfg(unix)]

mod common;

use common::key_file_vault;
use farmvault::{Error, KeyFile, Unlock};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[track_caller]
fn assert_refused<T>(r: farmvault::Result<T>, key: &Path, mode: u32) {
    match r {
        Err(Error::InvalidArgument(msg)) => {
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
    let fx = key_file_vault();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602, 0o620] {
        chmod(&fx.key, mode);
        assert_refused(KeyFile::read(&fx.key), &fx.key, mode);
        assert_refused(Unlock::key_file_path(&fx.key), &fx.key, mode);
        // The explicit escape reads it, and it opens the vault.
        let k = KeyFile::read_insecure_permissions(&fx.key).unwrap();
        drop(fx.config.clone().open(&Unlock::KeyFile(k)).unwrap());
    }
}

#[test]
fn a_private_key_file_opens() {
    let fx = key_file_vault();
    for mode in [0o600, 0o400] {
        chmod(&fx.key, mode);
        drop(
            fx.config
                .clone()
                .open(&Unlock::key_file_path(&fx.key).unwrap())
                .unwrap(),
        );
    }
}

#[test]
fn a_key_file_of_the_wrong_size_says_so_first() {
    // Not a key file at all: its size is the more useful message, and no byte
    // of it is read.
    let fx = key_file_vault();
    let long = fx.key.with_file_name("long.key");
    std::fs::write(&long, [7u8; 33]).unwrap();
    chmod(&long, 0o644);
    match KeyFile::read(&long) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains("exactly 32 bytes, it holds 33"), "{msg}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // Missing: an I/O error naming the path, as before.
    match KeyFile::read(fx.key.with_file_name("missing.key")) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("missing.key"), "{e}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}
