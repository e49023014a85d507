//! Keys: wrong passphrase / key file, the default KDF costs, passphrase change
//! without touching entries, key-file slots, data-key rotation and its refusal.

use crate::support::*;
use farmvault::*;
use std::collections::BTreeMap;

type Dump = BTreeMap<Vec<u8>, Vec<u8>>;

#[track_caller]
fn assert_wrong_key<T: std::fmt::Debug>(r: Result<T>, fx: &Fx) {
    match r {
        Err(Error::WrongKey { path }) => assert_eq!(path, fx.canonical()),
        other => panic!("expected WrongKey, got {other:?}"),
    }
}

/// A vault with a few entries (two with TTLs), closed; returns its raw dump.
fn populated(fx: &Fx, unlock: &Unlock) -> Dump {
    let v = fx.cfg().create(unlock).unwrap();
    v.put("a", b"alpha", &PutOptions::new()).unwrap();
    v.put("b", b"bravo", &ttl(100)).unwrap();
    v.put_credential("shotgun/s", &script_key(true), &ttl(200))
        .unwrap();
    v.put_credential("shotgun/t", &session_token(true), &PutOptions::new())
        .unwrap();
    drop(v);
    raw_dump(&fx.path)
}

#[track_caller]
fn assert_entries_read(v: &Vault) {
    assert_eq!(bytes_of(v, "a"), b"alpha");
    assert_eq!(bytes_of(v, "b"), b"bravo");
    assert_eq!(v.get("shotgun/s").unwrap().credential, script_key(true));
    assert_eq!(v.get("shotgun/t").unwrap().credential, session_token(true));
    assert_eq!(v.list("").unwrap().len(), 4);
}

#[test]
fn wrong_passphrase_and_wrong_key_file_are_wrong_key() {
    let fx = Fx::empty();
    populated(&fx, &pw());
    assert_wrong_key(fx.open_with(&Unlock::passphrase("not the passphrase")), &fx);
    assert_wrong_key(fx.open_with(&Unlock::passphrase("")), &fx);
    // A key file against a passphrase-only vault.
    let kf = KeyFile::generate().unwrap();
    assert_wrong_key(fx.open_with(&Unlock::KeyFile(kf.clone())), &fx);
    // The right one still opens, and the refusals changed nothing.
    assert_entries_read(&fx.open());

    let fx = Fx::empty();
    populated(&fx, &Unlock::KeyFile(kf.clone()));
    assert_wrong_key(
        fx.open_with(&Unlock::KeyFile(KeyFile::generate().unwrap())),
        &fx,
    );
    // One bit off.
    let mut bytes = *kf.expose();
    bytes[31] ^= 1;
    assert_wrong_key(
        fx.open_with(&Unlock::KeyFile(KeyFile::from_bytes(&bytes).unwrap())),
        &fx,
    );
    assert_wrong_key(fx.open_with(&pw()), &fx);
    // Through a key file on disk, as the CLI and C ABI read it.
    let path = fx.dir.path().join("farm.key");
    kf.write_new(&path).unwrap();
    assert!(kf.write_new(&path).is_err(), "overwrote a key file");
    assert_entries_read(
        &fx.open_with(&Unlock::key_file_path(&path).unwrap())
            .unwrap(),
    );
}

#[test]
fn default_kdf_is_no_weaker_than_64_mib_t3_p1() {
    let fx = Fx::empty();
    // farmvault::create: the default config, no kdf override (one real Argon2id run).
    let v = farmvault::create(&fx.path, &pw()).unwrap();
    let slots = v.keyslots().unwrap();
    assert_eq!(slots.len(), 1);
    assert_eq!(slots[0].kind, "passphrase");
    let kdf = slots[0].kdf.expect("a passphrase slot has KDF parameters");
    assert!(kdf.m_kib >= 64 * 1024, "{kdf:?}");
    assert!(kdf.t >= 3, "{kdf:?}");
    assert!(kdf.p >= 1, "{kdf:?}");
    assert_eq!(KdfParams::default(), KdfParams::DEFAULT);
    // And the cheap test parameters are what a cheap config records.
    let fx2 = Fx::empty();
    let slots = fx2.create().keyslots().unwrap();
    assert_eq!(slots[0].kdf, Some(cheap()));
}

