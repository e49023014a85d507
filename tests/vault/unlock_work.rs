//! The work an open may spend before anything is authenticated is bounded: a header
//! with too many keyslots, or passphrase slots whose Argon2id costs add up past
//! `KdfParams::MAX_OPEN_WORK`, is `Corrupt` (naming the field) before any KDF runs,
//! whether it comes from the vault's own files or from a backup given to `restore`.

use crate::support::*;
use farmvault::format::{decode_header, encode_header, Keyslot, SlotKind, MAX_KEYSLOTS};
use farmvault::*;
use std::time::{Duration, Instant};

/// Long enough for a check of a header, far too short for 100 default Argon2id runs
/// (about 0.2 s each on a fast core, many times that on a loaded test machine).
const NO_KDF_BUDGET: Duration = Duration::from_secs(3);

/// `header` with its slots replaced by `n` copies of its first, each a passphrase
/// slot of `kdf` with its own id. The MAC is left wrong: a header is checked for
/// its caps before the key that verifies the MAC is known.
fn forged(header: &[u8], n: u32, kdf: KdfParams) -> Vec<u8> {
    let (mut body, _, _) = decode_header(header).unwrap();
    let first = body.slots[0].clone();
    let SlotKind::Passphrase { salt, .. } = first.kind else {
        panic!("the fixture's first slot is a passphrase slot")
    };
    body.slots = (0..n)
        .map(|id| Keyslot {
            id: 1000 + id,
            kind: SlotKind::Passphrase { kdf, salt },
            ..first.clone()
        })
        .collect();
    encode_header(&body, |_| [0u8; 32])
}

#[track_caller]
fn assert_refused_quickly<T: std::fmt::Debug>(started: Instant, r: Result<T>, needle: &str) {
    let took = started.elapsed();
    match r {
        Err(Error::Corrupt { what, .. }) => {
            assert!(what.contains(needle), "{what:?} does not name {needle:?}")
        }
        other => panic!("expected Corrupt naming {needle:?}, got {other:?} after {took:?}"),
    }
    assert!(
        took < NO_KDF_BUDGET,
        "refused only after {took:?}: a KDF ran"
    );
}

fn vault_header(fx: &Fx) -> Vec<u8> {
    drop(fx.create());
    raw_edit(&fx.path, |db| db.get(b"H").unwrap().unwrap().to_vec())
}

#[test]
fn an_open_refuses_a_header_whose_passphrase_slots_add_up_past_the_cap() {
    let fx = Fx::empty();
    let header = vault_header(&fx);
    // Each slot is within the per-slot cap; together they are over 20 s of Argon2id.
    let h = forged(&header, 30, KdfParams::DEFAULT);
    raw_edit(&fx.path, |db| db.insert(b"H", h).unwrap());
    let started = Instant::now();
    assert_refused_quickly(started, fx.open_with(&pw()), "keyslots");
}

#[test]
fn an_open_refuses_a_header_with_more_keyslots_than_the_cap() {
    let fx = Fx::empty();
    let header = vault_header(&fx);
    let h = forged(&header, MAX_KEYSLOTS as u32 + 1, cheap());
    raw_edit(&fx.path, |db| db.insert(b"H", h).unwrap());
    let started = Instant::now();
    assert_refused_quickly(started, fx.open_with(&pw()), "keyslots");
    // A key file never runs Argon2id, but the count is capped for it too.
    let started = Instant::now();
    let kf = Unlock::KeyFile(KeyFile::from_bytes(&[9u8; 32]).unwrap());
    assert_refused_quickly(started, fx.open_with(&kf), "keyslots");
}

#[test]
fn restore_refuses_a_forged_backup_before_any_kdf_runs() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"alpha", &PutOptions::new()).unwrap();
    let file = fx.dir.path().join("vault.fvbk");
    v.backup_to(&file).unwrap();
    drop(v);
    let header = raw_edit(&fx.path, |db| db.get(b"H").unwrap().unwrap().to_vec());

    // The backup's header item is `key_len (u16) ‖ "H" ‖ value_len (u32) ‖ header`:
    // swap in the forged header with its own length; nothing else needs to hold,
    // since the caps are checked before the backup's MAC can be.
    let mut item = vec![0, 1, b'H'];
    item.extend_from_slice(&(header.len() as u32).to_be_bytes());
    item.extend_from_slice(&header);
    let bytes = std::fs::read(&file).unwrap();
    let at = bytes
        .windows(item.len())
        .position(|w| w == item.as_slice())
        .expect("the backup holds the vault's header item");
    let h = forged(&header, 30, KdfParams::DEFAULT);
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(&[0, 1, b'H']);
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(&bytes[at + item.len()..]);
    std::fs::write(&file, out).unwrap();

    let target = fx.dir.path().join("restored");
    let started = Instant::now();
    let r = Config::new(&target).kdf(cheap()).restore(&file, &pw());
    assert_refused_quickly(started, r.map(|_| ()), "keyslots");
    assert!(!target.exists(), "a refused restore creates nothing");
}

#[test]
fn a_vault_cannot_be_given_more_keyslots_than_an_open_accepts() {
    let fx = Fx::empty();
    let v = fx.create();
    // The passphrase slot is one; key files fill the rest.
    for i in 1..MAX_KEYSLOTS {
        let kf = KeyFile::from_bytes(&[i as u8; 32]).unwrap();
        v.add_key_file(&kf).unwrap();
    }
    let one_more = KeyFile::from_bytes(&[0xEE; 32]).unwrap();
    assert_invalid(v.add_key_file(&one_more), "keyslots");
    drop(v);
    // What was written still opens.
    fx.open();
}

#[test]
fn costs_an_open_would_refuse_cannot_be_chosen() {
    assert!(KdfParams::new(4 * 1024 * 1024, 4, 1).is_err());
    let most = KdfParams::MAX_OPEN_WORK / u64::from(KdfParams::DEFAULT.t);
    assert!(KdfParams::new(most as u32, KdfParams::DEFAULT.t, 1).is_ok());
    assert!(KdfParams::new(most as u32 + 1, KdfParams::DEFAULT.t, 1).is_err());
}
