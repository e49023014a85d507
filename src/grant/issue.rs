//! Issuing a grant: the spec, the vault side (`Vault::grant`, `Vault::list_grants`)
//! and the vault's sealed records of issued grants.

use super::issuer::{IssuerKey, IssuerSigningKey, ISSUER_KEY_LEN};
use super::lock::{self, Token};
use super::{bundle, host, GrantAccess, GrantId, GrantInfo, GRANT_ID_LEN, MAX_LABEL_LEN};
use crate::clock::UnixTime;
use crate::crypto::{SealingKey, SymmetricKey};
use crate::error::{Error, Result};
use crate::format::hex;
use crate::format::{GrantPolicy, VAULT_ID_LEN};
use crate::secret::SecretString;
use crate::storage::fsio::StagedFile;
use crate::vault::{validate_lookup_name, Direct, Entry, EntryMeta, Vault};
use bundle::{GrantedEntry, Header, Locks, Payload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// What to grant, for how long, and to whom. Built with `GrantSpec::new` and setters.
#[derive(Clone, Debug)]
pub struct GrantSpec {
    out: PathBuf,
    label: String,
    selectors: Vec<String>,
    claim_within: Option<Duration>,
    use_for: Option<Duration>,
    hosts: Option<String>,
    recipients: Vec<String>,
    token: bool,
    require_both: bool,
}

impl GrantSpec {
    /// A grant to be written to the new file `out`, labelled `label` (the job's
    /// name or id: stored in the clear, shown by `grant-info`). It opens with a
    /// token by default; name entries and both windows before issuing.
    pub fn new(out: impl Into<PathBuf>, label: impl Into<String>) -> GrantSpec {
        GrantSpec {
            out: out.into(),
            label: label.into(),
            selectors: Vec::new(),
            claim_within: None,
            use_for: None,
            hosts: None,
            recipients: Vec::new(),
            token: true,
            require_both: false,
        }
    }

    /// Adds an entry: an exact name, or a prefix ending in `/` (`shotgun/`) for
    /// every live entry under it. A name that does not exist fails the issue with
    /// `NotFound`, an expired one with `Expired`; a prefix must match at least one
    /// live entry (expired entries under a prefix are left out).
    pub fn entry(mut self, name_or_prefix: impl Into<String>) -> GrantSpec {
        self.selectors.push(name_or_prefix.into());
        self
    }

    /// Adds several entries (see [`GrantSpec::entry`]).
    pub fn entries<I, S>(mut self, names: I) -> GrantSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.selectors.extend(names.into_iter().map(Into::into));
        self
    }

    /// The claim-by deadline, as a duration from now (required; at most the
    /// vault's `max_claim_secs`).
    pub fn claim_within(mut self, d: Duration) -> GrantSpec {
        self.claim_within = Some(d);
        self
    }

    /// The use window from the first open on a machine (required; at most the
    /// vault's `max_use_secs`).
    pub fn use_for(mut self, d: Duration) -> GrantSpec {
        self.use_for = Some(d);
        self
    }

    /// A hostname glob (`render*`; `*` and `?` only, case-insensitive, matched
    /// against the full hostname or its short name) the opening machine must match.
    pub fn hosts(mut self, pattern: impl Into<String>) -> GrantSpec {
        self.hosts = Some(pattern.into());
        self
    }

    /// Adds a farm public key (`age1…`, as `farm-keygen` prints it).
    pub fn recipient(mut self, public_key: impl Into<String>) -> GrantSpec {
        self.recipients.push(public_key.into());
        self
    }

    /// Whether to issue a bearer token (default `true`). `false` with recipients
    /// gives a recipient-only grant.
    pub fn token(mut self, issue_token: bool) -> GrantSpec {
        self.token = issue_token;
        self
    }

    /// Require the token *and* a farm identity to open (needs both a token and
    /// at least one recipient).
    pub fn require_both(mut self, both: bool) -> GrantSpec {
        self.require_both = both;
        self
    }

    fn access(&self) -> Result<GrantAccess> {
        let rcpt = !self.recipients.is_empty();
        match (self.token, rcpt, self.require_both) {
            (true, false, false) => Ok(GrantAccess::Token),
            (false, true, false) => Ok(GrantAccess::Recipient),
            (true, true, false) => Ok(GrantAccess::TokenOrRecipient),
            (true, true, true) => Ok(GrantAccess::TokenAndRecipient),
            (false, false, _) => Err(Error::invalid(
                "a grant needs a token or at least one recipient to open it",
            )),
            (true, false, true) => Err(Error::invalid(
                "require_both needs at least one recipient (a farm public key)",
            )),
            (false, true, true) => Err(Error::invalid(
                "require_both needs a token as well as recipients",
            )),
        }
    }
}

