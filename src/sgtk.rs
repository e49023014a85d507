//! The Toolkit's (tk-core) credential formats, implemented once for the CLI, the C ABI
//! and Python.
//!
//! Three things live here, each following `shared/sgtk-formats.md` and tk-core's own code
//! (`python/tank/authentication/user_impl.py`, `session_cache.py`, `util/pickle.py`):
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

pub use crate::session_import::{
    entry_name, import_session_cache, ImportOptions, ImportReport, RemovedTokens,
    DEFAULT_SESSION_TTL,
};

use crate::credential::{Credential, Kind, ScriptKey, SessionToken};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// Longest serialized user or `TANK_CONTEXT` accepted, in bytes (1 MiB); real ones are
/// a few hundred bytes.
pub const MAX_INPUT_LEN: usize = 1 << 20;

/// Largest session-cache YAML file read, in bytes (1 MiB).
pub const MAX_CACHE_FILE_LEN: u64 = 1 << 20;

/// tk-core's type name for a session-token user.
const SESSION_USER: &str = "SessionUser";
/// tk-core's type name for a script-key user.
const SCRIPT_USER: &str = "ScriptUser";
/// The key tk-core adds to a pickle's top-level dict when the pickle is not UTF-8.
const PAYLOAD_ENCODING_KEY: &str = "_payload_encoding";
/// The only encoding tk-core writes under that key.
const PAYLOAD_ENCODING_LATIN1: &str = "ISO-8859-1";
/// File name of tk-core's session caches (per site and global).
const CACHE_FILE_NAME: &str = "authentication.yml";

/// The tk-core user type (`"SessionUser"` or `"ScriptUser"`) for a credential kind, or
/// `None` for the kinds tk-core has no user type for (login/password, opaque).
pub fn toolkit_user_type(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::SessionToken => Some(SESSION_USER),
        Kind::ScriptKey => Some(SCRIPT_USER),
        Kind::LoginPassword | Kind::Opaque => None,
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

fn user_err(msg: impl std::fmt::Display) -> Error {
    invalid(format!("serialized user: {msg}"))
}

// ---------------------------------------------------------------------------------------
// The user dict, whichever format it came from
// ---------------------------------------------------------------------------------------

/// A value of a deserialized user dict. Strings are kept in self-wiping buffers because
/// any of them may be a key, token or proxy password.
#[derive(Debug)]
enum Val {
    Null,
    Str(SecretString),
    Dict(Dict),
    /// A JSON value of a type tk-core never writes (number, boolean, array), by type name.
    Other(&'static str),
}

impl Val {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Str(_) => "a string",
            Val::Dict(_) => "a dict",
            Val::Other(name) => name,
        }
    }
}

#[derive(Debug, Default)]
struct Dict {
    /// Nesting depth below this dict (0 when it holds no dict), to bound nesting.
    depth: u8,
    map: BTreeMap<String, Val>,
}

/// Turns a deserialized `{"type": ..., "data": {...}}` into a credential, with tk-core's
/// `deserialize_user` / `from_dict` rules.
fn user_from_dict(mut top: Dict) -> Result<Credential> {
    let ty = match top.map.get("type") {
        Some(Val::Str(s)) => s.expose().to_owned(),
        Some(other) => {
            return Err(user_err(format!(
                "\"type\" must be a string, found {}; expected SessionUser or ScriptUser",
                other.type_name()
            )))
        }
        None => {
            return Err(user_err(
                "no \"type\" key; expected SessionUser or ScriptUser",
            ))
        }
    };
    if ty != SESSION_USER && ty != SCRIPT_USER {
        // The type is not a secret, but it is caller-controlled: quote it and keep it short.
        let shown: String = ty.chars().take(64).collect();
        return Err(user_err(format!(
            "unknown type {shown:?}; expected SessionUser or ScriptUser"
        )));
    }
    let mut data = match top.map.remove("data") {
        Some(Val::Dict(d)) => d.map,
        Some(other) => {
            return Err(user_err(format!(
                "\"data\" must be a dict, found {}",
                other.type_name()
            )))
        }
        None => return Err(user_err(format!("{ty} has no \"data\" key"))),
    };
    let mut field = |key: &str| -> Result<Option<SecretString>> {
        match data.remove(key) {
            None | Some(Val::Null) => Ok(None),
            Some(Val::Str(s)) => Ok(Some(s)),
            Some(other) => Err(user_err(format!(
                "{ty} field \"{key}\" must be a string or null, found {}",
                other.type_name()
            ))),
        }
    };
    let http_proxy = field("http_proxy")?;
    let host = required(field("host")?, &ty, "host")?;
    if ty == SESSION_USER {
        let login = required(field("login")?, &ty, "login")?;
        let session_token = required(field("session_token")?, &ty, "session_token")?;
        // tk-core keeps session_metadata whenever it is not None, even when empty.
        let session_metadata = field("session_metadata")?;
        Ok(Credential::SessionToken(SessionToken {
            host: host.expose().to_owned(),
            login: login.expose().to_owned(),
            session_token,
            http_proxy,
            session_metadata,
        }))
    } else {
        let api_script = required(field("api_script")?, &ty, "api_script")?;
        let api_key = required(field("api_key")?, &ty, "api_key")?;
        Ok(Credential::ScriptKey(ScriptKey {
            host: host.expose().to_owned(),
            script_name: api_script.expose().to_owned(),
            api_key,
            http_proxy,
        }))
    }
}

fn required(value: Option<SecretString>, ty: &str, key: &str) -> Result<SecretString> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(user_err(format!(
            "{ty} needs a non-empty \"{key}\" (missing, null or empty; tk-core raises \
             IncompleteCredentials)"
        ))),
    }
}

/// The tk-core type and the `data` fields of a credential, in tk-core's key order.
type UserFields<'a> = (&'static str, Vec<(&'static str, Option<&'a str>)>);

