//! Input that would cost memory, mislead a terminal or leak a password is
//! refused or escaped, and a vault that is cheap to attack says so.
#![cfg(unix)]

use crate::common::{self, code, Env, HOST};
use std::process::Command;

/// `script` run by sh with `$FV` the binary, in `env`'s environment, under
/// a 768 MiB address-space limit and a 60 s timeout: reading an endless input
/// whole fails (or is killed) instead of passing.
fn limited(env: &Env, script: &str) -> common::Run {
    let base = env.cmd();
    let mut cmd = Command::new("timeout");
    cmd.args(["60", "sh", "-c", &format!("ulimit -v 786432; {script}")])
        .env("FV", env!("CARGO_BIN_EXE_farmvault"))
        .current_dir(env.dir.path());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    common::run(&mut cmd, None)
}

#[test]
fn endless_stdin_stops_at_the_limit() {
    let env = Env::with_vault();
    let r = limited(&env, r#"exec "$FV" put big < /dev/zero"#).expect(code::USAGE);
    r.one_line_error();
    assert!(r.stderr.contains("limit of 1048576 bytes"), "{}", r.stderr);
    let r = limited(&env, r#"exec "$FV" import-sgtk big --ttl 1h < /dev/zero"#).expect(code::USAGE);
    assert!(r.stderr.contains("limit of 1048576 bytes"), "{}", r.stderr);
    // Exactly the limit, with the newline `print` adds, is fine.
    let mut max = vec![b'x'; farmvault::MAX_SECRET_LEN];
    max.push(b'\n');
    env.run(&["put", "max"], Some(&max)).expect(code::OK);
    assert_eq!(
        env.run(&["get", "max"], None).expect(code::OK).stdout.len(),
        farmvault::MAX_SECRET_LEN + 1
    );
    max.truncate(farmvault::MAX_SECRET_LEN);
    max.push(b'y');
    let r = env.run(&["put", "over"], Some(&max)).expect(code::USAGE);
    assert!(r.stderr.contains("limit of 1048576 bytes"), "{}", r.stderr);
    assert_eq!(env.out(&["list", "--json"]).matches("\"name\"").count(), 1);
}

#[test]
fn restore_reads_no_endless_or_oversized_file() {
    let env = Env::new();
    let target = env.path("restored");
    let t = target.to_str().expect("utf8");
    let r = limited(
        &env,
        &format!(
            r#"exec "$FV" --vault {} restore /dev/zero"#,
            common::sh_quote(t)
        ),
    )
    .expect(code::CORRUPT);
    assert!(r.stderr.contains("not a farmvault backup"), "{}", r.stderr);
    // A (sparse) file past the cap is refused from its size, unread.
    let big = env.path("big.fvbk");
    let f = std::fs::File::create(&big).expect("create");
    std::io::Write::write_all(&mut &f, b"FVBK").expect("write");
    f.set_len(farmvault::MAX_RESTORE_LEN + 1).expect("sparse");
    let r = limited(
        &env,
        &format!(
            r#"exec "$FV" --vault {} restore {}"#,
            common::sh_quote(t),
            common::sh_quote(big.to_str().expect("utf8"))
        ),
    )
    .expect(code::USAGE);
    assert!(r.stderr.contains("larger than the limit"), "{}", r.stderr);
    assert!(!target.exists());
}

#[test]
fn names_hosts_and_logins_with_control_or_bidi_characters_are_refused() {
    let env = Env::with_vault();
    for name in [
        "invoice\u{202e}fdp.exe",
        "a\u{2066}b",
        "a\u{200f}b",
        "a\u{061c}b",
    ] {
        let r = env.put(name, "s", &[]).expect(code::USAGE);
        assert!(r.stderr.contains("bidi control character"), "{}", r.stderr);
        assert!(!r.stderr.contains(name), "raw: {}", r.stderr);
    }
    let host = format!("{HOST}\u{1b}[2J");
    let r = env
        .run(
            &[
                "put",
                "k",
                "--kind",
                "script_key",
                "--host",
                &host,
                "--script-name",
                "s",
            ],
            Some(b"key"),
        )
        .expect(code::USAGE);
    assert!(r.stderr.contains("U+001B"), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "raw ESC: {:?}", r.stderr);
    let r = env
        .run(
            &[
                "put",
                "k",
                "--kind",
                "session_token",
                "--host",
                HOST,
                "--login",
                "jdoe\u{202e}",
            ],
            Some(b"token"),
        )
        .expect(code::USAGE);
    assert!(r.stderr.contains("login contains"), "{}", r.stderr);
    assert_eq!(env.out(&["list", "--json"]).matches("\"name\"").count(), 0);
}

#[test]
fn hosts_must_be_https_urls_without_credentials() {
    let env = Env::with_vault();
    let put = |host: &str, extra: &[&str]| {
        let mut args = vec![
            "put",
            "k",
            "--kind",
            "script_key",
            "--host",
            host,
            "--script-name",
            "s",
        ];
        args.extend_from_slice(extra);
        env.run(&args, Some(b"key"))
    };
    for (host, needle) in [
        ("https://jdoe:hunter2-PW@site.example", "holds credentials"),
        ("site.example", "not a URL"),
        ("http://sg.internal.studio", "in clear"),
    ] {
        let r = put(host, &[]).expect(code::USAGE);
        r.one_line_error();
        assert!(r.stderr.contains(needle), "{host}: {}", r.stderr);
        assert!(!r.all().contains("hunter2-PW"), "{}", r.all());
    }
    assert!(!env.out(&["list"]).contains("hunter2-PW"));
    // --allow-http is the explicit way to store an http:// host; credentials
    // in the URL stay refused with it.
    put("http://sg.internal.studio", &["--allow-http"]).expect(code::OK);
    assert!(env.out(&["list"]).contains("http://sg.internal.studio"));
    put(
        "http://jdoe:hunter2-PW@sg.internal.studio",
        &["--allow-http"],
    )
    .expect(code::USAGE);
}

#[test]
fn weak_kdf_slots_are_reported_once_per_run() {
    let env = Env::with_vault();
    env.put("a", "s", &[]).expect(code::OK);
    for args in [&["list"][..], &["check"], &["get", "a"]] {
        let r = env.run(args, None).expect(code::OK);
        assert_eq!(
            r.stderr.matches("weak Argon2id costs").count(),
            1,
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("passphrase slot 0 "), "{}", r.stderr);
    }
    // A vault with the default costs says nothing.
    let strong = Env::new();
    let mut init = strong.cmd();
    init.env_remove("FARMVAULT_INSECURE_KDF_FOR_TESTS")
        .arg("init");
    common::run(&mut init, None).expect(code::OK);
    let mut list = strong.cmd();
    list.env_remove("FARMVAULT_INSECURE_KDF_FOR_TESTS")
        .arg("list");
    let r = common::run(&mut list, None).expect(code::OK);
    assert!(!r.stderr.contains("weak"), "{}", r.stderr);
}
