//! One audit record, its line in the log, and the MAC chain that binds each
//! line to every line before it.
//!
//! A line is a JSON object. In the clear: `seq`, `time`, `op`, who asked
//! (`uid`, `pid`, `exe`) and, on a `start` line, the data-key `generation`.
//! Sealed (`sealed`, XChaCha20-Poly1305 under the audit key, bound to `seq`):
//! the entries named, the result and the detail, since entry names never
//! reach a vault's disk in the clear. Last, `mac`: the hex of
//! `HMAC[audit mac key](mac_before || every other field)`, where
//! `mac_before` is the previous line's MAC (32 zero bytes before the first
//! line). Editing a line changes its MAC; removing or moving one breaks the
//! link of the line after it; the sequence numbers say which line is where.
//! Both keys come from the vault's data key, so only whoever can unlock the
//! vault writes a line that verifies, or reads what one names.

use crate::crypto::{Prf, SealingKey};
use crate::format::{hex, unhex};
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
    /// A node agent opened a job grant for a job.
    GrantOpen,
    /// A node agent served an entry of a grant to the job that opened it.
    GrantGet,
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
            Operation::GrantOpen => "grant-open",
            Operation::GrantGet => "grant-get",
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

/// The keys of one vault's audit log: `mac` chains the lines, `seal` keeps
/// what a line says about entries off the disk (names never reach a vault's
/// disk in the clear), and `generation` is the data-key generation both come
/// from.
pub(crate) struct AuditKey {
    pub(crate) mac: Prf,
    pub(crate) seal: SealingKey,
    pub(crate) generation: u32,
}

/// A line as stored: the clear fields (when, what kind, who), the sealed
/// ones (`Sealed`), and the MAC that chains it.
#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    body: LineBody,
    mac: String,
}

/// What the MAC covers: every field of the line but the MAC.
#[derive(Serialize, Deserialize)]
struct LineBody {
    seq: u64,
    time: u64,
    op: Operation,
    /// On a `start` line: the data-key generation the log's keys come from,
    /// in the clear so a log of a rotated key is told from an edited one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generation: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exe: Option<String>,
    /// `seal[audit](postcard(Sealed), "farmvault/v1/audit-line" ‖ seq)`, hex.
    sealed: String,
}

/// The fields sealed in a line: they name entries.
#[derive(Serialize, Deserialize)]
struct Sealed {
    entries: Vec<String>,
    result: String,
    detail: Option<String>,
}

fn sealed_aad(seq: u64) -> Vec<u8> {
    let mut aad = b"farmvault/v1/audit-line".to_vec();
    aad.extend_from_slice(&seq.to_be_bytes());
    aad
}

/// The line for `record` after a line whose MAC is `before`, newline included,
/// and its MAC. `generation` goes on a `start` line.
pub(super) fn encode(
    key: &AuditKey,
    before: &[u8; 32],
    record: &AuditRecord,
) -> crate::error::Result<(Vec<u8>, [u8; 32])> {
    let sealed = Sealed {
        entries: record.entries.clone(),
        result: record.result.clone(),
        detail: record.detail.clone(),
    };
    let plain = zeroize::Zeroizing::new(postcard::to_allocvec(&sealed).expect("fields serialise"));
    let mut ct = Vec::new();
    key.seal
        .seal_into(&plain, &sealed_aad(record.seq), &mut ct)?;
    let body = LineBody {
        seq: record.seq,
        time: record.time,
        op: record.op,
        generation: (record.op == Operation::Start).then_some(key.generation),
        uid: record.uid,
        pid: record.pid,
        exe: record.exe.clone(),
        sealed: hex(&ct),
    };
    // The line is the body's JSON with the MAC as its last field: one
    // serialisation, the one the MAC covers (a reader re-serialises the
    // body it parsed, which gives the same bytes).
    let mut out = serde_json::to_vec(&body).expect("a line always serialises");
    let mac = key.mac.tag(&[before, &out]);
    out.pop();
    out.extend_from_slice(b",\"mac\":\"");
    out.extend_from_slice(hex(&mac).as_bytes());
    out.extend_from_slice(b"\"}\n");
    Ok((out, mac))
}

