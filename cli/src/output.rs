//! What `farmvault` prints: times, the `list` table, and the `--json` shapes.
//!
//! # JSON shapes (stable: fields are only ever added)
//!
//! Times are given twice: unix seconds (`created`) and an RFC 3339 UTC string
//! (`created_at`). A missing value is `null`, never an absent key.
//!
//! An entry's metadata (`list`, `check`, `renew`, `get`):
//! ```json
//! {"name": "shotgun/render_farm", "kind": "script_key", "host": "https://site.shotgrid.autodesk.com",
//!  "created": 1700000000, "created_at": "2023-11-14T22:13:20Z",
//!  "updated": 1700000000, "updated_at": "2023-11-14T22:13:20Z",
//!  "expires": null, "expires_at": null, "expired": false}
//! ```
//! `list --json`: `{"now": 1700000000, "now_at": "...", "entries": [META, ...]}`
//!
//! `get NAME --json`: META plus `"fields"`, the credential's fields by their
//! Toolkit names, unset ones `null`:
//! - script_key: `host`, `api_script`, `api_key`, `http_proxy`
//! - session_token: `host`, `login`, `session_token`, `http_proxy`, `session_metadata`
//! - login_password: `host`, `login`, `password`, `http_proxy`
//! - tank_context: its user's (script_key or session_token), then `tank_context` and
//!   `tank_context_encoding` (`"utf-8"`, or `"base64"` for a pickle's raw Latin-1 bytes)
//! - flow_token: `app_id`, `profile`, `access_token`, `refresh_token`
//! - opaque: `secret` and `secret_encoding` (`"utf-8"`, or `"base64"` when the bytes are not UTF-8)
//!
//! `get NAME --field F --json`: `{"name": "...", "field": "api_key", "value": "...", "encoding": "utf-8"}`
//!
//! `check --json`: `{"now": ..., "now_at": "...", "ok": false, "expired": [META...],
//! "expiring": [META...], "damaged": ["<on-disk id>", ...]}`
//!
//! `put`, `import-sgtk` and `renew --json`: the entry's META.
//!
//! `rm --json`: `{"removed": "shotgun/render_farm"}`; `purge --json`: `{"purged": 3}`
//!
//! `init --json`: `{"vault": "<path>", "unlock": "passphrase" | "key_file",
//! "key_file": "<path>" | null, "generated_key_file": false}`
//!
//! `passwd --json`: `{"vault": "<path>", "keyslots": [SLOT, ...]}`, a SLOT being
//! `{"id": 0, "kind": "passphrase" | "key_file"}`; `key-file add|remove --json`:
//! `{"vault", "key_file", "action": "added" | "removed", "keyslots"}`;
//! `rotate --json`: `{"vault", "entries": 12, "keyslots"}`
//!
//! `export-sgtk --json`: `{"name", "kind", "value", "encoding"}` (what tk-core reads,
//! `"utf-8"` or `"base64"` for a pickle's raw bytes)
//!
//! `import-session-cache --json`: `{"imported": ["shotgun/site/jdoe", ...],
//! "removed": [{"site": "mysite", "file": "<path>", "tokens": 1}, ...]}`
//!
//! `import-flow-tokens --json`: `{"file": "<path>", "imported": ["flow/<app>/<profile>", ...],
//! "skipped": [{"app_id": "...", "profile": "...", "reason": "..."}, ...], "removed": 1}`
//!
//! A grant (`grants`, `grant`, `grant-info`), never its token:
//! ```json
//! {"id": "<32 hex>", "label": "job-4711", "issuer": "<vault id, hex>",
//!  "created": 1700000000, "created_at": "...", "claim_by": 1700259200, "claim_by_at": "...",
//!  "use_window_secs": 14400, "ends_by": 1700273600, "ends_by_at": "...",
//!  "host_pattern": "render*", "access": "token", "recipients": 0,
//!  "entry_count": 2, "entries": ["shotgun/render_farm", "shotgun/publish"]}
//! ```
//! `access` is `token`, `recipient`, `token_or_recipient` or `token_and_recipient`;
//! `ends_by` is the latest the grant can read (`claim_by` + the use window);
//! `entries` is `null` when read from a bundle's header (the names are sealed).
//!
//! `grants --json`: `{"now": ..., "now_at": "...", "grants": [GRANT, ...]}`
//!
//! `grant --json`: GRANT plus `"path"` (the bundle) and `"token"` (`null` for a
//! recipient-only grant). `grant-info --json`: GRANT plus `"path"` and
//! `"authenticated": false` (a header read without a key proves nothing).
//!
//! `farm-keygen --json`: `{"identity": "<path>", "public_key": "age1..."}`
//!
//! `grant-policy --json`: `{"max_claim_secs": 604800, "max_use_secs": 86400}`

