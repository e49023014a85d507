//! `farmvault` init / passwd / key-file / rotate, the unlock rules (key file,
//! passphrase file, FARMVAULT_PASSPHRASE refused), file-mode checks, and the
//! wrong-key, locked, no-vault and exists exit codes.

use crate::common::{self, chmod, code, write_private, Env, PW};
use std::path::PathBuf;

#[test]
fn init_refuses_to_overwrite_and_reports_missing_vaults() {
    let env = Env::new();
    env.fails(&["list"], code::NO_VAULT);
    let r = env.run(&["init"], None).expect(code::OK);
    assert!(r.stderr.contains("created a vault"), "{}", r.stderr);
    assert_eq!(r.stdout, "", "a confirmation goes to stderr");
    assert!(
        r.stderr.contains("test-only"),
        "the weak KDF is announced: {}",
        r.stderr
    );
    env.fails(&["init"], code::EXISTS);
    // The vault directory is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env.vault)
            .expect("vault")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    // An empty passphrase file is refused.
    let empty = Env::new();
    write_private(&empty.passphrase_file, b"\n");
    empty
        .run(&["init"], None)
        .expect(code::USAGE)
        .one_line_error();
}

#[test]
fn init_with_a_generated_key_file() {
    let env = Env::new();
    let key = env.path("farm.key");
    let key_s = key.to_str().expect("utf8");
    env.run(&["init", "--key-file", key_s, "--generate-key-file"], None)
        .expect(code::OK);
    let bytes = std::fs::read(&key).expect("key file");
    assert_eq!(bytes.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Opens with the key file (FARMVAULT_KEY_FILE wins over the passphrase file).
    env.put("a", "x", &["--key-file", key_s]).expect(code::OK);
    env.fails(&["list"], code::WRONG_KEY);
    let r = env.run(&["list", "-q"], None);
    assert_eq!(r.code, code::WRONG_KEY);
    let ok = env
        .cmd()
        .env("FARMVAULT_KEY_FILE", &key)
        .args(["get", "a"])
        .output()
        .expect("run");
    assert_eq!(ok.stdout, b"x\n");
    // A second init never overwrites the key file or the vault.
    let other = Env::new();
    let r = other.run(&["init", "--key-file", key_s, "--generate-key-file"], None);
    r.expect(code::EXISTS).one_line_error();
    assert_eq!(
        std::fs::read(&key).expect("key"),
        bytes,
        "key file untouched"
    );
    // --generate-key-file needs --key-file.
    other
        .run(&["init", "--generate-key-file"], None)
        .expect(code::USAGE)
        .one_line_error();
    // A key file of the wrong size is a usage error.
    let short = other.path("short.key");
    write_private(&short, b"too short");
    other
        .run(&["init", "--key-file", short.to_str().expect("utf8")], None)
        .expect(code::USAGE)
        .one_line_error();
}

/// The directories whose entries `cmd` fsynced, read off `strace -y`; `None`
/// where strace cannot trace here.
#[cfg(target_os = "linux")]
fn directories_fsynced(env: &Env, cmd: &std::process::Command) -> Option<Vec<PathBuf>> {
    if !common::strace_works() {
        return None;
    }
    let log = env.path("strace.log");
    let mut traced = common::under_strace(cmd, &["-y", "-e", "trace=fsync,fdatasync"], &log);
    common::run(&mut traced, None).expect(code::OK);
    let text = std::fs::read_to_string(&log).expect("strace log");
    // Lines look like `1234 fsync(3</tmp/x/a>)      = 0`.
    Some(
        text.lines()
            .filter(|l| l.trim_end().ends_with("= 0"))
            .filter_map(|l| {
                let inside = l.split_once('<')?.1;
                let path = PathBuf::from(inside.split_once(">)")?.0);
                path.is_dir().then_some(path)
            })
            .collect(),
    )
}

#[test]
#[cfg(target_os = "linux")]
fn init_syncs_every_directory_it_creates_an_entry_in() {
    let env = Env::new();
    let keys = env.path("keys");
    std::fs::create_dir(&keys).expect("mkdir keys");
    let key = keys.join("farm.key");
    let vault = env.path("a").join("b").join("vault");
    let mut cmd = env.cmd();
    cmd.env("FARMVAULT_PATH", &vault)
        .args(["init", "--key-file"])
        .arg(&key)
        .arg("--generate-key-file");
    let Some(synced) = directories_fsynced(&env, &cmd) else {
        return;
    };
    let root = std::fs::canonicalize(env.path("")).expect("root");
    // A new name is durable only once the directory holding it is synced: the
    // vault directory and each parent init made, and the key file's directory.
    for dir in [
        root.clone(),
        root.join("a"),
        root.join("a").join("b"),
        root.join("keys"),
    ] {
        assert!(
            synced.contains(&dir),
            "{} was never fsynced; fsynced: {synced:?}",
            dir.display()
        );
    }
}

#[test]
fn unlock_rules_and_file_modes() {
    let env = Env::with_vault();
    env.put("a", "secret-a", &[]).expect(code::OK);
    // A plain passphrase variable is refused, whatever else is set.
    let r = common::run(
        env.cmd().env("FARMVAULT_PASSPHRASE", PW).args(["list"]),
        None,
    );
    let r = r.expect(code::INSECURE);
    r.one_line_error();
    assert!(
        r.stderr.contains("FARMVAULT_PASSPHRASE_FILE"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(PW));
    // Wrong passphrase: 5.
    let wrong = env.path("wrong");
    write_private(&wrong, b"not it\n");
    common::run(
        env.cmd()
            .env("FARMVAULT_PASSPHRASE_FILE", &wrong)
            .args(["get", "a"]),
        None,
    )
    .expect(code::WRONG_KEY)
    .one_line_error();
    // The passphrase file may come through --passphrase-file as well.
    let r = env.run(
        &[
            "get",
            "a",
            "--passphrase-file",
            env.passphrase_file.to_str().expect("utf8"),
        ],
        None,
    );
    assert_eq!(r.expect(code::OK).stdout, "secret-a\n");
    // A passphrase file without a trailing newline works too.
    let bare = env.path("bare");
    write_private(&bare, PW.as_bytes());
    common::run(
        env.cmd()
            .env("FARMVAULT_PASSPHRASE_FILE", &bare)
            .args(["get", "a"]),
        None,
    )
    .expect(code::OK);
    // ...and /dev/stdin (a pipe: no mode to check).
    #[cfg(unix)]
    common::run(
        env.cmd()
            .env("FARMVAULT_PASSPHRASE_FILE", "/dev/stdin")
            .args(["list"]),
        Some(format!("{PW}\n").as_bytes()),
    )
    .expect(code::OK);

    #[cfg(unix)]
    {
        // Loose modes are refused with the fix in the message, unless --insecure-permissions.
        chmod(&env.passphrase_file, 0o640);
        let r = env.run(&["list"], None).expect(code::INSECURE);
        r.one_line_error();
        assert!(
            r.stderr
                .contains(&format!("chmod 600 {}", env.passphrase_file.display())),
            "{}",
            r.stderr
        );
        env.run(&["list", "--insecure-permissions"], None)
            .expect(code::OK);
        chmod(&env.passphrase_file, 0o600);

        chmod(&env.vault, 0o755);
        let r = env.run(&["list"], None).expect(code::INSECURE);
        assert!(
            r.stderr
                .contains(&format!("chmod 700 {}", env.vault.display())),
            "{}",
            r.stderr
        );
        chmod(&env.vault, 0o700);

        let key = env.path("k.key");
        env.run(
            &["key-file", "add", key.to_str().expect("utf8"), "--generate"],
            None,
        )
        .expect(code::OK);
        chmod(&key, 0o604);
        let r = common::run(
            env.cmd().env("FARMVAULT_KEY_FILE", &key).args(["list"]),
            None,
        );
        r.expect(code::INSECURE).one_line_error();
        chmod(&key, 0o600);
        common::run(
            env.cmd().env("FARMVAULT_KEY_FILE", &key).args(["list"]),
            None,
        )
        .expect(code::OK);
    }
}

#[test]
fn passwd_changes_the_passphrase_without_touching_entries() {
    let env = Env::with_vault();
    env.put("a", "secret-a", &[]).expect(code::OK);
    let new = env.path("new");
    write_private(&new, b"a brand new passphrase\n");
    let r = common::run(
        env.cmd()
            .env("FARMVAULT_NEW_PASSPHRASE_FILE", &new)
            .arg("passwd"),
        None,
    );
    assert!(r.expect(code::OK).stderr.contains("passphrase changed"));
    env.run(&["get", "a"], None).expect(code::WRONG_KEY);
    let r = common::run(
        env.cmd()
            .env("FARMVAULT_PASSPHRASE_FILE", &new)
            .args(["get", "a"]),
        None,
    );
    assert_eq!(r.expect(code::OK).stdout, "secret-a\n");
    // An empty new passphrase is refused.
    let empty = env.path("empty");
    write_private(&empty, b"");
    common::run(
        env.cmd()
            .env("FARMVAULT_PASSPHRASE_FILE", &new)
            .env("FARMVAULT_NEW_PASSPHRASE_FILE", &empty)
            .arg("passwd"),
        None,
    )
    .expect(code::USAGE)
    .one_line_error();
}

#[test]
fn key_files_and_rotation() {
    let env = Env::with_vault();
    for i in 0..5 {
        env.put(&format!("e{i}"), &format!("secret-{i}"), &[])
            .expect(code::OK);
    }
    let k1 = env.path("k1.key");
    let k1s = k1.to_str().expect("utf8");
    env.run(&["key-file", "add", k1s, "--generate"], None)
        .expect(code::OK);
    env.fails(&["key-file", "add", k1s, "--generate"], code::EXISTS);
    // Adding the same key twice is refused by the core.
    env.fails(&["key-file", "add", k1s], code::USAGE);
    let with_key = || {
        let mut c = env.cmd();
        c.env("FARMVAULT_KEY_FILE", &k1);
        c
    };
    assert_eq!(
        common::run(with_key().args(["get", "e3"]), None)
            .expect(code::OK)
            .stdout,
        "secret-3\n"
    );

    // Rotating with a passphrase while a key-file slot exists: refused unless kept or dropped.
    let r = env.run(&["rotate"], None).expect(code::USAGE);
    r.one_line_error();
    assert!(r.stderr.contains("--keep-key-file"), "{}", r.stderr);
    let r = env
        .run(&["rotate", "--keep-key-file", k1s], None)
        .expect(code::OK);
    assert!(r.stderr.contains("re-encrypted 5 entries"), "{}", r.stderr);
    assert_eq!(
        common::run(with_key().args(["get", "e4"]), None)
            .expect(code::OK)
            .stdout,
        "secret-4\n"
    );
    assert_eq!(env.out(&["get", "e0"]), "secret-0\n");

    // Opened with the key file, the passphrase slot is kept with --keep-passphrase.
    let keep = env.path("keep");
    write_private(&keep, format!("{PW}\n").as_bytes());
    common::run(
        with_key()
            .env("FARMVAULT_KEEP_PASSPHRASE_FILE", &keep)
            .args(["rotate", "--keep-passphrase"]),
        None,
    )
    .expect(code::OK);
    env.run(&["get", "e1"], None).expect(code::OK);

    // key-file remove, then it no longer opens; the last slot cannot go.
    env.run(&["key-file", "remove", k1s], None).expect(code::OK);
    common::run(with_key().args(["list"]), None).expect(code::WRONG_KEY);
    let k2 = env.path("k2.key");
    let k2s = k2.to_str().expect("utf8");
    env.run(&["key-file", "add", k2s, "--generate"], None)
        .expect(code::OK);
    env.run(&["rotate", "--drop-other-slots"], None)
        .expect(code::OK);
    common::run(
        env.cmd().env("FARMVAULT_KEY_FILE", &k2).args(["list"]),
        None,
    )
    .expect(code::WRONG_KEY);
    env.fails(&["key-file", "remove", k2s], code::USAGE);
    env.fails(
        &[
            "key-file",
            "remove",
            env.path("missing").to_str().expect("utf8"),
        ],
        code::IO,
    );
    // Nothing of the secrets on disk after all that.
    for i in 0..5 {
        assert!(common::files_containing(&env.vault, format!("secret-{i}").as_bytes()).is_empty());
    }
}

#[test]
fn a_vault_held_by_another_process_is_locked() {
    let env = Env::with_vault();
    let held = env.open_in_process(0);
    let r = env
        .run(&["--lock-timeout", "300ms", "list"], None)
        .expect(code::LOCKED);
    r.one_line_error();
    assert!(r.stderr.contains("--lock-timeout"), "{}", r.stderr);
    // The holder is named: this test's own process.
    let me = format!("in use by process {} (", std::process::id());
    assert!(r.stderr.contains(&me), "{}", r.stderr);
    drop(held);
    env.run(&["list"], None).expect(code::OK);
}

#[test]
fn empty_variables_are_named() {
    let env = Env::with_vault();
    let r = common::run(env.cmd().env("FARMVAULT_PATH", "").arg("list"), None);
    let r = r.expect(code::USAGE);
    r.one_line_error();
    assert!(
        r.stderr.contains("FARMVAULT_PATH is set but empty"),
        "{}",
        r.stderr
    );
}

#[test]
fn io_errors_have_their_own_code() {
    let env = Env::with_vault();
    let missing = env.path("nope");
    common::run(
        env.cmd()
            .env("FARMVAULT_PASSPHRASE_FILE", &missing)
            .arg("list"),
        None,
    )
    .expect(code::IO)
    .one_line_error();
}

#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn the_default_vault_is_under_the_xdg_data_directory() {
    let env = Env::new();
    let xdg = env.path("xdg");
    let r = common::run(
        env.cmd()
            .env_remove("FARMVAULT_PATH")
            .env("XDG_DATA_HOME", &xdg)
            .arg("init"),
        None,
    );
    r.expect(code::OK);
    assert!(xdg.join("farmvault/vault").is_dir());
    // Without XDG_DATA_HOME: ~/.local/share/farmvault/vault (HOME is the workspace).
    let r = common::run(env.cmd().env_remove("FARMVAULT_PATH").arg("init"), None);
    r.expect(code::OK);
    assert!(env.path(".local/share/farmvault/vault").is_dir());
    // --vault wins over FARMVAULT_PATH.
    let other = env.path("other");
    env.run(&["--vault", other.to_str().expect("utf8"), "init"], None)
        .expect(code::OK);
    assert!(other.is_dir());
    assert!(!env.vault.exists());
}

#[test]
fn only_get_and_export_print_secrets() {
    const SECRET: &str = "never-printed-6d1e9b";
    let env = Env::new();
    let mut outputs = vec![env.run(&["init"], None).expect(code::OK).all()];
    let mut ok = |args: &[&str], stdin: Option<&[u8]>| {
        let r = env.run(args, stdin);
        assert!(matches!(r.code, 0 | 1 | 3), "{args:?}: {}", r.all());
        outputs.push(r.all());
    };
    ok(
        &[
            "put",
            "s",
            "--kind",
            "session_token",
            "--host",
            "https://h",
            "--login",
            "u",
        ],
        Some(SECRET.as_bytes()),
    );
    ok(&["put", "o", "--ttl", "1h"], Some(SECRET.as_bytes()));
    let user = format!(
        r#"{{"type": "ScriptUser", "data": {{"http_proxy": null, "host": "https://h", "api_script": "s", "api_key": "{SECRET}"}}}}"#
    );
    ok(&["import-sgtk", "i"], Some(user.as_bytes()));
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["list", "--expiring-within", "2h"],
        &["renew", "s", "--ttl", "2h"],
        &["renew", "s", "--ttl", "2h", "--json"],
        &["check"],
        &["check", "--json", "--expiring-within", "3h"],
        &["purge"],
        &["purge", "--json"],
        &["rotate"],
        &["rm", "o"],
        &["rm", "o"],
        &["get", "s", "--field", "host"],
        &["get", "s", "--field", "login", "--json"],
        &["exec", "--env", "X=s", "--", "true"],
    ] {
        ok(args, None);
    }
    let k = env.path("k.key");
    ok(
        &["key-file", "add", k.to_str().expect("utf8"), "--generate"],
        None,
    );
    ok(&["key-file", "remove", k.to_str().expect("utf8")], None);
    let new = env.path("new");
    write_private(&new, format!("{PW}\n").as_bytes());
    let r = common::run(
        env.cmd()
            .env("FARMVAULT_NEW_PASSPHRASE_FILE", &new)
            .arg("passwd"),
        None,
    );
    outputs.push(r.expect(code::OK).all());
    for out in &outputs {
        assert!(!out.contains(SECRET), "secret printed: {out}");
        assert!(!out.contains(PW), "passphrase printed: {out}");
    }
    assert!(common::files_containing(env.dir.path(), SECRET.as_bytes()).is_empty());
    // get and export-sgtk do print it (to a pipe).
    assert!(env
        .run(&["get", "s"], None)
        .expect(code::OK)
        .stdout
        .contains(SECRET));
    assert!(env
        .run(&["export-sgtk", "i"], None)
        .expect(code::OK)
        .stdout
        .contains(SECRET));
}
