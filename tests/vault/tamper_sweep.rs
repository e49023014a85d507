//! Tamper sweep: a vault of a few hundred entries and a grant bundle of some of
//! them; every file byte (or, past 1 MiB, 20,000 positions spread evenly) is
//! flipped one at a time, restored in between, and after each flip the vault (or
//! the bundle) is opened and everything read. Each read must return the original
//! value or an error: never a different value, never a panic, never a hang.
//!
//! The sweep runs in a child process (this test binary run again on the single
//! test `tamper_child`) under a wall-clock limit, so a hang fails the test rather
//! than stalling it. The child prints its counts: mutations tried, how each was
//! detected (the first error seen, by variant), and how many read back unchanged
//! (bytes sled does not read, or rewrites: unused regions, free space).
//!
//! By default every 7th bundle byte and ~400 positions of the sled files are
//! flipped (well under a minute in debug). `FARMVAULT_TAMPER_FULL=1` flips every
//! bundle byte and every byte of the sled files, or 20,000 evenly spread
//! positions of a file over 1 MiB; `FARMVAULT_TAMPER_MAX=N` caps that at N
//! evenly spread positions per file (sled's `db` file is 512 KiB, so every byte of
//! it is half a million reopen-and-read-all rounds, hours even in release).
//!
//! The vault's backup files (`backup.fvbk`, `journal.fvjl`) are swept twice: as
//! an open reads them (a damaged backup is rewritten from the store, so reads
//! are unchanged), and as a repair reads them, with sled's data file removed so
//! the vault must be rebuilt from the flipped backup or refused.

use crate::files::files_under;
use crate::rerun::alone;
use crate::support::*;
use farmvault::grant::{Grant, GrantOpen, GrantSpec};
use farmvault::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD: &str = "FARMVAULT_TAMPER_CHILD";
/// Marks the child's lines among libtest's own output.
const TAG: &str = "FVTS";
const ENTRIES: usize = 300;
const GRANTED: usize = 40;

fn full() -> bool {
    std::env::var("FARMVAULT_TAMPER_FULL").is_ok_and(|v| v == "1")
}

fn value_of(i: usize) -> Vec<u8> {
    format!("tamper-sweep-secret-{i:04}-{}", "q".repeat(i * 7 % 200)).into_bytes()
}

fn name_of(i: usize) -> String {
    if i < GRANTED {
        format!("g/{i:04}")
    } else {
        format!("e/{i:04}")
    }
}

fn expires_of(i: usize) -> Option<u64> {
    (i % 3 == 0).then(|| T0 + 1_000_000 + i as u64)
}

/// Every file under `dir` with its bytes.
fn snapshot_dir(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), b)
        })
        .collect()
}

/// Puts `dir` back exactly as `snap` (sled may have written or added files).
fn restore_dir(dir: &Path, snap: &BTreeMap<PathBuf, Vec<u8>>) {
    for p in files_under(dir) {
        if !snap.contains_key(p.strip_prefix(dir).unwrap()) {
            std::fs::remove_file(&p).unwrap();
        }
    }
    for (rel, bytes) in snap {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
}

const BACKUP_SNAPSHOT: &str = "backup.fvbk";
const BACKUP_JOURNAL: &str = "journal.fvjl";

/// Removes the `damaged-*` folders a repair moved sled's files into.
fn remove_damaged_dirs(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir()
            && p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("damaged-")
        {
            std::fs::remove_dir_all(&p).unwrap();
        }
    }
}

fn variant(e: &Error) -> &'static str {
    match e {
        Error::NotFound { .. } => "NotFound",
        Error::Expired { .. } => "Expired",
        Error::WrongKey { .. } => "WrongKey",
        Error::WrongGrantKey { .. } => "WrongGrantKey",
        Error::Tampered { .. } => "Tampered",
        Error::Corrupt { .. } => "Corrupt",
        Error::Locked { .. } => "Locked",
        Error::NoVault { .. } => "NoVault",
        Error::InvalidArgument(_) => "InvalidArgument",
        Error::Io { .. } => "Io",
        _ => "other",
    }
}

/// The first error a mutation produced (open before reads), or "undetected".
#[derive(Default)]
struct Outcome {
    first: Option<String>,
    wrong: Vec<String>,
}

impl Outcome {
    fn err(&mut self, at: &str, e: &Error) {
        if self.first.is_none() {
            self.first = Some(format!("{at}:{}", variant(e)));
        }
    }
}

fn cfg(path: &Path) -> Config {
    Config::new(path)
        .kdf(cheap())
        .clock(Arc::new(ManualClock::new(UnixTime(T0 + 10))))
        .lock_timeout(Duration::from_secs(2))
}

