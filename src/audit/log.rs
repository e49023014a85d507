//! The audit log's files in a vault directory: the agent's writer, and the
//! reader that verifies them.
//!
//! ```text
//! <vault>/audit.log          one line per record (`record`), appended
//! <vault>/audit.head         how many lines are durable, and the last one's MAC:
//!                            {"lines","mac","tag"}
//! <vault>/audit-gen<N>.log   a log moved aside because the data key changed
//! ```
//!
//! A line is written (one `write` on an append-only descriptor) before the
//! request's answer is sent; the file is synced, and the head rewritten, at
//! most once a second and when the agent locks or stops. So a crash loses at
//! most the last second's lines, and an edit, a reorder, a removal, or a
//! truncation to before the head is found by [`read`]. What the chain cannot
//! tell from a crash is a truncation of the lines after the head. A new log's
//! head (no line durable yet) is written before its file, so no crash leaves
//! a log without a head.

use super::record::{self, AuditKey, AuditRecord, Operation, GENESIS};
use super::syslog::SyslogCopy;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::format::hex;
use crate::storage::fsio;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The log's file name in the vault directory.
pub const LOG_FILE: &str = "audit.log";
/// The head's file name in the vault directory.
pub const HEAD_FILE: &str = "audit.head";
const HEAD_LABEL: &[u8] = b"farmvault/v1/audit-head";

/// Who asked: the peer of the connection, as the kernel said when it connected.
#[derive(Clone, Debug, Default)]
pub(crate) struct Asker {
    pub(crate) uid: Option<u32>,
    pub(crate) pid: Option<u32>,
    pub(crate) exe: Option<String>,
}

impl Asker {
    /// The agent itself (a start, an idle lock, a stop): no peer.
    pub(crate) fn agent() -> Asker {
        Asker::default()
    }
}

/// What reading a log found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuditReport {
    /// The lines that verified, in order (all of them when `problem` is `None`).
    pub records: Vec<AuditRecord>,
    /// The first thing that did not verify, with where: an edit, a reorder, a
    /// removal, a truncation, another key. `None` when the whole log verified.
    pub problem: Option<String>,
    /// How many lines the head says were made durable (`None` without a head).
    pub durable_lines: Option<u64>,
    /// The log ended in a partial line: a crash while a line was written.
    pub torn_tail: bool,
}

#[derive(Serialize, Deserialize)]
struct Head {
    /// Lines made durable.
    lines: u64,
    /// The MAC of the last of them (`GENESIS` for none).
    mac: String,
    tag: String,
}

impl Head {
    fn new(key: &AuditKey, lines: u64, mac: &[u8; 32]) -> Head {
        Head {
            lines,
            mac: hex(mac),
            tag: hex(&head_tag(key, lines, mac)),
        }
    }

    fn write(&self, dir: &Path) -> std::io::Result<()> {
        fsio::replace_private(&dir.join(HEAD_FILE), ".audit.head-", |w| {
            serde_json::to_writer(&mut *w, self)?;
            w.write_all(b"\n")
        })
    }
}

fn head_tag(key: &AuditKey, lines: u64, mac: &[u8; 32]) -> [u8; 32] {
    key.mac.tag(&[HEAD_LABEL, &lines.to_be_bytes(), mac])
}

/// The log of the vault in `dir`, read and verified with `key`.
pub(crate) fn read(dir: &Path, key: &AuditKey) -> Result<AuditReport> {
    Ok(scan(dir, key)?.report)
}

/// What [`read`] found, and where the writer would go on from.
struct Scan {
    report: AuditReport,
    /// Bytes of whole lines.
    whole_len: u64,
    last_mac: [u8; 32],
    /// The generation a log of another data key names on its first line.
    other_generation: Option<u32>,
}

