//! The agent's audit log: one record per request that reads or changes a
//! secret (who asked, for which entries, how it ended; never a secret), in an
//! append-only file in the vault directory whose lines are chained by an
//! HMAC keyed from the vault's data key. docs/AGENT.md describes it for
//! users.
//!
//! - `record`: a record, its line, and the MAC chain;
//! - `log`: the files, the agent's writer, and the reader that verifies them;
//! - `syslog`: the copy sent to the system log when the agent is asked for one.
//!
//! The agent writes the log; anyone who can unlock the vault reads and
//! verifies it (`Vault::audit_log`, in `agent`, which reads it through an agent
//! when the handle reaches one). A process that opens the vault
//! itself, with its key, is not the agent and is not audited: on a render
//! node the job users never hold the key.

mod log;
mod record;
mod syslog;

pub(crate) use log::{read, Asker, AuditLog};
pub use log::{AuditReport, HEAD_FILE, LOG_FILE};
pub(crate) use record::AuditKey;
pub use record::{AuditRecord, Operation};
pub(crate) use syslog::SyslogCopy;
pub use syslog::DEFAULT_SYSLOG_SOCKET;
