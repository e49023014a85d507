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
    let mut child = spawn_until(&mut cmd, "ready");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{status:?}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "term\n");
}

const OLD_TOKEN: &str = "sess-old-7a91c2";
const NEW_TOKEN: &str = "sess-renewed-4be07d";

/// A vault with jdoe's session token at `HOST`.
fn env_with_session() -> Env {
    let env = Env::with_vault();
    env.put_session_token("shotgun/jdoe", "jdoe", OLD_TOKEN)
        .expect(code::OK);
    env
}

/// `exec --sgtk-home` of `job` (a shell script) with jdoe's session token in SG_TOKEN.
fn sgtk_exec(job: &str) -> [&str; 8] {
    [
        "exec",
        "--sgtk-home",
        "--env",
        "SG_TOKEN=shotgun/jdoe",
        "--",
        "sh",
        "-c",
        job,
    ]
}

/// What tk-core does in a job: it caches the session it was handed, then the
/// one it renewed, in `$SHOTGUN_HOME/<site>/authentication.yml`. The script
/// also records where SHOTGUN_HOME was, its mode and its filesystem.
fn toolkit_job(report: &std::path::Path) -> String {
    format!(
        r#"set -e
mkdir -p "$SHOTGUN_HOME/mysite"
printf 'current_host: {HOST}\n' > "$SHOTGUN_HOME/authentication.yml"
printf 'current_user: jdoe\nusers:\n- login: jdoe\n  session_token: %s\n' "$SG_TOKEN" > "$SHOTGUN_HOME/mysite/authentication.yml"
printf 'current_user: jdoe\nusers:\n- login: jdoe\n  session_token: {NEW_TOKEN}\n' > "$SHOTGUN_HOME/mysite/authentication.yml"
printf '%s\n%s\n%s\n' "$SHOTGUN_HOME" "$(stat -c %a "$SHOTGUN_HOME")" "$(stat -f -c %T "$SHOTGUN_HOME")" > {}
"#,
        common::sh_quote(report.to_str().unwrap())
    )
}

/// `exec --sgtk-home`: the child's SHOTGUN_HOME is a private directory on a
/// memory filesystem, gone after the run with the tokens tk-core wrote there;
/// the token it renewed is back in the vault entry it came from (TTL of a
/// fresh session), and the output says how many, never the token.
#[test]
fn sgtk_home_keeps_tokens_off_the_disk_and_brings_renewed_ones_home() {
    let env = env_with_session();
    let report = env.path("report");
    let r = env
        .run(&sgtk_exec(&toolkit_job(&report)), None)
        .expect(code::OK);
    assert!(
        r.stderr
            .contains("brought 1 renewed session token(s) back into the vault"),
        "{}",
        r.stderr
    );
    assert!(
        !r.all().contains(NEW_TOKEN) && !r.all().contains(OLD_TOKEN),
        "{}",
        r.all()
    );
    let report = std::fs::read_to_string(&report).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    let home = std::path::Path::new(lines[0]);
    assert_eq!(lines[1], "700", "SHOTGUN_HOME's mode");
    assert_eq!(lines[2], "tmpfs", "SHOTGUN_HOME's filesystem");
    assert!(!home.exists(), "{} is still there", home.display());
    assert_eq!(env.out(&["get", "shotgun/jdoe"]), format!("{NEW_TOKEN}\n"));
    let meta = crate::common::json(&env.out(&["list", "--json"]));
    let expires = meta["entries"][0]["expires"].as_u64().unwrap();
    let now = meta["now"].as_u64().unwrap();
    assert!(
        (now + 24 * 3600 - 5..=now + 24 * 3600 + 5).contains(&expires),
        "{meta}"
    );
    // Nothing of either token on the workspace's disk.
    assert!(files_containing(env.dir.path(), NEW_TOKEN.as_bytes()).is_empty());
}

