//! The vault through the public Rust API (`farmvault::Vault`, `Config`, `Unlock`):
//! what it stores, what it refuses, what it leaves on disk, and what survives
//! other threads, other processes, crashes and damage.

/// Every file under a folder.
#[path = "../common/files.rs"]
mod files;
/// This binary run again on one test, in a process of its own.
#[path = "../common/rerun.rs"]
#[cfg_attr(
    not(target_os = "linux"),
    allow(
        dead_code,
        reason = "only memory_lock, on Linux, runs in a process of its own"
    )
)]
mod rerun;
/// Fixture vaults on a driven clock, sample credentials, raw sled access.
mod support;

/// Bad names, sizes, TTLs and fields are refused by every call.
mod args;
/// Entries of every kind, listing, delete, renew, overwrite, batches.
mod entries;
/// Several handles on one vault in one process.
mod handles;
/// Passphrases, key-file slots, data-key rotation.
mod keys;
/// Random operations against a model of the expiry rules.
mod model;
/// Other processes: waiting for the lock, SIGKILL after a write.
mod process;
/// Durable writes sled never wrote are replayed from the journal.
mod replay;
/// One handle shared by threads.
mod threads;
/// The latest time the vault has seen, a floor under the system clock.
mod time_seen;
/// Expiry on a driven clock, and purge.
mod ttl;
/// Vaults and backups written by farmvault 0.1.0 open and are upgraded.
mod upgrade;

/// The backup every vault keeps, repair, backup and restore.
mod backup;
/// Damaged and tampered files are refused, entry by entry where they can be.
mod corruption;
/// A vault directory another user could read or replace is refused.
mod dir_perms;
/// A key file that others can read, or a link to one, is refused.
mod key_file_perms;
/// Key material is locked in memory.
mod memory_lock;
/// No secret in errors, `Debug` output or the C ABI's messages.
mod no_secret_leaks;
/// After a key change no file holds the old keyslot or data key; compaction.
mod old_keys_gone;
/// No name or secret reaches the disk in the clear; the directory is private.
mod privacy;
/// The work an open spends before authentication is bounded.
mod unlock_work;

/// Every flipped byte of the files reads back as the original or an error.
mod tamper_sweep;
