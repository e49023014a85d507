//! A key file that group or others can access is refused by the library itself
//! (so the C ABI and Python refuse it too) with a message naming the path and
//! the fix; a private one opens; the explicit escape (the CLI's
//! `--insecure-permissions`, `KeyFile::read_insecure_permissions`) still opens it.
#![cfg(unix)]

mod cli_common;

use cli_common::{chmod, code, key_file_vault, Env};
use farmvault::{Error, KeyFile, Unlock};
use std::path::Path;

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

#[test]
fn the_cli_refuses_a_loose_key_file_unless_told_otherwise() {
    let env = Env::with_vault();
    let key = env.path("k.key");
    let key_arg = key.to_str().expect("utf8");
    env.run(&["key-file", "add", key_arg, "--generate"], None)
        .expect(code::OK);
    chmod(&key, 0o644);
    let list = |extra: &[&str]| {
        let mut args = vec!["--key-file", key_arg, "list"];
        args.extend_from_slice(extra);
        env.run(&args, None)
    };
    let r = list(&[]).expect(code::INSECURE);
    r.one_line_error();
    assert!(r.stderr.contains("key file"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("chmod 600 {}", key.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--insecure-permissions"), "{}", r.stderr);
    list(&["--insecure-permissions"]).expect(code::OK);
    // The same for the commands that read a key file to change the slots.
    let r = env
        .run(&["key-file", "remove", key_arg], None)
        .expect(code::INSECURE);
    r.one_line_error();
    chmod(&key, 0o600);
    list(&[]).expect(code::OK);
}
