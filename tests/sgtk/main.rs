//! The Toolkit (tk-core) conversions: `farmvault::sgtk`.

/// This binary run again on one test, in a process of its own.
#[path = "../common/rerun.rs"]
mod rerun;

/// Serialized users, TANK_CONTEXT and the session cache, byte for byte.
mod formats;
/// Where tk-core's cache lives (`SHOTGUN_HOME`), in a process of its own.
mod home;
