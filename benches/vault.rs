//! farmvault against its floor, raw sled 0.34, side by side in each group so the
//! ratio holds on a noisy machine (docs/PERFORMANCE.md reads them). `cargo bench` runs every group;
//! `cargo bench --bench vault -- get` runs one.
//!
//! - `get`: a 100,000-entry vault, values of 64 B, 1 KiB and 64 KiB, random key
//!   order, against raw sled gets of the same names and value sizes;
//!   `sled_records`, sled alone on the vault's own blinded keys and sealed
//!   records (what sled costs on the bytes farmvault stores); and `floor`, the
//!   composed floor of a get: one name blinding, sled's get of the record, one
//!   AEAD open of the same size.
//! - `put`: non-durable put vs raw insert (and `sled_records/insert`, a raw insert
//!   of a sealed record's length under a blinded key); durable put vs insert +
//!   flush; a durable batch of 1,000 vs a raw batch + flush.
//! - `open`: key-file open of the 100,000-entry vault vs raw sled open of the same
//!   directory; passphrase open with the default Argon2id costs on its own.
//! - `purge`: 100,000 expired entries vs removing the same sled keys raw.
//! - `threads`: gets through one shared handle from 1 and 2 threads.
//!
//! The `ffi` group is in `benches/ffi.rs`, the AEAD backend check in `benches/aead.rs`.

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use farmvault::crypto::{Prf, SealingKey, SymmetricKey};
use farmvault::{Batch, Config, KdfParams, ManualClock, PutOptions, UnixTime, Unlock};
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn get(c: &mut Criterion) {
    let fx = big();
    let vault = fx.open();
    let raw = fx.open_raw();
    let records = fx.open_records();
    let mut g = c.benchmark_group("get");
    g.warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for (size, _) in SIZES {
        let names = shuffled_names(size, 0x6e61_6d65 + size as u64);
        let mut i = 0;
        g.bench_function(format!("farmvault/{size}"), |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                black_box(vault.get(&names[i]).unwrap())
            })
        });
        let mut i = 0;
        g.bench_function(format!("raw_sled/{size}"), |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                black_box(raw.get(names[i].as_bytes()).unwrap().unwrap())
            })
        });
        // Not a floor: sled alone on farmvault's own keys and sealed records.
        let keys = shuffled_record_keys(&records, size, 0x7265_6373 + size as u64);
        let mut i = 0;
        g.bench_function(format!("sled_records/{size}"), |b| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                black_box(records.get(&keys[i]).unwrap().unwrap())
            })
        });
        // The composed floor of a get: what no get can skip, each done once
        // by the primitives farmvault uses: the name's blinding (HMAC-SHA256),
        // sled's lookup of the stored record, and one AEAD open of a value of
        // this size.
        let blind = Prf::new(&SymmetricKey::generate().unwrap());
        let seal = SealingKey::new(&SymmetricKey::generate().unwrap());
        let mut sealed = Vec::new();
        seal.seal_into(&secret(size, 0), b"aad", &mut sealed)
            .unwrap();
        let mut i = 0;
        g.bench_function(format!("floor/{size}"), |b| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                black_box(blind.tag(&[names[i].as_bytes()]));
                black_box(records.get(&keys[i]).unwrap().unwrap());
                black_box(seal.open(&sealed, b"aad").unwrap())
            })
        });
    }
    g.finish();
}

