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
    assert!(r.stderr.contains("session_token"), "{}", r.stderr);
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
    let r = env.fails(&["export-sgtk", "blob"], code::USAGE);
    assert!(
        r.stderr.contains("for an opaque credential"),
        "{}",
        r.stderr
    );
    let r = env.fails(&["get", "blob", "--field", "login"], code::NOT_FOUND);
    assert!(r.stderr.contains("\"blob\" is an opaque,"), "{}", r.stderr);
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
        r.stderr.contains("imported shotgun/mysite/jdoe"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("--remove"),
        "hint to remove: {}",
        r.stderr
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
    assert_eq!(
        v["removed"][0]["file"],
        cache.to_str().expect("UTF-8 path"),
        "the shape --help shows: {{site, file, tokens}}"
    );
    let text = std::fs::read_to_string(&cache).expect("cache");
    assert!(
        !text.contains("cached-tok") && !text.contains("bWV0YQ=="),
        "{text}"
    );
    assert!(text.contains("jdoe"), "users stay: {text}");
    // The metadata is in the vault; the YAML keeps a placeholder tk-core overwrites.
    assert!(
        text.contains("session_metadata: moved-to-farmvault"),
        "{text}"
    );
    assert_eq!(
        env.out(&["get", "sg/mysite/jdoe", "--field", "session_metadata"]),
        "bWV0YQ==\n"
    );
    // Nothing left to import.
    let r = env
        .run(&["import-session-cache", "--shotgun-home", home_s], None)
        .expect(code::OK);
    assert!(r.stderr.contains("no session tokens found"), "{}", r.stderr);
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

/// `Context.serialize()` (the default pickle) and `Context.serialize(use_json=True)`
/// of docs/TOOLKIT.md's sample context.
const CONTEXT_PICKLE: &str = "(dp0\nVproject\np1\n(dp2\nVtype\np3\nVProject\np4\nsVid\np5\nI65\nsVname\np6\nVdemo\np7\nssVentity\np8\n(dp9\ng3\nVShot\np10\nsg5\nI1184\nsg6\nVABC_0010\np11\nssVuser\np12\n(dp13\ng3\nVHumanUser\np14\nsg5\nI42\nsg6\nVJohn Doe\np15\nssVstep\np16\n(dp17\ng3\nVStep\np18\nsg5\nI7\nsg6\nVLighting\np19\nssVtask\np20\n(dp21\ng3\nVTask\np22\nsg5\nI4512\nsg6\nVlgt\np23\nssVadditional_entities\np24\n(lp25\n(dp26\ng3\nVAsset\np27\nsg5\nI1200\nsg6\nVtree\np28\nsasVsource_entity\np29\nNsVflow_project_id\np30\nNsVflow_draft_id\np31\nNsVflow_schema_version\np32\nNsV_pc_path\np33\nV/studio/configs/demo\np34\nsV_current_user\np35\nV(dp0\\u000aVtype\\u000ap1\\u000aVSessionUser\\u000ap2\\u000asVdata\\u000ap3\\u000a(dp4\\u000aVhttp_proxy\\u000ap5\\u000aNsVhost\\u000ap6\\u000aVhttps://mysite.shotgrid.autodesk.com\\u000ap7\\u000asVlogin\\u000ap8\\u000aVjdoe\\u000ap9\\u000asVsession_token\\u000ap10\\u000aVabc123sessiontoken\\u000ap11\\u000ass.\np36\ns.";
const CONTEXT_JSON: &str = r#"{"project": {"type": "Project", "id": 65, "name": "demo"}, "entity": {"type": "Shot", "id": 1184, "name": "ABC_0010"}, "user": {"type": "HumanUser", "id": 42, "name": "John Doe"}, "step": {"type": "Step", "id": 7, "name": "Lighting"}, "task": {"type": "Task", "id": 4512, "name": "lgt"}, "additional_entities": [{"type": "Asset", "id": 1200, "name": "tree"}], "source_entity": null, "flow_project_id": null, "flow_draft_id": null, "flow_schema_version": null, "_pc_path": "/studio/configs/demo", "_current_user": "{\"type\": \"SessionUser\", \"data\": {\"http_proxy\": null, \"host\": \"https://mysite.shotgrid.autodesk.com\", \"login\": \"jdoe\", \"session_token\": \"abc123sessiontoken\"}}"}"#;

/// The exact stdout bytes of `args`.
fn stdout_bytes(env: &Env, args: &[&str]) -> Vec<u8> {
    let out = env
        .cmd()
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run farmvault");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn contexts_of_either_form_come_back_byte_for_byte() {
    let env = Env::with_vault();
    // The same pickle as tk-core's Latin-1 text written out raw: not UTF-8.
    let latin1: Vec<u8> = CONTEXT_PICKLE
        .replacen("Vdemo\np7", "Vcaf\u{e9}\np7", 1)
        .replacen(
            "\np36\ns.",
            "\np36\nsV_payload_encoding\np37\nVISO-8859-1\np38\ns.",
            1,
        )
        .chars()
        .map(|c| c as u8)
        .collect();
    for (name, input) in [
        ("ctx/pickle", CONTEXT_PICKLE.as_bytes().to_vec()),
        ("ctx/json", CONTEXT_JSON.as_bytes().to_vec()),
        ("ctx/latin1", latin1),
    ] {
        // print() adds a newline: stripped on the way in.
        let r = env
            .run(&["import-sgtk", name], Some(&[&input[..], b"\n"].concat()))
            .expect(code::OK);
        assert!(
            r.stderr.contains("tank_context of a session_token user"),
            "{}",
            r.stderr
        );
        assert!(!r.all().contains("abc123sessiontoken"), "{}", r.all());
        assert_eq!(
            stdout_bytes(&env, &["export-sgtk", name, "--no-newline"]),
            input
        );
        assert_eq!(
            stdout_bytes(&env, &["export-sgtk", name]),
            [&input[..], b"\n"].concat()
        );
        assert_eq!(env.out(&["get", name, "--field", "login"]), "jdoe\n");
        assert_eq!(env.out(&["get", name]), "abc123sessiontoken\n");
        assert_eq!(
            stdout_bytes(&env, &["get", name, "--field", "tank_context", "-n"]),
            input
        );
    }
    let v = json(&env.out(&["get", "ctx/latin1", "--json"]));
    assert_eq!(v["kind"], "tank_context");
    assert_eq!(v["fields"]["login"], "jdoe");
    assert_eq!(v["fields"]["tank_context_encoding"], "base64");
    // A session user's context expires with the session, 24h by default.
    let list = json(&env.out(&["list", "--json"]));
    let ctx = &list["entries"][0];
    assert!(ctx["expires"].as_u64().expect("ttl") >= list["now"].as_u64().expect("now") + 86_000);
    // --user-only keeps the previous behaviour: the user alone.
    env.run(
        &["import-sgtk", "just-user", "--user-only"],
        Some(CONTEXT_PICKLE.as_bytes()),
    )
    .expect(code::OK);
    assert_eq!(
        env.out(&["export-sgtk", "just-user", "-n"]),
        SESSION_JSON,
        "the user as tk-core's JSON"
    );
}

#[test]
fn bad_input_is_named() {
    let env = Env::with_vault();
    for (input, needle) in [
        (&b"zzz"[..], "not JSON"),
        (b"(dp0\nVa\np1\ncos\nsystem\n", "'c' (GLOBAL) at offset 11"),
        (b"{\"type\": \"ScriptUser\"", "truncated JSON"),
        (b"{\"project\": null}", "neither a serialized user"),
        (
            br#"{"_pc_path": "/p", "project": null}"#,
            "TANK_CONTEXT: no user",
        ),
        (
            br#"{"type": "ScriptUser", "data": {"host": "https://h"}}"#,
            "\"api_script\"",
        ),
    ] {
        let r = env
            .run(&["import-sgtk", "x"], Some(input))
            .expect(code::USAGE);
        r.one_line_error();
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    // A BOM before JSON is accepted.
    env.run(
        &["import-sgtk", "bom"],
        Some(format!("\u{feff}{SCRIPT_JSON}").as_bytes()),
    )
    .expect(code::OK);
    assert_eq!(env.out(&["export-sgtk", "bom", "-n"]), SCRIPT_JSON);
}

/// A JWT whose payload carries `exp`; the signature is not read.
fn jwt(exp: u64) -> String {
    use base64ct::Encoding as _;
    let enc = |s: &str| base64ct::Base64UrlUnpadded::encode_string(s.as_bytes());
    format!(
        "{}.{}.{}",
        enc("{\"alg\":\"RS256\"}"),
        enc(&format!("{{\"exp\": {exp}}}")),
        enc("sig")
    )
}

#[test]
fn flow_tokens_move_into_the_vault_and_back_out() {
    let env = Env::with_vault();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let home = env.path("shotgun");
    std::fs::create_dir_all(&home).expect("home");
    let app = "8QyoQKXZ7HDuQFmptJGrzsp2GwpATmyV";
    let access = jwt(now + 3600);
    let file = home.join("adsk_flow_tokens.json");
    let text = format!(
        "{{\"adsk.flow.{app}.access_token\": {{\"jdoe\": \"{access}\", \"old\": \"{}\"}}, \
         \"adsk.flow.{app}.refresh_token\": {{\"jdoe\": \"rt-jdoe\", \"old\": \"rt-old\"}}}}",
        jwt(now - 10)
    );
    common::write_private(&file, text.as_bytes());
    let home_s = home.to_str().expect("utf8");

    let r = env
        .run(&["import-flow-tokens", "--shotgun-home", home_s], None)
        .expect(code::OK);
    assert!(
        r.stderr.contains(&format!("imported flow/{app}/jdoe")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("skipped") && r.stderr.contains("expired"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--remove"), "{}", r.stderr);
    assert!(
        !r.all().contains("rt-jdoe") && !r.all().contains(&access),
        "{}",
        r.all()
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), text);

    // The entry expires with the access token; export gives tk-core's file for it.
    let name = format!("flow/{app}/jdoe");
    let list = json(&env.out(&["list", "--json"]));
    assert_eq!(list["entries"][0]["kind"], "flow_token");
    assert_eq!(list["entries"][0]["expires"], now + 3600);
    assert_eq!(
        env.out(&["get", &name, "--field", "refresh_token"]),
        "rt-jdoe\n"
    );
    assert_eq!(env.out(&["get", &name, "--field", "profile"]), "jdoe\n");
    assert_eq!(
        env.out(&["export-sgtk", &name, "--no-newline"]),
        format!(
            "{{\"adsk.flow.{app}.access_token\": {{\"jdoe\": \"{access}\"}}, \
             \"adsk.flow.{app}.refresh_token\": {{\"jdoe\": \"rt-jdoe\"}}}}"
        )
    );

    // SHOTGUN_HOME is the default; --remove edits the file in place; JSON report.
    let r = common::run(
        env.cmd()
            .env("SHOTGUN_HOME", &home)
            .args(["import-flow-tokens", "--remove", "--json"]),
        None,
    );
    let v = json(&r.expect(code::OK).stdout);
    assert_eq!(v["imported"], serde_json::json!([name]));
    assert_eq!(v["skipped"][0]["profile"], "old");
    assert_eq!(v["removed"], 1);
    assert_eq!(v["file"], file.to_str().expect("utf8"));
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        format!(
            "{{\"adsk.flow.{app}.access_token\": {{\"old\": \"{}\"}}, \
             \"adsk.flow.{app}.refresh_token\": {{\"old\": \"rt-old\"}}}}",
            jwt(now - 10)
        )
    );
}

#[test]
fn help_shows_the_json_shapes_printed() {
    let env = Env::new();
    let help = env.out(&["import-session-cache", "--help"]);
    assert!(
        help.contains("{imported: [names], removed: [{site, file, tokens}]}"),
        "{help}"
    );
    let help = env.out(&["import-flow-tokens", "--help"]);
    assert!(
        help.contains("{file, imported: [names], skipped: [{app_id, profile, reason}], removed}"),
        "{help}"
    );
    let help = env.out(&["export-sgtk", "--help"]);
    assert!(
        help.contains("--no-newline") && help.contains("exact bytes"),
        "{help}"
    );
    let top = env.out(&["--help"]);
    assert!(top.contains("removed: [{site, file, tokens}]"), "{top}");
}
