//! `farmvault` put / get / list / rm / renew / purge / check, their JSON shapes,
//! exit codes, and the rule that secrets leave only through `get`.

use crate::common::{self, code, files_containing, json, Env, HOST};
use std::time::Duration;

const API_KEY: &str = "apikey-5f1c0e7d9a2b4c6e";
const TOKEN: &str = "session-tok-3b8d1f0a6c";

fn put_script_key(env: &Env, name: &str) -> common::Run {
    env.put_script_key(name, &format!("{API_KEY}\n"), &[])
}

#[test]
fn put_get_list_rm_roundtrip_without_leaking() {
    let env = Env::with_vault();
    let mut outputs = Vec::new();
    outputs.push(put_script_key(&env, "shotgun/farm").expect(code::OK).all());
    outputs.push(
        env.put_session_token("shotgun/jdoe", "jdoe", TOKEN)
            .expect(code::OK)
            .all(),
    );
    outputs.push(
        env.put("misc/blob", "opaque-secret-91e2", &["--ttl", "1h30m"])
            .expect(code::OK)
            .all(),
    );

    // get: the main secret by default (trailing newline of stdin stripped), fields, -n.
    assert_eq!(env.out(&["get", "shotgun/farm"]), format!("{API_KEY}\n"));
    assert_eq!(env.out(&["get", "shotgun/farm", "-n"]), API_KEY);
    assert_eq!(
        env.out(&["get", "shotgun/farm", "--field", "api_key"]),
        format!("{API_KEY}\n")
    );
    assert_eq!(
        env.out(&["get", "shotgun/farm", "--field", "script_name"]),
        "render_farm\n"
    );
    assert_eq!(
        env.out(&["get", "shotgun/jdoe", "--field", "session_token"]),
        format!("{TOKEN}\n")
    );
    assert_eq!(env.out(&["get", "misc/blob"]), "opaque-secret-91e2\n");

    // list: a table with name, kind, host, created, expiry; never secrets.
    let list = env.run(&["list"], None).expect(code::OK);
    outputs.push(list.all());
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("EXPIRES"),
        "{}",
        list.stdout
    );
    assert_eq!(lines.len(), 4, "{}", list.stdout);
    assert!(lines[1].starts_with("misc/blob"), "{}", lines[1]);
    assert!(
        lines[1].contains("in 1h 30m") || lines[1].contains("in 1h 29m"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("script_key") && lines[2].contains(HOST) && lines[2].ends_with("never")
    );
    assert!(lines[3].contains("session_token"), "{}", lines[3]);
    assert!(
        lines[3].contains("in 1d (") || lines[3].contains("in 23h 59m ("),
        "{}",
        lines[3]
    );
    assert!(lines[3].ends_with("Z)"), "{}", lines[3]);
    // Prefix filter.
    let only = env.run(&["list", "shotgun/"], None).expect(code::OK);
    assert_eq!(only.stdout.lines().count(), 3, "{}", only.stdout);

    // rm, then the entry is gone.
    outputs.push(env.run(&["rm", "misc/blob"], None).expect(code::OK).all());
    env.fails(&["get", "misc/blob"], code::NOT_FOUND);
    env.fails(&["rm", "misc/blob"], code::NOT_FOUND);

    for out in &outputs {
        for secret in [API_KEY, TOKEN, "opaque-secret-91e2"] {
            assert!(!out.contains(secret), "secret in output: {out}");
        }
    }
    // Neither secrets nor entry names are on disk in the clear.
    for needle in [API_KEY, TOKEN, "shotgun/farm", "render_farm", HOST] {
        assert!(
            files_containing(&env.vault, needle.as_bytes()).is_empty(),
            "{needle} on disk"
        );
    }
}

