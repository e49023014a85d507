//! Crash harness: each kind of write killed with SIGKILL at random moments
//! (the machinery, and what is checked after each kill, is `tests/crash/`).
//! A SIGKILL keeps the page cache: what the process wrote reaches the disk
//! whether or not it was synced; `tests/power_loss.rs` takes that away too.
//!
//! Since sled rarely refuses to open after a kill, every fourth kill also
//! deletes sled's data file before the check, so the backup as a crash left it
//! is what the vault is rebuilt from ("forced" repairs).
//!
//! The harness is a test binary of its own, not a module of `tests/vault/`: its
//! kill delays are sized for a child that has the machine to itself. The vault
//! tests running beside it in one binary slow the child down enough that a slow
//! kind (a rotation) may never be acknowledged before its kill, and the check
//! that every kind was fails.
#![cfg(unix)]

mod crash;
/// This binary run again on the child test.
#[allow(
    dead_code,
    reason = "the harness starts its child with `alone` and needs no `in_own_process`"
)]
#[path = "common/rerun.rs"]
mod rerun;
/// The vault tests' fixture (cheap KDF, `PW`, `T0`) and their child-line protocol.
#[allow(
    dead_code,
    reason = "the harness uses a few of the vault tests' helpers"
)]
#[path = "vault/support.rs"]
mod support;

use crate::support::data_dir;

/// The child side. A no-op in a normal test run.
#[test]
fn crash_child() {
    crash::workload::child();
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let outcome = crash::driver::run("crash harness", tmp.path(), |round, path, tally| {
        if round % 4 == 3 && data_dir(path).join("db").exists() {
            // Stand in for a store sled will not open: the backup must do.
            std::fs::remove_file(data_dir(path).join("db")).unwrap();
            tally.forced_repairs += 1;
        }
    });
    let Some(outcome) = outcome else { return };
    assert!(
        outcome.refusals.is_empty(),
        "the vault could not be recovered after {} kills: {:#?}",
        outcome.refusals.len(),
        outcome.refusals
    );
    // An abrupt stop heals at the next open: no store needs `repair`.
    for (kind, t) in &outcome.tallies {
        assert_eq!(
            t.sled_refused, 0,
            "{kind}: opens after a kill needed `repair` (FARMVAULT_CRASH_SEED={}): {t:?}",
            outcome.seed
        );
    }
}
