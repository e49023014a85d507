//! `fv_wipe`: zeroes a copy of a secret in the caller's own memory, and nothing around
//! it; NULL with a length of 0 is a no-op, NULL with a length above 0 wipes nothing and
//! says so.

use crate::support::*;
use farmvault::ffi::fv_result::*;
use farmvault::ffi::*;
use std::ptr::null_mut;

#[test]
fn wipe_zeroes_a_copy_of_a_secret_and_nothing_around_it() {
    let mut cred = null_mut();
    let mut secret = null_mut();
    // SAFETY: literals and live out-params; the handles are freed once, and the
    // secret's bytes are copied out before its free.
    let copy = unsafe {
        let key = b"KEY-0123456789abcdef";
        assert_eq!(
            fv_credential_new_opaque(key.as_ptr(), key.len(), &mut cred),
            FV_OK
        );
        assert_eq!(
            fv_credential_field(cred, fv_field::Secret as u32, &mut secret),
            FV_OK
        );
        fv_credential_free(cred);
        let data = fv_secret_data(secret);
        let copy = std::slice::from_raw_parts(data, fv_secret_len(secret)).to_vec();
        fv_secret_free(secret);
        copy
    };
    assert_eq!(copy, b"KEY-0123456789abcdef");
    // The copy in the middle of a larger buffer of the caller's.
    let mut buf = vec![0xa5u8; 64];
    buf[16..16 + copy.len()].copy_from_slice(&copy);
    let secret_part = 16..16 + copy.len();
    // SAFETY: `buf` is a live local, writable for the range passed.
    unsafe { fv_wipe(buf[secret_part.clone()].as_mut_ptr().cast(), copy.len()) };
    assert!(buf[secret_part.clone()].iter().all(|b| *b == 0), "{buf:?}");
    assert!(buf[..secret_part.start].iter().all(|b| *b == 0xa5));
    assert!(buf[secret_part.end..].iter().all(|b| *b == 0xa5));
    // A whole buffer, and one byte.
    let mut whole = copy.clone();
    let mut one = [0xffu8];
    // SAFETY: live locals, writable for the lengths passed.
    unsafe {
        fv_wipe(whole.as_mut_ptr().cast(), whole.len());
        fv_wipe(one.as_mut_ptr().cast(), 1);
    }
    assert_eq!(whole, vec![0; copy.len()]);
    assert_eq!(one, [0]);
}

#[test]
fn wipe_of_null_or_nothing_touches_nothing() {
    let mut buf = [7u8; 8];
    // SAFETY: NULL is checked by the library; `buf` is a live local, and the lengths
    // past its size are refused before anything is written.
    unsafe {
        // Leave a known message, which a call that succeeds does not replace.
        fails(
            fv_credential_new_opaque(std::ptr::null(), 1, &mut null_mut()),
            FV_INVALID_ARGUMENT,
            "secret is NULL",
        );
        fv_wipe(null_mut(), 0);
        assert!(
            msg().contains("secret is NULL"),
            "NULL with 0 is fine: {}",
            msg()
        );
        fv_wipe(buf.as_mut_ptr().cast(), 0);
        assert!(msg().contains("secret is NULL"), "{}", msg());
        assert_eq!(buf, [7; 8], "a length of 0 wipes nothing");

        fv_wipe(null_mut(), 5);
        assert!(msg().contains("ptr is NULL and len is 5"), "{}", msg());
        fv_wipe(buf.as_mut_ptr().cast(), usize::MAX);
        assert!(msg().contains("more than any buffer"), "{}", msg());
        assert_eq!(buf, [7; 8], "an impossible length wipes nothing");
    }
}
