//! Shared helpers of the vault integration tests: cheap vaults on a driven
//! clock, sample credentials, and raw access to the sled directory for the
//! corruption and tampering tests.

use farmvault::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the driven clock starts.
pub const T0: u64 = 1_700_000_000;
/// The passphrase of fixture vaults.
pub const PW: &str = "correct horse battery staple";

/// Argon2id parameters cheap enough for a debug test run.
pub fn cheap() -> KdfParams {
    KdfParams::new(8, 1, 1).unwrap()
}

pub fn pw() -> Unlock {
    Unlock::passphrase(PW)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ttl(s: u64) -> PutOptions {
    PutOptions::new().ttl(secs(s))
}

/// A vault directory in a temp dir, and the clock its handles share.
pub struct Fx {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: ManualClock,
}

impl Fx {
    /// A fixture with no vault created yet.
    pub fn empty() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault");
        Fx {
            dir,
            path,
            clock: ManualClock::new(UnixTime(T0)),
        }
    }

    /// A config for this vault: cheap KDF, the driven clock, a short lock wait.
    pub fn cfg(&self) -> Config {
        Config::new(&self.path)
            .kdf(cheap())
            .clock(Arc::new(self.clock.clone()))
            .lock_timeout(Duration::from_secs(5))
    }

    /// Creates the vault with the passphrase `PW`.
    pub fn create(&self) -> Vault {
        self.cfg().create(&pw()).unwrap()
    }

    /// Opens it with `PW`.
    pub fn open(&self) -> Vault {
        self.cfg().open(&pw()).unwrap()
    }

    pub fn open_with(&self, unlock: &Unlock) -> Result<Vault> {
        self.cfg().open(unlock)
    }

    pub fn now(&self) -> u64 {
        self.clock.now().secs()
    }

    pub fn advance(&self, s: u64) {
        self.clock.advance(secs(s));
    }

    pub fn set(&self, t: u64) {
        self.clock.set(UnixTime(t));
    }

    /// Where the live store's files are (the generation `CURRENT` names).
    pub fn data(&self) -> PathBuf {
        data_dir(&self.path)
    }

    pub fn canonical(&self) -> PathBuf {
        std::fs::canonicalize(&self.path).unwrap()
    }

    /// Creates the vault with a new key file as its one slot, `farm.key` beside it
    /// (0600, as `KeyFile::write_new` makes it), closes it again, and returns the
    /// key file's path.
    pub fn create_with_key_file(&self) -> PathBuf {
        let key = self.dir.path().join("farm.key");
        KeyFile::generate().unwrap().write_new(&key).unwrap();
        drop(
            self.cfg()
                .create(&Unlock::key_file_path(&key).unwrap())
                .unwrap(),
        );
        key
    }
}

/// Creates the directory `path` as farmvault would, 0700 (a vault directory
/// group or others can access is refused).
pub fn private_dir(path: &Path) {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(path).unwrap();
}

/// Sets a file's Unix mode.
#[cfg(unix)]
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The directory of a vault's live store: the generation its `CURRENT` names,
/// or the vault directory itself (a vault written before generations).
pub fn data_dir(vault: &Path) -> PathBuf {
    farmvault::layout::data_dir(vault).unwrap()
}

/// Opens a vault's live store with sled directly. Every `Vault` handle on it
/// must be dropped first (sled holds an exclusive lock).
pub fn raw_open(path: &Path) -> sled::Db {
    let path = &data_dir(path);
    let start = Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                assert!(
                    e.to_string().contains("lock"),
                    "raw sled open of {}: {e}",
                    path.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("raw sled open of {}: {e}", path.display()),
        }
    }
}

/// Runs `f` on the raw sled tree of a closed vault, then flushes and closes it.
pub fn raw_edit<R>(path: &Path, f: impl FnOnce(&sled::Db) -> R) -> R {
    let db = raw_open(path);
    let r = f(&db);
    db.flush().unwrap();
    drop(db);
    r
}

/// Every key and value of a closed vault.
pub fn raw_dump(path: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    raw_edit(path, |db| {
        db.iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect()
    })
}