fn scan(dir: &Path, key: &AuditKey) -> Result<Scan> {
    let log_path = dir.join(LOG_FILE);
    let head = read_head(dir, key)?;
    let mut scan = Scan {
        report: AuditReport {
            durable_lines: head.as_ref().ok().and_then(|h| h.map(|(lines, _)| lines)),
            ..AuditReport::default()
        },
        whole_len: 0,
        last_mac: GENESIS,
        other_generation: None,
    };
    // A head that does not verify is reported after the lines: a log of an
    // earlier data key has a head of that key too, and that is what to say.
    let (head, head_problem) = match head {
        Ok(h) => (h, None),
        Err(problem) => (None, Some(problem)),
    };
    let bytes = match std::fs::read(&log_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            scan.report.problem = head_problem;
            if let Some((lines @ 1.., _)) = head {
                scan.report.problem = Some(format!(
                    "{LOG_FILE} is missing, and {HEAD_FILE} says {lines} line(s) were written: it was removed"
                ));
            }
            return Ok(scan);
        }
        Err(e) => return Err(Error::io(format!("reading {}", log_path.display()), e)),
    };
    // Each verified line's MAC, for the head's check.
    let mut macs = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            scan.report.torn_tail = true;
            break;
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        let n = scan.report.records.len() as u64;
        let at = format!("line {} of {LOG_FILE}", n + 1);
        let Some(parsed) = record::parse(line) else {
            scan.report.problem = Some(format!("{at} is not an audit record: it was edited"));
            return Ok(scan);
        };
        if n == 0
            && (parsed.op() != Operation::Start || parsed.generation() != Some(key.generation))
        {
            scan.other_generation = parsed
                .generation()
                .filter(|&g| parsed.op() == Operation::Start && g != key.generation);
            scan.report.problem = Some(match scan.other_generation {
                Some(g) => format!(
                    "{LOG_FILE} was written under data key generation {g}, and the vault's data key is at generation {} now: a log of a rotated key cannot be verified",
                    key.generation
                ),
                None => format!("{at} is not the start of a log: lines were removed from the front"),
            });
            return Ok(scan);
        }
        if parsed.seq() != n {
            scan.report.problem = Some(format!(
                "{at} has sequence number {}: lines were removed or reordered",
                parsed.seq()
            ));
            return Ok(scan);
        }
        let verified = parsed.verify(key, &scan.last_mac);
        let Some((mac, rec)) = verified.and_then(|mac| Some((mac, parsed.open(key)?))) else {
            scan.report.problem = Some(format!(
                "{at} does not verify: it, or a line before it, was edited or moved"
            ));
            return Ok(scan);
        };
        scan.last_mac = mac;
        macs.push(mac);
        scan.whole_len += end as u64 + 1;
        scan.report.records.push(rec);
    }
    if head_problem.is_some() {
        scan.report.problem = head_problem;
    } else if let Some((lines, mac)) = head {
        let last = match lines {
            0 => Some(&GENESIS),
            n => macs.get(n as usize - 1),
        };
        scan.report.problem = match last {
            None => Some(format!(
                "{LOG_FILE} has {} line(s), and {HEAD_FILE} says {lines} were made durable: it was truncated",
                scan.report.records.len(),
            )),
            Some(m) if *m != mac => Some(format!(
                "line {lines} of {LOG_FILE} is not the line {HEAD_FILE} recorded: the log was rewritten"
            )),
            Some(_) => None,
        };
    } else if !scan.report.records.is_empty() {
        scan.report.problem = Some(format!(
            "{HEAD_FILE} is missing: a truncation of {LOG_FILE} cannot be ruled out"
        ));
    }
    Ok(scan)
}

/// The head's line and MAC; `Err` with what is wrong when it does not verify.
type HeadRead = std::result::Result<Option<(u64, [u8; 32])>, String>;

fn read_head(dir: &Path, key: &AuditKey) -> Result<HeadRead> {
    let path = dir.join(HEAD_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(None)),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    let verified = serde_json::from_slice::<Head>(&text).ok().and_then(|head| {
        let mac = record::unhex32(&head.mac)?;
        let tag = record::unhex32(&head.tag)?;
        (head_tag(key, head.lines, &mac) == tag).then_some((head.lines, mac))
    });
    Ok(verified.map(Some).ok_or_else(|| {
        format!("{HEAD_FILE} does not verify: it was edited, or written under another key")
    }))
}

/// The agent's writer: appends one line per record, fails when it cannot.
pub(crate) struct AuditLog {
    dir: PathBuf,
    key: AuditKey,
    state: Mutex<State>,
    /// The same file, for fsync without the state lock.
    sync_handle: File,
    /// Held through a sync: one at a time.
    syncing: Mutex<()>,
    syslog: Option<SyslogCopy>,
}

struct State {
    file: File,
    next_seq: u64,
    last_mac: [u8; 32],
    /// Bytes of whole, written lines: a failed write is cut back to this.
    len: u64,
    /// Lines written since the last sync.
    dirty: bool,
    /// The last write failed: the next one first cuts the file back to `len`.
    broken: bool,
    /// A sync failed: what was written may not be on disk, and no record is
    /// accepted until the log is opened again (the agent locked and unlocked).
    sync_failed: Option<String>,
}

