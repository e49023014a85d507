//! The signals that stop a long-running command cleanly (an agent: its vault
//! closed, its socket removed): SIGTERM from a service manager, SIGINT from a
//! terminal, SIGHUP when the terminal goes.

use crate::error::CliError;

/// Runs `stop` on a thread of its own at the first SIGTERM, SIGINT or SIGHUP.
pub fn on_stop_signals(stop: impl FnOnce() + Send + 'static) -> Result<(), CliError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| CliError::io("installing the agent's signal handlers", &e))?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stop();
        }
    });
    Ok(())
}
