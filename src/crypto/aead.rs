//! XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03, section 2) over the
//! ChaCha20-Poly1305 construction of RFC 8439, section 2.8:
//!
//! - `k' = HChaCha20(k, nonce[0..16])`, ChaCha20 under `k'` with the 12-byte
//!   nonce `0^4 ‖ nonce[16..24]` (the `chacha20` crate's `XChaCha20`, which
//!   picks its AVX2 or SSE2 code at run time);
//! - the Poly1305 key is the first 32 bytes of keystream block 0, and the
//!   message is encrypted from block 1;
//! - `tag = Poly1305(aad ‖ pad16 ‖ ciphertext ‖ pad16 ‖ le64(|aad|) ‖ le64(|ciphertext|))`
//!   (this module's `poly1305`, portable code: see there why).
//!
//! The bytes are those of the `chacha20poly1305` crate's `XChaCha20Poly1305`,
//! which sealed every record before this module and which the tests compare
//! against, record for record.

use super::poly1305::{Poly1305, BLOCK_LEN, KEY_LEN as MAC_KEY_LEN};
use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::XChaCha20;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// ChaCha20's block: the Poly1305 key takes block 0, the message starts at block 1.
const CHACHA_BLOCK: usize = 64;
/// The longest message ChaCha20's 32-bit block counter covers after block 0.
const MAX_MESSAGE: u64 = (u32::MAX as u64 - 1) * CHACHA_BLOCK as u64;

/// The cipher positioned at block 1 and the Poly1305 keyed from block 0.
fn start(key: &[u8; 32], nonce: &[u8; 24]) -> (XChaCha20, Poly1305) {
    let mut cipher = XChaCha20::new(key.into(), nonce.into());
    let mut block0 = Zeroizing::new([0u8; CHACHA_BLOCK]);
    cipher.apply_keystream(&mut block0[..]);
    let mac_key: &[u8; MAC_KEY_LEN] = block0[..MAC_KEY_LEN]
        .try_into()
        .expect("a keystream block is longer than a Poly1305 key");
    (cipher, Poly1305::new(mac_key))
}

/// The tag over `aad` and `ciphertext`.
fn tag(mut mac: Poly1305, aad: &[u8], ciphertext: &[u8]) -> [u8; BLOCK_LEN] {
    mac.update_padded(aad);
    mac.update_padded(ciphertext);
    let mut lengths = [0u8; BLOCK_LEN];
    lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
    lengths[8..].copy_from_slice(&(ciphertext.len() as u64).to_le_bytes());
    mac.update_block(&lengths);
    mac.finalize()
}

/// Encrypts `buf` in place and returns its tag; `None` (and `buf` untouched) for a
/// message longer than ChaCha20's counter covers (256 GiB).
pub(crate) fn seal_in_place(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
) -> Option<[u8; BLOCK_LEN]> {
    if buf.len() as u64 > MAX_MESSAGE {
        return None;
    }
    let (mut cipher, mac) = start(key, nonce);
    cipher.apply_keystream(buf);
    Some(tag(mac, aad, buf))
}

