//! Model-based property test: random sequences of put / get / delete / renew /
//! purge / clock steps against a plain `BTreeMap` with the same expiry rules
//! (expired when now >= expires; a read or renew of an expired entry is `Expired`
//! and leaves it in place, so every later read says `Expired` too; purge removes
//! every expired entry and returns how many).

use crate::support::*;
use farmvault::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const NAMES: [&str; 5] = ["a", "b", "shotgun/x", "shotgun/y", "ü/ß"];

/// A put (`Some((value, ttl))`) or a delete (`None`) in a batch.
type BatchItem = Option<(u8, Option<u64>)>;

#[derive(Clone, Debug)]
enum Op {
    Put {
        name: usize,
        value: u8,
        ttl: Option<u64>,
    },
    Get(usize),
    Delete(usize),
    Renew {
        name: usize,
        ttl: Option<u64>,
    },
    Purge,
    Advance(u64),
    /// Puts and deletes, all or nothing.
    Batch(Vec<(usize, BatchItem)>),
    Metadata(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    let ttl = prop::option::weighted(0.7, 1u64..6);
    prop_oneof![
        4 => (name.clone(), any::<u8>(), ttl.clone())
            .prop_map(|(name, value, ttl)| Op::Put { name, value, ttl }),
        3 => name.clone().prop_map(Op::Get),
        1 => name.clone().prop_map(Op::Delete),
        2 => (name, ttl.clone()).prop_map(|(name, ttl)| Op::Renew { name, ttl }),
        1 => Just(Op::Purge),
        2 => (0u64..4).prop_map(Op::Advance),
        1 => prop::collection::vec(
            (0..NAMES.len(), prop::option::weighted(0.7, (any::<u8>(), ttl.clone()))),
            1..4,
        )
        .prop_map(Op::Batch),
        1 => (0..NAMES.len()).prop_map(Op::Metadata),
    ]
}

#[derive(Clone, Debug, PartialEq)]
struct Model {
    value: Vec<u8>,
    created: u64,
    updated: u64,
    expires: Option<u64>,
}

impl Model {
    fn expired(&self, now: u64) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }

    fn meta(&self, name: &str) -> EntryMeta {
        EntryMeta {
            name: name.to_owned(),
            kind: Kind::Opaque,
            host: None,
            created: UnixTime(self.created),
            updated: UnixTime(self.updated),
            expires: self.expires.map(UnixTime),
        }
    }
}

/// A value that differs per name and per write.
fn bytes(name: &str, value: u8) -> Vec<u8> {
    let mut b = name.as_bytes().to_vec();
    b.extend(std::iter::repeat_n(value, usize::from(value % 17)));
    b.push(value);
    b
}

fn check_listing(v: &Vault, model: &BTreeMap<&str, Model>, step: usize) {
    let want: Vec<EntryMeta> = model.iter().map(|(n, m)| m.meta(n)).collect();
    assert_eq!(v.list("").unwrap(), want, "list after step {step}");
    let shotgun: Vec<EntryMeta> = want
        .into_iter()
        .filter(|m| m.name.starts_with("shotgun/"))
        .collect();
    assert_eq!(
        v.list("shotgun/").unwrap(),
        shotgun,
        "list after step {step}"
    );
}

