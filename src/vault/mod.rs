//! The vault: a directory holding one sled store, opened with a passphrase or key
//! file, whose entries are sealed credentials with TTLs.
//!
//! - `config`: `Config`, `open`, `create`, and the unlock of a header;
//! - `api`: `Vault`, the handle callers hold, with every public operation;
//! - `handle`: the direct handle (this process has the store open) and the
//!   commit path every write takes;
//! - `types`: the values the API takes and returns;
//! - `entries`: put, get, list, renew, delete, purge, batches;
//! - `keys`: keyslots, passphrase and key-file changes, rotation, grant policy;
//! - `side`: sealed records other than entries (issued grants);
//! - `time_seen`: the latest time the vault has seen, a floor under the system
//!   clock for expiry;
//! - `recovery`: backup, restore and repair;
//! - `compact`: the store rewritten with its live items only.
//!
//! Issuing and listing grants (`Vault::grant`, `Vault::list_grants`) live with the
//! rest of the grant code in `crate::grant`.

mod api;
mod compact;
mod config;
mod entries;
mod handle;
mod keys;
mod recovery;
mod side;
mod time_seen;
mod types;

pub use api::{Access, Vault};
pub use compact::{CompactReport, PURGE_COMPACT_MIN_REMOVED};
pub use config::{create, open, Config, DEFAULT_LOCK_TIMEOUT};
pub(crate) use entries::validate_lookup_name;
pub use entries::{validate_name, MAX_NAME_LEN, MAX_SECRET_LEN, MAX_TTL};
pub(crate) use handle::Direct;
pub use recovery::MAX_RESTORE_LEN;
pub use time_seen::CLOCK_BEHIND_TOLERANCE;
pub use types::{Batch, Entry, EntryMeta, PutOptions, RotateOptions, SlotInfo};
