//! The on-disk format: sled key layout, the vault header, and entry records.
//!
//! Everything lives in sled's default tree, in keyspaces told apart by their
//! first byte, so that every change (including a data-key rotation that
//! rewrites every entry and the header) is one atomic `apply_batch`:
//!
//! | sled key | value |
//! | --- | --- |
//! | `H` | header: `"FVLT" ‖ version:u16 ‖ body_len:u32 ‖ body ‖ sum:32 ‖ mac:32` (version 2; version 1 has no `sum`) |
//! | `E ‖ blind(name):32` | record: `version:u8 ‖ created:u64 ‖ updated:u64 ‖ expires:u64 ‖ nonce:24 ‖ ciphertext ‖ tag:16` |
//! | `X ‖ expires:u64 ‖ blind(name):32` | empty: the expiry index, scanned in time order by purge |
//! | `G ‖ grant_id:16` | a sealed record of an issued job grant |
//! | `T` | clock record: `latest_seen:u64 ‖ mac:32` (version 2) |
//!
//! Integers are big-endian; times are Unix seconds; `expires = 0` means never.
//! `blind(name) = HMAC-SHA256[name_key](name)`, so names never reach the disk in
//! the clear: the name is inside the ciphertext. The header `body` is postcard
//! (`HeaderBody`, then one 16-byte checksum per keyslot);
//! `sum = SHA-256("farmvault/v2/header-sum" ‖ "FVLT" ‖ version ‖ body_len ‖ body)`
//! tells a damaged header (and which keyslot) from a wrong key before any key
//! is known; `mac = HMAC-SHA256[header_key]("FVLT" ‖ version ‖ body_len ‖ body)`
//! authenticates it. docs/FORMAT.md has every field and the upgrade from version 1.
//! A record's plaintext is postcard(`Payload`), sealed with
//! `aad = "farmvault/v1/entry" ‖ vault_id:16 ‖ blind(name):32 ‖ record[0..25]`,
//! which binds the vault, the name, the format version and the times: moving a
//! record to another name or vault, or editing its expiry, fails authentication.

use crate::clock::UnixTime;
use crate::credential::Credential;
use crate::crypto::{checksum, KdfParams, BLIND_LEN, NONCE_LEN, TAG_LEN};
use serde::{Deserialize, Serialize};

/// Magic bytes at the start of the header.
pub const MAGIC: &[u8; 4] = b"FVLT";
/// The header format version this build writes.
pub const FORMAT_VERSION: u16 = 2;
/// The oldest header format version this build reads; an open by a key holder
/// rewrites it as `FORMAT_VERSION`.
pub const OLDEST_FORMAT_VERSION: u16 = 1;
/// The record layout version this build writes and reads.
pub const RECORD_VERSION: u8 = 1;
/// Length of a vault id.
pub const VAULT_ID_LEN: usize = 16;
/// Length of a job grant's id (docs/FORMAT.md, "Job grants").
pub const GRANT_ID_LEN: usize = 16;

/// Keyspace prefixes in the sled tree.
pub mod space {
    /// The header.
    pub const HEADER: &[u8] = b"H";
    /// Entry records.
    pub const ENTRY: u8 = b'E';
    /// The expiry index.
    pub const EXPIRY: u8 = b'X';
    /// Issued grants.
    pub const GRANT: u8 = b'G';
    /// The grant-signing key, sealed like an issued grant's record (added in
    /// grant format 2; a vault has it once it signs its first grant).
    pub const ISSUER: u8 = b'I';
    /// The clock record: the latest time the vault has seen (format version 2).
    pub const CLOCK: &[u8] = b"T";
    /// The number of the last commit applied: the journal's commits numbered
    /// after it are what an abrupt stop kept from the store (format version 2).
    pub const SEQUENCE: &[u8] = b"S";
}

/// Length of the clear prefix of a record (version and the three times).
pub const RECORD_META_LEN: usize = 1 + 8 + 8 + 8;
const HEADER_FIXED_LEN: usize = 4 + 2 + 4;
const HEADER_SUM_LEN: usize = 32;
const HEADER_MAC_LEN: usize = 32;
/// Length of each keyslot's checksum in a version-2 header body.
const SLOT_SUM_LEN: usize = 16;
const HEADER_SUM_LABEL: &[u8] = b"farmvault/v2/header-sum";
const SLOT_SUM_LABEL: &[u8] = b"farmvault/v2/keyslot-sum";
/// Largest header accepted; larger means corrupt.
const MAX_HEADER_LEN: usize = 64 * 1024;
/// Most keyslots a header may hold: a passphrase and a few dozen key files. Each
/// slot tried costs an open some work, so their number is capped like their costs.
pub const MAX_KEYSLOTS: usize = 32;