fn user_fields(cred: &Credential) -> Result<UserFields<'_>> {
    fn proxy(p: &Option<SecretString>) -> Option<&str> {
        p.as_ref().map(SecretString::expose)
    }
    match cred {
        Credential::SessionToken(c) => {
            cred.validate()?;
            let mut fields = vec![
                ("http_proxy", proxy(&c.http_proxy)),
                ("host", Some(c.host.as_str())),
                ("login", Some(c.login.as_str())),
                ("session_token", Some(c.session_token.expose())),
            ];
            // tk-core leaves the key out when unset, for older cores.
            if let Some(m) = &c.session_metadata {
                fields.push(("session_metadata", Some(m.expose())));
            }
            Ok((SESSION_USER, fields))
        }
        Credential::ScriptKey(c) => {
            cred.validate()?;
            Ok((
                SCRIPT_USER,
                vec![
                    ("http_proxy", proxy(&c.http_proxy)),
                    ("host", Some(c.host.as_str())),
                    ("api_script", Some(c.script_name.as_str())),
                    ("api_key", Some(c.api_key.expose())),
                ],
            ))
        }
        other => Err(invalid(format!(
            "serialized user: tk-core has no user type for a {} credential; only \
             session_token (SessionUser) and script_key (ScriptUser) can be serialized",
            other.kind()
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// Parses what tk-core's `serialize_user` writes (JSON or protocol-0 pickle) into a
/// [`Credential::SessionToken`] or [`Credential::ScriptKey`].
///
/// The payload is JSON when its first character is `{` (no BOM, no leading space), a
/// pickle otherwise, as in tk-core. Missing keys count as null and unknown keys are
/// ignored; an empty or missing `host`, `login`, `session_token`, `api_script` or
/// `api_key` is an error naming the field (tk-core's `IncompleteCredentials`; tk-core
/// would look a missing session token up in its session cache, this function does not).
/// `http_proxy: null` gives `None`; `session_metadata` is kept when it is not null.
///
/// The pickle is parsed as data only: `(` `d` `}` `V` `S` `N` `p` `g` `s` `u` `.`; any
/// other opcode (`c` GLOBAL, `R` REDUCE, `i` INST, numbers, binary protocols...) is
/// rejected. `S` strings (Python 2 pickles) must decode as UTF-8. A top-level
/// `_payload_encoding` is honoured as the module documentation describes.
///
/// # Errors
///
/// [`Error::InvalidArgument`] saying what is wrong, without any secret value, for input
/// over [`MAX_INPUT_LEN`], malformed JSON or pickle, an unknown type or a missing field.
pub fn parse_serialized_user(text: &str) -> Result<Credential> {
    if text.len() > MAX_INPUT_LEN {
        return Err(user_err(format!(
            "input is {} bytes; the limit is {MAX_INPUT_LEN} (1 MiB)",
            text.len()
        )));
    }
    if text.is_empty() {
        return Err(user_err("input is empty"));
    }
    let top = if text.starts_with('{') {
        json_user_dict(text)?
    } else {
        if text.trim_start().starts_with('{') {
            return Err(user_err(
                "input looks like JSON but does not start with '{' (tk-core reads JSON only \
                 when the first character is '{'; remove the leading whitespace or BOM)",
            ));
        }
        pickle_user_dict(text)?
    };
    user_from_dict(top)
}

/// Parses a `TANK_CONTEXT` value (JSON) and the serialized user in its `_current_user`
/// key (a JSON string holding what `serialize_user` wrote).
///
/// # Errors
///
/// [`Error::InvalidArgument`] for input over [`MAX_INPUT_LEN`], malformed JSON, a context
/// without a user, or any error of [`parse_serialized_user`] on the user.
pub fn parse_tank_context(json: &str) -> Result<Credential> {
    if json.len() > MAX_INPUT_LEN {
        return Err(invalid(format!(
            "TANK_CONTEXT: input is {} bytes; the limit is {MAX_INPUT_LEN} (1 MiB)",
            json.len()
        )));
    }
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| invalid(format!("TANK_CONTEXT: {}", json_error_text(&e))))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(invalid("TANK_CONTEXT: expected a JSON object"));
    };
    let user = match map.remove("_current_user") {
        Some(serde_json::Value::String(s)) => Zeroizing::new(s),
        Some(serde_json::Value::Null) | None => {
            return Err(invalid(
                "TANK_CONTEXT: no user (\"_current_user\" is missing or null)",
            ))
        }
        Some(_) => {
            return Err(invalid(
                "TANK_CONTEXT: \"_current_user\" must be a string holding a serialized user",
            ))
        }
    };
    drop(map);
    parse_serialized_user(&user).map_err(|e| match e {
        Error::InvalidArgument(msg) => invalid(format!("TANK_CONTEXT \"_current_user\": {msg}")),
        other => other,
    })
}

/// Describes a serde_json error by kind and position only: its own text can quote input.
fn json_error_text(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax => "malformed JSON",
        Category::Eof => "truncated JSON",
        Category::Data => "unexpected JSON value",
        Category::Io => "I/O error while reading JSON",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

fn json_user_dict(text: &str) -> Result<Dict> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| user_err(json_error_text(&e)))?;
    match json_val(value, 2) {
        Val::Dict(d) => Ok(d),
        other => Err(user_err(format!(
            "expected a JSON object, found {}",
            other.type_name()
        ))),
    }
}

/// Moves a JSON value into a [`Val`]; objects nested deeper than `dict_levels` are not
/// needed (unknown keys are ignored) and only keep their type name.
fn json_val(value: serde_json::Value, dict_levels: u8) -> Val {
    use serde_json::Value as J;
    match value {
        J::Null => Val::Null,
        // Moved, not copied, into the self-wiping buffer.
        J::String(s) => Val::Str(SecretString::new(s)),
        J::Object(m) if dict_levels > 0 => Val::Dict(Dict {
            depth: 0,
            map: m
                .into_iter()
                .map(|(k, v)| (k, json_val(v, dict_levels - 1)))
                .collect(),
        }),
        J::Object(_) => Val::Other("an object"),
        J::Bool(_) => Val::Other("a boolean"),
        J::Number(_) => Val::Other("a number"),
        J::Array(_) => Val::Other("an array"),
    }
}

/// tk-core's `pickle.loads` on text: UTF-8 bytes first, then the declared encoding.
fn pickle_user_dict(text: &str) -> Result<Dict> {
    // Binary pickles passed around as Latin-1 text start with the PROTO opcode 0x80.
    if text.starts_with('\u{80}') {
        return Err(user_err(
            "the input is a binary pickle (protocol 2 or later); tk-core writes protocol 0, \
             and only dicts, strings and None are accepted",
        ));
    }
    let first = unpickle_dict(text.as_bytes())?;
    let encoding = match first.map.get(PAYLOAD_ENCODING_KEY) {
        None => return Ok(first),
        Some(Val::Str(e)) => e.expose().to_owned(),
        Some(other) => {
            return Err(user_err(format!(
                "\"{PAYLOAD_ENCODING_KEY}\" must be a string, found {}",
                other.type_name()
            )))
        }
    };
    // Python's codec lookup ignores case and treats '_' like '-'.
    let norm = encoding.to_ascii_lowercase().replace('_', "-");
    match norm.as_str() {
        "utf-8" | "utf8" => Ok(first),
        "iso-8859-1" | "iso8859-1" | "latin-1" | "latin1" | "l1" => {
            drop(first);
            let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
            for (i, c) in text.chars().enumerate() {
                let b = u8::try_from(u32::from(c)).map_err(|_| {
                    user_err(format!(
                        "the pickle declares {PAYLOAD_ENCODING_KEY} {PAYLOAD_ENCODING_LATIN1} \
                         but character {i} is above U+00FF"
                    ))
                })?;
                bytes.push(b);
            }
            unpickle_dict(&bytes)
        }
        _ => {
            let shown: String = encoding.chars().take(32).collect();
            Err(user_err(format!(
                "unsupported {PAYLOAD_ENCODING_KEY} {shown:?}; tk-core writes \
                 {PAYLOAD_ENCODING_LATIN1}"
            )))
        }
    }
}

fn unpickle_dict(bytes: &[u8]) -> Result<Dict> {
    match Unpickler::new(bytes).run()? {
        Val::Dict(d) => Ok(d),
        other => Err(user_err(format!(
            "the pickle holds {}, not a dict",
            other.type_name()
        ))),
    }
}

/// Most items on the pickle stack at once (tk-core's pickles need 6).
const MAX_STACK: usize = 256;
/// Most memo entries (tk-core's pickles use about 15).
const MAX_MEMO: usize = 4096;
/// Deepest dict nesting (tk-core's pickles have 2 levels).
const MAX_DICT_DEPTH: u8 = 8;
/// Most string bytes the interpreter may produce, copies from the memo included, so
/// that `g` (GET) cannot multiply a large string.
const MAX_STRING_BYTES: usize = 4 * MAX_INPUT_LEN;

enum Slot {
    Mark,
    Val(Val),
}

enum Memo {
    Null,
    Str(SecretString),
    /// Dicts are memoized but may not be fetched again: sharing one (or making it
    /// contain itself) is never needed for a user dict.
    Dict,
}

/// A protocol-0 pickle interpreter for data only: dicts with string keys, strings and None.
struct Unpickler<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Slot>,
    memo: HashMap<u64, Memo>,
    string_bytes: usize,
}

