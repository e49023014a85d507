//! A key file that group or others can access is refused by the library itself
//! (so the C ABI and Python refuse it too), as `Error::Insecure`, with a message
//! naming the path and the fix; a private one opens; the explicit escape
//! (`KeyFile::read_insecure_permissions`, behind the CLI's `--insecure-permissions`)
//! still opens it.
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