#[test]
fn ttl_defaults_and_overrides() {
    let env = Env::with_vault();
    put_script_key(&env, "k").expect(code::OK);
    env.run(
        &[
            "put",
            "t",
            "--kind",
            "session_token",
            "--host",
            HOST,
            "--login",
            "jdoe",
        ],
        Some(b"tok"),
    )
    .expect(code::OK);
    env.run(
        &[
            "put",
            "t-none",
            "--kind",
            "session_token",
            "--host",
            HOST,
            "--login",
            "jdoe",
            "--ttl",
            "none",
        ],
        Some(b"tok"),
    )
    .expect(code::OK);
    env.put("week", "x", &["--ttl", "7d"]).expect(code::OK);
    let v = json(&env.out(&["list", "--json"]));
    let now = v["now"].as_u64().expect("now");
    let expires = |name: &str| {
        v["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))["expires"]
            .as_u64()
    };
    assert_eq!(expires("k"), None, "script keys never expire by default");
    assert_eq!(expires("t-none"), None);
    let t = expires("t").expect("session tokens get 24h");
    assert!((now + 24 * 3600).abs_diff(t) <= 2, "{t} vs {now}");
    let w = expires("week").expect("7d");
    assert!((now + 7 * 86400).abs_diff(w) <= 2);

    // Bad durations are usage errors, before anything is read.
    for bad in ["10", "5x", "0s", ""] {
        env.put("bad", "x", &["--ttl", bad])
            .expect(code::USAGE)
            .one_line_error();
    }
}

#[test]
fn json_shapes_are_stable() {
    let env = Env::with_vault();
    put_script_key(&env, "shotgun/farm").expect(code::OK);
    let v = json(&env.out(&["get", "shotgun/farm", "--json"]));
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "name",
        "kind",
        "host",
        "created",
        "created_at",
        "updated",
        "updated_at",
        "expires",
        "expires_at",
        "expired",
        "fields",
    ] {
        assert!(keys.contains(&k), "missing {k} in {v}");
    }
    assert_eq!(v["kind"], "script_key");
    assert_eq!(v["expires"], serde_json::Value::Null);
    assert_eq!(v["fields"]["api_key"], API_KEY);
    assert_eq!(v["fields"]["api_script"], "render_farm");
    assert_eq!(v["fields"]["http_proxy"], serde_json::Value::Null);
    let created_at = v["created_at"].as_str().expect("created_at");
    assert_eq!(created_at.len(), 20, "{created_at}");
    assert!(created_at.ends_with('Z'));

    let f = json(&env.out(&["get", "shotgun/farm", "--field", "host", "--json"]));
    assert_eq!(
        f,
        serde_json::json!({"name": "shotgun/farm", "field": "host", "value": HOST, "encoding": "utf-8"})
    );

    // Opaque bytes that are not UTF-8 come out as base64 in JSON, raw otherwise.
    env.run(
        &["put", "bin", "--keep-newline"],
        Some(&[0xff, 0x00, 0x41, b'\n']),
    )
    .expect(code::OK);
    let b = json(&env.out(&["get", "bin", "--json"]));
    assert_eq!(b["fields"]["secret"], "/wBBCg==");
    assert_eq!(b["fields"]["secret_encoding"], "base64");
    let raw = env.cmd().args(["get", "bin", "-n"]).output().expect("run");
    assert_eq!(raw.stdout, [0xff, 0x00, 0x41, b'\n']);

    let purge = json(&env.out(&["purge", "--json"]));
    assert_eq!(purge, serde_json::json!({"purged": 0}));
    let renew = json(&env.out(&["renew", "bin", "--ttl", "2h", "--json"]));
    assert_eq!(renew["name"], "bin");
    assert!(renew["expires"].as_u64().is_some() && renew["expires_at"].is_string());
}

#[test]
fn fields_a_kind_lacks_are_not_found() {
    let env = Env::with_vault();
    put_script_key(&env, "k").expect(code::OK);
    let r = env
        .run(&["get", "k", "--field", "login"], None)
        .expect(code::NOT_FOUND);
    r.one_line_error();
    assert!(r.stderr.contains("no login field"), "{}", r.stderr);
    env.fails(&["get", "k", "--field", "http_proxy"], code::NOT_FOUND);
    env.fails(&["get", "k", "--field", "nonsense"], code::USAGE);
}