impl<'a> Unpickler<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            stack: Vec::new(),
            memo: HashMap::new(),
            string_bytes: 0,
        }
    }

    fn run(mut self) -> Result<Val> {
        loop {
            let at = self.pos;
            let Some(&op) = self.bytes.get(at) else {
                return Err(user_err(format!(
                    "truncated pickle: it ends at byte {at} without the STOP opcode '.'"
                )));
            };
            self.pos += 1;
            match op {
                b'(' => self.push(Slot::Mark)?,
                b'}' => self.push(Slot::Val(Val::Dict(Dict::default())))?,
                b'N' => self.push(Slot::Val(Val::Null))?,
                b'd' => {
                    let items = self.pop_to_mark(op, at)?;
                    let mut dict = Dict::default();
                    set_items(&mut dict, items, at)?;
                    self.push(Slot::Val(Val::Dict(dict)))?;
                }
                b'V' => {
                    let line = self.line(op, at)?;
                    let s = decode_raw_unicode_escape(line, at)?;
                    self.charge(s.len())?;
                    self.push(Slot::Val(Val::Str(s)))?;
                }
                b'S' => {
                    let line = self.line(op, at)?;
                    let s = decode_python_string(line, at)?;
                    self.charge(s.len())?;
                    self.push(Slot::Val(Val::Str(s)))?;
                }
                b'p' => {
                    let index = self.memo_index(op, at)?;
                    let entry = match self.stack.last() {
                        Some(Slot::Val(Val::Null)) => Memo::Null,
                        Some(Slot::Val(Val::Str(s))) => {
                            let copy = s.clone();
                            self.charge(copy.len())?;
                            Memo::Str(copy)
                        }
                        Some(Slot::Val(Val::Dict(_))) => Memo::Dict,
                        _ => {
                            return Err(user_err(format!(
                                "pickle PUT at byte {at} has no value to store"
                            )))
                        }
                    };
                    if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
                        return Err(user_err(format!(
                            "pickle memo exceeds {MAX_MEMO} entries (byte {at})"
                        )));
                    }
                    self.memo.insert(index, entry);
                }
                b'g' => {
                    let index = self.memo_index(op, at)?;
                    let val = match self.memo.get(&index) {
                        Some(Memo::Null) => Val::Null,
                        Some(Memo::Str(s)) => Val::Str(s.clone()),
                        Some(Memo::Dict) => {
                            return Err(user_err(format!(
                                "pickle GET at byte {at} refers to a dict; shared or recursive \
                                 dicts are not accepted"
                            )))
                        }
                        None => {
                            return Err(user_err(format!(
                                "pickle GET at byte {at} refers to memo entry {index}, which \
                                 was never stored"
                            )))
                        }
                    };
                    if let Val::Str(s) = &val {
                        self.charge(s.len())?;
                    }
                    self.push(Slot::Val(val))?;
                }
                b's' => {
                    let value = self.pop_val(op, at)?;
                    let key = self.pop_val(op, at)?;
                    let dict = self.top_dict(op, at)?;
                    set_item(dict, key, value, at)?;
                }
                b'u' => {
                    let items = self.pop_to_mark(op, at)?;
                    let dict = self.top_dict(op, at)?;
                    set_items(dict, items, at)?;
                }
                b'.' => {
                    let result = self.pop_val(op, at)?;
                    if !self.stack.is_empty() {
                        return Err(user_err(format!(
                            "pickle STOP at byte {at} leaves {} unused items on the stack",
                            self.stack.len()
                        )));
                    }
                    let rest = &self.bytes[self.pos..];
                    if !rest.iter().all(u8::is_ascii_whitespace) {
                        return Err(user_err(format!(
                            "{} bytes follow the pickle's STOP opcode at byte {at}",
                            rest.len()
                        )));
                    }
                    return Ok(result);
                }
                _ => {
                    let hint = if op == 0x80 {
                        " (a binary pickle, protocol 2 or later; tk-core writes protocol 0)"
                    } else {
                        ""
                    };
                    return Err(user_err(format!(
                        "pickle opcode {} is not allowed; only dicts, strings and None are \
                         accepted (at byte {at}){hint}",
                        show_opcode(op)
                    )));
                }
            }
        }
    }

    fn push(&mut self, slot: Slot) -> Result<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(user_err(format!(
                "pickle stack exceeds {MAX_STACK} items (byte {})",
                self.pos - 1
            )));
        }
        self.stack.push(slot);
        Ok(())
    }

    fn charge(&mut self, len: usize) -> Result<()> {
        self.string_bytes += len;
        if self.string_bytes > MAX_STRING_BYTES {
            return Err(user_err(format!(
                "pickle strings exceed {MAX_STRING_BYTES} bytes in total (byte {})",
                self.pos
            )));
        }
        Ok(())
    }

    /// The opcode's argument: the bytes up to the next newline, which is consumed.
    fn line(&mut self, op: u8, at: usize) -> Result<&'a [u8]> {
        let rest = &self.bytes[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(user_err(format!(
                "truncated pickle: the argument of opcode {} at byte {at} has no end of line",
                show_opcode(op)
            )));
        };
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    fn memo_index(&mut self, op: u8, at: usize) -> Result<u64> {
        let line = self.line(op, at)?;
        if line.is_empty() || line.len() > 10 || !line.iter().all(u8::is_ascii_digit) {
            return Err(user_err(format!(
                "pickle memo index of opcode {} at byte {at} is not a decimal number",
                show_opcode(op)
            )));
        }
        let digits = std::str::from_utf8(line).expect("ASCII digits are UTF-8");
        Ok(digits
            .parse()
            .expect("at most 10 decimal digits fit in u64"))
    }

    fn pop_val(&mut self, op: u8, at: usize) -> Result<Val> {
        match self.stack.pop() {
            Some(Slot::Val(v)) => Ok(v),
            _ => Err(user_err(format!(
                "pickle opcode {} at byte {at} finds no value on the stack",
                show_opcode(op)
            ))),
        }
    }

    fn pop_to_mark(&mut self, op: u8, at: usize) -> Result<Vec<Val>> {
        let Some(mark) = self.stack.iter().rposition(|s| matches!(s, Slot::Mark)) else {
            return Err(user_err(format!(
                "pickle opcode {} at byte {at} has no MARK '(' before it",
                show_opcode(op)
            )));
        };
        let items = self
            .stack
            .drain(mark..)
            .skip(1)
            .map(|s| match s {
                Slot::Val(v) => v,
                Slot::Mark => unreachable!("the mark found is the last one"),
            })
            .collect();
        Ok(items)
    }

    fn top_dict(&mut self, op: u8, at: usize) -> Result<&mut Dict> {
        match self.stack.last_mut() {
            Some(Slot::Val(Val::Dict(d))) => Ok(d),
            _ => Err(user_err(format!(
                "pickle opcode {} at byte {at} needs a dict under its items",
                show_opcode(op)
            ))),
        }
    }
}