use crate::duration::human;
pub use crate::error::rfc3339;
use base64ct::Encoding;
use farmvault::audit::{AuditRecord, AuditReport};
use farmvault::grant::GrantInfo;
use farmvault::{Credential, EntryMeta, RecoveryReport, SlotInfo, UnixTime};
use serde::Serialize;
use std::time::Duration;
use zeroize::Zeroizing;

/// `in 7h 59m` or `3d 2h ago`.
pub fn relative(now: UnixTime, t: UnixTime) -> String {
    if t >= now {
        format!("in {}", human(t.0 - now.0))
    } else {
        format!("{} ago", human(now.0 - t.0))
    }
}

/// A time as the tables show it: `in 8h (2023-...Z)` or `5m ago (2023-...Z)`.
pub fn when(now: UnixTime, t: UnixTime) -> String {
    format!("{} ({})", relative(now, t), rfc3339(t.0))
}

/// The expiry column of the table: `never`, `in 8h (2023-...Z)`, `EXPIRED 5m ago (...)`.
pub fn expiry_cell(now: UnixTime, expires: Option<UnixTime>) -> String {
    match expires {
        None => "never".into(),
        Some(e) if e <= now => format!("EXPIRED {}", when(now, e)),
        Some(e) => when(now, e),
    }
}

/// `expires in 8h (2024-...Z)` / `never expires`.
pub fn expiry_phrase(now: UnixTime, expires: Option<UnixTime>) -> String {
    match expires {
        None => "never expires".into(),
        Some(e) => format!("expires {}", expiry_cell(now, Some(e))),
    }
}

/// Whether `m` is expired, or expires within `within` of `now`.
pub fn expiring(m: &EntryMeta, now: UnixTime, within: Duration) -> bool {
    m.expires.is_some_and(|e| e <= now.plus(within))
}

/// What `backup --verify`, `restore` and `repair` report with `--json`.
pub fn recovery_json(r: &RecoveryReport) -> serde_json::Value {
    serde_json::json!({
        "entries": r.entries,
        "snapshot_items": r.snapshot_items,
        "journal_frames": r.journal_frames,
        "ignored_journal_bytes": r.ignored_journal_bytes,
        "journal_skipped": r.journal_skipped,
        "moved_aside": r.moved_aside.as_ref().map(|p| p.display().to_string()),
    })
}

/// A vault's keyslots as `passwd`, `key-file` and `rotate` report them with
/// `--json`: `[{"id": 0, "kind": "passphrase"}, {"id": 1, "kind": "key_file"}]`.
pub fn keyslots_json(slots: &[SlotInfo]) -> serde_json::Value {
    slots
        .iter()
        .map(|s| serde_json::json!({ "id": s.id, "kind": s.kind }))
        .collect()
}

/// `1 entry`, `3 entries`.
pub fn entry_count(n: u64) -> String {
    format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
}

/// An entry's metadata, as every `--json` shape carries it.
#[derive(Serialize)]
pub struct MetaJson {
    name: String,
    kind: &'static str,
    host: Option<String>,
    created: u64,
    created_at: String,
    updated: u64,
    updated_at: String,
    expires: Option<u64>,
    expires_at: Option<String>,
    expired: bool,
}

impl MetaJson {
    /// From the core's metadata, judged at `now`.
    pub fn new(m: &EntryMeta, now: UnixTime) -> MetaJson {
        MetaJson {
            name: m.name.clone(),
            kind: m.kind.as_str(),
            host: m.host.clone(),
            created: m.created.0,
            created_at: rfc3339(m.created.0),
            updated: m.updated.0,
            updated_at: rfc3339(m.updated.0),
            expires: m.expires.map(|e| e.0),
            expires_at: m.expires.map(|e| rfc3339(e.0)),
            expired: m.is_expired_at(now),
        }
    }
}