fn run(ops: &[Op]) {
    let fx = Fx::empty();
    let v = fx.create();
    let mut model: BTreeMap<&str, Model> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        let now = fx.now();
        let ctx = format!("step {step}: {op:?} at +{}", now - T0);
        match *op {
            Op::Put { name, value, ttl } => {
                let n = NAMES[name];
                let opts = PutOptions {
                    ttl: ttl.map(secs),
                    durable: true,
                };
                v.put(n, &bytes(n, value), &opts).expect(&ctx);
                // An overwrite keeps `created`, even of an entry that has expired
                // but was not removed yet (it is still listed).
                let created = model.get(n).map_or(now, |m| m.created);
                model.insert(
                    n,
                    Model {
                        value: bytes(n, value),
                        created,
                        updated: now,
                        expires: ttl.map(|t| now + t),
                    },
                );
            }
            Op::Get(name) => {
                let n = NAMES[name];
                match (model.get(n).cloned(), v.get(n)) {
                    (None, Err(Error::NotFound { name })) => assert_eq!(name, n, "{ctx}"),
                    (Some(m), Err(Error::Expired { name, expired_at })) if m.expired(now) => {
                        assert_eq!((name.as_str(), Some(expired_at)), (n, m.expires), "{ctx}");
                    }
                    (Some(m), Ok(e)) if !m.expired(now) => {
                        assert_eq!(e.credential.secret(), &m.value[..], "{ctx}");
                        assert_eq!(e.meta, m.meta(n), "{ctx}");
                    }
                    (m, got) => panic!("{ctx}: model {m:?}, vault {got:?}"),
                }
            }
            Op::Delete(name) => {
                let n = NAMES[name];
                match (model.remove(n), v.delete(n)) {
                    (Some(_), Ok(())) => {}
                    (None, Err(Error::NotFound { .. })) => {}
                    (m, got) => panic!("{ctx}: model {m:?}, vault {got:?}"),
                }
            }
            Op::Renew { name, ttl } => {
                let n = NAMES[name];
                match (model.get(n).cloned(), v.renew(n, ttl.map(secs))) {
                    (None, Err(Error::NotFound { .. })) => {}
                    (Some(m), Err(Error::Expired { expired_at, .. })) if m.expired(now) => {
                        assert_eq!(Some(expired_at), m.expires, "{ctx}");
                    }
                    (Some(mut m), Ok(meta)) if !m.expired(now) => {
                        m.updated = now;
                        m.expires = ttl.map(|t| now + t);
                        assert_eq!(meta, m.meta(n), "{ctx}");
                        model.insert(n, m);
                    }
                    (m, got) => panic!("{ctx}: model {m:?}, vault {got:?}"),
                }
            }
            Op::Purge => {
                let before = model.len();
                model.retain(|_, m| !m.expired(now));
                assert_eq!(
                    v.purge_expired().expect(&ctx),
                    before - model.len(),
                    "{ctx}"
                );
            }
            Op::Advance(s) => fx.advance(s),
            Op::Batch(ref items) => {
                let mut batch = Batch::new();
                let mut next = model.clone();
                let mut missing = None;
                for &(name, ref op) in items {
                    let n = NAMES[name];
                    match *op {
                        Some((value, ttl)) => {
                            batch.put(n, &bytes(n, value), ttl.map(secs));
                            let created = next.get(n).map_or(now, |m| m.created);
                            let m = Model {
                                value: bytes(n, value),
                                created,
                                updated: now,
                                expires: ttl.map(|t| now + t),
                            };
                            next.insert(n, m);
                        }
                        None => {
                            batch.delete(n);
                            if next.remove(n).is_none() && missing.is_none() {
                                missing = Some(n);
                            }
                        }
                    }
                }
                match (missing, v.apply(batch)) {
                    (None, Ok(())) => model = next,
                    (Some(n), Err(Error::NotFound { name })) => assert_eq!(name, n, "{ctx}"),
                    (m, got) => panic!("{ctx}: first missing {m:?}, vault {got:?}"),
                }
            }
            Op::Metadata(name) => {
                let n = NAMES[name];
                match (model.get(n).cloned(), v.metadata(n)) {
                    (None, Err(Error::NotFound { .. })) => {}
                    (Some(m), Err(Error::Expired { expired_at, .. })) if m.expired(now) => {
                        assert_eq!(Some(expired_at), m.expires, "{ctx}");
                    }
                    (Some(m), Ok(meta)) if !m.expired(now) => assert_eq!(meta, m.meta(n), "{ctx}"),
                    (m, got) => panic!("{ctx}: model {m:?}, vault {got:?}"),
                }
            }
        }
        check_listing(&v, &model, step);
    }
    // Everything the model holds is on disk.
    drop(v);
    let v = fx.open();
    check_listing(&v, &model, ops.len());
    for (n, m) in &model {
        match v.get(n) {
            Ok(e) => assert_eq!(e.credential.secret(), &m.value[..]),
            Err(Error::Expired { .. }) => assert!(m.expired(fx.now())),
            Err(e) => panic!("{n} after reopen: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_vault_behaves_like_a_map_with_expiry(ops in prop::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}

#[test]
fn a_known_sequence_matches_the_model() {
    // A fixed run through the interesting corners, so a regression shows up
    // with a readable failure even before proptest shrinks one.
    use Op::*;
    run(&[
        Put {
            name: 0,
            value: 1,
            ttl: Some(2),
        },
        Put {
            name: 1,
            value: 2,
            ttl: None,
        },
        Advance(1),
        Renew {
            name: 0,
            ttl: Some(3),
        },
        Put {
            name: 2,
            value: 3,
            ttl: Some(1),
        },
        Advance(1),
        Get(2),
        Get(2),
        Put {
            name: 2,
            value: 4,
            ttl: Some(1),
        },
        Advance(3),
        Purge,
        Purge,
        Put {
            name: 3,
            value: 5,
            ttl: Some(1),
        },
        Delete(1),
        Delete(1),
        Advance(1),
        Put {
            name: 3,
            value: 6,
            ttl: Some(5),
        },
        Renew { name: 4, ttl: None },
        Get(0),
    ]);
}
