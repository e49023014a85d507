//! farmvault: an embedded, encrypted, on-disk credential vault with per-entry TTLs,
//! for the credentials render-farm jobs need (production-tracking script keys and
//! session tokens).
//!
//! ```no_run
//! use farmvault::{Credential, PutOptions, ScriptKey, Unlock};
//! use std::time::Duration;
//!
//! let unlock = Unlock::key_file_path("/secure/farm.key")?;
//! let vault = farmvault::open("/secure/vault", &unlock)?;
//! let key = Credential::ScriptKey(ScriptKey {
//!     host: "https://mysite.shotgrid.autodesk.com".into(),
//!     script_name: "render_farm".into(),
//!     api_key: "0123456789abcdef".into(),
//!     http_proxy: None,
//! });
//! vault.put_credential("shotgun/render_farm", &key, &PutOptions::new().ttl(Duration::from_secs(8 * 3600)))?;
//! match vault.get("shotgun/render_farm") {
//!     Ok(entry) => println!("expires {:?}", entry.meta.expires),
//!     Err(farmvault::Error::Expired { .. }) => println!("refresh it"),
//!     Err(e) => return Err(e),
//! }
//! # Ok::<(), farmvault::Error>(())
//! ```
#![deny(unsafe_code, missing_docs)]

// The library's layers, from the bottom: values and errors (`error`, `clock`,
// `secret`, `credential`), primitives and the byte layout (`crypto`, `format`),
// the key hierarchy (`keys`), the disk (`storage`), the vault itself (`vault`),
// the agent that serves a vault to other processes (`agent`: its client is how
// a `Vault` reaches a vault an agent holds), and what is built on a vault
// (`grant`, `sgtk`), with the C ABI (`ffi`) on top.
// docs/DESIGN.md draws them. No module imports from one above it.

mod clock;
mod credential;
mod error;
mod keys;
pub mod memlock;
#[allow(unsafe_code)]
mod os;
mod secret;
mod storage;
mod vault;

// The primitives and the byte layout are internals. The `internals` feature makes
// them public for farmvault's own fuzzers and benches only: no promise is made
// about them, and no other crate should turn it on.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod crypto;
#[cfg(not(feature = "internals"))]
mod crypto;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod format;
#[cfg(not(feature = "internals"))]
mod format;

/// Where a vault's files are (the live generation directory); an internal.
#[cfg(feature = "internals")]
pub use storage::layout;
pub mod agent;
pub mod audit;
pub mod grant;
pub mod sgtk;

#[allow(unsafe_code)]
pub mod ffi;

pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use credential::{
    check_host, is_control_or_bidi, Credential, Field, FlowToken, Kind, LoginPassword, ScriptKey,
    SessionToken, TankContext,
};
pub use crypto::{KdfParams, POLY1305_BACKEND};
pub use error::{Error, Result};
pub use format::{GrantPolicy, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
pub use keys::{KeyFile, Unlock};
pub use secret::{SecretBytes, SecretString};
pub use storage::backup::RecoveryReport;
pub use storage::netfs::network_filesystem;
pub use storage::perms;
pub use vault::{
    create, open, validate_name, Access, Batch, CompactReport, Config, Entry, EntryMeta,
    PutOptions, RotateOptions, SlotInfo, Vault, CLOCK_BEHIND_TOLERANCE, DEFAULT_LOCK_TIMEOUT,
    MAX_NAME_LEN, MAX_RESTORE_LEN, MAX_SECRET_LEN, MAX_TTL, PURGE_COMPACT_MIN_REMOVED,
};
