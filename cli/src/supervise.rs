//! `exec`'s supervising parent: runs the command as a child and stays beside
//! it, for what a replaced process cannot do: mask secrets in its output.
//!
//! - Output: each masked stream (stdout, stderr) is a pipe that a thread
//!   reads, masks (`mask`) and copies to farmvault's own stream; an unmasked
//!   one is inherited as is. Stdin is always inherited.
//! - Signals (Unix): SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and
//!   SIGWINCH sent to farmvault by a process (a farm manager, `kill`,
//!   systemd) are passed to the child. Those the terminal driver sends
//!   (Ctrl-C, a resize) already reached the child, which is in farmvault's
//!   process group, and are not sent twice.
//! - Exit: farmvault exits with the child's status; a child killed by a
//!   signal makes farmvault die of the same signal (its default action), so
//!   the caller sees exactly what it would have seen without farmvault.
//!
//! The secrets stay in this process until the child exits (the maskers need
//! them), in buffers that are wiped when dropped.

use crate::error::{CliError, FAILURE};
use crate::mask::Masker;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Which of the child's output streams are masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masked {
    pub stdout: bool,
    pub stderr: bool,
}

/// After the child exits, how long its output may still take to drain (a
/// background process it left may hold the pipes open for good).
const DRAIN: Duration = Duration::from_secs(5);

/// Runs `cmd` as a supervised child with `masked` streams masked of
/// `secrets`; returns its status once it has exited and its output is
/// drained (pass it to [`exit_like`] after any cleanup).
pub fn run(
    mut cmd: Command,
    masked: Masked,
    secrets: &[Zeroizing<Vec<u8>>],
    start_error: impl Fn(&std::io::Error) -> CliError,
) -> Result<std::process::ExitStatus, CliError> {
    if masked.stdout {
        cmd.stdout(Stdio::piped());
    }
    if masked.stderr {
        cmd.stderr(Stdio::piped());
    }
    let _ = std::io::stdout().flush();
    let forwarding = signals::Forwarding::install()?;
    let mut child = cmd.spawn().map_err(|e| start_error(&e))?;
    forwarding.start(&child);
    let (done_tx, done_rx) = mpsc::channel();
    let mut pumps = 0;
    if let Some(out) = child.stdout.take() {
        pumps += 1;
        pump(out, std::io::stdout, Masker::new(secrets), done_tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        pumps += 1;
        pump(err, std::io::stderr, Masker::new(secrets), done_tx.clone());
    }
    drop(done_tx);
    let status = wait(&mut child, &forwarding)?;
    let deadline = std::time::Instant::now() + DRAIN;
    for _ in 0..pumps {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    Ok(status)
}

/// Copies `from` to `to` through `masker` on a thread of its own; says so on
/// `done` at the end of the stream.
fn pump<R, W, F>(mut from: R, to: F, mut masker: Masker, done: mpsc::Sender<()>)
where
    R: Read + Send + 'static,
    W: Write,
    F: Fn() -> W + Send + 'static,
{
    std::thread::spawn(move || {
        let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
        let mut out = to();
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let masked = Zeroizing::new(masker.feed(&buf[..n]));
            // A reader that went away: keep draining, so the child is not
            // stopped by a full pipe.
            let _ = out.write_all(&masked).and_then(|()| out.flush());
        }
        let rest = Zeroizing::new(masker.finish());
        let _ = out.write_all(&rest).and_then(|()| out.flush());
        let _ = done.send(());
    });
}

/// Waits for the child; signals stop being forwarded before it is reaped, so
/// none reaches another process that got its pid.
fn wait(
    child: &mut Child,
    forwarding: &signals::Forwarding,
) -> Result<std::process::ExitStatus, CliError> {
    signals::wait_exited(child);
    forwarding.stop();
    child
        .wait()
        .map_err(|e| CliError::io("waiting for the command", &e))
}

/// The exit status to pass on; a child killed by a signal kills farmvault
/// with the same signal (this does not return then).
pub fn exit_like(status: std::process::ExitStatus) -> Result<i32, CliError> {
    if let Some(code) = status.code() {
        return Ok(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            // Restores the default action (also for the signals taken above)
            // and raises it: a core-dumping signal dumps no core, the limit
            // is 0 in this process.
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            // Signals whose default is to be ignored: the shell convention.
            return Ok(128 + sig);
        }
    }
    Ok(FAILURE)
}

#[cfg(unix)]
mod signals {
    use crate::error::CliError;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use signal_hook::iterator::{Handle, SignalsInfo};
    use signal_hook::low_level::siginfo::Cause;
    use std::process::Child;
    use std::sync::{Arc, Mutex};

    const FORWARDED: [i32; 7] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH];

    /// The signals taken from farmvault and passed to the child.
    pub struct Forwarding {
        signals: Mutex<Option<SignalsInfo<WithOrigin>>>,
        handle: Handle,
        /// The child's pid while it may be signalled.
        target: Arc<Mutex<Option<rustix::process::Pid>>>,
    }

    impl Forwarding {
        /// Takes the signals now, before the child exists: one sent meanwhile
        /// is passed on once it does.
        pub fn install() -> Result<Forwarding, CliError> {
            let signals = SignalsInfo::<WithOrigin>::new(FORWARDED)
                .map_err(|e| CliError::io("taking the signals to pass to the command", &e))?;
            Ok(Forwarding {
                handle: signals.handle(),
                signals: Mutex::new(Some(signals)),
                target: Arc::new(Mutex::new(None)),
            })
        }

        /// Passes signals to `child` from now on.
        pub fn start(&self, child: &Child) {
            *self.target.lock().unwrap_or_else(|e| e.into_inner()) =
                rustix::process::Pid::from_raw(child.id() as i32);
            let Some(mut signals) = self
                .signals
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            else {
                return;
            };
            let target = self.target.clone();
            std::thread::spawn(move || {
                for origin in signals.forever() {
                    // The terminal driver signalled the whole process group,
                    // the child with it.
                    if origin.cause == Cause::Kernel {
                        continue;
                    }
                    let Some(sig) = rustix::process::Signal::from_named_raw(origin.signal) else {
                        continue;
                    };
                    if let Some(pid) = *target.lock().unwrap_or_else(|e| e.into_inner()) {
                        let _ = rustix::process::kill_process(pid, sig);
                    }
                }
            });
        }

        /// No more signals reach the child.
        pub fn stop(&self) {
            *self.target.lock().unwrap_or_else(|e| e.into_inner()) = None;
            self.handle.close();
        }
    }

    /// Returns once the child has exited, leaving it to be reaped: until then
    /// its pid cannot be another process's.
    #[cfg(not(target_os = "openbsd"))]
    pub fn wait_exited(child: &Child) {
        use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
        let Some(pid) = Pid::from_raw(child.id() as i32) else {
            return;
        };
        loop {
            match waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {
                Err(rustix::io::Errno::INTR) => continue,
                _ => return,
            }
        }
    }

    /// OpenBSD has no `waitid`: the child is reaped with no wait before it.
    #[cfg(target_os = "openbsd")]
    pub fn wait_exited(_child: &Child) {}
}

/// Off Unix no signal is passed on: Ctrl-C reaches the child's console group.
#[cfg(not(unix))]
mod signals {
    use crate::error::CliError;
    use std::process::Child;

    pub struct Forwarding;

    impl Forwarding {
        pub fn install() -> Result<Forwarding, CliError> {
            Ok(Forwarding)
        }
        pub fn start(&self, _child: &Child) {}
        pub fn stop(&self) {}
    }

    pub fn wait_exited(_child: &Child) {}
}
