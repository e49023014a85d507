//! The key hierarchy: what unlocks a vault, keyslots that wrap the data key,
//! and the purpose subkeys derived from it.
//!
//! ```text
//! passphrase --argon2id--> kek --\
//! key file ----HKDF------> kek ---+-- open(wrapped_dek) --> dek --HKDF--> entry, name, header, audit keys
//! ```

use crate::crypto::{purpose, KdfParams, Prf, SealingKey, SymmetricKey, KEY_LEN};
use crate::error::{Error, Result};
use crate::format::{keyslot_aad, Keyslot, SlotKind, VAULT_ID_LEN};
use crate::secret::SecretString;
use std::fmt;
use std::io::Write;
use std::path::Path;

/// What opens a vault: a passphrase or a 32-byte key file.
#[derive(Clone)]
pub enum Unlock {
    /// A passphrase, stretched with Argon2id.
    Passphrase(SecretString),
    /// A key file's 32 random bytes.
    KeyFile(KeyFile),
}

impl Unlock {
    /// Unlock with a passphrase.
    pub fn passphrase(p: impl Into<SecretString>) -> Unlock {
        Unlock::Passphrase(p.into())
    }

    /// Unlock with the key file at `path` (read now; exactly 32 bytes; refused
    /// when group or others can access it, as [`KeyFile::read`] says).
    pub fn key_file_path(path: impl AsRef<Path>) -> Result<Unlock> {
        Ok(Unlock::KeyFile(KeyFile::read(path)?))
    }
}

impl fmt::Debug for Unlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlock::Passphrase(_) => f.write_str("Unlock::Passphrase([REDACTED])"),
            Unlock::KeyFile(_) => f.write_str("Unlock::KeyFile([REDACTED])"),
        }
    }
}

/// 32 random bytes that open a vault, kept in a self-wiping buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFile(SymmetricKey);

impl KeyFile {
    /// A fresh random key.
    pub fn generate() -> Result<KeyFile> {
        Ok(KeyFile(SymmetricKey::generate()?))
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<KeyFile> {
        Ok(KeyFile(SymmetricKey::from_slice(bytes, "a key file")?))
    }

    /// Reads a key file: exactly 32 bytes, in a regular file only its owner can
    /// access. One that group or others can read or write is refused
    /// (`InvalidArgument`, naming the path and the fix, `chmod 600 PATH`) before
    /// its key is read; pipes and devices (`/dev/stdin`) are not checked, and
    /// neither are modes off Unix. [`KeyFile::read_insecure_permissions`] is the
    /// explicit way past the check.
    pub fn read(path: impl AsRef<Path>) -> Result<KeyFile> {
        KeyFile::read_inner(path.as_ref(), true)
    }

    /// [`KeyFile::read`] without refusing a key file that group or others can
    /// access (the CLI's `--insecure-permissions`).
    pub fn read_insecure_permissions(path: impl AsRef<Path>) -> Result<KeyFile> {
        KeyFile::read_inner(path.as_ref(), false)
    }

    fn read_inner(path: &Path, refuse_loose: bool) -> Result<KeyFile> {
        use std::io::Read;
        let ctx = || format!("reading key file {}", path.display());
        let wrong_len = |len: String| {
            Error::invalid(format!(
                "key file {} must hold exactly {KEY_LEN} bytes, it holds {len}",
                path.display()
            ))
        };
        // One open: the mode checked and the length told are the file's that is read.
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(ctx(), e))?;
        let meta = file.metadata().map_err(|e| Error::io(ctx(), e))?;
        // A file of the wrong size is no key file: say that first, without reading it.
        if meta.is_file() && meta.len() != KEY_LEN as u64 {
            return Err(wrong_len(meta.len().to_string()));
        }
        if refuse_loose {
            if let Some(mode) = crate::perms::loose_mode_of(&meta, false) {
                return Err(Error::invalid(crate::perms::loose_message(
                    path, "key file", mode, false,
                )));
            }
        }
        // Room for one byte too many, so a longer stream is told apart without
        // the buffer ever growing (a reallocation would leave a copy behind).
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(2 * KEY_LEN));
        (&mut file)
            .take(KEY_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(ctx(), e))?;
        match bytes.len() {
            KEY_LEN => {}
            n if n > KEY_LEN => return Err(wrong_len(format!("more than {KEY_LEN}"))),
            n => return Err(wrong_len(n.to_string())),
        }
        Ok(KeyFile(SymmetricKey::from_slice(&bytes, "a key file")?))
    }

    /// Writes this key to a new file at `path` (owner-only permissions on Unix);
    /// refuses to overwrite an existing file.
    pub fn write_new(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let ctx = || format!("writing key file {}", path.display());
        let mut f = opts.open(path).map_err(|e| Error::io(ctx(), e))?;
        f.write_all(self.0.expose())
            .map_err(|e| Error::io(ctx(), e))?;
        f.sync_all().map_err(|e| Error::io(ctx(), e))?;
        Ok(())
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        self.0.expose()
    }
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFile([REDACTED])")
    }
}

