//! Opening a grant through a render node's agent: the job sends the bundle,
//! the agent (which holds the farm identity) opens it and keeps the secrets,
//! and the job's `Grant` asks it for each entry as it is read.

use super::issuer::IssuerKey;
use super::{GrantAccess, GrantId, GrantInfo};
use crate::clock::UnixTime;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::vault::{Entry, EntryMeta};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// What the node agent says of a grant it opened for this process.
pub(super) struct Opened {
    pub info: GrantInfo,
    pub first_open: UnixTime,
    pub use_until: UnixTime,
    pub metas: BTreeMap<String, EntryMeta>,
}

/// Opens the bundle at `path` (its contents `bundle`) through the node agent
/// on `socket`, with `token` for a grant that needs one besides the identity.
#[cfg(unix)]
pub(super) fn open(
    path: &Path,
    bundle: Vec<u8>,
    token: Option<SecretString>,
    socket: &Path,
) -> Result<Opened> {
    let g = crate::agent::node_client::open_grant(socket, path, bundle, token)?;
    let newer = || {
        Error::Agent {
        socket: socket.to_path_buf(),
        what: "its answer names something this farmvault does not know; the agent is newer than this library".into(),
    }
    };
    let access = match g.access.as_str() {
        "token" => GrantAccess::Token,
        "recipient" => GrantAccess::Recipient,
        "token_or_recipient" => GrantAccess::TokenOrRecipient,
        "token_and_recipient" => GrantAccess::TokenAndRecipient,
        _ => return Err(newer()),
    };
    let mut metas = BTreeMap::new();
    for m in g.entries {
        let m = m.into_meta().ok_or_else(newer)?;
        metas.insert(m.name.clone(), m);
    }
    let info = GrantInfo {
        id: GrantId(g.id),
        issuer: g.issuer,
        label: g.label,
        created: UnixTime(g.created),
        claim_by: UnixTime(g.claim_by),
        use_window: Duration::from_secs(g.use_secs),
        host_pattern: g.host_pattern,
        entry_count: metas.len() as u32,
        entries: Some(metas.keys().cloned().collect()),
        access,
        recipients: g.recipients,
        signer: g.signer.map(IssuerKey),
    };
    Ok(Opened {
        info,
        first_open: UnixTime(g.first_open),
        use_until: UnixTime(g.use_until),
        metas,
    })
}

/// Reads entry `name` of grant `id` from the node agent that opened it.
#[cfg(unix)]
pub(super) fn read(socket: &Path, id: GrantId, name: &str) -> Result<Entry> {
    crate::agent::node_client::grant_get(socket, id.0, name)
}

/// Without Unix sockets there is no node agent to reach.
#[cfg(not(unix))]
pub(super) fn open(_: &Path, _: Vec<u8>, _: Option<SecretString>, socket: &Path) -> Result<Opened> {
    Err(Error::Agent {
        socket: socket.to_path_buf(),
        what: "the node agent needs Unix domain sockets, which this platform's build does not have"
            .into(),
    })
}

/// Without Unix sockets no grant is ever opened through a node agent.
#[cfg(not(unix))]
pub(super) fn read(socket: &Path, _: GrantId, _: &str) -> Result<Entry> {
    Err(Error::Agent {
        socket: socket.to_path_buf(),
        what: "the node agent needs Unix domain sockets".into(),
    })
}