fn set_items(dict: &mut Dict, items: Vec<Val>, at: usize) -> Result<()> {
    if items.len() % 2 != 0 {
        return Err(user_err(format!(
            "pickle dict at byte {at} has an odd number of keys and values"
        )));
    }
    let mut items = items.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        set_item(dict, key, value, at)?;
    }
    Ok(())
}

fn set_item(dict: &mut Dict, key: Val, value: Val, at: usize) -> Result<()> {
    let Val::Str(key) = key else {
        return Err(user_err(format!(
            "pickle dict key at byte {at} is {}; only string keys are accepted",
            key.type_name()
        )));
    };
    if let Val::Dict(child) = &value {
        let depth = child.depth + 1;
        if depth > MAX_DICT_DEPTH {
            return Err(user_err(format!(
                "pickle dicts nest deeper than {MAX_DICT_DEPTH} levels (byte {at})"
            )));
        }
        dict.depth = dict.depth.max(depth);
    }
    // Like a Python dict, a later value replaces an earlier one.
    dict.map.insert(key.expose().to_owned(), value);
    Ok(())
}

fn show_opcode(op: u8) -> String {
    if op.is_ascii_graphic() {
        format!("'{}'", op as char)
    } else {
        format!("0x{op:02x}")
    }
}

/// Python's `raw_unicode_escape` decoding (the `V` opcode): bytes are Latin-1 characters
/// except `\uXXXX` and `\UXXXXXXXX`. A surrogate pair is joined (Python 2 narrow builds
/// wrote those); a lone surrogate cannot be held in Rust text and is an error.
fn decode_raw_unicode_escape(b: &[u8], at: usize) -> Result<SecretString> {
    // Each input byte yields at most 2 bytes of UTF-8: no reallocation leaves a copy.
    let mut out = Zeroizing::new(String::with_capacity(2 * b.len()));
    let mut i = 0;
    let hex = |i: usize, n: usize| -> Result<u32> {
        b.get(i..i + n)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .map(|h| {
                let h = std::str::from_utf8(h).expect("hex digits are ASCII");
                u32::from_str_radix(h, 16).expect("at most 8 hex digits fit in u32")
            })
            .ok_or_else(|| {
                user_err(format!(
                    "truncated \\uXXXX escape in the pickle string at byte {at}"
                ))
            })
    };
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'\\' || i >= b.len() {
            out.push(char::from(c));
            continue;
        }
        let n = match b[i] {
            b'u' => 4,
            b'U' => 8,
            other => {
                out.push('\\');
                out.push(char::from(other));
                i += 1;
                continue;
            }
        };
        let mut cp = hex(i + 1, n)?;
        i += 1 + n;
        if (0xD800..0xDC00).contains(&cp) {
            let low = if b.get(i..i + 2) == Some(b"\\u") {
                hex(i + 2, 4).ok().filter(|l| (0xDC00..0xE000).contains(l))
            } else {
                None
            };
            let Some(low) = low else {
                return Err(user_err(format!(
                    "the pickle string at byte {at} holds a lone surrogate escape"
                )));
            };
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        let ch = char::from_u32(cp).ok_or_else(|| {
            user_err(format!(
                "the pickle string at byte {at} holds an escape that is not a Unicode \
                 character (a lone surrogate or above U+10FFFF)"
            ))
        })?;
        out.push(ch);
    }
    Ok(SecretString::new(std::mem::take(&mut *out)))
}

/// The `S` opcode's argument: a quoted Python 2 `repr` of a byte string
/// (`codecs.escape_decode`), whose bytes must then be UTF-8.
fn decode_python_string(line: &[u8], at: usize) -> Result<SecretString> {
    let quoted =
        line.len() >= 2 && line[0] == line[line.len() - 1] && (line[0] == b'\'' || line[0] == b'"');
    if !quoted {
        return Err(user_err(format!(
            "the argument of pickle opcode 'S' at byte {at} is not quoted"
        )));
    }
    let inner = &line[1..line.len() - 1];
    let mut out = Zeroizing::new(Vec::with_capacity(inner.len()));
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = inner.get(i) else {
            return Err(user_err(format!(
                "the pickle string at byte {at} ends with a lone backslash"
            )));
        };
        i += 1;
        match e {
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match inner.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                let byte = u8::try_from(v).map_err(|_| {
                    user_err(format!(
                        "the pickle string at byte {at} has an octal escape above \\377"
                    ))
                })?;
                out.push(byte);
            }
            b'x' => {
                let byte = inner
                    .get(i..i + 2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .map(|h| {
                        let h = std::str::from_utf8(h).expect("hex digits are ASCII");
                        u8::from_str_radix(h, 16).expect("two hex digits fit in u8")
                    })
                    .ok_or_else(|| {
                        user_err(format!(
                            "the pickle string at byte {at} has an invalid \\x escape"
                        ))
                    })?;
                out.push(byte);
                i += 2;
            }
            // Python keeps unknown escapes as they are.
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    let text = String::from_utf8(std::mem::take(&mut *out)).map_err(|e| {
        let mut bytes = e.into_bytes();
        bytes.zeroize();
        user_err(format!(
            "the 'S' string at byte {at} is not UTF-8 (tk-core decodes Python 2 strings as UTF-8)"
        ))
    })?;
    Ok(SecretString::new(text))
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// Writes a session-token or script-key credential as tk-core's
/// `serialize_user(user, use_json=True)` does: byte for byte Python's `json.dumps` with
/// its defaults (separators `", "` and `": "`, `ensure_ascii=True`), keys in tk-core's
/// order, `http_proxy` always present (`null` when unset), `session_metadata` only when set.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a login/password or opaque credential (tk-core has no
/// such user type) or one missing a required field.
pub fn to_serialized_user_json(cred: &Credential) -> Result<String> {
    let (ty, fields) = user_fields(cred)?;
    let mut out = String::with_capacity(256);
    out.push_str("{\"type\": ");
    push_json_str(&mut out, ty);
    out.push_str(", \"data\": {");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_str(&mut out, key);
        out.push_str(": ");
        match value {
            Some(v) => push_json_str(&mut out, v),
            None => out.push_str("null"),
        }
    }
    out.push_str("}}");
    Ok(out)
}

/// Python's `json.dumps` string encoding with `ensure_ascii=True`: everything outside
/// `' '..='~'` is escaped, with the short forms Python uses and lower-case hex.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("writing to a String cannot fail");
                }
            }
        }
    }
    out.push('"');
}