/// `list --json`.
#[derive(Serialize)]
pub struct ListJson {
    /// Now, unix seconds.
    pub now: u64,
    /// Now, RFC 3339.
    pub now_at: String,
    /// The entries, sorted by name.
    pub entries: Vec<MetaJson>,
}

/// `check --json`.
#[derive(Serialize)]
pub struct CheckJson {
    /// Now, unix seconds.
    pub now: u64,
    /// Now, RFC 3339.
    pub now_at: String,
    /// True when nothing is expired, expiring or damaged.
    pub ok: bool,
    /// Entries past their expiry.
    pub expired: Vec<MetaJson>,
    /// Entries expiring within the window.
    pub expiring: Vec<MetaJson>,
    /// On-disk ids of entries that fail authentication.
    pub damaged: Vec<String>,
}

/// Text of secret bytes for JSON: UTF-8 as is, anything else base64. The string
/// wipes itself on drop.
pub fn text_of(bytes: &[u8]) -> (Zeroizing<String>, &'static str) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Zeroizing::new(s.to_owned()), "utf-8"),
        Err(_) => (
            Zeroizing::new(base64ct::Base64::encode_string(bytes)),
            "base64",
        ),
    }
}

/// A credential's fields in the Toolkit's order; values wipe themselves on drop.
struct FieldsJson(Vec<(&'static str, Option<Zeroizing<String>>)>);

impl Serialize for FieldsJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, &v.as_ref().map(|v| v.as_str()))?;
        }
        map.end()
    }
}

/// `get --json` (without `--field`): the metadata, then `fields`.
#[derive(Serialize)]
struct EntryJson {
    #[serde(flatten)]
    meta: MetaJson,
    fields: FieldsJson,
}

/// `get --json` without `--field`: metadata plus every field, serialised into a
/// self-wiping string.
pub fn entry_json(meta: &EntryMeta, credential: &Credential, now: UnixTime) -> Zeroizing<String> {
    let out = EntryJson {
        meta: MetaJson::new(meta, now),
        fields: FieldsJson(fields_json(credential)),
    };
    Zeroizing::new(serde_json::to_string(&out).expect("an entry serialises"))
}

/// A credential's fields by their Toolkit names, each in a self-wiping string.
fn fields_json(credential: &Credential) -> Vec<(&'static str, Option<Zeroizing<String>>)> {
    let s = |v: &str| Some(Zeroizing::new(v.to_owned()));
    let opt = |v: &Option<farmvault::SecretString>| v.as_ref().and_then(|v| s(v.expose()));
    match credential {
        Credential::ScriptKey(c) => vec![
            ("host", s(&c.host)),
            ("api_script", s(&c.script_name)),
            ("api_key", s(c.api_key.expose())),
            ("http_proxy", opt(&c.http_proxy)),
        ],
        Credential::SessionToken(c) => vec![
            ("host", s(&c.host)),
            ("login", s(&c.login)),
            ("session_token", s(c.session_token.expose())),
            ("http_proxy", opt(&c.http_proxy)),
            ("session_metadata", opt(&c.session_metadata)),
        ],
        Credential::LoginPassword(c) => vec![
            ("host", s(&c.host)),
            ("login", s(&c.login)),
            ("password", s(c.password.expose())),
            ("http_proxy", opt(&c.http_proxy)),
        ],
        // The user's fields, then the context, as text or base64 like opaque bytes.
        Credential::TankContext(c) => {
            let mut fields = fields_json(c.user());
            let (text, encoding) = text_of(c.payload());
            fields.push(("tank_context", Some(text)));
            fields.push(("tank_context_encoding", s(encoding)));
            fields
        }
        Credential::FlowToken(c) => vec![
            ("app_id", s(&c.app_id)),
            ("profile", s(&c.profile)),
            ("access_token", s(c.access_token.expose())),
            ("refresh_token", opt(&c.refresh_token)),
        ],
        other => {
            let (text, encoding) = text_of(other.secret());
            vec![("secret", Some(text)), ("secret_encoding", s(encoding))]
        }
    }
}

