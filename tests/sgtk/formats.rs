//! tk-core credential formats: the literal samples of `docs/TOOLKIT.md`, malformed
//! input, the session cache, and (when python3 is installed) byte-for-byte comparisons
//! with CPython's `json.dumps`, `pickle.dumps` and PyYAML.

use farmvault::sgtk::{
    self, parse_serialized_user, parse_tank_context, read_session_cache,
    remove_tokens_from_session_cache, to_serialized_user_json, to_serialized_user_pickle,
};
use farmvault::{Credential, Error, LoginPassword, ScriptKey, SecretBytes, SessionToken};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const HOST: &str = "https://mysite.shotgrid.autodesk.com";

const JSON_SESSION: &str = r#"{"type": "SessionUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "login": "jdoe", "session_token": "abc123sessiontoken"}}"#;
const JSON_SESSION_FULL: &str = r#"{"type": "SessionUser", "data": {"http_proxy": "user:pass@proxy.local:8080", "host": "https://mysite.shotgrid.autodesk.com", "login": "jdoe", "session_token": "abc123sessiontoken", "session_metadata": "c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw"}}"#;
const JSON_SCRIPT: &str = r#"{"type": "ScriptUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "api_script": "render_farm", "api_key": "0123456789abcdef"}}"#;
const PICKLE_SCRIPT: &str = "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nNsVhost\np6\nVhttps://mysite.shotgrid.autodesk.com\np7\nsVapi_script\np8\nVrender_farm\np9\nsVapi_key\np10\nV0123456789abcdef\np11\nss.";

/// Every secret value used below: no error message may contain one.
const SECRETS: [&str; 5] = [
    "abc123sessiontoken",
    "0123456789abcdef",
    "user:pass@proxy.local:8080",
    "c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw",
    "s3cr3t-k3y",
];

fn session(login: &str) -> SessionToken {
    SessionToken {
        host: HOST.into(),
        login: login.into(),
        session_token: "abc123sessiontoken".into(),
        http_proxy: None,
        session_metadata: None,
    }
}

fn script() -> ScriptKey {
    ScriptKey {
        host: HOST.into(),
        script_name: "render_farm".into(),
        api_key: "0123456789abcdef".into(),
        http_proxy: None,
    }
}