/// How a keyslot derives the key that wraps the data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotKind {
    /// `kek = argon2id(passphrase, salt; kdf)`.
    Passphrase {
        /// Argon2id costs.
        kdf: KdfParams,
        /// Random salt.
        salt: [u8; 16],
    },
    /// `kek = HKDF(key_file, salt)`.
    KeyFile {
        /// Random salt.
        salt: [u8; 16],
    },
}

/// One keyslot: the data key sealed under a key-encryption key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyslot {
    /// Unique within the vault; never reused.
    pub id: u32,
    /// How the wrapping key is derived.
    pub kind: SlotKind,
    /// `HKDF(kek, "kek-check")[..16]`: tells a wrong passphrase or key file
    /// (check differs) from a damaged slot (check matches, unwrap fails).
    pub check: [u8; 16],
    /// `seal[kek](dek, aad = "farmvault/v1/keyslot" ‖ vault_id ‖ id)`.
    pub wrapped_dek: Vec<u8>,
}

/// The header body (postcard). Field order is format: append only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderBody {
    /// Random id of this vault, bound into every record's AAD.
    pub vault_id: [u8; VAULT_ID_LEN],
    /// When the vault was created.
    pub created: u64,
    /// Incremented by every data-key rotation.
    pub dek_generation: u32,
    /// Next keyslot id to hand out.
    pub next_slot_id: u32,
    /// The keyslots; at least one.
    pub slots: Vec<Keyslot>,
    /// Limits on the job grants this vault issues.
    pub grant_policy: GrantPolicy,
}

/// Vault-wide caps on job grants: neither clock of a grant may be unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantPolicy {
    /// Longest claim-by window (from issue to first open), in seconds.
    pub max_claim_secs: u64,
    /// Longest use window (from first open), in seconds.
    pub max_use_secs: u64,
}

impl Default for GrantPolicy {
    /// 7 days to claim, 24 hours of use: a long queue, one working day on the farm.
    fn default() -> Self {
        GrantPolicy {
            max_claim_secs: 7 * 24 * 3600,
            max_use_secs: 24 * 3600,
        }
    }
}

impl GrantPolicy {
    /// The longest either limit may be set to: 366 days. A grant is a bearer
    /// credential that cannot be recalled, so the caps on it have a ceiling too.
    pub const MAX_LIMIT_SECS: u64 = 366 * 24 * 3600;
}

/// Why a header could not be decoded (becomes `Error::Corrupt`).
pub type FormatError = String;

/// The format version a stored header says it is, if it is long enough to say.
pub fn header_version(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(4..6)?.try_into().ok()?))
}

/// A keyslot's checksum in a version-2 header.
fn slot_sum(slot: &Keyslot) -> [u8; SLOT_SUM_LEN] {
    let encoded = postcard::to_allocvec(slot).expect("a keyslot always serialises");
    checksum(SLOT_SUM_LABEL, &[&encoded])[..SLOT_SUM_LEN]
        .try_into()
        .expect("16 of 32 bytes")
}