impl AuditLog {
    /// Opens the log of the vault in `dir` and appends a `start` line: a new
    /// log when there is none, or when the one there was written under an
    /// earlier data key (moved aside to `audit-gen<N>.log`); the log there,
    /// verified, otherwise. A log that does not verify is refused: the agent
    /// does not start over evidence.
    pub(crate) fn open(dir: &Path, key: AuditKey, syslog: Option<SyslogCopy>) -> Result<AuditLog> {
        let log_path = dir.join(LOG_FILE);
        let mut scan = scan(dir, &key)?;
        if let Some(g) = scan.other_generation {
            let aside = free_name(dir, g);
            std::fs::rename(&log_path, &aside)
                .and_then(|()| match std::fs::remove_file(dir.join(HEAD_FILE)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => fsio::sync_dir(dir),
                })
                .map_err(|e| Error::io(format!("moving {} aside", log_path.display()), e))?;
            scan = Scan {
                report: AuditReport::default(),
                whole_len: 0,
                last_mac: GENESIS,
                other_generation: None,
            };
        }
        if let Some(problem) = scan.report.problem {
            return Err(Error::corrupt(
                &log_path,
                format!(
                    "the audit log does not verify, so the agent does not start: {problem}; \
                     keep a copy for whoever investigates, then move {LOG_FILE} and {HEAD_FILE} aside"
                ),
            ));
        }
        let io = |what: &str, e| Error::io(format!("{what} {}", log_path.display()), e);
        if !log_path.exists() {
            // The head first: a crash after it leaves a log (or none) that
            // the head says has no durable line, never lines with no head.
            Head::new(&key, 0, &GENESIS)
                .write(dir)
                .map_err(|e| io("creating the head of", e))?;
            fsio::create_private_file(&log_path).map_err(|e| io("creating", e))?;
            fsio::sync_dir(dir).map_err(|e| io("creating", e))?;
        }
        // Append mode, always: a write then lands at the end of the file even
        // after a failed one was cut back (a plain descriptor's offset would
        // stay past the cut and leave a hole of zeros).
        let file = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(|e| io("opening", e))?;
        // A partial last line is what a crash mid-write leaves: it is dropped.
        if scan.report.torn_tail {
            file.set_len(scan.whole_len)
                .map_err(|e| io("cutting the partial last line of", e))?;
        }
        let sync_handle = file.try_clone().map_err(|e| io("opening", e))?;
        let log = AuditLog {
            dir: dir.to_path_buf(),
            sync_handle,
            syncing: Mutex::new(()),
            state: Mutex::new(State {
                file,
                next_seq: scan.report.records.len() as u64,
                last_mac: scan.last_mac,
                len: scan.whole_len,
                dirty: false,
                broken: false,
                sync_failed: None,
            }),
            syslog,
            key,
        };
        log.append(Operation::Start, Vec::new(), "ok", &Asker::agent(), None)?;
        log.sync()?;
        Ok(log)
    }

    /// The log file.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// `Ok` when a record can be appended now: after a failed write, once the
    /// partial line is cut away.
    pub(crate) fn ready(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.repair(&mut state)
    }

    fn failure(&self, e: std::io::Error) -> Error {
        Error::io(
            format!(
                "writing the audit log {} (requests that read or change secrets are refused until it can be written)",
                self.path().display()
            ),
            e,
        )
    }

    fn repair(&self, state: &mut State) -> Result<()> {
        if let Some(why) = &state.sync_failed {
            return Err(self.failure(std::io::Error::other(format!(
                "an earlier sync failed ({why}); lock and unlock the agent to verify and reopen the log"
            ))));
        }
        if state.broken {
            let len = state.len;
            state.file.set_len(len).map_err(|e| self.failure(e))?;
            state.broken = false;
        }
        Ok(())
    }

