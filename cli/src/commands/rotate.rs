//! `farmvault rotate`: a new data key, every entry re-encrypted under it and
//! the keyslots that are kept rewrapped; a progress bar on a terminal when
//! there are enough entries to wait for.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::output::keyslots_json;
use crate::print::{emit, say};
use crate::prompt;
use crate::unlock::{self, KEEP_PASSPHRASE_FILE_ENV};
use clap::Args;
use farmvault::{RotateOptions, Unlock};
use std::io::IsTerminal;
use std::path::PathBuf;

/// `rotate`.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// Key files of other keyslots to keep (rewrapped under the new data key).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub keep_key_file: Vec<PathBuf>,
    /// Keep the passphrase slot too when unlocking with a key file (passphrase from
    /// FARMVAULT_KEEP_PASSPHRASE_FILE or a prompt).
    #[arg(long)]
    pub keep_passphrase: bool,
    /// Drop keyslots that cannot be rewrapped instead of refusing.
    #[arg(long)]
    pub drop_other_slots: bool,
    /// Print {vault, entries, keyslots} as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Rotations of fewer entries than this finish too fast for a progress bar.
const PROGRESS_MIN_ENTRIES: usize = 200;

/// `rotate`.
pub fn run(g: &Global, a: &RotateArgs) -> Result<i32, CliError> {
    let vault = unlock::open_direct(g)?;
    let mut options = RotateOptions {
        drop_other_slots: a.drop_other_slots,
        ..RotateOptions::default()
    };
    for kf in &a.keep_key_file {
        options
            .keep
            .push(Unlock::KeyFile(unlock::read_key_file(g, kf)?));
    }
    if a.keep_passphrase {
        let file = std::env::var_os(KEEP_PASSPHRASE_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| g.passphrase_file.clone().filter(|_| g.key_file.is_some()));
        let p = match file {
            Some(f) => unlock::read_passphrase_file(g, &f)?,
            None => prompt::hidden("Passphrase to keep: ")?,
        };
        options.keep.push(Unlock::Passphrase(p));
    }
    let show = !g.quiet && std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut progress = |done: usize, total: usize| {
        if !show || total < PROGRESS_MIN_ENTRIES {
            return;
        }
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "re-encrypting [{bar:40}] {pos}/{len} entries ({eta})",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            b
        });
        b.set_position(done as u64);
    };
    let result = vault.rotate_data_key(&options, &mut progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let n = result.map_err(|e| match e {
        farmvault::Error::InvalidArgument(m) => CliError::usage(
            m,
            "pass --keep-key-file PATH or --keep-passphrase for that slot, or --drop-other-slots",
        ),
        other => other.into(),
    })?;
    let slots = vault.keyslots()?;
    if a.json {
        let v = serde_json::json!({
            "vault": vault.path().display().to_string(),
            "entries": n,
            "keyslots": keyslots_json(&slots),
        });
        emit(v.to_string())?;
        return Ok(OK);
    }
    let kinds: Vec<&str> = slots.iter().map(|s| s.kind).collect();
    say(
        g,
        format!(
            "new data key: re-encrypted {n} entr{}; keyslots now: {}",
            if n == 1 { "y" } else { "ies" },
            kinds.join(", ")
        ),
    )?;
    Ok(OK)
}
