//! TTLs on a driven clock: live before the expiry, `Expired` at and after it for
//! every reader until a purge removes it, purge counting exactly the expired
//! entries, and a simulated clock that never changes what is stored.

use crate::support::*;
use farmvault::*;
use std::time::Duration;

#[test]
fn live_before_expiry_expired_at_it_until_purged() {
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
    // At the expiry second: Expired, and again on the next read: a read never
    // removes the entry.
    assert_expired(v.get("tok"), "tok", T0 + 10);
    assert_expired(v.get("tok"), "tok", T0 + 10);
    // After it: metadata is a read too, and follows the same rule.
    fx.set(T0 + 500);
    assert_expired(v.metadata("key"), "key", T0 + 10);
    assert_expired(v.get("key"), "key", T0 + 10);
    assert_expired(v.metadata("tok"), "tok", T0 + 10);
    assert_eq!(names(&v.list("").unwrap()), ["key", "tok"]);
    // The purge removes both, and only then are they gone.
    assert_eq!(v.purge_expired().unwrap(), 2);
    assert_not_found(v.get("tok"), "tok");
    assert_not_found(v.metadata("key"), "key");
    assert!(v.list("").unwrap().is_empty());
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
    // The refused renewal left it as it was: still expired, still there to purge.
    assert_expired(v.get("a"), "a", T0 + 5);
    assert_expired(v.renew("a", None), "a", T0 + 5);
    assert_eq!(v.purge_expired().unwrap(), 1);
    assert_not_found(v.renew("a", Some(secs(100))), "a");
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
    // Both: the read of "a" left it for the purge.
    assert_eq!(v.purge_expired().unwrap(), 2);
}

#[test]
fn two_handles_reading_one_expired_entry_are_both_told_expired() {
    // A farm of jobs reading one entry gets one answer, whoever reads first.
    let fx = Fx::empty();
    let h1 = fx.create();
    let h2 = fx.open();
    h1.put("shotgun/tok", b"t", &ttl(60)).unwrap();
    fx.advance(60);
    for _ in 0..3 {
        assert_expired(h1.get("shotgun/tok"), "shotgun/tok", T0 + 60);
        assert_expired(h2.get("shotgun/tok"), "shotgun/tok", T0 + 60);
        assert_expired(h2.metadata("shotgun/tok"), "shotgun/tok", T0 + 60);
        assert_expired(h1.metadata("shotgun/tok"), "shotgun/tok", T0 + 60);
    }
    // A handle opened after the reads says the same.
    drop((h1, h2));
    let h3 = fx.open();
    assert_expired(h3.get("shotgun/tok"), "shotgun/tok", T0 + 60);
    let listed = h3.list("").unwrap();
    assert_eq!(names(&listed), ["shotgun/tok"]);
    assert!(listed[0].is_expired_at(h3.now()));
}

/// The length of a closed vault's backup journal.
fn journal_len(fx: &Fx) -> u64 {
    std::fs::metadata(fx.data().join("journal.fvjl"))
        .unwrap()
        .len()
}

#[test]
fn reads_of_expired_entries_leave_the_store_byte_for_byte_unchanged() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"x", &ttl(5)).unwrap();
    v.put_credential("b", &script_key(false), &ttl(5)).unwrap();
    v.put("live", b"y", &PutOptions::new()).unwrap();
    drop(v);
    let before = raw_dump(&fx.path);
    assert_eq!(space(&before, b'X').len(), 2, "both expiry-index items");
    // Every open and close of a handle adds its own frames to the journal: what
    // one without reads adds is what one with reads may add.
    let start = journal_len(&fx);
    drop(fx.open());
    let idle = journal_len(&fx) - start;

    fx.set(T0 + 5);
    let start = journal_len(&fx);
    let v = fx.open();
    for name in ["a", "b"] {
        assert_expired(v.get(name), name, T0 + 5);
        assert_expired(v.metadata(name), name, T0 + 5);
        assert_expired(v.renew(name, Some(secs(100))), name, T0 + 5);
    }
    assert_eq!(v.list("").unwrap().len(), 3);
    drop(v);
    assert_eq!(
        journal_len(&fx) - start,
        idle,
        "a read wrote to the backup journal"
    );
    assert!(
        before == raw_dump(&fx.path),
        "a read changed sled's keys or values"
    );
}

#[test]
fn a_handle_on_a_simulated_clock_never_removes_entries_live_at_real_time() {
    // The entries live on the system clock for an hour; a dry run pinned two hours
    // ahead is told they expired, and nobody else loses them.
    let fx = Fx::empty();
    let real = || fx.cfg().clock(std::sync::Arc::new(SystemClock));
    let now = SystemClock.now();
    let v = real().create(&pw()).unwrap();
    v.put("job/a", b"a", &ttl(3600)).unwrap();
    v.put("job/b", b"b", &ttl(3600)).unwrap();
    drop(v);
    let before = raw_dump(&fx.path);

    let ahead = ManualClock::new(UnixTime(now.secs() + 7200));
    let sim = fx
        .cfg()
        .clock(std::sync::Arc::new(ahead))
        .open(&pw())
        .unwrap();
    let err = sim.metadata("job/a").unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err:?}");
    for _ in 0..2 {
        assert!(matches!(sim.get("job/a"), Err(Error::Expired { .. })));
        assert!(matches!(sim.get("job/b"), Err(Error::Expired { .. })));
    }
    // Expired on the simulated clock, live on the system's: the purge keeps them.
    assert_eq!(sim.purge_expired().unwrap(), 0);
    drop(sim);
    assert!(
        before == raw_dump(&fx.path),
        "the simulated clock changed the store"
    );

    let v = real().open(&pw()).unwrap();
    assert_eq!(bytes_of(&v, "job/a"), b"a");
    assert_eq!(bytes_of(&v, "job/b"), b"b");
}

#[test]
fn a_purge_on_a_clock_behind_removes_only_what_it_reports_expired() {
    // Behind the system clock, the simulated clock is the stricter one: the purge
    // removes what is expired there (and so at the real time too), nothing more.
    let fx = Fx::empty();
    let v = fx.create();
    v.put("short", b"s", &ttl(10)).unwrap();
    v.put("long", b"l", &ttl(100)).unwrap();
    fx.set(T0 + 50);
    assert!(
        T0 + 100 < SystemClock.now().secs(),
        "both expired at the real time"
    );
    assert_eq!(v.purge_expired().unwrap(), 1);
    assert_not_found(v.get("short"), "short");
    assert_eq!(bytes_of(&v, "long"), b"l");
}
