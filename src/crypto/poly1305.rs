//! Poly1305, the one-time authenticator of RFC 8439 section 2.5, in portable
//! code: the accumulator and `r` in five 26-bit limbs, products in 64 bits, the
//! layout of Andrew Moon's poly1305-donna. Adapted from the portable ("soft")
//! backend of RustCrypto's `poly1305` crate (Apache-2.0 OR MIT).
//!
//! farmvault computes Poly1305 itself because the crate picks its AVX2 backend at
//! run time whenever the CPU has AVX2, and that backend's per-key setup (powers
//! of `r` for four-way blocks) dominates the short messages a vault seals: on the
//! bench machine it made a 64-byte seal 2.4x and an open 3.4x slower than this
//! code (docs/PERFORMANCE.md). The crate offers no other way to choose than a
//! `--cfg` every build would have to pass, which neither a crate depending on
//! farmvault, nor a Python sdist, nor a `RUSTFLAGS` of the user's would carry.
//!
//! Only what XChaCha20-Poly1305 needs is here: every message it authenticates is
//! zero-padded to whole 16-byte blocks (RFC 8439 section 2.8), so there is no
//! partial last block.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a Poly1305 key (`r` then `s`).
pub const KEY_LEN: usize = 32;
/// Length of a block and of the tag.
pub const BLOCK_LEN: usize = 16;

/// A Poly1305 computation under one key; wiped when dropped.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Poly1305 {
    /// `r`, clamped (RFC 8439 section 2.5), in 26-bit limbs.
    r: [u32; 5],
    /// The accumulator, in 26-bit limbs (partly reduced between blocks).
    h: [u32; 5],
    /// `s`, added at the end.
    s: [u32; 4],
}

/// The little-endian 32-bit word at `at`.
fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

impl Poly1305 {
    /// Starts a computation under the one-time `key` (`r ‖ s`).
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Poly1305 {
        Poly1305 {
            // r &= 0x0ffffffc0ffffffc0ffffffc0fffffff, split into 26-bit limbs.
            r: [
                word(key, 0) & 0x3ff_ffff,
                (word(key, 3) >> 2) & 0x3ff_ff03,
                (word(key, 6) >> 4) & 0x3ff_c0ff,
                (word(key, 9) >> 6) & 0x3f0_3fff,
                (word(key, 12) >> 8) & 0x00f_ffff,
            ],
            h: [0; 5],
            s: [word(key, 16), word(key, 20), word(key, 24), word(key, 28)],
        }
    }

    /// `h = (h + block + 2^128) * r mod 2^130 - 5` for one whole block.
    fn block(&mut self, block: &[u8; BLOCK_LEN]) {
        let [r0, r1, r2, r3, r4] = self.r.map(u64::from);
        let (s1, s2, s3, s4) = (r1 * 5, r2 * 5, r3 * 5, r4 * 5);

        let h0 = u64::from(self.h[0] + (word(block, 0) & 0x3ff_ffff));
        let h1 = u64::from(self.h[1] + ((word(block, 3) >> 2) & 0x3ff_ffff));
        let h2 = u64::from(self.h[2] + ((word(block, 6) >> 4) & 0x3ff_ffff));
        let h3 = u64::from(self.h[3] + ((word(block, 9) >> 6) & 0x3ff_ffff));
        // The 2^128 bit of a whole block.
        let h4 = u64::from(self.h[4] + ((word(block, 12) >> 8) | (1 << 24)));

        // h * r, where a limb past the fifth wraps around times 5 (2^130 = 5 mod p).
        let d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
        let mut d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
        let mut d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
        let mut d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
        let mut d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;

        // Carry back into 26-bit limbs (a partial reduction mod p).
        let mask = 0x3ff_ffff;
        d1 += d0 >> 26;
        d2 += d1 >> 26;
        d3 += d2 >> 26;
        d4 += d3 >> 26;
        let mut h0 = (d0 & mask) as u32 + (d4 >> 26) as u32 * 5;
        let h1 = (d1 & mask) as u32 + (h0 >> 26);
        h0 &= mask as u32;
        self.h = [
            h0,
            h1,
            (d2 & mask) as u32,
            (d3 & mask) as u32,
            (d4 & mask) as u32,
        ];
    }

    /// Absorbs `data` zero-padded to whole blocks (RFC 8439's `pad16`).
    pub(crate) fn update_padded(&mut self, data: &[u8]) {
        let mut blocks = data.chunks_exact(BLOCK_LEN);
        for b in &mut blocks {
            self.block(b.try_into().expect("chunks_exact gives whole blocks"));
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; BLOCK_LEN];
            last[..rest.len()].copy_from_slice(rest);
            self.block(&last);
            last.zeroize();
        }
    }

    /// Absorbs one whole block (the lengths block of RFC 8439 section 2.8).
    pub(crate) fn update_block(&mut self, block: &[u8; BLOCK_LEN]) {
        self.block(block);
    }

    /// The tag: `h` fully reduced mod `2^130 - 5`, plus `s`, mod `2^128`.
    pub(crate) fn finalize(self) -> [u8; BLOCK_LEN] {
        let [mut h0, mut h1, mut h2, mut h3, mut h4] = self.h;
        let mask = 0x3ff_ffff;
        // Carry fully.
        h2 += h1 >> 26;
        h1 &= mask;
        h3 += h2 >> 26;
        h2 &= mask;
        h4 += h3 >> 26;
        h3 &= mask;
        h0 += (h4 >> 26) * 5;
        h4 &= mask;
        h1 += h0 >> 26;
        h0 &= mask;

        // g = h + 5 - 2^130; h < p exactly when that goes negative.
        let mut g0 = h0.wrapping_add(5);
        let mut g1 = h1.wrapping_add(g0 >> 26);
        g0 &= mask;
        let mut g2 = h2.wrapping_add(g1 >> 26);
        g1 &= mask;
        let mut g3 = h3.wrapping_add(g2 >> 26);
        g2 &= mask;
        let mut g4 = h4.wrapping_add(g3 >> 26).wrapping_sub(1 << 26);
        g3 &= mask;

        // Constant time: keep h when g's top bit says it went negative, else g.
        let take_g = (g4 >> 31).wrapping_sub(1);
        g0 &= take_g;
        g1 &= take_g;
        g2 &= take_g;
        g3 &= take_g;
        g4 &= take_g;
        let keep_h = !take_g;
        h0 = (h0 & keep_h) | g0;
        h1 = (h1 & keep_h) | g1;
        h2 = (h2 & keep_h) | g2;
        h3 = (h3 & keep_h) | g3;
        h4 = (h4 & keep_h) | g4;

        // Four 32-bit words of h mod 2^128, then + s with carries.
        let words = [
            h0 | (h1 << 26),
            (h1 >> 6) | (h2 << 20),
            (h2 >> 12) | (h3 << 14),
            (h3 >> 18) | (h4 << 8),
        ];
        let mut tag = [0u8; BLOCK_LEN];
        let mut carry = 0u64;
        for (i, (w, s)) in words.iter().zip(self.s).enumerate() {
            let sum = u64::from(*w) + u64::from(s) + carry;
            tag[4 * i..4 * i + 4].copy_from_slice(&(sum as u32).to_le_bytes());
            carry = sum >> 32;
        }
        tag
    }
}