/// Writes a session-token or script-key credential as tk-core's default
/// `serialize_user(user)` does: a protocol-0 pickle of `{"type": ..., "data": {...}}`,
/// as text, identical to what tk-core on Python 3.8+ returns.
///
/// Strings use the `V` opcode with Python's escapes (`\u005c` for a backslash, `\u000a`,
/// `\u000d`, `\u0000`, `\u001a`, `\uXXXX` above U+00FF, `\UXXXXXXXX` above U+FFFF) and raw
/// bytes for the rest. When those bytes are not valid UTF-8 (a character in
/// U+0080..U+00FF), the top-level dict gets `"_payload_encoding": "ISO-8859-1"` and the
/// pickle is decoded as Latin-1, as tk-core does. Memo numbers count up from 0; like
/// CPython, which shares one object for the empty string and for each one-character
/// Latin-1 string, a repeat of such a value is written as a memo GET.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for a login/password or opaque credential (tk-core has no
/// such user type) or one missing a required field.
pub fn to_serialized_user_pickle(cred: &Credential) -> Result<String> {
    let (ty, fields) = user_fields(cred)?;
    let bytes = pickle_user(ty, &fields, false);
    if let Ok(text) = std::str::from_utf8(&bytes) {
        return Ok(text.to_owned());
    }
    let bytes = pickle_user(ty, &fields, true);
    Ok(bytes.iter().map(|&b| char::from(b)).collect())
}

fn pickle_user(
    ty: &str,
    fields: &[(&str, Option<&str>)],
    payload_encoding: bool,
) -> Zeroizing<Vec<u8>> {
    let mut w = PickleWriter::default();
    w.dict();
    w.string("type");
    w.string(ty);
    w.out.push(b's');
    w.string("data");
    w.dict();
    for (key, value) in fields {
        w.string(key);
        match value {
            Some(v) => w.string(v),
            None => w.out.push(b'N'),
        }
        w.out.push(b's');
    }
    // The inner dict is complete: store it under "data".
    w.out.push(b's');
    if payload_encoding {
        w.string(PAYLOAD_ENCODING_KEY);
        w.string(PAYLOAD_ENCODING_LATIN1);
        w.out.push(b's');
    }
    w.out.push(b'.');
    w.out
}

#[derive(Default)]
struct PickleWriter {
    out: Zeroizing<Vec<u8>>,
    next_memo: u32,
    /// Memo numbers of CPython's shared strings (empty, one Latin-1 character).
    shared: HashMap<String, u32>,
}

impl PickleWriter {
    fn put(&mut self) -> u32 {
        let n = self.next_memo;
        self.next_memo += 1;
        writeln_bytes(&mut self.out, format_args!("p{n}"));
        n
    }

    fn dict(&mut self) {
        self.out.extend_from_slice(b"(d");
        self.put();
    }

    fn string(&mut self, s: &str) {
        let mut chars = s.chars();
        let shared = match (chars.next(), chars.next()) {
            (None, _) => true,
            (Some(c), None) => u32::from(c) <= 0xFF,
            _ => false,
        };
        if shared {
            if let Some(&n) = self.shared.get(s) {
                writeln_bytes(&mut self.out, format_args!("g{n}"));
                return;
            }
        }
        self.out.push(b'V');
        for c in s.chars() {
            let cp = u32::from(c);
            match c {
                '\\' | '\0' | '\n' | '\r' | '\u{1a}' => {
                    write_bytes(&mut self.out, format_args!("\\u{cp:04x}"))
                }
                _ if cp > 0xFFFF => write_bytes(&mut self.out, format_args!("\\U{cp:08x}")),
                _ if cp > 0xFF => write_bytes(&mut self.out, format_args!("\\u{cp:04x}")),
                _ => self
                    .out
                    .push(u8::try_from(cp).expect("code points up to U+00FF fit in a byte")),
            }
        }
        self.out.push(b'\n');
        let n = self.put();
        if shared {
            self.shared.insert(s.to_owned(), n);
        }
    }
}

fn write_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    out.write_fmt(args).expect("writing to a Vec cannot fail");
}

fn writeln_bytes(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    write_bytes(out, args);
    out.push(b'\n');
}

// ---------------------------------------------------------------------------------------
// tk-core's session cache
// ---------------------------------------------------------------------------------------

/// One session token found in tk-core's session cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedSession {
    /// The site folder's name under the cache root, e.g. `mysite`.
    pub site: String,
    /// The site URL the folder stands for (see the module documentation for how it is
    /// found).
    pub host: String,
    /// The cached session: `host`, `login`, `session_token`, and `session_metadata` when
    /// set; `http_proxy` is always `None` (the cache does not record it).
    pub session: SessionToken,
}

/// tk-core's cache root: `$SHOTGUN_HOME` when set and not empty (with `~` and `$VAR` /
/// `${VAR}` expanded and made absolute, as tk-core does), else `~/.shotgun` on Linux and
/// other Unixes, `~/Library/Caches/Shotgun` on macOS, `%APPDATA%\Shotgun` on Windows.
/// `None` when the home folder (or `APPDATA`) is unknown.
pub fn default_shotgun_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("SHOTGUN_HOME").filter(|v| !v.is_empty()) {
        let expanded = expand_user(&expand_vars(&home));
        return Some(std::path::absolute(&expanded).unwrap_or(expanded));
    }
    platform_shotgun_home()
}

#[cfg(target_os = "macos")]
fn platform_shotgun_home() -> Option<PathBuf> {
    home_dir().map(|h| h.join("Library").join("Caches").join("Shotgun"))
}

