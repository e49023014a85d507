//! Crash harness: a workload runs in a child process and is killed with SIGKILL at
//! a random moment, for each kind of write: single puts, deletes, batches, renew,
//! purge, passphrase change, key-file add/remove, data-key rotation and
//! compaction (the last four rewrite the store into a new generation).
//!
//! The child (this test binary run again on the single test `crash_child`, a no-op
//! unless `FARMVAULT_CRASH_CHILD` is set) opens the vault, prints `READY`, then
//! loops over operations of its kind. Before each it prints `BEGIN <op>`, after it
//! returns `ACK`, each line flushed. The parent kills it at a random delay (mostly
//! after `READY`, sometimes while it is still opening), reads everything it
//! printed, and reopens the vault. It then checks:
//!
//! - the vault opens with the old or the new key, never neither (and an
//!   acknowledged passphrase change or key-file removal shuts the old key out);
//! - the entries (names, values, expiries) are exactly the model after every
//!   acknowledged op, or that plus the one op in flight when the kill came: never
//!   a mix (a batch, a purge or a rotation is all-or-nothing);
//! - no entry is damaged or reads as `Tampered`.
//!
//! The model then takes whichever of the two states was found, and the next child
//! goes on from there. `FARMVAULT_CRASH_KILLS` sets kills per kind (default 20);
//! `FARMVAULT_CRASH_SEED` fixes the random seed (printed on failure).
//!
//! A vault that sled refuses to open after a kill is repaired from the backup the
//! vault keeps of itself (`Config::repair`), counted, and checked like any other:
//! nothing acknowledged may be missing. Since sled rarely refuses, every fourth
//! kill also deletes sled's data file before the check, so the backup as a crash
//! left it is what the vault is rebuilt from ("forced" repairs).
//!
//! The harness is a test binary of its own, not a module of `tests/vault/`: its
//! kill delays are sized for a child that has the machine to itself. The vault
//! tests running beside it in one binary slow the child down enough that a slow
//! kind (a rotation) may never be acknowledged before its kill, and the check
//! below that every kind was fails.
#![cfg(unix)]

/// This binary run again on the child test.
#[allow(
    dead_code,
    reason = "the harness starts its child with `alone` and needs no `in_own_process`"
)]
#[path = "common/rerun.rs"]
mod rerun;
/// The vault tests' fixture (cheap KDF, `PW`, `T0`) and their child-line protocol.
#[allow(
    dead_code,
    reason = "the harness uses a few of the vault tests' helpers"
)]
#[path = "vault/support.rs"]
mod support;

use crate::rerun::alone;
use crate::support::*;
use farmvault::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "FARMVAULT_CRASH_CHILD";
/// Marks the child's lines among libtest's own output.
const TAG: &str = "FVCH";
/// The child's clock: far after the parent's `T0`, so the parent, whose snapshot
/// reads every entry and wants each read clean, never sees an entry as expired
/// while the child purges.
const CHILD_T: u64 = T0 + 10_000_000;

/// A tiny xorshift; the seed is printed so a failure can be replayed.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env(k: &str) -> String {
    std::env::var(format!("FARMVAULT_CRASH_{k}")).unwrap_or_default()
}

fn key_file(n: u64) -> KeyFile {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_be_bytes());
    b[8..16].copy_from_slice(b"crashkf!");
    b[16] = 1;
    KeyFile::from_bytes(&b).unwrap()
}

fn value_for(rng: &mut Rng, tag: &str) -> String {
    let pad = rng.below(3000) as usize;
    format!("{tag}|{}", "v".repeat(pad))
}