/// A grant just issued: the bundle is on disk at `path`.
#[derive(Debug)]
pub struct IssuedGrant {
    /// The grant's id.
    pub id: GrantId,
    /// The bearer token (`fvg1_…`), or `None` for a recipient-only grant. Shown
    /// once: the vault does not keep it.
    pub token: Option<SecretString>,
    /// Where the bundle was written.
    pub path: PathBuf,
    /// The grant's description (entry names included).
    pub info: GrantInfo,
}

/// The sealed record a vault keeps of each grant it issued. Field order is
/// format: append only. Never holds the grant key, its shares or the token.
/// A record of a signed grant is followed by the signer's public key (32 bytes):
/// outside the struct, so a build that predates signatures still reads it
/// (`postcard::from_bytes` ignores what follows).
#[derive(Serialize, Deserialize)]
struct GrantRecord {
    version: u8,
    id: [u8; GRANT_ID_LEN],
    issuer: [u8; VAULT_ID_LEN],
    label: String,
    entries: Vec<String>,
    created: u64,
    claim_by: u64,
    use_secs: u64,
    host_pattern: Option<String>,
    access: u8,
    recipients: u32,
}

const RECORD_VERSION: u8 = 1;

fn record_key(id: &GrantId) -> [u8; 1 + GRANT_ID_LEN] {
    let mut k = [0u8; 1 + GRANT_ID_LEN];
    k[0] = crate::format::space::GRANT;
    k[1..].copy_from_slice(&id.0);
    k
}

/// Whole seconds, rounded up, so a window is never shortened.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

