//! One handle shared by threads: mixed puts and gets lose nothing and tear
//! nothing, reads of an expired entry never disturb a write that races with them,
//! and the read-modify-write operations (purge, renew) never undo one.

use crate::support::*;
use farmvault::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const THREADS: usize = 8;
const ROUNDS: usize = 60;
const KEYS: usize = 4;

/// A self-checking value: who wrote it, when, and a padding whose length and
/// letter depend on both, so a torn or mixed value does not parse.
fn value(name: &str, thread: usize, round: usize) -> Vec<u8> {
    let pad = (thread * 131 + round * 17) % 700;
    let letter = char::from(b'a' + ((thread * 7 + round) % 26) as u8);
    let mut s = format!("{name}|{thread}|{round}|");
    s.extend(std::iter::repeat_n(letter, pad));
    s.into_bytes()
}

/// (thread, round) of a value written by `value(name, ..)`, or a panic.
#[track_caller]
fn parse(name: &str, bytes: &[u8]) -> (usize, usize) {
    let text = std::str::from_utf8(bytes).expect("torn value: not UTF-8");
    let mut parts = text.splitn(4, '|');
    assert_eq!(
        parts.next(),
        Some(name),
        "value of another entry: {text:.80}"
    );
    let t: usize = parts.next().unwrap().parse().unwrap();
    let r: usize = parts.next().unwrap().parse().unwrap();
    assert_eq!(value(name, t, r), bytes, "torn value {text:.80}");
    (t, r)
}

fn own(t: usize, k: usize) -> String {
    format!("own/{t}/{k}")
}

fn shared(k: usize) -> String {
    format!("shared/{k}")
}

/// The credential a round writes: alternately opaque and a typed key.
fn credential(bytes: Vec<u8>, typed: bool) -> Credential {
    if typed {
        Credential::ScriptKey(ScriptKey {
            host: "https://studio.shotgrid.autodesk.com".into(),
            script_name: "farm".into(),
            api_key: String::from_utf8(bytes).unwrap().into(),
            http_proxy: None,
        })
    } else {
        Credential::Opaque(SecretBytes::new(bytes))
    }
}

#[test]
fn eight_threads_share_one_handle_without_lost_or_torn_values() {
    let fx = Fx::empty();
    let v = fx.create();
    // Per thread: the last round it wrote each own and shared name.
    let lasts: Vec<(BTreeMap<String, usize>, BTreeMap<String, usize>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let v = &v;
                s.spawn(move || {
                    let mut last_own = BTreeMap::new();
                    let mut last_shared = BTreeMap::new();
                    for r in 0..ROUNDS {
                        let opts = PutOptions::new().durable(r % 3 == 0);
                        // Own name: the only writer, so read-your-write is exact.
                        let name = own(t, r % KEYS);
                        let c = credential(value(&name, t, r), r % 2 == 1);
                        v.put_credential(&name, &c, &opts).unwrap();
                        last_own.insert(name.clone(), r);
                        assert_eq!(v.get(&name).unwrap().credential.secret(), c.secret());
                        // A shared name: many writers.
                        let name = shared((r + t) % KEYS);
                        v.put_credential(&name, &credential(value(&name, t, r), r % 2 == 0), &opts)
                            .unwrap();
                        last_shared.insert(name, r);
                        // Read others' writes: whole values that some writer wrote.
                        let name = shared((r * 3 + t) % KEYS);
                        match v.get(&name) {
                            Ok(e) => {
                                parse(&name, e.credential.secret());
                            }
                            Err(Error::NotFound { .. }) => {}
                            Err(e) => panic!("{name}: {e}"),
                        }
                        let other = (t + 1 + r) % THREADS;
                        let name = own(other, r % KEYS);
                        match v.get(&name) {
                            Ok(e) => {
                                let (wt, _) = parse(&name, e.credential.secret());
                                assert_eq!(wt, other, "{name} written by another thread");
                            }
                            Err(Error::NotFound { .. }) => {}
                            Err(e) => panic!("{name}: {e}"),
                        }
                        if r % 10 == 9 {
                            v.list("own/").unwrap();
                        }
                    }
                    (last_own, last_shared)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let check = |v: &Vault| {
        assert_eq!(v.list("").unwrap().len(), THREADS * KEYS + KEYS);
        assert!(v.damaged().unwrap().is_empty());
        for (t, (last_own, _)) in lasts.iter().enumerate() {
            assert_eq!(last_own.len(), KEYS);
            for (name, r) in last_own {
                assert_eq!(
                    parse(name, v.get(name).unwrap().credential.secret()),
                    (t, *r)
                );
            }
        }
        for k in 0..KEYS {
            let name = shared(k);
            let (t, r) = parse(&name, v.get(&name).unwrap().credential.secret());
            // The survivor is the last write of the thread that wrote last.
            assert_eq!(
                lasts[t].1.get(&name),
                Some(&r),
                "{name}: an overwritten value won"
            );
        }
    };
    check(&v);
    drop(v);
    check(&fx.open());
}

/// Runs `racer` in a loop on another thread while `writer` runs `rounds`
/// times (or for at most `budget`), then stops the racer.
fn race(
    v: &Vault,
    rounds: usize,
    budget: Duration,
    racer: impl Fn(&Vault) + Send + Sync,
    writer: impl Fn(&Vault, usize),
) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let r = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                racer(v);
            }
        });
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for i in 0..rounds {
                if start.elapsed() > budget {
                    break;
                }
                writer(v, i);
            }
        }));
        stop.store(true, Ordering::Relaxed);
        r.join().unwrap();
        if let Err(p) = outcome {
            std::panic::resume_unwind(p);
        }
    });
}

