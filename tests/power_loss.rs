//! Power loss: the crash tests' kills (see `tests/crash/`) on a filesystem
//! that, after each kill, forgets everything not yet synced, as a disk does
//! when the power goes (`tests/common/cutfs.rs`: a FUSE filesystem in this
//! process, strict POSIX rules for what survives). A SIGKILL alone keeps the
//! page cache, so it never shows a missing `fsync`; a cut does.
//!
//! Figures: acknowledged writes lost (must be 0) and opens that needed
//! `repair` (must be 0; nothing here stands in for a refused store, so every
//! repair counted is one a user would have had to run). `FARMVAULT_CRASH_KILLS`
//! sets cuts per kind (default 20).
//!
//! Needs FUSE (/dev/fuse and fusermount3); skipped, saying so, where the
//! machine has neither.
#![cfg(target_os = "linux")]

mod crash;
#[path = "common/cutfs.rs"]
mod cutfs;
#[allow(
    dead_code,
    reason = "the harness starts its child with `alone` and needs no `in_own_process`"
)]
#[path = "common/rerun.rs"]
mod rerun;
#[allow(
    dead_code,
    reason = "the harness uses a few of the vault tests' helpers"
)]
#[path = "vault/support.rs"]
mod support;

use crash::check::cfg;
use cutfs::PowerCutFs;
use farmvault::*;

/// The child side. A no-op in a normal test run.
#[test]
fn crash_child() {
    crash::workload::child();
}

/// A mounted cut filesystem, or `None` (with the reason printed) where this
/// machine cannot mount one.
fn mount(dir: &std::path::Path) -> Option<PowerCutFs> {
    if std::env::var(crash::workload::CHILD).is_ok() {
        return None;
    }
    match PowerCutFs::mount(dir) {
        Ok(fs) => Some(fs),
        Err(e) if std::path::Path::new("/dev/fuse").exists() => {
            panic!("/dev/fuse is there but the cut filesystem did not mount: {e}")
        }
        Err(e) => {
            eprintln!("skipped: this machine cannot mount FUSE filesystems (no /dev/fuse): {e}");
            None
        }
    }
}

#[test]
fn power_cut_at_random_points_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(fs) = mount(tmp.path()) else { return };
    let outcome = crash::driver::run("power-cut harness", fs.path(), |_, _, _| fs.cut());
    let Some(outcome) = outcome else { return };
    let counts = fs.counts();
    eprintln!(
        "power-cut harness: {} cuts, {} file syncs, {} directory syncs, {} unsynced bytes dropped",
        counts.cuts, counts.file_syncs, counts.dir_syncs, counts.bytes_lost
    );
    assert!(
        outcome.refusals.is_empty(),
        "the vault could not be recovered after {} cuts: {:#?}",
        outcome.refusals.len(),
        outcome.refusals
    );
    // A cut must have taken something away each time, or it tested nothing.
    assert!(
        counts.bytes_lost > 0,
        "no cut dropped an unsynced byte: {counts:?}"
    );
    for (kind, t) in &outcome.tallies {
        assert_eq!(
            t.repaired, 0,
            "{kind}: opens after a power cut needed `repair` (FARMVAULT_CRASH_SEED={}): {t:?}",
            outcome.seed
        );
    }
}

/// A vault made and acknowledged survives a cut right after: `create` syncs
/// the directories it made entries in (the vault's parent, which it also
/// creates), and writing a new key file syncs the key file's folder.
#[test]
fn a_cut_right_after_create_keeps_the_vault_and_its_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(fs) = mount(tmp.path()) else { return };
    let key = fs.path().join("farm.key");
    KeyFile::generate().unwrap().write_new(&key).unwrap();
    let path = fs.path().join("studio").join("vault");
    let v = cfg(&path)
        .create(&Unlock::key_file_path(&key).unwrap())
        .unwrap();
    v.put("k", b"v", &PutOptions::new()).unwrap();
    drop(v);
    fs.cut();
    let v = cfg(&path)
        .open(&Unlock::key_file_path(&key).unwrap())
        .unwrap();
    assert_eq!(v.get("k").unwrap().credential.secret(), b"v");
}