/// Opens the vault and reads everything; records what differs from the original.
fn read_vault(path: &Path, out: &mut Outcome) {
    let v = match cfg(path).open(&pw()) {
        Ok(v) => v,
        Err(e) => return out.err("open", &e),
    };
    match v.list("") {
        Ok(list) => {
            for m in list {
                let known = (0..ENTRIES).any(|i| name_of(i) == m.name);
                if !known {
                    out.wrong
                        .push(format!("list shows unknown name {:?}", m.name));
                }
            }
        }
        Err(e) => out.err("list", &e),
    }
    for i in 0..ENTRIES {
        match v.get(&name_of(i)) {
            Ok(e) => {
                if e.credential.secret() != value_of(i).as_slice()
                    || e.meta.expires.map(UnixTime::secs) != expires_of(i)
                    || e.meta.name != name_of(i)
                {
                    out.wrong
                        .push(format!("{} read back different", name_of(i)));
                }
            }
            Err(e) => out.err("get", &e),
        }
    }
}

/// Opens the bundle with its token and reads every granted entry.
fn read_bundle(bundle: &Path, how: &GrantOpen, out: &mut Outcome) {
    let g = match Grant::open(bundle, how) {
        Ok(g) => g,
        Err(e) => return out.err("open", &e),
    };
    match g.list("") {
        Ok(list) => {
            if list
                .iter()
                .any(|m| !(0..GRANTED).any(|i| name_of(i) == m.name))
            {
                out.wrong.push("bundle lists an unknown name".into());
            }
        }
        Err(e) => out.err("list", &e),
    }
    for i in 0..GRANTED {
        match g.get(&name_of(i)) {
            Ok(e) => {
                if e.credential.secret() != value_of(i).as_slice() {
                    out.wrong
                        .push(format!("bundle {} read back different", name_of(i)));
                }
            }
            Err(e) => out.err("get", &e),
        }
    }
}

/// Positions to flip in a file of `len` bytes.
fn positions(len: usize, full: bool, default_count: usize) -> Vec<usize> {
    let count = if full {
        let all = if len <= 1024 * 1024 { len } else { 20_000 };
        // A cap for a run that cannot afford every byte (and says so in its output).
        std::env::var("FARMVAULT_TAMPER_MAX")
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(all, |cap: usize| all.min(cap))
    } else {
        default_count.min(len)
    };
    if count >= len {
        return (0..len).collect();
    }
    (0..count).map(|k| k * len / count).collect()
}

fn mask(pos: usize) -> u8 {
    [0x01, 0x80, 0xff, 0x10][pos % 4]
}

#[derive(Default)]
struct Counts {
    tried: usize,
    by_outcome: BTreeMap<String, usize>,
}

impl Counts {
    fn add(&mut self, o: &Outcome) {
        self.tried += 1;
        let key = o.first.clone().unwrap_or_else(|| "undetected".into());
        *self.by_outcome.entry(key).or_default() += 1;
    }
}