/// Splits a stored header into (body, authenticated bytes, mac), checking magic,
/// version, lengths, the checksum (version 2) and the caps on keyslots. The MAC
/// is checked later, once the data key is known. Reads versions
/// `OLDEST_FORMAT_VERSION` to `FORMAT_VERSION`.
pub fn decode_header(bytes: &[u8]) -> Result<(HeaderBody, &[u8], &[u8]), FormatError> {
    if bytes.len() < HEADER_FIXED_LEN + HEADER_MAC_LEN {
        return Err(format!("header is truncated ({} bytes)", bytes.len()));
    }
    if bytes.len() > MAX_HEADER_LEN {
        return Err(format!(
            "header is implausibly large ({} bytes)",
            bytes.len()
        ));
    }
    if &bytes[..4] != MAGIC {
        return Err("header magic is not FVLT: not a farmvault vault, or damaged".into());
    }
    let version = u16::from_be_bytes([bytes[4], bytes[5]]);
    let sum_len = match version {
        1 => 0,
        2 => HEADER_SUM_LEN,
        v if v > FORMAT_VERSION => {
            return Err(format!(
                "the vault is format version {v}, newer than this build of farmvault reads \
                 (versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}): upgrade farmvault to open it"
            ))
        }
        v => {
            return Err(format!(
                "format version {v} is not supported by this build (it reads versions \
                 {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION})"
            ))
        }
    };
    let body_len = u32::from_be_bytes(bytes[6..10].try_into().expect("4 bytes")) as usize;
    if HEADER_FIXED_LEN + body_len + sum_len + HEADER_MAC_LEN != bytes.len() {
        return Err(format!(
            "header length mismatch: body says {body_len} bytes, file holds {}",
            bytes
                .len()
                .saturating_sub(HEADER_FIXED_LEN + sum_len + HEADER_MAC_LEN)
        ));
    }
    let (authed, rest) = bytes.split_at(HEADER_FIXED_LEN + body_len);
    let (sum, mac) = rest.split_at(sum_len);
    let body_bytes = &authed[HEADER_FIXED_LEN..];
    let body = if version == 1 {
        postcard::from_bytes::<HeaderBody>(body_bytes)
            .map_err(|e| format!("header body is unreadable: {e}"))?
    } else {
        let decoded = postcard::from_bytes::<(HeaderBody, Vec<[u8; SLOT_SUM_LEN]>)>(body_bytes);
        if checksum(HEADER_SUM_LABEL, &[authed]) != sum {
            return Err(damage_in(decoded.ok()));
        }
        let (body, sums) = decoded.map_err(|e| format!("header body is unreadable: {e}"))?;
        if sums.len() != body.slots.len() {
            return Err(format!(
                "header holds {} keyslot checksums for {} keyslots",
                sums.len(),
                body.slots.len()
            ));
        }
        body
    };
    if body.slots.is_empty() {
        return Err("header has no keyslots".into());
    }
    check_slot_caps(&body.slots)?;
    Ok((body, authed, mac))
}

/// What a header whose checksum does not match says about where it is damaged:
/// the keyslot whose own checksum no longer matches, when the body still decodes.
fn damage_in(decoded: Option<(HeaderBody, Vec<[u8; SLOT_SUM_LEN]>)>) -> FormatError {
    const NOT_A_KEY: &str =
        "the file changed on disk; a wrong passphrase or key file would not do this";
    if let Some((body, sums)) = decoded {
        if let Some(slot) = body
            .slots
            .iter()
            .zip(&sums)
            .find(|(slot, sum)| slot_sum(slot) != **sum)
            .map(|(slot, _)| slot)
        {
            return format!(
                "keyslot {} is damaged: its checksum does not match ({NOT_A_KEY})",
                slot.id
            );
        }
    }
    format!("the header is damaged: its checksum does not match ({NOT_A_KEY})")
}

/// The bounds on the work an open spends before anything is authenticated: each
/// passphrase slot's Argon2id costs, the number of slots, and the costs of all
/// passphrase slots together (`KdfParams::MAX_OPEN_WORK`). Checked on every
/// header read, before any KDF runs, and before a header with a new slot is written.
pub fn check_slot_caps(slots: &[Keyslot]) -> Result<(), FormatError> {
    if slots.len() > MAX_KEYSLOTS {
        return Err(format!(
            "header field keyslots holds {} slots; at most {MAX_KEYSLOTS} are accepted",
            slots.len()
        ));
    }
    let mut work = 0u64;
    for slot in slots {
        if let SlotKind::Passphrase { kdf, .. } = &slot.kind {
            kdf.check()
                .map_err(|e| format!("keyslot {}: {e}", slot.id))?;
            work += kdf.work();
        }
    }
    if work > KdfParams::MAX_OPEN_WORK {
        return Err(format!(
            "header field keyslots asks for {work} KiB-passes of Argon2id across its passphrase slots; one open spends at most {}",
            KdfParams::MAX_OPEN_WORK
        ));
    }
    Ok(())
}

