//! Snapshots of what a user reads: every command's `--help`
//! (`cli/tests/snapshots/help/<command>.txt`) and the one-line error of each
//! failure below with its exit status (`cli/tests/snapshots/errors.txt`), so a
//! change of wording is a diff in review. After a deliberate change:
//!   SNAPSHOTS=overwrite cargo test -p farmvault-cli --test cli snapshots
//! rewrites them; read the diff before committing it.

use crate::common::{code, write_private, Env, HOST};
use std::path::{Path, PathBuf};

fn snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Compares `actual` with the file `name` under tests/snapshots (rewritten
/// instead with SNAPSHOTS=overwrite).
#[track_caller]
fn assert_snapshot(name: &str, actual: String) {
    let path = snapshots().join(name);
    snapbox::Assert::new()
        .action_env(snapbox::assert::DEFAULT_ACTION_ENV)
        .eq(actual, snapbox::Data::read_from(&path, None).raw());
}

/// The commands `farmvault --help` lists (the words between "Commands:" and the
/// next blank line), `help` aside.
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// `farmvault ARGS` with no FARMVAULT_ variable set: --help shows the value of
/// each variable an option reads, which would be the test's own paths.
fn help(args: &[&str]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_farmvault"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("FARMVAULT_") {
            cmd.env_remove(k);
        }
    }
    crate::common::run(cmd.args(args), None)
        .expect(code::OK)
        .stdout
}

#[test]
fn every_help_text() {
    let top = help(&["--help"]);
    assert_snapshot("help/farmvault.txt", top.clone());
    let mut expected = vec!["farmvault.txt".to_owned()];
    for command in commands(&top) {
        let text = help(&[&command, "--help"]);
        assert_snapshot(&format!("help/{command}.txt"), text.clone());
        expected.push(format!("{command}.txt"));
        for sub in commands(&text) {
            let text = help(&[&command, &sub, "--help"]);
            assert_snapshot(&format!("help/{command}-{sub}.txt"), text);
            expected.push(format!("{command}-{sub}.txt"));
        }
    }
    assert!(expected.len() > 25, "farmvault --help lists {expected:?}");
    // A snapshot of a command that no longer exists is a stale file.
    let mut on_disk: Vec<String> = std::fs::read_dir(snapshots().join("help"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    on_disk.sort();
    expected.sort();
    if std::env::var("SNAPSHOTS").as_deref() != Ok("overwrite") {
        assert_eq!(
            on_disk, expected,
            "tests/snapshots/help/ and the commands differ"
        );
    }
}

/// One failure: what was run (paths of the test's directory as `[DIR]`), its
/// exit status and its error line (warnings about the test's weak KDF left out).
struct Case<'a> {
    env: &'a Env,
    out: String,
}

impl Case<'_> {
    fn run(&mut self, args: &[&str], stdin: Option<&[u8]>, code: i32) {
        let r = self.env.run(args, stdin);
        let dir = self.env.dir.path().to_str().unwrap();
        // Control and bidi characters shown escaped, so the file reads as it is.
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.replace(dir, "[DIR]"))
            .map(|a| {
                if a.chars().all(|c| c.is_ascii_graphic()) {
                    a
                } else {
                    a.escape_debug().to_string()
                }
            })
            .collect();
        let errors: Vec<String> = r
            .stderr
            .lines()
            .filter(|l| !l.contains("warning:"))
            .map(|l| redact_times(&l.replace(dir, "[DIR]")))
            .collect();
        assert_eq!(errors.len(), 1, "{shown:?} printed {errors:?}");
        assert_eq!(r.code, code, "{shown:?}: {}", r.stderr);
        self.out += &format!(
            "$ farmvault {}\nexit {}\n{}\n\n",
            shown.join(" "),
            r.code,
            errors[0]
        );
    }
}

