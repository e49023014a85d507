//! Damage and tampering on disk: a truncated or garbled header is `Corrupt`, a
//! damaged entry is `Tampered` for that entry only, moved records and edited
//! expiries are detected, a damaged sled file never panics, and the places
//! that are not vaults (or already are) are told apart.
//!
//! Raw edits close every `Vault` handle first, edit with sled directly, flush,
//! close, and reopen with farmvault.

use crate::support::*;
use farmvault::*;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(r: Result<T>, fx: &Fx, needle: &str) {
    match r {
        Err(Error::Corrupt { path, what }) => {
            assert_eq!(path, fx.canonical());
            assert!(
                what.contains(needle),
                "{what:?} does not mention {needle:?}"
            );
        }
        other => panic!("expected Corrupt ({needle}), got {other:?}"),
    }
}

fn header(fx: &Fx) -> Vec<u8> {
    raw_edit(&fx.path, |db| db.get(b"H").unwrap().unwrap().to_vec())
}

fn set_header(fx: &Fx, h: &[u8]) {
    raw_edit(&fx.path, |db| db.insert(b"H", h).unwrap());
}

/// A closed vault holding "a", "b" (TTL 10 s) and "c".
fn three(fx: &Fx) {
    let v = fx.create();
    v.put("a", b"alpha", &PutOptions::new()).unwrap();
    v.put("b", b"bravo", &ttl(10)).unwrap();
    v.put_credential("c", &script_key(false), &PutOptions::new())
        .unwrap();
}

/// Builds `three`, one entry per session, and returns the sled key of "a",
/// "b" and "c": the record each session added.
fn entry_keys(fx: &Fx) -> [Vec<u8>; 3] {
    drop(fx.create());
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for name in ["a", "b", "c"] {
        let v = fx.open();
        match name {
            "a" => v.put("a", b"alpha", &PutOptions::new()).unwrap(),
            "b" => v.put("b", b"bravo", &ttl(10)).unwrap(),
            _ => v
                .put_credential("c", &script_key(false), &PutOptions::new())
                .unwrap(),
        }
        drop(v);
        let keys: BTreeSet<Vec<u8>> = space(&raw_dump(&fx.path), b'E').into_keys().collect();
        let new: Vec<_> = keys.difference(&seen).cloned().collect();
        assert_eq!(new.len(), 1, "{name}");
        out.push(new[0].clone());
        seen = keys;
    }
    out.try_into().unwrap()
}

#[test]
fn truncated_header_is_corrupt() {
    let fx = Fx::empty();
    three(&fx);
    let h = header(&fx);
    for cut in [0, 3, 9, 10, 41, h.len() / 2, h.len() - 1] {
        set_header(&fx, &h[..cut]);
        let r = fx.open_with(&pw());
        let needle = if cut < 42 { "truncated" } else { "length" };
        assert_corrupt(r, &fx, needle);
    }
    let mut longer = h.clone();
    longer.push(0);
    set_header(&fx, &longer);
    assert_corrupt(fx.open_with(&pw()), &fx, "length");
    raw_edit(&fx.path, |db| db.remove(b"H").unwrap());
    assert_corrupt(fx.open_with(&pw()), &fx, "header is missing");
    // Put back, it opens again: nothing else was harmed.
    set_header(&fx, &h);
    assert_eq!(fx.open().list("").unwrap().len(), 3);
}

#[test]
fn garbled_header_is_corrupt() {
    let fx = Fx::empty();
    three(&fx);
    let h = header(&fx);
    let n = h.len();
    // Layout (version 2): magic 4, version 2, body_len 4, body, sum 32, mac 32.
    let cases: [(usize, &str); 7] = [
        (0, "magic"),
        (5, "version"),
        (9, "length"),
        // The vault id, outside every keyslot: the checksum finds it.
        (12, "the header is damaged"),
        // The last byte of the keyslot's wrapped data key, at the end of the slot.
        (slot_end(&h) - 1, "keyslot 0 is damaged"),
        // The last body byte (the last keyslot checksum).
        (n - 65, "damaged"),
        // The MAC: only the key can tell.
        (n - 1, "failed authentication"),
    ];
    for (at, needle) in cases {
        let mut g = h.clone();
        g[at] ^= 0x01;
        set_header(&fx, &g);
        assert_corrupt(fx.open_with(&pw()), &fx, needle);
    }
    set_header(&fx, &h);
    assert_eq!(fx.open().list("").unwrap().len(), 3);
}

