//! `farmvault agent`: a real agent process (started by `agent start`, in the
//! background as a user would) serving real clients: the CLI with
//! FARMVAULT_AGENT set and a Rust program through `Vault::connect`, at once;
//! lock, unlock and the idle and max-unlocked limits; SIGKILL of the agent in
//! the middle of writes; malformed frames; a client of another uid.
#![cfg(unix)]

use crate::common::{self, as_nobody, code, is_root, write_private, Env, Run, NOBODY, PW};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A running agent for `env`'s vault, stopped (or killed) when dropped.
pub(crate) struct AgentProc {
    pub(crate) socket: PathBuf,
    pid: u32,
}

impl AgentProc {
    /// `agent start --print-env` (background) with `extra` flags; unlocks with
    /// `env`'s passphrase file.
    pub(crate) fn start(env: &Env, extra: &[&str]) -> AgentProc {
        let socket = env.path("run").join("agent.sock");
        let mut args = vec![
            "agent",
            "start",
            "--print-env",
            "--socket",
            socket.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let r = env.run(&args, None).expect(code::OK);
        assert_eq!(
            r.stdout.trim(),
            format!(
                "FARMVAULT_AGENT='{}'; export FARMVAULT_AGENT;",
                socket.display()
            )
        );
        let pid = status_json(env, &socket)["pid"].as_u64().unwrap() as u32;
        AgentProc { socket, pid }
    }

    /// The CLI as a client of this agent: FARMVAULT_AGENT set, no unlock given.
    fn client(&self, env: &Env) -> Command {
        let mut c = env.cmd();
        c.env_remove("FARMVAULT_PASSPHRASE_FILE")
            .env("FARMVAULT_AGENT", &self.socket);
        c
    }

    pub(crate) fn run(&self, env: &Env, args: &[&str], stdin: Option<&[u8]>) -> Run {
        common::run(self.client(env).args(args), stdin)
    }

    fn alive(&self) -> bool {
        Path::new(&format!("/proc/{}", self.pid)).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .is_ok_and(|s| s.contains(") Z "))
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        if self.alive() {
            let _ = Command::new("kill").arg(self.pid.to_string()).status();
        }
    }
}

fn status_json(env: &Env, socket: &Path) -> serde_json::Value {
    let r = env
        .run(
            &[
                "agent",
                "status",
                "--json",
                "--socket",
                socket.to_str().unwrap(),
            ],
            None,
        )
        .expect(code::OK);
    serde_json::from_str(&r.stdout).unwrap()
}

/// Waits until `cond` holds, for at most `limit`.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

#[test]
fn the_cli_and_a_rust_program_share_one_vault_through_the_agent() {
    let env = Env::with_vault();
    env.put("before", "b0", &[]).expect(code::OK);
    let agent = AgentProc::start(&env, &[]);
    // No passphrase anywhere: the agent answers.
    let r = agent.run(&env, &["get", "before"], None).expect(code::OK);
    assert_eq!(r.stdout, "b0\n");

    std::thread::scope(|scope| {
        let rust = scope.spawn(|| {
            let v = farmvault::Vault::connect(Some(&agent.socket)).unwrap();
            assert_eq!(v.access(), farmvault::Access::Agent);
            for i in 0..40 {
                let opts = farmvault::PutOptions::new();
                v.put(&format!("rust/{i}"), format!("r{i}").as_bytes(), &opts)
                    .unwrap();
            }
            v.list("rust/").unwrap().len()
        });
        for t in 0..4 {
            let (agent, env) = (&agent, &env);
            scope.spawn(move || {
                for i in 0..6 {
                    let name = format!("cli{t}/{i}");
                    let value = format!("c{t}{i}");
                    agent
                        .run(env, &["put", &name], Some(value.as_bytes()))
                        .expect(code::OK);
                }
            });
        }
        assert_eq!(rust.join().unwrap(), 40);
    });
    let listed = agent.run(&env, &["list", "--json"], None).expect(code::OK);
    let json: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 1 + 40 + 24);

    // Stopped: the socket is gone, and the vault opens directly with everything.
    agent.run(&env, &["agent", "stop"], None).expect(code::OK);
    assert!(eventually(Duration::from_secs(10), || !agent.alive()));
    assert!(!agent.socket.exists());
    let v = env.open_in_process(0);
    assert_eq!(v.list("").unwrap().len(), 65);
    assert_eq!(v.get("cli3/5").unwrap().credential.secret(), b"c35");
}

/// The agent's locked memory, in KiB (`VmLck` of /proc/<pid>/status).
#[cfg(target_os = "linux")]
fn locked_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmLck line")
}

