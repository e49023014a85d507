//! Fixtures shared by the bench binaries: the 100,000-entry vault and its raw-sled
//! twin (the floor), built once and cached under `target/tmp/` between runs.
//!
//! Every comparison opens raw sled with the same settings farmvault uses
//! (`RAW_CACHE`, `RAW_MODE`, mirrored from `src/store.rs`), so a ratio measures
//! farmvault's own work (blinding, sealing, encoding) and nothing sled-side.
#![allow(dead_code)]

use farmvault::{Batch, Config, KeyFile, ManualClock, UnixTime, Unlock, Vault};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bump when the fixture's contents change: old caches are then rebuilt.
const FIXTURE_VERSION: u32 = 4;

/// The sled cache farmvault configures (src/store.rs).
pub const RAW_CACHE: u64 = 64 * 1024 * 1024;
/// The sled mode farmvault configures (src/store.rs).
pub const RAW_MODE: sled::Mode = sled::Mode::LowSpace;

/// Entries in the big vault: 100,000, of three value sizes. Most credentials are
/// small; the 64 KiB class is kept to 100 entries so the whole vault stays in the
/// 64 MiB cache on both sides (otherwise the comparison is one of page faults).
pub const ENTRIES: usize = 100_000;

/// The value sizes of the big vault, and how many entries of each.
pub const SIZES: [(usize, usize); 3] = [(64, 98_900), (1024, 1_000), (64 * 1024, 100)];

/// The value size of entry `i` of the big vault. The classes are interleaved
/// in name order, so raw sled's keys of one size are spread over its whole tree
/// like farmvault's blinded keys are (a contiguous run would sit in a few hot
/// nodes and flatter the floor).
pub fn size_of(i: usize) -> usize {
    if i % 1000 == 500 {
        64 * 1024
    } else if i % 100 == 50 {
        1024
    } else {
        64
    }
}

/// The indices of the big vault's entries of value size `size`.
pub fn indices_of(size: usize) -> Vec<usize> {
    (0..ENTRIES).filter(|&i| size_of(i) == size).collect()
}

/// Where the driven clock of the purge fixture starts.
pub const T0: u64 = 1_700_000_000;

/// The name of entry `i`: as long as a typical farm name.
pub fn name(i: usize) -> String {
    format!("shotgun/render_farm/job-{i:06}")
}

/// The secret of entry `i`: `size` bytes, distinct per entry.
pub fn secret(size: usize, i: usize) -> Vec<u8> {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The names of the entries of value size `size`, in a random (fixed) order.
pub fn shuffled_names(size: usize, seed: u64) -> Vec<String> {
    let idx = indices_of(size);
    shuffled(idx.len(), seed)
        .into_iter()
        .map(|k| name(idx[k]))
        .collect()
}

/// A deterministic permutation of `0..n` (xorshift Fisher-Yates): the random key order.
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut x = seed | 1;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

/// Raw sled, configured as farmvault configures it.
pub fn raw_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir)
        .cache_capacity(RAW_CACHE)
        .mode(RAW_MODE)
}

/// Opens raw sled, retrying while a just-dropped handle still holds the lock.
pub fn raw_open(dir: &Path) -> sled::Db {
    let start = Instant::now();
    loop {
        match raw_config(dir).open() {
            Ok(db) => return db,
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("opening raw sled at {}: {e}", dir.display()),
        }
    }
}

/// The cache root: `target/tmp/farmvault-bench`.
pub fn cache_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("farmvault-bench")
}

/// A vault and its raw-sled twin holding the same (name, secret) pairs.
pub struct Fixture {
    /// The vault directory.
    pub vault: PathBuf,
    /// The raw sled directory: name -> secret.
    pub raw: PathBuf,
    /// A raw sled holding farmvault's own entry items, blinded key -> sealed
    /// record, copied out of the vault: sled's cost on the bytes farmvault
    /// stores, the part of a get only a record-format change could make cheaper.
    /// Built for the big fixture only (the get and put groups use it).
    pub records: PathBuf,
    /// The key file that opens the vault.
    pub key: KeyFile,
}

impl Fixture {
    /// The unlock of the vault.
    pub fn unlock(&self) -> Unlock {
        Unlock::KeyFile(self.key.clone())
    }

    /// Opens the vault (system clock).
    pub fn open(&self) -> Vault {
        Config::new(&self.vault).open(&self.unlock()).unwrap()
    }

    /// Opens the vault on a driven clock.
    pub fn open_at(&self, clock: &ManualClock) -> Vault {
        Config::new(&self.vault)
            .clock(Arc::new(clock.clone()))
            .open(&self.unlock())
            .unwrap()
    }