/// Skips one postcard varint at `at`, returning the offset after it.
fn skip_varint(h: &[u8], mut at: usize) -> usize {
    while h[at] & 0x80 != 0 {
        at += 1;
    }
    at + 1
}

/// The offset just past the first keyslot of a one-slot passphrase header.
/// Layout (postcard): magic 4, version 2, len 4, vault_id 16, created,
/// dek_generation, next_slot_id, slots.len, slot.id, kind, m, t, p, salt 16,
/// check 16, wrapped_dek.len, wrapped_dek.
fn slot_end(h: &[u8]) -> usize {
    let mut at = 26;
    for _ in 0..5 {
        at = skip_varint(h, at);
    }
    at += 1; // kind
    for _ in 0..3 {
        at = skip_varint(h, at); // m, t, p
    }
    at += 16 + 16; // salt, check
    let len_at = at;
    at = skip_varint(h, at);
    let mut len = 0usize;
    for (i, b) in h[len_at..at].iter().enumerate() {
        len |= usize::from(b & 0x7f) << (7 * i);
    }
    at + len
}

/// A flipped byte anywhere in the header is damage, and is reported as damage:
/// before version 2, a flip in a passphrase slot's KDF costs, salt or check
/// made the right passphrase derive another key, reported as a wrong
/// passphrase, and a user started doubting their passphrase.
#[test]
fn every_single_byte_flip_of_the_header_is_corrupt_never_a_wrong_key() {
    let fx = Fx::empty();
    three(&fx);
    let h = header(&fx);
    for i in 0..h.len() {
        let mut g = h.clone();
        g[i] ^= 0x01;
        set_header(&fx, &g);
        let r = catch_unwind(AssertUnwindSafe(|| fx.open_with(&pw())))
            .unwrap_or_else(|_| panic!("open panicked with header byte {i} flipped"));
        match r {
            Err(Error::Corrupt { .. }) => {}
            other => panic!("header byte {i} flipped: {other:?}"),
        }
    }
    set_header(&fx, &h);
    assert_eq!(fx.open().list("").unwrap().len(), 3);
}

#[test]
fn a_damaged_entry_is_tampered_for_that_entry_only() {
    let fx = Fx::empty();
    let [ka, kb, kc] = entry_keys(&fx);
    let original = raw_edit(&fx.path, |db| db.get(&kb).unwrap().unwrap().to_vec());
    let n = original.len();
    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    for (what, at) in [
        ("version", 0),
        ("created", 8),
        ("updated", 16),
        ("expires", 24),
        ("nonce", 30),
        ("ciphertext", n / 2 + 10),
        ("tag", n - 1),
    ] {
        let mut r = original.clone();
        r[at] ^= 0x20;
        variants.push((what, r));
    }
    variants.push(("truncated", original[..40].to_vec()));
    variants.push(("empty", Vec::new()));
    for (what, record) in variants {
        raw_edit(&fx.path, |db| db.insert(&kb, record).unwrap());
        let v = fx.open();
        assert_tampered(v.get("b"), "b");
        assert_tampered(v.metadata("b"), "b");
        assert_tampered(v.renew("b", Some(secs(100))), "b");
        assert_eq!(bytes_of(&v, "a"), b"alpha", "{what}");
        assert_eq!(v.get("c").unwrap().credential, script_key(false));
        assert_eq!(names(&v.list("").unwrap()), ["a", "c"], "{what}");
        assert_eq!(v.damaged().unwrap(), [hex(&kb[1..])], "{what}");
    }
    // A damaged entry can still be deleted (or overwritten) to clean up.
    let v = fx.open();
    v.delete("b").unwrap();
    assert!(v.damaged().unwrap().is_empty());
    v.put("b", b"fresh", &PutOptions::new()).unwrap();
    assert_eq!(bytes_of(&v, "b"), b"fresh");
    drop(v);
    let e = space(&raw_dump(&fx.path), b'E');
    assert!(e.contains_key(&ka) && e.contains_key(&kb) && e.contains_key(&kc));
}

