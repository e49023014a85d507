//! Bytes on disk per entry, farmvault against raw sled 0.34 holding the same
//! (name, secret) pairs (the disk-size table of docs/PERFORMANCE.md).
//!
//! ```text
//! cargo run --release --example disk_size            # 100,000 entries, 64 B secrets
//! cargo run --release --example disk_size -- 10000 1024
//! ```
//!
//! The last rows purge nine entries in ten of a vault (the purge compacts by
//! itself) and compare what is left with a fresh vault of the survivors.
//!
//! Raw sled is opened with farmvault's sled settings (cache, mode) and with
//! sled's defaults, so the figure says what the format costs and what the
//! settings cost. Both sides load in batches of 5,000, flush, close, and are
//! then reopened and closed once (sled compacts and snapshots on open), before
//! the files are measured: apparent size (the sum of file lengths) and allocated
//! size (blocks, which is what `du` reports).

use farmvault::{Batch, Clock, Config, KeyFile, ManualClock, SystemClock, UnixTime, Unlock};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let entries: usize = args.next().map_or(100_000, |a| a.parse().expect("entries"));
    let size: usize = args.next().map_or(64, |a| a.parse().expect("secret bytes"));
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = (0..entries)
        .map(|i| format!("shotgun/s{size}/render_farm/job-{i:06}"))
        .collect();
    let secret = |i: usize| -> Vec<u8> {
        (0..size)
            .map(|j| (i.wrapping_mul(31) ^ j.wrapping_mul(7)) as u8)
            .collect()
    };
    let name_bytes: usize = names.iter().map(String::len).sum();
    let payload = (name_bytes + entries * size) as f64;

    println!(
        "{entries} entries, names {:.1} B on average, secrets {size} B: payload {:.1} B/entry",
        name_bytes as f64 / entries as f64,
        payload / entries as f64
    );
    println!(
        "{:<38} {:>12} {:>10} {:>12} {:>10}",
        "store", "apparent B", "B/entry", "allocated B", "B/entry"
    );
    let report = |label: &str, path: &Path, floor: Option<u64>| -> u64 {
        let (apparent, allocated) = sizes(path);
        let ratio = floor.map_or(String::new(), |f| {
            format!("  ({:.2}x raw sled)", apparent as f64 / f as f64)
        });
        println!(
            "{label:<38} {apparent:>12} {:>10.1} {allocated:>12} {:>10.1}{ratio}",
            apparent as f64 / entries as f64,
            allocated as f64 / entries as f64
        );
        apparent
    };

    let raw_same = dir.path().join("raw-same-settings");
    load_raw(&raw_same, &names, &secret, true);
    let floor = report("raw sled, farmvault's settings", &raw_same, None);
    let raw_default = dir.path().join("raw-default");
    load_raw(&raw_default, &names, &secret, false);
    report("raw sled, sled's defaults", &raw_default, None);

    for (label, ttl) in [
        ("farmvault, no TTL", None),
        (
            "farmvault, TTL (+ expiry index)",
            Some(Duration::from_secs(8 * 3600)),
        ),
    ] {
        let path = dir
            .path()
            .join(label.replace([' ', ',', '(', ')', '+'], "_"));
        let unlock = Unlock::KeyFile(KeyFile::from_bytes(&[1; 32]).expect("key"));
        let vault = Config::new(&path).create(&unlock).expect("create");
        for chunk in (0..entries).collect::<Vec<_>>().chunks(5_000) {
            let mut batch = Batch::new();
            for &i in chunk {
                batch.put(&names[i], &secret(i), ttl);
            }
            vault.apply(batch).expect("batch");
        }
        drop(vault);
        drop(Config::new(&path).open(&unlock).expect("reopen"));
        report(label, &path, Some(floor));
    }

    // A purge of nine entries in ten (which compacts by itself), beside a
    // fresh vault holding only the survivors.
    let unlock = Unlock::KeyFile(KeyFile::from_bytes(&[2; 32]).expect("key"));
    let survives = |i: usize| i % 10 == 0;
    let three_hours_ago = UnixTime(SystemClock.now().secs() - 3 * 3600);
    let purged = dir.path().join("purged");
    let vault = Config::new(&purged)
        .clock(Arc::new(ManualClock::new(three_hours_ago)))
        .create(&unlock)
        .expect("create");
    for chunk in (0..entries).collect::<Vec<_>>().chunks(5_000) {
        let mut batch = Batch::new();
        for &i in chunk {
            let ttl = (!survives(i)).then(|| Duration::from_secs(3600));
            batch.put(&names[i], &secret(i), ttl);
        }
        vault.apply(batch).expect("batch");
    }
    drop(vault);
    let before = report("before a purge of 9 in 10", &purged, Some(floor));
    let vault = Config::new(&purged).open(&unlock).expect("open");
    let removed = vault.purge_expired().expect("purge");
    drop(vault);
    let after = report(
        &format!("after it ({removed} purged)"),
        &purged,
        Some(floor),
    );
    let fresh = dir.path().join("fresh-survivors");
    let vault = Config::new(&fresh).create(&unlock).expect("create");
    let mut batch = Batch::new();
    for i in (0..entries).filter(|&i| survives(i)) {
        batch.put(&names[i], &secret(i), None);
    }
    vault.apply(batch).expect("batch");
    drop(vault);
    let fresh_bytes = report("a fresh vault of the survivors", &fresh, Some(floor));
    println!(
        "purge + compact: {before} -> {after} bytes, {:.2}x a fresh vault of the survivors",
        after as f64 / fresh_bytes as f64
    );
}

fn load_raw(path: &Path, names: &[String], secret: &dyn Fn(usize) -> Vec<u8>, same: bool) {
    let config = || {
        let c = sled::Config::new().path(path);
        if same {
            c.cache_capacity(64 * 1024 * 1024)
                .mode(sled::Mode::LowSpace)
        } else {
            c
        }
    };
    let db = config().open().expect("raw sled");
    for chunk in (0..names.len()).collect::<Vec<_>>().chunks(5_000) {
        let mut batch = sled::Batch::default();
        for &i in chunk {
            batch.insert(names[i].as_bytes(), secret(i));
        }
        db.apply_batch(batch).expect("raw batch");
    }
    db.flush().expect("flush");
    drop(db);
    drop(reopen(config));
}

/// sled may still hold its lock for a moment after a close.
fn reopen(config: impl Fn() -> sled::Config) -> sled::Db {
    for _ in 0..400 {
        if let Ok(db) = config().open() {
            return db;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    config().open().expect("reopen raw sled")
}

/// (apparent bytes, allocated bytes) of the files under `dir`.
fn sizes(dir: &Path) -> (u64, u64) {
    let mut apparent = 0;
    let mut allocated = 0;
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            let (a, b) = sizes(&entry.path());
            apparent += a;
            allocated += b;
        } else {
            apparent += meta.len();
            allocated += blocks(&meta);
        }
    }
    (apparent, allocated)
}

#[cfg(unix)]
fn blocks(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn blocks(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}
