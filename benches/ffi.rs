//! The `ffi` group: the same get (a 64 B secret of the 100,000-entry vault, random
//! key order) through the exported C ABI, called from Rust, against the Rust API.
//!
//! - `rust/get`: `Vault::get`, then the secret read in place (`Credential::field`).
//! - `c_abi/get_free`: `fv_vault_get` + `fv_entry_free`.
//! - `c_abi/get_field_free`: what a C caller does to use the secret:
//!   `fv_vault_get`, `fv_entry_field(FV_FIELD_SECRET)`, `fv_secret_data`/`_len`,
//!   `fv_secret_free`, `fv_entry_free`.
//!
//! The `fv_*` functions are `unsafe extern "C"`, as from C: this file, like
//! `tests/ffi.rs`, calls them in `unsafe` blocks with pointers it owns.

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use farmvault::ffi::credential::fv_field;
use farmvault::ffi::entry::{fv_entry, fv_entry_field, fv_entry_free};
use farmvault::ffi::result::fv_result;
use farmvault::ffi::secret::{fv_secret, fv_secret_data, fv_secret_free, fv_secret_len};
use farmvault::ffi::vault::{fv_vault, fv_vault_close, fv_vault_get, fv_vault_open_key_file};
use farmvault::Field;
use std::ffi::CString;
use std::hint::black_box;
use std::ptr;
use std::time::Duration;

fn ffi(c: &mut Criterion) {
    let fx = big();
    let key_path = cache_root().join("ffi-bench.key");
    if !key_path.is_file() {
        fx.key.write_new(&key_path).unwrap();
    }
    let names = shuffled_names(64, 0x0066_6669);
    let c_names: Vec<CString> = names
        .iter()
        .map(|n| CString::new(n.as_str()).unwrap())
        .collect();
    let path = CString::new(fx.vault.to_str().unwrap()).unwrap();
    let key = CString::new(key_path.to_str().unwrap()).unwrap();
    let mut handle: *mut fv_vault = ptr::null_mut();
    // SAFETY: NUL-terminated strings that outlive the call; `opts` may be NULL; `out`
    // points at a local.
    let r =
        unsafe { fv_vault_open_key_file(path.as_ptr(), key.as_ptr(), ptr::null(), &mut handle) };
    assert_eq!(r, fv_result::FV_OK);
    // The Rust handle shares the C handle's store, as two plugins in one process do.
    let vault = fx.open();

    let mut g = c.benchmark_group("ffi");
    g.warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("rust/get", |b| {
        b.iter(|| {
            i = (i + 1) % names.len();
            let entry = vault.get(&names[i]).unwrap();
            let secret = entry.credential.field(Field::Secret).unwrap();
            black_box((secret.as_ptr(), secret.len()));
        })
    });
    g.bench_function("c_abi/get_free", |b| {
        b.iter(|| {
            i = (i + 1) % c_names.len();
            let mut entry: *mut fv_entry = ptr::null_mut();
            // SAFETY: a live handle, a NUL-terminated name, `out` points at a local;
            // the entry is freed once.
            unsafe {
                let r = fv_vault_get(handle, c_names[i].as_ptr(), &mut entry);
                assert_eq!(r, fv_result::FV_OK);
                fv_entry_free(black_box(entry));
            }
        })
    });
    g.bench_function("c_abi/get_field_free", |b| {
        b.iter(|| {
            i = (i + 1) % c_names.len();
            let mut entry: *mut fv_entry = ptr::null_mut();
            let mut secret: *mut fv_secret = ptr::null_mut();
            // SAFETY: as above; the secret is read before it is freed, each freed once.
            unsafe {
                let r = fv_vault_get(handle, c_names[i].as_ptr(), &mut entry);
                assert_eq!(r, fv_result::FV_OK);
                let r = fv_entry_field(entry, fv_field::Secret as u32, &mut secret);
                assert_eq!(r, fv_result::FV_OK);
                black_box((fv_secret_data(secret), fv_secret_len(secret)));
                fv_secret_free(secret);
                fv_entry_free(entry);
            }
        })
    });
    g.finish();
    // SAFETY: the handle is live and closed once.
    unsafe { fv_vault_close(handle) };
}

criterion_group!(benches, ffi);
criterion_main!(benches);