#[cfg(windows)]
fn platform_shotgun_home() -> Option<PathBuf> {
    std::env::var_os("APPDATA")
        .filter(|v| !v.is_empty())
        .map(|a| PathBuf::from(a).join("Shotgun"))
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_shotgun_home() -> Option<PathBuf> {
    home_dir().map(|h| h.join(".shotgun"))
}

#[cfg(not(any(unix, windows)))]
fn platform_shotgun_home() -> Option<PathBuf> {
    None
}

/// The home folder as Python's `os.path.expanduser` finds it.
fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `os.path.expanduser` for a leading `~` or `~/...`.
fn expand_user(path: &Path) -> PathBuf {
    let mut components = path.components();
    match components.next() {
        Some(std::path::Component::Normal(first)) if first == "~" => match home_dir() {
            Some(home) => home.join(components.as_path()),
            None => path.to_path_buf(),
        },
        _ => path.to_path_buf(),
    }
}

/// `os.path.expandvars` (POSIX form): `$NAME` and `${NAME}` are replaced when `NAME` is
/// set; anything else is left as it is.
fn expand_vars(value: &OsString) -> PathBuf {
    let Some(s) = value.to_str() else {
        return PathBuf::from(value);
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match std::env::var(name).ok().filter(|_| !name.is_empty()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[dollar..dollar + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    PathBuf::from(out)
}

/// The cache folder name tk-core uses for `host`: the URL's netloc up to its first `:`,
/// lower-cased, with `.shotgunstudio.com` and `.shotgrid.autodesk.com` removed. A host
/// without a scheme is taken as `https://<host>` (tk-core sanitizes hosts that way before
/// it stores them).
pub fn session_cache_site_name(host: &str) -> String {
    let host = host.trim();
    let after_scheme = match host.find("://") {
        Some(i) => &host[i + 3..],
        None => host,
    };
    let netloc = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let site = netloc.split(':').next().unwrap_or_default().to_lowercase();
    site.replace(".shotgunstudio.com", "")
        .replace(".shotgrid.autodesk.com", "")
}

/// The session cache file tk-core uses for `host` under `shotgun_home`:
/// `<shotgun_home>/<site>/authentication.yml`.
pub fn session_cache_file(shotgun_home: &Path, host: &str) -> PathBuf {
    shotgun_home
        .join(session_cache_site_name(host))
        .join(CACHE_FILE_NAME)
}

/// Reads every session token in tk-core's cache under `shotgun_home` (see
/// [`default_shotgun_home`]): each `<shotgun_home>/<site>/authentication.yml`, sites in
/// name order, users in file order.
///
/// The global `<shotgun_home>/authentication.yml` is not a user file; its `current_host`
/// and `recent_hosts` give each site folder its host (the module documentation has the
/// fallback when none matches). Users whose `session_token` is missing, null or empty are
/// skipped; logins are trimmed as tk-core trims them; an empty `session_metadata` counts
/// as unset, as in tk-core's `get_session_data`.
///
/// # Errors
///
/// [`Error::Io`] when `shotgun_home` or a file cannot be read;
/// [`Error::InvalidArgument`] naming the file when one is larger than
/// [`MAX_CACHE_FILE_LEN`], is not YAML, or has a value of the wrong type.
pub fn read_session_cache(shotgun_home: &Path) -> Result<Vec<CachedSession>> {
    let hosts = known_hosts(&shotgun_home.join(CACHE_FILE_NAME))?;
    let entries = fs::read_dir(shotgun_home).map_err(|e| {
        Error::io(
            format!(
                "reading tk-core's session cache folder {}",
                shotgun_home.display()
            ),
            e,
        )
    })?;
    let mut sites = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            Error::io(
                format!(
                    "reading tk-core's session cache folder {}",
                    shotgun_home.display()
                ),
                e,
            )
        })?;
        // A folder name that is not UTF-8 cannot have come from a host name.
        let Ok(site) = entry.file_name().into_string() else {
            continue;
        };
        let file = entry.path().join(CACHE_FILE_NAME);
        if file.is_file() {
            sites.push((site, file));
        }
    }
    sites.sort();

    let mut sessions = Vec::new();
    for (site, file) in sites {
        let host = host_for_site(&site, &hosts);
        let mut doc = load_yaml(&file)?;
        let Some(users) = users_of(&mut doc, &file)? else {
            continue;
        };
        for (i, user) in users.iter_mut().enumerate() {
            let Yaml::Mapping(user) = user else {
                return Err(cache_err(&file, format!("users[{i}] is not a mapping")));
            };
            let login = match user.get("login") {
                Some(Yaml::String(s)) => s.trim().to_owned(),
                None | Some(Yaml::Null) => continue,
                Some(_) => {
                    return Err(cache_err(
                        &file,
                        format!("users[{i}].login is not a string"),
                    ))
                }
            };
            let Some(token) = take_yaml_secret(user, "session_token", i, &file)? else {
                continue;
            };
            let metadata = take_yaml_secret(user, "session_metadata", i, &file)?;
            if login.is_empty() || token.is_empty() {
                continue;
            }
            sessions.push(CachedSession {
                site: site.clone(),
                host: host.clone(),
                session: SessionToken {
                    host: host.clone(),
                    login,
                    session_token: token,
                    http_proxy: None,
                    session_metadata: metadata.filter(|m| !m.is_empty()),
                },
            });
        }
    }
    Ok(sessions)
}

/// Moves a string out of a YAML mapping into a self-wiping buffer.
fn take_yaml_secret(
    user: &mut Mapping,
    key: &str,
    index: usize,
    file: &Path,
) -> Result<Option<SecretString>> {
    match user.get_mut(key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) => Ok(Some(SecretString::new(std::mem::take(s)))),
        Some(_) => Err(cache_err(
            file,
            format!("users[{index}].{key} is not a string"),
        )),
    }
}

fn cache_err(file: &Path, what: impl std::fmt::Display) -> Error {
    invalid(format!("tk-core session cache {}: {what}", file.display()))
}

/// The hosts of tk-core's global file, `current_host` first.
fn known_hosts(global: &Path) -> Result<Vec<String>> {
    if !global.is_file() {
        return Ok(Vec::new());
    }
    let doc = load_yaml(global)?;
    let mut hosts = Vec::new();
    if let Yaml::Mapping(m) = &doc {
        if let Some(Yaml::String(h)) = m.get("current_host") {
            hosts.push(h.clone());
        }
        if let Some(Yaml::Sequence(recent)) = m.get("recent_hosts") {
            hosts.extend(recent.iter().filter_map(|h| h.as_str().map(str::to_owned)));
        }
    }
    Ok(hosts)
}

fn host_for_site(site: &str, hosts: &[String]) -> String {
    if let Some(host) = hosts.iter().find(|h| session_cache_site_name(h) == site) {
        return host.trim().to_owned();
    }
    if site.contains('.') {
        format!("https://{site}")
    } else {
        format!("https://{site}.shotgrid.autodesk.com")
    }
}

fn load_yaml(file: &Path) -> Result<Yaml> {
    let read_err = |e| Error::io(format!("reading {}", file.display()), e);
    let f = fs::File::open(file).map_err(read_err)?;
    let mut text = Zeroizing::new(String::new());
    f.take(MAX_CACHE_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if text.len() as u64 > MAX_CACHE_FILE_LEN {
        return Err(cache_err(
            file,
            format!("larger than {MAX_CACHE_FILE_LEN} bytes"),
        ));
    }
    if text.trim().is_empty() {
        return Ok(Yaml::Null);
    }
    // Only the position is reported: the parser's own text could quote the file.
    serde_yaml_ng::from_str(&text).map_err(|e| match e.location() {
        Some(at) => cache_err(
            file,
            format!("not valid YAML (line {} column {})", at.line(), at.column()),
        ),
        None => cache_err(file, "not valid YAML"),
    })
}

/// The `users` list of a site file; `None` when the file has none.
fn users_of<'d>(doc: &'d mut Yaml, file: &Path) -> Result<Option<&'d mut Vec<Yaml>>> {
    match doc {
        Yaml::Null => Ok(None),
        Yaml::Mapping(m) => match m.get_mut("users") {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Sequence(users)) => Ok(Some(users)),
            Some(_) => Err(cache_err(file, "\"users\" is not a list")),
        },
        _ => Err(cache_err(file, "the document is not a mapping")),
    }
}