/// The child side. A no-op in a normal test run.
#[test]
fn crash_child() {
    let Ok(kind) = std::env::var(CHILD) else {
        return;
    };
    let dir = env("DIR");
    let round: u64 = env("ROUND").parse().unwrap();
    let mut rng = Rng(env("SEED").parse().unwrap());
    let pass = env("PW");
    let clock = ManualClock::new(UnixTime(CHILD_T + round * 1000));
    let v = Config::new(&dir)
        .kdf(cheap())
        .clock(Arc::new(clock.clone()))
        .lock_timeout(Duration::from_secs(10))
        .open(&Unlock::passphrase(pass.as_str()))
        .unwrap();
    // Existing names, with their expiries.
    let mut names: BTreeMap<String, Option<u64>> = v
        .list("")
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.expires.map(UnixTime::secs)))
        .collect();
    say(TAG, "READY");
    let mut seq = 0u64;
    let mut kf_next: u64 = env("KF_NEXT").parse().unwrap_or(0);
    let mut kf_present: Vec<u64> = env("KF")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let mut pw_next: u64 = env("PW_NEXT").parse().unwrap_or(0);
    loop {
        seq += 1;
        let tag = format!("{kind}-{round}-{seq}");
        let now = clock.now().secs();
        match kind.as_str() {
            "put" => {
                let name = format!("p{}", rng.below(40));
                let value = value_for(&mut rng, &tag);
                let ttl = (rng.below(2) == 0).then(|| 1_000_000 + rng.below(1000));
                let exp = ttl.map_or(0, |t| now + t);
                say(TAG, &format!("BEGIN P {name} {exp} {value}"));
                let opts = PutOptions {
                    ttl: ttl.map(secs),
                    durable: true,
                };
                v.put(&name, value.as_bytes(), &opts).unwrap();
                names.insert(name, ttl.map(|t| now + t));
            }
            "delete" => {
                if names.len() < 8 || rng.below(2) == 0 {
                    let name = format!("d{}", rng.below(1000));
                    let value = value_for(&mut rng, &tag);
                    say(TAG, &format!("BEGIN P {name} 0 {value}"));
                    v.put(&name, value.as_bytes(), &PutOptions::new()).unwrap();
                    names.insert(name, None);
                } else {
                    let i = rng.below(names.len() as u64) as usize;
                    let name = names.keys().nth(i).unwrap().clone();
                    say(TAG, &format!("BEGIN D {name}"));
                    v.delete(&name).unwrap();
                    names.remove(&name);
                }
            }
            "batch" => {
                let mut b = Batch::new();
                let mut desc = Vec::new();
                let mut touched = Vec::new();
                for _ in 0..1 + rng.below(5) {
                    let name = format!("b{}", rng.below(60));
                    if touched.contains(&name) {
                        continue;
                    }
                    let value = value_for(&mut rng, &tag);
                    let ttl = (rng.below(2) == 0).then(|| 1_000_000 + rng.below(1000));
                    b.put(&name, value.as_bytes(), ttl.map(secs));
                    desc.push(format!("P:{name}:{}:{value}", ttl.map_or(0, |t| now + t)));
                    touched.push(name.clone());
                    names.insert(name, ttl.map(|t| now + t));
                }
                if names.len() > 10 {
                    let i = rng.below(names.len() as u64) as usize;
                    let name = names.keys().nth(i).unwrap().clone();
                    if !touched.contains(&name) {
                        b.delete(&name);
                        desc.push(format!("D:{name}"));
                        names.remove(&name);
                    }
                }
                say(TAG, &format!("BEGIN B {}", desc.join(",")));
                v.apply(b).unwrap();
            }
            "renew" => {
                let i = rng.below(names.len() as u64) as usize;
                let name = names.keys().nth(i).unwrap().clone();
                let ttl = 1_000_000 + rng.below(1_000_000);
                say(TAG, &format!("BEGIN R {name} {}", now + ttl));
                v.renew(&name, Some(secs(ttl))).unwrap();
            }
            "purge" => {
                if rng.below(3) != 0 {
                    let name = format!("u{}", rng.below(200));
                    let value = value_for(&mut rng, &tag);
                    let ttl = 1 + rng.below(60);
                    say(TAG, &format!("BEGIN P {name} {} {value}", now + ttl));
                    v.put(&name, value.as_bytes(), &PutOptions::new().ttl(secs(ttl)))
                        .unwrap();
                } else {
                    clock.advance(secs(rng.below(40)));
                    let now = clock.now().secs();
                    say(TAG, &format!("BEGIN U {now}"));
                    v.purge_expired().unwrap();
                }
            }
            "passphrase" => {
                pw_next += 1;
                let new = format!("pw-{pw_next}");
                say(TAG, &format!("BEGIN C {new}"));
                v.change_passphrase(&SecretString::new(new)).unwrap();
            }
            "keyfile" => {
                if kf_present.is_empty() || (kf_present.len() < 3 && rng.below(2) == 0) {
                    kf_next += 1;
                    say(TAG, &format!("BEGIN KA {kf_next}"));
                    v.add_key_file(&key_file(kf_next)).unwrap();
                    kf_present.push(kf_next);
                } else {
                    let i = rng.below(kf_present.len() as u64) as usize;
                    let n = kf_present.remove(i);
                    say(TAG, &format!("BEGIN KR {n}"));
                    v.remove_key_file(&key_file(n)).unwrap();
                }
            }
            "compact" => {
                if rng.below(3) == 0 {
                    say(TAG, "BEGIN K");
                    v.compact(&mut |_, _| {}).unwrap();
                } else if names.len() > 12 && rng.below(2) == 0 {
                    let i = rng.below(names.len() as u64) as usize;
                    let name = names.keys().nth(i).unwrap().clone();
                    say(TAG, &format!("BEGIN D {name}"));
                    v.delete(&name).unwrap();
                    names.remove(&name);
                } else {
                    // New names each time, so sled keeps rolling segments.
                    let name = format!("c{tag}");
                    let value = value_for(&mut rng, &tag);
                    say(TAG, &format!("BEGIN P {name} 0 {value}"));
                    v.put(&name, value.as_bytes(), &PutOptions::new()).unwrap();
                    names.insert(name, None);
                }
            }
            "rotate" => {
                say(TAG, "BEGIN T");
                v.rotate_data_key(&RotateOptions::default(), &mut |_, _| {})
                    .unwrap();
            }
            other => panic!("unknown kind {other}"),
        }
        say(TAG, "ACK");
        if seq > 100_000 {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
}

/// name -> (value, expires or 0)
type State = BTreeMap<String, (Vec<u8>, u64)>;

#[derive(Clone, Debug)]
enum Op {
    Put(String, u64, String),
    Del(String),
    Batch(Vec<Op>),
    Renew(String, u64),
    Purge(u64),
    Pass(String),
    KeyAdd(u64),
    KeyRemove(u64),
    Rotate,
    Compact,
}

fn parse_op(s: &str) -> Op {
    let mut it = s.splitn(2, ' ');
    let code = it.next().unwrap();
    let rest = it.next().unwrap_or("");
    let parts: Vec<&str> = rest.splitn(3, ' ').collect();
    match code {
        "P" => Op::Put(parts[0].into(), parts[1].parse().unwrap(), parts[2].into()),
        "D" => Op::Del(parts[0].into()),
        "B" => Op::Batch(
            rest.split(',')
                .map(|item| {
                    let f: Vec<&str> = item.splitn(4, ':').collect();
                    match f[0] {
                        "P" => Op::Put(f[1].into(), f[2].parse().unwrap(), f[3].into()),
                        _ => Op::Del(f[1].into()),
                    }
                })
                .collect(),
        ),
        "R" => Op::Renew(parts[0].into(), parts[1].parse().unwrap()),
        "U" => Op::Purge(parts[0].parse().unwrap()),
        "C" => Op::Pass(parts[0].into()),
        "KA" => Op::KeyAdd(parts[0].parse().unwrap()),
        "KR" => Op::KeyRemove(parts[0].parse().unwrap()),
        "T" => Op::Rotate,
        "K" => Op::Compact,
        other => panic!("unknown op {other}"),
    }
}

/// The model of one kind's vault.
#[derive(Clone, Debug)]
struct Model {
    entries: State,
    pw: String,
    pw_next: u64,
    key_files: Vec<u64>,
    kf_next: u64,
}

impl Model {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Put(n, e, v) => {
                self.entries.insert(n.clone(), (v.as_bytes().to_vec(), *e));
            }
            Op::Del(n) => {
                self.entries.remove(n);
            }
            Op::Batch(ops) => ops.iter().for_each(|o| self.apply(o)),
            Op::Renew(n, e) => self.entries.get_mut(n).unwrap().1 = *e,
            Op::Purge(now) => self.entries.retain(|_, (_, e)| *e == 0 || *e > *now),
            Op::Pass(p) => {
                self.pw = p.clone();
                self.pw_next = p[3..].parse().unwrap();
            }
            Op::KeyAdd(n) => {
                self.key_files.push(*n);
                self.kf_next = *n;
            }
            Op::KeyRemove(n) => self.key_files.retain(|k| k != n),
            Op::Rotate | Op::Compact => {}
        }
    }
}

