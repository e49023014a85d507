//! `farmvault` import-sgtk / export-sgtk / import-session-cache: tk-core's
//! formats in and out, and the session cache moved into the vault.

use crate::common::{self, code, json, Env};

const HOST: &str = "https://mysite.shotgrid.autodesk.com";
const SESSION_JSON: &str = r#"{"type": "SessionUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "login": "jdoe", "session_token": "abc123sessiontoken"}}"#;
const SCRIPT_JSON: &str = r#"{"type": "ScriptUser", "data": {"http_proxy": null, "host": "https://mysite.shotgrid.autodesk.com", "api_script": "render_farm", "api_key": "0123456789abcdef"}}"#;
const SCRIPT_PICKLE: &str = "(dp0\nVtype\np1\nVScriptUser\np2\nsVdata\np3\n(dp4\nVhttp_proxy\np5\nNsVhost\np6\nVhttps://mysite.shotgrid.autodesk.com\np7\nsVapi_script\np8\nVrender_farm\np9\nsVapi_key\np10\nV0123456789abcdef\np11\nss.";

#[test]
fn import_json_and_pickle_export_byte_identical() {
    let env = Env::with_vault();
    // JSON as print() writes it (trailing newline).
    let r = env.run(
        &["import-sgtk", "shotgun/jdoe"],
        Some(format!("{SESSION_JSON}\n").as_bytes()),
    );
    let r = r.expect(code::OK);
    assert!(!r.all().contains("abc123sessiontoken"), "{}", r.all());
    assert!(r.stdout.contains("session_token"), "{}", r.stdout);
    // The protocol-0 pickle serialize_user writes by default.
    env.run(
        &["import-sgtk", "shotgun/farm"],
        Some(SCRIPT_PICKLE.as_bytes()),
    )
    .expect(code::OK);

    let out = env
        .run(&["export-sgtk", "shotgun/jdoe"], None)
        .expect(code::OK);
    assert_eq!(out.stdout, format!("{SESSION_JSON}\n"));
    let out = env
        .run(&["export-sgtk", "shotgun/farm"], None)
        .expect(code::OK);
    assert_eq!(
        out.stdout,
        format!("{SCRIPT_JSON}\n"),
        "pickle in, tk-core JSON out"
    );

    // Default TTLs: 24h for the session user, none for the script user.
    let v = json(&env.out(&["list", "--json"]));
    let entries = v["entries"].as_array().expect("entries");
    let farm = entries
        .iter()
        .find(|e| e["name"] == "shotgun/farm")
        .expect("farm");
    let jdoe = entries
        .iter()
        .find(|e| e["name"] == "shotgun/jdoe")
        .expect("jdoe");
    assert_eq!(farm["kind"], "script_key");
    assert_eq!(farm["expires"], serde_json::Value::Null);
    assert_eq!(jdoe["kind"], "session_token");
    assert_eq!(jdoe["host"], HOST);
    assert!(jdoe["expires"].as_u64().expect("ttl") >= v["now"].as_u64().expect("now") + 86_000);

    // --ttl overrides; the export round-trips through import.
    let exported = env
        .run(&["export-sgtk", "shotgun/farm"], None)
        .expect(code::OK)
        .stdout;
    env.run(
        &["import-sgtk", "copy", "--ttl", "8h"],
        Some(exported.as_bytes()),
    )
    .expect(code::OK);
    assert_eq!(
        env.out(&["get", "copy", "--field", "api_key"]),
        "0123456789abcdef\n"
    );
    assert_eq!(
        env.out(&["get", "copy", "--field", "api_script"]),
        "render_farm\n"
    );
}

#[test]
fn import_from_a_tank_context() {
    let env = Env::with_vault();
    let ctx = serde_json::json!({
        "project": {"type": "Project", "id": 70},
        "_current_user": SESSION_JSON,
    })
    .to_string();
    env.run(&["import-sgtk", "ctx-user"], Some(ctx.as_bytes()))
        .expect(code::OK);
    assert_eq!(env.out(&["get", "ctx-user", "--field", "login"]), "jdoe\n");
}

