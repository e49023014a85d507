//! Where the vault is and what opens it, or will open a new one: key files,
//! passphrase files, prompts.

use crate::args::Global;
use crate::error::{CliError, INSECURE};
use crate::perms::{check_vault_dir, create_private_parents, refuse_existing};
use crate::prompt;
use farmvault::{Config, KdfParams, KeyFile, Unlock, Vault};
use std::path::{Path, PathBuf};

/// The environment variable farmvault refuses to read a passphrase from.
pub const PLAIN_PASSPHRASE_ENV: &str = "FARMVAULT_PASSPHRASE";
/// A file holding the new passphrase, for `passwd` without a terminal.
pub const NEW_PASSPHRASE_FILE_ENV: &str = "FARMVAULT_NEW_PASSPHRASE_FILE";
/// A file holding the passphrase to keep, for `rotate --keep-passphrase`.
pub const KEEP_PASSPHRASE_FILE_ENV: &str = "FARMVAULT_KEEP_PASSPHRASE_FILE";

/// Refuses to run with a passphrase in a plain environment variable: other
/// processes of the user can read it (/proc/PID/environ) and every child inherits it.
pub fn refuse_plain_passphrase_env() -> Result<(), CliError> {
    if std::env::var_os(PLAIN_PASSPHRASE_ENV).is_some() {
        return Err(CliError::new(
            INSECURE,
            format!("{PLAIN_PASSPHRASE_ENV} is set; farmvault never reads a passphrase from a plain environment variable"),
            "unset it, put the passphrase in a file only you can read (chmod 600) and set FARMVAULT_PASSPHRASE_FILE to its path",
        ));
    }
    Ok(())
}

/// `--vault`, else `FARMVAULT_PATH` (both through clap), else the per-user default.
pub fn vault_path(g: &Global) -> Result<PathBuf, CliError> {
    if let Some(p) = &g.vault {
        return Ok(p.clone());
    }
    default_vault_path().ok_or_else(|| {
        CliError::usage(
            "cannot find a home directory for the default vault",
            "pass --vault DIR or set FARMVAULT_PATH",
        )
    })
}

