//! The Toolkit (tk-core) conversions: `farmvault::sgtk`.

/// This binary run again on one test, in a process of its own.
#[path = "../common/rerun.rs"]
mod rerun;

/// TANK_CONTEXT in both forms, stored and exported byte for byte.
mod context;
/// tk-core 0.24's Flow token file, imported, edited in place, exported.
mod flow;
/// Serialized users and the session cache, byte for byte.
mod formats;
/// Where tk-core's cache lives (`SHOTGUN_HOME`), in a process of its own.
mod home;