#[test]
fn change_passphrase_rewraps_without_touching_entries() {
    let fx = Fx::empty();
    let before = populated(&fx, &pw());
    let v = fx.open();
    v.change_passphrase(&"a new passphrase".into()).unwrap();
    // The handle that changed it goes on working.
    assert_entries_read(&v);
    drop(v);
    let after = raw_dump(&fx.path);
    assert_eq!(
        space(&after, b'E'),
        space(&before, b'E'),
        "entries were rewritten"
    );
    assert_eq!(space(&after, b'X'), space(&before, b'X'));
    assert_ne!(after[&b"H".to_vec()], before[&b"H".to_vec()]);
    assert_wrong_key(fx.open_with(&pw()), &fx);
    let v = fx
        .open_with(&Unlock::passphrase("a new passphrase"))
        .unwrap();
    assert_entries_read(&v);
    let slots = v.keyslots().unwrap();
    assert_eq!(slots.len(), 1, "the old passphrase slot stayed: {slots:?}");
    assert_eq!(slots[0].kind, "passphrase");
    assert_ne!(slots[0].id, 0, "slot ids are never reused");
}

#[test]
fn key_file_slots_can_be_added_and_removed() {
    let fx = Fx::empty();
    let before = populated(&fx, &pw());
    let kf = KeyFile::generate().unwrap();
    let v = fx.open();
    v.add_key_file(&kf).unwrap();
    assert_invalid(v.add_key_file(&kf), "already opens");
    let kinds: Vec<_> = v.keyslots().unwrap().iter().map(|s| s.kind).collect();
    assert_eq!(kinds, ["passphrase", "key_file"]);
    drop(v);
    let mid = raw_dump(&fx.path);
    assert_eq!(space(&mid, b'E'), space(&before, b'E'));

    // Both open it.
    assert_entries_read(&fx.open_with(&Unlock::KeyFile(kf.clone())).unwrap());
    let v = fx.open();
    assert_entries_read(&v);
    assert_invalid(
        v.remove_key_file(&KeyFile::generate().unwrap()),
        "no keyslot",
    );
    v.remove_key_file(&kf).unwrap();
    assert_eq!(v.keyslots().unwrap().len(), 1);
    drop(v);
    assert_wrong_key(fx.open_with(&Unlock::KeyFile(kf)), &fx);
    assert_entries_read(&fx.open());
    assert_eq!(space(&raw_dump(&fx.path), b'E'), space(&before, b'E'));
}

#[test]
fn the_last_slot_cannot_be_removed() {
    let fx = Fx::empty();
    let kf = KeyFile::generate().unwrap();
    populated(&fx, &Unlock::KeyFile(kf.clone()));
    let v = fx.open_with(&Unlock::KeyFile(kf.clone())).unwrap();
    assert_invalid(v.remove_key_file(&kf), "only keyslot");
    assert_eq!(v.keyslots().unwrap().len(), 1);
    drop(v);
    assert_entries_read(&fx.open_with(&Unlock::KeyFile(kf.clone())).unwrap());

    // With a second slot the first can go; then the second is the last.
    let kf2 = KeyFile::generate().unwrap();
    let v = fx.open_with(&Unlock::KeyFile(kf.clone())).unwrap();
    v.add_key_file(&kf2).unwrap();
    v.remove_key_file(&kf).unwrap();
    assert_invalid(v.remove_key_file(&kf2), "only keyslot");
    drop(v);
    assert_wrong_key(fx.open_with(&Unlock::KeyFile(kf)), &fx);
    assert_entries_read(&fx.open_with(&Unlock::KeyFile(kf2)).unwrap());
}

#[test]
fn rotation_re_encrypts_every_entry() {
    let fx = Fx::empty();
    let before = populated(&fx, &pw());
    let kf = KeyFile::generate().unwrap();
    let v = fx.open();
    v.add_key_file(&kf).unwrap();
    let metas = v.list("").unwrap();
    let mut calls = Vec::new();
    let n = v
        .rotate_data_key(
            &RotateOptions {
                keep: vec![Unlock::KeyFile(kf.clone())],
                drop_other_slots: false,
            },
            &mut |done, total| calls.push((done, total)),
        )
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(calls, [(1, 4), (2, 4), (3, 4), (4, 4)]);
    // The rotating handle reads everything under the new key.
    assert_entries_read(&v);
    assert_eq!(v.list("").unwrap(), metas, "times changed in rotation");
    drop(v);

    let after = raw_dump(&fx.path);
    let (old_e, new_e) = (space(&before, b'E'), space(&after, b'E'));
    assert_eq!(new_e.len(), old_e.len());
    for (k, rec) in &new_e {
        assert!(!old_e.contains_key(k), "sled key {} kept", hex(k));
        assert!(
            !old_e.values().any(|old| old[25..] == rec[25..]),
            "a record's ciphertext was kept"
        );
    }
    // The expiry index moved with them: same times, new keys.
    let (old_x, new_x) = (space(&before, b'X'), space(&after, b'X'));
    assert_eq!(new_x.len(), 2);
    let times = |x: &Dump| x.keys().map(|k| k[1..9].to_vec()).collect::<Vec<_>>();
    assert_eq!(times(&new_x), times(&old_x));
    assert!(new_x.keys().all(|k| !old_x.contains_key(k)));

    // Both slots were rewrapped and open the rotated vault.
    assert_entries_read(&fx.open());
    assert_entries_read(&fx.open_with(&Unlock::KeyFile(kf)).unwrap());
    // A purge after rotation still finds the expiries through the new index.
    fx.set(T0 + 100);
    assert_eq!(fx.open().purge_expired().unwrap(), 1);
}

