//! `fv_entry` (an entry read back, with or without its credential), its borrowed
//! view `fv_entry_view`, and `fv_list`.

use super::credential::{self, fv_credential, FV_KIND_INVALID};
use super::handle::{self, Castable, HandleType, OwnedBox};
use super::result::Failure;
use super::secret::{self, fv_secret};
use crate::credential::Credential;
use crate::secret::SecretString;
use crate::vault::{Entry, EntryMeta};
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// An entry read back: its name, kind, host and times, and, when it came from
/// `fv_vault_get`, its credential. Owned entries (from `fv_vault_get`,
/// `fv_vault_metadata`) are freed with `fv_entry_free`, which wipes the credential;
/// entries of an `fv_list` are borrowed from it. One thread at a time.
pub struct fv_entry {
    _private: [u8; 0],
}

/// The Rust side of `fv_entry`.
pub(crate) struct EntryData {
    meta: EntryMeta,
    /// `None` for metadata only (`fv_vault_metadata`, `fv_list`).
    credential: Option<Credential>,
    /// The C strings `fv_entry_name` and `fv_entry_host` lend out, made on their first
    /// call: most entries are read through `fv_entry_field` or `fv_entry_get_view` and
    /// never need them, and building them on every get would slow every get.
    /// `OnceLock` rather than `OnceCell` so two threads reading one list by mistake
    /// cannot race.
    c_name: OnceLock<CString>,
    c_host: OnceLock<Option<CString>>,
}

impl Castable for fv_entry {
    type Ownership = OwnedBox;
    type Rust = EntryData;
    const TYPE: HandleType = HandleType::Entry;
}

/// Text for a C accessor: up to its first NUL (names cannot hold one; a host stored
/// through the Rust API might).
fn c_text(s: &str) -> CString {
    let end = s.find('\0').unwrap_or(s.len());
    CString::new(&s[..end]).expect("cut before the first NUL")
}

impl EntryData {
    fn new(meta: EntryMeta, credential: Option<Credential>) -> EntryData {
        EntryData {
            meta,
            credential,
            c_name: OnceLock::new(),
            c_host: OnceLock::new(),
        }
    }

    /// A whole entry (metadata and credential).
    pub(crate) fn full(entry: Entry) -> EntryData {
        EntryData::new(entry.meta, Some(entry.credential))
    }

    /// Metadata only.
    pub(crate) fn meta(meta: EntryMeta) -> EntryData {
        EntryData::new(meta, None)
    }

    /// The credential, or the failure that says this entry has none.
    fn credential(&self) -> Result<&Credential, Failure> {
        self.credential.as_ref().ok_or_else(|| {
            Failure::invalid(format!(
                "entry {:?} holds metadata only (from fv_vault_metadata or fv_vault_list); \
                 read it with fv_vault_get to reach its fields",
                self.meta.name
            ))
        })
    }

    /// The view of this entry: every pointer borrows from `self`.
    pub(crate) fn view(&self) -> fv_entry_view {
        let meta = &self.meta;
        let mut v = fv_entry_view {
            size: std::mem::size_of::<fv_entry_view>(),
            kind: meta.kind as u32,
            has_credential: self.credential.is_some(),
            created: meta.created.secs(),
            updated: meta.updated.secs(),
            expires: meta.expires.map_or(0, |t| t.secs()),
            name: fv_bytes::of(meta.name.as_bytes()),
            // The metadata's host: the credential's own, and there without it too.
            host: meta
                .host
                .as_deref()
                .map_or(fv_bytes::NONE, |h| fv_bytes::of(h.as_bytes())),
            login: fv_bytes::NONE,
            script_name: fv_bytes::NONE,
            api_key: fv_bytes::NONE,
            session_token: fv_bytes::NONE,
            session_metadata: fv_bytes::NONE,
            http_proxy: fv_bytes::NONE,
            password: fv_bytes::NONE,
            secret: fv_bytes::NONE,
        };
        if let Some(credential) = &self.credential {
            fill_view(&mut v, credential);
        }
        v
    }
}

