//! Key material is locked in memory while a vault is open (Linux: the
//! process's `VmLck` grows, and `memlock::status` says so).
//!
//! The test runs in a process of its own: the other tests of this binary lock
//! and unlock keys of their own, which would move `VmLck` and `memlock::status`
//! under it.
#![cfg(target_os = "linux")]

use crate::rerun::in_own_process;
use crate::support::Fx;
use farmvault::memlock::{self, Status};
use farmvault::Unlock;

/// The process's locked memory, in KiB (`VmLck` in /proc/self/status).
fn vm_lck_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmLck:"))
        .expect("a VmLck line");
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable {line:?}"))
}

fn cap_ipc_lock() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    cap_eff & (1 << 14) != 0
}

/// Whether this process may lock memory at all: the soft RLIMIT_MEMLOCK above
/// 0, or CAP_IPC_LOCK (bit 14 of CapEff), which ignores the limit.
fn may_lock() -> bool {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Memlock).current;
    cap_ipc_lock() || limit != Some(0)
}

#[test]
fn an_open_vault_locks_its_keys_in_memory() {
    in_own_process(
        module_path!(),
        "an_open_vault_locks_its_keys_in_memory",
        an_open_vault_locks_its_keys_in_memory_alone,
    );
}

/// The test itself, run where no other test holds keys.
fn an_open_vault_locks_its_keys_in_memory_alone() {
    if !may_lock() {
        eprintln!("skipped: RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK");
        return;
    }
    let fx = Fx::empty();
    let key = fx.create_with_key_file();
    let before = vm_lck_kib();
    let unlock = Unlock::key_file_path(&key).unwrap();
    let vault = fx.open_with(&unlock).unwrap();
    let open = vm_lck_kib();
    assert_eq!(memlock::status(), Status::Locked);
    assert!(
        open > before,
        "VmLck {before} KiB before the open, {open} KiB with the vault open"
    );
    assert_eq!(memlock::take_warning(), None, "nothing failed: no warning");
    drop(vault);
    drop(unlock);
    let after = vm_lck_kib();
    assert!(
        after < open,
        "VmLck {open} KiB with the vault open, {after} KiB once it and its key are dropped"
    );
}