#[test]
fn bad_input_and_kinds_tk_core_lacks() {
    let env = Env::with_vault();
    for bad in [
        &b""[..],
        b"{not json",
        b"cos\nsystem\n(S'echo pwned'\ntR.",
        br#"{"type": "Nobody", "data": {}}"#,
    ] {
        let r = env
            .run(&["import-sgtk", "x"], Some(bad))
            .expect(code::USAGE);
        r.one_line_error();
    }
    env.run(&["get", "x"], None).expect(code::NOT_FOUND);
    // Opaque entries have no tk-core user type.
    env.put("blob", "b", &[]).expect(code::OK);
    env.fails(&["export-sgtk", "blob"], code::USAGE);
    env.fails(&["export-sgtk", "missing"], code::NOT_FOUND);
}

const SITE_CACHE: &str = "current_user: jdoe
method: qt_web_login
recent_users:
- jdoe
users:
- login: jdoe
  session_metadata: bWV0YQ==
  session_token: cached-tok-1
- login: asmith
  session_token: cached-tok-2
";

fn shotgun_home(env: &Env) -> std::path::PathBuf {
    let home = env.path("shotgun");
    std::fs::create_dir_all(home.join("mysite")).expect("site");
    common::write_private(
        &home.join("mysite").join("authentication.yml"),
        SITE_CACHE.as_bytes(),
    );
    std::fs::write(
        home.join("authentication.yml"),
        format!("current_host: {HOST}\n"),
    )
    .expect("global");
    home
}

#[test]
fn session_cache_import_keeps_then_removes() {
    let env = Env::with_vault();
    let home = shotgun_home(&env);
    let home_s = home.to_str().expect("utf8");
    let r = env
        .run(&["import-session-cache", "--shotgun-home", home_s], None)
        .expect(code::OK);
    assert!(
        r.stdout.contains("imported shotgun/mysite/jdoe"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("--remove"),
        "hint to remove: {}",
        r.stdout
    );
    assert!(!r.all().contains("cached-tok"), "{}", r.all());
    assert_eq!(env.out(&["get", "shotgun/mysite/asmith"]), "cached-tok-2\n");
    let cache = home.join("mysite").join("authentication.yml");
    assert_eq!(std::fs::read_to_string(&cache).expect("cache"), SITE_CACHE);

    // SHOTGUN_HOME is the default root; --remove takes the tokens out; JSON report.
    let r = common::run(
        env.cmd().env("SHOTGUN_HOME", &home).args([
            "import-session-cache",
            "--remove",
            "--prefix",
            "sg/",
            "--ttl",
            "12h",
            "--json",
        ]),
        None,
    );
    let v = json(&r.expect(code::OK).stdout);
    assert_eq!(
        v["imported"],
        serde_json::json!(["sg/mysite/jdoe", "sg/mysite/asmith"])
    );
    assert_eq!(v["removed"][0]["site"], "mysite");
    assert_eq!(v["removed"][0]["tokens"], 2);
    let text = std::fs::read_to_string(&cache).expect("cache");
    assert!(
        !text.contains("cached-tok") && !text.contains("bWV0YQ=="),
        "{text}"
    );
    assert!(text.contains("jdoe"), "users stay: {text}");
    assert_eq!(
        env.out(&["get", "sg/mysite/jdoe", "--field", "session_metadata"]),
        "bWV0YQ==\n"
    );
    // Nothing left to import.
    let r = env
        .run(&["import-session-cache", "--shotgun-home", home_s], None)
        .expect(code::OK);
    assert!(r.stdout.contains("no session tokens found"), "{}", r.stdout);
    // A missing root is an I/O error.
    env.fails(
        &[
            "import-session-cache",
            "--shotgun-home",
            env.path("none").to_str().expect("utf8"),
        ],
        code::IO,
    );
}
