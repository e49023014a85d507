//! The parent side of the crash tests: start a child, kill it at a random
//! moment, then reopen the vault and hold it to the model.

use super::model::{parse_op, Model, Op, State};
use super::workload::{key_file, Rng, CHILD, TAG};
use crate::rerun::alone;
use crate::support::*;
use farmvault::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one kill left behind, as the child printed it.
pub struct Run {
    pub ready: bool,
    pub acked: Vec<Op>,
    pub in_flight: Option<Op>,
    pub to_ready: Option<Duration>,
}

#[derive(Default, Debug, Clone)]
pub struct Tally {
    pub kills: usize,
    pub before_ready: usize,
    pub acked_ops: usize,
    pub in_flight: usize,
    pub in_flight_applied: usize,
    pub sled_refused: usize,
    pub forced_repairs: usize,
    pub repaired: usize,
}

pub const KINDS: &[&str] = &[
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

pub fn cfg(path: &Path) -> Config {
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

pub fn one_kill(
    kind: &str,
    path: &Path,
    model: &Model,
    round: u64,
    rng: &mut Rng,
    open_est: Duration,
    window_doublings: u32,
) -> Run {
    // The child test sits at the root of the test binary.
    let root = module_path!().split("::").next().unwrap();
    let mut cmd = alone(root, "crash_child");
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
pub fn check_after(
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

pub fn setup(kind: &str, path: &Path) -> Model {
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

pub fn kills_per_kind() -> usize {
    std::env::var("FARMVAULT_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}