/// The keys an agent holds are locked in RAM (never written to swap), and a
/// lock releases them with the vault: `VmLck` goes from the keys' pages to
/// nothing, and back on unlock.
#[cfg(target_os = "linux")]
#[test]
fn the_agents_keys_are_locked_in_memory_until_it_locks() {
    let env = Env::with_vault();
    let agent = AgentProc::start(&env, &[]);
    let unlocked = locked_kib(agent.pid);
    assert!(unlocked > 0, "an unlocked agent locks no memory");
    agent.run(&env, &["agent", "lock"], None).expect(code::OK);
    assert!(
        eventually(Duration::from_secs(5), || locked_kib(agent.pid) == 0),
        "VmLck {} KiB once locked (it was {unlocked} KiB)",
        locked_kib(agent.pid)
    );
    agent.run(&env, &["agent", "unlock"], None).expect(code::OK);
    assert!(locked_kib(agent.pid) > 0);
}

#[test]
fn lock_wipes_the_keys_until_unlock_and_status_says_so() {
    let env = Env::with_vault();
    env.put("a", "1", &[]).expect(code::OK);
    let agent = AgentProc::start(&env, &["--max-unlocked", "1h", "--idle", "30m"]);
    let s = status_json(&env, &agent.socket);
    assert_eq!(s["unlocked"], true);
    assert_eq!(s["pid"].as_u64(), Some(u64::from(agent.pid)));
    assert_eq!(s["idle_secs"].as_u64(), Some(1800));
    assert!(s["unlocked_until"].as_u64().is_some());
    assert_eq!(
        Path::new(s["vault"].as_str().unwrap()),
        std::fs::canonicalize(&env.vault).unwrap()
    );

    let locked = agent
        .run(&env, &["agent", "lock", "--json"], None)
        .expect(code::OK);
    let v = crate::common::json(&locked.stdout);
    assert_eq!(v["agent"], "locked", "{}", locked.stdout);
    assert_eq!(v["socket"], agent.socket.to_str().unwrap());
    assert_eq!(status_json(&env, &agent.socket)["unlocked"], false);
    let r = agent.run(&env, &["get", "a"], None).expect(code::LOCKED);
    r.one_line_error();
    assert!(r.stderr.contains("is locked"), "{}", r.stderr);
    assert!(r.stderr.contains("farmvault agent unlock"), "{}", r.stderr);
    // Locked, the agent holds the vault no more: a direct open works.
    env.run(&["get", "a"], None).expect(code::OK);

    // It unlocks again from the passphrase file it started with; the
    // confirmation is on stderr, stdout stays empty.
    let unlocked = agent.run(&env, &["agent", "unlock"], None).expect(code::OK);
    assert_eq!(unlocked.stdout, "");
    assert!(
        unlocked.stderr.contains("agent unlocked"),
        "{}",
        unlocked.stderr
    );
    assert_eq!(
        agent.run(&env, &["get", "a"], None).expect(code::OK).stdout,
        "1\n"
    );
}

#[test]
fn the_idle_and_max_unlocked_limits_lock_the_agent() {
    let env = Env::with_vault();
    env.put("a", "1", &[]).expect(code::OK);
    let idle = AgentProc::start(&env, &["--idle", "1s"]);
    agent_get_ok(&idle, &env);
    assert!(eventually(Duration::from_secs(5), || {
        status_json(&env, &idle.socket)["unlocked"] == false
    }));
    agent_get_locked(&idle, &env);
    idle.run(&env, &["agent", "stop"], None).expect(code::OK);
    assert!(eventually(Duration::from_secs(10), || !idle.alive()));

    // In use all along, it still locks once max-unlocked has passed.
    let max = AgentProc::start(&env, &["--max-unlocked", "2s"]);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        agent_get_ok(&max, &env);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(eventually(Duration::from_secs(5), || {
        status_json(&env, &max.socket)["unlocked"] == false
    }));
    agent_get_locked(&max, &env);
}

fn agent_get_ok(agent: &AgentProc, env: &Env) {
    agent.run(env, &["get", "a"], None).expect(code::OK);
}

fn agent_get_locked(agent: &AgentProc, env: &Env) {
    let r = agent.run(env, &["get", "a"], None).expect(code::LOCKED);
    assert!(r.stderr.contains("is locked"), "{}", r.stderr);
}

