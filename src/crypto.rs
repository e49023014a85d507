//! The cryptographic primitives, in one place, written in the notation of
//! docs/DESIGN.md.
//!
//! - `seal[k](plaintext, aad)` / `open[k](ciphertext, aad)`: XChaCha20-Poly1305
//!   (draft-irtf-cfrg-xchacha, over RFC 8439) with a random 24-byte nonce per seal.
//! - `derive[dek](purpose)`: HKDF-SHA256 (RFC 5869), salt = vault id, info = purpose label.
//! - `blind[name_key](name)`: HMAC-SHA256 (RFC 2104) of the entry name.
//! - `kek = argon2id(passphrase, salt, m, t, p)` (RFC 9106) and
//!   `kek = derive[key_file](KEYFILE_KEK)` wrap the data key in keyslots.
//!
//! Keys live in types that wipe themselves on drop, each in its own allocation
//! locked in memory where the OS allows (`crate::memlock`); nothing here logs or prints.

use crate::error::{Error, Result};
use crate::memlock::{Locked, Wipe};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The Poly1305 backend this build compiled in: "portable" under
/// `--cfg poly1305_backend="soft"` (`.cargo/config.toml` gives every build in
/// the checkout and setup.py every Python build; it is several times faster on
/// credential-sized messages), else the crate's run-time detection. `farmvault
/// --version` prints it so a build's speed can be told apart from its source.
pub const POLY1305_BACKEND: &str = if cfg!(poly1305_backend = "soft") {
    "portable"
} else {
    "run-time detected"
};

/// Length of every symmetric key (data key, subkeys, key files).
pub const KEY_LEN: usize = 32;
/// Length of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of a Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Length of a blinded entry name.
pub const BLIND_LEN: usize = 32;

/// HKDF `info` labels, one per purpose; never reuse one for another purpose.
pub(crate) mod purpose {
    pub const ENTRY: &[u8] = b"farmvault/v1/entry-encryption";
    pub const NAME: &[u8] = b"farmvault/v1/name-blinding";
    pub const HEADER: &[u8] = b"farmvault/v1/header-mac";
    pub const KEYFILE_KEK: &[u8] = b"farmvault/v1/key-file-kek";
    pub const KEK_CHECK: &[u8] = b"farmvault/v1/kek-check";
    pub const BACKUP: &[u8] = b"farmvault/v1/backup-mac";
    pub const AUDIT: &[u8] = b"farmvault/v1/audit-log-mac";
    pub const AUDIT_SEAL: &[u8] = b"farmvault/v1/audit-log-seal";
}

/// 256 bits of key material in their own allocation, locked in memory while
/// they live (best effort, see [`crate::memlock`]) and wiped on drop.
#[derive(Clone)]
pub struct SymmetricKey(Locked<Zeroizing<[u8; KEY_LEN]>>);

impl Wipe for Zeroizing<[u8; KEY_LEN]> {
    fn blank() -> Self {
        Zeroizing::new([0; KEY_LEN])
    }
}