/// The child: builds the vault and bundle, sweeps, prints counts.
#[test]
fn tamper_child() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    let full = full();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("vault");
    let clock = ManualClock::new(UnixTime(T0));
    let v = Config::new(&path)
        .kdf(cheap())
        .clock(Arc::new(clock.clone()))
        .create(&pw())
        .unwrap();
    for chunk in (0..ENTRIES).collect::<Vec<_>>().chunks(50) {
        let mut b = Batch::new();
        for &i in chunk {
            b.put(
                &name_of(i),
                &value_of(i),
                expires_of(i).map(|e| secs(e - T0)),
            );
        }
        v.apply(b).unwrap();
    }
    let bundle = tmp.path().join("job.fvg");
    let issued = v
        .grant(
            &GrantSpec::new(&bundle, "sweep")
                .entry("g/")
                .claim_within(secs(72 * 3600))
                .use_for(secs(4 * 3600)),
        )
        .unwrap();
    drop(v);
    let how = GrantOpen::new()
        .token(issued.token.clone().unwrap())
        .clock(Arc::new(ManualClock::new(UnixTime(T0 + 10))))
        .state_dir(tmp.path().join("state"))
        .hostname("render01.farm.example");

    // Panics are caught per mutation and counted (and fail the test).
    let panics = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let panics = panics.clone();
        std::panic::set_hook(Box::new(move |info| {
            panics.lock().unwrap().push(info.to_string());
        }));
    }

    // The untouched vault and bundle read back whole.
    let mut o = Outcome::default();
    read_vault(&path, &mut o);
    read_bundle(&bundle, &how, &mut o);
    assert!(
        o.first.is_none() && o.wrong.is_empty(),
        "{:?} {:?}",
        o.first,
        o.wrong
    );

    let mut wrong = Vec::new();
    // The bundle.
    let original = std::fs::read(&bundle).unwrap();
    let mut counts = Counts::default();
    let stride = if full { 1 } else { 7 };
    for pos in (0..original.len()).step_by(stride) {
        let mut bytes = original.clone();
        bytes[pos] ^= mask(pos);
        std::fs::write(&bundle, &bytes).unwrap();
        let mut o = Outcome::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_bundle(&bundle, &how, &mut o)
        }));
        if r.is_err() {
            o.first = Some("PANIC".into());
        }
        wrong.extend(o.wrong.iter().map(|w| format!("bundle byte {pos}: {w}")));
        counts.add(&o);
    }
    std::fs::write(&bundle, &original).unwrap();
    say(
        TAG,
        &format!(
            "RESULT bundle {} bytes: {} tried {:?}",
            original.len(),
            counts.tried,
            counts.by_outcome
        ),
    );

    // The sled files.
    let snap = snapshot_dir(&path);
    for (rel, bytes) in &snap {
        let started = Instant::now();
        let mut counts = Counts::default();
        let default_count = if bytes.len() > 64 * 1024 { 400 } else { 60 };
        for pos in positions(bytes.len(), full, default_count) {
            let file = path.join(rel);
            let mut m = bytes.clone();
            m[pos] ^= mask(pos);
            std::fs::write(&file, &m).unwrap();
            let mut o = Outcome::default();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_vault(&path, &mut o)
            }));
            if r.is_err() {
                o.first = Some("PANIC".into());
            }
            wrong.extend(
                o.wrong
                    .iter()
                    .map(|w| format!("{} byte {pos}: {w}", rel.display())),
            );
            counts.add(&o);
            restore_dir(&path, &snap);
        }
        say(
            TAG,
            &format!(
                "RESULT {} {} bytes: {} tried in {:.1} s {:?}",
                rel.display(),
                bytes.len(),
                counts.tried,
                started.elapsed().as_secs_f64(),
                counts.by_outcome
            ),
        );
    }
    // The backup files again, this time as a repair reads them: sled's data file
    // is gone, so the vault must be rebuilt from the flipped backup or refused.
    let data = data_dir(&path);
    let data_rel = data.strip_prefix(&path).unwrap().to_path_buf();
    for rel in [BACKUP_SNAPSHOT, BACKUP_JOURNAL].map(|name| data_rel.join(name)) {
        let bytes = &snap[&rel];
        let started = Instant::now();
        let mut counts = Counts::default();
        for pos in positions(bytes.len(), full, 60) {
            let mut m = bytes.clone();
            m[pos] ^= mask(pos);
            std::fs::write(path.join(&rel), &m).unwrap();
            std::fs::remove_file(data.join("db")).unwrap();
            let mut o = Outcome::default();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match cfg(&path).repair(&pw(), false) {
                    Ok((v, _)) => {
                        drop(v);
                        read_vault(&path, &mut o);
                    }
                    Err(e) => o.err("repair", &e),
                }
            }));
            if r.is_err() {
                o.first = Some("PANIC".into());
            }
            wrong.extend(
                o.wrong
                    .iter()
                    .map(|w| format!("repair from {} byte {pos}: {w}", rel.display())),
            );
            counts.add(&o);
            restore_dir(&path, &snap);
            remove_damaged_dirs(&path);
        }
        say(
            TAG,
            &format!(
                "RESULT repair-from-{} {} bytes: {} tried in {:.1} s {:?}",
                rel.display(),
                bytes.len(),
                counts.tried,
                started.elapsed().as_secs_f64(),
                counts.by_outcome
            ),
        );
    }
    let panics = panics.lock().unwrap().clone();
    for p in panics.iter().take(20) {
        say(TAG, &format!("PANIC {}", p.replace('\n', " ")));
    }
    for w in wrong.iter().take(50) {
        say(TAG, &format!("WRONG {w}"));
    }
    say(
        TAG,
        &format!("DONE panics={} wrong={}", panics.len(), wrong.len()),
    );
}

#[test]
fn every_flip_reads_back_original_or_an_error() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let limit = if full() {
        Duration::from_secs(3 * 3600)
    } else {
        Duration::from_secs(240)
    };
    let started = Instant::now();
    let mut child = alone(module_path!(), "tamper_child")
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let mut done = None;
    while done.is_none() {
        let left = limit.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(l) => {
                if let Some(msg) = heard(TAG, &l) {
                    let msg = msg.to_string();
                    eprintln!("{msg}");
                    if msg.starts_with("DONE") {
                        done = Some(msg.clone());
                    }
                    lines.push(msg);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the sweep hung: no result within {limit:?}; it got as far as:\n{}",
                    lines.join("\n")
                );
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child.wait().unwrap();
    eprintln!("tamper sweep: {:.1} s", started.elapsed().as_secs_f64());
    let done = done.unwrap_or_else(|| {
        panic!(
            "the sweep child died ({status:?}) before the end:\n{}",
            lines.join("\n")
        )
    });
    assert!(status.success(), "{status:?}:\n{}", lines.join("\n"));
    assert_eq!(
        done,
        "DONE panics=0 wrong=0",
        "every read must be the original value or an error:\n{}",
        lines.join("\n")
    );
}
