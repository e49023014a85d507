//! Shared fixtures of the grant tests: a cheap-KDF vault on a driven clock,
//! holding distinctive names and secrets that must never reach a bundle in the clear.

use farmvault::grant::{Grant, GrantOpen, GrantSpec, IssuedGrant};
use farmvault::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Issue time of every fixture (2023-11-14).
pub const T0: u64 = 1_700_000_000;

pub const RENDER: &str = "shotgun/render_farm-Qm7Vx";
pub const PUBLISH: &str = "shotgun/publisher-Lw2Rz";
pub const ARTIST: &str = "shotgun/artist_session-Hd4Kp";
pub const OTHER: &str = "ftrack/other-Yc8Tn";

pub const RENDER_KEY: &str = "SCRIPTKEY-render-n8Bq3Zr6Wd1Xe";
pub const PUBLISH_KEY: &str = "SCRIPTKEY-publish-t5Gm2Lk9Pj4";
pub const ARTIST_TOKEN: &str = "SESSION-artist-c3Fv7Hy0Ns6";
pub const OTHER_SECRET: &str = "OPAQUE-other-u1Je5Ra8Ki2";
pub const SITE: &str = "https://studio-Zk4Qp.shotgrid.autodesk.com";

/// Every name and secret the fixture stores.
pub const SENSITIVE: &[&str] = &[
    RENDER,
    PUBLISH,
    ARTIST,
    OTHER,
    RENDER_KEY,
    PUBLISH_KEY,
    ARTIST_TOKEN,
    OTHER_SECRET,
    SITE,
    "render_farm",
    "publisher",
    "artist_session",
];

pub fn hours(h: f64) -> Duration {
    Duration::from_secs_f64(h * 3600.0)
}

pub fn at_hours(h: f64) -> UnixTime {
    UnixTime(T0 + (h * 3600.0) as u64)
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub vault: Vault,
    pub clock: ManualClock,
    /// When the entries were put (T0, unless made with [`Fixture::at`]).
    pub t0: u64,
}

impl Fixture {
    /// A vault at T0 holding two script keys, a session token with a 2 h TTL,
    /// and an opaque entry outside `shotgun/`.
    pub fn new() -> Fixture {
        Fixture::at(T0)
    }

    /// The same vault, made at `t0` instead: the C ABI opens grants on the
    /// system clock only, so the grants its tests open are issued near now.
    pub fn at(t0: u64) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(UnixTime(t0));
        let vault = Config::new(dir.path().join("vault"))
            .kdf(KdfParams::new(8, 1, 1).unwrap())
            .clock(Arc::new(clock.clone()))
            .create(&Unlock::passphrase("pw"))
            .unwrap();
        let script = |name: &str, key: &str| {
            Credential::ScriptKey(ScriptKey {
                host: SITE.into(),
                script_name: name.into(),
                api_key: key.into(),
                http_proxy: None,
            })
        };
        vault
            .put_credential(
                RENDER,
                &script("render_farm", RENDER_KEY),
                &PutOptions::new(),
            )
            .unwrap();
        vault
            .put_credential(
                PUBLISH,
                &script("publisher", PUBLISH_KEY),
                &PutOptions::new().ttl(hours(100.0)),
            )
            .unwrap();
        let session = Credential::SessionToken(SessionToken {
            host: SITE.into(),
            login: "artist_session".into(),
            session_token: ARTIST_TOKEN.into(),
            http_proxy: None,
            session_metadata: None,
        });
        vault
            .put_credential(ARTIST, &session, &PutOptions::new().ttl(hours(2.0)))
            .unwrap();
        vault
            .put(OTHER, OTHER_SECRET.as_bytes(), &PutOptions::new())
            .unwrap();
        Fixture {
            dir,
            vault,
            clock,
            t0,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A spec writing `file` with a 72 h claim window and a 4 h use window.
    pub fn spec(&self, file: &str) -> GrantSpec {
        GrantSpec::new(self.path(file), "job-4711")
            .claim_within(hours(72.0))
            .use_for(hours(4.0))
    }

    pub fn issue(&self, spec: &GrantSpec) -> IssuedGrant {
        self.vault.grant(spec).unwrap()
    }

    /// Open options on this fixture's clock, with a state directory per "machine".
    pub fn how(&self, machine: &str) -> GrantOpen {
        GrantOpen::new()
            .clock(Arc::new(self.clock.clone()))
            .state_dir(self.path(&format!("state-{machine}")))
            .hostname("render01.farm.example")
    }

    /// A new farm identity file; returns (path, public key).
    pub fn identity(&self, name: &str) -> (PathBuf, String) {
        let p = self.path(name);
        let public = farmvault::grant::generate_farm_identity(&p).unwrap();
        (p, public)
    }

    pub fn open(&self, bundle: &Path, how: &GrantOpen) -> Result<Grant> {
        Grant::open(bundle, how)
    }
}

/// The token with its last base64 character changed: same grant id, wrong secret.
pub fn altered_token(token: &SecretString) -> SecretString {
    let mut t = token.expose().to_owned();
    let last = t.pop().unwrap();
    t.push(if last == 'A' { 'B' } else { 'A' });
    SecretString::from(t)
}

/// The first needle found in `haystack`, if any.
pub fn find_any<'a>(haystack: &[u8], needles: &[&'a [u8]]) -> Option<&'a [u8]> {
    needles
        .iter()
        .copied()
        .find(|n| !n.is_empty() && haystack.windows(n.len()).any(|w| w == *n))
}

/// The node configuration file that names this node's hostname for grants.
pub const NODE_HOSTNAME_FILE: &str = "/etc/farmvault/grant-hostname";

/// Whether this machine has a node hostname file, which the C ABI cannot be told
/// to pass over: the tests that check the OS hostname then say so and skip.
pub fn node_hostname_file_present() -> bool {
    let present = Path::new(NODE_HOSTNAME_FILE).exists();
    if present {
        eprintln!(
            "skipped: {NODE_HOSTNAME_FILE} exists here, so grants check its hostname, not the OS's"
        );
    }
    present
}

/// This machine's hostname, as the OS reports it.
pub fn this_hostname() -> String {
    gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_owned()
}

/// A host pattern only `hostname` matches: the name itself, when it is written in
/// the characters a pattern may hold (else the test says so and skips).
pub fn pattern_for(hostname: &str) -> Option<String> {
    let fits = !hostname.is_empty()
        && hostname.len() <= 253
        && hostname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !fits {
        eprintln!("skipped: this machine's hostname {hostname:?} cannot be a host pattern");
    }
    fits.then(|| hostname.to_owned())
}
