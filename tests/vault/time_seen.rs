//! The clock record: written by writes on the system clock, never by a handle on
//! a simulated clock, re-authenticated by a rotation, and refused when edited.

use crate::support::*;
use farmvault::*;
use std::time::{SystemTime, UNIX_EPOCH};

fn system_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn clock_record(fx: &Fx) -> Option<Vec<u8>> {
    raw_edit(&fx.path, |db| db.get(b"T").unwrap().map(|v| v.to_vec()))
}

/// A config on the system clock (the fixture's own is a driven one).
fn on_system_clock(fx: &Fx) -> Config {
    Config::new(&fx.path).kdf(cheap())
}

#[test]
fn a_write_on_the_system_clock_records_the_time_it_saw() {
    let fx = Fx::empty();
    drop(fx.create());
    let before = system_now();
    let v = on_system_clock(&fx).open(&pw()).unwrap();
    v.put("a", b"x", &PutOptions::new()).unwrap();
    drop(v);
    let record = clock_record(&fx).expect("a clock record");
    let seen = u64::from_be_bytes(record[..8].try_into().unwrap());
    assert!(seen >= before && seen <= system_now(), "{seen}");
}

#[test]
fn a_simulated_clock_never_moves_the_record() {
    let fx = Fx::empty();
    let v = fx.create();
    // Pinned a year ahead: a write must not make everyone's entries expire early.
    fx.advance(365 * 86_400);
    v.put("a", b"x", &PutOptions::new()).unwrap();
    v.renew("a", Some(secs(60))).unwrap();
    drop(v);
    assert_eq!(clock_record(&fx), None);
    // And a handle on the system clock is not judged at that simulated time.
    let v = on_system_clock(&fx).open(&pw()).unwrap();
    assert!(v.now().secs() <= system_now() + 1);
    assert_eq!(v.clock_behind(), None);
}

#[test]
fn a_rotation_keeps_the_record_readable() {
    let fx = Fx::empty();
    drop(fx.create());
    let v = on_system_clock(&fx).open(&pw()).unwrap();
    v.put("a", b"x", &PutOptions::new()).unwrap();
    v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
        .unwrap();
    drop(v);
    assert!(clock_record(&fx).is_some());
    let v = on_system_clock(&fx).open(&pw()).unwrap();
    assert_eq!(bytes_of(&v, "a"), b"x");
}

#[test]
fn an_edited_clock_record_is_corrupt() {
    let fx = Fx::empty();
    drop(fx.create());
    let v = on_system_clock(&fx).open(&pw()).unwrap();
    v.put("a", b"x", &PutOptions::new()).unwrap();
    drop(v);
    let mut record = clock_record(&fx).unwrap();
    // Wind it forward a day: only the header key could do that.
    let seen = u64::from_be_bytes(record[..8].try_into().unwrap()) + 86_400;
    record[..8].copy_from_slice(&seen.to_be_bytes());
    raw_edit(&fx.path, |db| db.insert(b"T", record).unwrap());
    match on_system_clock(&fx).open(&pw()) {
        Err(Error::Corrupt { what, .. }) => assert!(what.contains("clock record"), "{what}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
