//! The `agent` group: a get of a 64 B secret of the 100,000-entry vault through
//! a farmvault agent in another process, beside its floor measured in the same
//! run: a 64-byte request and reply over a Unix socket between two processes
//! that do nothing else (an echo server, this binary run again), plus the same
//! get made directly.
//!
//! Where the two processes run matters more than anything farmvault does: a
//! wake-up on the same CPU costs a few microseconds, one that crosses to the
//! other CPU tens. So each is measured three ways: `default` (the scheduler's
//! choice, what a user gets), `same_cpu` (both pinned to CPU 0) and
//! `cross_cpu` (this process on CPU 0, the server on CPU 1), pinned with
//! `sched_setaffinity` here and `taskset` for the server.
//!
//! `threads8`: 8 client threads, each with its own connection, against the
//! echo server and against the agent: the time for each thread to make one
//! round trip, so throughput is 8 over it.
//!
//! `cargo bench --bench agent`; the ratios are in docs/PERFORMANCE.md.

mod common;

use common::*;
use criterion::{BenchmarkId, Criterion};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "FARMVAULT_BENCH_ROLE";
const SOCKET: &str = "FARMVAULT_BENCH_SOCKET";
/// A frame as the agent's protocol has them: 4 bytes of length, 64 of body.
const FRAME: usize = 4 + 64;

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("echo") => return echo_server(),
        Ok("agent") => return agent_server(),
        _ => {}
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}

/// Reads and writes back `FRAME`-byte messages on each connection, a thread each.
fn echo_server() {
    let socket = PathBuf::from(std::env::var(SOCKET).unwrap());
    let listener = UnixListener::bind(&socket).unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    for stream in listener.incoming() {
        let mut s = stream.unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; FRAME];
            while s.read_exact(&mut buf).is_ok() {
                if s.write_all(&buf).is_err() {
                    break;
                }
            }
        });
    }
}

/// Serves the big fixture as an agent.
fn agent_server() {
    let socket = PathBuf::from(std::env::var(SOCKET).unwrap());
    let fx = big();
    // Each run starts its own audit log: the fixture is kept between runs, and
    // its log would otherwise grow without end (and be verified whole at
    // every start).
    for f in [farmvault::audit::LOG_FILE, farmvault::audit::HEAD_FILE] {
        let _ = std::fs::remove_file(fx.vault.join(f));
    }
    let vault = fx.open();
    let options = farmvault::agent::AgentOptions {
        socket,
        idle: None,
        max_unlocked: None,
        audit_syslog: None,
    };
    let unlocker: farmvault::agent::Unlocker = Box::new(move |_| Ok(fx.open()));
    let agent = farmvault::agent::Agent::bind(vault, options, unlocker).unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    agent.serve().unwrap();
}

/// This binary as a server of `role` on `socket`, on `cpu` when given; returns
/// once it listens.
fn server(role: &str, socket: &Path, cpu: Option<usize>) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let mut child = cmd
        .env(ROLE, role)
        .env(SOCKET, socket)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "the {role} server did not start");
    child
}

/// Pins this thread to `cpu`, or (None) lets it run on every CPU again.
fn pin(cpu: Option<usize>) {
    let mut set = rustix::thread::CpuSet::new();
    match cpu {
        Some(c) => set.set(c),
        None => (0..rustix::thread::CpuSet::MAX_CPU).for_each(|c| set.set(c)),
    }
    // Best effort: a machine with one CPU cannot place them apart.
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

fn echo_round_trip(s: &mut UnixStream, buf: &mut [u8; FRAME]) {
    s.write_all(buf).unwrap();
    s.read_exact(buf).unwrap();
}

fn benches(c: &mut Criterion) {
    let fx = big();
    let names = shuffled_names(64, 7);
    let dir = tempfile::tempdir().unwrap();
    // The agent refuses a socket directory others can enter.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let mut g = c.benchmark_group("agent");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));

    // The direct get: the floor's other half.
    {
        let vault = fx.open();
        // Every name read once first: sled's cache warm, as the agent's is
        // after the same reads.
        for n in &names {
            vault.get(n).unwrap();
        }
        let mut i = 0;
        g.bench_function("direct/get_64", |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                vault.get(&names[i]).unwrap()
            })
        });
    }

    let placements: [(&str, Option<usize>, Option<usize>); 3] = [
        ("default", None, None),
        ("same_cpu", Some(0), Some(0)),
        ("cross_cpu", Some(0), Some(1)),
    ];
    for (placement, here, there) in placements {
        pin(here);
        let echo_sock = dir.path().join(format!("echo-{placement}.sock"));
        let mut echo = server("echo", &echo_sock, there);
        let mut s = UnixStream::connect(&echo_sock).unwrap();
        let mut buf = [7u8; FRAME];
        g.bench_function(BenchmarkId::new("echo_64", placement), |b| {
            b.iter(|| echo_round_trip(&mut s, &mut buf))
        });
        drop(s);
        echo.kill().unwrap();
        echo.wait().unwrap();

        let agent_sock = dir.path().join(format!("agent-{placement}.sock"));
        let mut agent = server("agent", &agent_sock, there);
        let vault = farmvault::Vault::connect(Some(&agent_sock)).unwrap();
        for n in &names {
            vault.get(n).unwrap();
        }
        let mut i = 0;
        g.bench_function(BenchmarkId::new("get_64", placement), |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                vault.get(&names[i]).unwrap()
            })
        });
        drop(vault);
        farmvault::agent::stop(&agent_sock).unwrap();
        agent.wait().unwrap();
        pin(None);
    }

    // Eight clients at once, each on its own connection.
    let echo_sock = dir.path().join("echo-8.sock");
    let mut echo = server("echo", &echo_sock, None);
    g.bench_function("threads8/echo_64", |b| {
        b.iter_custom(|iters| {
            parallel(8, iters, || {
                let mut s = UnixStream::connect(&echo_sock).unwrap();
                let mut buf = [7u8; FRAME];
                move || echo_round_trip(&mut s, &mut buf)
            })
        })
    });
    echo.kill().unwrap();
    echo.wait().unwrap();
    let agent_sock = dir.path().join("agent-8.sock");
    let mut agent = server("agent", &agent_sock, None);
    {
        let vault = farmvault::Vault::connect(Some(&agent_sock)).unwrap();
        for n in &names {
            vault.get(n).unwrap();
        }
    }
    g.bench_function("threads8/get_64", |b| {
        b.iter_custom(|iters| {
            parallel(8, iters, || {
                let vault = farmvault::Vault::connect(Some(&agent_sock)).unwrap();
                let names = names.clone();
                let mut i = 0;
                move || {
                    i = (i + 1) % names.len();
                    vault.get(&names[i]).unwrap();
                }
            })
        })
    });
    farmvault::agent::stop(&agent_sock).unwrap();
    agent.wait().unwrap();
    g.finish();
}

/// `threads` threads, each set up by `setup` (untimed) and then running its
/// step `iters` times, all started together; the time until the last is done.
fn parallel<F, S>(threads: usize, iters: u64, setup: S) -> Duration
where
    S: Fn() -> F + Sync,
    F: FnMut(),
{
    let ready = std::sync::Barrier::new(threads + 1);
    let done = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut step = setup();
                ready.wait();
                for _ in 0..iters {
                    step();
                }
                done.wait();
            });
        }
        ready.wait();
        let start = Instant::now();
        done.wait();
        start.elapsed()
    })
}