#[test]
fn a_record_moved_to_another_entry_is_tampered() {
    let fx = Fx::empty();
    let [ka, kb, kc] = entry_keys(&fx);
    let (ra, rb) = raw_edit(&fx.path, |db| {
        let ra = db.get(&ka).unwrap().unwrap();
        let rb = db.get(&kb).unwrap().unwrap();
        db.insert(&kb, ra.clone()).unwrap();
        (ra, rb)
    });
    let v = fx.open();
    assert_tampered(v.get("b"), "b");
    assert_eq!(bytes_of(&v, "a"), b"alpha");
    assert_eq!(names(&v.list("").unwrap()), ["a", "c"]);
    assert_eq!(v.damaged().unwrap(), [hex(&kb[1..])]);
    drop(v);
    // Swapped both ways: both refused, the third unharmed.
    raw_edit(&fx.path, |db| {
        db.insert(&kb, ra).unwrap();
        db.insert(&ka, rb).unwrap();
    });
    let v = fx.open();
    assert_tampered(v.get("a"), "a");
    assert_tampered(v.get("b"), "b");
    assert!(v.get("c").is_ok());
    assert_eq!(names(&v.list("").unwrap()), ["c"]);
    let mut damaged = v.damaged().unwrap();
    damaged.sort();
    let mut want = vec![hex(&ka[1..]), hex(&kb[1..])];
    want.sort();
    assert_eq!(damaged, want);
    let _ = kc;
}

#[test]
fn an_edited_expiry_or_time_is_tampered() {
    let fx = Fx::empty();
    let [_, kb, _] = entry_keys(&fx);
    let original = raw_edit(&fx.path, |db| db.get(&kb).unwrap().unwrap().to_vec());
    assert_eq!(
        u64::from_be_bytes(original[17..25].try_into().unwrap()),
        T0 + 10,
        "the record's expiry is not where the format says"
    );
    let edits: [(&str, std::ops::Range<usize>, u64); 4] = [
        ("extended expiry", 17..25, T0 + 1_000_000),
        ("never expires", 17..25, 0),
        ("created", 1..9, T0 - 100),
        ("updated", 9..17, T0 + 5),
    ];
    for (what, range, value) in edits {
        let mut r = original.clone();
        r[range].copy_from_slice(&value.to_be_bytes());
        raw_edit(&fx.path, |db| db.insert(&kb, r).unwrap());
        fx.set(T0 + 5);
        let v = fx.open();
        assert_tampered(v.get("b"), "b");
        assert_eq!(names(&v.list("").unwrap()), ["a", "c"], "{what}");
        drop(v);
    }
    // Extended and past the real expiry: still Tampered, never a live read.
    fx.set(T0 + 500);
    assert_tampered(fx.open().get("b"), "b");
}

#[test]
fn a_record_from_another_vault_is_tampered() {
    let one = Fx::empty();
    let two = Fx::empty();
    for fx in [&one, &two] {
        let v = fx.create();
        v.put("same-name", b"value", &PutOptions::new()).unwrap();
    }
    let (k1, r1) = raw_edit(&one.path, |db| {
        let (k, v) = db.scan_prefix(b"E").next().unwrap().unwrap();
        (k.to_vec(), v.to_vec())
    });
    let k2 = raw_edit(&two.path, |db| {
        let (k, _) = db.scan_prefix(b"E").next().unwrap().unwrap();
        db.insert(&k, r1).unwrap();
        k.to_vec()
    });
    assert_ne!(k1, k2, "two vaults blind a name alike");
    assert_tampered(two.open().get("same-name"), "same-name");
}

