//! After a key change, no file of the vault directory holds what the old key
//! opened: the change rewrites the store into a new generation and removes the
//! old files, so carving sled's log segments or the backup for the old keyslot
//! finds nothing to unlock with the old passphrase or the removed key file.

use crate::files::files_under;
use crate::support::*;
use farmvault::format::{decode_header, HeaderBody, SlotKind};
use farmvault::*;
use std::path::Path;

/// The header a closed vault's store holds.
fn header(fx: &Fx) -> HeaderBody {
    let bytes = raw_edit(&fx.path, |db| db.get(b"H").unwrap().unwrap().to_vec());
    decode_header(&bytes).unwrap().0
}

/// The random bytes of each keyslot: without its salt and its wrapped data
/// key, a slot cannot be unlocked, whatever passphrase or key file is tried.
fn slot_needles(body: &HeaderBody) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for slot in &body.slots {
        let salt = match &slot.kind {
            SlotKind::Passphrase { salt, .. } | SlotKind::KeyFile { salt } => salt.to_vec(),
        };
        out.push((slot.id, salt));
        out.push((slot.id, slot.wrapped_dek.clone()));
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Which files under `dir` hold any of `needles`.
fn carve(dir: &Path, needles: &[(u32, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        for (slot, needle) in needles {
            if contains(&bytes, needle) {
                found.push(format!("{} holds keyslot {slot}", file.display()));
            }
        }
    }
    found
}

fn busy(v: &Vault) {
    for i in 0..200 {
        v.put(
            &format!("e{i}"),
            format!("value {i}").as_bytes(),
            &PutOptions::new(),
        )
        .unwrap();
    }
}

#[test]
fn after_passwd_no_file_holds_the_old_passphrase_slot() {
    let fx = Fx::empty();
    let v = fx.create();
    busy(&v);
    drop(v);
    let old = slot_needles(&header(&fx));
    // Before the change the carving finds the slot: the test can see it.
    assert!(!carve(&fx.path, &old).is_empty());

    let v = fx.open();
    v.change_passphrase(&"second passphrase".into()).unwrap();
    busy(&v);
    drop(v);
    assert_eq!(carve(&fx.path, &old), Vec::<String>::new());
    assert!(matches!(fx.open_with(&pw()), Err(Error::WrongKey { .. })));
    let v = fx
        .open_with(&Unlock::passphrase("second passphrase"))
        .unwrap();
    assert_eq!(bytes_of(&v, "e199"), b"value 199");
}

#[test]
fn after_key_file_remove_no_file_holds_its_slot() {
    let fx = Fx::empty();
    let v = fx.create();
    let key = KeyFile::generate().unwrap();
    v.add_key_file(&key).unwrap();
    busy(&v);
    drop(v);
    let before = header(&fx);
    let key_slot: Vec<_> = slot_needles(&before)
        .into_iter()
        .filter(|(id, _)| {
            before
                .slots
                .iter()
                .any(|s| s.id == *id && matches!(s.kind, SlotKind::KeyFile { .. }))
        })
        .collect();
    assert!(!carve(&fx.path, &key_slot).is_empty());

    let v = fx.open();
    v.remove_key_file(&key).unwrap();
    drop(v);
    assert_eq!(carve(&fx.path, &key_slot), Vec::<String>::new());
    assert!(matches!(
        fx.open_with(&Unlock::KeyFile(key)),
        Err(Error::WrongKey { .. })
    ));
}

#[test]
fn after_rotate_no_file_holds_the_old_data_key_or_records() {
    let fx = Fx::empty();
    let v = fx.create();
    busy(&v);
    drop(v);
    // The slots keep their salts (the same passphrase rewraps the new key);
    // the old data key, wrapped, must be gone.
    let old_slots: Vec<(u32, Vec<u8>)> = header(&fx)
        .slots
        .iter()
        .map(|s| (s.id, s.wrapped_dek.clone()))
        .collect();
    // Records sealed under the old data key: their last 32 bytes (ciphertext
    // and tag) are unique to each.
    let old_records: Vec<(u32, Vec<u8>)> = space(&raw_dump(&fx.path), b'E')
        .into_values()
        .take(20)
        .map(|r| (0, r[r.len() - 32..].to_vec()))
        .collect();

    let v = fx.open();
    v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap();
    drop(v);
    assert_eq!(carve(&fx.path, &old_slots), Vec::<String>::new());
    assert_eq!(carve(&fx.path, &old_records), Vec::<String>::new());
    let v = fx.open();
    assert_eq!(bytes_of(&v, "e7"), b"value 7");
}

#[test]
fn compact_gives_back_the_space_of_removed_entries_and_keeps_the_rest() {
    let fx = Fx::empty();
    let v = fx.create();
    let big = vec![0x42u8; 4096];
    let mut batch = Batch::new();
    for i in 0..2000 {
        batch.put(&format!("e{i}"), &big, None);
    }
    v.apply(batch).unwrap();
    let mut batch = Batch::new();
    for i in 0..1900 {
        batch.delete(&format!("e{i}"));
    }
    v.apply(batch).unwrap();
    let report = v.compact(&mut |_, _| {}).unwrap();
    assert_eq!(report.entries, 100);
    assert!(
        report.bytes_after * 4 < report.bytes_before,
        "compaction kept most of the space: {report:?}"
    );
    assert_eq!(v.list("").unwrap().len(), 100);
    v.put("after", b"compact", &PutOptions::new()).unwrap();
    drop(v);
    let v = fx.open();
    assert_eq!(bytes_of(&v, "e1999"), big.as_slice());
    assert_eq!(bytes_of(&v, "after"), b"compact");
    v.verify_backup(&pw()).unwrap();
}
