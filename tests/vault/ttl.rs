//! TTLs on a driven clock: live before the expiry, `Expired` at and after it
//! (and then gone), and purge counting exactly the expired entries.

use crate::support::*;
use farmvault::*;
use std::time::Duration;

#[test]
fn live_before_expiry_expired_at_it_then_gone() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("tok", b"t", &ttl(10)).unwrap();
    v.put_credential("key", &script_key(false), &ttl(10))
        .unwrap();
    fx.set(T0 + 9);
    assert_eq!(bytes_of(&v, "tok"), b"t");
    assert_eq!(v.metadata("key").unwrap().expires, Some(UnixTime(T0 + 10)));
    // Listed while expired but not yet removed, and flagged as expired.
    fx.set(T0 + 10);
    let listed = v.list("").unwrap();
    assert_eq!(names(&listed), ["key", "tok"]);
    assert!(listed.iter().all(|m| m.is_expired_at(v.now())));
    // At the expiry second: Expired, and the read removed it.
    assert_expired(v.get("tok"), "tok", T0 + 10);
    assert_not_found(v.get("tok"), "tok");
    // After it: metadata is a read too.
    fx.set(T0 + 500);
    assert_expired(v.metadata("key"), "key", T0 + 10);
    assert_not_found(v.get("key"), "key");
    assert!(v.list("").unwrap().is_empty());
    // The reads removed the index items too: nothing left to purge.
    assert_eq!(v.purge_expired().unwrap(), 0);
}

#[test]
fn sub_second_ttls_round_up_never_down() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put(
        "a",
        b"x",
        &PutOptions::new().ttl(Duration::from_millis(1500)),
    )
    .unwrap();
    v.put("b", b"x", &PutOptions::new().ttl(Duration::from_millis(1)))
        .unwrap();
    assert_eq!(v.metadata("a").unwrap().expires, Some(UnixTime(T0 + 2)));
    assert_eq!(v.metadata("b").unwrap().expires, Some(UnixTime(T0 + 1)));
    fx.set(T0 + 1);
    assert_expired(v.get("b"), "b", T0 + 1);
    assert!(v.get("a").is_ok());
}

#[test]
fn an_expired_entry_cannot_be_renewed() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"x", &ttl(5)).unwrap();
    fx.advance(5);
    assert_expired(v.renew("a", Some(secs(100))), "a", T0 + 5);
    assert_not_found(v.get("a"), "a");
}

#[test]
fn purge_removes_exactly_the_expired_entries() {
    let fx = Fx::empty();
    let v = fx.create();
    let p = PutOptions::new();
    v.put("expired-5", b"x", &ttl(5)).unwrap();
    v.put("expired-at-10", b"x", &ttl(10)).unwrap();
    v.put("live-100", b"x", &ttl(100)).unwrap();
    v.put("forever", b"x", &p).unwrap();
    v.put_credential("shotgun/tok", &session_token(false), &ttl(3))
        .unwrap();
    v.put("renewed", b"x", &ttl(5)).unwrap();
    v.put("longer", b"x", &ttl(5)).unwrap();
    v.put("shorter", b"x", &ttl(100)).unwrap();
    v.put("no-ttl-now", b"x", &ttl(5)).unwrap();
    v.put("deleted", b"x", &ttl(5)).unwrap();
    fx.advance(1);
    v.renew("renewed", Some(secs(100))).unwrap();
    v.put("longer", b"y", &ttl(100)).unwrap();
    v.put("shorter", b"y", &ttl(5)).unwrap();
    v.put("no-ttl-now", b"y", &p).unwrap();
    v.delete("deleted").unwrap();

    // Nothing expired yet.
    assert_eq!(v.purge_expired().unwrap(), 0);
    fx.set(T0 + 10);
    // expired-5, expired-at-10 (expiry == now counts), shotgun/tok, shorter (T0+6).
    assert_eq!(v.purge_expired().unwrap(), 4);
    assert_eq!(v.purge_expired().unwrap(), 0);
    for gone in ["expired-5", "expired-at-10", "shotgun/tok", "shorter"] {
        // Gone, not Expired: the purge removed them.
        assert_not_found(v.get(gone), gone);
    }
    assert_eq!(
        names(&v.list("").unwrap()),
        ["forever", "live-100", "longer", "no-ttl-now", "renewed"]
    );
    assert_eq!(bytes_of(&v, "longer"), b"y");

    fx.set(T0 + 100);
    // live-100 (T0+100), renewed (T0+101 -> not yet), longer (T0+101 -> not yet).
    assert_eq!(v.purge_expired().unwrap(), 1);
    fx.set(T0 + 101);
    assert_eq!(v.purge_expired().unwrap(), 2);
    assert_eq!(v.purge_expired().unwrap(), 0);
    assert_eq!(names(&v.list("").unwrap()), ["forever", "no-ttl-now"]);

    // The purge is durable.
    drop(v);
    let v = fx.open();
    assert_eq!(names(&v.list("").unwrap()), ["forever", "no-ttl-now"]);
    drop(v);
    assert!(space(&raw_dump(&fx.path), b'X').is_empty());
}

#[test]
fn put_over_an_expired_entry_is_a_fresh_live_entry() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"old", &ttl(5)).unwrap();
    fx.advance(10);
    v.put("a", b"new", &ttl(5)).unwrap();
    assert_eq!(v.metadata("a").unwrap().expires, Some(UnixTime(T0 + 15)));
    // The old index item is not counted and does not take the new value.
    assert_eq!(v.purge_expired().unwrap(), 0);
    assert_eq!(bytes_of(&v, "a"), b"new");
    fx.advance(5);
    assert_eq!(v.purge_expired().unwrap(), 1);
}

#[test]
fn expiry_survives_reopen() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"x", &ttl(10)).unwrap();
    v.put("b", b"x", &ttl(20)).unwrap();
    drop(v);
    fx.set(T0 + 10);
    let v = fx.open();
    assert_expired(v.get("a"), "a", T0 + 10);
    assert!(v.get("b").is_ok());
    fx.set(T0 + 20);
    assert_eq!(v.purge_expired().unwrap(), 1);
}
