//! The key hierarchy: what unlocks a vault (`unlock`), keyslots that wrap the data
//! key (`slot`), and the purpose subkeys derived from it (`Keys`, here).
//!
//! ```text
//! passphrase --argon2id--> kek --\
//! key file ----HKDF------> kek ---+-- open(wrapped_dek) --> dek --HKDF--> entry, name, header, backup keys
//! ```
//!
//! docs/DESIGN.md draws the whole hierarchy and says what each subkey protects.

mod slot;
mod unlock;

pub(crate) use slot::{new_slot, try_slot, wrap, Kek, SlotMatch};
pub use unlock::{KeyFile, Unlock};

use crate::crypto::{purpose, Prf, SealingKey, SymmetricKey};
use crate::format::VAULT_ID_LEN;

/// The subkeys of one data key. Built once per unlock, shared by the handles
/// on a vault in this process. Each key is in its own allocation, locked in
/// memory where the OS allows and wiped on drop (`crate::memlock`).
pub(crate) struct Keys {
    pub vault_id: [u8; VAULT_ID_LEN],
    pub dek: SymmetricKey,
    pub entry: SealingKey,
    pub name: Prf,
    pub header: Prf,
    /// MACs the backup snapshot and journal (`storage::backup`).
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
