//! `farmvault exec`: secrets reach the child's environment only, never its
//! arguments, farmvault's output or the disk; the child's status is the status.
#![cfg(unix)]

use crate::common::{self, code, files_containing, Env, HOST};

const API_KEY: &str = "exec-apikey-8c2f4e6a1b";

fn env_with_key() -> Env {
    let env = Env::with_vault();
    env.put_script_key("shotgun/farm", API_KEY, &[])
        .expect(code::OK);
    env
}

#[test]
fn the_child_gets_the_secret_in_its_environment() {
    let env = env_with_key();
    let args = [
        "exec",
        "--env",
        "SG_KEY=shotgun/farm:api_key",
        "--env",
        "SG_HOST=shotgun/farm:host",
        "--env",
        "SG_DEFAULT=shotgun/farm",
        "--",
        "sh",
        "-c",
        r#"test "$SG_KEY" = "$EXPECTED_KEY" && test "$SG_DEFAULT" = "$EXPECTED_KEY" && test "$SG_HOST" = "$EXPECTED_HOST" && echo child-ok"#,
    ];
    let mut cmd = env.cmd();
    cmd.env("EXPECTED_KEY", API_KEY)
        .env("EXPECTED_HOST", HOST)
        .args(args);
    // farmvault's own command line names entries, never secrets.
    assert!(cmd
        .get_args()
        .all(|a| !a.to_string_lossy().contains(API_KEY)));
    let r = common::run(&mut cmd, None).expect(code::OK);
    assert_eq!(r.stdout, "child-ok\n");
    assert!(!r.all().contains(API_KEY));
    assert!(files_containing(&env.vault, API_KEY.as_bytes()).is_empty());
    assert!(
        files_containing(env.dir.path(), API_KEY.as_bytes()).is_empty(),
        "nothing on disk"
    );

    // A wrong expectation makes the child fail, and farmvault exits with its status.
    let mut cmd = env.cmd();
    cmd.env("EXPECTED_KEY", "something else")
        .env("EXPECTED_HOST", HOST)
        .args(args);
    common::run(&mut cmd, None).expect(1);
}

#[test]
fn the_secret_is_not_in_the_childs_argv_and_exec_replaces_farmvault() {
    if !std::path::Path::new("/proc/self/cmdline").exists() {
        eprintln!("skipped: no /proc");
        return;
    }
    let env = env_with_key();
    let script = r#"echo "pid=$$"; tr '\0' ' ' < /proc/$$/cmdline; echo; tr '\0' '\n' < /proc/$$/environ | grep -c '^SG_KEY='; env | grep -c '^FARMVAULT_\(KEY\|PASSPHRASE\)_FILE=' || true"#;
    let mut cmd = env.cmd();
    // --no-mask: with nothing to mask, farmvault replaces itself.
    cmd.args([
        "exec",
        "--no-mask",
        "--env",
        "SG_KEY=shotgun/farm:api_key",
        "--",
        "sh",
        "-c",
        script,
    ])
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("pid={pid}"),
        "on Unix exec replaces farmvault with the child"
    );
    assert!(lines[1].starts_with("sh -c "), "{stdout}");
    assert!(!lines[1].contains(API_KEY), "secret in argv: {}", lines[1]);
    assert_eq!(lines[2], "1", "SG_KEY is in the child's environment");
    assert_eq!(
        lines[3], "0",
        "the child does not inherit the means to unlock the vault"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(API_KEY));
}

#[test]
fn exit_statuses_pass_through_and_failures_stop_before_the_child() {
    let env = env_with_key();
    let marker = env.path("ran");
    let touch = format!("touch {}", common::sh_quote(marker.to_str().expect("utf8")));
    env.run(
        &[
            "exec",
            "--env",
            "K=shotgun/farm",
            "--",
            "sh",
            "-c",
            "exit 42",
        ],
        None,
    )
    .expect(42);
    env.fails(
        &["exec", "--env", "K=shotgun/farm", "--", "/no/such/command"],
        code::EXEC_NOT_FOUND,
    );
    let not_exec = env.path("not-executable");
    common::write_private(&not_exec, b"#!/bin/sh\n");
    env.fails(
        &[
            "exec",
            "--env",
            "K=shotgun/farm",
            "--",
            not_exec.to_str().expect("utf8"),
        ],
        code::EXEC_CANNOT_RUN,
    );
    // A missing entry or field: farmvault's code, and the command never runs.
    env.fails(
        &["exec", "--env", "K=missing", "--", "sh", "-c", &touch],
        code::NOT_FOUND,
    );
    env.fails(
        &[
            "exec",
            "--env",
            "K=shotgun/farm:login",
            "--",
            "sh",
            "-c",
            &touch,
        ],
        code::NOT_FOUND,
    );
    // An expired entry: 4, the command never runs.
    {
        let v = env.open_in_process(-7200);
        v.put(
            "old",
            b"o",
            &farmvault::PutOptions::new().ttl(std::time::Duration::from_secs(60)),
        )
        .expect("put");
    }
    env.fails(
        &["exec", "--env", "K=old", "--", "sh", "-c", &touch],
        code::EXPIRED,
    );
    assert!(!marker.exists(), "the command ran despite a failed lookup");
    // Usage: no --env, no command, bad variable names.
    env.fails(&["exec", "--", "true"], code::USAGE);
    env.fails(&["exec", "--env", "K=shotgun/farm"], code::USAGE);
    env.fails(
        &["exec", "--env", "K-1=shotgun/farm", "--", "true"],
        code::USAGE,
    );
    // A secret holding a NUL cannot go into the environment.
    env.run(&["put", "nul", "--keep-newline"], Some(b"a\0b"))
        .expect(code::OK);
    env.fails(&["exec", "--env", "K=nul", "--", "true"], code::USAGE);
}

