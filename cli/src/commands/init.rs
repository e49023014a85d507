//! `farmvault init`: creates a vault opened by a passphrase (prompted twice),
//! a key file, or a key file it generates; never over an existing one.

use crate::args::Global;
use crate::error::{CliError, EXISTS, OK};
use crate::perms::check_vault_dir;
use crate::print::{emit, say};
use crate::unlock::{self, generate_key_file, new_passphrase, weak_kdf_warning};
use clap::Args;
use farmvault::Unlock;

/// `init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Generate the --key-file (32 random bytes, mode 0600) instead of reading it; never overwrites.
    #[arg(long, requires = "key_file")]
    pub generate_key_file: bool,
    /// Print {vault, unlock, key_file, generated_key_file} as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `init`.
pub fn run(g: &Global, a: &InitArgs) -> Result<i32, CliError> {
    let path = unlock::vault_path(g)?;
    // Whatever `open` would refuse is refused here, in the same words and with
    // the same exit status, before a passphrase is asked for or a key file made:
    // a vault is never created where the next command would refuse it.
    check_vault_dir(g, &path)?;
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
            let key = generate_key_file(kf, "--generate-key-file")?;
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
            if a.json {
                let v = serde_json::json!({
                    "vault": vault.path().display().to_string(),
                    "unlock": if g.key_file.is_some() { "key_file" } else { "passphrase" },
                    "key_file": g.key_file.as_ref().map(|k| k.display().to_string()),
                    "generated_key_file": a.generate_key_file,
                });
                emit(v.to_string())?;
            } else {
                say(
                    g,
                    format!(
                        "created a vault at {}, opened by {how}",
                        vault.path().display()
                    ),
                )?;
            }
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