    /// Appends one record. An error means it is not in the log, and the
    /// request it describes must fail.
    pub(crate) fn append(
        &self,
        op: Operation,
        entries: Vec<String>,
        result: &str,
        who: &Asker,
        detail: Option<String>,
    ) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.repair(&mut state)?;
        let rec = AuditRecord {
            seq: state.next_seq,
            time: SystemClock.now().secs(),
            op,
            entries,
            result: result.to_owned(),
            uid: who.uid,
            pid: who.pid,
            exe: who.exe.clone(),
            detail,
        };
        let (line, mac) = record::encode(&self.key, &state.last_mac, &rec)?;
        if let Err(e) = state.file.write_all(&line) {
            state.broken = true;
            return Err(self.failure(e));
        }
        if let Some(copy) = &self.syslog {
            // The file has the line; a copy that cannot be sent still fails
            // the request, as the file would.
            copy.send(&line[..line.len() - 1])?;
        }
        state.len += line.len() as u64;
        state.next_seq += 1;
        state.last_mac = mac;
        state.dirty = true;
        Ok(())
    }

    /// Makes the lines written so far durable and records the last one in
    /// the head; nothing to do when none was written since the last sync.
    pub(crate) fn sync(&self) -> Result<()> {
        // One sync at a time; appends go on meanwhile: the state lock is held
        // only to take what the sync covers, never across the fsync (every
        // request would wait for the disk once a second).
        let _one = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        let (file, head) = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if !state.dirty {
                return Ok(());
            }
            state.dirty = false;
            let head = Head::new(&self.key, state.next_seq, &state.last_mac);
            (&self.sync_handle, head)
        };
        // The lines the head counts were written before this: the fsync covers them.
        if let Err(e) = file.sync_data() {
            // What was written may be lost: no more records until a reopen
            // verifies what is there.
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.sync_failed = Some(e.to_string());
            return Err(Error::io(
                format!("syncing the audit log {}", self.path().display()),
                e,
            ));
        }
        // A head that cannot be replaced now (a full disk) only lags: the
        // lines are durable, and the next sync tries again.
        head.write(&self.dir).map_err(|e| {
            self.state.lock().unwrap_or_else(|e| e.into_inner()).dirty = true;
            Error::io(
                format!("replacing {}", self.dir.join(HEAD_FILE).display()),
                e,
            )
        })
    }

    /// The log as [`read`] finds it, once what was written is durable and
    /// with no line half written.
    pub(crate) fn report(&self) -> Result<AuditReport> {
        self.sync()?;
        let _writes = self.state.lock().unwrap_or_else(|e| e.into_inner());
        read(&self.dir, &self.key)
    }
}

