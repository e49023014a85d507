//! The AEAD path on its own: `SealingKey::seal_into` (nonce included) and `open`
//! of 64 B and 64 KiB, beside the `chacha20poly1305` crate's XChaCha20Poly1305
//! (`crate_default/…`, its Poly1305 on the AVX2 backend it picks at run time) on
//! the same key, AAD and sizes, with a nonce of the same origin. This is the
//! check behind farmvault's own Poly1305 (src/crypto/poly1305.rs): ours must win
//! on short messages, where credentials are (docs/PERFORMANCE.md).

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use farmvault::crypto::{Nonce, SealingKey, SymmetricKey, NONCE_LEN, TAG_LEN};
use std::hint::black_box;
use std::time::Duration;

fn aead(c: &mut Criterion) {
    let key = SealingKey::new(&SymmetricKey::from_slice(&[9; 32], "bench key").unwrap());
    let reference = XChaCha20Poly1305::new(&[9u8; 32].into());
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
        let mut buf = plain.clone();
        g.bench_function(format!("crate_default/seal/{size}"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&plain);
                let nonce = Nonce::random().unwrap();
                black_box(
                    reference
                        .encrypt_inout_detached(&nonce.0.into(), &aad, buf.as_mut_slice().into())
                        .unwrap(),
                )
            })
        });
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().unwrap();
        let tag: [u8; TAG_LEN] = tag.try_into().unwrap();
        g.bench_function(format!("crate_default/open/{size}"), |b| {
            b.iter(|| {
                let mut buf = zeroize::Zeroizing::new(ct.to_vec());
                reference
                    .decrypt_inout_detached(
                        &nonce.into(),
                        &aad,
                        buf.as_mut_slice().into(),
                        &tag.into(),
                    )
                    .unwrap();
                black_box(buf)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, aead);
criterion_main!(benches);