/// A stored line, parsed but not yet verified.
pub(super) struct Parsed {
    body: LineBody,
    claimed: [u8; 32],
}

impl Parsed {
    pub(super) fn seq(&self) -> u64 {
        self.body.seq
    }

    pub(super) fn op(&self) -> Operation {
        self.body.op
    }

    /// The data-key generation a `start` line names.
    pub(super) fn generation(&self) -> Option<u32> {
        self.body.generation
    }

    /// The line's MAC, when it verifies after a line whose MAC is `before`.
    pub(super) fn verify(&self, key: &AuditKey, before: &[u8; 32]) -> Option<[u8; 32]> {
        let bytes = serde_json::to_vec(&self.body).expect("a line always serialises");
        key.mac
            .verify(&[before, &bytes], &self.claimed)
            .then_some(self.claimed)
    }

    /// The record, its sealed fields opened; `None` when they do not open.
    pub(super) fn open(self, key: &AuditKey) -> Option<AuditRecord> {
        let ct = unhex(&self.body.sealed)?;
        let plain = key.seal.open(&ct, &sealed_aad(self.body.seq))?;
        let sealed: Sealed = postcard::from_bytes(&plain).ok()?;
        Some(AuditRecord {
            seq: self.body.seq,
            time: self.body.time,
            op: self.body.op,
            entries: sealed.entries,
            result: sealed.result,
            uid: self.body.uid,
            pid: self.body.pid,
            exe: self.body.exe,
            detail: sealed.detail,
        })
    }
}

/// A line read back, not yet verified; `None` when it is not a line at all.
pub(super) fn parse(line: &[u8]) -> Option<Parsed> {
    let parsed: Line = serde_json::from_slice(line).ok()?;
    let claimed = unhex32(&parsed.mac)?;
    Some(Parsed {
        body: parsed.body,
        claimed,
    })
}

/// The 32 bytes a 64-digit hex string spells.
pub(super) fn unhex32(s: &str) -> Option<[u8; 32]> {
    unhex(s)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SymmetricKey;

    pub(crate) fn key() -> AuditKey {
        AuditKey {
            mac: Prf::new(&SymmetricKey::generate().unwrap()),
            seal: SealingKey::new(&SymmetricKey::generate().unwrap()),
            generation: 0,
        }
    }

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
    fn a_line_reads_back_and_verifies_and_names_no_entry_in_the_clear() {
        let k = key();
        let (line, mac) = encode(&k, &GENESIS, &record(0)).unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        assert!(!String::from_utf8_lossy(&line).contains("shotgun/render"));
        let parsed = parse(&line[..line.len() - 1]).unwrap();
        assert_eq!(parsed.verify(&k, &GENESIS), Some(mac));
        assert_eq!(parsed.open(&k).unwrap(), record(0));
    }

    #[test]
    fn the_mac_depends_on_the_line_before_and_on_the_key() {
        let k = key();
        let (first, mac0) = encode(&k, &GENESIS, &record(0)).unwrap();
        let (second, _) = encode(&k, &mac0, &record(1)).unwrap();
        let second = parse(&second[..second.len() - 1]).unwrap();
        assert!(second.verify(&k, &mac0).is_some());
        assert!(second.verify(&k, &GENESIS).is_none());
        let first = parse(&first[..first.len() - 1]).unwrap();
        assert!(first.verify(&key(), &GENESIS).is_none());
    }

    #[test]
    fn what_is_not_a_line_parses_to_none() {
        for junk in [
            &b""[..],
            b"{",
            b"{\"seq\":1}",
            b"not json",
            b"{\"mac\":\"00\"}",
        ] {
            assert!(parse(junk).is_none(), "{junk:?}");
        }
    }
}