/// What one kill left behind, as the child printed it.
struct Run {
    ready: bool,
    acked: Vec<Op>,
    in_flight: Option<Op>,
    to_ready: Option<Duration>,
}

#[derive(Default, Debug, Clone)]
struct Tally {
    kills: usize,
    before_ready: usize,
    acked_ops: usize,
    in_flight: usize,
    in_flight_applied: usize,
    sled_refused: usize,
    forced_repairs: usize,
    repaired: usize,
}

const KINDS: &[&str] = &[
    "put",
    "delete",
    "batch",
    "renew",
    "purge",
    "passphrase",
    "keyfile",
    "rotate",
    "compact",
];

fn cfg(path: &Path) -> Config {
    Config::new(path)
        .kdf(cheap())
        .clock(Arc::new(ManualClock::new(UnixTime(T0))))
        .lock_timeout(Duration::from_secs(10))
}

/// The vault's entries as they read back; panics on anything but a clean read.
fn snapshot(v: &Vault, ctx: &str) -> State {
    assert_eq!(v.damaged().unwrap(), Vec::<String>::new(), "{ctx}: damaged");
    let mut out = State::new();
    for m in v.list("").unwrap() {
        let e = match v.get(&m.name) {
            Ok(e) => e,
            Err(e) => panic!("{ctx}: {} reads as {e:?}", m.name),
        };
        out.insert(
            m.name.clone(),
            (
                e.credential.secret().to_vec(),
                e.meta.expires.map_or(0, UnixTime::secs),
            ),
        );
    }
    out
}