/// Encodes a header body as `FORMAT_VERSION`; `mac` computes the MAC over the
/// authenticated prefix (`"FVLT"` to the end of the body).
pub fn encode_header(body: &HeaderBody, mac: impl FnOnce(&[u8]) -> [u8; 32]) -> Vec<u8> {
    let sums: Vec<[u8; SLOT_SUM_LEN]> = body.slots.iter().map(slot_sum).collect();
    let encoded = postcard::to_allocvec(&(body, sums)).expect("a header always serialises");
    let mut out =
        Vec::with_capacity(HEADER_FIXED_LEN + encoded.len() + HEADER_SUM_LEN + HEADER_MAC_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
    out.extend_from_slice(&encoded);
    let sum = checksum(HEADER_SUM_LABEL, &[&out]);
    let tag = mac(&out);
    out.extend_from_slice(&sum);
    out.extend_from_slice(&tag);
    out
}

const CLOCK_LABEL: &[u8] = b"farmvault/v2/clock";
const CLOCK_LEN: usize = 8 + 32;

/// The clock record `T`: `latest_seen:u64 ‖ mac:32`, where `mac` is computed by
/// `mac` over `("farmvault/v2/clock", latest_seen)` (the header key's HMAC).
pub fn encode_clock(latest_seen: u64, mac: impl FnOnce(&[&[u8]]) -> [u8; 32]) -> Vec<u8> {
    let secs = latest_seen.to_be_bytes();
    let mut out = secs.to_vec();
    out.extend_from_slice(&mac(&[CLOCK_LABEL, &secs]));
    out
}

/// Splits a clock record into its time and the MAC to verify with `verify`,
/// which is handed the same parts `encode_clock` MACs. `None` when it is not
/// a well-formed, authentic record.
pub fn decode_clock(bytes: &[u8], verify: impl FnOnce(&[&[u8]], &[u8]) -> bool) -> Option<u64> {
    if bytes.len() != CLOCK_LEN {
        return None;
    }
    let (secs, mac) = bytes.split_at(8);
    verify(&[CLOCK_LABEL, secs], mac).then(|| u64::from_be_bytes(secs.try_into().expect("8 bytes")))
}

/// AAD binding a keyslot's wrapped key to its vault and slot id.
pub fn keyslot_aad(vault_id: &[u8; VAULT_ID_LEN], slot_id: u32) -> Vec<u8> {
    let mut aad = b"farmvault/v1/keyslot".to_vec();
    aad.extend_from_slice(vault_id);
    aad.extend_from_slice(&slot_id.to_be_bytes());
    aad
}

/// The clear, authenticated times of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    /// When the entry was first stored.
    pub created: UnixTime,
    /// When the entry was last written (put or renew).
    pub updated: UnixTime,
    /// When it expires, if ever.
    pub expires: Option<UnixTime>,
}

impl RecordMeta {
    /// The 25-byte clear prefix of a record.
    pub fn encode(&self) -> [u8; RECORD_META_LEN] {
        let mut out = [0u8; RECORD_META_LEN];
        out[0] = RECORD_VERSION;
        out[1..9].copy_from_slice(&self.created.0.to_be_bytes());
        out[9..17].copy_from_slice(&self.updated.0.to_be_bytes());
        out[17..25].copy_from_slice(&self.expires.map_or(0, |e| e.0).to_be_bytes());
        out
    }

    /// Reads the clear prefix of a stored record (unauthenticated until the record is opened).
    pub fn decode(record: &[u8]) -> Result<RecordMeta, FormatError> {
        if record.len() < RECORD_META_LEN + NONCE_LEN + TAG_LEN {
            return Err(format!("record is truncated ({} bytes)", record.len()));
        }
        if record[0] != RECORD_VERSION {
            return Err(format!(
                "record version {} is not supported (this build reads {RECORD_VERSION})",
                record[0]
            ));
        }
        let u = |r: std::ops::Range<usize>| {
            u64::from_be_bytes(record[r].try_into().expect("8-byte field"))
        };
        let expires = u(17..25);
        Ok(RecordMeta {
            created: UnixTime(u(1..9)),
            updated: UnixTime(u(9..17)),
            expires: (expires != 0).then_some(UnixTime(expires)),
        })
    }
}

