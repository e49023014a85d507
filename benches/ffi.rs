//! The `ffi` group: the same get (a 64 B secret of the 100,000-entry vault, random
//! key order) through the exported C ABI, called from Rust, against the Rust API.
//!
//! - `rust/get`: `Vault::get`, then the secret read in place (`Credential::field`).
//! - `c_abi/get_free`: `fv_vault_get` + `fv_entry_free`.
//! - `c_abi/get_field_free`: what a C caller does to use the secret with the
//!   one-field accessor: `fv_vault_get`, `fv_entry_field(FV_FIELD_SECRET)`,
//!   `fv_secret_data`/`_len`, `fv_secret_free`, `fv_entry_free`.
//! - `c_abi/get_view_free`: the same with the borrowed view, as the Python package
//!   reads an entry: `fv_vault_get_view` (every field at once), `fv_entry_free`.
//!
//! Instruction counts (stable where times are not): with `FARMVAULT_FFI_LOOP=<mode>`
//! (`rust`, `get_free`, `get_field_free`, `get_view_free`) the binary skips criterion
//! and runs that loop `FARMVAULT_FFI_LOOP_N` times (default 10,000) inside
//! `ffi_loop`, for callgrind:
//!
//! ```text
//! cargo bench --bench ffi --no-run      # prints the binary's path
//! FARMVAULT_FFI_LOOP=get_field_free valgrind --tool=callgrind \
//!     --toggle-collect='*ffi_loop*' target/release/deps/ffi-<hash>
//! ```
//!
//! The total instruction count (`summary:` of `callgrind_annotate`) divided by N is the
//! cost of one iteration; the `rust` loop's is the floor.
//!
//! Paired times (robust on a busy machine): `FARMVAULT_FFI_PAIRED=<rounds>` runs every
//! mode in alternating batches of 1,000 gets and prints medians and the median
//! difference from `rust` (see `paired`).
//!
//! The `fv_*` functions are `unsafe extern "C"`, as from C: this file, like
//! `tests/ffi/vault.rs`, calls them in `unsafe` blocks with pointers it owns.

mod common;

use common::*;
use criterion::{criterion_group, Criterion, Throughput};
use farmvault::ffi::fv_field;
use farmvault::ffi::fv_result;
use farmvault::ffi::{fv_entry, fv_entry_field, fv_entry_free, fv_entry_view};
use farmvault::ffi::{fv_secret, fv_secret_data, fv_secret_free, fv_secret_len};
use farmvault::ffi::{
    fv_vault, fv_vault_close, fv_vault_get, fv_vault_get_view, fv_vault_open_key_file,
};
use farmvault::{Field, Vault};
use std::ffi::CString;
use std::hint::black_box;
use std::mem::{size_of, MaybeUninit};
use std::ptr;
use std::time::Duration;

/// The vault opened both ways, and the names read, in random order.
struct Setup {
    handle: *mut fv_vault,
    vault: Vault,
    names: Vec<String>,
    c_names: Vec<CString>,
}

impl Setup {
    fn new() -> Setup {
        let fx = big();
        let key_path = cache_root().join("ffi-bench.key");
        if !key_path.is_file() {
            fx.key.write_new(&key_path).unwrap();
        }
        let names = shuffled_names(64, 0x0066_6669);
        let c_names = names
            .iter()
            .map(|n| CString::new(n.as_str()).unwrap())
            .collect();
        let path = CString::new(fx.vault.to_str().unwrap()).unwrap();
        let key = CString::new(key_path.to_str().unwrap()).unwrap();
        let mut handle: *mut fv_vault = ptr::null_mut();
        // SAFETY: NUL-terminated strings that outlive the call; `opts` may be NULL;
        // `out` points at a local.
        let r = unsafe {
            fv_vault_open_key_file(path.as_ptr(), key.as_ptr(), ptr::null(), &mut handle)
        };
        assert_eq!(r, fv_result::FV_OK);
        // The Rust handle shares the C handle's store, as two plugins in one process do.
        let vault = fx.open();
        Setup {
            handle,
            vault,
            names,
            c_names,
        }
    }

    fn rust_get(&self, i: usize) {
        let entry = self.vault.get(&self.names[i]).unwrap();
        let secret = entry.credential.field(Field::Secret).unwrap();
        black_box((secret.as_ptr(), secret.len()));
    }

    fn get_free(&self, i: usize) {
        let mut entry: *mut fv_entry = ptr::null_mut();
        // SAFETY: a live handle, a NUL-terminated name, `out` points at a local; the
        // entry is freed once.
        unsafe {
            let r = fv_vault_get(self.handle, self.c_names[i].as_ptr(), &mut entry);
            assert_eq!(r, fv_result::FV_OK);
            fv_entry_free(black_box(entry));
        }
    }

