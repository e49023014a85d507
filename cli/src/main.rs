//! `farmvault`: the command line of the farmvault credential vault.
//!
//! `commands/` holds the subcommands, one file each with its options. The
//! modules beside it are what the commands share, each using only modules
//! listed before it:
//! - `error`: exit statuses and the one-line error every failure becomes;
//! - `duration`: human durations and TTLs; `harden`: no core dumps, and the
//!   memory-lock warning;
//! - `args`: the options every command takes, and the help text;
//! - `output`: times, tables and JSON shapes; `print`: data on stdout,
//!   confirmations on stderr;
//! - `perms`: file-mode checks and no overwrites; `prompt`: hidden input,
//!   secret files, stdin;
//! - `unlock`: where the vault is and what opens it; `source`: the vault or a
//!   job grant, for reads;
//! - `mask`: secrets replaced in a stream of output; `supervise`: `exec`'s
//!   parent process, which masks its child's output and passes signals on;
//!   `private_dir`: a run's private directory, removed after it;
//!   `sgtk_home`: the Toolkit's `SHOTGUN_HOME` as one, and the renewed
//!   tokens it brings home.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod duration;
mod error;
mod harden;
mod mask;
#[cfg(target_os = "linux")]
mod memfd;
mod output;
mod perms;
mod print;
mod private_dir;
mod prompt;
mod sgtk_home;
mod source;
#[cfg(unix)]
mod stop_signals;
mod supervise;
mod unlock;

use clap::{CommandFactory, Parser};

/// farmvault: an encrypted, on-disk vault of production-tracking credentials
/// (script keys, session tokens) with per-entry expiry, for render farms.
#[derive(Parser, Debug)]
#[command(name = "farmvault", version, long_version = long_version().leak() as &str, after_help = args::AFTER_HELP.to_owned() + "\n" + error::HELP_TABLE)]
struct Cli {
    /// Global options.
    #[command(flatten)]
    global: args::Global,
    /// What to do.
    #[command(subcommand)]
    command: commands::Command,
}

fn main() {
    // Before anything is read or unlocked.
    if let Err(w) = harden::disable_core_dumps() {
        eprintln!("farmvault: warning: {w}");
    }
    let cli = Cli::try_parse().unwrap_or_else(|e| clap_exit(&e));
    let result = unlock::refuse_plain_passphrase_env()
        .and_then(|()| commands::run(&cli.global, cli.command))
        .map_err(|mut e| {
            e.hint = e.hint.replace(error::THIS_COMMAND, &named_command(&argv()));
            e
        });
    // Unless an open already printed it (`exec` replaces the process after its open).
    harden::warn_memory_lock();
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            e.code
        }
    };
    error::exit(code)
}

/// `--version`: the release, then what a bug report needs that it does not say.
/// (Built once per run, so leaking it is the cheapest way to give clap a `&'static str`.)
fn long_version() -> String {
    format!(
        "{}\nvault format {} (reads {} to {}), grant format {}, C ABI {}\nXChaCha20-Poly1305 with the {} Poly1305 backend",
        env!("CARGO_PKG_VERSION"),
        farmvault::FORMAT_VERSION,
        farmvault::OLDEST_FORMAT_VERSION,
        farmvault::FORMAT_VERSION,
        farmvault::grant::GRANT_FORMAT_VERSION,
        farmvault::ffi::FV_ABI_VERSION,
        farmvault::POLY1305_BACKEND,
    )
}

/// Help and version print as clap formats them; a usage error becomes one line.
fn clap_exit(e: &clap::Error) -> ! {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            error::exit(e.exit_code())
        }
        _ => {
            // clap's message, up to its first blank line, flattened to one line
            // (e.g. "the following required arguments were not provided: <NAME>").
            let rendered = e.render().to_string();
            let what = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            let what = what.strip_prefix("error: ").unwrap_or(&what);
            // An empty variable reaches clap as an empty value of its flag: name the variable.
            let empty = [
                "FARMVAULT_PATH",
                "FARMVAULT_KEY_FILE",
                "FARMVAULT_PASSPHRASE_FILE",
                source::GRANT_FILE_ENV,
                source::IDENTITY_ENV,
                farmvault::grant::STATE_DIR_ENV,
            ]
            .into_iter()
            .find(|v| std::env::var_os(v).is_some_and(|x| x.is_empty()));
            if let Some(var) = empty {
                let err = error::CliError::usage(
                    format!("{var} is set but empty"),
                    "unset it or give it a path",
                );
                eprintln!("{err}");
                error::exit(error::USAGE)
            }
            let err = error::CliError::usage(what, usage_hint(&rendered));
            eprintln!("{err}");
            error::exit(error::USAGE)
        }
    }
}

/// The hint of a usage error: clap's tips ("a similar argument exists:
/// '--json'"), then the help of the command the arguments name.
fn usage_hint(rendered: &str) -> String {
    let mut parts: Vec<String> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .map(str::to_owned)
        .collect();
    parts.push(format!("see `{} --help`", named_command(&argv())));
    parts.join("; ")
}

/// The arguments, lossily as text (a path need not be UTF-8; only command
/// names are looked for in them).
fn argv() -> Vec<String> {
    std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// `farmvault key-file add` for arguments that name that command somewhere
/// (options may come before it), as far as they go when parsing failed.
fn named_command(args: &[String]) -> String {
    let mut path = String::from("farmvault");
    let mut cmd = Cli::command();
    let mut rest = args.iter();
    while let Some(sub) = rest.by_ref().find_map(|a| cmd.find_subcommand(a).cloned()) {
        path.push(' ');
        path.push_str(sub.get_name());
        cmd = sub;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_name_the_command() {
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            named_command(&args("--vault /v list --jsn")),
            "farmvault list"
        );
        assert_eq!(
            named_command(&args("key-file add k --jsn")),
            "farmvault key-file add"
        );
        assert_eq!(named_command(&args("lst")), "farmvault");
    }
}