/// Removes the session tokens of `logins` from one tk-core session cache file and
/// returns how many users lost a token. Logins match as tk-core matches them: trimmed and
/// case-insensitive.
///
/// For each matching user `session_token` is set to `null` and `session_metadata` is
/// deleted; every other key, user and top-level entry is kept. The token is nulled rather
/// than deleted because tk-core reads `user["session_token"]` without a default when it
/// caches the next login: with the key gone it could never store a new session for that
/// user. tk-core reads a null token as "no cached session" and asks the user to log in.
///
/// When something changed the file is rewritten atomically (a temporary file in the same
/// folder, flushed, renamed over it; a symbolic link is followed) with mode 0600 on Unix.
/// Strings are written so that tk-core's PyYAML (YAML 1.1) reads them back as strings:
/// plain when unambiguous, double-quoted ASCII otherwise. Nothing is written when no user
/// matched. tk-core writing the same file at the same moment is not guarded against.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read or replaced; [`Error::InvalidArgument`]
/// naming the file when it is not a tk-core site cache (not YAML, no mapping, `users`
/// not a list of mappings).
pub fn remove_tokens_from_session_cache(file: &Path, logins: &[&str]) -> Result<usize> {
    let wanted: Vec<String> = logins.iter().map(|l| l.trim().to_lowercase()).collect();
    let mut doc = load_yaml(file)?;
    let mut removed = 0;
    if let Some(users) = users_of(&mut doc, file)? {
        for (i, user) in users.iter_mut().enumerate() {
            let Yaml::Mapping(user) = user else {
                return Err(cache_err(file, format!("users[{i}] is not a mapping")));
            };
            let matches = match user.get("login") {
                Some(Yaml::String(login)) => wanted.contains(&login.trim().to_lowercase()),
                _ => false,
            };
            if !matches {
                continue;
            }
            let mut changed = false;
            if let Some(token) = user.get_mut("session_token") {
                if !token.is_null() {
                    wipe_yaml(token);
                    *token = Yaml::Null;
                    changed = true;
                }
            }
            if let Some(mut metadata) = user.shift_remove("session_metadata") {
                wipe_yaml(&mut metadata);
                changed = true;
            }
            removed += usize::from(changed);
        }
    }
    if removed > 0 {
        let text = Zeroizing::new(emit_yaml(&doc).map_err(|what| cache_err(file, what))?);
        atomic_write(file, text.as_bytes())?;
    }
    Ok(removed)
}

fn wipe_yaml(value: &mut Yaml) {
    if let Yaml::String(s) = value {
        s.zeroize();
    }
}

/// Replaces `file` with `contents`: same-folder temporary file, fsync, rename, then an
/// fsync of the folder so the rename itself survives a crash.
fn atomic_write(file: &Path, contents: &[u8]) -> Result<()> {
    let target = fs::canonicalize(file)
        .map_err(|e| Error::io(format!("resolving {}", file.display()), e))?;
    let dir = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let write_err = |e| Error::io(format!("rewriting {}", target.display()), e);
    let mut tmp = tempfile::Builder::new()
        .prefix(".authentication.yml.")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(write_err)?;
    }
    tmp.write_all(contents).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(&target).map_err(|e| write_err(e.error))?;
    #[cfg(unix)]
    fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("flushing folder {}", dir.display()), e))?;
    Ok(())
}

/// Block-style YAML as PyYAML's `safe_dump` lays it out (sequences at their key's
/// indentation), with every string either plain and unambiguous for a YAML 1.1 reader or
/// double-quoted.
fn emit_yaml(doc: &Yaml) -> std::result::Result<String, String> {
    let mut out = String::new();
    match doc {
        Yaml::Mapping(m) if !m.is_empty() => emit_block(doc, 0, false, &mut out)?,
        Yaml::Sequence(s) if !s.is_empty() => emit_block(doc, 0, false, &mut out)?,
        scalar => {
            emit_scalar(scalar, &mut out)?;
            out.push('\n');
        }
    }
    Ok(out)
}

fn is_block(value: &Yaml) -> bool {
    match value {
        Yaml::Mapping(m) => !m.is_empty(),
        Yaml::Sequence(s) => !s.is_empty(),
        _ => false,
    }
}

/// Writes a non-empty mapping or sequence; with `inline` its first line continues the
/// current one (after `- `).
fn emit_block(
    value: &Yaml,
    indent: usize,
    inline: bool,
    out: &mut String,
) -> std::result::Result<(), String> {
    let pad = |out: &mut String, first: bool| {
        if !(inline && first) {
            out.extend(std::iter::repeat_n(' ', indent));
        }
    };
    match value {
        Yaml::Mapping(m) => {
            for (i, (key, val)) in m.iter().enumerate() {
                pad(out, i == 0);
                if is_block(key) {
                    return Err("a mapping key is not a scalar".into());
                }
                emit_scalar(key, out)?;
                out.push(':');
                match val {
                    Yaml::Mapping(_) if is_block(val) => {
                        out.push('\n');
                        emit_block(val, indent + 2, false, out)?;
                    }
                    Yaml::Sequence(_) if is_block(val) => {
                        out.push('\n');
                        emit_block(val, indent, false, out)?;
                    }
                    _ => {
                        out.push(' ');
                        emit_scalar(val, out)?;
                        out.push('\n');
                    }
                }
            }
        }
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                pad(out, i == 0);
                out.push_str("- ");
                if is_block(item) {
                    emit_block(item, indent + 2, true, out)?;
                } else {
                    emit_scalar(item, out)?;
                    out.push('\n');
                }
            }
        }
        _ => unreachable!("emit_block is only called on mappings and sequences"),
    }
    Ok(())
}

fn emit_scalar(value: &Yaml, out: &mut String) -> std::result::Result<(), String> {
    match value {
        Yaml::Null => out.push_str("null"),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                out.push_str(&yaml11_float(f));
            } else {
                write!(out, "{n}").expect("writing to a String cannot fail");
            }
        }
        Yaml::String(s) => emit_yaml_str(s, out),
        Yaml::Mapping(_) => out.push_str("{}"),
        Yaml::Sequence(_) => out.push_str("[]"),
        Yaml::Tagged(_) => return Err("a value carries a YAML tag, which is not supported".into()),
    }
    Ok(())
}

/// A float PyYAML's YAML 1.1 resolver reads as a float: it needs a `.` and a signed
/// exponent (`1.0e+20`), which Rust's formatting does not always give.
fn yaml11_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-.inf" } else { ".inf" }.into();
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_owned()
            } else {
                format!("{mantissa}.0")
            };
            let exp = if exp.starts_with('-') {
                exp.to_owned()
            } else {
                format!("+{exp}")
            };
            format!("{mantissa}e{exp}")
        }
        None => s,
    }
}