fn put(c: &mut Criterion) {
    // Steady state: puts overwrite the 64 B entries of a copy of the
    // 100,000-entry vault in random order; the raw floor overwrites the same
    // names in a copy of its raw twin.
    let fx = big();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fx.vault, &dir.path().join("vault"));
    copy_dir(&fx.raw, &dir.path().join("raw"));
    let vault = Config::new(dir.path().join("vault"))
        .open(&fx.unlock())
        .unwrap();
    let raw = raw_open(&dir.path().join("raw"));
    let names = shuffled_names(64, 0x70_7574);
    let keys = names.len();
    let value = secret(64, 1);
    // Every raw write stores a new value: sled skips a set to the value already
    // there, which would make the floor a lookup. (farmvault's records always
    // differ: a fresh nonce per seal.)
    let mut n = 0u64;
    let mut fresh = move || {
        n += 1;
        let mut v = value.clone();
        v[..8].copy_from_slice(&n.to_le_bytes());
        v
    };
    let value = fresh();
    // sled alone on farmvault's bytes: 10,000 blinded keys taken from the big
    // fixture, each set to a record of the length a 64 B put seals.
    let (record_keys, record_len) = {
        let records = fx.open_records();
        let keys: Vec<sled::IVec> = shuffled_record_keys(&records, 64, 0x72_6563)
            .into_iter()
            .take(10_000)
            .collect();
        let len = records.get(&keys[0]).unwrap().unwrap().len();
        (keys, len)
    };
    let raw_records = raw_open(&dir.path().join("records"));
    let mut m = 0u64;
    let mut fresh_record = move || {
        m += 1;
        let mut v = vec![0x5a; record_len];
        v[..8].copy_from_slice(&m.to_le_bytes());
        v
    };
    for k in &record_keys {
        raw_records.insert(k, fresh_record()).unwrap();
    }
    raw_records.flush().unwrap();
    // The physical floor of a durable put: appending the bytes one put adds
    // to the journal, in one `write`, and one `fdatasync`, in the same
    // directory. A put's frame is `len:4 ‖ insert(E key:33, record) ‖
    // insert(S:1, seq:8) ‖ mac:32`, each insert `1 ‖ key_len:2 ‖ key ‖
    // value_len:4 ‖ value`.
    let frame_len = 4 + (7 + 33 + record_len) + (7 + 1 + 8) + 32;
    let floor_file = std::fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(dir.path().join("floor.log"))
        .unwrap();
    let frame = vec![0xa5u8; frame_len];
    let lazy = PutOptions::new().durable(false);
    let durable = PutOptions::new();
    let mut g = c.benchmark_group("put");
    g.warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3));
    let mut i = 0;
    g.bench_function("farmvault/no_flush", |b| {
        b.iter(|| {
            i = (i + 1) % keys;
            vault.put(&names[i], &value, &lazy).unwrap()
        })
    });
    g.bench_function("raw_sled/insert", |b| {
        b.iter(|| {
            i = (i + 1) % keys;
            raw.insert(names[i].as_bytes(), fresh()).unwrap()
        })
    });
    let mut j = 0;
    g.bench_function("sled_records/insert", |b| {
        b.iter(|| {
            j = (j + 1) % record_keys.len();
            raw_records.insert(&record_keys[j], fresh_record()).unwrap()
        })
    });
    // fsync-bound: milliseconds each.
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("farmvault/durable", |b| {
        b.iter(|| {
            i = (i + 1) % keys;
            vault.put(&names[i], &value, &durable).unwrap()
        })
    });
    g.bench_function("floor/write_fdatasync", |b| {
        b.iter(|| {
            (&floor_file).write_all(&frame).unwrap();
            floor_file.sync_data().unwrap()
        })
    });
    g.bench_function("raw_sled/insert_flush", |b| {
        b.iter(|| {
            i = (i + 1) % keys;
            raw.insert(names[i].as_bytes(), fresh()).unwrap();
            raw.flush().unwrap()
        })
    });
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    let mut start = 0;
    let mut next_chunk = || {
        start = (start + 1_000) % (keys - 1_000);
        &names[start..start + 1_000]
    };
    g.bench_function("farmvault/batch_1000", |b| {
        b.iter_batched(
            || {
                let mut batch = Batch::new();
                for n in next_chunk() {
                    batch.put(n, &value, None);
                }
                batch
            },
            |batch| vault.apply(batch).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("raw_sled/batch_1000_flush", |b| {
        b.iter_batched(
            || {
                let mut batch = sled::Batch::default();
                for n in next_chunk() {
                    batch.insert(n.as_bytes(), fresh());
                }
                batch
            },
            |batch| {
                raw.apply_batch(batch).unwrap();
                raw.flush().unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn open(c: &mut Criterion) {
    let fx = big();
    let mut g = c.benchmark_group("open");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    // Timed: the open. Untimed: the close (sled flushes and joins its threads).
    let unlock = fx.unlock();
    g.bench_function("farmvault/key_file_100k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let v = Config::new(&fx.vault).open(&unlock).unwrap();
                total += t.elapsed();
                drop(v);
            }
            total
        })
    });
    g.bench_function("raw_sled/open_100k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let db = raw_config(&data_dir(&fx.vault)).open().unwrap();
                total += t.elapsed();
                drop(db);
            }
            total
        })
    });
    // Meant to be slow: Argon2id m=64 MiB, t=3, p=1 (the default) on an empty vault,
    // created on first use (so a filtered run that skips this costs nothing).
    let pw = Unlock::passphrase("correct horse battery staple");
    assert_eq!(KdfParams::default(), KdfParams::DEFAULT);
    let mut pw_vault: Option<tempfile::TempDir> = None;
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("farmvault/passphrase_default_kdf", |b| {
        let dir = pw_vault.get_or_insert_with(|| {
            let dir = tempfile::tempdir().unwrap();
            drop(Config::new(dir.path().join("v")).create(&pw).unwrap());
            dir
        });
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let v = Config::new(dir.path().join("v")).open(&pw).unwrap();
                total += t.elapsed();
                drop(v);
            }
            total
        })
    });
    g.finish();
}