#[test]
fn a_damaged_sled_file_never_panics_nor_returns_wrong_bytes() {
    let expect: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("n{i:02}"), vec![i as u8; 3000]))
        .collect();
    let build = || {
        let fx = Fx::empty();
        let v = fx.create();
        for (n, b) in &expect {
            v.put(n, b, &PutOptions::new()).unwrap();
        }
        drop(v);
        fx
    };
    let check = |fx: &Fx, what: String| {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let v = fx.open_with(&pw())?;
            let listed = v.list("")?;
            for m in &listed {
                let (_, want) = expect.iter().find(|(n, _)| *n == m.name).unwrap();
                assert_eq!(&bytes_of(&v, &m.name), want, "{what}: wrong bytes");
            }
            assert!(v.damaged()?.is_empty(), "{what}");
            Ok::<_, Error>(listed.len())
        }))
        .unwrap_or_else(|_| panic!("{what}: panicked"));
        match r {
            Ok(n) => Some(n),
            Err(Error::Corrupt { .. } | Error::Io { .. }) => None,
            Err(e) => panic!("{what}: {e:?}"),
        }
    };
    let db_len = {
        let fx = build();
        std::fs::metadata(fx.data().join("db")).unwrap().len()
    };
    for cut in [0, 1, 64, 100, 1000, 4096, 20000, db_len / 2, db_len - 1] {
        let fx = build();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(fx.data().join("db"))
            .unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let got = check(&fx, format!("db truncated to {cut}"));
        if cut <= 100 {
            // The header is gone with the rest: that is an error, never an empty vault.
            assert_eq!(got, None, "db truncated to {cut} opened");
        }
    }
    for at in [0, 20, 200, 5000, 30000] {
        let fx = build();
        let path = fx.data().join("db");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at] ^= 0x55;
        std::fs::write(&path, bytes).unwrap();
        check(&fx, format!("db byte {at} flipped"));
    }
}

#[test]
fn a_directory_that_is_not_a_vault_is_no_vault() {
    let fx = Fx::empty();
    let no_vault = |p: &std::path::Path| match fx.cfg_at(p).open(&pw()) {
        Err(Error::NoVault { path }) => assert_eq!(path, p),
        other => panic!("{}: {other:?}", p.display()),
    };
    let missing = fx.dir.path().join("missing");
    no_vault(&missing);
    assert!(!missing.exists(), "an open created the directory");
    let empty = fx.dir.path().join("empty");
    private_dir(&empty);
    no_vault(&empty);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    let other = fx.dir.path().join("other");
    private_dir(&other);
    std::fs::write(other.join("dbx"), b"not sled").unwrap();
    no_vault(&other);
    let file = fx.dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    no_vault(&file);
    // A sled database of something else: a store, but no header.
    let foreign = fx.dir.path().join("foreign");
    raw_edit(&foreign, |db| db.insert(b"k", b"v").unwrap());
    #[cfg(unix)]
    chmod(&foreign, 0o700);
    match fx.cfg_at(&foreign).open(&pw()) {
        Err(Error::Corrupt { what, .. }) => assert!(what.contains("header is missing")),
        other => panic!("{other:?}"),
    }
}

trait CfgAt {
    fn cfg_at(&self, p: &std::path::Path) -> Config;
}

impl CfgAt for Fx {
    fn cfg_at(&self, p: &std::path::Path) -> Config {
        Config::new(p).kdf(cheap())
    }
}

#[test]
fn create_over_an_existing_vault_is_already_exists() {
    let fx = Fx::empty();
    three(&fx);
    let before = raw_dump(&fx.path);
    let already = |r: Result<Vault>| match r {
        Err(Error::AlreadyExists { path }) => {
            assert!(path == fx.path || path == fx.canonical(), "{path:?}")
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    };
    already(fx.cfg().create(&pw()));
    already(fx.cfg().create(&Unlock::passphrase("another")));
    already(
        fx.cfg()
            .create(&Unlock::KeyFile(KeyFile::generate().unwrap())),
    );
    // Also while it is open in this process.
    let v = fx.open();
    already(fx.cfg().create(&Unlock::passphrase("another")));
    assert_eq!(v.list("").unwrap().len(), 3);
    drop(v);
    assert_eq!(raw_dump(&fx.path), before);
    assert_wrong_key_open(&fx, "another");
}

fn assert_wrong_key_open(fx: &Fx, p: &str) {
    assert!(matches!(
        fx.open_with(&Unlock::passphrase(p)),
        Err(Error::WrongKey { .. })
    ));
}
