//! init, passwd, key-file add/remove, rotate.

use crate::args::{Global, InitArgs, RotateArgs};
use crate::error::{CliError, EXISTS, OK};
use crate::prompt;
use crate::stdout::say;
use crate::unlock::{
    self, generate_key_file, new_passphrase, weak_kdf_warning, KEEP_PASSPHRASE_FILE_ENV,
    NEW_PASSPHRASE_FILE_ENV,
};
use farmvault::{RotateOptions, Unlock};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Rotations of fewer entries than this finish too fast for a progress bar.
const PROGRESS_MIN_ENTRIES: usize = 200;

/// `init`.
pub fn init(g: &Global, a: &InitArgs) -> Result<i32, CliError> {
    let path = unlock::vault_path(g)?;
    let non_empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_some());
    if non_empty {
        return Err(CliError::new(
            EXISTS,
            format!("{} already exists and is not empty", path.display()),
            "farmvault never overwrites a vault: choose another --vault path",
        ));
    }
    let mut generated = None;
    let (unlock, how) = match (&g.key_file, a.generate_key_file) {
        (Some(kf), true) => {
            let key = generate_key_file(kf)?;
            generated = Some(kf.clone());
            (
                Unlock::KeyFile(key),
                format!("the new key file {}", kf.display()),
            )
        }
        (Some(kf), false) => (
            Unlock::KeyFile(unlock::read_key_file(g, kf)?),
            format!("the key file {}", kf.display()),
        ),
        (None, _) => {
            let p = new_passphrase(g, g.passphrase_file.clone())?;
            (Unlock::Passphrase(p), "a passphrase".to_owned())
        }
    };
    weak_kdf_warning(g);
    match unlock::config(g, &path).create(&unlock) {
        Ok(vault) => {
            say(
                g,
                format!(
                    "created a vault at {}, opened by {how}",
                    vault.path().display()
                ),
            )?;
            Ok(OK)
        }
        Err(e) => {
            if let Some(kf) = generated {
                // The key opens nothing: do not leave it lying around.
                let _ = std::fs::remove_file(kf);
            }
            Err(e.into())
        }
    }
}

/// `passwd`.
pub fn passwd(g: &Global) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let file = std::env::var_os(NEW_PASSPHRASE_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let new = new_passphrase(g, file)?;
    weak_kdf_warning(g);
    vault.change_passphrase(&new)?;
    say(g, "passphrase changed")?;
    Ok(OK)
}

/// `key-file add PATH [--generate]`.
pub fn key_file_add(g: &Global, path: &Path, generate: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let key = if generate {
        generate_key_file(path)?
    } else {
        unlock::read_key_file(g, path)?
    };
    if let Err(e) = vault.add_key_file(&key) {
        if generate {
            let _ = std::fs::remove_file(path);
        }
        return Err(e.into());
    }
    say(
        g,
        format!("added a keyslot for the key file {}", path.display()),
    )?;
    Ok(OK)
}

/// `key-file remove PATH`.
pub fn key_file_remove(g: &Global, path: &Path) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let key = unlock::read_key_file(g, path)?;
    vault.remove_key_file(&key)?;
    say(
        g,
        format!(
            "removed the keyslot of the key file {} (the file itself is left alone)",
            path.display()
        ),
    )?;
    Ok(OK)
}

/// `rotate`.
pub fn rotate(g: &Global, a: &RotateArgs) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
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
