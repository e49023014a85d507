//! `farmvault agent start|status|lock|unlock|stop`: one process holds the
//! vault open and unlocked, and every other process of this user reaches it
//! through a Unix socket (docs/AGENT.md).
//!
//! `start` unlocks once (key file, passphrase file or prompt), then, unless
//! `--foreground`, starts itself again in the background as the agent and
//! returns once that one serves: the passphrase reaches the background agent
//! through a pipe on its stdin, never its arguments or environment.

use crate::args::Global;
use crate::duration::parse_duration;
use crate::error::{CliError, AGENT, OK};
use crate::print::{emit, say};
use crate::unlock;
use clap::{Args, Subcommand};
use farmvault::agent::{Agent, AgentOptions, Unlocker};
use farmvault::{SecretString, Unlock};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the background agent `start` starts: it reports readiness on
/// stdout, and reads the passphrase (if any) from stdin.
const DAEMON_ENV: &str = "FARMVAULT_AGENT_DAEMON";

/// `agent`.
#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Unlock the vault once and serve it to this user's processes until stopped.
    ///
    /// Clients find it through FARMVAULT_AGENT (what --print-env prints for a
    /// shell to eval, as `ssh-agent -s` does) or at the default socket. Without
    /// --foreground it runs in the background and this command returns once it
    /// serves.
    Start(StartArgs),
    /// Show the agent's pid, vault, whether it is unlocked and until when, and its clients.
    Status(SocketArgs),
    /// Wipe the agent's keys: requests fail with "the agent is locked" until `agent unlock`.
    Lock(SocketArgs),
    /// Unlock the agent again: from its key or passphrase file, or by a prompt on this terminal.
    Unlock(SocketArgs),
    /// Stop the agent: it closes the vault and removes its socket.
    Stop(SocketArgs),
    /// Run a render node's agent: it holds the farm identity and opens job grants for the jobs.
    ///
    /// Jobs of the allowed users or groups reach it through FARMVAULT_NODE_AGENT
    /// and read their grants through it; they never see the identity. In the
    /// foreground, for the node's service manager.
    Node(super::agent_node::NodeArgs),
}

/// Where the agent listens.
#[derive(Args, Debug)]
pub struct SocketArgs {
    /// The agent's socket [default: $FARMVAULT_AGENT, else $XDG_RUNTIME_DIR/farmvault/agent.sock, else /tmp/farmvault-UID/agent.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print JSON on stdout: status's report; {socket, agent: locked|unlocked|stopped} for lock, unlock and stop; {socket} for start.
    #[arg(long)]
    pub json: bool,
}

/// `agent start`.
#[derive(Args, Debug)]
pub struct StartArgs {
    #[command(flatten)]
    pub socket: SocketArgs,
    /// Stay in the foreground (for a service manager such as systemd).
    #[arg(long)]
    pub foreground: bool,
    /// Print FARMVAULT_AGENT=<socket> as shell commands for eval: eval "$(farmvault agent start --print-env)".
    #[arg(long)]
    pub print_env: bool,
    /// Lock after this long without a request (e.g. 30m).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub idle: Option<Duration>,
    /// Lock this long after each unlock, used or not (e.g. 8h).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_unlocked: Option<Duration>,
    /// Also send every audit record to the system log (journald, rsyslog) through
    /// this socket (default /dev/log). A record that cannot be sent fails its
    /// request, as one that cannot be written to the vault's audit.log does.
    #[arg(long, value_name = "SOCKET", num_args = 0..=1, default_missing_value = farmvault::audit::DEFAULT_SYSLOG_SOCKET)]
    pub audit_syslog: Option<PathBuf>,
}

/// Runs `agent ...`.
pub fn run(g: &Global, c: AgentCommand) -> Result<i32, CliError> {
    match c {
        AgentCommand::Start(a) => start(g, &a),
        AgentCommand::Status(a) => status(g, &a),
        AgentCommand::Lock(a) => {
            farmvault::agent::lock(&socket(&a))?;
            changed(g, &a, "locked", "agent locked: its keys are wiped")
        }
        AgentCommand::Unlock(a) => {
            farmvault::agent::unlock(&socket(&a), controlling_tty())?;
            changed(g, &a, "unlocked", "agent unlocked")
        }
        AgentCommand::Stop(a) => {
            farmvault::agent::stop(&socket(&a))?;
            changed(g, &a, "stopped", "agent stopped")
        }
        AgentCommand::Node(a) => super::agent_node::run(g, &a),
    }
}

/// What lock, unlock and stop report: `{"socket", "agent": state}` on stdout
/// with --json, else `what` on stderr.
fn changed(g: &Global, a: &SocketArgs, state: &str, what: &str) -> Result<i32, CliError> {
    if a.json {
        let v = serde_json::json!({ "socket": socket(a).display().to_string(), "agent": state });
        emit(v.to_string())?;
    } else {
        say(g, what)?;
    }
    Ok(OK)
}

fn socket(a: &SocketArgs) -> PathBuf {
    a.socket
        .clone()
        .unwrap_or_else(farmvault::agent::socket_from_env)
}