fn purge(c: &mut Criterion) {
    let fx = expiring();
    let scratch = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("purge");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(8));
    let mut n = 0;
    let mut fresh_copy = || {
        n += 1;
        let to = scratch.path().join(format!("copy-{n}"));
        copy_dir(&fx.vault, &to);
        to
    };
    g.bench_function("farmvault/100k_expired", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = fresh_copy();
                let clock = ManualClock::new(UnixTime(T0 + 7200));
                let v = Config::new(&dir)
                    .clock(Arc::new(clock))
                    .open(&fx.unlock())
                    .unwrap();
                let t = Instant::now();
                let removed = v.purge_expired().unwrap();
                total += t.elapsed();
                assert_eq!(removed, ENTRIES);
                drop(v);
                std::fs::remove_dir_all(dir).unwrap();
            }
            total
        })
    });
    g.bench_function("raw_sled/remove_same_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = fresh_copy();
                let db = raw_open(&data_dir(&dir));
                // The keys purge removes: every entry record and its index item.
                let keys: Vec<sled::IVec> = db
                    .iter()
                    .keys()
                    .map(Result::unwrap)
                    .filter(|k| k[0] == b'E' || k[0] == b'X')
                    .collect();
                assert_eq!(keys.len(), 2 * ENTRIES);
                let t = Instant::now();
                let mut batch = sled::Batch::default();
                for k in keys {
                    batch.remove(k);
                }
                db.apply_batch(batch).unwrap();
                db.flush().unwrap();
                total += t.elapsed();
                drop(db);
                std::fs::remove_dir_all(dir).unwrap();
            }
            total
        })
    });
    g.finish();
}

fn threads(c: &mut Criterion) {
    let fx = big();
    let vault = fx.open();
    let raw = fx.open_raw();
    let names = shuffled_names(64, 0x7468);
    let mut g = c.benchmark_group("threads");
    g.warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    // Time per get over all threads: 2 threads on one handle should take about
    // half of 1 thread's time per get when gets scale.
    for n in [1usize, 2] {
        g.bench_function(format!("farmvault/{n}"), |b| {
            b.iter_custom(|iters| {
                spread(n, iters, &names, |name| {
                    black_box(vault.get(name).unwrap());
                })
            })
        });
        g.bench_function(format!("raw_sled/{n}"), |b| {
            b.iter_custom(|iters| {
                spread(n, iters, &names, |name| {
                    black_box(raw.get(name.as_bytes()).unwrap().unwrap());
                })
            })
        });
    }
    g.finish();
}

/// Runs `iters` calls of `f` split over `n` threads, each walking `names` from its own offset.
fn spread(n: usize, iters: u64, names: &[String], f: impl Fn(&str) + Sync) -> Duration {
    let per = iters.div_ceil(n as u64) as usize;
    let t = Instant::now();
    std::thread::scope(|s| {
        for k in 0..n {
            let f = &f;
            s.spawn(move || {
                let offset = k * names.len() / n;
                for j in 0..per {
                    f(&names[(offset + j) % names.len()]);
                }
            });
        }
    });
    t.elapsed()
}

criterion_group!(benches, get, put, open, purge, threads);
criterion_main!(benches);