/// AAD of an entry record.
pub fn entry_aad(
    vault_id: &[u8; VAULT_ID_LEN],
    blind: &[u8; BLIND_LEN],
    meta: &[u8; RECORD_META_LEN],
) -> [u8; 18 + VAULT_ID_LEN + BLIND_LEN + RECORD_META_LEN] {
    let mut aad = [0u8; 18 + VAULT_ID_LEN + BLIND_LEN + RECORD_META_LEN];
    aad[..18].copy_from_slice(b"farmvault/v1/entry");
    aad[18..34].copy_from_slice(vault_id);
    aad[34..66].copy_from_slice(blind);
    aad[66..].copy_from_slice(meta);
    aad
}

/// The plaintext inside a record. Field order is format: append only.
#[derive(Serialize, Deserialize)]
pub struct Payload {
    /// The entry name (only ever stored encrypted).
    pub name: String,
    /// The credential.
    pub credential: Credential,
}

/// A borrowed `Payload` for sealing: serde writes `&str` as `String` and `&T` as
/// `T`, so its postcard bytes are exactly `Payload`'s (a unit test holds them
/// equal) without copying the name and the secret first. Keep the fields in step.
#[derive(Serialize)]
pub(crate) struct PayloadRef<'a> {
    pub name: &'a str,
    pub credential: &'a Credential,
}

/// The sled key of an entry.
pub fn entry_key(blind: &[u8; BLIND_LEN]) -> [u8; 1 + BLIND_LEN] {
    let mut k = [0u8; 1 + BLIND_LEN];
    k[0] = space::ENTRY;
    k[1..].copy_from_slice(blind);
    k
}

/// The sled key of an expiry-index item.
pub fn expiry_key(expires: UnixTime, blind: &[u8; BLIND_LEN]) -> [u8; 9 + BLIND_LEN] {
    let mut k = [0u8; 9 + BLIND_LEN];
    k[0] = space::EXPIRY;
    k[1..9].copy_from_slice(&expires.0.to_be_bytes());
    k[9..].copy_from_slice(blind);
    k
}

/// Splits an expiry-index key into (expires, blind).
pub fn decode_expiry_key(key: &[u8]) -> Option<(UnixTime, [u8; BLIND_LEN])> {
    if key.len() != 9 + BLIND_LEN || key[0] != space::EXPIRY {
        return None;
    }
    let t = u64::from_be_bytes(key[1..9].try_into().ok()?);
    Some((UnixTime(t), key[9..].try_into().ok()?))
}

