//! Who has a vault open: the process that holds the vault's lock writes its
//! pid and program name into the lock file, so another process that finds
//! the vault in use can say by whom ("in use by process 4242 (nuke)").
//!
//! The record is a hint for people, never trusted for locking (the `flock`
//! is the lock): it is written after the lock is taken, without a sync, and
//! a failure to write it (a full disk) loses only the name. A record whose
//! process is gone (one written by a holder that has since exited, read in
//! the moment before the new holder rewrote it) names no one.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The process that holds a vault's lock, as its lock file records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockHolder {
    /// Its process id.
    pub pid: u32,
    /// Its program's file name (`nuke`, `python3.11`, `farmvault`).
    pub program: String,
    /// The socket it serves the vault on, when it is a farmvault agent.
    pub agent: Option<PathBuf>,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.agent {
            Some(socket) => write!(
                f,
                "the farmvault agent, process {} ({}), serving it on {}",
                self.pid,
                self.program,
                socket.display()
            ),
            None => write!(f, "process {} ({})", self.pid, self.program),
        }
    }
}

/// The longest record read back: a pid and a file name fit many times over.
const MAX_RECORD: u64 = 4096;

/// This process, as a lock file records it.
fn this_process() -> LockHolder {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    LockHolder {
        pid: std::process::id(),
        program,
        agent: None,
    }
}

/// Records this process in the lock file it has just locked (best effort);
/// an agent records the socket it serves the vault on too.
pub(crate) fn record(file: &mut File, agent: Option<&Path>) {
    let me = this_process();
    // Line breaks in a name would make a second record line.
    let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    let mut text = format!("pid {}\nprogram {}\n", me.pid, clean(&me.program));
    if let Some(socket) = agent {
        text.push_str(&format!("agent {}\n", clean(&socket.to_string_lossy())));
    }
    let _ = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(text.as_bytes()));
}

/// The holder a lock file names, when it names a process that is running.
pub(crate) fn read(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(MAX_RECORD).read_to_string(&mut text).ok()?;
    let holder = parse(&text)?;
    is_running(holder.pid).then_some(holder)
}

fn parse(text: &str) -> Option<LockHolder> {
    let mut pid = None;
    let mut program = None;
    let mut agent = None;
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("pid", v)) => pid = v.parse().ok(),
            Some(("program", v)) => program = Some(v.to_owned()),
            Some(("agent", v)) => agent = Some(PathBuf::from(v)),
            _ => {}
        }
    }
    Some(LockHolder {
        pid: pid?,
        program: program?,
        agent,
    })
}

#[cfg(unix)]
fn is_running(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    // EPERM means a process of another user has that pid: still running.
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Elsewhere a live lock implies a live holder; the record is taken as is.
#[cfg(not(unix))]
fn is_running(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_names_its_process() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"pid 99999999\nprogram stale-and-longer\n")
            .unwrap();
        record(&mut f, None);
        assert_eq!(read(&mut f), Some(this_process()));
        assert_eq!(
            format!("{}", read(&mut f).unwrap()),
            format!(
                "process {} ({})",
                std::process::id(),
                this_process().program
            )
        );
    }

    #[test]
    fn an_agent_records_its_socket() {
        let mut f = tempfile::tempfile().unwrap();
        record(
            &mut f,
            Some(Path::new("/run/user/1000/farmvault/agent.sock")),
        );
        let holder = read(&mut f).unwrap();
        assert_eq!(
            holder.agent.as_deref(),
            Some(Path::new("/run/user/1000/farmvault/agent.sock"))
        );
        assert!(holder
            .to_string()
            .starts_with("the farmvault agent, process "));
    }

    #[test]
    fn a_record_of_a_process_that_is_gone_or_garbage_names_no_one() {
        for text in [
            "pid 2147483646\nprogram gone\n",
            "",
            "pid x\nprogram y\n",
            "program only\n",
        ] {
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(text.as_bytes()).unwrap();
            assert_eq!(read(&mut f), None, "{text:?}");
        }
    }
}
