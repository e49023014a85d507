//! What every command shares: only data on stdout and confirmations on stderr,
//! `--json` with the documented shape, usage errors that keep clap's
//! suggestions and name the right command, and the generated completions and
//! man pages.

use crate::common::{code, json, Env, HOST};

/// Every command run here, on a vault with an entry: a confirmation reaches
/// stderr, and stdout stays empty.
#[test]
fn confirmations_go_to_stderr_and_stdout_holds_only_data() {
    let env = Env::new();
    let init = env.run(&["init"], None).expect(code::OK);
    assert_eq!(init.stdout, "");
    assert!(init.stderr.contains("created a vault"), "{}", init.stderr);
    let newpw = env.path("newpw");
    crate::common::write_private(&newpw, b"another passphrase\n");
    // (arguments, stdin, what stderr says)
    type Step<'a> = (Vec<&'a str>, Option<&'a [u8]>, &'a str);
    let runs: Vec<Step> = vec![
        (vec!["put", "a"], Some(b"one"), "stored a"),
        (vec!["renew", "a", "--ttl", "8h"], None, "renewed a"),
        (vec!["check"], None, "ok: 1 entries"),
        (vec!["purge"], None, "purged 0 expired entries"),
        (vec!["compact"], None, "compacted 1 entry"),
        (vec!["backup", "--verify"], None, "matches the vault"),
        (vec!["rotate"], None, "re-encrypted 1 entry"),
        (vec!["rm", "a"], None, "removed a"),
    ];
    for (args, stdin, said) in runs {
        let r = env.run(&args, stdin).expect(code::OK);
        assert_eq!(r.stdout, "", "{args:?} printed on stdout");
        assert!(r.stderr.contains(said), "{args:?}: {}", r.stderr);
    }
    let r = env
        .cmd()
        .env("FARMVAULT_NEW_PASSPHRASE_FILE", &newpw)
        .arg("passwd")
        .output()
        .expect("run passwd");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(r.stdout.is_empty());
    crate::common::write_private(&env.passphrase_file, b"another passphrase\n");
    // --quiet drops confirmations; data still comes.
    let q = env.run(&["--quiet", "list"], None).expect(code::OK);
    assert_eq!(
        q.stderr.lines().filter(|l| !l.contains("warning:")).count(),
        0,
        "{}",
        q.stderr
    );
}

/// `--json` on the commands that had only text, with the shapes `--help` lists.
#[test]
fn every_writing_command_speaks_json() {
    let env = Env::new();
    let key = env.path("keys/farm.key");
    let key_s = key.to_str().unwrap();
    let v = json(&env.out(&["init", "--json"]));
    assert_eq!(v["unlock"], "passphrase");
    assert_eq!(v["key_file"], serde_json::Value::Null);
    assert_eq!(v["generated_key_file"], false);
    assert_eq!(v["vault"], env.vault.to_str().unwrap());

    let put = env
        .run(&["put", "a", "--json"], Some(b"one"))
        .expect(code::OK);
    let m = json(&put.stdout);
    assert_eq!(
        (m["name"].as_str(), m["kind"].as_str()),
        (Some("a"), Some("opaque"))
    );
    assert!(m["created_at"].is_string() && m["expires"].is_null(), "{m}");
    assert!(!put.stdout.contains("one"), "put --json printed the secret");

    let sk = env
        .put_script_key("sk", "KEY-123", &["--json"])
        .expect(code::OK);
    assert_eq!(json(&sk.stdout)["host"], HOST);

    let user = format!(
        r#"{{"type": "ScriptUser", "data": {{"http_proxy": null, "host": "{HOST}", "api_script": "s", "api_key": "KEY-456"}}}}"#
    );
    let imp = env
        .run(&["import-sgtk", "u", "--json"], Some(user.as_bytes()))
        .expect(code::OK);
    assert_eq!(json(&imp.stdout)["kind"], "script_key");
    let exp = json(&env.out(&["export-sgtk", "u", "--json"]));
    assert_eq!(
        (exp["kind"].as_str(), exp["encoding"].as_str()),
        (Some("script_key"), Some("utf-8"))
    );
    assert!(exp["value"].as_str().unwrap().contains("KEY-456"));

    let add = json(&env.out(&["key-file", "add", key_s, "--generate", "--json"]));
    assert_eq!(
        (add["action"].as_str(), add["key_file"].as_str()),
        (Some("added"), Some(key_s))
    );
    let kinds: Vec<&str> = add["keyslots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["passphrase", "key_file"]);

    let rot = json(&env.out(&["rotate", "--keep-key-file", key_s, "--json"]));
    assert_eq!(rot["entries"], 3);
    assert_eq!(rot["keyslots"].as_array().unwrap().len(), 2);

    let rm = json(&env.out(&["key-file", "remove", key_s, "--json"]));
    assert_eq!(rm["action"], "removed");
    assert_eq!(rm["keyslots"].as_array().unwrap().len(), 1);

    let newpw = env.path("newpw");
    crate::common::write_private(&newpw, b"another passphrase\n");
    let out = env
        .cmd()
        .env("FARMVAULT_NEW_PASSPHRASE_FILE", &newpw)
        .args(["passwd", "--json"])
        .output()
        .expect("run passwd");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pw = json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(pw["keyslots"][0]["kind"], "passphrase");
    crate::common::write_private(&env.passphrase_file, b"another passphrase\n");

    assert_eq!(json(&env.out(&["rm", "a", "--json"]))["removed"], "a");
}

/// `init --key-file` into folders that do not exist yet: they are made, 0700.
#[cfg(unix)]
#[test]
fn a_new_key_file_gets_its_folders_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let key = env.path("home/.config/farmvault/farm.key");
    env.run(
        &[
            "init",
            "--key-file",
            key.to_str().unwrap(),
            "--generate-key-file",
        ],
        None,
    )
    .expect(code::OK);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600);
    for dir in ["home", "home/.config", "home/.config/farmvault"] {
        assert_eq!(mode(&env.path(dir)), 0o700, "{dir}");
    }
    // A folder that was there already keeps its mode.
    let shared = env.path("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let id = shared.join("ids/farm.id");
    env.run(&["farm-keygen", "--identity", id.to_str().unwrap()], None)
        .expect(code::OK);
    assert_eq!(mode(&shared), 0o755);
    assert_eq!(mode(&shared.join("ids")), 0o700);
    assert_eq!(mode(&id), 0o600);
}

