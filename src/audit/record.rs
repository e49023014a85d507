//! One audit record, its line in the log, and the MAC chain that binds each
//! line to every line before it.
//!
//! A line is a JSON object: the record's fields, then `"mac"`, the hex of
//! `HMAC[audit_key](mac_before || record)`, where `record` is the record
//! serialised alone and `mac_before` is the previous line's MAC (32 zero
//! bytes before the first line). Editing a line changes its MAC; removing or
//! moving one breaks the link of the line after it; the sequence numbers say
//! which line is where. The key comes from the vault's data key, so only
//! whoever can unlock the vault can write a line that verifies.

use crate::crypto::Prf;
use crate::format::hex;
use serde::{Deserialize, Serialize};

/// The MAC before the first line of a log.
pub(super) const GENESIS: [u8; 32] = [0; 32];

/// What a request did, as the audit log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// The first line of a log: an agent began writing it.
    Start,
    /// An entry's secret was read.
    Get,
    /// An entry was stored.
    Put,
    /// An entry was removed.
    Delete,
    /// An entry's expiry was changed.
    Renew,
    /// Puts and deletes applied together.
    Batch,
    /// Expired entries were removed.
    Purge,
    /// The agent wiped its keys.
    Lock,
    /// The agent unlocked the vault again.
    Unlock,
    /// The agent stopped.
    Stop,
}

impl Operation {
    /// The name `farmvault audit` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Start => "start",
            Operation::Get => "get",
            Operation::Put => "put",
            Operation::Delete => "delete",
            Operation::Renew => "renew",
            Operation::Batch => "batch",
            Operation::Purge => "purge",
            Operation::Lock => "lock",
            Operation::Unlock => "unlock",
            Operation::Stop => "stop",
        }
    }
}

/// One line of the audit log. It names who asked for what and how it ended;
/// it never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Its place in the log, from 0.
    pub seq: u64,
    /// When the agent answered, in seconds since the Unix epoch.
    pub time: u64,
    /// What was asked.
    pub op: Operation,
    /// The entries it named (none for lock, unlock, start, stop and purge).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<String>,
    /// `ok`, or the error it ended with (its kind, never a secret).
    pub result: String,
    /// The asking process's uid, as the kernel gave it (none for the agent's
    /// own events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Its pid, where the platform gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its executable, where the platform gives it (`/proc/<pid>/exe` on Linux),
    /// read when it connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// More about it: the data-key generation on a `start` line, the count a
    /// purge removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A record with the MAC that chains it, as stored.
#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    record: AuditRecord,
    mac: String,
}

/// `HMAC[key](before || record)`.
pub(super) fn chain_mac(key: &Prf, before: &[u8; 32], record: &AuditRecord) -> [u8; 32] {
    let body = serde_json::to_vec(record).expect("a record always serialises");
    key.tag(&[before, &body])
}

/// The line for `record` after a line whose MAC is `before`, newline included,
/// and its MAC.
pub(super) fn encode(key: &Prf, before: &[u8; 32], record: &AuditRecord) -> (Vec<u8>, [u8; 32]) {
    let mac = chain_mac(key, before, record);
    let line = Line {
        record: record.clone(),
        mac: hex(&mac),
    };
    let mut out = serde_json::to_vec(&line).expect("a record always serialises");
    out.push(b'\n');
    (out, mac)
}

/// A line read back: its record and the MAC it claims. `None` when it is not
/// a record line at all.
pub(super) fn decode(line: &[u8]) -> Option<(AuditRecord, [u8; 32])> {
    let parsed: Line = serde_json::from_slice(line).ok()?;
    let mac = unhex32(&parsed.mac)?;
    Some((parsed.record, mac))
}

/// The 32 bytes a 64-digit hex string spells.
pub(super) fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SymmetricKey;

    fn record(seq: u64) -> AuditRecord {
        AuditRecord {
            seq,
            time: 1_765_000_000 + seq,
            op: Operation::Get,
            entries: vec!["shotgun/render".into()],
            result: "ok".into(),
            uid: Some(1000),
            pid: Some(4242),
            exe: Some("/usr/bin/python3".into()),
            detail: None,
        }
    }

    #[test]
    fn a_line_reads_back_with_its_mac() {
        let key = Prf::new(&SymmetricKey::generate().unwrap());
        let (line, mac) = encode(&key, &GENESIS, &record(0));
        assert_eq!(line.last(), Some(&b'\n'));
        let (back, claimed) = decode(&line[..line.len() - 1]).unwrap();
        assert_eq!(back, record(0));
        assert_eq!(claimed, mac);
        assert_eq!(chain_mac(&key, &GENESIS, &back), mac);
    }

    #[test]
    fn the_mac_depends_on_the_line_before_and_on_the_key() {
        let key = Prf::new(&SymmetricKey::generate().unwrap());
        let other = Prf::new(&SymmetricKey::generate().unwrap());
        let (_, first) = encode(&key, &GENESIS, &record(0));
        assert_ne!(
            chain_mac(&key, &first, &record(1)),
            chain_mac(&key, &GENESIS, &record(1))
        );
        assert_ne!(
            chain_mac(&key, &GENESIS, &record(0)),
            chain_mac(&other, &GENESIS, &record(0))
        );
    }

    #[test]
    fn what_is_not_a_record_line_decodes_to_none() {
        for junk in [
            &b""[..],
            b"{",
            b"{\"seq\":1}",
            b"not json",
            b"{\"mac\":\"00\"}",
        ] {
            assert!(decode(junk).is_none(), "{junk:?}");
        }
    }
}