/// Fills the view's fields from `credential` (a context: from its user, which the
/// view shows).
// One match instead of one `Credential::field` per member; `fv_entry_field` answers
// the same (tests/ffi/vault.rs compares the two for every kind).
fn fill_view(v: &mut fv_entry_view, credential: &Credential) {
    let text = |s: &str| fv_bytes::of(s.as_bytes());
    let secret = |s: &SecretString| fv_bytes::of(s.expose().as_bytes());
    let optional = |s: &Option<SecretString>| s.as_ref().map_or(fv_bytes::NONE, secret);
    match credential {
        Credential::Opaque(b) => v.secret = fv_bytes::of(b.expose()),
        Credential::ScriptKey(c) => {
            v.script_name = text(&c.script_name);
            v.api_key = secret(&c.api_key);
            v.secret = v.api_key;
            v.http_proxy = optional(&c.http_proxy);
        }
        Credential::SessionToken(c) => {
            v.login = text(&c.login);
            v.session_token = secret(&c.session_token);
            v.secret = v.session_token;
            v.http_proxy = optional(&c.http_proxy);
            v.session_metadata = optional(&c.session_metadata);
        }
        Credential::LoginPassword(c) => {
            v.login = text(&c.login);
            v.password = secret(&c.password);
            v.secret = v.password;
            v.http_proxy = optional(&c.http_proxy);
        }
        // The view has no member for the context's bytes: FV_FIELD_TANK_CONTEXT.
        Credential::TankContext(c) => fill_view(v, c.user()),
        // Nor for a Flow pair's names and refresh token: FV_FIELD_APP_ID and the rest.
        Credential::FlowToken(c) => v.secret = secret(&c.access_token),
    }
}

/// Bytes borrowed from the library: `len` bytes at `data`, NOT NUL-terminated.
/// `data` is NULL (and `len` 0) when there is no value; a value that is present but
/// empty has a non-NULL `data` and `len` 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fv_bytes {
    /// The first byte, or NULL for no value.
    pub data: *const u8,
    /// The number of bytes at `data`.
    pub len: usize,
}

impl fv_bytes {
    /// No value.
    const NONE: fv_bytes = fv_bytes {
        data: std::ptr::null(),
        len: 0,
    };