/// A field name mistyped after the colon names the field; a variable given
/// twice is refused before anything is read.
#[test]
fn exec_names_a_mistyped_field_and_refuses_a_variable_twice() {
    let env = Env::with_vault();
    env.put_script_key("shotgun/render_farm", "KEY-789", &[])
        .expect(code::OK);
    let typo = env.fails(
        &[
            "exec",
            "--env",
            "K=shotgun/render_farm:api_kye",
            "--",
            "true",
        ],
        code::NOT_FOUND,
    );
    assert!(
        typo.stderr.contains(r#"has no field named "api_kye""#) && typo.stderr.contains("api_key"),
        "{}",
        typo.stderr
    );
    let twice = env.fails(
        &[
            "exec",
            "--env",
            "K=shotgun/render_farm:api_key",
            "--env",
            "K=shotgun/render_farm:host",
            "--",
            "true",
        ],
        code::USAGE,
    );
    assert!(
        twice.stderr.contains("--env K is given more than once"),
        "{}",
        twice.stderr
    );
    // An entry whose name holds a colon is still read whole.
    env.put("ns:thing", "v", &[]).expect(code::OK);
    env.run(&["exec", "--env", "X=ns:thing", "--", "true"], None)
        .expect(code::OK);
}

/// A backup named without a folder lands in the working directory.
#[test]
fn backup_to_a_bare_file_name() {
    let env = Env::with_vault();
    env.put("a", "one", &[]).expect(code::OK);
    let r = env
        .run(&["backup", "vault-2026-12-07.fvbk"], None)
        .expect(code::OK);
    assert!(r.stderr.contains("wrote a backup"), "{}", r.stderr);
    assert!(env.path("vault-2026-12-07.fvbk").is_file());
}

/// clap's "a similar ... exists" tips stay, and the hint names the command.
#[test]
fn usage_errors_keep_suggestions_and_name_the_command() {
    let env = Env::new();
    let r = env.fails(&["lst"], code::USAGE);
    assert!(
        r.stderr.contains("a similar subcommand exists: 'list'"),
        "{}",
        r.stderr
    );
    let r = env.fails(&["list", "--jsn"], code::USAGE);
    assert!(
        r.stderr.contains("a similar argument exists: '--json'"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("see `farmvault list --help`"),
        "{}",
        r.stderr
    );
    let r = env.fails(&["key-file", "add"], code::USAGE);
    assert!(
        r.stderr.contains("see `farmvault key-file add --help`"),
        "{}",
        r.stderr
    );
    // An existing key file: the hint names the flag that was given.
    let key = env.path("farm.key");
    crate::common::write_private(&key, &[7; 32]);
    let r = env.fails(
        &[
            "init",
            "--key-file",
            key.to_str().unwrap(),
            "--generate-key-file",
        ],
        code::EXISTS,
    );
    assert!(
        r.stderr.contains("drop --generate-key-file"),
        "{}",
        r.stderr
    );
}

/// Completions for each shell name every command; the man pages cover every
/// command and say what the parser takes.
#[test]
fn completions_and_man_pages_come_from_the_parser() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = env.out(&["completions", shell]);
        // fish spells an option `-l expiring-within`.
        for needle in ["import-session-cache", "grant-policy", "expiring-within"] {
            assert!(script.contains(needle), "{shell} completion lacks {needle}");
        }
    }
    env.fails(&["completions", "tcsh"], code::USAGE);
    let page = env.out(&["man-page"]);
    assert!(
        page.starts_with(".ie") && page.contains(".TH farmvault 1"),
        "{page:.200}"
    );
    let dir = env.path("man1");
    std::fs::create_dir(&dir).unwrap();
    env.run(&["man-page", dir.to_str().unwrap()], None)
        .expect(code::OK);
    for page in [
        "farmvault.1",
        "farmvault-init.1",
        "farmvault-key-file-add.1",
        "farmvault-completions.1",
    ] {
        assert!(dir.join(page).is_file(), "no {page}");
    }
    let exec = std::fs::read_to_string(dir.join("farmvault-exec.1")).unwrap();
    assert!(exec.contains("pass\\-env"), "{exec:.300}");
}