/// Overwrites every string inside `v` before it drops (serde_json's strings do not wipe themselves).
pub fn wipe_value(mut v: serde_json::Value) {
    use zeroize::Zeroize;
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => s.zeroize(),
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
}

/// The `list` table: name, kind, host, created, expires. Never secrets.
pub fn table(entries: &[EntryMeta], now: UnixTime) -> String {
    let rows = entries.iter().map(|m| {
        [
            printable(&m.name),
            m.kind.as_str().to_owned(),
            m.host.as_deref().map_or_else(|| "-".into(), printable),
            rfc3339(m.created.0),
            expiry_cell(now, m.expires),
        ]
    });
    columns(["NAME", "KIND", "HOST", "CREATED", "EXPIRES"], rows)
}

/// The `grants` table: id, label, created, claim-by, use window, latest end,
/// hosts, access, entries. Never tokens.
pub fn grants_table(grants: &[GrantInfo], now: UnixTime) -> String {
    let rows = grants.iter().map(|i| {
        [
            i.id.to_hex(),
            printable(&i.label),
            rfc3339(i.created.0),
            when(now, i.claim_by),
            human(i.use_window.as_secs()),
            when(now, i.latest_end()),
            i.host_pattern.clone().unwrap_or_else(|| "any".into()),
            access_phrase(i),
            printable(&i.entries.as_deref().unwrap_or_default().join(",")),
        ]
    });
    columns(
        [
            "ID", "LABEL", "CREATED", "CLAIM BY", "USE FOR", "ENDS BY", "HOSTS", "ACCESS",
            "ENTRIES",
        ],
        rows,
    )
}

/// The `audit` table: time, operation, entries, result, uid, pid, executable.
pub fn audit_table(records: &[&AuditRecord]) -> String {
    let dash = || "-".to_owned();
    let rows = records.iter().map(|r| {
        [
            rfc3339(r.time),
            r.op.as_str().to_owned(),
            if r.entries.is_empty() {
                dash()
            } else {
                printable(&r.entries.join(","))
            },
            printable(&r.result),
            r.uid.map_or_else(dash, |u| u.to_string()),
            r.pid.map_or_else(dash, |p| p.to_string()),
            r.exe.as_deref().map_or_else(dash, printable),
        ]
    });
    columns(
        ["TIME", "OP", "ENTRIES", "RESULT", "UID", "PID", "EXE"],
        rows,
    )
}

/// `audit --json`: the report's verdict and the chosen records, each with its
/// time also as RFC 3339 (`at`).
pub fn audit_json(report: &AuditReport, records: &[&AuditRecord]) -> serde_json::Value {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("a record serialises");
            v["at"] = rfc3339(r.time).into();
            v
        })
        .collect();
    serde_json::json!({
        "verified": report.problem.is_none(),
        "problem": report.problem,
        "durable_lines": report.durable_lines,
        "torn_tail": report.torn_tail,
        "records": records,
    })
}

