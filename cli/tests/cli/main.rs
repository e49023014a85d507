//! The command line's integration tests, one test binary: every module runs
//! the built `farmvault` (`CARGO_BIN_EXE_farmvault`) in a private temporary
//! directory of its own, so the tests share no files, working directory or
//! environment variables and run in parallel.

mod common;

mod agent;
mod audit;
mod clock;
mod conventions;
mod dir_perms;
mod entries;
mod exec;
mod full_disk;
mod grant;
mod grant_issuer;
mod grant_policy;
mod grant_revoke;
mod grant_state_dir;
mod hardening;
mod key_file_perms;
mod keys;
mod memory_lock;
mod network_fs;
mod node_agent;
mod pty;
mod recovery;
mod sgtk;
mod snapshots;
mod sync_errors;
mod upgrade;
