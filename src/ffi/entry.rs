//! `fv_entry` (an entry read back, with or without its credential) and `fv_list`.

use super::credential::{self, fv_credential, FV_KIND_INVALID};
use super::handle::{self, Castable, HandleType, OwnedBox};
use super::result::Failure;
use super::secret::{self, fv_secret};
use crate::credential::Credential;
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
    /// call: most entries are read through `fv_entry_field` and never need them
    /// (building them on every get was a cost of the ABI, issue 6).
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
}

/// Entries of a listing; each is lent to C as a borrowed `fv_entry` until the list
/// is freed.
pub(crate) struct ListData {
    entries: Vec<EntryData>,
    handles: Vec<*const fv_entry>,
}

impl ListData {
    pub(crate) fn new(metas: Vec<EntryMeta>) -> ListData {
        let entries: Vec<EntryData> = metas.into_iter().map(EntryData::meta).collect();
        // The Vec is never changed again, so these addresses stay valid until drop.
        let handles = entries.iter().map(handle::lend::<fv_entry>).collect();
        ListData { entries, handles }
    }
}

impl Drop for ListData {
    fn drop(&mut self) {
        for e in &self.entries {
            handle::end_loan::<fv_entry>(e);
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
    /// Entries of a list may already have expired (a read would remove them).
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
    /// Wipes the entry's credential, then frees it. NULL is a no-op. An entry of an
    /// `fv_list` is not freed (free the list); that, and an entry already freed, is
    /// reported through `fv_last_error_message` where it can be detected.
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
    /// freed is detected where possible and reported through `fv_last_error_message`.
    fn fv_list_free(list: *mut fv_list) {
        handle::free_box(list, "list")
    }
}