/// `90061` -> `"25h1m1s"`, `216000` -> `"2d12h"`, for messages: days only from
/// two days up (a use window reads better as `24h`), as the CLI prints them.
fn human(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let days = if secs >= 2 * 86_400 { secs / 86_400 } else { 0 };
    let rest = secs - days * 86_400;
    let parts = [
        (days, "d"),
        (rest / 3_600, "h"),
        (rest % 3_600 / 60, "m"),
        (rest % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect()
}

fn check_window(what: &str, d: Option<Duration>, max: u64, flag: &str) -> Result<u64> {
    let d = d.ok_or_else(|| {
        Error::invalid(format!(
            "a grant needs a {what} ({flag}); neither clock may be unbounded"
        ))
    })?;
    let secs = ceil_secs(d);
    if secs == 0 {
        return Err(Error::invalid(format!(
            "the {what} must be longer than zero"
        )));
    }
    if secs > max {
        return Err(Error::invalid(format!(
            "the {what} asked for, {} ({secs} s), is longer than this vault's limit of {} ({max} s); \
             ask for less, or raise the limit in the vault's grant policy",
            human(secs),
            human(max)
        )));
    }
    Ok(secs)
}

fn validate_label(label: &str) -> Result<()> {
    if label.is_empty() || label.len() > MAX_LABEL_LEN {
        return Err(Error::invalid(format!(
            "a grant label is 1 to {MAX_LABEL_LEN} bytes, got {}",
            label.len()
        )));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::invalid(
            "a grant label may not contain control characters",
        ));
    }
    Ok(())
}

/// Writes `bytes` to the new file `path` atomically and privately, calling
/// `commit` after the data is durable and before it becomes visible.
fn write_new_atomic(path: &Path, bytes: &[u8], commit: impl FnOnce() -> Result<()>) -> Result<()> {
    let ctx = || format!("writing grant bundle {}", path.display());
    if path.exists() {
        return Err(Error::invalid(format!(
            "{} already exists; farmvault never overwrites a grant bundle: choose another path",
            path.display()
        )));
    }
    let staged = StagedFile::write(path, bytes, ctx)?;
    commit()?;
    staged.rename_into_place().map_err(|e| Error::io(ctx(), e))
}

impl Vault {
    /// Issues a job grant: copies the entries `spec` names into a new bundle file,
    /// sealed under a fresh grant key, records the grant in this vault (see
    /// [`Vault::list_grants`]) and returns the token. Nothing is written if any
    /// named entry is missing (`NotFound`) or expired (`Expired`), or if a window
    /// is missing, zero or over the vault's [`GrantPolicy`]. Grants cannot be
    /// recalled: keep the windows short.
    pub fn grant(&self, spec: &GrantSpec) -> Result<IssuedGrant> {
        self.direct_for("grant")?.grant(spec)
    }

    /// The grants this vault issued, oldest first (from its sealed records; the
    /// bundles themselves may be gone). A record, not a kill switch:
    /// [`Vault::revoke_grants`] stops later opens.
    pub fn list_grants(&self) -> Result<Vec<GrantInfo>> {
        self.direct_for("list_grants")?.list_grants()
    }

    /// This vault's grant issuer public key: what render nodes pin (in
    /// `/etc/farmvault/issuers`, or `FARMVAULT_ISSUERS`) to take only grants this
    /// vault signed. Makes the vault's signing key pair first if it has none yet
    /// (a write: its private half is stored sealed like a secret, and never
    /// leaves the vault).
    pub fn grant_issuer(&self) -> Result<IssuerKey> {
        Ok(self
            .direct_for("grant_issuer")?
            .issuer_signing_key()?
            .public())
    }
}

/// The sled key of the vault's grant-signing key.
const ISSUER_RECORD_KEY: &[u8] = b"Igrant-signing-key";

impl Direct {
    /// The vault's grant-signing key, made and stored on first use.
    pub(super) fn issuer_signing_key(&self) -> Result<IssuerSigningKey> {
        debug_assert_eq!(ISSUER_RECORD_KEY[0], crate::format::space::ISSUER);
        let plain = self.side_record_or_insert(ISSUER_RECORD_KEY, || {
            Ok(IssuerSigningKey::generate()?.to_record())
        })?;
        IssuerSigningKey::from_record(&plain).ok_or_else(|| {
            Error::invalid(
                "the vault's grant-signing key record is of a newer format than this build reads",
            )
        })
    }

    pub fn grant(&self, spec: &GrantSpec) -> Result<IssuedGrant> {
        validate_label(&spec.label)?;
        let access = spec.access()?;
        let policy: GrantPolicy = self.grant_policy()?;
        // A policy stored before the ceiling existed may be over it: the ceiling wins.
        let ceiling = GrantPolicy::MAX_LIMIT_SECS;
        let claim_secs = check_window(
            "claim-by window",
            spec.claim_within,
            policy.max_claim_secs.min(ceiling),
            "claim_within",
        )?;
        let use_secs = check_window(
            "use window",
            spec.use_for,
            policy.max_use_secs.min(ceiling),
            "use_for",
        )?;
        if let Some(p) = &spec.hosts {
            host::validate_pattern(p).map_err(Error::InvalidArgument)?;
        }
        let mut recipients = Vec::new();
        for r in &spec.recipients {
            let parsed = lock::parse_recipient(r)?;
            if !recipients.contains(&parsed) {
                recipients.push(parsed);
            }
        }
        if spec.selectors.is_empty() {
            return Err(Error::invalid("a grant needs at least one entry or prefix"));
        }
        let now = self.now();
        let entries = self.select(&spec.selectors, now)?;
        let entry_count = u32::try_from(entries.len())
            .map_err(|_| Error::invalid("too many entries for one grant"))?;

        let signing = self.issuer_signing_key()?;
        let id = lock::random_grant_id()?;
        let header = Header {
            grant_id: id.0,
            issuer: self.vault_id(),
            created: now.secs(),
            claim_by: now.plus(Duration::from_secs(claim_secs)).secs(),
            use_secs,
            host_pattern: spec.hosts.clone(),
            label: spec.label.clone(),
            entry_count,
            access: access.to_u8(),
            recipients: recipients.len() as u32,
        };
        let header_prefix = bundle::encode_header(&header, &signing.public());

        let token = if access.has_token_lock() {
            Some(Token::generate(id)?)
        } else {
            None
        };
        let (grant_key, token_secret, rcpt_secret) = match access {
            GrantAccess::TokenAndRecipient => {
                let (s_token, s_rcpt) = (SymmetricKey::generate()?, SymmetricKey::generate()?);
                (
                    lock::combine_shares(&s_token, &s_rcpt, &id),
                    s_token,
                    s_rcpt,
                )
            }
            _ => {
                let k = SymmetricKey::generate()?;
                (k.clone(), k.clone(), k)
            }
        };
        let locks = Locks {
            token: match &token {
                Some(t) => Some(lock::lock_token(t, &header_prefix, &token_secret)?),
                None => None,
            },
            recipients: if access.has_recipient_lock() {
                Some(lock::lock_recipients(
                    &recipients,
                    &header_prefix,
                    &rcpt_secret,
                )?)
            } else {
                None
            },
        };
        let mut bytes = bundle::encode_locks(header_prefix, &locks);
        let plain = seal_plaintext(&entries)?;
        let aad = [lock::PAYLOAD_AAD, &bytes[..]].concat();
        SealingKey::new(&grant_key).seal_into(&plain, &aad, &mut bytes)?;
        let signature = signing.sign(&bytes);
        bytes.extend_from_slice(&signature);

        let names: Vec<String> = entries.keys().cloned().collect();
        let info =
            GrantInfo::from_header(&header, access, Some(signing.public()), Some(names.clone()));
        let record = GrantRecord {
            version: RECORD_VERSION,
            id: id.0,
            issuer: header.issuer,
            label: header.label.clone(),
            entries: names,
            created: header.created,
            claim_by: header.claim_by,
            use_secs,
            host_pattern: header.host_pattern.clone(),
            access: header.access,
            recipients: header.recipients,
        };
        let mut record = postcard::to_allocvec(&record).expect("a grant record always serialises");
        record.extend_from_slice(signing.public().as_bytes());
        write_new_atomic(&spec.out, &bytes, || {
            self.put_side_record(&record_key(&id), &record)
        })?;
        Ok(IssuedGrant {
            id,
            token: token.map(|t| t.encode()),
            path: spec.out.clone(),
            info,
        })
    }

    /// Resolves selectors to entries, all or nothing.
    fn select(&self, selectors: &[String], now: UnixTime) -> Result<BTreeMap<String, Entry>> {
        let mut out = BTreeMap::new();
        for sel in selectors {
            validate_lookup_name(sel)?;
            if sel.ends_with('/') {
                let live: Vec<EntryMeta> = Direct::list(self, sel)?
                    .into_iter()
                    .filter(|m| !m.is_expired_at(now))
                    .collect();
                if live.is_empty() {
                    return Err(Error::NotFound { name: sel.clone() });
                }
                for m in live {
                    let e = Direct::get(self, &m.name)?;
                    out.insert(m.name, e);
                }
            } else {
                let e = Direct::get(self, sel)?;
                out.insert(sel.clone(), e);
            }
        }
        Ok(out)
    }

    pub fn list_grants(&self) -> Result<Vec<GrantInfo>> {
        let mut out = Vec::new();
        for (key, plain) in self.side_records(crate::format::space::GRANT)? {
            let bad = || {
                Error::corrupt(
                    self.path(),
                    format!("the record of grant {} is unreadable", hex(&key[1..])),
                )
            };
            let (r, signer): (GrantRecord, &[u8]) =
                postcard::take_from_bytes(&plain).map_err(|_| bad())?;
            let signer = match signer.len() {
                0 => None,
                ISSUER_KEY_LEN => Some(IssuerKey(signer.try_into().expect("32 bytes"))),
                _ => return Err(bad()),
            };
            let access = GrantAccess::from_u8(r.access)
                .filter(|_| r.version == RECORD_VERSION)
                .ok_or_else(bad)?;
            out.push(GrantInfo {
                id: GrantId(r.id),
                issuer: r.issuer,
                label: r.label,
                created: UnixTime(r.created),
                claim_by: UnixTime(r.claim_by),
                use_window: Duration::from_secs(r.use_secs),
                host_pattern: r.host_pattern,
                entry_count: r.entries.len() as u32,
                entries: Some(r.entries),
                access,
                recipients: r.recipients,
                signer,
            });
        }
        out.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// `pad256(postcard(Payload))` in a self-wiping buffer that never reallocates.
pub(super) fn seal_plaintext(entries: &BTreeMap<String, Entry>) -> Result<Zeroizing<Vec<u8>>> {
    let payload = Payload {
        entries: entries
            .values()
            .map(|e| GrantedEntry {
                name: e.meta.name.clone(),
                created: e.meta.created.secs(),
                updated: e.meta.updated.secs(),
                expires: e.meta.expires.map(UnixTime::secs),
                credential: e.credential.clone(),
            })
            .collect(),
    };
    let len = postcard::experimental::serialized_size(&payload)
        .expect("a grant payload always serialises");
    let padded = len.div_ceil(bundle::PAD_TO).max(1) * bundle::PAD_TO;
    // Exact capacity: the buffer never reallocates, so no unwiped copy is left behind.
    let buf = postcard::to_extend(&payload, Vec::with_capacity(padded))
        .expect("a grant payload always serialises");
    let mut plain = Zeroizing::new(buf);
    plain.resize(padded, 0);
    Ok(plain)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::grant::lock::Opened;

    #[test]
    fn human_durations() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(59), "59s");
        assert_eq!(human(3600), "1h");
        assert_eq!(human(72 * 3600), "3d");
        // Days only from two days up, as grant-policy prints: 24h, not 1d.
        assert_eq!(human(86_400), "24h");
        assert_eq!(human(90061), "25h1m1s");
        assert_eq!(human(2 * 86_400 + 43_200), "2d12h");
    }

    /// A new vault in `dir` (cheap KDF) holding `name` = `secret`.
    pub(in crate::grant) fn vault_holding(dir: &Path, name: &str, secret: &[u8]) -> Vault {
        let vault = crate::Config::new(dir.join("v"))
            .kdf(crate::KdfParams::new(8, 1, 1).unwrap())
            .create(&crate::Unlock::passphrase("pw"))
            .unwrap();
        vault.put(name, secret, &crate::PutOptions::new()).unwrap();
        vault
    }

    #[test]
    fn grant_records_hold_no_key_material() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault_holding(dir.path(), "a", b"secret");
        let issued = vault
            .grant(
                &GrantSpec::new(dir.path().join("g.fvg"), "job")
                    .entry("a")
                    .claim_within(Duration::from_secs(60))
                    .use_for(Duration::from_secs(60)),
            )
            .unwrap();
        let token_text = issued.token.unwrap();
        let token = Token::decode(&token_text).unwrap();
        let bytes = std::fs::read(&issued.path).unwrap();
        let parsed = bundle::parse(&bytes).unwrap();
        let Opened::Yes(grant_key) = lock::unlock_token(
            parsed.locks.token.as_ref().unwrap(),
            &token,
            parsed.header_prefix,
        ) else {
            panic!("the token opens its own grant");
        };
        let records = vault
            .direct()
            .unwrap()
            .side_records(crate::format::space::GRANT)
            .unwrap();
        assert_eq!(records.len(), 1);
        let needles: [&[u8]; 3] = [
            token.secret.expose(),
            grant_key.expose(),
            token_text.expose().as_bytes(),
        ];
        for (_, plain) in &records {
            for n in needles {
                assert!(!plain.windows(n.len()).any(|w| w == n));
            }
        }
    }
}
