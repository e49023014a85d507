//! `fv_batch`: puts and deletes applied atomically by `fv_vault_apply`.

use super::args::ttl;
use super::credential::fv_credential;
use super::handle::{self, Castable, HandleType, OwnedBox};
use super::info::FV_MAX_NAME_LEN;
use crate::credential::Credential;
use crate::secret::SecretBytes;
use crate::vault::{validate_lookup_name, validate_name, Batch};
use std::ffi::c_char;
use std::time::Duration;

/// A set of puts and deletes, applied all at once (or not at all) by `fv_vault_apply`
/// and flushed once. Inputs are copied in; the secrets it holds are wiped by
/// `fv_batch_free`. One thread at a time.
pub struct fv_batch {
    _private: [u8; 0],
}

/// One operation: a put, or a delete.
enum Op {
    Put {
        name: String,
        credential: Credential,
        ttl: Option<Duration>,
    },
    Delete {
        name: String,
    },
}

/// The Rust side of `fv_batch`. It keeps its own list (the core's `Batch` is consumed
/// by `apply`) so that `fv_vault_apply` can leave the C batch unchanged.
#[derive(Default)]
pub(crate) struct BatchData {
    ops: Vec<Op>,
}

impl Castable for fv_batch {
    type Ownership = OwnedBox;
    type Rust = BatchData;
    const TYPE: HandleType = HandleType::Batch;
}

impl BatchData {
    /// The core batch for these operations (the credentials are copied).
    pub(crate) fn to_batch(&self) -> Batch {
        let mut batch = Batch::new();
        for op in &self.ops {
            match op {
                Op::Put {
                    name,
                    credential,
                    ttl,
                } => batch.put_credential(name, credential.clone(), *ttl),
                Op::Delete { name } => batch.delete(name),
            }
        }
        batch
    }
}

ffi_fn! {
    /// Creates an empty batch.
    ///
    /// `out`: receives an own `fv_batch *`; free it with `fv_batch_free`.
    /// Returns FV_INVALID_ARGUMENT if `out` is NULL.
    fn fv_batch_new(out: *mut *mut fv_batch) -> fv_result {
        let out = try_out!(out);
        out.write(handle::new_box::<fv_batch>(BatchData::default()));
        Ok(())
    }
}

ffi_fn! {
    /// Adds a put of a copy of `secret_len` bytes at `secret` as the opaque entry
    /// `name`, with a TTL of `ttl_secs` (0: never expires). The name is checked now;
    /// the TTL when the batch is applied.
    ///
    /// Returns FV_INVALID_ARGUMENT for a bad argument (the batch is then unchanged).
    fn fv_batch_put(
        batch: *mut fv_batch,
        name: *const c_char,
        secret: *const u8,
        secret_len: usize,
        ttl_secs: u64,
    ) -> fv_result {
        let batch = try_mut!(batch);
        let name = try_cstr!(name, FV_MAX_NAME_LEN);
        validate_name(name)?;
        let secret = try_slice!(secret, secret_len);
        batch.ops.push(Op::Put {
            name: name.to_owned(),
            credential: Credential::Opaque(SecretBytes::from_slice(secret)),
            ttl: ttl(ttl_secs),
        });
        Ok(())
    }
}

ffi_fn! {
    /// Adds a put of a copy of `credential` (only read) as the entry `name`, with a TTL
    /// of `ttl_secs` (0: never expires).
    ///
    /// Returns FV_INVALID_ARGUMENT for a bad argument (the batch is then unchanged).
    fn fv_batch_put_credential(
        batch: *mut fv_batch,
        name: *const c_char,
        credential: *const fv_credential,
        ttl_secs: u64,
    ) -> fv_result {
        let batch = try_mut!(batch);
        let name = try_cstr!(name, FV_MAX_NAME_LEN);
        validate_name(name)?;
        let credential = try_ref!(credential).clone();
        batch.ops.push(Op::Put {
            name: name.to_owned(),
            credential,
            ttl: ttl(ttl_secs),
        });
        Ok(())
    }
}

ffi_fn! {
    /// Adds a delete of the entry `name` (applying fails with FV_NOT_FOUND, writing
    /// nothing, if it does not exist by then).
    ///
    /// Returns FV_INVALID_ARGUMENT for a bad argument (the batch is then unchanged).
    fn fv_batch_delete(batch: *mut fv_batch, name: *const c_char) -> fv_result {
        let batch = try_mut!(batch);
        let name = try_cstr!(name, FV_MAX_NAME_LEN);
        validate_lookup_name(name)?;
        batch.ops.push(Op::Delete {
            name: name.to_owned(),
        });
        Ok(())
    }
}

ffi_fn! {
    /// The number of operations in the batch.
    ///
    /// Returns 0 (with a message) if `batch` is NULL or freed.
    fn fv_batch_len(batch: *const fv_batch) -> usize {
        Ok(try_ref!(batch).ops.len())
    }
}

ffi_fn! {
    /// Wipes the secrets the batch holds, then frees it. NULL is a no-op; a batch
    /// already freed is detected and reported through
    /// `fv_last_error_message`.
    fn fv_batch_free(batch: *mut fv_batch) {
        handle::free_box(batch, "batch")
    }
}
