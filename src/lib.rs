//! farmvault: an embedded, encrypted, on-disk credential vault with per-entry TTLs.
//!
//! See `README.md` for a quick start and `../shared/DESIGN.md` for the design.
#![deny(unsafe_code, missing_docs)]

pub mod credential;
pub mod error;
pub mod secret;
pub mod sgtk;

pub use credential::{Credential, Field, Kind, LoginPassword, ScriptKey, SessionToken};
pub use error::{Error, Result};
pub use secret::{SecretBytes, SecretString};