#[test]
fn put_refuses_secrets_on_argv_and_wrong_flags() {
    let env = Env::with_vault();
    let r = env
        .run(&["put", "name", "hunter2-on-argv"], None)
        .expect(code::USAGE);
    r.one_line_error();
    assert!(
        !r.stderr.contains("hunter2-on-argv"),
        "echoed the secret: {}",
        r.stderr
    );
    // Typed kinds need their fields; opaque takes none.
    let r = env
        .run(
            &["put", "k", "--kind", "script_key", "--host", HOST],
            Some(b"x"),
        )
        .expect(code::USAGE);
    r.one_line_error();
    assert!(
        r.stderr.contains("--kind script_key needs --script-name"),
        "{}",
        r.stderr
    );
    let r = env
        .run(&["put", "k", "--host", HOST], Some(b"x"))
        .expect(code::USAGE);
    r.one_line_error();
    assert!(
        r.stderr.contains("--host does not apply to --kind opaque"),
        "{}",
        r.stderr
    );
    env.run(&["put", "k", "--kind", "bogus"], Some(b"x"))
        .expect(code::USAGE)
        .one_line_error();
    // A proxy with credentials is refused on argv; from a file it is stored.
    env.put_script_key("k", "x", &["--http-proxy", "u:pw@proxy:8080"])
        .expect(code::INSECURE)
        .one_line_error();
    let proxy = env.path("proxy");
    common::write_private(&proxy, b"u:pw@proxy:8080\n");
    env.put_script_key(
        "k",
        "x",
        &["--http-proxy-file", proxy.to_str().expect("utf8")],
    )
    .expect(code::OK);
    assert_eq!(
        env.out(&["get", "k", "--field", "http_proxy"]),
        "u:pw@proxy:8080\n"
    );
    // Empty secrets and invalid names.
    env.put("empty", "", &[])
        .expect(code::USAGE)
        .one_line_error();
    env.put("bad\u{1}name", "x", &[])
        .expect(code::USAGE)
        .one_line_error();
    // Session metadata from a file.
    let meta = env.path("meta");
    common::write_private(&meta, b"bWV0YQ==\n");
    env.run(
        &[
            "put",
            "s",
            "--kind",
            "session_token",
            "--host",
            HOST,
            "--login",
            "jdoe",
            "--session-metadata-file",
            meta.to_str().expect("utf8"),
        ],
        Some(b"tok"),
    )
    .expect(code::OK);
    assert_eq!(
        env.out(&["get", "s", "--field", "session_metadata"]),
        "bWV0YQ==\n"
    );
    // login_password.
    env.run(
        &[
            "put",
            "lp",
            "--kind",
            "login_password",
            "--host",
            HOST,
            "--login",
            "jdoe",
        ],
        Some(b"pw-9"),
    )
    .expect(code::OK);
    assert_eq!(env.out(&["get", "lp", "--field", "password"]), "pw-9\n");
}