fn one_kill(
    kind: &str,
    path: &Path,
    model: &Model,
    round: u64,
    rng: &mut Rng,
    open_est: Duration,
    window_doublings: u32,
) -> Run {
    let mut cmd = alone(module_path!(), "crash_child");
    cmd.env(CHILD, kind)
        .env("FARMVAULT_CRASH_DIR", path)
        .env("FARMVAULT_CRASH_ROUND", round.to_string())
        .env("FARMVAULT_CRASH_SEED", (rng.next() | 1).to_string())
        .env("FARMVAULT_CRASH_PW", &model.pw)
        .env("FARMVAULT_CRASH_PW_NEXT", model.pw_next.to_string())
        .env("FARMVAULT_CRASH_KF_NEXT", model.kf_next.to_string())
        .env(
            "FARMVAULT_CRASH_KF",
            model
                .key_files
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // A reader thread collects lines with their arrival time.
    let (tx, rx) = std::sync::mpsc::channel::<(String, Instant)>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((line, Instant::now())).is_err() {
                break;
            }
        }
    });
    // One kill in eight lands while the child is still opening the vault.
    let early = rng.below(8) == 0;
    let mut lines = Vec::new();
    let mut to_ready = None;
    if early {
        let d = rng.below(open_est.as_micros() as u64 + 1);
        std::thread::sleep(Duration::from_micros(d));
    } else {
        // Wait for READY, then a random delay covering a few operations.
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok((l, t)) => {
                    let ready = heard(TAG, &l) == Some("READY");
                    lines.push(l);
                    if ready {
                        to_ready = Some(t - start);
                        break;
                    }
                }
                Err(e) => panic!("{kind} round {round}: child never got ready ({e}): {lines:?}"),
            }
        }
        // Sized for an unloaded machine, and doubled for a kind while none of
        // its operations has been acknowledged yet: on a loaded machine one
        // operation can outlast the base window, and the harness must still
        // reach the states after an acknowledged write.
        let window = match kind {
            "rotate" | "compact" => 60_000,
            _ => 25_000,
        } << window_doublings;
        std::thread::sleep(Duration::from_micros(rng.below(window)));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "{kind} round {round}: {status:?} {lines:?}"
        );
    }
    reader.join().unwrap();
    lines.extend(rx.try_iter().map(|(l, _)| l));
    let mut run = Run {
        ready: false,
        acked: Vec::new(),
        in_flight: None,
        to_ready,
    };
    for l in &lines {
        let Some(msg) = heard(TAG, l) else { continue };
        if msg == "READY" {
            run.ready = true;
        } else if msg == "ACK" {
            run.acked
                .push(run.in_flight.take().expect("ACK without BEGIN"));
        } else if let Some(op) = msg.strip_prefix("BEGIN ") {
            assert!(run.in_flight.is_none(), "BEGIN after BEGIN");
            run.in_flight = Some(parse_op(op));
        }
    }
    run
}

