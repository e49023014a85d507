//! A render node's agent, for real: the agent runs as one user (uid 1) with
//! the farm identity only it can read, jobs run as others (`nobody`, uid 2),
//! and every grant open and read goes through the agent's socket. The job
//! reads inside the window and not after it, cannot read the identity, cannot
//! read a grant another job opened, and an altered bundle or one from an
//! unpinned issuer is refused. Needs root (to drop to those users) and
//! setpriv; skipped, saying so, elsewhere.
#![cfg(target_os = "linux")]

use crate::common::{as_user, code, Env, NOBODY};
use crate::grant::{env_with_entries, RENDER_KEY};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The agent's user.
const AGENT_UID: u32 = 1;
/// A job account the agent also serves.
const OTHER_JOB: u32 = 2;
/// An account it does not serve.
const STRANGER: u32 = 3;

/// A directory every user can enter (the test's own tempdir is 0700).
fn shared_dir(parent: &Path, name: &str, owner: u32, mode: u32) -> PathBuf {
    let d = parent.join(name);
    std::fs::create_dir(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
    rustix::fs::chown(
        &d,
        Some(rustix::fs::Uid::from_raw(owner)),
        Some(rustix::fs::Gid::from_raw(owner)),
    )
    .unwrap();
    d
}

/// A node agent running as `AGENT_UID`; stopped when dropped.
struct NodeAgent {
    child: Child,
    socket: PathBuf,
}

impl Drop for NodeAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_agent(env: &Env, base: &Path, identity: &Path, pins: &str) -> Option<NodeAgent> {
    let mut c = as_user(env, AGENT_UID, "node_agent")?;
    let socket = base.join("run/node.sock");
    c.args(["agent", "node", "--identity"])
        .arg(identity)
        .args([
            "--allow-user",
            "nobody",
            "--allow-user",
            &OTHER_JOB.to_string(),
        ])
        .arg("--state-dir")
        .arg(base.join("state"))
        .arg("--socket")
        .arg(&socket)
        .env("FARMVAULT_ISSUERS", pins)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the node agent did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(NodeAgent { child, socket })
}

/// `farmvault ARGS` as `uid`, with only the job's environment.
fn job(env: &Env, uid: u32, agent: &NodeAgent, bundle: &Path, args: &[&str]) -> crate::common::Run {
    let mut c = as_user(env, uid, "node_agent").expect("checked by start_agent");
    c.env_clear()
        .env("FARMVAULT_NODE_AGENT", &agent.socket)
        .env("FARMVAULT_GRANT_FILE", bundle)
        .args(args);
    crate::common::run(&mut c, None)
}

/// A node as the tests lay it out: the agent's run and state directories, a
/// grants directory jobs can read, and the farm identity, the agent user's.
struct Node {
    env: Env,
    base: PathBuf,
    grants: PathBuf,
    identity: PathBuf,
    public: String,
}

impl Node {
    fn new() -> Node {
        let env = env_with_entries();
        let base = shared_dir(env.dir.path(), "node", 0, 0o755);
        // The test's tempdir is root's 0700: open its path to the other users.
        std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        shared_dir(&base, "run", AGENT_UID, 0o755);
        shared_dir(&base, "state", AGENT_UID, 0o700);
        let grants = shared_dir(&base, "grants", 0, 0o755);
        let identity = base.join("farm.key");
        let public = env.out(&["farm-keygen", "--identity", identity.to_str().unwrap()]);
        rustix::fs::chown(
            &identity,
            Some(rustix::fs::Uid::from_raw(AGENT_UID)),
            Some(rustix::fs::Gid::from_raw(AGENT_UID)),
        )
        .unwrap();
        Node {
            env,
            base,
            grants,
            identity,
            public: public.trim().to_owned(),
        }
    }

    /// An identity grant of shotgun/render from `env`'s vault, written to the
    /// grants directory (0644), with `extra` arguments.
    fn issue(&self, env: &Env, file: &str, use_for: &str, extra: &[&str]) -> PathBuf {
        let out = self.grants.join(file);
        let mut args = vec![
            "grant",
            "shotgun/render",
            "--claim-within",
            "1h",
            "--use-for",
            use_for,
            "--label",
            "node-job",
            "--to",
            &self.public,
            "--no-token",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        env.run(&args, None).expect(code::OK);
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
        out
    }

    /// The agent, pinned to this node's vault's issuer key.
    fn start_agent(&self) -> Option<NodeAgent> {
        let issuer = self.env.out(&["grant-issuer"]);
        start_agent(&self.env, &self.base, &self.identity, issuer.trim())
    }
}

#[test]
fn a_job_reads_its_grant_through_the_node_agent_and_only_within_its_window() {
    let node = Node::new();
    let (env, base, grants, identity) = (&node.env, &node.base, &node.grants, &node.identity);
    let issue = |env: &Env, file: &str, use_for: &str| node.issue(env, file, use_for, &[]);
    let bundle = issue(env, "job.fvg", "4s");
    let Some(agent) = node.start_agent() else {
        return;
    };
    let get = ["get", "shotgun/render", "--field", "api_key"];

    // The job reads through the agent, with no identity, token or HOME.
    let ok = job(env, NOBODY, &agent, &bundle, &get).expect(code::OK);
    assert_eq!(ok.stdout, format!("{RENDER_KEY}\n"));
    // ... and cannot read the identity the agent opens it with.
    let denied = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "cat",
        ])
        .arg(identity)
        .output()
        .unwrap();
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Permission denied"));

    // Another allowed job may not read a grant this one opened.
    let other = job(env, OTHER_JOB, &agent, &bundle, &get).expect(code::AGENT);
    assert!(
        other.stderr.contains("opened on this node by another job"),
        "{}",
        other.stderr
    );
    // A user the agent does not serve gets nothing.
    let stranger = job(env, STRANGER, &agent, &bundle, &get).expect(code::AGENT);
    assert!(
        stranger.stderr.contains("uid 3 is not one of them"),
        "{}",
        stranger.stderr
    );

    // A changed bundle, and one from a vault the agent's pins do not name.
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[20] ^= 1;
    let altered = grants.join("altered.fvg");
    std::fs::write(&altered, &bytes).unwrap();
    std::fs::set_permissions(&altered, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = job(env, NOBODY, &agent, &altered, &get).expect(code::CORRUPT);
    assert!(
        r.stderr.contains("not from a trusted issuer"),
        "{}",
        r.stderr
    );
    let foreign_env = env_with_entries();
    let foreign = issue(&foreign_env, "foreign.fvg", "1h");
    let r = job(env, NOBODY, &agent, &foreign, &get).expect(code::CORRUPT);
    assert!(
        r.stderr.contains("FARMVAULT_ISSUERS does not list"),
        "{}",
        r.stderr
    );

    // After the use window, by the agent's clock: no more reads.
    std::thread::sleep(Duration::from_secs(4));
    let late = job(env, NOBODY, &agent, &bundle, &get).expect(code::EXPIRED);
    assert!(!late.stderr.contains(RENDER_KEY));

    // Every open and read was logged, and no secret was.
    let log = std::fs::read_to_string(base.join("state/audit.log")).unwrap();
    assert!(log.matches("grant-open").count() >= 4, "{log}");
    assert!(log.contains("grant-get"), "{log}");
    assert!(!log.contains(RENDER_KEY));
    // The agent's user reads and verifies it; a job cannot.
    let state = base.join("state");
    let mut audit = as_user(env, AGENT_UID, "node_agent").unwrap();
    audit.args(["audit", "--verify", "--node"]).arg(&state);
    let verified = crate::common::run(&mut audit, None).expect(code::OK);
    assert!(
        verified.stderr.contains("audit log verified"),
        "{}",
        verified.stderr
    );
    let mut table = as_user(env, AGENT_UID, "node_agent").unwrap();
    table.args(["audit", "--json", "--node"]).arg(&state);
    let records = crate::common::run(&mut table, None).expect(code::OK).stdout;
    assert!(
        records.contains("\"op\":\"grant-get\"") && records.contains("\"uid\":65534"),
        "{records}"
    );
    let mut denied = as_user(env, NOBODY, "node_agent").unwrap();
    denied.args(["audit", "--node"]).arg(&state);
    let r = crate::common::run(&mut denied, None);
    assert_ne!(r.code, code::OK, "a job read the agent's audit log");
}

/// A job in namespaces of its own, as a rootless container runs it: root in its
/// user namespace (nobody outside), with a hostname of its choosing that
/// matches the grant's host pattern. The agent serves it as nobody (the kernel
/// translates its credentials) and checks the pattern against the host's name,
/// so the grant is refused; one without a pattern reads. Needs unprivileged
/// user namespaces (skipped, saying so, where they are off).
#[test]
fn a_job_in_its_own_namespaces_is_judged_by_the_host() {
    let node = Node::new();
    let env = &node.env;
    let pinned = node.issue(env, "pinned.fvg", "1h", &["--hosts", "fvtest-render-??"]);
    let anywhere = node.issue(env, "anywhere.fvg", "1h", &[]);
    let Some(agent) = node.start_agent() else {
        return;
    };
    let container = |bundle: &Path| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .args(["unshare", "--user", "--map-root-user", "--uts", "--"])
            .args(["sh", "-c", r#"hostname fvtest-render-01 && printf 'uid %s on %s\n' "$(id -u)" "$(hostname)" >&2 && exec "$@""#, "job"])
            .arg(env!("CARGO_BIN_EXE_farmvault"))
            .args(["get", "shotgun/render", "--field", "api_key"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("FARMVAULT_NODE_AGENT", &agent.socket)
            .env("FARMVAULT_GRANT_FILE", bundle);
        c
    };
    let probe = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "unshare",
            "--user",
            "--map-root-user",
            "--uts",
            "true",
        ])
        .status()
        .unwrap();
    if !probe.success() {
        eprintln!("skipped a_job_in_its_own_namespaces_is_judged_by_the_host: unprivileged user namespaces are off here");
        return;
    }
    let read = crate::common::run(&mut container(&anywhere), None).expect(code::OK);
    assert_eq!(read.stdout, format!("{RENDER_KEY}\n"));
    assert!(
        read.stderr.contains("uid 0 on fvtest-render-01"),
        "{}",
        read.stderr
    );
    let refused = crate::common::run(&mut container(&pinned), None).expect(code::USAGE);
    // Refused naming the host's own name, which the container's does not replace.
    let host = String::from_utf8(Command::new("uname").arg("-n").output().unwrap().stdout).unwrap();
    assert!(
        refused.stderr.contains("fvtest-render-??") && refused.stderr.contains(host.trim()),
        "{}",
        refused.stderr
    );
    // The agent saw nobody, not the container's root.
    let log = std::fs::read_to_string(node.base.join("state/audit.log")).unwrap();
    assert!(log.contains("\"uid\":65534"), "{log}");
    assert!(!log.contains("\"uid\":0,"), "{log}");
}

/// The farm identity handed over by the service manager (systemd's
/// `LoadCredential=` writes it root's, 0400, readable by the service through an
/// ACL: here root's with the agent's group, 0440): taken from the directory
/// `$CREDENTIALS_DIRECTORY` names, refused as another user's anywhere else.
#[test]
fn an_identity_the_service_manager_hands_over_is_taken_from_its_credentials_directory() {
    let node = Node::new();
    let creds = shared_dir(&node.base, "credentials", 0, 0o750);
    rustix::fs::chown(&creds, None, Some(rustix::fs::Gid::from_raw(AGENT_UID))).unwrap();
    let identity = creds.join("farm.key");
    std::fs::copy(&node.identity, &identity).unwrap();
    rustix::fs::chown(
        &identity,
        Some(rustix::fs::Uid::from_raw(0)),
        Some(rustix::fs::Gid::from_raw(AGENT_UID)),
    )
    .unwrap();
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o440)).unwrap();
    let Some(mut without) = as_user(&node.env, AGENT_UID, "credentials_directory") else {
        return;
    };
    let args = |c: &mut Command| {
        c.args(["agent", "node", "--identity"])
            .arg(&identity)
            .args(["--allow-user", "nobody", "--state-dir"])
            .arg(node.base.join("state"))
            .arg("--socket")
            .arg(node.base.join("run/node.sock"));
    };
    args(&mut without);
    let refused = crate::common::run(&mut without, None).expect(code::INSECURE);
    assert!(
        refused.stderr.contains("owned by uid 0"),
        "{}",
        refused.stderr
    );

    let mut with = as_user(&node.env, AGENT_UID, "credentials_directory").unwrap();
    args(&mut with);
    with.env("CREDENTIALS_DIRECTORY", &creds)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = with.spawn().unwrap();
    let agent = NodeAgent {
        child,
        socket: node.base.join("run/node.sock"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !agent.socket.exists() {
        assert!(Instant::now() < deadline, "the node agent did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let bundle = node.issue(&node.env, "cred.fvg", "1h", &[]);
    let ok = job(
        &node.env,
        NOBODY,
        &agent,
        &bundle,
        &["get", "shotgun/render", "--field", "api_key"],
    )
    .expect(code::OK);
    assert_eq!(ok.stdout, format!("{RENDER_KEY}\n"));
}