impl SymmetricKey {
    /// All zeros, in a locked allocation, for the caller to fill in place.
    fn zeroed() -> Self {
        SymmetricKey(Locked::blank())
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self> {
        let mut k = SymmetricKey::zeroed();
        fill_random(&mut k.0[..])?;
        Ok(k)
    }

    /// Takes 32 bytes; anything else is an error naming `what`.
    pub fn from_slice(bytes: &[u8], what: &str) -> Result<Self> {
        if bytes.len() != KEY_LEN {
            return Err(Error::invalid(format!(
                "{what} must be exactly {KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        let mut k = SymmetricKey::zeroed();
        k.0.copy_from_slice(bytes);
        Ok(k)
    }

    /// The raw bytes (only for wrapping into a keyslot or writing a key file).
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// `derive[self](purpose)`: HKDF-SHA256 with the vault id as salt.
    pub fn derive(&self, salt: &[u8], info: &[u8]) -> SymmetricKey {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(salt), &self.0[..]);
        let mut out = SymmetricKey::zeroed();
        hk.expand(info, &mut out.0[..])
            .expect("32 bytes is far below HKDF-SHA256's 8160-byte limit");
        out
    }
}

impl Zeroize for SymmetricKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

/// The bytes are wiped in place when the key is dropped (`Zeroizing`, inside `Locked`).
impl ZeroizeOnDrop for SymmetricKey {}

impl PartialEq for SymmetricKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SymmetricKey {}

impl std::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymmetricKey([REDACTED])")
    }
}

/// A 24-byte XChaCha20 nonce, always random (192 bits make collisions negligible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nonce(pub [u8; NONCE_LEN]);

impl Nonce {
    /// A fresh random nonce, straight from the OS for every seal. That costs a
    /// system call (about 0.4 us of a put; glibc 2.41 on Linux 6.11+ answers it
    /// from the vDSO), and it is kept on purpose: a nonce
    /// pool or seeded generator in process memory is copied into a forked child
    /// (Python's multiprocessing forks), and the two would then seal under the
    /// same nonces and key, which gives up both the secrecy of those records and
    /// Poly1305's forgery bound. Guarding a pool against fork needs
    /// `pthread_atfork` or `MADV_WIPEONFORK`, unsafe calls outside the FFI module.
    pub fn random() -> Result<Self> {
        let mut n = [0u8; NONCE_LEN];
        fill_random(&mut n)?;
        Ok(Nonce(n))
    }
}

/// `SHA-256(label ‖ parts…)`: an unkeyed checksum, which anyone can compute.
/// It tells damage from a wrong key before any key is known; it authenticates
/// nothing (the MACs do that).
pub fn checksum(label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = Sha256::new();
    h.update(label);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Fills `buf` from the OS CSPRNG.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| {
        Error::io(
            "reading the operating system's random number generator",
            std::io::Error::other(e.to_string()),
        )
    })
}

/// An AEAD key ready to seal and open: XChaCha20-Poly1305 under one subkey, in
/// a locked allocation. The cipher state wipes its key on drop (crate feature `zeroize`).
#[derive(Clone)]
pub struct SealingKey(Locked<XChaCha20Poly1305>);

impl Wipe for XChaCha20Poly1305 {
    fn blank() -> Self {
        XChaCha20Poly1305::new(&Key::default())
    }
}

impl SealingKey {
    /// Builds the cipher for `key`.
    pub fn new(key: &SymmetricKey) -> Self {
        let cipher = XChaCha20Poly1305::new_from_slice(key.expose())
            .expect("XChaCha20-Poly1305 takes a 32-byte key");
        SealingKey(Locked::new(cipher))
    }

    /// `seal[k](plaintext, aad)` -> `nonce || ciphertext || tag`, appended to `out`.
    pub fn seal_into(&self, plaintext: &[u8], aad: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.seal_with(plaintext.len(), aad, out, |buf| {
            buf.copy_from_slice(plaintext)
        })
    }

    /// `seal_into` for a plaintext of `len` bytes that `write` produces straight
    /// into `out` (an encoder), where it is encrypted in place: no plaintext copy
    /// is made. `out` is grown once, before `write`, so no reallocation can leave
    /// plaintext behind in freed memory.
    pub fn seal_with(
        &self,
        len: usize,
        aad: &[u8],
        out: &mut Vec<u8>,
        write: impl FnOnce(&mut [u8]),
    ) -> Result<()> {
        let nonce = Nonce::random()?;
        out.reserve(NONCE_LEN + len + TAG_LEN);
        out.extend_from_slice(&nonce.0);
        let start = out.len();
        out.resize(start + len, 0);
        write(&mut out[start..]);
        let sealed =
            self.0
                .encrypt_inout_detached(&XNonce::from(nonce.0), aad, (&mut out[start..]).into());
        match sealed {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(())
            }
            Err(_) => {
                out[start..].zeroize();
                Err(Error::invalid("message too long to encrypt"))
            }
        }
    }