#[test]
fn a_purge_never_removes_a_write_that_raced_with_it() {
    let fx = Fx::empty();
    let v = fx.create();
    let quick = PutOptions::new().durable(false).ttl(secs(1));
    let names: Vec<String> = (0..8).map(|k| format!("k{k}")).collect();
    race(
        &v,
        400,
        Duration::from_secs(2),
        |v| {
            v.purge_expired().unwrap();
        },
        |v, i| {
            // The previous values have just expired, and the purge is after
            // them while these puts replace them one by one.
            for n in &names {
                v.put(n, &i.to_be_bytes(), &quick).unwrap();
            }
            // Not expired (nobody moves the clock but us): all must be there.
            for n in &names {
                match v.get(n) {
                    Ok(e) => assert_eq!(e.credential.secret(), i.to_be_bytes(), "round {i}"),
                    Err(e) => panic!("round {i}: a fresh write was lost: {e}"),
                }
            }
            fx.advance(1);
        },
    );
}

#[test]
fn reading_an_expired_entry_never_removes_a_write_that_raced_with_it() {
    let fx = Fx::empty();
    let v = fx.create();
    let quick = PutOptions::new().durable(false).ttl(secs(1));
    race(
        &v,
        1500,
        Duration::from_secs(2),
        |v| match v.get("k") {
            Ok(_) | Err(Error::Expired { .. } | Error::NotFound { .. }) => {}
            Err(e) => panic!("{e}"),
        },
        |v, i| {
            v.put("k", &i.to_be_bytes(), &quick).unwrap();
            match v.metadata("k") {
                Ok(m) => assert_eq!(m.expires, Some(v.now().plus(secs(1))), "round {i}"),
                Err(e) => panic!("round {i}: a fresh write was lost: {e}"),
            }
            assert_eq!(bytes_of(v, "k"), i.to_be_bytes());
            fx.advance(1);
        },
    );
}

#[test]
fn a_renew_never_brings_back_an_overwritten_or_deleted_value() {
    let fx = Fx::empty();
    let v = fx.create();
    let quick = PutOptions::new().durable(false);
    race(
        &v,
        1500,
        Duration::from_secs(2),
        |v| match v.renew("k", Some(secs(100))) {
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => panic!("{e}"),
        },
        |v, i| {
            v.put("k", &i.to_be_bytes(), &quick).unwrap();
            assert_eq!(
                bytes_of(v, "k"),
                i.to_be_bytes(),
                "round {i}: an old value came back"
            );
            v.delete("k").unwrap();
            match v.get("k") {
                Err(Error::NotFound { .. }) => {}
                other => panic!("round {i}: a deleted entry came back: {other:?}"),
            }
        },
    );
}