/// A run that is killed (SIGKILL: no chance to clean up) leaves its private
/// SHOTGUN_HOME; the next `exec --sgtk-home` removes it. Through a job grant
/// the renewed token cannot be written back: it is wiped, and the run says so.
#[test]
fn a_killed_runs_sgtk_home_is_removed_by_the_next_and_a_grant_brings_nothing_home() {
    let env = env_with_session();
    let report = env.path("report");
    let job = format!(
        "{}echo $$ > {}; echo started; exec sleep 30",
        toolkit_job(&report),
        common::sh_quote(env.path("pid").to_str().unwrap())
    );
    let mut cmd = env.cmd();
    cmd.args(sgtk_exec(&job))
        .stdout(std::process::Stdio::piped());
    let mut child = spawn_until(&mut cmd, "started");
    let home = reported_home(&report);
    child.kill().unwrap();
    child.wait().unwrap();
    // Its child keeps running as an orphan; stop it too.
    let orphan = std::fs::read_to_string(env.path("pid")).unwrap();
    let _ = std::process::Command::new("kill")
        .arg(orphan.trim())
        .status();
    assert!(home.exists(), "a SIGKILL leaves the directory");

    // The next run, here through a grant, removes it, and wipes its own.
    let token = env
        .run(
            &[
                "grant",
                "shotgun/jdoe",
                "--claim-within",
                "1h",
                "--use-for",
                "1h",
                "--label",
                "sgtk",
                "--out",
                env.path("g.fvgrant").to_str().unwrap(),
            ],
            None,
        )
        .expect(code::OK)
        .stdout;
    let r = common::run(
        env.cmd()
            .env_remove("FARMVAULT_PASSPHRASE_FILE")
            .env("FARMVAULT_GRANT_FILE", env.path("g.fvgrant"))
            .env("FARMVAULT_GRANT_TOKEN", token.trim())
            .env("FARMVAULT_STATE_DIR", env.path("state"))
            .args(sgtk_exec(&toolkit_job(&report))),
        None,
    )
    .expect(code::OK);
    assert!(!home.exists(), "the killed run's directory was removed");
    assert!(
        r.stderr.contains(
            "1 renewed session token(s) wiped with the private SHOTGUN_HOME: a grant is read-only"
        ),
        "{}",
        r.stderr
    );
    let second = reported_home(&report);
    assert!(!second.exists());
    assert_eq!(env.out(&["get", "shotgun/jdoe"]), format!("{OLD_TOKEN}\n"));
}

/// `--env-file`: a job's environment in one file, with --env's grammar,
/// comments and blank lines; a bad line is named by its number; a variable
/// given twice (file and flag) is an error; `\:` names an entry with a colon.
#[test]
fn env_file_describes_the_environment_in_one_file() {
    let env = env_with_key();
    env.put("ns:odd:host", "colon-secret", &[]).expect(code::OK);
    let file = env.path("job.env");
    std::fs::write(
        &file,
        "# render job\n\nSG_KEY=shotgun/farm:api_key\n  SG_HOST=shotgun/farm:host  \nODD=ns\\:odd\\:host\n",
    )
    .unwrap();
    let file_s = file.to_str().unwrap();
    let mut cmd = env.cmd();
    cmd.env("EXPECTED", API_KEY);
    let r = common::run(
        cmd.args([
            "exec",
            "--env-file",
            file_s,
            "--",
            "sh",
            "-c",
            r#"test "$SG_KEY" = "$EXPECTED" && test "$ODD" = colon-secret && echo "ok $SG_HOST""#,
        ]),
        None,
    )
    .expect(code::OK);
    assert_eq!(r.stdout, format!("ok {HOST}\n"));
    std::fs::write(&file, "SG_KEY=shotgun/farm:api_key\n# fine\nnot a spec\n").unwrap();
    let r = env.fails(&["exec", "--env-file", file_s, "--", "true"], code::USAGE);
    assert!(r.stderr.contains("job.env line 3"), "{}", r.stderr);
    std::fs::write(&file, "SG_KEY=shotgun/farm:api_key\n").unwrap();
    let r = env.fails(
        &[
            "exec",
            "--env-file",
            file_s,
            "--env",
            "SG_KEY=shotgun/farm",
            "--",
            "true",
        ],
        code::USAGE,
    );
    assert!(
        r.stderr.contains("--env SG_KEY is given more than once"),
        "{}",
        r.stderr
    );
}

/// Runs `exec DELIVERY --env SG_KEY=shotgun/farm:api_key -- sh -c SCRIPT`,
/// with EXPECTED set to the key and REPORT to a file the script writes what it
/// found to; returns the report's lines.
fn delivered(env: &Env, delivery: &str, script: &str) -> Vec<String> {
    let report = env.path(&format!("report{delivery}"));
    let mut cmd = env.cmd();
    cmd.env("EXPECTED", API_KEY).env("REPORT", &report).args([
        "exec",
        delivery,
        "--env",
        "SG_KEY=shotgun/farm:api_key",
        "--",
        "sh",
        "-c",
        script,
    ]);
    common::run(&mut cmd, None).expect(code::OK);
    let text = std::fs::read_to_string(&report).unwrap();
    text.lines().map(str::to_owned).collect()
}

