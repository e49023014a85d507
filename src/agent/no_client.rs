//! Where Unix domain sockets are missing (Windows, through Rust's standard
//! library), there is no agent to reach: `connect` says so, and a handle
//! through an agent cannot exist (the type has no values), so the rest of
//! `Vault` compiles unchanged.

use crate::clock::UnixTime;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::vault::{Batch, Entry, EntryMeta, PutOptions};
use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Client(Infallible);

impl Client {
    pub(crate) fn connect(socket: &Path) -> Result<Client> {
        Err(Error::Agent {
            socket: socket.to_path_buf(),
            what: "the farmvault agent needs Unix domain sockets, which this platform's build does not have".into(),
        })
    }

    pub(crate) fn socket(&self) -> &Path {
        match self.0 {}
    }

    pub(crate) fn upgraded_from(&self) -> Option<u16> {
        match self.0 {}
    }

    pub(crate) fn path(&self) -> &Path {
        match self.0 {}
    }

    pub(crate) fn put_credential(&self, _: &str, _: &Credential, _: &PutOptions) -> Result<()> {
        match self.0 {}
    }

    pub(crate) fn get(&self, _: &str) -> Result<Entry> {
        match self.0 {}
    }

    pub(crate) fn metadata(&self, _: &str) -> Result<EntryMeta> {
        match self.0 {}
    }

    pub(crate) fn delete(&self, _: &str) -> Result<()> {
        match self.0 {}
    }

    pub(crate) fn renew(&self, _: &str, _: Option<Duration>) -> Result<EntryMeta> {
        match self.0 {}
    }

    pub(crate) fn apply(&self, _: Batch) -> Result<()> {
        match self.0 {}
    }

    pub(crate) fn flush(&self) -> Result<()> {
        match self.0 {}
    }

    pub(crate) fn list(&self, _: &str) -> Result<Vec<EntryMeta>> {
        match self.0 {}
    }

    pub(crate) fn damaged(&self) -> Result<Vec<String>> {
        match self.0 {}
    }

    pub(crate) fn purge_expired(&self) -> Result<usize> {
        match self.0 {}
    }

    pub(crate) fn now(&self) -> UnixTime {
        match self.0 {}
    }

    pub(crate) fn clock_behind(&self) -> Option<Duration> {
        match self.0 {}
    }
}
