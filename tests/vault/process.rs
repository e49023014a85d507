//! Across processes: a write that returned survives SIGKILL of its process,
//! and a second process waits for the vault, then gets `Locked` naming the
//! path, and gets in once the first lets go.
//!
//! The child processes are this test binary run again on the single test
//! `child_process`, which does nothing unless `FARMVAULT_TEST_CHILD` is set.
#![cfg(unix)]

use crate::rerun::alone;
use crate::support::*;
use farmvault::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdout, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "FARMVAULT_TEST_CHILD";
const READY: &str = "FARMVAULT-CHILD-READY";
const DONE: &str = "FARMVAULT-CHILD-DONE";

fn var(k: &str) -> String {
    std::env::var(format!("FARMVAULT_TEST_{k}")).unwrap_or_default()
}

/// The child side. A no-op in a normal test run.
#[test]
fn child_process() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let now: u64 = var("NOW").parse().unwrap();
    let v = Config::new(var("DIR"))
        .kdf(cheap())
        .clock(Arc::new(ManualClock::new(UnixTime(now))))
        .open(&pw())
        .unwrap();
    let ttl_opt = var("TTL").parse().ok().map(secs);
    let name = var("NAME");
    let value = var("VALUE");
    match mode.as_str() {
        "put" => v
            .put(
                &name,
                value.as_bytes(),
                &PutOptions {
                    ttl: ttl_opt,
                    durable: true,
                },
            )
            .unwrap(),
        "batch" => {
            let mut b = Batch::new();
            b.put(&name, value.as_bytes(), ttl_opt);
            b.put(&var("NAME2"), value.as_bytes(), None);
            v.apply(b).unwrap();
        }
        "renew" => {
            v.renew(&name, ttl_opt).unwrap();
        }
        "delete" => v.delete(&name).unwrap(),
        "hold" => {
            v.put(&name, value.as_bytes(), &PutOptions::new()).unwrap();
            println!("{READY}");
            std::io::stdout().flush().unwrap();
            // Hold the vault until the parent closes our stdin.
            let mut sink = Vec::new();
            std::io::stdin().read_to_end(&mut sink).unwrap();
            drop(v);
            println!("{DONE}");
            return;
        }
        other => panic!("unknown child mode {other}"),
    }
    // The call has returned: say so, then wait to be killed.
    println!("{READY}");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
    std::process::exit(3);
}

/// A child process, killed when dropped.
struct Child {
    child: std::process::Child,
    stdout: BufReader<ChildStdout>,
}

