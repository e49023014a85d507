//! The Toolkit's (tk-core) credential formats, implemented once for the CLI, the C ABI
//! and Python. docs/TOOLKIT.md describes each field by field.
//!
//! - **What tk-core serializes**: users (`serialize_user`) and contexts
//!   (`Context.serialize`, the `TANK_CONTEXT` of launched applications), each as JSON
//!   or as tk-core's default protocol-0 pickle. [`parse`] reads either and tells them
//!   apart by structure; [`parse_serialized_user`] and [`parse_tank_context`] read one
//!   or the other; [`export`], [`to_serialized_user_json`] and
//!   [`to_serialized_user_pickle`] write them back byte for byte. A pickle is never
//!   run: a small interpreter accepts only the opcodes of dicts, lists, strings,
//!   integers and `None`, under fixed size limits.
//! - **tk-core's plaintext session cache** (`<root>/<site>/authentication.yml`), read
//!   by [`read_session_cache`], cleaned by [`remove_tokens_from_session_cache`], and
//!   moved into a vault by [`import_session_cache`]; the tokens tk-core renewed in
//!   a job's private cache are found by [`renewed_session`] and written back by
//!   [`bring_home`].
//! - **tk-core 0.24's Flow OAuth tokens** (`<root>/adsk_flow_tokens.json`), read by
//!   [`read_flow_tokens`], cleaned by [`remove_flow_tokens`], written by
//!   [`to_flow_tokens_json`], and moved into a vault by [`import_flow_tokens`].
//!
//! # `_payload_encoding`
//!
//! tk-core's `pickle.dumps` turns the pickle's bytes into text with UTF-8. Protocol 0
//! writes characters U+0080..U+00FF as raw single bytes, which are usually not valid
//! UTF-8; tk-core then adds `"_payload_encoding": "ISO-8859-1"` to the top-level dict,
//! pickles again and decodes the bytes as Latin-1. Its `loads` does the reverse: it
//! encodes a text with UTF-8, unpickles, and when the result carries
//! `_payload_encoding` it encodes the text again with that encoding and unpickles once
//! more; bytes it unpickles as they are. This module does the same on both sides
//! (`input` says how bytes handed in are taken as tk-core's text or bytes):
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
//! The files: `user` (type names, limits, the value model, the user dict), `input`
//! (bytes in: text or bytes, JSON or pickle, the dict's shape), `pickle_read` and
//! `pickle_write`, `json` (Python's JSON, and members by byte span), `serialized`
//! (users), `context` (`TANK_CONTEXT`), `payload` (either, and every kind back out),
//! `home` (`SHOTGUN_HOME`), `session_cache` (with its `yaml` emitter) and `import`,
//! `flow` and `flow_import`; `round_trip` checks the pickle writer against the reader
//! for farmvault's tests and fuzzers.

mod context;
mod flow;
mod flow_import;
mod home;
mod import;
mod input;
mod json;
mod payload;
mod pickle_read;
mod pickle_write;
mod renewed;
#[cfg(any(test, feature = "internals"))]
mod round_trip;
mod serialized;
mod session_cache;
mod user;
mod yaml;

#[cfg(test)]
mod tests;

pub use context::parse_tank_context;
pub use flow::{
    flow_token_expiry, flow_tokens_file, read_flow_tokens, remove_flow_tokens, to_flow_tokens_json,
    FlowProfile, DEFAULT_FLOW_APP_ID, FLOW_TOKENS_FILE,
};
pub use flow_import::{import_flow_tokens, FlowImportOptions, FlowImportReport, SkippedFlowToken};
pub use home::default_shotgun_home;
pub use import::{
    entry_name, import_session_cache, ImportOptions, ImportReport, RemovedTokens,
    DEFAULT_SESSION_TTL,
};
pub use payload::{export, parse};
pub use pickle_write::to_serialized_user_pickle;
pub use renewed::{bring_home, renewed_session};
#[cfg(any(test, feature = "internals"))]
#[doc(hidden)]
pub use round_trip::check_pickle_round_trip;
pub use serialized::{parse_serialized_user, to_serialized_user_json};
pub use session_cache::{
    read_session_cache, remove_tokens_from_session_cache, session_cache_file,
    session_cache_site_name, CachedSession, SESSION_METADATA_MOVED,
};
pub use user::{toolkit_user_type, MAX_CACHE_FILE_LEN, MAX_INPUT_LEN};
