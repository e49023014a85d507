//! The crash tests' machinery, shared by the SIGKILL harness
//! (`tests/crash_harness.rs`) and the power-cut one (`tests/power_loss.rs`).
//!
//! A workload runs in a child process and is killed at a random moment, for
//! each kind of write: single puts, deletes, batches, renew, purge, passphrase
//! change, key-file add/remove, data-key rotation and compaction (the last
//! four rewrite the store into a new generation).
//!
//! The child (the test binary run again on its single test `crash_child`, a
//! no-op unless `FARMVAULT_CRASH_CHILD` is set) opens the vault, prints
//! `READY`, then loops over operations of its kind. Before each it prints
//! `BEGIN <op>`, after it returns `ACK`, each line flushed. The parent kills it
//! at a random delay (mostly after `READY`, sometimes while it is still
//! opening), reads everything it printed, and reopens the vault. It then checks:
//!
//! - the vault opens with the old or the new key, never neither (and an
//!   acknowledged passphrase change or key-file removal shuts the old key out);
//! - the entries (names, values, expiries) are exactly the model after every
//!   acknowledged op, or that plus the one op in flight when the kill came:
//!   never a mix (a batch, a purge or a rotation is all-or-nothing);
//! - no entry is damaged or reads as `Tampered`.
//!
//! The model then takes whichever of the two states was found, and the next
//! child goes on from there. `FARMVAULT_CRASH_KILLS` sets kills per kind
//! (default 20); `FARMVAULT_CRASH_SEED` fixes the random seed (printed on
//! failure). A vault that will not open after a kill is repaired from the
//! backup the vault keeps of itself (`Config::repair`), counted, and checked
//! like any other: nothing acknowledged may be missing.

pub mod check;
pub mod driver;
pub mod model;
pub mod workload;