/// The message of an `InvalidArgument`, checked free of every secret.
fn invalid_message(result: farmvault::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::InvalidArgument(msg)) => {
            for secret in SECRETS {
                assert!(!msg.contains(secret), "message leaks a secret: {msg}");
            }
            msg
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn json_samples_round_trip_byte_for_byte() {
    let plain = parse_serialized_user(JSON_SESSION).expect("session sample");
    assert_eq!(plain, Credential::SessionToken(session("jdoe")));

    let full = parse_serialized_user(JSON_SESSION_FULL).expect("full session sample");
    let Credential::SessionToken(s) = &full else {
        panic!("expected a session token, got {full:?}");
    };
    assert_eq!(s.login, "jdoe");
    assert_eq!(
        s.http_proxy.as_ref().map(|p| p.expose()),
        Some("user:pass@proxy.local:8080")
    );
    assert_eq!(
        s.session_metadata.as_ref().map(|m| m.expose()),
        Some("c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw")
    );

    let key = parse_serialized_user(JSON_SCRIPT).expect("script sample");
    assert_eq!(key, Credential::ScriptKey(script()));

    for (sample, cred) in [
        (JSON_SESSION, &plain),
        (JSON_SESSION_FULL, &full),
        (JSON_SCRIPT, &key),
    ] {
        assert_eq!(to_serialized_user_json(cred).expect("format"), sample);
    }
}

#[test]
fn pickle_sample_round_trips_byte_for_byte() {
    let cred = parse_serialized_user(PICKLE_SCRIPT).expect("pickle sample");
    assert_eq!(cred, Credential::ScriptKey(script()));
    assert_eq!(
        to_serialized_user_pickle(&cred).expect("pickle"),
        PICKLE_SCRIPT
    );
    // And the same user in the other format.
    assert_eq!(to_serialized_user_json(&cred).expect("json"), JSON_SCRIPT);
}

#[test]
fn session_user_pickle_with_every_field_round_trips() {
    let full = parse_serialized_user(JSON_SESSION_FULL).expect("full session sample");
    let pickle = to_serialized_user_pickle(&full).expect("pickle");
    assert!(pickle.starts_with("(dp0\nVtype\np1\nVSessionUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nVuser:pass@proxy.local:8080\np6\n"));
    assert!(pickle.ends_with("sVsession_metadata\np13\nVc2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw\np14\nss."));
    assert_eq!(parse_serialized_user(&pickle).expect("parse"), full);
}

#[test]
fn non_ascii_login_as_tk_core_writes_it() {
    let cred = Credential::SessionToken(session("josé"));
    let json = to_serialized_user_json(&cred).expect("json");
    assert_eq!(
        json,
        r#"{"type": "SessionUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "login": "jos\u00e9", "session_token": "abc123sessiontoken"}}"#
    );
    assert_eq!(parse_serialized_user(&json).expect("parse json"), cred);

    // 'é' is the raw byte 0xE9, not UTF-8, so tk-core adds _payload_encoding and decodes
    // the pickle as Latin-1: the text holds 'é' itself.
    let pickle = to_serialized_user_pickle(&cred).expect("pickle");
    assert_eq!(
        pickle,
        "(dp0\nVtype\np1\nVSessionUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nNsVhost\np6\n\
         Vhttps://mysite.shotgrid.autodesk.com\np7\nsVlogin\np8\nVjosé\np9\nsVsession_token\n\
         p10\nVabc123sessiontoken\np11\nssV_payload_encoding\np12\nVISO-8859-1\np13\ns."
    );
    assert_eq!(parse_serialized_user(&pickle).expect("parse pickle"), cred);

    // Without the key the same text is read as UTF-8 bytes, as tk-core reads it: 'é' is
    // then two raw bytes, two Latin-1 characters.
    let undeclared = pickle.replace("V_payload_encoding\np12\nVISO-8859-1\np13\ns", "");
    let Credential::SessionToken(s) = parse_serialized_user(&undeclared).expect("parse") else {
        panic!("expected a session token");
    };
    assert_eq!(s.login, "jos\u{c3}\u{a9}");

    // Characters above U+00FF are escaped and need no _payload_encoding.
    let euro = Credential::SessionToken(session("jo€"));
    let pickle = to_serialized_user_pickle(&euro).expect("pickle");
    assert!(pickle.contains("Vjo\\u20ac\np9\n"), "{pickle:?}");
    assert!(!pickle.contains("_payload_encoding"));
    assert_eq!(parse_serialized_user(&pickle).expect("parse"), euro);
}

#[test]
fn tank_context_carries_the_user() {
    for user in [JSON_SESSION_FULL, PICKLE_SCRIPT] {
        let context = serde_json::json!({
            "project": {"type": "Project", "id": 65, "name": "demo"},
            "entity": null,
            "_current_user": user,
        });
        let cred = parse_tank_context(context.to_string()).expect("context");
        assert_eq!(cred, parse_serialized_user(user).expect("user"));
    }

    let without = serde_json::json!({"project": null, "_current_user": null}).to_string();
    assert!(invalid_message(parse_tank_context(&without)).contains("_current_user"));

    let bad_user = serde_json::json!({"_current_user": r#"{"type": "Foo", "data": {}}"#});
    let msg = invalid_message(parse_tank_context(bad_user.to_string()));
    assert!(
        msg.contains("TANK_CONTEXT") && msg.contains("unknown type \"Foo\""),
        "{msg}"
    );

    assert!(invalid_message(parse_tank_context("{\"_current_user\": ")).contains("TANK_CONTEXT"));
}

#[test]
fn unknown_type_is_named() {
    let msg = invalid_message(parse_serialized_user(
        r#"{"type": "Foo", "data": {"api_key": "s3cr3t-k3y"}}"#,
    ));
    assert_eq!(
        msg,
        "serialized user: unknown type \"Foo\"; expected SessionUser or ScriptUser"
    );
    let msg = invalid_message(parse_serialized_user(r#"{"data": {}}"#));
    assert!(msg.contains("no \"type\""), "{msg}");
    let msg = invalid_message(parse_serialized_user(
        "(dp0\nVtype\np1\nVLoginUser\np2\nsVdata\np3\n(dp4\ns.",
    ));
    assert!(msg.contains("unknown type \"LoginUser\""), "{msg}");
}

#[test]
fn missing_or_empty_fields_are_named() {
    let cases = [
        (
            JSON_SESSION.replace("\"login\": \"jdoe\", ", ""),
            "\"login\"",
        ),
        (JSON_SESSION.replace("\"jdoe\"", "\"\""), "\"login\""),
        (
            JSON_SESSION.replace("\"abc123sessiontoken\"", "null"),
            "\"session_token\"",
        ),
        (JSON_SESSION.replace(HOST, ""), "\"host\""),
        (
            JSON_SCRIPT.replace("\"api_script\": \"render_farm\", ", ""),
            "\"api_script\"",
        ),
        (
            JSON_SCRIPT.replace("\"0123456789abcdef\"", "\"\""),
            "\"api_key\"",
        ),
        (
            PICKLE_SCRIPT.replace("V0123456789abcdef", "V"),
            "\"api_key\"",
        ),
        (
            PICKLE_SCRIPT.replace("Vapi_script", "Vapi_scrypt"),
            "\"api_script\"",
        ),
    ];
    for (input, field) in cases {
        let msg = invalid_message(parse_serialized_user(&input));
        assert!(
            msg.contains(field) && msg.contains("IncompleteCredentials"),
            "{field}: {msg}"
        );
    }
    let msg = invalid_message(parse_serialized_user(r#"{"type": "ScriptUser"}"#));
    assert!(msg.contains("no \"data\""), "{msg}");
}

#[test]
fn wrong_field_types_are_named_without_values() {
    let input = JSON_SCRIPT.replace("\"0123456789abcdef\"", "5");
    let msg = invalid_message(parse_serialized_user(&input));
    assert!(
        msg.contains("\"api_key\"") && msg.contains("an integer"),
        "{msg}"
    );

    let input = r#"{"type": "ScriptUser", "data": "0123456789abcdef"}"#;
    let msg = invalid_message(parse_serialized_user(input));
    assert!(msg.contains("\"data\" must be a dict"), "{msg}");

    // Unknown keys are ignored, whatever their type.
    let extra = JSON_SCRIPT.replace("\"data\": {", "\"data\": {\"future\": [1, {\"a\": true}], ");
    assert_eq!(
        parse_serialized_user(&extra).expect("unknown keys"),
        Credential::ScriptKey(script())
    );
}

#[test]
fn truncated_pickles_and_json_are_rejected() {
    for cut in [1, 5, 40, 120, 160, PICKLE_SCRIPT.len() - 1] {
        let msg = invalid_message(parse_serialized_user(&PICKLE_SCRIPT[..cut]));
        assert!(
            msg.contains("truncated") || msg.contains("no value") || msg.contains("STOP"),
            "cut at {cut}: {msg}"
        );
    }
    let msg = invalid_message(parse_serialized_user(&JSON_SCRIPT[..JSON_SCRIPT.len() - 3]));
    assert!(msg.contains("JSON") && msg.contains("line 1"), "{msg}");
    let msg = invalid_message(parse_serialized_user(format!("{PICKLE_SCRIPT}junk")));
    assert!(msg.contains("follow the pickle's STOP"), "{msg}");
    assert!(invalid_message(parse_serialized_user("")).contains("empty"));
    let msg = invalid_message(parse_serialized_user(format!(" {JSON_SCRIPT}")));
    assert!(msg.contains("does not start with '{'"), "{msg}");
}

#[test]
fn code_running_opcodes_are_refused() {
    let cases = [
        (
            "cos\nsystem\n(S'echo 0123456789abcdef'\ntR.",
            "GLOBAL at offset 0",
        ),
        (
            "(dp0\nVtype\np1\n(i__main__\nEvil\np2\ns.",
            "'i' (INST) at offset 15",
        ),
        ("(dp0\nVa\np1\nNRs.", "'R' (REDUCE) at offset 12"),
        ("(dp0\nb.", "'b' (BUILD) at offset 5"),
        ("(dp0\nVa\np1\nF1.5\ns.", "'F' (FLOAT) at offset 11"),
        ("(dp0\nVa\np1\n(tp2\ns.", "'t' (TUPLE) at offset 12"),
    ];
    for (input, opcode) in cases {
        let msg = invalid_message(parse_serialized_user(input));
        let expected = format!("serialized user: unsupported pickle opcode {opcode}");
        assert!(msg.starts_with(&expected), "{msg}");
        assert!(msg.contains("never run"), "{msg}");
    }
    let binary = "\u{80}\u{2}}q\u{0}.";
    assert!(invalid_message(parse_serialized_user(binary)).contains("binary pickle"));
    let binary = [0x80, 0x02, b'}', b'q', 0, b'.'];
    assert!(invalid_message(parse_serialized_user(binary)).contains("binary pickle"));
}

#[test]
fn ints_and_lists_are_data_and_the_user_check_names_what_is_wrong() {
    let msg = invalid_message(parse_serialized_user("(dp0\nVa\np1\nI42\ns."));
    assert!(msg.contains("no \"type\""), "{msg}");
    let msg = invalid_message(parse_serialized_user(
        "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVhost\np5\n(lp6\nss.",
    ));
    assert!(
        msg.contains("\"host\" must be a string or null, found a list"),
        "{msg}"
    );
    let msg = invalid_message(parse_serialized_user("(lp0\nI1\na."));
    assert!(msg.contains("holds a list, not a dict"), "{msg}");
}

#[test]
fn huge_input_is_refused_before_parsing() {
    let huge = format!(
        "{{\"type\": \"ScriptUser\", \"pad\": \"{}\"}}",
        "a".repeat(sgtk::MAX_INPUT_LEN)
    );
    let msg = invalid_message(parse_serialized_user(&huge));
    assert!(msg.contains("limit is 1048576"), "{msg}");
    let msg = invalid_message(parse_tank_context(&huge));
    assert!(
        msg.contains("TANK_CONTEXT") && msg.contains("1 MiB"),
        "{msg}"
    );
}

#[test]
fn kinds_without_a_toolkit_user_type_are_refused() {
    let login = Credential::LoginPassword(LoginPassword {
        host: HOST.into(),
        login: "jdoe".into(),
        password: "s3cr3t-k3y".into(),
        http_proxy: None,
    });
    let opaque = Credential::Opaque(SecretBytes::from_slice(b"s3cr3t-k3y"));
    for cred in [&login, &opaque] {
        let msg = invalid_message(to_serialized_user_json(cred));
        assert!(msg.contains("tk-core has no user type"), "{msg}");
        let msg = invalid_message(to_serialized_user_pickle(cred));
        assert!(msg.contains("tk-core has no user type"), "{msg}");
    }
    let mut empty = script();
    empty.api_key = "".into();
    invalid_message(to_serialized_user_json(&Credential::ScriptKey(empty)));
}

const SITE_YAML: &str = "current_user: jdoe
method: qt_web_login
recent_users:
- jdoe
users:
- login: jdoe
  session_metadata: bWV0YQ==
  session_token: tok1
- login: asmith
  session_token: tok2
";

fn write_file(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write fixture");
}

#[test]
fn session_cache_import_and_token_removal() {
    let home = tempfile::tempdir().expect("tempdir");
    let root = home.path();
    write_file(
        &root.join("authentication.yml"),
        "current_host: https://mysite.shotgrid.autodesk.com\nrecent_hosts:\n\
         - https://mysite.shotgrid.autodesk.com\n- https://legacy.shotgunstudio.com\n",
    );
    write_file(&root.join("mysite/authentication.yml"), SITE_YAML);
    write_file(
        &root.join("legacy/authentication.yml"),
        "users:\n- login: ' Bob '\n  session_token: tok3\n  session_metadata: ''\n",
    );
    write_file(
        &root.join("sg.internal.studio/authentication.yml"),
        "users:\n- login: carol\n  session_token: tok4\n- login: dave\n  session_token: null\n",
    );
    write_file(
        &root.join("othersite/authentication.yml"),
        "current_user: null\n",
    );
    fs::create_dir_all(root.join("bundle_cache/app_store")).expect("mkdir");

    let sessions = read_session_cache(root).expect("read cache");
    let summary: Vec<(&str, &str, &str, &str, Option<&str>)> = sessions
        .iter()
        .map(|c| {
            (
                c.site.as_str(),
                c.host.as_str(),
                c.session.login.as_str(),
                c.session.session_token.expose(),
                c.session.session_metadata.as_ref().map(|m| m.expose()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "legacy",
                "https://legacy.shotgunstudio.com",
                "Bob",
                "tok3",
                None
            ),
            ("mysite", HOST, "jdoe", "tok1", Some("bWV0YQ==")),
            ("mysite", HOST, "asmith", "tok2", None),
            (
                "sg.internal.studio",
                "https://sg.internal.studio",
                "carol",
                "tok4",
                None
            ),
        ]
    );
    assert!(sessions
        .iter()
        .all(|c| c.session.host == c.host && c.session.http_proxy.is_none()));
    let printed = format!("{sessions:?}");
    assert!(
        !printed.contains("tok1") && !printed.contains("bWV0YQ=="),
        "{printed}"
    );

    // Tokens out, everything else kept; logins match like tk-core's (trimmed, any case).
    let file = root.join("mysite/authentication.yml");
    let mut text = SITE_YAML.replace(
        "  session_token: tok2\n",
        "  session_token: tok2\n  extra: keep-me\n",
    );
    text.push_str("future_key:\n  nested:\n  - 1\n  - true\n");
    fs::write(&file, &text).expect("rewrite fixture");
    assert_eq!(
        remove_tokens_from_session_cache(&file, &[" JDOE ", "nobody"]).expect("remove"),
        1
    );

    let after = fs::read_to_string(&file).expect("read back");
    assert!(
        !after.contains("tok1") && !after.contains("bWV0YQ=="),
        "{after}"
    );
    let doc: serde_json::Value = serde_json::to_value(
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&after).expect("still YAML"),
    )
    .expect("as JSON");
    assert_eq!(
        doc,
        serde_json::json!({
            "current_user": "jdoe",
            "method": "qt_web_login",
            "recent_users": ["jdoe"],
            "users": [
                {"login": "jdoe", "session_token": null, "session_metadata": "moved-to-farmvault"},
                {"login": "asmith", "session_token": "tok2", "extra": "keep-me"},
            ],
            "future_key": {"nested": [1, true]},
        })
    );
    let remaining: Vec<String> = read_session_cache(root)
        .expect("re-read")
        .into_iter()
        .filter(|c| c.site == "mysite")
        .map(|c| c.session.login)
        .collect();
    assert_eq!(remaining, ["asmith"]);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Nothing left to remove: the file is not rewritten.
    assert_eq!(
        remove_tokens_from_session_cache(&file, &["jdoe"]).expect("again"),
        0
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), after);
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(root.join("mysite"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["authentication.yml"]);
}

/// tk-core's rule for caching a session (`session_cache.py`, as docs/TOOLKIT.md states
/// it): an existing user gets the new token when it differs, and the new
/// `session_metadata` only over a non-empty one; a new user is appended, with its
/// metadata only when it has one.
fn tk_core_cache_session(
    doc: &mut serde_yaml_ng::Value,
    login: &str,
    token: &str,
    metadata: Option<&str>,
) {
    use serde_yaml_ng::Value as Y;
    let users = doc
        .get_mut("users")
        .and_then(Y::as_sequence_mut)
        .expect("users");
    let same = |u: &Y| {
        u.get("login")
            .and_then(Y::as_str)
            .map(|l| l.trim().to_lowercase())
            == Some(login.trim().to_lowercase())
    };
    if let Some(user) = users.iter_mut().find(|u| same(u)) {
        let user = user.as_mapping_mut().expect("mapping");
        if user.get("session_token").and_then(Y::as_str) != Some(token) {
            user.insert("session_token".into(), token.into());
        }
        let has_metadata = user
            .get("session_metadata")
            .and_then(Y::as_str)
            .is_some_and(|m| !m.is_empty());
        if has_metadata && user.get("session_metadata").and_then(Y::as_str) != metadata {
            user.insert("session_metadata".into(), metadata.map_or(Y::Null, Y::from));
        }
        return;
    }
    let mut user = serde_yaml_ng::Mapping::new();
    user.insert("login".into(), login.into());
    user.insert("session_token".into(), token.into());
    if let Some(m) = metadata {
        user.insert("session_metadata".into(), m.into());
    }
    users.push(Y::Mapping(user));
}

#[test]
fn after_removal_tk_core_caches_the_next_sso_login_s_metadata() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = home.path().join("mysite/authentication.yml");
    write_file(&file, SITE_YAML);
    assert_eq!(
        remove_tokens_from_session_cache(&file, &["jdoe", "asmith"]).expect("remove"),
        2
    );
    let after = fs::read_to_string(&file).expect("read");
    assert!(
        !after.contains("bWV0YQ==") && !after.contains("tok1"),
        "{after}"
    );
    // Nothing is read back as a session: the token is null, the placeholder no cookie.
    assert!(read_session_cache(home.path()).expect("read").is_empty());

    // jdoe logs in again through SSO: tk-core caches the new token and its metadata.
    let mut doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&after).expect("YAML");
    tk_core_cache_session(&mut doc, "jdoe", "tok9", Some("bmV3LW1ldGE="));
    fs::write(&file, serde_yaml_ng::to_string(&doc).expect("dump")).expect("write");
    let sessions = read_session_cache(home.path()).expect("read");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].session.login, "jdoe");
    assert_eq!(sessions[0].session.session_token.expose(), "tok9");
    assert_eq!(
        sessions[0]
            .session
            .session_metadata
            .as_ref()
            .map(|m| m.expose()),
        Some("bmV3LW1ldGE=")
    );

    // Had the metadata been deleted (what farmvault did before), the login's metadata
    // would be lost: the rule writes it only over a non-empty value.
    let mut deleted: serde_yaml_ng::Value = serde_yaml_ng::from_str(SITE_YAML).expect("YAML");
    deleted["users"][0]
        .as_mapping_mut()
        .expect("jdoe")
        .remove("session_metadata");
    tk_core_cache_session(&mut deleted, "jdoe", "tok9", Some("bmV3LW1ldGE="));
    assert!(deleted["users"][0].get("session_metadata").is_none());
}

#[test]
fn session_cache_errors_name_the_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = home.path().join("mysite/authentication.yml");
    write_file(&file, "users: [login: jdoe\n  session_token: tok1\n");
    let msg = invalid_message(read_session_cache(home.path()));
    assert!(
        msg.contains("mysite") && msg.contains("not valid YAML"),
        "{msg}"
    );
    assert!(!msg.contains("tok1"), "{msg}");
    let msg = invalid_message(remove_tokens_from_session_cache(&file, &["jdoe"]));
    assert!(msg.contains("not valid YAML"), "{msg}");

    write_file(&file, "users: tok1\n");
    let msg = invalid_message(read_session_cache(home.path()));
    assert!(
        msg.contains("\"users\" is not a list") && !msg.contains("tok1"),
        "{msg}"
    );

    match read_session_cache(&home.path().join("missing")) {
        Err(Error::Io { context, .. }) => assert!(context.contains("missing"), "{context}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn cache_file_paths_follow_tk_core() {
    let root = Path::new("/sg");
    assert_eq!(
        sgtk::session_cache_file(root, "https://MySite.shotgunstudio.com:443"),
        root.join("mysite").join("authentication.yml")
    );
    assert_eq!(
        sgtk::toolkit_user_type(farmvault::Kind::ScriptKey),
        Some("ScriptUser")
    );
    assert_eq!(
        sgtk::toolkit_user_type(farmvault::Kind::LoginPassword),
        None
    );
}

// ---------------------------------------------------------------------------------------
// Against CPython
// ---------------------------------------------------------------------------------------

/// Runs `python3 -c script` with `input` on stdin; `None` (and a note) when python3 is
/// not installed.
fn python(script: &str, input: &str) -> Option<String> {
    let child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("note: python3 not available ({e}); skipping the CPython comparison");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write to python3");
    let out = child.wait_with_output().expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("python3 prints UTF-8"))
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// One user: its tk-core type and `data` fields in tk-core's order.
struct Case {
    ty: &'static str,
    fields: Vec<(&'static str, Option<&'static str>)>,
}

impl Case {
    fn credential(&self) -> Credential {
        let get = |k: &str| {
            self.fields
                .iter()
                .find(|(key, _)| *key == k)
                .and_then(|(_, v)| *v)
        };
        let secret = |k: &str| get(k).map(farmvault::SecretString::from);
        if self.ty == "SessionUser" {
            Credential::SessionToken(SessionToken {
                host: get("host").expect("host").into(),
                login: get("login").expect("login").into(),
                session_token: secret("session_token").expect("token"),
                http_proxy: secret("http_proxy"),
                session_metadata: secret("session_metadata"),
            })
        } else {
            Credential::ScriptKey(ScriptKey {
                host: get("host").expect("host").into(),
                script_name: get("api_script").expect("script").into(),
                api_key: secret("api_key").expect("key"),
                http_proxy: secret("http_proxy"),
            })
        }
    }
}

fn tricky_cases() -> Vec<Case> {
    let session = |proxy, host, login, token, metadata: Option<&'static str>| {
        let mut fields = vec![
            ("http_proxy", proxy),
            ("host", Some(host)),
            ("login", Some(login)),
            ("session_token", Some(token)),
        ];
        if metadata.is_some() {
            fields.push(("session_metadata", metadata));
        }
        Case {
            ty: "SessionUser",
            fields,
        }
    };
    let script = |proxy, host, name, key| Case {
        ty: "ScriptUser",
        fields: vec![
            ("http_proxy", proxy),
            ("host", Some(host)),
            ("api_script", Some(name)),
            ("api_key", Some(key)),
        ],
    };
    vec![
        session(None, HOST, "jdoe", "abc123sessiontoken", None),
        session(
            Some("user:pass@proxy.local:8080"),
            HOST,
            "jdoe",
            "abc123sessiontoken",
            Some("c2hvdGd1bl9jdXJyZW50X3Nlc3Npb25fZXhwaXJhdGlvbj0xNzAwMDAwMDAw"),
        ),
        script(None, HOST, "render_farm", "0123456789abcdef"),
        session(
            Some("a\"b\\c\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}\u{1a}"),
            "https://sité.example/ü?x=1#y",
            "josé",
            "tok \" \\ € 😀 \u{2028} </script>",
            Some(""),
        ),
        script(Some(""), "https://h", "h", "ÿ\u{80}\u{a0}Ã©"),
        script(None, HOST, "Ã©", "0123456789abcdef"),
        session(
            None,
            "https://x",
            "😀",
            "\u{ffff}\u{10ffff}",
            Some("\\u0041"),
        ),
    ]
}

const TK_CORE_PY: &str = r#"
import json, pickle, sys

def tk_dumps(data):
    # tk-core python/tank/util/pickle.py dumps()
    try:
        return pickle.dumps(data, protocol=0).decode("utf-8")
    except UnicodeError as e:
        if e.encoding == "utf-8" and e.reason in ("invalid continuation byte", "invalid start byte"):
            data["_payload_encoding"] = "ISO-8859-1"
            return pickle.dumps(data, protocol=0).decode("ISO-8859-1")
        raise

def tk_loads(text):
    # tk-core python/tank/util/pickle.py loads()
    d = pickle.loads(text.encode("utf-8"))
    if isinstance(d, dict) and "_payload_encoding" in d:
        d = pickle.loads(text.encode(d["_payload_encoding"]), encoding="bytes")
    return d

for line in sys.stdin:
    ty, fields, our_json, our_pickle_hex = json.loads(line)
    d = {"type": ty, "data": {k: v for k, v in fields}}
    print(json.dumps(d))
    print(tk_dumps(dict(d)).encode("utf-8").hex())
    ours = tk_loads(bytes.fromhex(our_pickle_hex).decode("utf-8"))
    ours.pop("_payload_encoding", None)
    print("pickle-ok" if ours == d else "pickle-differs: %r" % (ours,))
    print("json-ok" if json.loads(our_json) == d else "json-differs")
"#;

#[test]
fn matches_cpython_json_and_tk_core_pickle() {
    let cases = tricky_cases();
    let mut input = String::new();
    for case in &cases {
        let cred = case.credential();
        let ours_json = to_serialized_user_json(&cred).expect("json");
        let ours_pickle = to_serialized_user_pickle(&cred).expect("pickle");
        let hex: String = ours_pickle.bytes().map(|b| format!("{b:02x}")).collect();
        // serde_json, not our formatter, carries the fields to Python.
        let line = serde_json::json!([case.ty, case.fields, ours_json, hex]);
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let Some(output) = python(TK_CORE_PY, &input) else {
        return;
    };
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 4 * cases.len(), "{output}");
    for (case, out) in cases.iter().zip(lines.chunks(4)) {
        let cred = case.credential();
        assert_eq!(to_serialized_user_json(&cred).expect("json"), out[0]);
        let python_pickle = String::from_utf8(hex_decode(out[1])).expect("UTF-8 text");
        assert_eq!(
            to_serialized_user_pickle(&cred).expect("pickle"),
            python_pickle,
            "pickle of {:?}",
            case.fields
        );
        assert_eq!(
            parse_serialized_user(&python_pickle).expect("parse CPython pickle"),
            cred
        );
        assert_eq!(
            parse_serialized_user(out[0]).expect("parse CPython JSON"),
            cred
        );
        assert_eq!(out[2], "pickle-ok");
        assert_eq!(out[3], "json-ok");
    }
}

const OTHER_PICKLES_PY: &str = r#"
import pickle, sys

class Evil:
    def __reduce__(self):
        return (print, ("pwned",))

def text(obj, protocol=0):
    return pickle.dumps(obj, protocol=protocol).decode("latin-1").encode("utf-8").hex()

host = "https://mysite.shotgrid.autodesk.com"
extra = {"type": "ScriptUser", "data": {"http_proxy": None, "host": host, "api_script": "render_farm",
         "api_key": "0123456789abcdef", "future": {"nested": {"deeper": None}}}, "schema": "2"}
print(text(extra))
print(text({"type": "ScriptUser", "data": Evil()}))
print(text(extra, protocol=2))
"#;

#[test]
fn cpython_pickles_beyond_tk_core_shape() {
    let Some(output) = python(OTHER_PICKLES_PY, "") else {
        return;
    };
    let texts: Vec<String> = output
        .lines()
        .map(|l| String::from_utf8(hex_decode(l)).expect("UTF-8"))
        .collect();
    assert_eq!(texts.len(), 3, "{output}");
    // Extra keys and nested dicts are ignored, as tk-core ignores them.
    assert_eq!(
        parse_serialized_user(&texts[0]).expect("extra keys"),
        Credential::ScriptKey(script())
    );
    let msg = invalid_message(parse_serialized_user(&texts[1]));
    assert!(
        msg.contains("unsupported pickle opcode 'c' (GLOBAL)"),
        "{msg}"
    );
    let msg = invalid_message(parse_serialized_user(&texts[2]));
    assert!(msg.contains("binary pickle"), "{msg}");
}

const PYYAML_PY: &str = r#"
import json, sys
try:
    import yaml
except ImportError:
    print("no-yaml")
    sys.exit(0)
print(json.dumps(yaml.safe_load(open(sys.stdin.read().strip())), sort_keys=True))
"#;

#[test]
fn pyyaml_reads_the_rewritten_cache_with_the_same_types() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = home.path().join("mysite/authentication.yml");
    // Strings a YAML 1.1 reader would take for booleans, numbers or dates unless quoted.
    write_file(
        &file,
        "current_user: 'yes'\nmethod: qt_web_login\nrecent_users:\n- 'yes'\n- 'on'\n- '1:20'\n\
         users:\n- login: 'yes'\n  session_token: tok1\n  note: \"é \\\" \\\\ ✓\"\n\
         - login: '0777'\n  session_token: '0b101'\n  when: '2001-12-14'\n  ratio: 1.0e+20\n",
    );
    assert_eq!(
        remove_tokens_from_session_cache(&file, &["YES"]).expect("remove"),
        1
    );
    let Some(output) = python(PYYAML_PY, file.to_str().expect("UTF-8 path")) else {
        return;
    };
    if output.trim() == "no-yaml" {
        eprintln!("note: PyYAML not installed; skipping the PyYAML check");
        return;
    }
    let doc: serde_json::Value = serde_json::from_str(output.trim()).expect("JSON from Python");
    assert_eq!(
        doc,
        serde_json::json!({
            "current_user": "yes",
            "method": "qt_web_login",
            "recent_users": ["yes", "on", "1:20"],
            "users": [
                {"login": "yes", "session_token": null, "note": "é \" \\ ✓"},
                {"login": "0777", "session_token": "0b101", "when": "2001-12-14", "ratio": 1e20},
            ],
        })
    );
}