impl Child {
    fn spawn(mode: &str, env: &[(&str, String)]) -> Child {
        let mut cmd = alone(module_path!(), "child_process");
        cmd.env(CHILD, mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(format!("FARMVAULT_TEST_{k}"), v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Child { child, stdout }
    }

    /// A child that has put `name` = `value` into the vault at `dir` and holds
    /// it open until its stdin is closed.
    fn holding(dir: &std::path::Path, name: &str, value: &str) -> Child {
        let mut child = Child::spawn(
            "hold",
            &[
                ("DIR", dir.display().to_string()),
                ("NOW", T0.to_string()),
                ("NAME", name.into()),
                ("VALUE", value.into()),
            ],
        );
        child.wait_for(READY);
        child
    }

    /// Reads the child's stdout up to the line `marker`.
    fn wait_for(&mut self, marker: &str) {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "child ended before {marker}; it printed:\n{seen}");
            // libtest may have printed "test child_process ... " first.
            if line.trim_end().ends_with(marker) {
                return;
            }
            seen += &line;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_write_that_returned_survives_sigkill() {
    let fx = Fx::empty();
    drop(fx.create());
    let dir = fx.path.display().to_string();
    // name -> (value, expires)
    let mut model: BTreeMap<String, (String, Option<u64>)> = BTreeMap::new();
    let mut ops = [0usize; 4];
    for i in 0..56u64 {
        let now = T0 + i;
        let value = format!("value-{i}-{}", "x".repeat(i as usize * 37 % 500));
        let mut env = vec![
            ("DIR", dir.clone()),
            ("NOW", now.to_string()),
            ("VALUE", value.clone()),
        ];
        let mode = match i % 4 {
            0 | 1 => {
                let name = format!("e{i}");
                let ttl = (i % 4 == 1).then_some(1000);
                env.push(("NAME", name.clone()));
                if let Some(t) = ttl {
                    env.push(("TTL", t.to_string()));
                }
                model.insert(name, (value, ttl.map(|t| now + t)));
                "put"
            }
            2 => {
                let (a, b) = (format!("e{i}a"), format!("e{i}b"));
                env.push(("NAME", a.clone()));
                env.push(("NAME2", b.clone()));
                env.push(("TTL", "2000".into()));
                model.insert(a, (value.clone(), Some(now + 2000)));
                model.insert(b, (value, None));
                "batch"
            }
            _ if i % 8 == 3 => {
                // Renew the TTL entry put two rounds ago.
                let name = format!("e{}", i - 2);
                env.push(("NAME", name.clone()));
                env.push(("TTL", "5000".into()));
                model.get_mut(&name).unwrap().1 = Some(now + 5000);
                "renew"
            }
            _ => {
                // Delete the plain entry put three rounds ago.
                let name = format!("e{}", i - 3);
                env.push(("NAME", name.clone()));
                model.remove(&name).unwrap();
                "delete"
            }
        };
        ops[(i % 4) as usize] += 1;
        let mut child = Child::spawn(mode, &env);
        child.wait_for(READY);
        child.child.kill().unwrap();
        let status = child.child.wait().unwrap();
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "round {i}: {status:?}");
        }
        drop(child);

        fx.set(now);
        let v = fx.open();
        let listed = v.list("").unwrap();
        assert_eq!(
            names(&listed),
            model.keys().cloned().collect::<Vec<_>>(),
            "round {i} ({mode})"
        );
        for m in &listed {
            let (value, expires) = &model[&m.name];
            assert_eq!(
                m.expires.map(UnixTime::secs),
                *expires,
                "round {i}: {}",
                m.name
            );
            assert_eq!(bytes_of(&v, &m.name), value.as_bytes(), "round {i}");
        }
    }
    assert!(ops.iter().all(|n| *n >= 14), "{ops:?}");
}

#[test]
fn a_second_process_waits_then_gets_locked_then_gets_in() {
    let fx = Fx::empty();
    drop(fx.create());
    let mut child = Child::holding(&fx.path, "from-child", "held");

    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let r = fx.cfg().lock_timeout(timeout).open(&pw());
    let waited = start.elapsed();
    match r {
        Err(e @ Error::Locked { .. }) => {
            let msg = e.to_string();
            let Error::Locked {
                path,
                waited_ms,
                holder,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(path, fx.canonical());
            assert!(msg.contains(&*fx.canonical().to_string_lossy()), "{msg}");
            // The error names the process that holds the vault: the child,
            // which is this test binary run again.
            let holder = holder.expect("the lock file names its holder");
            assert_eq!(holder.pid, child.child.id());
            let program = std::env::current_exe().unwrap();
            let program = program.file_name().unwrap().to_string_lossy();
            assert_eq!(holder.program, program);
            assert!(
                msg.contains(&format!("in use by process {} ({program})", holder.pid)),
                "{msg}"
            );
            assert!(waited_ms >= 300, "reported waiting only {waited_ms} ms");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(waited >= timeout, "gave up after {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");

    // Now let the child go a little after we start waiting: the open waits
    // through it and gets in, and the child's write is there.
    let stdin = child.child.stdin.take().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(stdin);
    });
    let start = Instant::now();
    let v = fx
        .cfg()
        .lock_timeout(Duration::from_secs(20))
        .open(&pw())
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    release.join().unwrap();
    assert_eq!(bytes_of(&v, "from-child"), b"held");
    child.wait_for(DONE);
    assert!(child.child.wait().unwrap().success());
    // Nothing was lost either way: we write, close, and it is all there.
    v.put("from-parent", b"mine", &PutOptions::new()).unwrap();
    drop(v);
    assert_eq!(
        names(&fx.open().list("").unwrap()),
        ["from-child", "from-parent"]
    );
}

#[test]
fn waiting_for_a_locked_vault_holds_up_no_other_vault() {
    // Plugin 1 waits for a vault another process holds; plugin 2, in the same
    // process, opens another vault and a second handle on an open one.
    let held = Fx::empty();
    drop(held.create());
    let other = Fx::empty();
    drop(other.create());
    let open_one = Fx::empty();
    let first = open_one.create();
    // Held until the end of the test (dropping a Child kills it).
    let _holder = Child::holding(&held.path, "n", "v");
    let wait = Duration::from_secs(3);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| held.cfg().lock_timeout(wait).open(&pw()));
        // Give the waiter time to start waiting (this sleep orders the
        // threads; it waits for no expiry).
        std::thread::sleep(Duration::from_millis(200));
        let start = Instant::now();
        let v = other.open();
        let second = open_one.open();
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "opening unrelated vaults took {took:?} behind a lock wait"
        );
        second.put("x", b"y", &PutOptions::new()).unwrap();
        assert_eq!(bytes_of(&first, "x"), b"y");
        drop(v);
        assert!(matches!(waiter.join().unwrap(), Err(Error::Locked { .. })));
    });
}

/// The temp name sled 0.34 gives an unfinished snapshot, sorting after every real one.
const STALE_SNAPSHOT: &str = "snap.FFFFFFFFFFFFFFFF.generating";