/// The subkeys of one data key. Built once per unlock, shared by the handles
/// on a vault in this process. Each key is in its own allocation, locked in
/// memory where the OS allows and wiped on drop (`crate::memlock`).
pub(crate) struct Keys {
    pub vault_id: [u8; VAULT_ID_LEN],
    pub dek: SymmetricKey,
    pub entry: SealingKey,
    pub name: Prf,
    pub header: Prf,
    /// MACs the backup snapshot and journal (`backup.rs`).
    pub backup: Prf,
}

impl Keys {
    /// `derive[dek](purpose)` for every purpose.
    pub fn derive(vault_id: [u8; VAULT_ID_LEN], dek: SymmetricKey) -> Keys {
        let sub = |p| dek.derive(&vault_id, p);
        Keys {
            vault_id,
            entry: SealingKey::new(&sub(purpose::ENTRY)),
            name: Prf::new(&sub(purpose::NAME)),
            header: Prf::new(&sub(purpose::HEADER)),
            backup: Prf::new(&sub(purpose::BACKUP)),
            dek,
        }
    }

    /// `blind[name_key](name)`.
    pub fn blind(&self, name: &str) -> [u8; 32] {
        self.name.tag(&[name.as_bytes()])
    }
}

/// A key-encryption key, and the slot it opens.
pub(crate) struct Kek {
    pub slot_id: u32,
    pub key: SymmetricKey,
}

fn kek_check(kek: &SymmetricKey) -> [u8; 16] {
    let full = kek.derive(b"", purpose::KEK_CHECK);
    full.expose()[..16].try_into().expect("16 of 32 bytes")
}

fn random_salt() -> Result<[u8; 16]> {
    let mut s = [0u8; 16];
    crate::crypto::fill_random(&mut s)?;
    Ok(s)
}

/// Derives the key-encryption key a slot kind asks of `unlock`, or `None` when
/// the slot is of another kind (a passphrase slot for a key file, or back).
fn derive_kek(kind: &SlotKind, unlock: &Unlock) -> Result<Option<SymmetricKey>> {
    match (kind, unlock) {
        (SlotKind::Passphrase { kdf, salt }, Unlock::Passphrase(p)) => {
            kdf.derive_kek(p.expose().as_bytes(), salt).map(Some)
        }
        (SlotKind::KeyFile { salt }, Unlock::KeyFile(k)) => {
            Ok(Some(k.0.derive(salt, purpose::KEYFILE_KEK)))
        }
        _ => Ok(None),
    }
}

/// A new slot of the kind `unlock` calls for, wrapping `dek`.
pub(crate) fn new_slot(
    id: u32,
    vault_id: &[u8; VAULT_ID_LEN],
    dek: &SymmetricKey,
    unlock: &Unlock,
    kdf: KdfParams,
) -> Result<(Keyslot, Kek)> {
    let kind = match unlock {
        Unlock::Passphrase(_) => SlotKind::Passphrase {
            kdf,
            salt: random_salt()?,
        },
        Unlock::KeyFile(_) => SlotKind::KeyFile {
            salt: random_salt()?,
        },
    };
    let kek = derive_kek(&kind, unlock)?.expect("slot kind chosen from the unlock");
    let slot = wrap(id, vault_id, kind, dek, &kek);
    Ok((
        slot,
        Kek {
            slot_id: id,
            key: kek,
        },
    ))
}

/// A slot of `kind` wrapping `dek` under `kek`.
pub(crate) fn wrap(
    id: u32,
    vault_id: &[u8; VAULT_ID_LEN],
    kind: SlotKind,
    dek: &SymmetricKey,
    kek: &SymmetricKey,
) -> Keyslot {
    let mut wrapped_dek = Vec::new();
    SealingKey::new(kek)
        .seal_into(dek.expose(), &keyslot_aad(vault_id, id), &mut wrapped_dek)
        .expect("sealing 32 bytes cannot fail");
    Keyslot {
        id,
        kind,
        check: kek_check(kek),
        wrapped_dek,
    }
}

/// How `unlock` relates to one slot.
pub(crate) enum SlotMatch {
    /// The slot is of another kind, or `unlock` is not its key.
    No,
    /// `unlock` is the slot's key but the wrapped data key does not open: damaged.
    Damaged,
    /// Opened.
    Yes(SymmetricKey, Kek),
}

/// Tries `unlock` against one slot.
pub(crate) fn try_slot(
    slot: &Keyslot,
    vault_id: &[u8; VAULT_ID_LEN],
    unlock: &Unlock,
) -> Result<SlotMatch> {
    let Some(kek) = derive_kek(&slot.kind, unlock)? else {
        return Ok(SlotMatch::No);
    };
    if kek_check(&kek) != slot.check {
        return Ok(SlotMatch::No);
    }
    let opened = SealingKey::new(&kek).open(&slot.wrapped_dek, &keyslot_aad(vault_id, slot.id));
    Ok(match opened {
        Some(bytes) => match SymmetricKey::from_slice(&bytes, "data key") {
            Ok(dek) => SlotMatch::Yes(
                dek,
                Kek {
                    slot_id: slot.id,
                    key: kek,
                },
            ),
            Err(_) => SlotMatch::Damaged,
        },
        None => SlotMatch::Damaged,
    })
}
