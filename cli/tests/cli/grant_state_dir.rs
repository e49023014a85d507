//! A job grant opened with no HOME, as farm jobs started with `env -i` are:
//! its first open needs a state directory, which FARMVAULT_STATE_DIR or
//! `--state-dir` names; with neither, the error names them (not the token).
#![cfg(unix)]

use crate::common::{self, code, json, Env};
use crate::grant::{env_with_entries, issue, LABEL, RENDER_KEY};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// A farm job started as `env -i` starts it: the binary with `vars` and nothing
/// else, no HOME, no XDG_STATE_HOME, no PATH.
fn bare_job(env: &Env, vars: &[(&str, &OsStr)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_farmvault"));
    c.env_clear().current_dir(env.dir.path());
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

/// The grant's state file in `dir` is the only entry there, 0600 in a 0700 directory.
#[track_caller]
fn assert_one_private_state_file(dir: &Path, id: &str) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [id], "{}", dir.display());
    let file = dir.join(id);
    assert_eq!(mode(&file), 0o600, "{}", file.display());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("farmvault-grant-state 1\nfirst_open "),
        "{text}"
    );
}

#[test]
fn a_job_without_home_names_the_state_directory_and_reads_with_one() {
    let env = env_with_entries();
    let issued = json(&issue(&env, &["shotgun/"], &["--label", LABEL, "--json"]).stdout);
    let (token, id) = (
        issued["token"].as_str().unwrap(),
        issued["id"].as_str().unwrap(),
    );
    let bundle = env.path(issued["path"].as_str().unwrap());
    let token_var = ("FARMVAULT_GRANT_TOKEN", OsStr::new(token));
    let get = |c: &mut Command| {
        c.args(["get", "shotgun/render", "--field", "api_key", "--grant"])
            .arg(&bundle);
        common::run(c, None)
    };
    let token_only = [token_var];

    // (a) No HOME, no FARMVAULT_STATE_DIR, no --state-dir: a usage error that says
    // what to set, not the token the job did set; nothing recorded, no secret shown.
    let r = get(&mut bare_job(&env, &token_only)).expect(code::USAGE);
    r.one_line_error();
    assert!(
        r.stderr.contains("FARMVAULT_STATE_DIR") && r.stderr.contains("--state-dir"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("FARMVAULT_GRANT_TOKEN"),
        "the token is set; the hint is not about it: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty() && !r.all().contains(RENDER_KEY) && !r.all().contains(token));
    assert!(!env.path(".local").exists(), "nothing recorded");

    // (b) FARMVAULT_STATE_DIR: it reads, and the first open is recorded there
    // (the directory made 0700, the file 0600).
    let by_env = env.path("job-state-env");
    let vars = [token_var, ("FARMVAULT_STATE_DIR", by_env.as_os_str())];
    let r = get(&mut bare_job(&env, &vars)).expect(code::OK);
    assert_eq!(r.stdout, format!("{RENDER_KEY}\n"));
    assert_one_private_state_file(&by_env, id);
    let first = std::fs::read(by_env.join(id)).unwrap();
    get(&mut bare_job(&env, &vars)).expect(code::OK);
    assert_eq!(
        std::fs::read(by_env.join(id)).unwrap(),
        first,
        "a later open keeps the first-open record"
    );

    // (c) --state-dir does the same, for `list` and `exec` as for `get`.
    let by_flag = env.path("job-state-flag");
    let mut c = bare_job(&env, &token_only);
    c.arg("--state-dir").arg(&by_flag);
    let r = get(&mut c).expect(code::OK);
    assert_eq!(r.stdout, format!("{RENDER_KEY}\n"));
    assert_one_private_state_file(&by_flag, id);
    let mut c = bare_job(&env, &token_only);
    c.args(["list", "--grant"])
        .arg(&bundle)
        .arg("--state-dir")
        .arg(&by_flag);
    let r = common::run(&mut c, None).expect(code::OK);
    assert!(r.stdout.contains("shotgun/render"), "{}", r.stdout);
    let mut c = bare_job(&env, &token_only);
    c.args(["exec", "--grant"])
        .arg(&bundle)
        .arg("--state-dir")
        .arg(&by_flag)
        .args(["--env", "K=shotgun/render:api_key", "--", "/bin/sh", "-c"])
        .arg(format!("test \"$K\" = {RENDER_KEY}"));
    common::run(&mut c, None).expect(code::OK);
    assert_one_private_state_file(&by_flag, id);

    // The flag wins over the variable, as every flag with a variable does.
    let unused = env.path("job-state-unused");
    let chosen = env.path("job-state-chosen");
    let vars = [token_var, ("FARMVAULT_STATE_DIR", unused.as_os_str())];
    let mut c = bare_job(&env, &vars);
    c.arg("--state-dir").arg(&chosen);
    get(&mut c).expect(code::OK);
    assert_one_private_state_file(&chosen, id);
    assert!(!unused.exists());

    // Set but empty: named, like the other path variables.
    let vars = [token_var, ("FARMVAULT_STATE_DIR", OsStr::new(""))];
    let r = get(&mut bare_job(&env, &vars)).expect(code::USAGE);
    r.one_line_error();
    assert!(
        r.stderr.contains("FARMVAULT_STATE_DIR is set but empty"),
        "{}",
        r.stderr
    );
}