    /// `open[k](nonce || ciphertext || tag, aad)` -> plaintext in a self-wiping buffer.
    /// `None` means authentication failed (wrong key, or the bytes or aad were changed).
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce = XNonce::try_from(nonce).expect("split at NONCE_LEN");
        let tag = Tag::try_from(tag).expect("split at TAG_LEN");
        let mut buf = Zeroizing::new(ct.to_vec());
        self.0
            .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag)
            .ok()?;
        Some(buf)
    }
}

/// Size of `seal` output for a plaintext of `len` bytes.
pub const fn sealed_len(len: usize) -> usize {
    NONCE_LEN + len + TAG_LEN
}

/// A keyed PRF: `blind[k](name)` for entry names, and header MACs. The keyed
/// HMAC state lives in a locked allocation; it and its per-use copies wipe
/// themselves on drop (`sha2`'s `zeroize` feature).
#[derive(Clone)]
pub struct Prf(Locked<Hmac<Sha256>>);

impl Wipe for Hmac<Sha256> {
    fn blank() -> Self {
        Hmac::<Sha256>::new_from_slice(&[]).expect("HMAC takes any key length")
    }
}

impl Prf {
    /// The PRF keyed with `key`; the keyed state is cloned per use.
    pub fn new(key: &SymmetricKey) -> Self {
        Prf(Locked::new(
            Hmac::<Sha256>::new_from_slice(key.expose()).expect("HMAC takes any key length"),
        ))
    }

    /// HMAC-SHA256 of the concatenation of `parts`.
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; BLIND_LEN] {
        let mut mac = Hmac::<Sha256>::clone(&self.0);
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of `tag` against HMAC-SHA256 of `parts`.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        let mut mac = Hmac::<Sha256>::clone(&self.0);
        for p in parts {
            mac.update(p);
        }
        mac.verify_slice(tag).is_ok()
    }
}

