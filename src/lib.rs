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

mod backup;
pub mod clock;
pub mod credential;
pub mod crypto;
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
pub mod format;
pub mod grant;
mod keyslot;
pub mod memlock;
#[doc(hidden)]
pub mod perms;
mod recovery;
pub mod secret;
mod session_import;
pub mod sgtk;
mod store;
mod vault;

pub use backup::RecoveryReport;
pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use credential::{Credential, Field, Kind, LoginPassword, ScriptKey, SessionToken};
pub use crypto::KdfParams;
pub use error::{Error, Result};
pub use format::GrantPolicy;
pub use keyslot::{KeyFile, Unlock};
pub use secret::{SecretBytes, SecretString};
pub use vault::{
    create, open, validate_name, Batch, Config, Entry, EntryMeta, PutOptions, RotateOptions,
    SlotInfo, Vault, DEFAULT_LOCK_TIMEOUT, MAX_NAME_LEN, MAX_SECRET_LEN, MAX_TTL,
};