/// Plain only for `[A-Za-z_][A-Za-z0-9_.@-]*` minus the words YAML 1.1 reads as booleans
/// or null; anything else double-quoted with ASCII escapes.
fn emit_yaml_str(s: &str, out: &mut String) {
    const RESERVED: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        let cp = u32::from(c);
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            ' '..='~' => {
                out.push(c);
                continue;
            }
            _ => {
                let written = if cp <= 0xFF {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xFFFF {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
                written.expect("writing to a String cannot fail");
                continue;
            }
        };
        out.push_str(escaped);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(login: &str, token: &str) -> Credential {
        Credential::SessionToken(SessionToken {
            host: "https://mysite.shotgrid.autodesk.com".into(),
            login: login.into(),
            session_token: token.into(),
            http_proxy: None,
            session_metadata: None,
        })
    }

    fn message(e: Error) -> String {
        match e {
            Error::InvalidArgument(m) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn json_string_escapes_match_python() {
        let mut out = String::new();
        push_json_str(&mut out, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é€😀/");
        assert_eq!(
            out,
            r#""a\"b\\c\n\r\t\b\f\u0001\u001f\u007f\u00e9\u20ac\ud83d\ude00/""#
        );
    }

    #[test]
    fn pickle_escapes_match_python() {
        let cred = session("a\\b\nc\rd\0e\u{1a}f€😀\té", "t");
        let text = to_serialized_user_pickle(&cred).expect("pickle");
        // Checked against CPython 3.11's pickle.dumps(..., protocol=0).
        assert!(
            text.contains("Va\\u005cb\\u000ac\\u000dd\\u0000e\\u001af\\u20ac\\U0001f600\té\np"),
            "{text:?}"
        );
        assert!(text.ends_with("sV_payload_encoding\np12\nVISO-8859-1\np13\ns."));
    }

    #[test]
    fn one_character_values_share_a_memo_entry_like_cpython() {
        let cred = Credential::ScriptKey(ScriptKey {
            host: "h".into(),
            script_name: "h".into(),
            api_key: "k".into(),
            http_proxy: Some("".into()),
        });
        let text = to_serialized_user_pickle(&cred).expect("pickle");
        assert_eq!(
            text,
            "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nV\np6\n\
             sVhost\np7\nVh\np8\nsVapi_script\np9\ng8\nsVapi_key\np10\nVk\np11\nss."
        );
        assert_eq!(parse_serialized_user(&text).expect("parse"), cred);
    }

    #[test]
    fn raw_unicode_escape_decoding() {
        let s =
            decode_raw_unicode_escape(b"a\\u00e9\\U0001f600\\x\\\\u0041\xe9\\", 0).expect("decode");
        // `\\` followed by a non-u byte keeps both; a trailing backslash stays.
        assert_eq!(s.expose(), "aé😀\\x\\\\u0041é\\");
        let pair = decode_raw_unicode_escape(b"\\ud83d\\ude00", 0).expect("pair");
        assert_eq!(pair.expose(), "😀");
        assert!(
            message(decode_raw_unicode_escape(b"\\ud83d", 0).unwrap_err())
                .contains("lone surrogate")
        );
        assert!(message(decode_raw_unicode_escape(b"\\u12", 0).unwrap_err())
            .contains("truncated \\uXXXX"));
        assert!(decode_raw_unicode_escape(b"\\U00110000", 0).is_err());
    }

    #[test]
    fn python2_string_opcode_decoding() {
        let s = decode_python_string(br"'a\'b\\c\n\x41\101\q'", 0).expect("decode");
        assert_eq!(s.expose(), "a'b\\c\nAA\\q");
        let utf8 = decode_python_string(br#""jos\xc3\xa9""#, 0).expect("utf-8");
        assert_eq!(utf8.expose(), "josé");
        assert!(message(decode_python_string(b"abc", 0).unwrap_err()).contains("not quoted"));
        assert!(message(decode_python_string(br"'\xe9'", 0).unwrap_err()).contains("not UTF-8"));
        assert!(decode_python_string(br"'\x4'", 0).is_err());
    }

    #[test]
    fn python2_pickle_with_s_strings_and_memo_from_one() {
        let text = "(dp1\nS'type'\np2\nS'ScriptUser'\np3\nsS'data'\np4\n(dp5\nS'http_proxy'\np6\n\
                    NsS'host'\np7\nS'https://x.example'\np8\nsS'api_script'\np9\nS'farm'\np10\n\
                    sS'api_key'\np11\nS'k3y'\np12\nss.";
        let cred = parse_serialized_user(text).expect("parse");
        assert_eq!(
            cred,
            Credential::ScriptKey(ScriptKey {
                host: "https://x.example".into(),
                script_name: "farm".into(),
                api_key: "k3y".into(),
                http_proxy: None,
            })
        );
    }

    #[test]
    fn setitems_empty_dict_and_get_are_accepted() {
        let text = "}(Vtype\nVSessionUser\nVdata\n}(Vhost\nVh.example\np0\nVlogin\ng0\n\
                    Vsession_token\nVtok\nuu.";
        let cred = parse_serialized_user(text).expect("parse");
        match cred {
            Credential::SessionToken(s) => {
                assert_eq!(s.login, "h.example");
                assert_eq!(s.session_token.expose(), "tok");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn interpreter_limits() {
        let deep = format!("{}.", "(".repeat(MAX_STACK + 1));
        assert!(message(parse_serialized_user(&deep).unwrap_err()).contains("stack exceeds"));
        let nested = format!("}}{}{}.", "Vk\n}".repeat(20), "s".repeat(20));
        assert!(message(parse_serialized_user(&nested).unwrap_err()).contains("nest deeper"));
        let big = "x".repeat(MAX_INPUT_LEN / 2);
        let bomb = format!("(dp0\nVa\np1\nV{big}\np2\ns{}.", "Vb\ng2\ns".repeat(20));
        assert!(message(parse_serialized_user(&bomb).unwrap_err()).contains("strings exceed"));
        let self_ref = "(dp0\nVa\ng0\ns.";
        assert!(message(parse_serialized_user(self_ref).unwrap_err()).contains("refers to a dict"));
        let many_puts = format!(
            "N{}.",
            (0..=MAX_MEMO)
                .map(|i| format!("p{i}\n"))
                .collect::<String>()
        );
        assert!(message(parse_serialized_user(&many_puts).unwrap_err()).contains("memo exceeds"));
    }

    #[test]
    fn payload_encoding_needs_latin1_text() {
        let text = "(dp0\nVtype\np1\nV€\np2\nsV_payload_encoding\np3\nVISO-8859-1\np4\ns.";
        // Valid as UTF-8, but the declared Latin-1 cannot hold the euro sign.
        let err = message(parse_serialized_user(text).unwrap_err());
        assert!(err.contains("above U+00FF"), "{err}");
        let other = "(dp0\nV_payload_encoding\np1\nVcp1252\np2\ns.";
        assert!(message(parse_serialized_user(other).unwrap_err()).contains("unsupported"));
    }

    #[test]
    fn yaml_strings_stay_strings_for_yaml_1_1() {
        let mut out = String::new();
        for s in [
            "jdoe",
            "j.doe@studio.com",
            "yes",
            "On",
            "1:20",
            "0777",
            "",
            "a b",
            "é",
            "=",
            "<<",
        ] {
            emit_yaml_str(s, &mut out);
            out.push('|');
        }
        assert_eq!(
            out,
            "jdoe|j.doe@studio.com|\"yes\"|\"On\"|\"1:20\"|\"0777\"|\"\"|\"a b\"|\"\\xe9\"|\"=\"|\"<<\"|"
        );
        assert_eq!(yaml11_float(1e20), "1.0e+20");
        assert_eq!(yaml11_float(1.5e-7), "1.5e-7");
        assert_eq!(yaml11_float(0.25), "0.25");
    }

    #[test]
    fn site_names_follow_tk_core() {
        assert_eq!(
            session_cache_site_name("https://MySite.shotgunstudio.com:8080/x"),
            "mysite"
        );
        assert_eq!(
            session_cache_site_name("https://mysite.shotgrid.autodesk.com"),
            "mysite"
        );
        assert_eq!(
            session_cache_site_name("http://sg.internal.studio"),
            "sg.internal.studio"
        );
        assert_eq!(
            session_cache_site_name("mysite.shotgrid.autodesk.com"),
            "mysite"
        );
        assert_eq!(
            host_for_site("sg.internal.studio", &[]),
            "https://sg.internal.studio"
        );
        assert_eq!(
            host_for_site("mysite", &[]),
            "https://mysite.shotgrid.autodesk.com"
        );
        let hosts = vec!["https://mysite.shotgunstudio.com".to_owned()];
        assert_eq!(
            host_for_site("mysite", &hosts),
            "https://mysite.shotgunstudio.com"
        );
    }
}
