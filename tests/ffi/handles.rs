//! Handles are ids that are never issued twice: a closed or freed handle is refused
//! for the rest of the process, however many handles are made after it, and never
//! reaches a value made later (as a reused address would: the allocator hands a freed
//! block of the same size to the next allocation).

use crate::support::*;
use farmvault::ffi::fv_result::*;
use farmvault::ffi::*;
use std::collections::HashSet;
use std::ffi::CString;
use std::ptr::{null, null_mut};

/// Open/close rounds: each opens two vaults and makes and frees every other kind of
/// handle twice.
const ROUNDS: usize = 1000;

/// Every handle value the library gave out, to show that none is given out twice.
#[derive(Default)]
struct Issued(HashSet<usize>);

impl Issued {
    /// Records a handle just received; fails if it was ever given out before.
    #[track_caller]
    fn fresh<T>(&mut self, handle: *const T) {
        assert!(!handle.is_null(), "{}", msg());
        let value = handle.addr();
        assert!(
            self.0.insert(value),
            "handle {value:#x} was given out before: a stale handle would reach this one"
        );
    }
}

fn open(path: &CString, create: bool) -> *mut fv_vault {
    let mut opts = null_mut();
    let mut vault = null_mut();
    // SAFETY: live C strings, literals and out-params; `opts` is freed once.
    unsafe {
        assert_eq!(fv_options_new(&mut opts), FV_OK);
        assert_eq!(fv_options_set_kdf(opts, 8, 1, 1), FV_OK);
        let how = if create {
            fv_vault_create_passphrase
        } else {
            fv_vault_open_passphrase
        };
        assert_eq!(
            how(path.as_ptr(), b"pw".as_ptr(), 2, opts, &mut vault),
            FV_OK,
            "{}",
            msg()
        );
        fv_options_free(opts);
    }
    vault
}

