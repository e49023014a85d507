//! tk-core 0.24's Flow token file (`adsk_flow_tokens.json`), as docs/TOOLKIT.md gives
//! it: read, moved into a vault with each entry expiring with its access token, edited
//! in place so tk-core and the file's other users keep working, and exported back.

use base64ct::Encoding as _;
use farmvault::sgtk::{
    self, export, flow_token_expiry, import_flow_tokens, read_flow_tokens, remove_flow_tokens,
    FlowImportOptions, DEFAULT_FLOW_APP_ID,
};
use farmvault::{
    Config, Credential, Error, Field, FlowToken, KdfParams, Kind, ManualClock, UnixTime, Unlock,
    Vault,
};
use std::path::Path;
use std::sync::Arc;

const NOW: u64 = 1_700_000_000;

/// A JWT whose payload is `{"sub": "<sub>", "exp": <exp>}` (the header and signature
/// are not read by tk-core's expiry check, nor by farmvault's).
fn jwt(sub: &str, exp: u64) -> String {
    let enc = |s: &str| base64ct::Base64UrlUnpadded::encode_string(s.as_bytes());
    format!(
        "{}.{}.{}",
        enc(r#"{"alg":"RS256","typ":"JWT"}"#),
        enc(&format!(r#"{{"sub": "{sub}", "exp": {exp}}}"#)),
        enc("signature")
    )
}

/// The file as tk-core's `json.dump` writes it after three logins: jdoe (valid),
/// asmith (expired), and carol (a refresh token only), plus another application's
/// tokens and a key that is no Flow token.
fn token_file() -> String {
    let app = DEFAULT_FLOW_APP_ID;
    format!(
        "{{\"adsk.flow.{app}.access_token\": {{\"jdoe\": \"{}\", \"asmith\": \"{}\"}}, \
         \"adsk.flow.{app}.refresh_token\": {{\"jdoe\": \"rt-jdoe\", \"asmith\": \"rt-asmith\", \"carol\": \"rt-carol\"}}, \
         \"adsk.flow.OtherApp.access_token\": {{\"jdoe\": \"{}\"}}, \
         \"settings\": {{\"theme\": [1, 2.5, null]}}}}",
        jwt("jdoe", NOW + 3600),
        jwt("asmith", NOW - 60),
        jwt("jdoe-other", NOW + 600),
    )
}

fn vault(dir: &Path) -> Vault {
    Config::new(dir.join("vault"))
        .kdf(KdfParams::new(8, 1, 1).expect("cheap kdf"))
        .clock(Arc::new(ManualClock::new(UnixTime(NOW))))
        .create(&Unlock::passphrase("pw"))
        .expect("vault")
}

/// tk-core's lookup: `data.get(service, {}).get(profile)`.
fn tk_core_get(text: &str, app: &str, kind: &str, profile: &str) -> Option<String> {
    let data: serde_json::Value = serde_json::from_str(text).expect("still JSON");
    data.get(format!("adsk.flow.{app}.{kind}"))
        .and_then(|d| d.get(profile))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

#[test]
fn the_file_is_read_as_tk_core_reads_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = sgtk::flow_tokens_file(dir.path());
    assert!(read_flow_tokens(&file).expect("no file").is_empty());
    std::fs::write(&file, token_file()).expect("write");
    let found = read_flow_tokens(&file).expect("read");
    let summary: Vec<(&str, &str, bool, bool)> = found
        .iter()
        .map(|p| {
            (
                p.app_id.as_str(),
                p.profile.as_str(),
                p.access_token.is_some(),
                p.refresh_token.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (DEFAULT_FLOW_APP_ID, "jdoe", true, true),
            (DEFAULT_FLOW_APP_ID, "asmith", true, true),
            (DEFAULT_FLOW_APP_ID, "carol", false, true),
            ("OtherApp", "jdoe", true, false),
        ]
    );
    let jdoe = found[0].to_credential().expect("pair");
    assert_eq!(
        flow_token_expiry(jdoe.access_token.expose()),
        Some(UnixTime(NOW + 3600))
    );
    assert!(!format!("{found:?}").contains("rt-jdoe"));
}

#[test]
fn import_moves_live_pairs_expiring_with_their_tokens_and_leaves_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = vault(dir.path());
    let file = sgtk::flow_tokens_file(dir.path());
    let before = token_file();
    std::fs::write(&file, &before).expect("write");

    // Without removal the file is untouched.
    let report =
        import_flow_tokens(&vault, dir.path(), &FlowImportOptions::default()).expect("import");
    assert_eq!(
        report.imported,
        [
            format!("flow/{DEFAULT_FLOW_APP_ID}/jdoe"),
            "flow/OtherApp/jdoe".to_owned()
        ]
    );
    let skipped: Vec<(&str, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.profile.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2);
    assert!(skipped[0].0 == "asmith" && skipped[0].1.contains("expired"));
    assert!(skipped[1].0 == "carol" && skipped[1].1.contains("no access token"));
    assert_eq!(report.removed, 0);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), before);

    let entry = vault
        .get(&format!("flow/{DEFAULT_FLOW_APP_ID}/jdoe"))
        .expect("jdoe");
    assert_eq!(entry.meta.kind, Kind::FlowToken);
    assert_eq!(entry.meta.host, None);
    assert_eq!(entry.meta.expires, Some(UnixTime(NOW + 3600)));
    assert_eq!(entry.credential.field(Field::Profile), Some(&b"jdoe"[..]));
    assert_eq!(
        entry.credential.field(Field::RefreshToken),
        Some(&b"rt-jdoe"[..])
    );
    assert_eq!(
        vault.get("flow/OtherApp/jdoe").expect("other").meta.expires,
        Some(UnixTime(NOW + 600))
    );

    // With removal: the imported profiles go, everything else keeps its bytes.
    let options = FlowImportOptions {
        remove_from_file: true,
        ..FlowImportOptions::default()
    };
    let report = import_flow_tokens(&vault, dir.path(), &options).expect("import");
    assert_eq!(report.removed, 2);
    let after = std::fs::read_to_string(&file).expect("read");
    let app = DEFAULT_FLOW_APP_ID;
    assert_eq!(
        after,
        format!(
            "{{\"adsk.flow.{app}.access_token\": {{\"asmith\": \"{}\"}}, \
             \"adsk.flow.{app}.refresh_token\": {{\"asmith\": \"rt-asmith\", \"carol\": \"rt-carol\"}}, \
             \"adsk.flow.OtherApp.access_token\": {{}}, \
             \"settings\": {{\"theme\": [1, 2.5, null]}}}}",
            jwt("asmith", NOW - 60)
        )
    );
    // tk-core finds no token for jdoe (it will log in again) and the others' as before.
    assert_eq!(tk_core_get(&after, app, "access_token", "jdoe"), None);
    assert_eq!(tk_core_get(&after, app, "refresh_token", "jdoe"), None);
    assert_eq!(
        tk_core_get(&after, app, "refresh_token", "carol").as_deref(),
        Some("rt-carol")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Nothing left to move; a missing file imports nothing.
    let again = import_flow_tokens(&vault, dir.path(), &options).expect("again");
    assert!(again.imported.is_empty() && again.removed == 0);
    std::fs::remove_file(&file).expect("rm");
    assert!(import_flow_tokens(&vault, dir.path(), &options)
        .expect("no file")
        .imported
        .is_empty());
}

#[test]
fn a_pair_exports_as_the_file_tk_core_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = vault(dir.path());
    std::fs::write(sgtk::flow_tokens_file(dir.path()), token_file()).expect("write");
    import_flow_tokens(&vault, dir.path(), &FlowImportOptions::default()).expect("import");
    let entry = vault
        .get(&format!("flow/{DEFAULT_FLOW_APP_ID}/jdoe"))
        .expect("jdoe");
    let exported =
        String::from_utf8(export(&entry.credential).expect("export").to_vec()).expect("ASCII");
    let app = DEFAULT_FLOW_APP_ID;
    assert_eq!(
        exported,
        format!(
            "{{\"adsk.flow.{app}.access_token\": {{\"jdoe\": \"{}\"}}, \
             \"adsk.flow.{app}.refresh_token\": {{\"jdoe\": \"rt-jdoe\"}}}}",
            jwt("jdoe", NOW + 3600)
        )
    );
    // Written out, it reads back as the same pair.
    let other = tempfile::tempdir().expect("tempdir");
    std::fs::write(sgtk::flow_tokens_file(other.path()), &exported).expect("write");
    let back = read_flow_tokens(&sgtk::flow_tokens_file(other.path())).expect("read");
    assert_eq!(
        back[0].to_credential().map(Credential::FlowToken),
        Some(entry.credential.clone())
    );
}

#[test]
fn a_file_that_is_not_tk_core_s_is_named_without_its_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = sgtk::flow_tokens_file(dir.path());
    for (text, needle) in [
        ("[\"rt-secret\"]", "not an object"),
        (
            "{\"adsk.flow.A.access_token\": \"rt-secret\"}",
            "not an object of profiles",
        ),
        (
            "{\"adsk.flow.A.access_token\": {\"p\": 5}}",
            "is not a string",
        ),
        (
            "{\"adsk.flow.A.access_token\": {\"p\": \"rt-secret\"",
            "truncated JSON",
        ),
    ] {
        std::fs::write(&file, text).expect("write");
        match read_flow_tokens(&file) {
            Err(Error::InvalidArgument(msg)) => {
                assert!(
                    msg.contains(needle) && msg.contains("adsk_flow_tokens.json"),
                    "{msg}"
                );
                assert!(!msg.contains("rt-secret"), "{msg}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    // An unreadable pair is left where it is: nothing to remove.
    std::fs::write(&file, token_file()).expect("write");
    assert_eq!(
        remove_flow_tokens(&file, &[("NoSuchApp", "jdoe")]).expect("remove"),
        0
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), token_file());
}

#[test]
fn a_pair_can_be_made_by_hand_and_checked() {
    let token = Credential::FlowToken(FlowToken {
        app_id: "A".into(),
        profile: "".into(),
        access_token: jwt("x", NOW).into(),
        refresh_token: None,
    });
    match token.validate() {
        Err(Error::InvalidArgument(msg)) => assert!(msg.contains("profile"), "{msg}"),
        other => panic!("{other:?}"),
    }
}