fn non_empty_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `$XDG_DATA_HOME/farmvault/vault`, else `~/.local/share/farmvault/vault`.
#[cfg(all(unix, not(target_os = "macos")))]
fn default_vault_path() -> Option<PathBuf> {
    let base = non_empty_env("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| non_empty_env("HOME").map(|h| h.join(".local").join("share")))?;
    Some(base.join("farmvault").join("vault"))
}

/// `~/Library/Application Support/farmvault/vault`.
#[cfg(target_os = "macos")]
fn default_vault_path() -> Option<PathBuf> {
    let home = non_empty_env("HOME")?;
    Some(
        home.join("Library")
            .join("Application Support")
            .join("farmvault")
            .join("vault"),
    )
}

/// `%APPDATA%\farmvault\vault`.
#[cfg(windows)]
fn default_vault_path() -> Option<PathBuf> {
    Some(non_empty_env("APPDATA")?.join("farmvault").join("vault"))
}

/// Other platforms: no convention; `--vault` is required.
#[cfg(not(any(unix, windows)))]
fn default_vault_path() -> Option<PathBuf> {
    None
}

/// The Argon2id costs for passphrase slots this run creates.
pub fn kdf(g: &Global) -> KdfParams {
    if g.insecure_kdf_for_tests {
        KdfParams::new(8, 1, 1).expect("8 KiB, t=1, p=1 are valid Argon2id parameters")
    } else {
        KdfParams::DEFAULT
    }
}

/// The vault's config from the global options: `--insecure-permissions` lets
/// the library open or create a vault directory it would refuse.
pub fn config(g: &Global, path: &Path) -> Config {
    Config::new(path)
        .kdf(kdf(g))
        .lock_timeout(g.lock_timeout)
        .allow_insecure_permissions(g.insecure_permissions)
        .allow_network_filesystem(g.allow_network_filesystem)
}

/// Reads a key file. The library refuses one that another user could read or
/// replace (`Error::Insecure`: exit 8, like the CLI's other such checks) unless
/// `--insecure-permissions`.
pub fn read_key_file(g: &Global, path: &Path) -> Result<KeyFile, CliError> {
    if g.insecure_permissions {
        return Ok(KeyFile::read_insecure_permissions(path)?);
    }
    Ok(KeyFile::read(path)?)
}

/// Reads a passphrase file, checked on the descriptor it is read from.
pub fn read_passphrase_file(g: &Global, path: &Path) -> Result<farmvault::SecretString, CliError> {
    let p = prompt::read_secret_file(path, "passphrase file", g.insecure_permissions)?;
    if p.is_empty() {
        return Err(CliError::usage(
            format!("passphrase file {} is empty", path.display()),
            "write the passphrase into it",
        ));
    }
    Ok(p)
}

/// What opens an existing vault: key file, else passphrase file, else a prompt.
pub fn unlock_existing(g: &Global, vault: &Path) -> Result<Unlock, CliError> {
    if let Some(kf) = &g.key_file {
        return Ok(Unlock::KeyFile(read_key_file(g, kf)?));
    }
    if let Some(pf) = &g.passphrase_file {
        return Ok(Unlock::Passphrase(read_passphrase_file(g, pf)?));
    }
    let p = prompt::hidden(&format!("Passphrase for {}: ", vault.display()))?;
    Ok(Unlock::Passphrase(p))
}

/// Opens the vault the options name, after checking the directory (the
/// library checks it again on the open itself). With FARMVAULT_AGENT set and
/// neither --key-file nor --passphrase-file given, reaches it through that
/// agent instead: no prompt, no key work here.
pub fn open(g: &Global) -> Result<Vault, CliError> {
    if let Some(socket) = agent_socket(g) {
        return through_agent(g, &socket);
    }
    let path = vault_path(g)?;
    // Say "no vault", or why it is refused, before asking for a passphrase.
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(farmvault::Error::NoVault { path }.into());
    }
    check_vault_dir(g, &path)?;
    let unlock = unlock_existing(g, &path)?;
    let vault = config(g, &path).open(&unlock);
    crate::harden::warn_memory_lock();
    let vault = vault?;
    after_open(&vault);
    Ok(vault)
}

/// Opens the vault itself, for the commands only the process holding the
/// vault can run (key changes, rotation, repair, backups): through an agent
/// they are refused before any prompt, and when the open found an agent
/// holding the vault, before anything else is asked.
pub fn open_direct(g: &Global) -> Result<Vault, CliError> {
    refuse_agent(g)?;
    let vault = open(g)?;
    match vault.agent_socket() {
        Some(socket) => Err(needs_the_vault_itself(socket)),
        None => Ok(vault),
    }
}

/// Refuses, saying what to do, when FARMVAULT_AGENT would send this command
/// through the agent.
fn refuse_agent(g: &Global) -> Result<(), CliError> {
    match agent_socket(g) {
        None => Ok(()),
        Some(socket) => Err(needs_the_vault_itself(&socket)),
    }
}

fn needs_the_vault_itself(socket: &Path) -> CliError {
    CliError::new(
        crate::error::LOCKED,
        format!(
            "this command needs the vault itself, which the farmvault agent at {} holds",
            socket.display()
        ),
        "`farmvault agent stop`, then run it with FARMVAULT_AGENT unset, then `farmvault agent start` again",
    )
}

/// The agent to go through: FARMVAULT_AGENT's socket, when no unlock is given.
fn agent_socket(g: &Global) -> Option<PathBuf> {
    if g.key_file.is_some() || g.passphrase_file.is_some() {
        return None;
    }
    non_empty_env(farmvault::agent::AGENT_ENV)
}