/// Argon2id cost parameters (RFC 9106), stored in the header beside each passphrase slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// The default for new vaults: m = 64 MiB, t = 3, p = 1 (OWASP's floor, which docs/DESIGN.md adopts).
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// Upper bound accepted from a header (4 GiB, 64 passes, 64 lanes), so a
    /// tampered header cannot make an open allocate without bound.
    const MAX: KdfParams = KdfParams {
        m_kib: 4 * 1024 * 1024,
        t: 64,
        p: 64,
    };

    /// The most Argon2id work (m x t, in KiB-passes) one open may spend across every
    /// passphrase slot of a header: 16 times the default's, about 3 s where the
    /// default takes 0.2 s. One slot may use all of it (e.g. 1 GiB with t = 3).
    /// A header that asks for more is refused before any KDF runs, so a crafted
    /// header or backup cannot buy minutes of work with a passphrase guess.
    pub const MAX_OPEN_WORK: u64 = 16 * Self::DEFAULT.work();

    /// Validated parameters. Anything weaker than `DEFAULT` is allowed (tests and
    /// benchmarks use cheap ones) but never chosen by farmvault itself.
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self> {
        let k = KdfParams { m_kib, t, p };
        k.check()?;
        Ok(k)
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.m_kib > Self::MAX.m_kib || self.t > Self::MAX.t || self.p > Self::MAX.p {
            return Err(Error::invalid(format!(
                "Argon2id parameters m={} KiB, t={}, p={} exceed the limits m<={} KiB, t<={}, p<={}",
                self.m_kib, self.t, self.p, Self::MAX.m_kib, Self::MAX.t, Self::MAX.p
            )));
        }
        // Memory times passes is the work an open does: a tampered header or an
        // untrusted backup must not buy minutes of it.
        if self.work() > Self::MAX_OPEN_WORK {
            return Err(Error::invalid(format!(
                "Argon2id parameters m={} KiB, t={} ask for more work than the limit of m x t <= {} KiB",
                self.m_kib, self.t, Self::MAX_OPEN_WORK
            )));
        }
        argon2::Params::new(self.m_kib, self.t, self.p, Some(KEY_LEN)).map_err(|e| {
            Error::invalid(format!(
                "Argon2id parameters m={} KiB, t={}, p={}: {e}",
                self.m_kib, self.t, self.p
            ))
        })?;
        Ok(())
    }

    /// The work one derivation costs: memory times passes, in KiB-passes (the
    /// default's is 192 Mi). Lanes share the memory, so they add none.
    pub const fn work(&self) -> u64 {
        self.m_kib as u64 * self.t as u64
    }

    /// True when these costs are below `DEFAULT` in memory or in passes: the
    /// test-only costs (`Config::kdf`, `FARMVAULT_INSECURE_KDF_FOR_TESTS`) and
    /// anything else that makes a passphrase guess cheaper than farmvault's own
    /// choice. Lanes do not count: more lanes do not make a guess dearer.
    pub fn is_weak(&self) -> bool {
        self.m_kib < Self::DEFAULT.m_kib || self.t < Self::DEFAULT.t
    }

    /// `kek = argon2id(passphrase, salt)`.
    pub fn derive_kek(&self, passphrase: &[u8], salt: &[u8]) -> Result<SymmetricKey> {
        let params = argon2::Params::new(self.m_kib, self.t, self.p, Some(KEY_LEN))
            .map_err(|e| Error::invalid(format!("Argon2id parameters: {e}")))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = SymmetricKey::zeroed();
        argon
            .hash_password_into(passphrase, salt, &mut out.0[..])
            .map_err(|e| Error::invalid(format!("Argon2id: {e}")))?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = SealingKey::new(&SymmetricKey::generate().unwrap());
        let mut sealed = Vec::new();
        k.seal_into(b"secret", b"aad", &mut sealed).unwrap();
        assert_eq!(sealed.len(), sealed_len(6));
        assert_eq!(&k.open(&sealed, b"aad").unwrap()[..], b"secret");
        assert!(k.open(&sealed, b"other aad").is_none());
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(k.open(&t, b"aad").is_none(), "flip at {i} undetected");
        }
        assert!(k.open(&sealed[..10], b"aad").is_none());
    }

    #[test]
    fn nonces_differ() {
        let k = SealingKey::new(&SymmetricKey::generate().unwrap());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        k.seal_into(b"x", b"", &mut a).unwrap();
        k.seal_into(b"x", b"", &mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn hkdf_purposes_differ() {
        let dek = SymmetricKey::generate().unwrap();
        let a = dek.derive(b"vault", purpose::ENTRY);
        let b = dek.derive(b"vault", purpose::NAME);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose(), dek.derive(b"vault", purpose::ENTRY).expose());
    }

    #[test]
    fn kdf_params_are_bounded() {
        assert!(KdfParams::new(8, 1, 1).is_ok());
        assert!(KdfParams::new(u32::MAX, 1, 1).is_err());
        // Each bound alone is fine; together they are minutes of work per open.
        assert!(KdfParams::new(1024 * 1024, 3, 1).is_ok());
        assert!(KdfParams::new(64 * 1024, 48, 1).is_ok());
        assert!(KdfParams::new(64 * 1024, 49, 1).is_err());
        assert!(KdfParams::new(4 * 1024 * 1024, 1, 1).is_err());
        assert!(KdfParams::new(4 * 1024 * 1024, 64, 1).is_err());
        assert_eq!(KdfParams::MAX_OPEN_WORK, 16 * KdfParams::DEFAULT.work());
        assert!(KdfParams::new(8, 0, 1).is_err());
        let p = KdfParams::new(8, 1, 1).unwrap();
        let a = p.derive_kek(b"pw", b"saltsalt").unwrap();
        let b = p.derive_kek(b"pw2", b"saltsalt").unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn key_debug_is_redacted() {
        let k = SymmetricKey::from_slice(&[7u8; 32], "key").unwrap();
        assert_eq!(format!("{k:?}"), "SymmetricKey([REDACTED])");
        assert!(SymmetricKey::from_slice(&[0u8; 31], "key file").is_err());
    }
}