/// Lower-case hex, for on-disk ids in messages and the audit log.
pub(crate) fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// The bytes a hex string spells (either case); `None` for anything else.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    base16ct::mixed::decode_vec(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> HeaderBody {
        HeaderBody {
            vault_id: [3; 16],
            created: 5,
            dek_generation: 0,
            next_slot_id: 1,
            slots: vec![Keyslot {
                id: 0,
                kind: SlotKind::KeyFile { salt: [1; 16] },
                check: [2; 16],
                wrapped_dek: vec![9; 72],
            }],
            grant_policy: GrantPolicy::default(),
        }
    }

    #[test]
    fn header_round_trip_and_damage() {
        let bytes = encode_header(&body(), |_| [7; 32]);
        let (b, authed, mac) = decode_header(&bytes).unwrap();
        assert_eq!(b, body());
        assert_eq!(mac, &[7; 32]);
        assert_eq!(authed.len() + 32 + 32, bytes.len());
        for cut in [0, 5, 20, bytes.len() - 1] {
            assert!(decode_header(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(decode_header(&bad).unwrap_err().contains("magic"));
        let mut newer = bytes.clone();
        newer[5] = 9;
        assert!(decode_header(&newer).unwrap_err().contains("version 9"));
    }

    /// A version-1 header, as farmvault 0.1.0 wrote it: no checksums.
    fn v1_header(body: &HeaderBody) -> Vec<u8> {
        let encoded = postcard::to_allocvec(body).unwrap();
        let mut out = b"FVLT".to_vec();
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
        out.extend_from_slice(&encoded);
        out.extend_from_slice(&[7; 32]);
        out
    }

    #[test]
    fn version_1_headers_still_decode_and_version_2_is_written() {
        let old = v1_header(&body());
        assert_eq!(header_version(&old), Some(1));
        let (b, authed, mac) = decode_header(&old).unwrap();
        assert_eq!(b, body());
        assert_eq!(authed.len() + 32, old.len());
        assert_eq!(mac, &[7; 32]);
        let new = encode_header(&body(), |_| [7; 32]);
        assert_eq!(header_version(&new), Some(FORMAT_VERSION));
    }

    #[test]
    fn a_flipped_byte_names_the_damage_before_any_key_is_known() {
        let bytes = encode_header(&body(), |_| [7; 32]);
        let body_len = u32::from_be_bytes(bytes[6..10].try_into().unwrap()) as usize;
        // The last byte of the keyslot's wrapped key: the body still decodes.
        let wrapped_end = 10 + postcard::to_allocvec(&body()).unwrap().len() - 17;
        let mut in_slot = bytes.clone();
        in_slot[wrapped_end] ^= 1;
        let why = decode_header(&in_slot).unwrap_err();
        assert!(why.contains("keyslot 0 is damaged"), "{why}");
        // The vault id, outside every keyslot.
        let mut outside = bytes.clone();
        outside[11] ^= 1;
        let why = decode_header(&outside).unwrap_err();
        assert!(why.starts_with("the header is damaged"), "{why}");
        // The checksum itself.
        let mut in_sum = bytes.clone();
        in_sum[10 + body_len] ^= 1;
        assert!(decode_header(&in_sum).unwrap_err().contains("damaged"));
        // The MAC is not covered by the checksum: a flip there is for the key to find.
        let mut in_mac = bytes.clone();
        *in_mac.last_mut().unwrap() ^= 1;
        assert!(decode_header(&in_mac).is_ok());
    }

    #[test]
    fn payload_ref_encodes_as_payload() {
        use crate::credential::ScriptKey;
        for credential in [
            Credential::Opaque(crate::SecretBytes::from_slice(&[1, 2, 3, 255])),
            Credential::ScriptKey(ScriptKey {
                host: "https://site.example".into(),
                script_name: "farm".into(),
                api_key: "k3y".into(),
                http_proxy: Some("proxy:8080".into()),
            }),
        ] {
            let owned = Payload {
                name: "shotgun/render_farm".into(),
                credential: credential.clone(),
            };
            let borrowed = PayloadRef {
                name: "shotgun/render_farm",
                credential: &credential,
            };
            assert_eq!(
                postcard::to_allocvec(&owned).unwrap(),
                postcard::to_allocvec(&borrowed).unwrap()
            );
        }
    }

    /// The credential variants appended after 0.1.0 encode as docs/FORMAT.md says,
    /// and the earlier ones as they always did.
    #[test]
    fn appended_credential_kinds_encode_as_documented() {
        use crate::credential::{FlowToken, ScriptKey, TankContext};
        let key = Credential::ScriptKey(ScriptKey {
            host: "h".into(),
            script_name: "s".into(),
            api_key: "k".into(),
            http_proxy: None,
        });
        assert_eq!(
            postcard::to_allocvec(&key).unwrap(),
            [1, 1, b'h', 1, b's', 1, b'k', 0]
        );
        let flow = Credential::FlowToken(FlowToken {
            app_id: "A".into(),
            profile: "p".into(),
            access_token: "t".into(),
            refresh_token: None,
        });
        let bytes = postcard::to_allocvec(&flow).unwrap();
        assert_eq!(bytes, [5, 1, b'A', 1, b'p', 1, b't', 0]);
        assert_eq!(postcard::from_bytes::<Credential>(&bytes).unwrap(), flow);
        let context =
            Credential::TankContext(TankContext::new(key, crate::SecretBytes::from_slice(b"{}")));
        let bytes = postcard::to_allocvec(&context).unwrap();
        assert_eq!(bytes, [4, 1, 1, b'h', 1, b's', 1, b'k', 0, 2, b'{', b'}']);
        assert_eq!(postcard::from_bytes::<Credential>(&bytes).unwrap(), context);
    }

    #[test]
    fn record_meta_round_trip() {
        let m = RecordMeta {
            created: UnixTime(1),
            updated: UnixTime(2),
            expires: Some(UnixTime(3)),
        };
        let mut rec = m.encode().to_vec();
        rec.extend_from_slice(&[0; NONCE_LEN + TAG_LEN]);
        assert_eq!(RecordMeta::decode(&rec).unwrap(), m);
        assert!(RecordMeta::decode(&rec[..30]).is_err());
        let k = expiry_key(UnixTime(42), &[5; 32]);
        assert_eq!(decode_expiry_key(&k), Some((UnixTime(42), [5; 32])));
    }
}