    /// Opens the raw sled of the vault's own entry items (`records`).
    pub fn open_records(&self) -> sled::Db {
        raw_open(&self.records)
    }

    /// Opens the raw twin.
    pub fn open_raw(&self) -> sled::Db {
        raw_open(&self.raw)
    }
}

/// The 100,000-entry vault of `SIZES` (interleaved by `size_of`), no TTLs (the `get`, `open`, `ffi` and
/// thread groups), built on first use and cached.
pub fn big() -> Fixture {
    cached("big", |_| None)
}

/// 100,000 64-byte entries that all expire one hour after `T0` (the `purge` group).
pub fn expiring() -> Fixture {
    cached("expiring", |_| Some(Duration::from_secs(3600)))
}

fn cached(label: &str, ttl: impl Fn(usize) -> Option<Duration>) -> Fixture {
    let root = cache_root().join(format!(
        "{label}-v{FIXTURE_VERSION}-f{}",
        farmvault::format::FORMAT_VERSION
    ));
    let fx = Fixture {
        vault: root.join("vault"),
        raw: root.join("raw"),
        records: root.join("records"),
        key: KeyFile::from_bytes(&[0x5a; 32]).unwrap(),
    };
    let done = root.join("complete");
    if done.is_file() && Config::new(&fx.vault).open(&fx.unlock()).is_ok() {
        return fx;
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let started = Instant::now();
    let clock = ManualClock::new(UnixTime(T0));
    let vault = Config::new(&fx.vault)
        .clock(Arc::new(clock))
        .create(&fx.unlock())
        .unwrap();
    let raw = raw_open(&fx.raw);
    let big = label == "big";
    for chunk in (0..ENTRIES).collect::<Vec<_>>().chunks(5_000) {
        let mut batch = Batch::new();
        let mut raw_batch = sled::Batch::default();
        for &i in chunk {
            let size = if big { size_of(i) } else { 64 };
            let (n, s) = (name(i), secret(size, i));
            batch.put(&n, &s, ttl(i));
            raw_batch.insert(n.as_bytes(), s);
        }
        vault.apply(batch).unwrap();
        raw.apply_batch(raw_batch).unwrap();
    }
    raw.flush().unwrap();
    drop((vault, raw));
    if big {
        copy_entry_items(&fx.vault, &fx.records, &root.join("vault-copy"));
    }
    std::fs::write(&done, b"ok").unwrap();
    eprintln!(
        "built the {label} fixture ({ENTRIES} entries) in {:.1} s under {}",
        started.elapsed().as_secs_f64(),
        root.display()
    );
    fx
}

/// Writes the entry items (sealed records under blinded keys) of the closed
/// vault at `vault` into a new raw sled at `to`. Read from a copy (`scratch`):
/// the vault's own files are never opened by anything but farmvault.
fn copy_entry_items(vault: &Path, to: &Path, scratch: &Path) {
    copy_dir(vault, scratch);
    let source = raw_open(&data_dir(scratch));
    let dest = raw_open(to);
    let mut batch = sled::Batch::default();
    for item in source.scan_prefix([farmvault::format::space::ENTRY]) {
        let (k, v) = item.unwrap();
        batch.insert(k, v);
    }
    dest.apply_batch(batch).unwrap();
    dest.flush().unwrap();
    drop(source);
    std::fs::remove_dir_all(scratch).unwrap();
}

/// The keys of the entry records in `records` whose secret is of `size` bytes
/// (told by the record's length: the names are all of one length), in a
/// random (fixed) order.
pub fn shuffled_record_keys(records: &sled::Db, size: usize, seed: u64) -> Vec<sled::IVec> {
    let class = |len: usize| {
        SIZES
            .iter()
            .map(|(s, _)| *s)
            .find(|s| len < s + 512)
            .unwrap()
    };
    let keys: Vec<sled::IVec> = records
        .iter()
        .map(|item| item.unwrap())
        .filter(|(_, v)| class(v.len()) == size)
        .map(|(k, _)| k)
        .collect();
    shuffled(keys.len(), seed)
        .into_iter()
        .map(|i| keys[i].clone())
        .collect()
}

/// Where a vault's live store is (the generation its `CURRENT` names): what
/// raw sled opens when it reads a vault's own files.
pub fn data_dir(vault: &Path) -> PathBuf {
    farmvault::layout::data_dir(vault).unwrap()
}

/// Copies a directory tree (sled's files) to `to`, its directories private as
/// farmvault makes them (a vault directory others can access is refused).
pub fn copy_dir(from: &Path, to: &Path) {
    let mut dirs = std::fs::DirBuilder::new();
    dirs.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
    dirs.create(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Bytes of the files under `dir` (apparent size).
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            dir_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}