#[test]
fn an_open_removes_a_snapshot_temp_file_left_by_an_abrupt_stop() {
    let fx = Fx::empty();
    let v = fx.create();
    v.put("a", b"alpha", &PutOptions::new()).unwrap();
    drop(v);
    // What SIGKILL or power loss leaves between sled creating the file and
    // renaming it: sled would take it for its newest snapshot.
    let stale = fx.data().join(STALE_SNAPSHOT);
    std::fs::write(&stale, b"").unwrap();
    let v = fx.open();
    assert_eq!(bytes_of(&v, "a"), b"alpha");
    assert!(!stale.exists(), "the stale temp file is still there");
}

#[test]
fn a_snapshot_temp_file_is_left_alone_while_another_process_holds_the_vault() {
    let fx = Fx::empty();
    drop(fx.create());
    let mut child = Child::holding(&fx.path, "from-child", "held");
    // The holder may be writing this very file: an open that cannot take the
    // lock must not remove it.
    let live = fx.data().join(STALE_SNAPSHOT);
    std::fs::write(&live, b"being written").unwrap();
    let r = fx
        .cfg()
        .lock_timeout(Duration::from_millis(100))
        .open(&pw());
    assert!(matches!(r, Err(Error::Locked { .. })), "{r:?}");
    assert!(live.exists(), "a live snapshot temp file was removed");
    std::fs::remove_file(&live).unwrap();
    drop(child.child.stdin.take());
    child.wait_for(DONE);
}

const SYNC_CHILD: &str = "FARMVAULT_TEST_SYNC_CHILD";

/// The child of `after_a_failed_sync_this_process_writes_no_more`: opens the vault
/// and makes two durable puts, printing how each went. A no-op in a normal run.
#[test]
fn sync_child() {
    let Ok(dir) = std::env::var(SYNC_CHILD) else {
        return;
    };
    let v = match Config::new(dir).kdf(cheap()).open(&pw()) {
        Ok(v) => v,
        Err(e) => return println!("open: err {e}"),
    };
    for step in ["first", "second"] {
        match v.put(step, b"value", &PutOptions::new()) {
            Ok(()) => println!("{step}: ok"),
            Err(e) => println!("{step}: err {e}"),
        }
    }
}

/// After a failed sync the kernel may have dropped the dirty pages, and a later
/// sync can succeed without writing them: a later write that "succeeds" proves
/// nothing. So once a durable write failed, the process makes no more (the
/// rule PostgreSQL adopted after "fsyncgate"). The Nth call of each sync the
/// child makes fails for real, through strace's fault injection, for every N
/// reached: the journal's `fdatasync` (what makes a put durable), and the
/// checkpoint's at open and close (sled's `sync_file_range` of its log, then
/// an `fsync` of its file). Whatever fails, no write the child was told
/// succeeded is lost.
#[test]
#[cfg(target_os = "linux")]
fn after_a_failed_sync_this_process_writes_no_more() {
    let probe = std::process::Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: strace is missing or cannot trace on this machine");
        return;
    }
    let fx = Fx::empty();
    drop(fx.create());
    let log = fx.dir.path().join("strace.log");
    for syscall in ["fdatasync", "fsync", "sync_file_range"] {
        let mut first_failed = 0;
        for n in 1..=8 {
            let child = alone(module_path!(), "sync_child");
            let mut cmd = std::process::Command::new("strace");
            cmd.args(["-f", "-qq", "-o"])
                .arg(&log)
                .args(["-e", &format!("trace={syscall}"), "-e"])
                .arg(format!("inject={syscall}:error=EIO:when={n}"))
                .arg(child.get_program())
                .args(child.get_args())
                .env(SYNC_CHILD, &fx.path);
            let out = cmd.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let said = |step: &str| {
                let tag = format!("{step}: ");
                stdout
                    .lines()
                    .find_map(|l| l.split_once(tag.as_str()).map(|(_, s)| s.to_owned()))
            };
            let ctx = format!("{syscall} #{n}");
            let (Some(first), Some(second)) = (said("first"), said("second")) else {
                continue; // The open itself failed: nothing was written.
            };
            if first.starts_with("err") {
                first_failed += 1;
                assert!(first.contains("Input/output error"), "{ctx}: {first}");
                assert!(
                    second.starts_with("err") && second.contains("failed to reach the disk"),
                    "{ctx}: after a failed sync, a second write was made: {second}"
                );
            }
            // Whatever the child was told, the vault opens, and every write it
            // was told succeeded reads back.
            let v = fx.open();
            for (step, said) in [("first", &first), ("second", &second)] {
                if said == "ok" {
                    assert_eq!(bytes_of(&v, step), b"value", "{ctx}: {step}");
                }
            }
            for step in ["first", "second"] {
                let _ = v.delete(step);
            }
        }
        // A put's own sync is the journal's.
        if syscall == "fdatasync" {
            assert!(
                first_failed > 0,
                "no fdatasync of a first put was ever reached"
            );
        }
    }
}
