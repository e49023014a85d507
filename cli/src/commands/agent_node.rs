//! `farmvault agent node`: a render node's agent. It holds the farm identity
//! and opens job grants for the jobs of the allowed users and groups, which
//! then read through it (FARMVAULT_NODE_AGENT): the key that decrypts a grant
//! stays out of the job's reach, and the grant's windows, host pattern,
//! issuer pins and revocation are checked by the agent, not by the job.
//! It runs in the foreground, under the node's service manager.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::say;
use clap::Args;
use farmvault::agent::{NodeAgent, NodeOptions, DEFAULT_NODE_SOCKET, NODE_AGENT_ENV};
use std::path::PathBuf;

/// `agent node`.
#[derive(Args, Debug)]
#[command(after_help = "\
Run it as a user of its own (say `farmvault`), under the node's service manager,
with the farm identity readable by that user alone:

  farmvault agent node --identity /etc/farmvault/farm.key \\
      --allow-group render --state-dir /var/lib/farmvault

and give every job FARMVAULT_NODE_AGENT=/run/farmvault/node.sock (the farm
manager's worker environment). A job then opens its grant as before
(`farmvault get --grant`, `exec`, the C ABI, Python): the bundle goes to the
agent, which opens it with the identity the job cannot read, by its own clock
and hostname, with the issuers pinned in its own environment
(FARMVAULT_ISSUERS) and the revocation lists beside the bundle and in
FARMVAULT_REVOCATIONS. A grant serves the job that opened it first on this
node (its uid and cgroup): a task's child processes read, another job does not.
Every open and read is in <state dir>/audit.log. docs/AGENT.md has a systemd
unit. Stop it with SIGTERM, or `farmvault agent stop --socket SOCKET` as its
user.")]
pub struct NodeArgs {
    /// The farm identity grants are opened with (this user's alone, mode 0600).
    #[arg(long, value_name = "PATH")]
    pub identity: PathBuf,
    /// A user whose jobs may open grants (a name or a uid); repeatable.
    #[arg(long = "allow-user", value_name = "USER")]
    pub allow_users: Vec<String>,
    /// A group whose members' jobs may open grants (a name or a gid); repeatable.
    #[arg(long = "allow-group", value_name = "GROUP")]
    pub allow_groups: Vec<String>,
    /// Where first opens, the audit log and its key are kept (this user's, 0700).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/farmvault")]
    pub state_dir: PathBuf,
    /// The socket to listen on (its directory: this user's or root's, mode 0755).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_NODE_SOCKET)]
    pub socket: PathBuf,
    /// Also send every audit record to the system log through this socket (default /dev/log).
    #[arg(long, value_name = "SOCKET", num_args = 0..=1, default_missing_value = farmvault::audit::DEFAULT_SYSLOG_SOCKET)]
    pub audit_syslog: Option<PathBuf>,
}

/// A user name or uid.
fn uid_of(text: &str) -> Result<u32, CliError> {
    if let Ok(n) = text.parse::<u32>() {
        return Ok(n);
    }
    match nix::unistd::User::from_name(text) {
        Ok(Some(u)) => Ok(u.uid.as_raw()),
        _ => Err(CliError::usage(
            format!("--allow-user {text}: no such user on this machine"),
            "name a user that exists here (`getent passwd NAME`), or give its uid",
        )),
    }
}

/// A group name or gid.
fn gid_of(text: &str) -> Result<u32, CliError> {
    if let Ok(n) = text.parse::<u32>() {
        return Ok(n);
    }
    match nix::unistd::Group::from_name(text) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        _ => Err(CliError::usage(
            format!("--allow-group {text}: no such group on this machine"),
            "name a group that exists here (`getent group NAME`), or give its gid",
        )),
    }
}

/// Runs the node agent until SIGTERM, SIGINT or `agent stop`.
pub fn run(g: &Global, a: &NodeArgs) -> Result<i32, CliError> {
    let options = NodeOptions {
        socket: a.socket.clone(),
        identity: a.identity.clone(),
        state_dir: a.state_dir.clone(),
        allow_uids: a
            .allow_users
            .iter()
            .map(|u| uid_of(u))
            .collect::<Result<_, _>>()?,
        allow_gids: a
            .allow_groups
            .iter()
            .map(|g| gid_of(g))
            .collect::<Result<_, _>>()?,
        audit_syslog: a.audit_syslog.clone(),
    };
    let agent = NodeAgent::bind(options)?;
    let stopper = agent.stopper();
    crate::stop_signals::on_stop_signals(move || stopper.stop())?;
    say(
        g,
        format!(
            "node agent serving grants on {} (jobs: {NODE_AGENT_ENV}={})",
            agent.socket().display(),
            agent.socket().display()
        ),
    )?;
    agent.serve()?;
    Ok(OK)
}
