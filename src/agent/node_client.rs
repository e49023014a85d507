//! A job's side of the node agent: open a grant through it, then read the
//! grant's entries one at a time. Over the same per-thread connections as a
//! user's agent (`client`).

use super::client::{call, unexpected};
use super::protocol::{Request, Response, WireGrant};
use crate::error::{Error, Result};
use crate::format::GRANT_ID_LEN;
use crate::secret::SecretString;
use crate::vault::Entry;
use std::path::Path;

/// Asks the node agent at `socket` to open the grant whose bundle (read from
/// `path`) is `bundle`, for this job.
pub(crate) fn open_grant(
    socket: &Path,
    path: &Path,
    bundle: Vec<u8>,
    token: Option<SecretString>,
) -> Result<WireGrant> {
    let req = Request::GrantOpen {
        path: path.to_path_buf(),
        bundle,
        token,
    };
    match call(socket, &req).map_err(node_words)? {
        Response::GrantOpened(g) => Ok(g),
        other => Err(unexpected(socket, &other)),
    }
}

/// A user's agent's words where they mislead about a node agent: which
/// command starts one.
fn node_words(e: Error) -> Error {
    match e {
        Error::Agent { socket, what } if what.starts_with("no agent is running there") => {
            Error::Agent {
                socket,
                what: what.replace(
                    "start one with `farmvault agent start`",
                    "a render node's agent is started by `farmvault agent node`",
                ),
            }
        }
        other => other,
    }
}

/// Reads entry `name` of grant `grant`, which this job opened through the
/// node agent at `socket`.
pub(crate) fn grant_get(socket: &Path, grant: [u8; GRANT_ID_LEN], name: &str) -> Result<Entry> {
    let req = Request::GrantGet {
        grant,
        name: name.to_owned(),
    };
    match call(socket, &req)? {
        Response::Entry { meta, credential } => Ok(Entry {
            meta: meta.into_meta().ok_or_else(|| Error::Agent {
                socket: socket.to_path_buf(),
                what: "it answered with a credential kind this farmvault does not know; the agent is newer than this library".into(),
            })?,
            credential,
        }),
        other => Err(unexpected(socket, &other)),
    }
}