/// Left-aligned columns two spaces apart, the last one unpadded.
fn columns<const N: usize>(
    header: [&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> String {
    let rows: Vec<[String; N]> = rows.into_iter().collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

/// `s` with control and bidi characters escaped (`\u{1b}`, `\u{202e}`): a
/// bundle's header is read before anything authenticates it, and entries stored
/// before farmvault refused such names and hosts still hold them, so no value
/// printed for a human may drive the terminal or reorder what it shows.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if farmvault::is_control_or_bidi(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `token`, `farm identity (2 keys)`, `token or farm identity (1 key)`, `token and farm identity (1 key)`.
pub fn access_phrase(i: &GrantInfo) -> String {
    use farmvault::grant::GrantAccess;
    let keys = format!(
        "({} key{})",
        i.recipients,
        if i.recipients == 1 { "" } else { "s" }
    );
    match i.access {
        GrantAccess::Token => "token".into(),
        GrantAccess::Recipient => format!("farm identity {keys}"),
        GrantAccess::TokenOrRecipient => format!("token or farm identity {keys}"),
        GrantAccess::TokenAndRecipient => format!("token and farm identity {keys}"),
        other => other.as_str().into(),
    }
}

/// A grant, as every grant `--json` shape carries it (see the module docs).
#[derive(Serialize)]
pub struct GrantJson {
    id: String,
    label: String,
    issuer: String,
    created: u64,
    created_at: String,
    claim_by: u64,
    claim_by_at: String,
    use_window_secs: u64,
    ends_by: u64,
    ends_by_at: String,
    host_pattern: Option<String>,
    access: &'static str,
    recipients: u32,
    entry_count: u32,
    entries: Option<Vec<String>>,
    /// The issuer key the bundle names as its signer (`fvi1_…`); null for an
    /// unsigned (format 1) grant.
    signer: Option<String>,
}

impl GrantJson {
    /// From the core's description of a grant.
    pub fn new(i: &GrantInfo) -> GrantJson {
        let end = i.latest_end();
        GrantJson {
            id: i.id.to_hex(),
            label: i.label.clone(),
            issuer: i.issuer.iter().map(|b| format!("{b:02x}")).collect(),
            created: i.created.0,
            created_at: rfc3339(i.created.0),
            claim_by: i.claim_by.0,
            claim_by_at: rfc3339(i.claim_by.0),
            use_window_secs: i.use_window.as_secs(),
            ends_by: end.0,
            ends_by_at: rfc3339(end.0),
            host_pattern: i.host_pattern.clone(),
            access: i.access.as_str(),
            recipients: i.recipients,
            entry_count: i.entry_count,
            entries: i.entries.clone(),
            signer: i.signer.map(|k| k.to_string()),
        }
    }
}

/// `grants --json`.
#[derive(Serialize)]
pub struct GrantsJson {
    /// Now, unix seconds.
    pub now: u64,
    /// Now, RFC 3339.
    pub now_at: String,
    /// The grants, oldest first.
    pub grants: Vec<GrantJson>,
}

/// `grant --json` and `grant-info --json`: a grant plus what only that command knows.
#[derive(Serialize)]
pub struct GrantWith<T: Serialize> {
    /// The grant.
    #[serde(flatten)]
    pub grant: GrantJson,
    /// `{path, token}` or `{path, authenticated}`.
    #[serde(flatten)]
    pub extra: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_both_ways() {
        let now = UnixTime(1000);
        assert_eq!(relative(now, UnixTime(1000 + 5400)), "in 1h 30m");
        assert_eq!(relative(now, UnixTime(940)), "1m ago");
        assert_eq!(expiry_cell(now, None), "never");
        assert!(expiry_cell(now, Some(UnixTime(10))).starts_with("EXPIRED 16m 30s ago"));
    }

    #[test]
    fn labels_cannot_drive_the_terminal() {
        assert_eq!(printable("job-4711"), "job-4711");
        assert_eq!(printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
    }

    #[test]
    fn stored_names_and_hosts_cannot_drive_or_reorder_the_terminal() {
        let m = EntryMeta {
            name: "invoice\u{202e}fdp.exe".into(),
            kind: farmvault::Kind::ScriptKey,
            host: Some("https://site\u{1b}]0;owned\u{7}".into()),
            created: UnixTime(0),
            updated: UnixTime(0),
            expires: None,
        };
        let t = table(std::slice::from_ref(&m), UnixTime(0));
        assert!(
            t.chars()
                .all(|c| c == '\n' || !farmvault::is_control_or_bidi(c)),
            "{t:?}"
        );
        assert!(t.contains("invoice\\u{202e}fdp.exe"), "{t:?}");
        assert!(t.contains("https://site\\u{1b}]0;owned\\u{7}"), "{t:?}");
        // JSON keeps the exact value.
        let j = serde_json::to_value(MetaJson::new(&m, UnixTime(0))).expect("json");
        assert_eq!(j["name"], m.name.as_str());
        assert_eq!(j["host"], "https://site\u{1b}]0;owned\u{7}");
    }

    #[test]
    fn columns_align_and_trim() {
        let t = columns(["A", "BB"], [["xyz".to_owned(), "1".to_owned()]]);
        assert_eq!(t, "A    BB\nxyz  1\n");
    }
}