/// `2026-12-07T19:35:25Z` as `[TIME]`: an expiry is the time of the run.
fn redact_times(line: &str) -> String {
    let shape = |w: &[u8]| {
        w.len() == 20
            && w.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                10 => *b == b'T',
                13 | 16 => *b == b':',
                19 => *b == b'Z',
                _ => b.is_ascii_digit(),
            })
    };
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if i + 20 <= bytes.len() && shape(&bytes[i..i + 20]) {
            out.push_str("[TIME]");
            i += 20;
        } else {
            let c = line[i..].chars().next().expect("a char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn every_error_message() {
    let env = Env::new();
    let mut c = Case {
        env: &env,
        out: String::new(),
    };
    let p = |name: &str| env.path(name).to_str().unwrap().to_owned();

    // Before there is a vault.
    c.run(&["list"], None, code::NO_VAULT);
    c.run(&["lst"], None, code::USAGE);
    c.run(&["list", "--jsn"], None, code::USAGE);
    c.run(&["get"], None, code::USAGE);
    c.run(&["renew", "a", "--ttl", "8 hours"], None, code::USAGE);
    c.run(&["completions", "tcsh"], None, code::USAGE);
    c.run(&["init", "--generate-key-file"], None, code::USAGE);
    let key = p("farm.key");
    write_private(Path::new(&key), &[7; 32]);
    c.run(
        &["init", "--key-file", &key, "--generate-key-file"],
        None,
        code::EXISTS,
    );
    let loose = p("loose.key");
    std::fs::write(&loose, [7; 32]).unwrap();
    crate::common::chmod(Path::new(&loose), 0o644);
    c.run(&["init", "--key-file", &loose], None, code::INSECURE);

    env.run(&["init"], None).expect(code::OK);
    c.run(&["init"], None, code::EXISTS);

    // Entries.
    c.run(&["get", "nope"], None, code::NOT_FOUND);
    c.run(&["rm", "nope"], None, code::NOT_FOUND);
    c.run(&["put", "bad\u{202e}name"], Some(b"x"), code::USAGE);
    c.run(&["put", "a", "my-secret"], Some(b"x"), code::USAGE);
    c.run(
        &["put", "a", "--kind", "script_key", "--host", HOST],
        Some(b"x"),
        code::USAGE,
    );
    c.run(&["put", "a", "--login", "jdoe"], Some(b"x"), code::USAGE);
    c.run(
        &[
            "put",
            "a",
            "--kind",
            "session_token",
            "--host",
            "http://site",
            "--login",
            "j",
        ],
        Some(b"x"),
        code::USAGE,
    );
    c.run(
        &[
            "put",
            "a",
            "--kind",
            "script_key",
            "--host",
            HOST,
            "--script-name",
            "s",
            "--http-proxy",
            "u:p@proxy:3128",
        ],
        Some(b"x"),
        code::INSECURE,
    );
    env.put_script_key("sk", "KEY-1", &[]).expect(code::OK);
    c.run(&["get", "sk", "--field", "password"], None, code::NOT_FOUND);
    c.run(&["get", "sk", "--field", "nope"], None, code::USAGE);
    env.put("short", "x", &["--ttl", "1s"]).expect(code::OK);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    c.run(&["renew", "short", "--ttl", "1h"], None, code::EXPIRED);

    // exec.
    c.run(
        &["exec", "--env", "K=sk:api_kye", "--", "true"],
        None,
        code::NOT_FOUND,
    );
    c.run(
        &["exec", "--env", "K=sk", "--env", "K=sk:host", "--", "true"],
        None,
        code::USAGE,
    );
    c.run(&["exec", "--env", "1K=sk", "--", "true"], None, code::USAGE);
    c.run(
        &["exec", "--env", "K=sk", "--pass-env", "HOME", "--", "true"],
        None,
        code::USAGE,
    );
    c.run(
        &["exec", "--env", "K=sk", "--", "no-such-command-fv"],
        None,
        code::EXEC_NOT_FOUND,
    );

    // Unlocking.
    let wrong = p("wrong");
    write_private(Path::new(&wrong), b"not the passphrase\n");
    c.run(
        &["--passphrase-file", &wrong, "list"],
        None,
        code::WRONG_KEY,
    );
    let empty = p("empty");
    write_private(Path::new(&empty), b"");
    c.run(&["--passphrase-file", &empty, "list"], None, code::USAGE);
    c.run(
        &["rotate", "--keep-key-file", &p("missing.key")],
        None,
        code::IO,
    );

    // Backups and files.
    let backup = p("b.fvbk");
    env.run(&["backup", &backup], None).expect(code::OK);
    c.run(&["backup", &backup], None, code::EXISTS);
    c.run(&["backup", &p("")], None, code::EXISTS);
    c.run(
        &["--vault", &p("restored"), "restore", &p("missing.fvbk")],
        None,
        code::IO,
    );
    c.run(&["import-sgtk", "u"], Some(b"not json"), code::USAGE);
    c.run(
        &["import-session-cache", "--shotgun-home", &p("no-home")],
        None,
        code::IO,
    );

    // Grants.
    c.run(
        &[
            "grant",
            "sk",
            "--claim-within",
            "30d",
            "--use-for",
            "4h",
            "--label",
            "job",
        ],
        None,
        code::USAGE,
    );
    c.run(
        &[
            "grant",
            "sk",
            "--claim-within",
            "1h",
            "--use-for",
            "4h",
            "--label",
            "job",
            "--to",
            &key,
        ],
        None,
        code::USAGE,
    );
    c.run(&["grant-info", &p("missing.fvgrant")], None, code::IO);
    env.run(
        &[
            "grant",
            "sk",
            "--claim-within",
            "1h",
            "--use-for",
            "1h",
            "--label",
            "job",
            "--out",
            &p("g.fvgrant"),
        ],
        None,
    )
    .expect(code::OK);
    let g = p("g.fvgrant");
    let token = "fvg1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    // Runs `cmd` (a token in its environment, which the snapshot shortens) as `shown`.
    let mut with_token = |cmd: &mut std::process::Command, shown: &str| {
        cmd.env("FARMVAULT_GRANT_TOKEN", token)
            .args(["get", "sk", "--grant", &g]);
        let r = crate::common::run(cmd, None);
        let line = r
            .stderr
            .lines()
            .find(|l| !l.contains("warning:"))
            .unwrap_or("")
            .replace(env.dir.path().to_str().unwrap(), "[DIR]");
        c.out += &format!("$ {shown}FARMVAULT_GRANT_TOKEN=fvg1_AAAA… farmvault get sk --grant [DIR]/g.fvgrant\nexit {}\n{line}\n\n", r.code);
    };
    with_token(&mut env.cmd(), "");
    // A job started with an empty environment: no HOME to record the first open under.
    let mut bare = std::process::Command::new(env!("CARGO_BIN_EXE_farmvault"));
    bare.env_clear();
    with_token(&mut bare, "env -i ");
    c.run(&["get", "sk", "--grant", &g], None, code::USAGE);

    assert_snapshot("errors.txt", c.out);
}