/// After a kill: resolve the key state, reopen, check the entries, update the model.
fn check_after(
    kind: &str,
    path: &Path,
    model: &mut Model,
    run: &Run,
    tally: &mut Tally,
    ctx: &str,
) -> Result<(), String> {
    let before = model.clone();
    for op in &run.acked {
        model.apply(op);
    }
    let mut after = model.clone();
    if let Some(op) = &run.in_flight {
        after.apply(op);
        tally.in_flight += 1;
    }
    // Keys: the vault opens with the old or the new one, never neither.
    let open = |pw: &str| cfg(path).open(&Unlock::passphrase(pw));
    let mut applied = None;
    let v = match open(&model.pw) {
        Ok(v) => v,
        Err(e @ Error::WrongKey { .. }) if after.pw != model.pw => match open(&after.pw) {
            Ok(v) => {
                applied = Some(true);
                v
            }
            Err(e2) => panic!("{ctx}: opens with neither passphrase: {e:?} / {e2:?}"),
        },
        Err(e @ (Error::Corrupt { .. } | Error::Io { .. })) => {
            let forced = !data_dir(path).join("db").exists();
            if !forced {
                tally.sled_refused += 1;
            }
            let (v, was_applied) = repair(path, model, &after)
                .map_err(|e2| format!("{e}; then repair failed: {e2}"))?;
            tally.repaired += 1;
            applied = was_applied;
            v
        }
        Err(e) => panic!("{ctx}: open with {:?} failed: {e:?}", model.pw),
    };
    if kind == "passphrase" && !run.acked.is_empty() {
        drop(v);
        // An acknowledged change shuts the previous passphrase out.
        assert!(
            matches!(open(&before.pw), Err(Error::WrongKey { .. })),
            "{ctx}: the old passphrase still opens after an acknowledged change"
        );
        return check_after_reopen(kind, path, model, after, run, tally, ctx, applied);
    }
    check_entries(kind, &v, path, model, after, run, tally, ctx, applied)
}