#[test]
fn rotation_refuses_when_a_slot_cannot_be_rewrapped_and_changes_nothing() {
    let fx = Fx::empty();
    populated(&fx, &pw());
    let kf = KeyFile::generate().unwrap();
    fx.open().add_key_file(&kf).unwrap();
    let before = raw_dump(&fx.path);
    let v = fx.open();
    let mut progressed = false;
    let refuse = |opts: RotateOptions, progressed: &mut bool| {
        let r = v.rotate_data_key(&opts, &mut |_, _| *progressed = true);
        assert_invalid(r, "keyslot 1 cannot be rewrapped");
    };
    refuse(RotateOptions::default(), &mut progressed);
    // A wrong key file for the other slot is no help either.
    refuse(
        RotateOptions {
            keep: vec![Unlock::KeyFile(KeyFile::generate().unwrap())],
            drop_other_slots: false,
        },
        &mut progressed,
    );
    assert!(!progressed, "refused rotation re-encrypted entries");
    assert_entries_read(&v);
    drop(v);
    assert_eq!(raw_dump(&fx.path), before, "a refused rotation wrote");
    assert_entries_read(&fx.open_with(&Unlock::KeyFile(kf.clone())).unwrap());

    // Allowed to drop it: the key file no longer opens, the passphrase does.
    let v = fx.open();
    assert_eq!(
        v.rotate_data_key(
            &RotateOptions {
                keep: vec![],
                drop_other_slots: true,
            },
            &mut |_, _| {},
        )
        .unwrap(),
        4
    );
    assert_eq!(v.keyslots().unwrap().len(), 1);
    drop(v);
    assert_wrong_key(fx.open_with(&Unlock::KeyFile(kf)), &fx);
    assert_entries_read(&fx.open());
}

#[test]
fn rotation_refuses_on_a_tampered_entry_and_changes_nothing() {
    let fx = Fx::empty();
    populated(&fx, &pw());
    raw_edit(&fx.path, |db| {
        let (k, v) = db.scan_prefix(b"E").next().unwrap().unwrap();
        let mut v = v.to_vec();
        let last = v.len() - 1;
        v[last] ^= 0x40;
        db.insert(k, v).unwrap();
    });
    let before = raw_dump(&fx.path);
    let v = fx.open();
    match v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {}) {
        Err(Error::Tampered { entry }) => assert_eq!(entry.len(), 64, "{entry}"),
        other => panic!("expected Tampered, got {other:?}"),
    }
    drop(v);
    assert_eq!(raw_dump(&fx.path), before);
    assert_eq!(fx.open().list("").unwrap().len(), 3);
}

#[test]
fn rotation_never_leaves_the_vault_without_a_keyslot() {
    // A handle whose own slot was removed (here: its key file) knows no key
    // of the remaining slots; dropping "the others" would drop them all.
    let fx = Fx::empty();
    populated(&fx, &pw());
    let kf = KeyFile::generate().unwrap();
    fx.open().add_key_file(&kf).unwrap();
    let by_file = fx.open_with(&Unlock::KeyFile(kf.clone())).unwrap();
    by_file.remove_key_file(&kf).unwrap();
    let r = by_file.rotate_data_key(
        &RotateOptions {
            keep: vec![],
            drop_other_slots: true,
        },
        &mut |_, _| {},
    );
    assert_invalid(r, "keyslot");
    drop(by_file);
    assert_entries_read(&fx.open());

    // Same through a passphrase change made by another handle.
    let h1 = fx.open();
    let h2 = fx.open();
    h1.change_passphrase(&"changed".into()).unwrap();
    let r = h2.rotate_data_key(
        &RotateOptions {
            keep: vec![],
            drop_other_slots: true,
        },
        &mut |_, _| {},
    );
    assert_invalid(r, "keyslot");
    drop((h1, h2));
    assert_entries_read(&fx.open_with(&Unlock::passphrase("changed")).unwrap());
}