/// The FARMVAULT_ variables an exec child sees, sorted, one per line.
fn unlock_vars_seen(env: &Env, extra: &[&str]) -> crate::common::Run {
    let mut cmd = env.cmd();
    for var in [
        "FARMVAULT_NEW_PASSPHRASE_FILE",
        "FARMVAULT_KEEP_PASSPHRASE_FILE",
        "FARMVAULT_GRANT_TOKEN",
    ] {
        cmd.env(var, env.path("unused"));
    }
    cmd.args(["exec", "--env", "SG_KEY=shotgun/farm:api_key"])
        .args(extra)
        .args([
            "--",
            "sh",
            "-c",
            "env | grep '^FARMVAULT_' | cut -d= -f1 | grep -v -e '^FARMVAULT_PATH$' -e '^FARMVAULT_INSECURE_KDF_FOR_TESTS$' | sort",
        ]);
    common::run(&mut cmd, None)
}

#[test]
fn the_child_inherits_no_unlocking_variable_unless_passed_by_name() {
    let env = env_with_key();
    let r = unlock_vars_seen(&env, &[]).expect(code::OK);
    assert_eq!(r.stdout, "", "the child inherits the means to unlock");

    let r = unlock_vars_seen(
        &env,
        &[
            "--pass-env",
            "FARMVAULT_PASSPHRASE_FILE",
            "--pass-env",
            "FARMVAULT_KEEP_PASSPHRASE_FILE",
        ],
    )
    .expect(code::OK);
    assert_eq!(
        r.stdout,
        "FARMVAULT_KEEP_PASSPHRASE_FILE\nFARMVAULT_PASSPHRASE_FILE\n"
    );

    // A variable exec does not remove is refused, so a typo is not silently ignored.
    let r =
        unlock_vars_seen(&env, &["--pass-env", "FARMVAULT_PASSPHRASE_FIEL"]).expect(code::USAGE);
    assert!(
        r.stderr.contains("FARMVAULT_PASSPHRASE_FIEL"),
        "{}",
        r.stderr
    );
}

/// `exec`'s supervised child under `farmvault exec ARGS -- sh -c SCRIPT`.
fn exec_sh(env: &Env, flags: &[&str], script: &str) -> common::Run {
    let mut args = vec![
        "exec",
        "--env",
        "SG_KEY=shotgun/farm:api_key",
        "--env",
        "SG_HOST=shotgun/farm:host",
    ];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    env.run(&args, None)
}

/// Output that is not a terminal (a job log here: a pipe) is masked by
/// default, also a secret the child writes in pieces, on stdout and stderr;
/// a value that is not a secret (the host) is left alone. Without masking
/// the same script prints the secret: the test would fail without the mask.
#[test]
fn a_secret_the_child_prints_is_masked_in_its_output() {
    let env = env_with_key();
    let script = r#"echo "key=$SG_KEY host=$SG_HOST"; printf %s "$SG_KEY" | head -c 7; sleep 0.2; printf %s "$SG_KEY" | tail -c +8; echo " <- split"; echo "err $SG_KEY" >&2"#;
    let r = exec_sh(&env, &[], script).expect(code::OK);
    assert!(!r.all().contains(API_KEY), "{}", r.all());
    assert_eq!(r.stdout, format!("key=*** host={HOST}\n*** <- split\n"));
    let child_err: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| !l.contains("warning:"))
        .collect();
    assert_eq!(child_err, ["err ***"], "{}", r.stderr);
    let r = exec_sh(&env, &["--mask"], script).expect(code::OK);
    assert!(!r.all().contains(API_KEY));
    let r = exec_sh(&env, &["--no-mask"], script).expect(code::OK);
    assert!(r.stdout.contains(&format!("key={API_KEY}")), "{}", r.stdout);
}

/// The supervisor passes the child's status on unchanged: an exit code, and
/// death by a signal (farmvault dies of the same signal).
#[test]
fn the_supervisor_passes_exit_codes_and_signal_deaths_on() {
    use std::os::unix::process::ExitStatusExt;
    let env = env_with_key();
    exec_sh(&env, &[], "echo $SG_KEY; exit 7").expect(7);
    let mut cmd = env.cmd();
    cmd.args([
        "exec",
        "--mask",
        "--env",
        "SG_KEY=shotgun/farm:api_key",
        "--",
        "sh",
        "-c",
        "kill -TERM $$",
    ]);
    let status = cmd.status().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

/// A signal a farm manager sends farmvault (SIGTERM to cancel a task)
/// reaches the child, which can clean up; farmvault then exits as it does.
#[test]
fn a_signal_sent_to_farmvault_reaches_the_child() {
    let env = env_with_key();
    let marker = env.path("got-term");
    let script = format!(
        "trap 'echo term > {}; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
        common::sh_quote(marker.to_str().unwrap())
    );
    let mut cmd = env.cmd();
    cmd.args([
        "exec",
        "--mask",
        "--env",
        "SG_KEY=shotgun/farm:api_key",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "ready\n");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{status:?}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "term\n");
}
