//! The Toolkit's (tk-core) credential formats, implemented once for the CLI, the C ABI
//! and Python.
//!
//! Three things live here, each as docs/TOOLKIT.md
//! describes it field by field:
//!
//! - **`serialize_user` payloads**, read by [`parse_serialized_user`] and written by
//!   [`to_serialized_user_json`] and [`to_serialized_user_pickle`]. A payload is JSON when
//!   its first character is `{` and a protocol-0 pickle otherwise, exactly as tk-core
//!   decides. The pickle is never run: a small interpreter accepts only the opcodes a
//!   dict of strings and `None` needs, under fixed size limits.
//! - **`TANK_CONTEXT`**, whose `_current_user` key carries a serialized user
//!   ([`parse_tank_context`]).
//! - **tk-core's plaintext session cache** (`<root>/<site>/authentication.yml`), read by
//!   [`read_session_cache`] and cleaned by [`remove_tokens_from_session_cache`].
//!
//! # `_payload_encoding`
//!
//! tk-core's `pickle.dumps` turns the pickle's bytes into text with UTF-8. Protocol 0
//! writes characters U+0080..U+00FF as raw single bytes, which are usually not valid
//! UTF-8; tk-core then adds `"_payload_encoding": "ISO-8859-1"` to the top-level dict,
//! pickles again and decodes the bytes as Latin-1. Its `loads` does the reverse: it
//! encodes the text with UTF-8, unpickles, and when the result carries
//! `_payload_encoding` it encodes the text again with that encoding and unpickles once
//! more. This module does the same on both sides, so text made by tk-core reads back
//! to the same strings and text written here is what tk-core writes:
//!
//! - reading: the text is turned into bytes with UTF-8, or with Latin-1 when the
//!   top-level dict says `ISO-8859-1` (a character above U+00FF is then an error, as in
//!   Python); the key is never taken as a user field.
//! - writing: `_payload_encoding` is added only when the pickle's bytes are not valid
//!   UTF-8, which is tk-core's test. A pickle whose raw bytes happen to form valid UTF-8
//!   (`"Ã©"` gives the bytes `C3 A9`) is returned UTF-8-decoded, as tk-core returns it.
//!
//! # Session cache hosts
//!
//! A site folder is named after its host (netloc, lower-cased, port dropped,
//! `.shotgunstudio.com` / `.shotgrid.autodesk.com` removed). tk-core's global
//! `<root>/authentication.yml` keeps `current_host` and `recent_hosts`, so
//! [`read_session_cache`] maps each folder back to the first of those hosts whose folder
//! name it is. With no such host, the folder name is taken as the host when it contains
//! a dot (`https://<site>`: a self-hosted site or a pre-v0.18 folder), and as an
//! Autodesk-hosted site otherwise (`https://<site>.shotgrid.autodesk.com`).
//!
//! The files: `user` (type names, limits, the user dict), `serialized` (the JSON or
//! pickle choice, JSON read and written), `context` (`TANK_CONTEXT`), `pickle_read`
//! and `pickle_write`, `home` (`SHOTGUN_HOME`), `session_cache` (with its `yaml`
//! emitter), and `import` (the session cache into a vault).

mod context;
mod home;
mod import;
mod pickle_read;
mod pickle_write;
mod serialized;
mod session_cache;
mod user;
mod yaml;

#[cfg(test)]
mod tests;

pub use context::parse_tank_context;
pub use home::default_shotgun_home;
pub use import::{
    entry_name, import_session_cache, ImportOptions, ImportReport, RemovedTokens,
    DEFAULT_SESSION_TTL,
};
pub use pickle_write::to_serialized_user_pickle;
pub use serialized::{parse_serialized_user, to_serialized_user_json};
pub use session_cache::{
    read_session_cache, remove_tokens_from_session_cache, session_cache_file,
    session_cache_site_name, CachedSession,
};
pub use user::{toolkit_user_type, MAX_CACHE_FILE_LEN, MAX_INPUT_LEN};