#[test]
fn stale_handles_are_refused_and_never_alias_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let a = cpath(&dir.path().join("a"));
    let b = cpath(&dir.path().join("b"));
    let vb = open(&b, true);
    // SAFETY: a live handle and literals; closed once.
    unsafe {
        assert_eq!(
            fv_vault_put(vb, c"only-in-b".as_ptr(), b"B".as_ptr(), 1, 0),
            FV_OK
        );
        fv_vault_close(vb);
        fv_vault_close(open(&a, true));
    }
    // Kept open through the loop, so that each open in it reuses the process's store of
    // the vault and costs only the unlock (a handle is still made and freed each time).
    let (keep_a, keep_b) = (open(&a, false), open(&b, false));
    let mut issued = Issued::default();
    let mut stale_vaults = Vec::new();
    for _ in 0..ROUNDS {
        // SAFETY: every handle passed is live or one this test closed or freed: the
        // library must refuse those without dereferencing anything, which is what is
        // under test. Out-params are live locals; borrowed text is copied at once.
        unsafe {
            // A vault closed, then another opened: the closed handle must not reach it.
            let va = open(&a, false);
            issued.fresh(va);
            fv_vault_close(va);
            let vb = open(&b, false);
            let mut e = null_mut();
            fails(
                fv_vault_get(va, c"only-in-b".as_ptr(), &mut e),
                FV_INVALID_ARGUMENT,
                "vault: fv_vault handle is closed or invalid",
            );
            assert!(e.is_null(), "a refused get writes no entry");
            fails(
                fv_vault_put(va, c"through-a-stale-handle".as_ptr(), b"x".as_ptr(), 1, 0),
                FV_INVALID_ARGUMENT,
                "vault: fv_vault handle is closed or invalid",
            );
            issued.fresh(vb);

            // Entries: freed, then another read.
            let mut e1 = null_mut();
            assert_eq!(fv_vault_get(vb, c"only-in-b".as_ptr(), &mut e1), FV_OK);
            issued.fresh(e1);
            fv_entry_free(e1);
            let mut e2 = null_mut();
            assert_eq!(fv_vault_get(vb, c"only-in-b".as_ptr(), &mut e2), FV_OK);
            assert_eq!(fv_entry_kind(e1), FV_KIND_INVALID);
            assert!(msg().contains("entry: fv_entry handle is closed or invalid"));
            issued.fresh(e2);

            // Secrets.
            let mut s1 = null_mut();
            assert_eq!(fv_entry_field(e2, fv_field::Secret as u32, &mut s1), FV_OK);
            issued.fresh(s1);
            fv_secret_free(s1);
            let mut s2 = null_mut();
            assert_eq!(fv_entry_field(e2, fv_field::Secret as u32, &mut s2), FV_OK);
            assert!(fv_secret_data(s1).is_null());
            assert!(msg().contains("secret: fv_secret handle is closed or invalid"));
            issued.fresh(s2);
            assert_eq!(take(s2), b"B");

            // Credentials.
            let mut c1 = null_mut();
            assert_eq!(fv_entry_credential(e2, &mut c1), FV_OK);
            issued.fresh(c1);
            fv_credential_free(c1);
            let mut c2 = null_mut();
            assert_eq!(fv_entry_credential(e2, &mut c2), FV_OK);
            assert_eq!(fv_credential_kind(c1), FV_KIND_INVALID);
            assert!(msg().contains("credential: fv_credential handle is closed or invalid"));
            issued.fresh(c2);
            fv_entry_free(e2);

            // Lists and the entries they lend.
            let mut l1 = null_mut();
            assert_eq!(fv_vault_list(vb, null(), &mut l1), FV_OK);
            issued.fresh(l1);
            let lent1 = fv_list_get(l1, 0);
            issued.fresh(lent1);
            fv_list_free(l1);
            let mut l2 = null_mut();
            assert_eq!(fv_vault_list(vb, null(), &mut l2), FV_OK);
            assert_eq!(fv_list_len(l1), 0);
            assert!(msg().contains("list: fv_list handle is closed or invalid"));
            issued.fresh(l2);
            let lent2 = fv_list_get(l2, 0);
            assert!(fv_entry_name(lent1).is_null());
            assert!(msg().contains("entry: fv_entry handle is closed or invalid"));
            issued.fresh(lent2);
            assert_eq!(text(fv_entry_name(lent2)), "only-in-b");
            fv_list_free(l2);

            // Options.
            let mut o1 = null_mut();
            assert_eq!(fv_options_new(&mut o1), FV_OK);
            issued.fresh(o1);
            fv_options_free(o1);
            let mut o2 = null_mut();
            assert_eq!(fv_options_new(&mut o2), FV_OK);
            fails(
                fv_options_set_fixed_time(o1, 1),
                FV_INVALID_ARGUMENT,
                "opts: fv_options handle is closed or invalid",
            );
            issued.fresh(o2);
            fv_options_free(o2);

            // Batches.
            let mut b1 = null_mut();
            assert_eq!(fv_batch_new(&mut b1), FV_OK);
            issued.fresh(b1);
            fv_batch_free(b1);
            let mut b2 = null_mut();
            assert_eq!(fv_batch_new(&mut b2), FV_OK);
            fails(
                fv_batch_put_credential(b1, c"copy".as_ptr(), c2, 0),
                FV_INVALID_ARGUMENT,
                "batch: fv_batch handle is closed or invalid",
            );
            issued.fresh(b2);
            assert_eq!(fv_batch_put_credential(b2, c"copy".as_ptr(), c2, 0), FV_OK);
            fv_batch_free(b2);
            fv_credential_free(c2);

            fv_vault_close(vb);
            stale_vaults.extend([va, vb]);
        }
    }
    // SAFETY: as in the loop: closed handles are passed only to be refused.
    unsafe {
        fv_vault_close(keep_a);
        fv_vault_close(keep_b);
        let vb = open(&b, false);
        for v in stale_vaults {
            let mut e = null_mut();
            fails(
                fv_vault_get(v, c"only-in-b".as_ptr(), &mut e),
                FV_INVALID_ARGUMENT,
                "vault: fv_vault handle is closed or invalid",
            );
        }
        let mut e = null_mut();
        fails(
            fv_vault_get(vb, c"through-a-stale-handle".as_ptr(), &mut e),
            FV_NOT_FOUND,
            "through-a-stale-handle",
        );
        fv_vault_close(vb);
    }
}

/// A handle is not an address: a pointer to any byte of the process, including one
/// near a live handle's value, is refused, and so is any integer but the live ids.
#[test]
fn pointers_that_are_not_handles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vault = open(&cpath(&dir.path().join("v")), true);
    let mut local = 0u64;
    // SAFETY: the handles passed are live, or values that are not handles, which the
    // library must refuse without dereferencing them.
    unsafe {
        let mut entry = null_mut();
        assert_eq!(
            fv_vault_put(vault, c"x".as_ptr(), b"x".as_ptr(), 1, 0),
            FV_OK
        );
        assert_eq!(fv_vault_get(vault, c"x".as_ptr(), &mut entry), FV_OK);
        let not_handles = [
            std::ptr::from_mut(&mut local).cast::<fv_vault>(),
            std::ptr::without_provenance_mut(1),
            std::ptr::without_provenance_mut(vault.addr() + 1),
            std::ptr::without_provenance_mut(vault.addr() ^ 0x10),
            std::ptr::without_provenance_mut(usize::MAX),
        ];
        for p in not_handles {
            fails(
                fv_vault_put(p, c"x".as_ptr(), b"y".as_ptr(), 1, 0),
                FV_INVALID_ARGUMENT,
                "fv_vault handle is closed or invalid (already freed, or not from farmvault)",
            );
        }
        fails(
            fv_vault_put(entry.cast(), c"x".as_ptr(), b"y".as_ptr(), 1, 0),
            FV_INVALID_ARGUMENT,
            "expected an fv_vault, got an fv_entry",
        );
        assert_eq!(field(entry, fv_field::Secret).unwrap(), b"x");
        fv_entry_free(entry);
        fv_vault_close(vault);
    }
}
