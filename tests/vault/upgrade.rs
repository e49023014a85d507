//! A vault written by farmvault 0.1.0 (header format version 1) opens, is
//! upgraded to the current format by its first open with a key, and reads the
//! same; a backup written by 0.1.0 restores; a newer format is refused naming
//! both versions.
//!
//! The fixture `tests/fixtures/vault-0.1.0.tar.gz` was made by the 0.1.0 command
//! line (commit ebd7637): docs/FORMAT.md says how.
#![cfg(unix)]

use crate::files::unpack_fixture;
use crate::support::*;
use farmvault::*;
use std::path::{Path, PathBuf};

/// The fixture unpacked: `vault/`, `farm.key`, `vault-0.1.0.fvbk`, `passphrase`.
fn unpack() -> (tempfile::TempDir, PathBuf) {
    let tmp = unpack_fixture("vault-0.1.0.tar.gz");
    let root = tmp.path().to_owned();
    (tmp, root)
}

fn header_version_on_disk(vault: &Path) -> u16 {
    let h = raw_edit(vault, |db| db.get(b"H").unwrap().unwrap().to_vec());
    u16::from_be_bytes([h[4], h[5]])
}

/// What the fixture holds, as the 0.1.0 command line stored it.
fn assert_fixture_entries(v: &Vault) {
    let names: Vec<String> = v.list("").unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["opaque/blob", "sg/script", "sg/session"]);
    assert_eq!(bytes_of(v, "opaque/blob"), b"opaque-secret-0.1.0");
    match v.get("sg/script").unwrap().credential {
        Credential::ScriptKey(k) => {
            assert_eq!(k.host, "https://studio.shotgrid.autodesk.com");
            assert_eq!(k.script_name, "render_farm");
            assert_eq!(k.api_key.expose(), "script-key-0.1.0");
        }
        other => panic!("sg/script is {other:?}"),
    }
    assert!(v.metadata("sg/session").unwrap().expires.is_some());
}

#[test]
fn a_0_1_0_vault_is_upgraded_by_its_first_open_and_reads_the_same() {
    let (_tmp, root) = unpack();
    let vault = root.join("vault");
    assert_eq!(header_version_on_disk(&vault), 1);
    let key = Unlock::key_file_path(root.join("farm.key")).unwrap();
    let v = Config::new(&vault).open(&key).unwrap();
    assert_eq!(v.upgraded_from(), Some(1));
    assert_fixture_entries(&v);
    drop(v);
    assert_eq!(header_version_on_disk(&vault), FORMAT_VERSION);

    // Upgraded once: the next opens, with either keyslot, change nothing.
    let before = raw_dump(&vault);
    let v = Config::new(&vault).open(&key).unwrap();
    assert_eq!(v.upgraded_from(), None);
    drop(v);
    let pw_0_1_0 = std::fs::read_to_string(root.join("passphrase")).unwrap();
    let v = Config::new(&vault)
        .open(&Unlock::passphrase(pw_0_1_0.trim_end()))
        .unwrap();
    assert_eq!(v.upgraded_from(), None);
    assert_fixture_entries(&v);
    drop(v);
    assert_eq!(raw_dump(&vault), before);
}

#[test]
fn a_0_1_0_vault_upgraded_then_damaged_reports_damage_not_a_wrong_key() {
    let (_tmp, root) = unpack();
    let vault = root.join("vault");
    let key = Unlock::key_file_path(root.join("farm.key")).unwrap();
    drop(Config::new(&vault).open(&key).unwrap());
    let mut h = raw_edit(&vault, |db| db.get(b"H").unwrap().unwrap().to_vec());
    // A byte in the middle of the body: inside a keyslot or outside, it is damage.
    let at = h.len() / 2;
    h[at] ^= 0x04;
    raw_edit(&vault, |db| db.insert(b"H", h).unwrap());
    match Config::new(&vault).open(&key) {
        Err(Error::Corrupt { what, .. }) => assert!(what.contains("damaged"), "{what}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_0_1_0_backup_restores_and_is_upgraded() {
    let (_tmp, root) = unpack();
    let key = Unlock::key_file_path(root.join("farm.key")).unwrap();
    let target = root.join("restored");
    let (v, _report) = Config::new(&target)
        .restore(&root.join("vault-0.1.0.fvbk"), &key)
        .unwrap();
    assert_eq!(v.upgraded_from(), Some(1));
    assert_fixture_entries(&v);
    drop(v);
    assert_eq!(header_version_on_disk(&target), FORMAT_VERSION);
}

#[test]
fn a_newer_format_is_refused_naming_both_versions() {
    let fx = Fx::empty();
    drop(fx.create());
    let mut h = raw_edit(&fx.path, |db| db.get(b"H").unwrap().unwrap().to_vec());
    h[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    raw_edit(&fx.path, |db| db.insert(b"H", h).unwrap());
    match fx.open_with(&pw()) {
        Err(Error::Corrupt { what, .. }) => {
            let newer = format!("format version {}", FORMAT_VERSION + 1);
            let reads = format!("versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}");
            assert!(what.contains(&newer) && what.contains(&reads), "{what}");
            assert!(what.contains("upgrade farmvault"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_0_1_0_vault_moves_into_a_generation_at_its_first_rewrite() {
    let (_tmp, root) = unpack();
    let vault = root.join("vault");
    let key = Unlock::key_file_path(root.join("farm.key")).unwrap();
    // Opened and upgraded in place: the flat layout works as it is.
    let v = Config::new(&vault).open(&key).unwrap();
    assert!(vault.join("db").is_file());
    assert!(!vault.join(layout::CURRENT_FILE).exists());
    v.put("written-flat", b"w", &PutOptions::new()).unwrap();
    // The first rewrite moves it into gen-1 and leaves none of the flat files.
    v.compact(&mut |_, _| {}).unwrap();
    drop(v);
    assert_eq!(layout::current(&vault).unwrap(), Some(1));
    for flat in ["db", "conf", "backup.fvbk", "journal.fvjl"] {
        assert!(
            !vault.join(flat).exists(),
            "{flat} is still in the vault directory"
        );
    }
    let v = Config::new(&vault).open(&key).unwrap();
    assert_eq!(bytes_of(&v, "written-flat"), b"w");
    v.delete("written-flat").unwrap();
    assert_fixture_entries(&v);
    v.verify_backup(&key).unwrap();
}