/// Checks `expected` over `aad` and the ciphertext in `buf` in constant time,
/// then decrypts `buf` in place. `false` (and `buf` still ciphertext) when the
/// tag does not match: wrong key, or the bytes, nonce or aad were changed.
pub(crate) fn open_in_place(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    expected: &[u8; BLOCK_LEN],
) -> bool {
    if buf.len() as u64 > MAX_MESSAGE {
        return false;
    }
    let (mut cipher, mac) = start(key, nonce);
    if !bool::from(tag(mac, aad, buf).ct_eq(expected)) {
        return false;
    }
    cipher.apply_keystream(buf);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::XChaCha20Poly1305;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    #[test]
    fn the_drafts_test_vector() {
        let key: [u8; 32] = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
            .try_into()
            .unwrap();
        let nonce: [u8; 24] = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
            .try_into()
            .unwrap();
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let cipher = hex(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
             731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
             2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
             21f9664c97637da9768812f615c68b13b52e",
        );
        let want_tag = hex("c0875924c1c7987947deafd8780acf49");
        let mut buf = plain.to_vec();
        let got = seal_in_place(&key, &nonce, &aad, &mut buf).unwrap();
        assert_eq!(buf, cipher);
        assert_eq!(got.to_vec(), want_tag);
        assert!(open_in_place(&key, &nonce, &aad, &mut buf, &got));
        assert_eq!(buf, plain);
    }

    /// Every length from 0 to 300 bytes (all the pad16 cases, one to several
    /// ChaCha20 blocks) and a few large ones, with AADs of 0 to 40 bytes: the
    /// same bytes as the `chacha20poly1305` crate, each opened by the other.
    #[test]
    fn same_bytes_as_the_chacha20poly1305_crate() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let lengths = (0..=300).chain([1023, 1024, 1025, 4096, 65_536 + 7]);
        for len in lengths {
            let key: [u8; 32] = std::array::from_fn(|_| next() as u8);
            let nonce: [u8; 24] = std::array::from_fn(|_| next() as u8);
            let aad: Vec<u8> = (0..(next() % 41)).map(|_| next() as u8).collect();
            let plain: Vec<u8> = (0..len).map(|_| next() as u8).collect();

            let mut ours = plain.clone();
            let our_tag = seal_in_place(&key, &nonce, &aad, &mut ours).unwrap();
            let crate_cipher = XChaCha20Poly1305::new(&key.into());
            let mut theirs = plain.clone();
            let their_tag = crate_cipher
                .encrypt_inout_detached(&nonce.into(), &aad, theirs.as_mut_slice().into())
                .unwrap();
            assert_eq!(ours, theirs, "ciphertext of {len} bytes");
            assert_eq!(&our_tag[..], &their_tag[..], "tag of {len} bytes");

            let mut back = theirs.clone();
            assert!(open_in_place(
                &key,
                &nonce,
                &aad,
                &mut back,
                &their_tag.into()
            ));
            assert_eq!(back, plain);
            let mut back = ours.clone();
            crate_cipher
                .decrypt_inout_detached(
                    &nonce.into(),
                    &aad,
                    back.as_mut_slice().into(),
                    &our_tag.into(),
                )
                .unwrap();
            assert_eq!(back, plain);
        }
    }

    /// Poly1305's final reduction on accumulators at and just past the prime:
    /// keys of all-ones `r` and `s` bits and messages of 0xff bytes push `h` to
    /// its largest values; the crate's AVX2 and portable code agree with ours.
    #[test]
    fn extreme_values_match_the_crate() {
        for fill in [0x00u8, 0xff] {
            for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 256] {
                let key = [0xffu8; 32];
                let nonce = [fill; 24];
                let aad = vec![0xffu8; len % 33];
                let plain = vec![0xffu8; len];
                let mut ours = plain.clone();
                let our_tag = seal_in_place(&key, &nonce, &aad, &mut ours).unwrap();
                let mut theirs = plain.clone();
                let their_tag = XChaCha20Poly1305::new(&key.into())
                    .encrypt_inout_detached(&nonce.into(), &aad, theirs.as_mut_slice().into())
                    .unwrap();
                assert_eq!(&our_tag[..], &their_tag[..], "fill {fill:#x}, {len} bytes");
            }
        }
    }

    #[test]
    fn a_changed_byte_fails_and_leaves_the_ciphertext() {
        let (key, nonce) = ([1u8; 32], [2u8; 24]);
        let mut buf = b"secret".to_vec();
        let t = seal_in_place(&key, &nonce, b"aad", &mut buf).unwrap();
        let sealed = buf.clone();
        for i in 0..buf.len() {
            let mut changed = sealed.clone();
            changed[i] ^= 0x80;
            assert!(!open_in_place(&key, &nonce, b"aad", &mut changed, &t));
            assert_eq!(
                changed[i],
                sealed[i] ^ 0x80,
                "a refused open decrypts nothing"
            );
        }
        let mut other_tag = t;
        other_tag[15] ^= 1;
        assert!(!open_in_place(
            &key,
            &nonce,
            b"aad",
            &mut buf.clone(),
            &other_tag
        ));
        assert!(!open_in_place(
            &key,
            &[3u8; 24],
            b"aad",
            &mut buf.clone(),
            &t
        ));
        assert!(!open_in_place(&key, &nonce, b"aae", &mut buf.clone(), &t));
        assert!(open_in_place(&key, &nonce, b"aad", &mut buf, &t));
        assert_eq!(buf, b"secret");
    }
}
