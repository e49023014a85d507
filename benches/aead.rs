//! The AEAD path on its own: `SealingKey::seal_into` (nonce included) and `open`
//! of 64 B and 64 KiB. This is the check behind the backend cfgs in
//! `.cargo/config.toml`: rerun it with another `RUSTFLAGS` (which replaces the
//! config's flags) in a separate target dir to compare backends, e.g.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/fv-default RUSTFLAGS= cargo bench --bench aead
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use farmvault::crypto::{SealingKey, SymmetricKey};
use std::hint::black_box;
use std::time::Duration;

fn aead(c: &mut Criterion) {
    let key = SealingKey::new(&SymmetricKey::from_slice(&[9; 32], "bench key").unwrap());
    let aad = [0x41u8; 91]; // the length of an entry record's AAD
    let mut g = c.benchmark_group("aead");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for size in [64usize, 64 * 1024] {
        let plain = vec![0x5au8; size];
        let mut sealed = Vec::new();
        key.seal_into(&plain, &aad, &mut sealed).unwrap();
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = Vec::with_capacity(sealed.len());
        g.bench_function(format!("seal/{size}"), |b| {
            b.iter(|| {
                out.clear();
                key.seal_into(black_box(&plain), &aad, &mut out).unwrap();
            })
        });
        g.bench_function(format!("open/{size}"), |b| {
            b.iter(|| black_box(key.open(black_box(&sealed), &aad).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, aead);
criterion_main!(benches);
