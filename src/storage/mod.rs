//! Everything below the vault's logic that touches the disk.
//!
//! - `fsio`: the one place that writes files (private, durable, atomic);
//! - `layout`: the generation directory that holds the live store, and the
//!   vault's lock;
//! - `holder`: the process the lock file names, for a "vault in use" error;
//! - `netfs`: network filesystems, refused by default;
//! - `perms`: the owner-only checks on files and directories that hold keys;
//! - `commit`: the one way a change reaches sled and the journal, and what
//!   makes it durable;
//! - `replay`: the journal's commits that sled lacks after an abrupt stop,
//!   applied at the next unlock;
//! - `rewrite`: the store copied into a fresh generation (key changes,
//!   compaction);
//! - `store`: one sled database per vault directory per process, and the
//!   cross-process lock wait;
//! - `backup`: the snapshot and journal beside sled that a damaged store is
//!   rebuilt from;
//! - `sled_guard`: the boundary that keeps sled's panics from reaching a caller.

pub(crate) mod backup;
pub(crate) mod commit;
pub(crate) mod fsio;
pub mod holder;
pub mod layout;
pub mod netfs;
pub mod perms;
pub(crate) mod replay;
pub(crate) mod rewrite;
pub(crate) mod sled_guard;
pub(crate) mod store;

pub(crate) use commit::Changes;
pub(crate) use store::Store;
