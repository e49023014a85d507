//! Keyslots: each wraps the data key under a key-encryption key derived from one
//! way of unlocking (Argon2id of a passphrase, HKDF of a key file).

use super::Unlock;
use crate::crypto::{purpose, KdfParams, SealingKey, SymmetricKey};
use crate::error::Result;
use crate::format::{keyslot_aad, Keyslot, SlotKind, VAULT_ID_LEN};

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