#[test]
fn expired_entries_renew_purge_and_check() {
    let env = Env::with_vault();
    env.put("fresh", "f", &["--ttl", "7d"]).expect(code::OK);
    env.put("soon", "s", &["--ttl", "30m"]).expect(code::OK);
    // Entries written on a clock two hours behind, with a one-hour TTL, are already
    // expired for the binary's system clock: no test sleeps.
    {
        let v = env.open_in_process(-7200);
        let opts = farmvault::PutOptions::new().ttl(Duration::from_secs(3600));
        v.put("old1", b"o1", &opts).expect("put");
        v.put("old2", b"o2", &opts).expect("put");
        v.put("old3", b"o3", &opts).expect("put");
    }
    // check: 1 with the expired ones on stderr.
    let r = env.run(&["check"], None).expect(code::FAILURE);
    assert!(
        r.stderr.contains("expired: old1") && r.stderr.contains("expired: old2"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("soon"), "{}", r.stderr);
    let c = json(
        &env.run(&["check", "--json", "--expiring-within", "1h"], None)
            .expect(code::FAILURE)
            .stdout,
    );
    assert_eq!(c["ok"], false);
    assert_eq!(c["expired"].as_array().expect("expired").len(), 3);
    assert_eq!(c["expiring"][0]["name"], "soon");
    assert_eq!(c["damaged"], serde_json::json!([]));

    // list shows them as expired; --expiring-within filters.
    let l = env.run(&["list"], None).expect(code::OK);
    assert!(
        l.stdout
            .lines()
            .any(|x| x.starts_with("old1") && x.contains("EXPIRED 1h ago")),
        "{}",
        l.stdout
    );
    let soon = json(&env.out(&["list", "--json", "--expiring-within", "1h"]));
    let names: Vec<&str> = soon["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["old1", "old2", "old3", "soon"]);

    // get of an expired entry: 4, every time (a read removes nothing); renew of
    // one: 4, and it is left as it was.
    env.fails(&["get", "old1"], code::EXPIRED);
    env.fails(&["get", "old1"], code::EXPIRED);
    env.fails(&["renew", "old2", "--ttl", "1h"], code::EXPIRED);
    env.fails(&["get", "old2"], code::EXPIRED);
    // purge removes all three and says how many.
    let p = env.run(&["purge"], None).expect(code::OK);
    // A confirmation: on stderr, and nothing on stdout but data.
    assert!(
        p.stderr.lines().any(|l| l == "purged 3 expired entries"),
        "{}",
        p.stderr
    );
    assert_eq!(p.stdout, "");
    env.run(&["get", "old1"], None).expect(code::NOT_FOUND);
    // renew the one expiring soon; check passes with a window that excludes it.
    env.run(&["check", "--expiring-within", "1h"], None)
        .expect(code::FAILURE);
    env.run(&["renew", "soon", "--ttl", "8h"], None)
        .expect(code::OK);
    let ok = env
        .run(&["check", "--expiring-within", "1h"], None)
        .expect(code::OK);
    assert!(
        ok.stderr.lines().any(|l| l.starts_with("ok: 2 entries")),
        "{}",
        ok.stderr
    );
    env.run(&["renew", "soon", "--ttl", "none"], None)
        .expect(code::OK);
    env.run(&["renew", "missing", "--ttl", "1h"], None)
        .expect(code::NOT_FOUND);
    env.fails(&["renew", "soon"], code::USAGE);
}

#[test]
fn tampered_entries_are_reported() {
    let env = Env::with_vault();
    env.put("victim", "v-secret", &[]).expect(code::OK);
    env.put("bystander", "b-secret", &[]).expect(code::OK);
    {
        // Flip a ciphertext byte of one entry, through sled itself.
        let db = sled::open(crate::common::data_dir(&env.vault)).expect("sled");
        let mut entries = db.scan_prefix([b'E']);
        let (k, v) = entries.next().expect("an entry").expect("read");
        let mut v = v.to_vec();
        let last = v.len() - 1;
        v[last] ^= 1;
        db.insert(k, v).expect("insert");
        db.flush().expect("flush");
    }
    let c = env.run(&["check"], None).expect(code::CORRUPT);
    assert!(
        c.stderr.contains("damaged: entry with on-disk id"),
        "{}",
        c.stderr
    );
    let gets: Vec<i32> = ["victim", "bystander"]
        .iter()
        .map(|n| env.run(&["get", n], None).code)
        .collect();
    assert!(
        gets.contains(&code::CORRUPT) && gets.contains(&code::OK),
        "{gets:?}"
    );
    let l = env.run(&["list"], None).expect(code::OK);
    assert!(l.stderr.contains("failed authentication"), "{}", l.stderr);
}

#[test]
fn usage_errors_are_one_line_with_code_2() {
    let env = Env::with_vault();
    for args in [
        vec!["frobnicate"],
        vec!["get"],
        vec!["list", "--expiring-within", "soon"],
        vec!["--lock-timeout", "x", "list"],
        vec!["exec", "--env", "1BAD=x", "--", "true"],
    ] {
        let r = env.run(&args, None).expect(code::USAGE);
        r.one_line_error();
    }
    // Help lists the exit codes and the JSON shapes.
    let help = env.run(&["--help"], None).expect(code::OK);
    for needle in [
        "Exit status:",
        "126",
        "127",
        "list:   {now, now_at, entries",
        "FARMVAULT_PASSPHRASE_FILE",
    ] {
        assert!(help.stdout.contains(needle), "help lacks {needle}");
    }
}

#[test]
fn every_process_reading_an_expired_entry_is_told_it_expired() {
    let env = Env::with_vault();
    // Written on a clock two hours behind with a one-hour TTL: expired now.
    {
        let v = env.open_in_process(-7200);
        let opts = farmvault::PutOptions::new().ttl(Duration::from_secs(3600));
        v.put("shotgun/tok", b"t", &opts).expect("put");
        v.put_credential(
            "shotgun/farm",
            &farmvault::Credential::ScriptKey(farmvault::ScriptKey {
                host: HOST.into(),
                script_name: "render_farm".into(),
                api_key: "key-1".into(),
                http_proxy: None,
            }),
            &opts,
        )
        .expect("put");
    }
    // A farm of jobs, each its own process: one answer for all of them.
    for _ in 0..3 {
        let r = env.fails(&["get", "shotgun/tok"], code::EXPIRED);
        assert!(r.stderr.contains("expired at"), "{}", r.stderr);
        assert!(!r.stderr.contains("removed"), "{}", r.stderr);
        env.fails(&["export-sgtk", "shotgun/farm"], code::EXPIRED);
    }
    // list and export leave them too: still listed, still expired.
    let l = json(&env.out(&["list", "--json"]));
    let entries = l["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{l}");
    assert!(entries.iter().all(|e| e["expired"] == true), "{l}");
    // The store is as it was: on the writer's clock the entries still read.
    let v = env.open_in_process(-7200);
    assert_eq!(
        v.get("shotgun/tok").expect("unchanged").credential.secret(),
        b"t"
    );
}