    fn of(bytes: &[u8]) -> fv_bytes {
        fv_bytes {
            data: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// Everything an entry holds, in one struct the caller provides, filled by
/// `fv_entry_get_view` or `fv_vault_get_view`: the kind, the times, and every field
/// of the credential as an `fv_bytes` borrowed from the entry.
///
/// The pointers are valid until the entry is freed (`fv_entry_free`, or
/// `fv_list_free` for an entry of a list) and are not NUL-terminated; the secret
/// fields are wiped when the entry is freed. Copy out only what you must, and wipe
/// your copy too. A field the kind does not have, or an optional one that is unset
/// (a proxy), is `{NULL, 0}`; an entry holding metadata only (`fv_vault_metadata`,
/// `fv_vault_list`) has its name and host, and every other field `{NULL, 0}`.
///
/// The struct may grow at its end in later versions; the function filling it is
/// told `sizeof(fv_entry_view)` as the caller knows it, and `size` says how many
/// bytes the library filled in (members past it, from a newer header than the
/// library, are set to zero).
///
/// ```c
/// fv_entry *entry = NULL;
/// fv_entry_view view;
/// if (fv_vault_get_view(vault, "sg/render_farm", &entry, &view, sizeof view) == FV_OK) {
///     use_key(view.api_key.data, view.api_key.len);
/// }
/// fv_entry_free(entry);                 // wipes the key the view pointed at
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct fv_entry_view {
    /// The number of bytes of this struct the library filled in: the size of the
    /// `fv_entry_view` it was built with, at most the size the caller passed.
    pub size: usize,
    /// The kind (an `fv_kind` value).
    pub kind: u32,
    /// Whether the entry holds its credential (see `fv_entry_has_credential`).
    pub has_credential: bool,
    /// When the entry was first stored, in seconds since 1970 (UTC).
    pub created: u64,
    /// When the entry was last written (put or renew), in seconds since 1970 (UTC).
    pub updated: u64,
    /// When the entry expires, in seconds since 1970 (UTC); 0 if it never does.
    pub expires: u64,
    /// The entry's name (UTF-8).
    pub name: fv_bytes,
    /// FV_FIELD_HOST: the site URL (UTF-8); {NULL, 0} for an opaque entry.
    pub host: fv_bytes,
    /// FV_FIELD_LOGIN (session token, login/password).
    pub login: fv_bytes,
    /// FV_FIELD_SCRIPT_NAME (script key).
    pub script_name: fv_bytes,
    /// FV_FIELD_API_KEY (script key). Secret.
    pub api_key: fv_bytes,
    /// FV_FIELD_SESSION_TOKEN (session token). Secret.
    pub session_token: fv_bytes,
    /// FV_FIELD_SESSION_METADATA (session token; often unset). Secret.
    pub session_metadata: fv_bytes,
    /// FV_FIELD_HTTP_PROXY (any typed kind; often unset). Secret.
    pub http_proxy: fv_bytes,
    /// FV_FIELD_PASSWORD (login/password). Secret.
    pub password: fv_bytes,
    /// FV_FIELD_SECRET: the main secret of any kind (the opaque bytes, API key,
    /// token or password; the same bytes as the kind's own field). Secret.
    pub secret: fv_bytes,
}

/// Entries of a listing; each is lent to C as a borrowed `fv_entry` until the list
/// is freed.
pub(crate) struct ListData {
    entries: Vec<EntryData>,
    /// The borrowed handle of each entry, in the same order.
    handles: Vec<*const fv_entry>,
}

impl ListData {
    pub(crate) fn new(metas: Vec<EntryMeta>) -> ListData {
        let entries: Vec<EntryData> = metas.into_iter().map(EntryData::meta).collect();
        // The Vec is never changed again, so the entries stay where they are until
        // drop, which ends every loan first.
        let handles = entries.iter().map(handle::lend::<fv_entry>).collect();
        ListData { entries, handles }
    }
}

impl Drop for ListData {
    fn drop(&mut self) {
        for h in &self.handles {
            handle::end_loan(*h);
        }
    }
}

/// A listing from `fv_vault_list`, sorted by name. Free it with `fv_list_free`.
pub struct fv_list {
    _private: [u8; 0],
}

impl Castable for fv_list {
    type Ownership = OwnedBox;
    type Rust = ListData;
    const TYPE: HandleType = HandleType::List;
}

ffi_fn! {
    /// The entry's kind (an `fv_kind` value).
    ///
    /// Returns FV_KIND_INVALID (with a message) if `entry` is NULL or freed.
    #[fallback(FV_KIND_INVALID)]
    fn fv_entry_kind(entry: *const fv_entry) -> u32 {
        Ok(try_ref!(entry).meta.kind as u32)
    }
}

ffi_fn! {
    /// The entry's name, NUL-terminated UTF-8.
    ///
    /// Returns a pointer borrowed from `entry`, valid until it is freed (or its list
    /// is); NULL (with a message) if `entry` is NULL or freed.
    fn fv_entry_name(entry: *const fv_entry) -> *const c_char {
        let entry = try_ref!(entry);
        Ok(entry.c_name.get_or_init(|| c_text(&entry.meta.name)).as_ptr())
    }
}

ffi_fn! {
    /// The site URL of a typed credential, NUL-terminated UTF-8; available from
    /// metadata too (it is not secret).
    ///
    /// Returns a pointer borrowed from `entry`, valid until it is freed (or its list
    /// is); NULL for an opaque entry, and NULL with a message if `entry` is NULL or freed.
    fn fv_entry_host(entry: *const fv_entry) -> *const c_char {
        let entry = try_ref!(entry);
        let host = entry.c_host.get_or_init(|| entry.meta.host.as_deref().map(c_text));
        Ok(host.as_ref().map_or(std::ptr::null(), |h| h.as_ptr()))
    }
}

ffi_fn! {
    /// When the entry was first stored, in seconds since 1970 (UTC).
    ///
    /// Returns 0 (with a message) if `entry` is NULL or freed.
    fn fv_entry_created(entry: *const fv_entry) -> u64 {
        Ok(try_ref!(entry).meta.created.secs())
    }
}

ffi_fn! {
    /// When the entry was last written (put or renew), in seconds since 1970 (UTC).
    ///
    /// Returns 0 (with a message) if `entry` is NULL or freed.
    fn fv_entry_updated(entry: *const fv_entry) -> u64 {
        Ok(try_ref!(entry).meta.updated.secs())
    }
}

ffi_fn! {
    /// When the entry expires, in seconds since 1970 (UTC); 0 if it never does.
    /// Entries of a list may already have expired (a read of one answers FV_EXPIRED;
    /// `fv_vault_purge_expired` removes them).
    ///
    /// Returns 0 (with a message) if `entry` is NULL or freed.
    fn fv_entry_expires(entry: *const fv_entry) -> u64 {
        Ok(try_ref!(entry).meta.expires.map_or(0, |t| t.secs()))
    }
}

ffi_fn! {
    /// Whether the entry holds its credential (it came from `fv_vault_get`) rather than
    /// metadata only (`fv_vault_metadata`, `fv_vault_list`).
    ///
    /// Returns false (with a message) if `entry` is NULL or freed.
    fn fv_entry_has_credential(entry: *const fv_entry) -> bool {
        Ok(try_ref!(entry).credential.is_some())
    }
}

ffi_fn! {
    /// Copies one field of the entry's credential (an `fv_field` value) into a new
    /// secret: how C reads a host, login, script name, API key or token without a
    /// JSON parser.
    ///
    /// `out`: receives an own `fv_secret *`; free it with `fv_secret_free`.
    /// Returns FV_NOT_FOUND when the kind has no such field or it is unset (an
    /// optional proxy); FV_INVALID_ARGUMENT for an unknown field number, an entry
    /// holding metadata only, or a NULL or freed argument.
    fn fv_entry_field(entry: *const fv_entry, field: u32, out: *mut *mut fv_secret) -> fv_result {
        let out = try_out!(out);
        let entry = try_ref!(entry);
        let owner = || format!("entry {:?}", entry.meta.name);
        let value = credential::field_value(entry.credential()?, field, owner)?;
        out.write(secret::new_secret(value));
        Ok(())
    }
}

ffi_fn! {
    /// Copies the entry's credential into a new credential handle: to store it under
    /// another name or in another vault, or to export it (`fv_sgtk_to_json`).
    ///
    /// `out`: receives an own `fv_credential *`; free it with `fv_credential_free`.
    /// Returns FV_INVALID_ARGUMENT for an entry holding metadata only or a NULL or
    /// freed argument.
    fn fv_entry_credential(entry: *const fv_entry, out: *mut *mut fv_credential) -> fv_result {
        let out = try_out!(out);
        let credential = try_ref!(entry).credential()?.clone();
        out.write(handle::new_box::<fv_credential>(credential));
        Ok(())
    }
}

ffi_fn! {
    /// Fills `*view_out` with everything the entry holds: kind, times, name, and every
    /// field of its credential, borrowed from `entry` (see `fv_entry_view`). One call
    /// instead of one per field: what bindings that pay per call (Python's ctypes) use.
    /// Works on every entry: one from `fv_vault_get` has its fields, one holding
    /// metadata only has its name and host.
    ///
    /// `view_size` is `sizeof(fv_entry_view)` (at least the size of this library's
    /// struct, at most 4096). `view_out` receives the view; its pointers are valid
    /// until the entry (or its list) is freed. Returns FV_INVALID_ARGUMENT for a NULL,
    /// closed or freed argument or a `view_size` out of range.
    fn fv_entry_get_view(
        entry: *const fv_entry,
        view_out: *mut fv_entry_view,
        view_size: usize,
    ) -> fv_result {
        let out = try_view_out!(view_out, view_size);
        out.write(try_ref!(entry).view());
        Ok(())
    }
}

ffi_fn! {
    /// Wipes the entry's credential, then frees it. NULL is a no-op. An entry of an
    /// `fv_list` is not freed (free the list); that, and an entry already freed, is
    /// reported through `fv_last_error_message`.
    fn fv_entry_free(entry: *mut fv_entry) {
        handle::free_box(entry, "entry")
    }
}

ffi_fn! {
    /// The number of entries in the list.
    ///
    /// Returns 0 (with a message) if `list` is NULL or freed.
    fn fv_list_len(list: *const fv_list) -> usize {
        Ok(try_ref!(list).entries.len())
    }
}

ffi_fn! {
    /// The entry at `index` (0 to `fv_list_len(list) - 1`), metadata only.
    ///
    /// Returns a pointer borrowed from `list`, valid until `fv_list_free(list)`; do not
    /// free it. NULL (with a message) past the end or if `list` is NULL or freed.
    fn fv_list_get(list: *const fv_list, index: usize) -> *const fv_entry {
        let list = try_ref!(list);
        list.handles.get(index).copied().ok_or_else(|| {
            Failure::invalid(format!(
                "index {index} is past the end of the list ({} entries)",
                list.entries.len()
            ))
        })
    }
}

ffi_fn! {
    /// Frees the list and every entry borrowed from it. NULL is a no-op; a list already
    /// freed is detected and reported through `fv_last_error_message`.
    fn fv_list_free(list: *mut fv_list) {
        handle::free_box(list, "list")
    }
}