fn status(g: &Global, a: &SocketArgs) -> Result<i32, CliError> {
    let socket = socket(a);
    let s = farmvault::agent::status(&socket)?;
    if a.json {
        let json = serde_json::json!({
            "socket": socket,
            "pid": s.pid,
            "vault": s.vault,
            "unlocked": s.unlocked,
            "unlocked_until": s.unlocked_until,
            "idle_secs": s.idle_secs,
            "clients": s.clients,
            "requests": s.requests,
            "protocol": s.version,
        });
        emit(json.to_string())?;
        return Ok(OK);
    }
    let until = match s.unlocked_until {
        Some(t) => format!(" until {}", crate::output::rfc3339(t)),
        None => String::new(),
    };
    let state = if s.unlocked {
        format!("unlocked{until}")
    } else {
        "locked".to_owned()
    };
    let idle = s
        .idle_secs
        .map(|i| format!(", locks after {} idle", crate::duration::human(i)))
        .unwrap_or_default();
    emit(format!(
        "agent {} serving {} on {}: {state}{idle}; {} client{} connected, {} requests served",
        s.pid,
        s.vault.display(),
        socket.display(),
        s.clients,
        if s.clients == 1 { "" } else { "s" },
        s.requests
    ))?;
    let _ = g;
    Ok(OK)
}

/// The terminal this process runs on, for the agent to prompt on.
fn controlling_tty() -> Option<PathBuf> {
    for fd in ["/proc/self/fd/0", "/proc/self/fd/2"] {
        if let Ok(p) = std::fs::read_link(fd) {
            if p.starts_with("/dev/pts/") || p.starts_with("/dev/tty") {
                return Some(p);
            }
        }
    }
    std::env::var_os("GPG_TTY").map(PathBuf::from)
}

/// What unlocks the vault, kept by the agent to unlock it again.
enum Source {
    KeyFile(PathBuf),
    PassphraseFile(PathBuf),
    Prompt,
}

fn start(g: &Global, a: &StartArgs) -> Result<i32, CliError> {
    let socket = a
        .socket
        .socket
        .clone()
        .unwrap_or_else(farmvault::agent::default_socket);
    let daemon = std::env::var_os(DAEMON_ENV).is_some();
    if !a.foreground && !daemon {
        return start_in_background(g, a, &socket);
    }
    if daemon {
        // Its own session: closing the terminal `start` ran in does not hang it up.
        let _ = rustix::process::setsid();
    }
    let source = source(g);
    let path = unlock::vault_path(g)?;
    crate::perms::check_vault_dir(g, &path)?;
    let unlock_now = match (&source, daemon) {
        // The background agent's passphrase comes from `start` through stdin.
        (Source::Prompt, true) => Unlock::Passphrase(read_stdin_passphrase()?),
        _ => unlock::unlock_existing(g, &path)?,
    };
    let vault = unlock::config(g, &path).open(&unlock_now);
    crate::harden::warn_memory_lock();
    let vault = vault?;
    unlock::after_open(&vault);
    let options = AgentOptions {
        socket: socket.clone(),
        idle: a.idle,
        max_unlocked: a.max_unlocked,
        audit_syslog: a.audit_syslog.clone(),
    };
    let agent = Agent::bind(vault, options, unlocker(g, &path, source))?;
    install_signal_handlers(agent.stopper())?;
    if daemon {
        // `start` is waiting for this line; nothing else goes to stdout.
        println!("ready");
        let _ = std::io::stdout().flush();
        detach()?;
    } else {
        announce(g, a, &socket)?;
    }
    agent.serve()?;
    Ok(OK)
}

fn source(g: &Global) -> Source {
    if let Some(k) = &g.key_file {
        Source::KeyFile(k.clone())
    } else if let Some(p) = &g.passphrase_file {
        Source::PassphraseFile(p.clone())
    } else {
        Source::Prompt
    }
}

/// How the agent opens the vault again after a lock: its file, or a prompt on
/// the terminal the unlocking client names.
fn unlocker(g: &Global, path: &Path, source: Source) -> Unlocker {
    let config = unlock::config(g, path);
    let insecure = g.insecure_permissions;
    let path = path.to_path_buf();
    Box::new(move |tty: Option<&Path>| {
        let how = match &source {
            Source::KeyFile(k) => Unlock::KeyFile(if insecure {
                farmvault::KeyFile::read_insecure_permissions(k)?
            } else {
                farmvault::KeyFile::read(k)?
            }),
            Source::PassphraseFile(p) => Unlock::Passphrase(
                crate::prompt::read_secret_file(p, "passphrase file", insecure)
                    .map_err(|e| farmvault::Error::InvalidArgument(e.to_string()))?,
            ),
            Source::Prompt => {
                let tty = tty.ok_or_else(|| {
                    farmvault::Error::InvalidArgument(
                        "this agent unlocks with a passphrase typed on a terminal: run `farmvault agent unlock` on one".into(),
                    )
                })?;
                Unlock::Passphrase(crate::prompt::hidden_on(
                    tty,
                    &format!("Passphrase for {} (farmvault agent): ", path.display()),
                )?)
            }
        };
        config.clone().open(&how)
    })
}