/// Rebuilds the vault from its backup with the old passphrase or, when the op in
/// flight changed it, the new one; says which opened it.
fn repair(path: &Path, model: &Model, after: &Model) -> Result<(Vault, Option<bool>), Error> {
    let repair = |pw: &str| cfg(path).repair(&Unlock::passphrase(pw), false);
    match repair(&model.pw) {
        Ok((v, _)) => Ok((v, None)),
        Err(Error::WrongKey { .. }) if after.pw != model.pw => {
            repair(&after.pw).map(|(v, _)| (v, Some(true)))
        }
        Err(e) => Err(e),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_after_reopen(
    kind: &str,
    path: &Path,
    model: &mut Model,
    after: Model,
    run: &Run,
    tally: &mut Tally,
    ctx: &str,
    applied: Option<bool>,
) -> Result<(), String> {
    let pw = if applied == Some(true) {
        &after.pw
    } else {
        &model.pw
    };
    let v = cfg(path).open(&Unlock::passphrase(pw.as_str())).unwrap();
    check_entries(kind, &v, path, model, after, run, tally, ctx, applied)
}

#[allow(clippy::too_many_arguments)]
fn check_entries(
    kind: &str,
    v: &Vault,
    path: &Path,
    model: &mut Model,
    after: Model,
    run: &Run,
    tally: &mut Tally,
    ctx: &str,
    mut applied: Option<bool>,
) -> Result<(), String> {
    let got = snapshot(v, ctx);
    if got != model.entries {
        assert!(
            run.in_flight.is_some() && got == after.entries,
            "{ctx}: entries are neither the acknowledged state nor that plus the op in flight ({:?})\n\
             missing/different: {:?}\nunexpected: {:?}",
            run.in_flight,
            model.entries.iter().filter(|(k, v)| got.get(*k) != Some(v)).map(|(k, _)| k).collect::<Vec<_>>(),
            got.iter().filter(|(k, v)| model.entries.get(*k) != Some(v)).map(|(k, _)| k).collect::<Vec<_>>(),
        );
        applied = Some(true);
    }
    // The slot count tells an in-flight key-file add or remove; each key file the
    // model holds must open the vault, and a removed one must not.
    if kind == "keyfile" {
        let slots = v.keyslots().unwrap().len();
        let want = |m: &Model| 1 + m.key_files.len();
        if slots != want(model) {
            assert!(
                run.in_flight.is_some() && slots == want(&after),
                "{ctx}: {slots} keyslots, model wants {} (or {} with {:?})",
                want(model),
                want(&after),
                run.in_flight
            );
            applied = Some(true);
        }
    }
    if applied == Some(true) {
        *model = after;
        tally.in_flight_applied += 1;
    } else if let Some(Op::KeyAdd(n)) = &run.in_flight {
        // Not applied: the next add must not reuse its number.
        model.kf_next = *n;
    } else if let Some(Op::Pass(p)) = &run.in_flight {
        model.pw_next = p[3..].parse().unwrap();
    }
    if kind == "keyfile" {
        for n in &model.key_files {
            if let Err(e) = cfg(path).open(&Unlock::KeyFile(key_file(*n))) {
                panic!("{ctx}: key file {n} does not open the vault: {e:?}");
            }
        }
        let removed = run.acked.iter().rev().find_map(|o| match o {
            Op::KeyRemove(n) => Some(*n),
            _ => None,
        });
        if let Some(n) = removed {
            assert!(
                matches!(
                    cfg(path).open(&Unlock::KeyFile(key_file(n))),
                    Err(Error::WrongKey { .. })
                ),
                "{ctx}: removed key file {n} still opens the vault"
            );
        }
    }
    Ok(())
}

fn setup(kind: &str, path: &Path) -> Model {
    let v = cfg(path).create(&pw()).unwrap();
    let mut model = Model {
        entries: State::new(),
        pw: PW.into(),
        pw_next: 0,
        key_files: Vec::new(),
        kf_next: 0,
    };
    let seed_count = match kind {
        "rotate" => 40,
        "put" | "purge" => 0,
        _ => 12,
    };
    let mut b = Batch::new();
    for i in 0..seed_count {
        let name = format!("s{i}");
        let value = format!("seed-{kind}-{i}-{}", "z".repeat(i * 31));
        let ttl = (kind == "renew").then(|| 50_000_000 + i as u64);
        b.put(&name, value.as_bytes(), ttl.map(secs));
        model
            .entries
            .insert(name, (value.into_bytes(), ttl.map_or(0, |t| T0 + t)));
    }
    if !b.is_empty() {
        v.apply(b).unwrap();
    }
    model
}

fn kills_per_kind() -> usize {
    std::env::var("FARMVAULT_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_write() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let kills = kills_per_kind();
    let seed: u64 = std::env::var("FARMVAULT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash harness: {kills} kills per kind, FARMVAULT_CRASH_SEED={seed}");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut refusals = Vec::new();
    // The kinds take turns, so a slow one does not starve the others of the budget.
    let tmp = tempfile::tempdir().unwrap();
    let mut states: Vec<(String, std::path::PathBuf, Model, Duration, u64)> = KINDS
        .iter()
        .map(|k| {
            let path = tmp.path().join(k);
            let model = setup(k, &path);
            (k.to_string(), path, model, Duration::from_millis(30), 0u64)
        })
        .collect();
    for round in 0..kills as u64 {
        for (kind, path, model, open_est, generation) in states.iter_mut() {
            let ctx = format!("{kind} round {round} (FARMVAULT_CRASH_SEED={seed})");
            let doublings = tallies.get(kind.as_str()).map_or(0, |t| {
                if t.acked_ops == 0 {
                    t.kills.min(4) as u32
                } else {
                    0
                }
            });
            let run = one_kill(kind, path, model, round, &mut rng, *open_est, doublings);
            if let Some(t) = run.to_ready {
                *open_est = (*open_est * 3 + t) / 4;
            }
            let tally = tallies
                .entry(KINDS.iter().find(|k| **k == kind.as_str()).unwrap())
                .or_default();
            tally.kills += 1;
            tally.before_ready += usize::from(!run.ready);
            tally.acked_ops += run.acked.len();
            if round % 4 == 3 && data_dir(path).join("db").exists() {
                // Stand in for a store sled will not open: the backup must do.
                std::fs::remove_file(data_dir(path).join("db")).unwrap();
                tally.forced_repairs += 1;
            }
            if let Err(e) = check_after(kind, path, model, &run, tally, &ctx) {
                refusals.push(format!("{ctx}: {e}"));
                // Go on with that kind on a fresh vault.
                *generation += 1;
                *path = tmp.path().join(format!("{kind}-{generation}"));
                *model = setup(kind, path);
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!("crash harness: {:.1} s", elapsed.as_secs_f64());
    eprintln!(
        "kind        kills  during-open  acked-ops  in-flight  in-flight-applied  sled-refused  forced  repaired"
    );
    for (k, t) in &tallies {
        eprintln!(
            "{k:<10} {:>6} {:>12} {:>10} {:>10} {:>18} {:>13} {:>7} {:>9}",
            t.kills,
            t.before_ready,
            t.acked_ops,
            t.in_flight,
            t.in_flight_applied,
            t.sled_refused,
            t.forced_repairs,
            t.repaired
        );
    }
    for r in &refusals {
        eprintln!("not recovered: {r}");
    }
    for (k, t) in &tallies {
        assert_eq!(t.kills, kills, "{k}");
        // The random delays must reach the interesting places, not only quiet ones.
        if kills >= 20 {
            assert!(
                t.acked_ops > 0,
                "{k}: no operation was ever acknowledged: {t:?}"
            );
            assert!(
                t.in_flight > 0,
                "{k}: no kill landed during an operation: {t:?}"
            );
        }
    }
    for (k, t) in &tallies {
        assert_eq!(
            t.repaired,
            t.forced_repairs + t.sled_refused,
            "{k}: every store that would not open was repaired: {t:?}"
        );
    }
    assert!(
        refusals.is_empty(),
        "the vault could not be recovered after {} kills: {refusals:#?}",
        refusals.len()
    );
}