#[test]
fn an_agent_killed_mid_write_loses_nothing_acknowledged() {
    let env = Env::with_vault();
    let agent = AgentProc::start(&env, &[]);
    let socket = agent.socket.clone();
    let writer = std::thread::spawn(move || {
        let v = farmvault::Vault::connect(Some(&socket)).unwrap();
        let mut acked = Vec::new();
        for i in 0.. {
            let name = format!("k{i}");
            match v.put(&name, name.as_bytes(), &farmvault::PutOptions::new()) {
                Ok(()) => acked.push(name),
                Err(e) => return (acked, e),
            }
        }
        unreachable!()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(Command::new("kill")
        .args(["-KILL", &agent.pid.to_string()])
        .status()
        .unwrap()
        .success());
    let (acked, err) = writer.join().unwrap();
    assert!(
        acked.len() > 5,
        "only {} writes before the kill",
        acked.len()
    );
    // A clear error naming the agent, not a hang.
    assert!(matches!(err, farmvault::Error::Agent { .. }), "{err:?}");
    assert!(err.to_string().contains("farmvault agent at"), "{err}");
    // The CLI says the same, with its own exit status.
    let r = agent.run(&env, &["get", "k0"], None).expect(code::AGENT);
    r.one_line_error();

    // Every acknowledged write is in the vault, opened directly.
    assert!(eventually(Duration::from_secs(5), || !agent.alive()));
    let v = env.open_in_process(0);
    for name in &acked {
        assert_eq!(v.get(name).unwrap().credential.secret(), name.as_bytes());
    }
    drop(v);
    // A new agent replaces the socket the killed one left.
    let again = AgentProc::start(&env, &[]);
    agent_get_k0(&again, &env);
}

fn agent_get_k0(agent: &AgentProc, env: &Env) {
    assert_eq!(
        agent.run(env, &["get", "k0"], None).expect(code::OK).stdout,
        "k0\n"
    );
}

#[test]
fn malformed_frames_close_that_connection_and_the_agent_serves_on() {
    let env = Env::with_vault();
    env.put("a", "1", &[]).expect(code::OK);
    let agent = AgentProc::start(&env, &[]);
    for frame in [
        // A length over the cap: refused before a byte of it is read.
        vec![0xff, 0xff, 0xff, 0xff],
        // A body that is no request.
        vec![0, 0, 0, 3, 0xee, 0xee, 0xee],
        // A request before Hello (Status is variant 11 of the request enum).
        vec![0, 0, 0, 1, 11],
    ] {
        let mut s = UnixStream::connect(&agent.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(&frame).unwrap();
        let mut reply = Vec::new();
        // The agent answers with an error frame, then closes: read to the end.
        s.read_to_end(&mut reply).unwrap();
        assert!(reply.len() > 4, "{frame:?}: {reply:?}");
        let len = u32::from_be_bytes(reply[..4].try_into().unwrap()) as usize;
        assert_eq!(reply.len(), 4 + len, "{frame:?}: one frame, then the end");
        assert!(
            String::from_utf8_lossy(&reply).contains("refused"),
            "{frame:?}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
    // Everyone else is still served.
    agent_get_ok(&agent, &env);
    assert!(agent.alive());
}

#[test]
fn commands_that_need_the_vault_itself_say_to_stop_the_agent() {
    let env = Env::with_vault();
    let agent = AgentProc::start(&env, &[]);
    for args in [
        vec!["passwd"],
        vec!["rotate"],
        vec!["compact"],
        vec!["backup", "b.fvbk"],
    ] {
        let r = agent.run(&env, &args, None).expect(code::LOCKED);
        r.one_line_error();
        assert!(r.stderr.contains("agent stop"), "{args:?}: {}", r.stderr);
    }
    // With a passphrase file and no FARMVAULT_AGENT the CLI opens the vault,
    // finds the agent holding it, and goes through it; passwd then refuses.
    let listed: serde_json::Value = serde_json::from_str(&env.out(&["list", "--json"])).unwrap();
    assert!(listed["entries"].is_array(), "{listed}");
    let r = env.run(&["passwd"], None).expect(code::LOCKED);
    r.one_line_error();
    assert!(r.stderr.contains("agent stop"), "{}", r.stderr);
}

#[test]
fn an_open_with_a_credential_goes_through_the_agent_that_holds_the_vault() {
    use farmvault::{Access, Config, Error, Unlock};
    let env = Env::with_vault();
    env.put("a", "1", &[]).expect(code::OK);
    let agent = AgentProc::start(&env, &[]);
    let v = Config::new(&env.vault)
        .open(&Unlock::passphrase(PW))
        .unwrap();
    assert_eq!(v.access(), Access::Agent);
    assert_eq!(v.agent_socket(), Some(agent.socket.as_path()));
    assert_eq!(v.get("a").unwrap().credential.secret(), b"1");
    // The credential is still checked, against the vault's own header.
    let wrong = Config::new(&env.vault).open(&Unlock::passphrase("not it"));
    assert!(matches!(wrong, Err(Error::WrongKey { .. })), "{wrong:?}");
    // Forced direct, the open is refused at once, naming the agent and its socket.
    let start = Instant::now();
    let direct = Config::new(&env.vault)
        .use_agent(false)
        .open(&Unlock::passphrase(PW));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "it waited for the agent"
    );
    match direct {
        Err(e @ Error::Locked { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("the farmvault agent, process {}", agent.pid)),
                "{msg}"
            );
            assert!(msg.contains(&agent.socket.display().to_string()), "{msg}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
}

/// The agent serves its own uid only, by the kernel's word on who connected
/// (SO_PEERCRED): an agent run as `nobody` refuses this test's root client,
/// which the directory permissions alone would let through (root passes them).
#[test]
fn a_client_of_another_uid_is_refused() {
    if !is_root() {
        eprintln!(
            "skipped a_client_of_another_uid_is_refused: dropping to another user needs root"
        );
        return;
    }
    let env = Env::new();
    let home = env.path("nobody-home");
    std::fs::create_dir(&home).unwrap();
    common::chmod(&home, 0o700);
    std::os::unix::fs::chown(&home, Some(NOBODY), Some(NOBODY)).unwrap();
    // The workspace must be passable for nobody to reach its home.
    common::chmod(env.dir.path(), 0o711);
    let pass = home.join("pass");
    write_private(&pass, format!("{PW}\n").as_bytes());
    std::os::unix::fs::chown(&pass, Some(NOBODY), Some(NOBODY)).unwrap();
    let vault = home.join("vault");
    let socket = home.join("run").join("agent.sock");
    let nobody = |args: &[&str]| -> Option<Run> {
        let mut c = as_nobody(&env, "a_client_of_another_uid_is_refused")?;
        c.env("FARMVAULT_PATH", &vault)
            .env("FARMVAULT_PASSPHRASE_FILE", &pass)
            .env("HOME", &home)
            .current_dir(&home)
            .args(args);
        Some(common::run(&mut c, None))
    };
    let Some(r) = nobody(&["init"]) else { return };
    r.expect(code::OK);
    nobody(&["agent", "start", "--socket", socket.to_str().unwrap()])
        .unwrap()
        .expect(code::OK);
    // A failed assertion below must not leave nobody's agent running.
    let _stop = OnDrop(|| {
        let _ = nobody(&["agent", "stop", "--socket", socket.to_str().unwrap()]);
    });
    let r = common::run(
        env.cmd()
            .env_remove("FARMVAULT_PASSPHRASE_FILE")
            .env("FARMVAULT_AGENT", &socket)
            .args(["list"]),
        None,
    )
    .expect(code::AGENT);
    r.one_line_error();
    assert!(
        r.stderr.contains(&format!("serves uid {NOBODY} only")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("is uid 0"), "{}", r.stderr);
    nobody(&["agent", "stop", "--socket", socket.to_str().unwrap()])
        .unwrap()
        .expect(code::OK);
}

/// Runs its closure when dropped, a failing test's unwinding included.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// The units docs/ gives (a user's agent, a render node's) pass
/// `systemd-analyze verify`, with no warning, their ExecStart pointed at the
/// binary under test.
#[test]
fn the_documented_systemd_units_verify() {
    let Some(analyze) = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
    else {
        eprintln!("skipped the_documented_systemd_units_verify: systemd-analyze is not installed");
        return;
    };
    let env = Env::new();
    for name in ["farmvault-agent.service", "farmvault-node-agent.service"] {
        let unit = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/systemd")
            .join(name);
        let text = std::fs::read_to_string(&unit).unwrap();
        assert!(text.contains("ExecStart=/usr/bin/farmvault "), "{text}");
        let copy = env.path(name);
        std::fs::write(
            &copy,
            text.replace(
                "ExecStart=/usr/bin/farmvault ",
                &format!("ExecStart={} ", env!("CARGO_BIN_EXE_farmvault")),
            ),
        )
        .unwrap();
        let out = Command::new(analyze)
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{name}: {stderr}"
        );
    }
}

/// SIGTERM stops the agent, closing the vault, also when its socket was
/// removed under it (its directory cleaned away): a stop that only knocked on
/// the socket left such an agent running, holding the vault, for good.
#[test]
fn sigterm_stops_the_agent_even_without_its_socket() {
    let env = Env::with_vault();
    env.put("a", "1", &[]).expect(code::OK);
    let agent = AgentProc::start(&env, &[]);
    std::fs::remove_file(&agent.socket).unwrap();
    assert!(Command::new("kill")
        .arg(agent.pid.to_string())
        .status()
        .unwrap()
        .success());
    assert!(
        eventually(Duration::from_secs(10), || !agent.alive()),
        "the agent is still running 10 s after SIGTERM"
    );
    // It closed the vault: a direct open gets in at once.
    env.run(&["--lock-timeout", "1s", "get", "a"], None)
        .expect(code::OK);
}