/// What `start` prints once the agent serves.
fn announce(g: &Global, a: &StartArgs, socket: &Path) -> Result<(), CliError> {
    if a.print_env {
        let quoted = shell_quote(&socket.to_string_lossy());
        emit(format!("FARMVAULT_AGENT={quoted}; export FARMVAULT_AGENT;"))?;
    } else if a.socket.json {
        emit(serde_json::json!({ "socket": socket.display().to_string() }).to_string())?;
    } else if !g.quiet {
        eprintln!(
            "agent serving on {} (export FARMVAULT_AGENT={} to reach it)",
            socket.display(),
            shell_quote(&socket.to_string_lossy())
        );
    }
    Ok(())
}

/// `s` as one word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn read_stdin_passphrase() -> Result<SecretString, CliError> {
    let bytes = crate::prompt::stdin_bounded("the passphrase from `agent start`", 64 * 1024)?;
    crate::prompt::text(bytes, "the passphrase")
}

/// Starts this program again as the background agent and waits until it
/// serves (or says why it cannot).
fn start_in_background(g: &Global, a: &StartArgs, socket: &Path) -> Result<i32, CliError> {
    let path = unlock::vault_path(g)?;
    crate::perms::check_vault_dir(g, &path)?;
    // Prompted here, on this terminal, before the agent detaches from it.
    let passphrase = match source(g) {
        Source::Prompt => match unlock::unlock_existing(g, &path)? {
            Unlock::Passphrase(p) => Some(p),
            _ => None,
        },
        _ => None,
    };
    let exe = std::env::current_exe()
        .map_err(|e| CliError::io("finding the farmvault program to start the agent", &e))?;
    let mut cmd = Command::new(exe);
    // The agent runs in `/`: every path it is given is absolute.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    cmd.arg("--vault").arg(absolute(&path));
    if let Some(k) = &g.key_file {
        cmd.arg("--key-file").arg(absolute(k));
    } else if let Some(p) = &g.passphrase_file {
        cmd.arg("--passphrase-file").arg(absolute(p));
    }
    cmd.arg("--lock-timeout")
        .arg(format!("{}ms", g.lock_timeout.as_millis()));
    for (flag, on) in [
        ("--insecure-permissions", g.insecure_permissions),
        ("--allow-network-filesystem", g.allow_network_filesystem),
        ("--quiet", true),
    ] {
        if on {
            cmd.arg(flag);
        }
    }
    cmd.args(["agent", "start", "--socket"]).arg(socket);
    if let Some(d) = a.idle {
        cmd.arg("--idle").arg(format!("{}s", d.as_secs()));
    }
    if let Some(d) = a.max_unlocked {
        cmd.arg("--max-unlocked").arg(format!("{}s", d.as_secs()));
    }
    if let Some(s) = &a.audit_syslog {
        // The `=` form: the value is optional, so a separate word could be
        // read as the next argument.
        let mut flag = std::ffi::OsString::from("--audit-syslog=");
        flag.push(absolute(s));
        cmd.arg(flag);
    }
    cmd.env(DAEMON_ENV, "1")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| CliError::io("starting the background agent", &e))?;
    {
        let mut stdin = child.stdin.take().expect("piped");
        if let Some(p) = &passphrase {
            // A write error means the agent already failed; its stderr says why.
            let _ = stdin.write_all(p.expose().as_bytes());
        }
    }
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let _ = out.read_line(&mut line);
    if line.trim_end() != "ready" {
        let mut err = String::new();
        let _ = child.stderr.take().expect("piped").read_to_string(&mut err);
        let _ = child.wait();
        let err = err.trim();
        return Err(CliError::new(
            AGENT,
            if err.is_empty() {
                "the background agent stopped before it served".to_owned()
            } else {
                format!(
                    "the background agent did not start: {}",
                    err.trim_start_matches("farmvault: ")
                )
            },
            "run `farmvault agent start --foreground` to see it run",
        ));
    }
    announce(g, a, socket)?;
    Ok(OK)
}

/// Once `start` has its answer nobody reads the background agent's stdout
/// and stderr: both go to /dev/null, so a later warning can never fail a
/// write (`eprintln!` panics when one fails).
fn detach() -> Result<(), CliError> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| CliError::io("opening /dev/null", &e))?;
    for r in [
        rustix::stdio::dup2_stdin(&null),
        rustix::stdio::dup2_stdout(&null),
        rustix::stdio::dup2_stderr(&null),
    ] {
        r.map_err(|e| {
            CliError::io(
                "pointing the agent's standard streams at /dev/null",
                &e.into(),
            )
        })?;
    }
    Ok(())
}

/// SIGTERM, SIGINT and SIGHUP stop the agent cleanly: the vault is closed and
/// the socket removed.
fn install_signal_handlers(stopper: farmvault::agent::Stopper) -> Result<(), CliError> {
    crate::stop_signals::on_stop_signals(move || stopper.stop())
}
