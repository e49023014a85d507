//! What opens a vault: a passphrase or a key file.

use crate::crypto::{SymmetricKey, KEY_LEN};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::storage::{fsio, perms};
use std::fmt;
use std::path::Path;

/// What opens a vault: a passphrase or a 32-byte key file.
#[derive(Clone)]
pub enum Unlock {
    /// A passphrase, stretched with Argon2id.
    Passphrase(SecretString),
    /// A key file's 32 random bytes.
    KeyFile(KeyFile),
}

impl Unlock {
    /// Unlock with a passphrase.
    pub fn passphrase(p: impl Into<SecretString>) -> Unlock {
        Unlock::Passphrase(p.into())
    }

    /// Unlock with the key file at `path` (read now; exactly 32 bytes; refused
    /// when group or others can access it, as [`KeyFile::read`] says).
    pub fn key_file_path(path: impl AsRef<Path>) -> Result<Unlock> {
        Ok(Unlock::KeyFile(KeyFile::read(path)?))
    }
}

impl fmt::Debug for Unlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlock::Passphrase(_) => f.write_str("Unlock::Passphrase([REDACTED])"),
            Unlock::KeyFile(_) => f.write_str("Unlock::KeyFile([REDACTED])"),
        }
    }
}

/// 32 random bytes that open a vault, kept in a self-wiping buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFile(pub(super) SymmetricKey);

impl KeyFile {
    /// A fresh random key.
    pub fn generate() -> Result<KeyFile> {
        Ok(KeyFile(SymmetricKey::generate()?))
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<KeyFile> {
        Ok(KeyFile(SymmetricKey::from_slice(bytes, "a key file")?))
    }

    /// Reads a key file: exactly 32 bytes, in a regular file of the caller's
    /// that only its owner can access, opened once without following a symbolic
    /// link (`farmvault::perms::open_private_file`). One that is another user's,
    /// that group or others can read or write, or a link to a file, is refused
    /// (`Error::Insecure`, naming the path and the fix, such as `chmod 600 PATH`)
    /// before its key is read; pipes and devices (`/dev/stdin`) are not checked,
    /// and off Unix nothing is. [`KeyFile::read_insecure_permissions`] is the
    /// explicit way past the checks.
    pub fn read(path: impl AsRef<Path>) -> Result<KeyFile> {
        KeyFile::read_inner(path.as_ref(), true)
    }

    /// [`KeyFile::read`] without refusing a key file that group or others can
    /// access (the CLI's `--insecure-permissions`).
    pub fn read_insecure_permissions(path: impl AsRef<Path>) -> Result<KeyFile> {
        KeyFile::read_inner(path.as_ref(), false)
    }

    fn read_inner(path: &Path, refuse_loose: bool) -> Result<KeyFile> {
        use std::io::Read;
        let ctx = || format!("reading key file {}", path.display());
        let wrong_len = |len: String| {
            Error::invalid(format!(
                "key file {} must hold exactly {KEY_LEN} bytes, it holds {len}",
                path.display()
            ))
        };
        // One open: the owner and mode checked and the length told are the
        // file's that is read.
        let (mut file, meta) = perms::open_no_follow(path, "key file", !refuse_loose)?;
        // A file of the wrong size is no key file: say that first, without reading it.
        if meta.is_file() && meta.len() != KEY_LEN as u64 {
            return Err(wrong_len(meta.len().to_string()));
        }
        if refuse_loose {
            perms::check_opened_file(path, "key file", &meta)?;
        }
        // Room for one byte too many, so a longer stream is told apart without
        // the buffer ever growing (a reallocation would leave a copy behind).
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(2 * KEY_LEN));
        (&mut file)
            .take(KEY_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(ctx(), e))?;
        match bytes.len() {
            KEY_LEN => {}
            n if n > KEY_LEN => return Err(wrong_len(format!("more than {KEY_LEN}"))),
            n => return Err(wrong_len(n.to_string())),
        }
        Ok(KeyFile(SymmetricKey::from_slice(&bytes, "a key file")?))
    }

    /// Writes this key to a new file at `path` (owner-only permissions on Unix);
    /// refuses to overwrite an existing file.
    pub fn write_new(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        fsio::write_new_private(path, self.0.expose())
            .map_err(|e| Error::io(format!("writing key file {}", path.display()), e))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        self.0.expose()
    }
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFile([REDACTED])")
    }
}
