//! Process hardening done first thing, before anything is unlocked: no core
//! dump may carry a passphrase, a data key or a secret. And the warning when
//! the library could not lock keys in memory.

/// Sets the soft core-file limit to 0 and, on Linux, marks the process
/// non-dumpable (which also keeps other processes of the same user from
/// attaching with ptrace or reading /proc/PID/mem). Best effort: returns what
/// could not be done, for a warning.
#[cfg(unix)]
pub fn disable_core_dumps() -> Result<(), String> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let current = getrlimit(Resource::Core);
    // The hard limit is left as it was, so an `exec` child can raise its own
    // soft limit again if it wants core dumps (it inherits 0).
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: current.maximum,
        },
    )
    .map_err(|e| format!("could not set the core-file limit to 0: {e}"))?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| format!("could not mark the process non-dumpable: {e}"))?;
    Ok(())
}

/// Windows writes no core files by default (crash dumps go through WER, which
/// is configured machine-wide), and there is no per-process switch in std.
#[cfg(not(unix))]
pub fn disable_core_dumps() -> Result<(), String> {
    Ok(())
}

/// Prints the library's warning that key material could not be locked in
/// memory (so it may reach swap), once per process: the first call after a
/// failure prints it, every other call nothing. It names the OS error and the
/// fix, never a secret.
pub fn warn_memory_lock() {
    if let Some(w) = farmvault::memlock::take_warning() {
        eprintln!("farmvault: warning: {w}");
    }
}