/// `--files`: each secret is a 0400 file in a 0700 directory on tmpfs, named by
/// FARMVAULT_CREDENTIALS_DIRECTORY, not a variable; the directory is gone
/// after the run, and the secret is on no disk the workspace holds.
#[test]
fn files_delivers_secrets_as_private_files_removed_after_the_run() {
    let env = env_with_key();
    let lines = delivered(
        &env,
        "--files",
        r#"d="$FARMVAULT_CREDENTIALS_DIRECTORY"; test "$(cat "$d/SG_KEY")" = "$EXPECTED" && printf '%s\n%s\n%s\n%s\n%s\n' "$d" "$(stat -c %a "$d")" "$(stat -c %a "$d/SG_KEY")" "$(stat -f -c %T "$d")" "${SG_KEY:-unset}" > "$REPORT""#,
    );
    assert_eq!(&lines[1..], ["700", "400", "tmpfs", "unset"], "{lines:?}");
    assert!(
        !std::path::Path::new(&lines[0]).exists(),
        "{} is still there",
        lines[0]
    );
    assert!(files_containing(env.dir.path(), API_KEY.as_bytes()).is_empty());
}

/// `--fd` (Linux): the variable names /dev/fd/N, an inherited sealed memory
/// file holding the secret; it is in no file anywhere, not in the child's
/// environment, and cannot be changed by the child.
#[cfg(target_os = "linux")]
#[test]
fn fd_delivers_secrets_in_sealed_memory_files() {
    let env = env_with_key();
    let lines = delivered(
        &env,
        "--fd",
        r#"test "$(cat "$SG_KEY")" = "$EXPECTED" || exit 3; (printf x >> "$SG_KEY") 2>/dev/null && exit 4; printf '%s\n%s\n' "$SG_KEY" "$(readlink "/proc/self/fd/${SG_KEY##*/}")" > "$REPORT"; env | grep -c "$EXPECTED" >> "$REPORT"; true"#,
    );
    assert!(lines[0].starts_with("/dev/fd/"), "{lines:?}");
    assert!(lines[1].starts_with("/memfd:SG_KEY"), "{lines:?}");
    // EXPECTED itself holds the key once; no other variable does.
    assert_eq!(lines[2], "1", "{lines:?}");
    assert!(files_containing(env.dir.path(), API_KEY.as_bytes()).is_empty());
    assert!(files_containing(std::path::Path::new("/dev/shm"), API_KEY.as_bytes()).is_empty());
}

/// SIGTERM to farmvault (a farm manager cancelling the task) reaches the
/// Toolkit job, which ends; farmvault then brings the renewed token home and
/// removes the private SHOTGUN_HOME before it exits as the job did.
#[test]
fn after_a_sigterm_the_sgtk_home_is_gone_and_the_renewed_token_home() {
    let env = env_with_session();
    let report = env.path("report");
    let job = format!("{}echo started; exec sleep 30", toolkit_job(&report));
    let mut cmd = env.cmd();
    cmd.args(sgtk_exec(&job))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = spawn_until(&mut cmd, "started");
    let home = reported_home(&report);
    assert!(home.exists());
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(15),
        "farmvault dies of the job's signal"
    );
    assert!(!home.exists(), "{} is still there", home.display());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("brought 1 renewed session token(s)"),
        "{stderr}"
    );
    assert_eq!(env.out(&["get", "shotgun/jdoe"]), format!("{NEW_TOKEN}\n"));
    assert!(files_containing(env.dir.path(), NEW_TOKEN.as_bytes()).is_empty());
}

/// Spawns `cmd` and returns once the child printed `ready` as its first line
/// (its stdout is a pipe; what follows stays unread).
fn spawn_until(cmd: &mut std::process::Command, ready: &str) -> std::process::Child {
    cmd.stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, format!("{ready}\n"));
    child
}

/// The SHOTGUN_HOME a `toolkit_job` reported (the first line of its report).
fn reported_home(report: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(report).unwrap();
    std::path::PathBuf::from(text.lines().next().unwrap())
}