/// `audit-gen<N>.log`, or `audit-gen<N>-<k>.log` when that is taken.
fn free_name(dir: &Path, generation: u32) -> PathBuf {
    let first = dir.join(format!("audit-gen{generation}.log"));
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|k| dir.join(format!("audit-gen{generation}-{k}.log")))
        .find(|p| !p.exists())
        .expect("some name is free")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Prf, SealingKey, SymmetricKey};

    fn key(generation: u32, material: &SymmetricKey) -> AuditKey {
        AuditKey {
            mac: Prf::new(material),
            seal: SealingKey::new(material),
            generation,
        }
    }

    fn who() -> Asker {
        Asker {
            uid: Some(1000),
            pid: Some(4242),
            exe: Some("/usr/bin/nuke".into()),
        }
    }

    /// A log with a start line and `gets` get lines, synced.
    fn written(dir: &Path, k: AuditKey, gets: usize) -> AuditLog {
        let log = AuditLog::open(dir, k, None).unwrap();
        for i in 0..gets {
            log.append(
                Operation::Get,
                vec![format!("shot/{i}")],
                "ok",
                &who(),
                None,
            )
            .unwrap();
        }
        log.sync().unwrap();
        log
    }

    fn lines(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join(LOG_FILE))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn rewrite(dir: &Path, lines: &[String]) {
        std::fs::write(dir.join(LOG_FILE), lines.join("\n") + "\n").unwrap();
    }

    fn problem(dir: &Path, k: &AuditKey) -> String {
        read(dir, k).unwrap().problem.expect("a problem is found")
    }

    #[test]
    fn a_written_log_verifies_whole() {
        let dir = tempfile::tempdir().unwrap();
        let m = SymmetricKey::generate().unwrap();
        drop(written(dir.path(), key(0, &m), 3));
        let report = read(dir.path(), &key(0, &m)).unwrap();
        assert_eq!(report.problem, None);
        assert_eq!(report.records.len(), 4);
        assert_eq!(report.records[0].op, Operation::Start);
        assert_eq!(report.records[3].entries, ["shot/2"]);
        assert_eq!(report.records[3].exe.as_deref(), Some("/usr/bin/nuke"));
        assert_eq!(report.durable_lines, Some(4));
        // A second agent goes on with the same chain.
        drop(written(dir.path(), key(0, &m), 1));
        let report = read(dir.path(), &key(0, &m)).unwrap();
        assert_eq!(report.problem, None);
        assert_eq!(report.records.len(), 6);
    }

    #[test]
    fn an_edited_line_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let m = SymmetricKey::generate().unwrap();
        drop(written(dir.path(), key(0, &m), 3));
        let mut l = lines(dir.path());
        assert!(l[2].contains("\"uid\":1000"));
        l[2] = l[2].replace("\"uid\":1000", "\"uid\":1001");
        rewrite(dir.path(), &l);
        let p = problem(dir.path(), &key(0, &m));
        assert!(p.contains("line 3 of audit.log does not verify"), "{p}");
        // And the agent will not start on it.
        let e = AuditLog::open(dir.path(), key(0, &m), None).err().unwrap();
        assert!(e.to_string().contains("does not verify"), "{e}");
    }

    #[test]
    fn reordered_and_removed_lines_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let m = SymmetricKey::generate().unwrap();
        drop(written(dir.path(), key(0, &m), 3));
        let l = lines(dir.path());
        let mut swapped = l.clone();
        swapped.swap(1, 2);
        rewrite(dir.path(), &swapped);
        assert!(problem(dir.path(), &key(0, &m)).contains("sequence number"));
        let mut removed = l.clone();
        removed.remove(2);
        rewrite(dir.path(), &removed);
        assert!(
            problem(dir.path(), &key(0, &m)).contains("line 3 of audit.log has sequence number 3")
        );
        rewrite(dir.path(), &l[1..]);
        assert!(problem(dir.path(), &key(0, &m)).contains("not the start of a log"));
    }

    #[test]
    fn a_truncated_or_removed_log_is_found_by_its_head() {
        let dir = tempfile::tempdir().unwrap();
        let m = SymmetricKey::generate().unwrap();
        drop(written(dir.path(), key(0, &m), 3));
        let l = lines(dir.path());
        rewrite(dir.path(), &l[..2]);
        let p = problem(dir.path(), &key(0, &m));
        assert!(p.contains("it was truncated"), "{p}");
        std::fs::remove_file(dir.path().join(LOG_FILE)).unwrap();
        assert!(problem(dir.path(), &key(0, &m)).contains("it was removed"));
        rewrite(dir.path(), &l);
        std::fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
        assert!(problem(dir.path(), &key(0, &m)).contains("audit.head is missing"));
    }

    #[test]
    fn a_crash_while_a_new_log_is_made_leaves_one_the_agent_opens() {
        let dir = tempfile::tempdir().unwrap();
        let m = SymmetricKey::generate().unwrap();
        // The state after the new log's head, before its file.
        Head::new(&key(0, &m), 0, &GENESIS)
            .write(dir.path())
            .unwrap();
        assert_eq!(read(dir.path(), &key(0, &m)).unwrap().problem, None);
        // And after its first line, before the sync that counts it.
        let head = std::fs::read(dir.path().join(HEAD_FILE)).unwrap();
        drop(written(dir.path(), key(0, &m), 0));
        let lines = lines(dir.path());
        std::fs::write(dir.path().join(HEAD_FILE), head).unwrap();
        rewrite(dir.path(), &lines[..1]);
        assert_eq!(read(dir.path(), &key(0, &m)).unwrap().problem, None);
        drop(written(dir.path(), key(0, &m), 1));
        assert_eq!(read(dir.path(), &key(0, &m)).unwrap().problem, None);
    }

    #[test]
    fn another_key_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(
            dir.path(),
            key(0, &SymmetricKey::generate().unwrap()),
            1,
        ));
        let p = problem(dir.path(), &key(0, &SymmetricKey::generate().unwrap()));
        assert!(p.contains("does not verify"), "{p}");
    }

    #[test]
    fn a_partial_last_line_is_a_crash_and_is_cut_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let m = SymmetricKey::generate().unwrap();
        drop(written(dir.path(), key(0, &m), 2));
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LOG_FILE))
            .unwrap();
        f.write_all(b"{\"seq\":3,\"ti").unwrap();
        let report = read(dir.path(), &key(0, &m)).unwrap();
        assert!(report.torn_tail);
        assert_eq!(report.problem, None);
        drop(written(dir.path(), key(0, &m), 1));
        let report = read(dir.path(), &key(0, &m)).unwrap();
        assert!(!report.torn_tail);
        assert_eq!(report.problem, None);
        assert_eq!(report.records.len(), 5);
    }

    #[test]
    fn a_rotated_data_key_moves_the_old_log_aside() {
        let dir = tempfile::tempdir().unwrap();
        drop(written(
            dir.path(),
            key(0, &SymmetricKey::generate().unwrap()),
            2,
        ));
        let old = std::fs::read(dir.path().join(LOG_FILE)).unwrap();
        let m = SymmetricKey::generate().unwrap();
        let p = problem(dir.path(), &key(1, &m));
        assert!(p.contains("data key generation 0"), "{p}");
        drop(written(dir.path(), key(1, &m), 1));
        assert_eq!(
            std::fs::read(dir.path().join("audit-gen0.log")).unwrap(),
            old
        );
        let report = read(dir.path(), &key(1, &m)).unwrap();
        assert_eq!(report.problem, None);
        assert_eq!(report.records.len(), 2);
    }
}