    fn get_field_free(&self, i: usize) {
        let mut entry: *mut fv_entry = ptr::null_mut();
        let mut secret: *mut fv_secret = ptr::null_mut();
        // SAFETY: as above; the secret is read before it is freed, each freed once.
        unsafe {
            let r = fv_vault_get(self.handle, self.c_names[i].as_ptr(), &mut entry);
            assert_eq!(r, fv_result::FV_OK);
            let r = fv_entry_field(entry, fv_field::Secret as u32, &mut secret);
            assert_eq!(r, fv_result::FV_OK);
            black_box((fv_secret_data(secret), fv_secret_len(secret)));
            fv_secret_free(secret);
            fv_entry_free(entry);
        }
    }

    fn get_view_free(&self, i: usize) {
        let mut entry: *mut fv_entry = ptr::null_mut();
        let mut view = MaybeUninit::<fv_entry_view>::uninit();
        // SAFETY: as above; `view_out` is a local of the size passed, written on
        // success; its pointers are read before the entry is freed.
        unsafe {
            let r = fv_vault_get_view(
                self.handle,
                self.c_names[i].as_ptr(),
                &mut entry,
                view.as_mut_ptr(),
                size_of::<fv_entry_view>(),
            );
            assert_eq!(r, fv_result::FV_OK);
            let view = view.assume_init_ref();
            black_box((view.secret.data, view.secret.len));
            fv_entry_free(entry);
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        // SAFETY: the handle is live and closed once.
        unsafe { fv_vault_close(self.handle) };
    }
}

fn ffi(c: &mut Criterion) {
    let s = Setup::new();
    let n = s.names.len();
    let mut g = c.benchmark_group("ffi");
    g.warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    let mut i = 0;
    let mut next = || {
        i = (i + 1) % n;
        i
    };
    g.bench_function("rust/get", |b| b.iter(|| s.rust_get(next())));
    g.bench_function("c_abi/get_free", |b| b.iter(|| s.get_free(next())));
    g.bench_function("c_abi/get_field_free", |b| {
        b.iter(|| s.get_field_free(next()))
    });
    g.bench_function("c_abi/get_view_free", |b| {
        b.iter(|| s.get_view_free(next()))
    });
    g.finish();
}

/// The measured loop of `FARMVAULT_FFI_LOOP` (callgrind toggles collection on it).
#[inline(never)]
fn ffi_loop(s: &Setup, one: Get, n: usize) {
    for i in 0..n {
        one(s, i % s.names.len());
    }
}

fn instruction_loop(mode: &str) {
    let Some(&(_, one)) = MODES.iter().find(|(name, _)| *name == mode) else {
        panic!(
            "FARMVAULT_FFI_LOOP={mode}: expected rust, get_free, get_field_free or get_view_free"
        );
    };
    let n = std::env::var("FARMVAULT_FFI_LOOP_N").map_or(10_000, |v| v.parse().unwrap());
    let s = Setup::new();
    // Warm: every name once, so the measured loop finds sled's cache as criterion does.
    for i in 0..s.names.len() {
        one(&s, i);
    }
    ffi_loop(&s, one, n);
    println!("{mode}: {n} iterations in ffi_loop");
}

/// One get of a mode, on the name of this index.
type Get = fn(&Setup, usize);

/// The modes of the loops, `rust` first.
const MODES: [(&str, Get); 4] = [
    ("rust", Setup::rust_get),
    ("get_free", Setup::get_free),
    ("get_field_free", Setup::get_field_free),
    ("get_view_free", Setup::get_view_free),
];

/// Paired timing: `rounds` rounds, each timing a batch of 1,000 gets of every mode
/// (in a rotating order; each batch reads the next 1,000 names), then per mode the median time of a get and the median of
/// its difference from the `rust` batch of the same round. A busy machine drifts
/// by more than the ABI's overhead between criterion's groups, seconds apart; batches
/// a few milliseconds apart see the same machine.
fn paired(rounds: usize) {
    const BATCH: usize = 1000;
    let s = Setup::new();
    let n = s.names.len();
    for i in 0..n {
        (MODES[i % MODES.len()].1)(&s, i);
    }
    let mut ns = vec![Vec::with_capacity(rounds); MODES.len()];
    let mut next = 0;
    for round in 0..rounds {
        for k in 0..MODES.len() {
            let m = (round + k) % MODES.len();
            let start = std::time::Instant::now();
            for _ in 0..BATCH {
                next = (next + 1) % n;
                (MODES[m].1)(&s, next);
            }
            ns[m].push(start.elapsed().as_nanos() as f64 / BATCH as f64);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("{rounds} rounds of {BATCH} gets per mode; medians:");
    for (m, (name, _)) in MODES.iter().enumerate() {
        let diff: Vec<f64> = ns[m].iter().zip(&ns[0]).map(|(a, r)| a - r).collect();
        println!(
            "  {name:15} {:7.0} ns per get, {:+5.0} ns against rust",
            median(ns[m].clone()),
            median(diff)
        );
    }
}

criterion_group!(benches, ffi);

fn main() {
    if let Ok(mode) = std::env::var("FARMVAULT_FFI_LOOP") {
        instruction_loop(&mode);
        return;
    }
    if let Ok(rounds) = std::env::var("FARMVAULT_FFI_PAIRED") {
        paired(
            rounds
                .parse()
                .expect("FARMVAULT_FFI_PAIRED is a number of rounds"),
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