/// The part of a dump in one keyspace (`b'E'`, `b'X'`, `b'H'`).
pub fn space(dump: &BTreeMap<Vec<u8>, Vec<u8>>, prefix: u8) -> BTreeMap<Vec<u8>, Vec<u8>> {
    dump.iter()
        .filter(|(k, _)| k.first() == Some(&prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Prints `line` for the parent process after `tag`, which tells it from
/// libtest's own output, and flushes it at once: a kill right after loses none.
pub fn say(tag: &str, line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{tag} {line}").unwrap();
    out.flush().unwrap();
}

/// What [`say`] printed after `tag`, if `line` holds it (libtest may have
/// printed the test's name before it on the same line).
pub fn heard<'a>(tag: &str, line: &'a str) -> Option<&'a str> {
    let marker = format!("{tag} ");
    let at = line.find(&marker)?;
    Some(&line[at + marker.len()..])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn script_key(proxy: bool) -> Credential {
    Credential::ScriptKey(ScriptKey {
        host: "https://studio.shotgrid.autodesk.com".into(),
        script_name: "render_farm".into(),
        api_key: "sk-0123456789abcdef-SCRIPTKEY".into(),
        http_proxy: proxy.then(|| "farm:proxy-PASS-1@proxy.studio:3128".into()),
    })
}

pub fn session_token(full: bool) -> Credential {
    Credential::SessionToken(SessionToken {
        host: "https://studio.shotgrid.autodesk.com".into(),
        login: "jdoe".into(),
        session_token: "st-SESSIONTOKEN-9f8e7d6c".into(),
        http_proxy: full.then(|| "jdoe:proxy-PASS-2@proxy.studio:8080".into()),
        session_metadata: full.then(|| "c2Vzc2lvbi1NRVRBREFUQS1jb29raWU=".into()),
    })
}

pub fn login_password(proxy: bool) -> Credential {
    Credential::LoginPassword(LoginPassword {
        host: "https://other.shotgrid.autodesk.com".into(),
        login: "render".into(),
        password: "pw-PASSWORD-hunter2".into(),
        http_proxy: proxy.then(|| "render:proxy-PASS-3@proxy.studio:3128".into()),
    })
}

pub fn opaque(bytes: &[u8]) -> Credential {
    Credential::Opaque(SecretBytes::from_slice(bytes))
}

/// The secret strings of the sample credentials, for redaction checks.
pub const SAMPLE_SECRETS: &[&str] = &[
    "sk-0123456789abcdef-SCRIPTKEY",
    "SCRIPTKEY",
    "proxy-PASS",
    "SESSIONTOKEN",
    "c2Vzc2lvbi1NRVRBREFUQS1jb29raWU=",
    "PASSWORD",
    "hunter2",
];

/// Asserts `r` is `InvalidArgument` whose message contains `needle`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(r: Result<T>, needle: &str) {
    match r {
        Err(Error::InvalidArgument(msg)) => assert!(
            msg.contains(needle),
            "message {msg:?} does not mention {needle:?}"
        ),
        other => panic!("expected InvalidArgument mentioning {needle:?}, got {other:?}"),
    }
}

/// The opaque bytes of an entry.
#[track_caller]
pub fn bytes_of(v: &Vault, name: &str) -> Vec<u8> {
    v.get(name).unwrap().credential.secret().to_vec()
}

#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(r: Result<T>, name: &str) {
    match r {
        Err(Error::NotFound { name: n }) => assert_eq!(n, name),
        other => panic!("expected NotFound {{ {name:?} }}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_expired<T: std::fmt::Debug>(r: Result<T>, name: &str, at: u64) {
    match r {
        Err(Error::Expired {
            name: n,
            expired_at,
        }) => {
            assert_eq!(n, name);
            assert_eq!(expired_at, at, "expired_at of {name}");
        }
        other => panic!("expected Expired {{ {name:?} }}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_tampered<T: std::fmt::Debug>(r: Result<T>, entry: &str) {
    match r {
        Err(Error::Tampered { entry: e }) => assert_eq!(e, entry),
        other => panic!("expected Tampered {{ {entry:?} }}, got {other:?}"),
    }
}

/// Names in a listing.
pub fn names(list: &[EntryMeta]) -> Vec<String> {
    list.iter().map(|m| m.name.clone()).collect()
}
