//! `Vault::audit_log`: the audit log the agent writes (`crate::audit`), read
//! and verified through the agent when the handle goes through one, else from
//! the vault directory with the handle's own keys. Here, above both the vault
//! and the agent's client, so that neither needs the other's side of it.

use crate::audit::{self, AuditKey, AuditReport};
use crate::error::Result;
use crate::vault::Vault;

impl Vault {
    /// The vault's audit log, read and verified: by the agent when this handle
    /// reaches one, else from the vault directory with this handle's keys. A
    /// log that does not verify is not an error: the report says what is
    /// wrong (`problem`) and holds the lines before it.
    pub fn audit_log(&self) -> Result<AuditReport> {
        match self.agent_client() {
            Some(client) => client.audit_log(),
            None => audit::read(self.path(), &audit_key(self)?),
        }
    }
}

/// The audit key of a vault this process has open itself.
pub(crate) fn audit_key(vault: &Vault) -> Result<AuditKey> {
    let (mac, seal, generation) = vault.audit_key()?;
    Ok(AuditKey {
        mac,
        seal,
        generation,
    })
}
