//! A vault written by farmvault 0.1.0 is upgraded by the first command that
//! opens it, which says so on stderr once; its output is otherwise unchanged.
#![cfg(unix)]

use crate::common::{code, Env};
use std::path::Path;

#[test]
fn the_first_open_of_a_0_1_0_vault_announces_its_upgrade_once() {
    let env = Env::new();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/vault-0.1.0.tar.gz");
    let unpacked = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&fixture)
        .arg("-C")
        .arg(env.path(""))
        .status()
        .expect("tar runs");
    assert!(unpacked.success(), "unpacking {}", fixture.display());
    let list = || {
        let mut c = env.cmd();
        c.env("FARMVAULT_PATH", env.path("vault"))
            .env("FARMVAULT_KEY_FILE", env.path("farm.key"))
            .arg("list");
        crate::common::run(&mut c, None).expect(code::OK)
    };
    let first = list();
    let vault = std::fs::canonicalize(env.path("vault")).expect("vault");
    let said = format!(
        "farmvault: upgraded the vault at {} from format version 1 to 2",
        vault.display()
    );
    assert!(first.stderr.contains(&said), "{}", first.stderr);
    let second = list();
    assert!(!second.stderr.contains("upgraded"), "{}", second.stderr);
    assert_eq!(first.stdout, second.stdout);
    assert!(first.stdout.contains("sg/script"), "{}", first.stdout);
}