/// The vault through the agent on `socket`; when --vault / FARMVAULT_PATH
/// names a vault, it must be the one the agent serves.
fn through_agent(g: &Global, socket: &Path) -> Result<Vault, CliError> {
    let vault = Vault::connect(Some(socket))?;
    if let Some(asked) = &g.vault {
        let same = std::fs::canonicalize(asked).is_ok_and(|p| p == vault.path());
        if !same {
            return Err(CliError::usage(
                format!(
                    "the agent at {} serves the vault at {}, not {}",
                    socket.display(),
                    vault.path().display(),
                    asked.display()
                ),
                "unset FARMVAULT_AGENT to open that vault directly, or point --vault / FARMVAULT_PATH at the agent's",
            ));
        }
    }
    Ok(vault)
}

/// What every command that opened a vault says on stderr about it: an upgrade
/// of its format just made, and passphrase slots with weak costs.
pub fn after_open(vault: &Vault) {
    if let Some(from) = vault.upgraded_from() {
        eprintln!(
            "farmvault: upgraded the vault at {} from format version {from} to {}; farmvault 0.1 can no longer open it",
            vault.path().display(),
            farmvault::FORMAT_VERSION,
        );
    }
    if let Some(behind) = vault.clock_behind() {
        eprintln!(
            "farmvault: warning: the system clock is {} behind the latest time this vault has seen; expiry is judged at that later time (check the clock and its time sync)",
            crate::duration::human(behind.as_secs()),
        );
    }
    warn_weak_slots(vault);
}

/// Warns on stderr, once per run, when a passphrase slot has Argon2id costs
/// below the default: whoever copies the vault can then guess that passphrase
/// cheaply, and nothing else would ever say so.
fn warn_weak_slots(vault: &Vault) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    // A header that cannot be read here fails the command's own reads with a better message.
    let weak: Vec<u32> = match vault.keyslots() {
        Ok(slots) => slots.iter().filter(|s| s.is_weak()).map(|s| s.id).collect(),
        Err(_) => return,
    };
    if weak.is_empty() || WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    let d = KdfParams::DEFAULT;
    eprintln!(
        "farmvault: warning: passphrase slot{} {} of this vault use{} test-only weak Argon2id costs (below m={} KiB, t={}); run `farmvault passwd` without FARMVAULT_INSECURE_KDF_FOR_TESTS to replace it",
        if weak.len() == 1 { "" } else { "s" },
        weak.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
        if weak.len() == 1 { "s" } else { "" },
        d.m_kib,
        d.t,
    );
}

/// The vault directory the options name (it must exist and be private) and what
/// unlocks it: `open` without the open, for commands that open it their way.
pub fn existing_vault(g: &Global) -> Result<(PathBuf, Unlock), CliError> {
    refuse_agent(g)?;
    let path = vault_path(g)?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(farmvault::Error::NoVault { path }.into());
    }
    check_vault_dir(g, &path)?;
    let how = unlock_existing(g, &path)?;
    Ok((path, how))
}

/// Generates a key file at `path` (0600, never overwriting), creating the
/// folders above it that do not exist yet (0700). `flag` is the option that
/// asked for it (`--generate-key-file`, `--generate`): the hint for an existing
/// file names it.
pub fn generate_key_file(path: &Path, flag: &str) -> Result<KeyFile, CliError> {
    refuse_existing(
        path,
        &format!(
            "farmvault never overwrites a key file: choose another path, or drop {flag} to use it"
        ),
    )?;
    create_private_parents(path)?;
    let kf = KeyFile::generate()?;
    kf.write_new(path)?;
    Ok(kf)
}

/// Warns that this run gives new passphrase slots the test-only weak costs.
pub fn weak_kdf_warning(g: &Global) {
    if g.insecure_kdf_for_tests {
        eprintln!("farmvault: warning: test-only weak Argon2id costs (FARMVAULT_INSECURE_KDF_FOR_TESTS); never use this for real credentials");
    }
}

/// A new passphrase: from `file` (checked on the descriptor it is read from)
/// if set, else prompted twice.
pub fn new_passphrase(
    g: &Global,
    file: Option<PathBuf>,
) -> Result<farmvault::SecretString, CliError> {
    prompt::new_passphrase(file.as_deref(), "passphrase", g.insecure_permissions)
}
