//! `farmvault grant`, `grant-info`, `grants`, `farm-keygen`, and the job side
//! (`get`, `list`, `exec` through `--grant` / FARMVAULT_GRANT_FILE): the token
//! goes to stdout only and never to stderr, the disk or a listing; the job reads
//! with only its environment; each failure has its exit status. Grant expiry by
//! the clock is tested in the core (tests/grant/open.rs, driven clock); here an
//! old first-open record stands in for the hours that passed.
#![cfg(unix)]

use crate::common::{self, code, files_containing, json, Env, Run, HOST};
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const RENDER_KEY: &str = "grant-render-apikey-3e9d1c";
const PUBLISH_KEY: &str = "grant-publish-apikey-71b0aa";
const OTHER_SECRET: &str = "grant-outside-secret-5f2c";
pub(crate) const LABEL: &str = "job-4711";

/// A vault holding two script keys under `shotgun/` and one entry outside it.
pub(crate) fn env_with_entries() -> Env {
    let env = Env::with_vault();
    env.put_script_key("shotgun/render", RENDER_KEY, &[])
        .expect(code::OK);
    env.put_script_key("shotgun/publish", PUBLISH_KEY, &[])
        .expect(code::OK);
    env.put("other", OTHER_SECRET, &[]).expect(code::OK);
    env
}

/// The usual windows and label, then `extra`.
fn grant_args<'a>(entries: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["grant"];
    args.extend_from_slice(entries);
    args.extend_from_slice(&["--claim-within", "72h", "--use-for", "4h"]);
    args.extend_from_slice(extra);
    args
}

/// Issues a grant; returns the run (stdout: the token).
pub(crate) fn issue(env: &Env, entries: &[&str], extra: &[&str]) -> Run {
    env.run(&grant_args(entries, extra), None).expect(code::OK)
}

/// Issues a token grant written to `out`; returns the token.
fn issue_token(env: &Env, out: &str, extra: &[&str]) -> String {
    let mut rest = vec!["--label", LABEL, "--out", out];
    rest.extend_from_slice(extra);
    let r = issue(env, &["shotgun/"], &rest);
    r.stdout.trim().to_owned()
}

/// A farm job's command: no vault, no passphrase, only what `vars` gives it.
fn job_cmd(env: &Env, vars: &[(&str, &str)]) -> Command {
    let mut c = env.cmd();
    c.env_remove("FARMVAULT_PATH")
        .env_remove("FARMVAULT_PASSPHRASE_FILE")
        .env_remove("XDG_STATE_HOME");
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

/// Runs a job command with `args`.
pub(crate) fn job(env: &Env, vars: &[(&str, &str)], args: &[&str]) -> Run {
    common::run(job_cmd(env, vars).args(args), None)
}

/// The job's usual environment: the bundle and the token.
pub(crate) fn job_env<'a>(bundle: &'a Path, token: &'a str) -> [(&'static str, &'a str); 2] {
    [
        ("FARMVAULT_GRANT_FILE", bundle.to_str().expect("utf-8 path")),
        ("FARMVAULT_GRANT_TOKEN", token),
    ]
}

/// Makes a farm identity at `name`; returns its path and public key.
fn keygen(env: &Env, name: &str) -> (PathBuf, String) {
    let path = env.path(name);
    let out = env.out(&["farm-keygen", "--identity", path.to_str().unwrap()]);
    (path, out.trim().to_owned())
}

#[test]
fn issue_prints_only_the_token_and_the_job_reads_through_its_environment() {
    let env = env_with_entries();
    let r = issue(&env, &["shotgun/"], &["--label", LABEL]);
    // stdout: the token, one line, nothing else.
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let token = r.stdout.trim_end_matches('\n');
    assert!(token.starts_with("fvg1_") && !token.contains(char::is_whitespace));
    // stderr: the bundle's path and a summary, never the token.
    let bundle = env.path(&format!("{LABEL}.fvgrant"));
    assert!(bundle.is_file(), "default --out is ./<label>.fvgrant");
    assert!(
        r.stderr.contains(&format!("{LABEL}.fvgrant")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("shotgun/render") && r.stderr.contains("cannot be taken back"));
    assert!(!r.stderr.contains(token));

    // The job: `get` and `exec` read through the grant with only its environment.
    let vars = job_env(&bundle, token);
    let got = job(
        &env,
        &vars,
        &["get", "shotgun/render", "--field", "api_key"],
    )
    .expect(code::OK);
    assert_eq!(got.stdout, format!("{RENDER_KEY}\n"));
    let got = job(&env, &vars, &["get", "shotgun/publish", "--json"]).expect(code::OK);
    let v = json(&got.stdout);
    assert_eq!(v["fields"]["api_key"], PUBLISH_KEY);
    assert_eq!(v["fields"]["host"], HOST);
    assert!(
        v["expires"].as_u64().is_some(),
        "a granted entry expires with the grant"
    );
    let listed = job(&env, &vars, &["list", "--json"]).expect(code::OK);
    let names: Vec<String> = json(&listed.stdout)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["shotgun/publish", "shotgun/render"]);

    // The child checks its key, and counts the grant variables it inherited.
    let script = r#"test "$SG_KEY" = "$EXPECTED" || exit 9; env | grep -c '^FARMVAULT_GRANT_\|^FARMVAULT_IDENTITY=\|^MY_TOKEN=' || true"#;
    let run_child = [
        "--env",
        "SG_KEY=shotgun/render:api_key",
        "--",
        "sh",
        "-c",
        script,
    ];
    let mut cmd = job_cmd(&env, &vars);
    cmd.env("EXPECTED", RENDER_KEY).arg("exec").args(run_child);
    assert!(
        cmd.get_args().all(|a| !a.to_string_lossy().contains(token)),
        "the token is never an argument"
    );
    let ran = common::run(&mut cmd, None).expect(code::OK);
    assert_eq!(
        ran.stdout, "0\n",
        "the child inherits neither the token nor the bundle's path"
    );

    // --token-env names another variable, which the child does not inherit either.
    let mut cmd = job_cmd(&env, &[]);
    cmd.env("MY_TOKEN", token)
        .env("EXPECTED", RENDER_KEY)
        .args(["exec", "--grant", bundle.to_str().unwrap()])
        .args(["--token-env", "MY_TOKEN"])
        .args(run_child);
    assert_eq!(common::run(&mut cmd, None).expect(code::OK).stdout, "0\n");

    // Outside the grant: not found, though the vault holds it.
    let r = job(&env, &vars, &["get", "other"]).expect(code::NOT_FOUND);
    r.one_line_error();
    assert!(
        r.stderr.contains("holds no entry named \"other\""),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(OTHER_SECRET));

    // The default --out never overwrites: the same label again gets a new name.
    issue(&env, &["shotgun/render"], &["--label", LABEL]);
    assert!(env.path(&format!("{LABEL}-2.fvgrant")).is_file());
}

#[test]
fn the_token_is_nowhere_but_stdout() {
    let env = env_with_entries();
    let r = issue(&env, &["shotgun/"], &["--label", LABEL, "--hosts", "*"]);
    let token = r.stdout.trim().to_owned();
    let body = token.strip_prefix("fvg1_").unwrap();
    let bundle = env.path(&format!("{LABEL}.fvgrant"));
    let vars = job_env(&bundle, &token);
    let mut outputs = vec![r.stderr.clone()];
    for args in [
        &["get", "shotgun/render"][..],
        &["list"],
        &["get", "nope"],
        &["exec", "--env", "K=shotgun/render", "--", "true"],
    ] {
        outputs.push(job(&env, &vars, args).all());
    }
    outputs.push(env.out(&["grants"]));
    outputs.push(env.out(&["grants", "--json"]));
    outputs.push(env.out(&["grant-info", bundle.to_str().unwrap()]));
    outputs.push(env.out(&["grant-info", "--json", bundle.to_str().unwrap()]));
    outputs.push(
        job(
            &env,
            &[("FARMVAULT_GRANT_TOKEN", "fvg1_short")],
            &["get", "x", "--grant", bundle.to_str().unwrap()],
        )
        .all(),
    );
    for out in &outputs {
        assert!(!out.contains(body), "token in output: {out}");
    }
    // Not in the vault, the bundle, the first-open state or anywhere in the workspace.
    assert!(files_containing(&env.vault, body.as_bytes()).is_empty());
    assert!(files_containing(env.dir.path(), body.as_bytes()).is_empty());
    assert!(
        env.path(".local/state/farmvault/grants").is_dir(),
        "the first open was recorded (under HOME), and it holds no token"
    );

    // The bundle holds no secret, no entry name, no host in the clear.
    let bytes = std::fs::read(&bundle).unwrap();
    for needle in [RENDER_KEY, PUBLISH_KEY, "shotgun/render", "shotgun/", HOST] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} in the bundle"
        );
    }
}

#[test]
fn wrong_token_is_wrong_key_and_a_damaged_bundle_is_corrupt() {
    let env = env_with_entries();
    let token = issue_token(&env, "a.fvgrant", &[]);
    let other = issue_token(&env, "b.fvgrant", &[]);
    let bundle = env.path("a.fvgrant");
    let get = ["get", "shotgun/render"];

    let r = job(&env, &job_env(&bundle, &other), &get).expect(code::WRONG_KEY);
    r.one_line_error();
    assert!(r.stderr.contains("does not open the grant"), "{}", r.stderr);
    // One character changed: still a well-formed token, not this grant's.
    let mut flipped = token.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    job(&env, &job_env(&bundle, &flipped), &get).expect(code::WRONG_KEY);
    // Malformed, unset: usage errors that say what to set.
    let r = job(&env, &job_env(&bundle, "not-a-token"), &get).expect(code::USAGE);
    r.one_line_error();
    assert!(r.stderr.contains("malformed") && !r.stderr.contains("not-a-token"));
    let r = job(
        &env,
        &[("FARMVAULT_GRANT_FILE", bundle.to_str().unwrap())],
        &get,
    )
    .expect(code::USAGE);
    r.one_line_error();
    assert!(r.stderr.contains("FARMVAULT_GRANT_TOKEN"), "{}", r.stderr);
    let r = job(
        &env,
        &[("FARMVAULT_GRANT_TOKEN", &token)],
        &[
            "get",
            "shotgun/render",
            "--grant",
            "a.fvgrant",
            "--token-env",
            "NOT_SET_ANYWHERE",
        ],
    )
    .expect(code::USAGE);
    assert!(r.stderr.contains("NOT_SET_ANYWHERE"), "{}", r.stderr);

    // A flipped byte in the sealed payload: 7, and no value printed.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 1;
    let damaged = env.path("damaged.fvgrant");
    std::fs::write(&damaged, &bytes).unwrap();
    let r = job(&env, &job_env(&damaged, &token), &get).expect(code::CORRUPT);
    r.one_line_error();
    assert!(r.stdout.is_empty() && !r.all().contains(RENDER_KEY));
    // Not a bundle at all: 7 as well, from grant-info and from a read.
    let not_bundle = env.path("passphrase");
    env.fails(&["grant-info", not_bundle.to_str().unwrap()], code::CORRUPT);
    job(&env, &job_env(&not_bundle, &token), &get).expect(code::CORRUPT);
}

#[test]
fn recipients_require_both_and_identity_permissions() {
    let env = env_with_entries();
    let (farm, public) = keygen(&env, "farm.key");
    let (other_farm, other_public) = keygen(&env, "other.key");
    let recipients = env.path("farm.pub");
    std::fs::write(&recipients, format!("# the render farm\n{public}\n\n")).unwrap();
    let farm = farm.to_str().unwrap();

    // --require-both: the token alone, the identity alone, the wrong identity: 5.
    let both = env.path("both.fvgrant");
    let token = issue_token(
        &env,
        "both.fvgrant",
        &["--to", recipients.to_str().unwrap(), "--require-both"],
    );
    let get = ["get", "shotgun/render", "--field", "api_key"];
    let r = job(&env, &job_env(&both, &token), &get).expect(code::WRONG_KEY);
    assert!(r.stderr.contains("--require-both"), "{}", r.stderr);
    let id_only = [
        ("FARMVAULT_GRANT_FILE", both.to_str().unwrap()),
        ("FARMVAULT_IDENTITY", farm),
    ];
    job(&env, &id_only, &get).expect(code::WRONG_KEY);
    let mut wrong_id = job_env(&both, &token).to_vec();
    wrong_id.push(("FARMVAULT_IDENTITY", other_farm.to_str().unwrap()));
    job(&env, &wrong_id, &get).expect(code::WRONG_KEY);
    let mut right = job_env(&both, &token).to_vec();
    right.push(("FARMVAULT_IDENTITY", farm));
    assert_eq!(
        job(&env, &right, &get).expect(code::OK).stdout,
        format!("{RENDER_KEY}\n")
    );

    // An identity others can read is refused like a key file, unless --insecure-permissions.
    common::chmod(Path::new(farm), 0o640);
    let r = job(&env, &right, &get).expect(code::INSECURE);
    r.one_line_error();
    assert!(r.stderr.contains("farm identity") && r.stderr.contains("chmod 600"));
    let mut insecure = get.to_vec();
    insecure.push("--insecure-permissions");
    job(&env, &right, &insecure).expect(code::OK);
    common::chmod(Path::new(farm), 0o600);
    // A link to it is refused by the library's one open, naming the link (no
    // check by path comes first).
    let link = env.path("farm-link.key");
    std::os::unix::fs::symlink(farm, &link).unwrap();
    let mut linked = job_env(&both, &token).to_vec();
    linked.push(("FARMVAULT_IDENTITY", link.to_str().unwrap()));
    let r = job(&env, &linked, &get).expect(code::INSECURE);
    r.one_line_error();
    assert!(
        r.stderr.contains(&format!(
            "farm identity {} is a symbolic link",
            link.display()
        )),
        "{}",
        r.stderr
    );
    job(&env, &linked, &insecure).expect(code::OK);

    // Recipient-only (--no-token, a literal key): nothing on stdout; the identity opens it.
    let r = issue(
        &env,
        &["shotgun/render"],
        &[
            "--label",
            "rcpt",
            "--to",
            &public,
            "--to",
            &other_public,
            "--no-token",
        ],
    );
    assert!(
        r.stdout.is_empty(),
        "no token, nothing on stdout: {}",
        r.stdout
    );
    let rcpt = env.path("rcpt.fvgrant");
    let vars = [
        ("FARMVAULT_GRANT_FILE", rcpt.to_str().unwrap()),
        ("FARMVAULT_IDENTITY", farm),
    ];
    job(&env, &vars, &get).expect(code::OK);
    let info = json(&env.out(&["grant-info", "--json", rcpt.to_str().unwrap()]));
    assert_eq!(info["access"], "recipient");
    assert_eq!(info["recipients"], 2);
    let third = keygen(&env, "third.key").0;
    let vars = [
        ("FARMVAULT_GRANT_FILE", rcpt.to_str().unwrap()),
        ("FARMVAULT_IDENTITY", third.to_str().unwrap()),
    ];
    job(&env, &vars, &get).expect(code::WRONG_KEY);
}

#[test]
fn grant_info_shows_the_header_without_a_key_and_grants_lists_the_records() {
    let env = env_with_entries();
    let r = issue(
        &env,
        &["shotgun/render", "shotgun/publish"],
        &["--label", LABEL, "--hosts", "render*", "--json"],
    );
    let issued = json(&r.stdout);
    let token = issued["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("fvg1_"));
    assert_eq!(issued["label"], LABEL);
    assert_eq!(issued["use_window_secs"], 4 * 3600);
    assert_eq!(
        issued["claim_by"].as_u64().unwrap() - issued["created"].as_u64().unwrap(),
        72 * 3600
    );
    assert_eq!(
        issued["entries"],
        serde_json::json!(["shotgun/publish", "shotgun/render"])
    );
    let bundle = issued["path"].as_str().unwrap().to_owned();
    assert!(env.path(&bundle).is_file());

    // grant-info: no vault, no passphrase, no token.
    let info = job(&env, &[], &["grant-info", &bundle]).expect(code::OK);
    assert!(info.stdout.contains(LABEL));
    assert!(info
        .stdout
        .contains(issued["claim_by_at"].as_str().unwrap()));
    assert!(info.stdout.contains("render*"));
    assert!(
        info.stdout.contains("signature      valid: issuer fvi1_"),
        "{}",
        info.stdout
    );
    assert!(!info.stdout.contains("shotgun/"), "names are sealed");
    let v = json(
        &job(&env, &[], &["grant-info", "--json", &bundle])
            .expect(code::OK)
            .stdout,
    );
    assert_eq!(v["authenticated"], true, "by the issuer's signature");
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["signature"]["issuer"], v["signer"]);
    assert_eq!(v["entries"], serde_json::Value::Null);
    assert_eq!(v["entry_count"], 2);
    for k in [
        "id",
        "label",
        "claim_by",
        "ends_by",
        "host_pattern",
        "access",
        "issuer",
        "signer",
    ] {
        assert_eq!(v[k], issued[k], "{k}");
    }

    // grants: the vault's record, entry names included, never the token.
    let table = env.out(&["grants"]);
    let id = issued["id"].as_str().unwrap();
    assert!(table.starts_with("ID "), "{table}");
    assert!(table.contains(id) && table.contains(LABEL) && table.contains("render*"));
    assert!(table.contains("shotgun/publish,shotgun/render"), "{table}");
    let listed = json(&env.out(&["grants", "--json"]));
    let grants = listed["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1);
    let g = &grants[0];
    for k in [
        "id",
        "label",
        "created",
        "claim_by",
        "use_window_secs",
        "ends_by",
        "host_pattern",
        "access",
        "entries",
    ] {
        assert_eq!(g[k], issued[k], "{k}");
    }
    assert!(g.get("token").is_none());
    let body = token.strip_prefix("fvg1_").unwrap();
    assert!(!table.contains(body) && !listed.to_string().contains(body));

    // A vault that issued nothing says so on stderr.
    let fresh = Env::with_vault();
    let r = fresh.run(&["grants"], None).expect(code::OK);
    assert!(r.stdout.is_empty() && r.stderr.contains("no grants"));
}

#[test]
fn farm_keygen_writes_0600_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let (path, public) = keygen(&env, "farm.key");
    assert!(public.starts_with("age1") && !public.contains(char::is_whitespace));
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("AGE-SECRET-KEY-1") && text.contains(&public));

    let r = env.fails(
        &["farm-keygen", "--identity", path.to_str().unwrap()],
        code::EXISTS,
    );
    assert!(r.stderr.contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "untouched");

    let second = env.path("second.key");
    let v = json(&env.out(&[
        "farm-keygen",
        "--json",
        "--identity",
        second.to_str().unwrap(),
    ]));
    assert_eq!(v["identity"], second.to_str().unwrap());
    assert!(v["public_key"].as_str().unwrap().starts_with("age1"));
    assert!(!v.to_string().contains("AGE-SECRET-KEY"));
}

#[test]
fn the_host_pattern_refuses_other_machines_with_a_clear_message() {
    let env = env_with_entries();
    let token = issue_token(
        &env,
        "elsewhere.fvgrant",
        &["--hosts", "no-such-render-node-??"],
    );
    let bundle = env.path("elsewhere.fvgrant");
    let r = job(&env, &job_env(&bundle, &token), &["get", "shotgun/render"]).expect(code::USAGE);
    r.one_line_error();
    assert!(
        r.stderr
            .contains("does not match the grant's host pattern \"no-such-render-node-??\"")
            && r.stderr.contains("grant-info"),
        "{}",
        r.stderr
    );
    assert!(
        !env.path(".local/state/farmvault/grants").exists(),
        "a refused open records nothing"
    );
}

#[test]
fn a_grant_past_its_use_window_is_expired() {
    let env = env_with_entries();
    let args = [
        "grant",
        "shotgun/render",
        "--claim-within",
        "2h",
        "--use-for",
        "1h",
        "--label",
        LABEL,
        "--json",
    ];
    let r = env.run(&args, None).expect(code::OK);
    let issued = json(&r.stdout);
    let (token, id) = (
        issued["token"].as_str().unwrap(),
        issued["id"].as_str().unwrap(),
    );
    let bundle = env.path(issued["path"].as_str().unwrap());
    // The first open on this machine was two hours ago (the state file's documented format).
    let state = env.path(".local/state/farmvault/grants");
    std::fs::create_dir_all(&state).unwrap();
    let two_hours_ago = issued["created"].as_u64().unwrap() - 7200;
    std::fs::write(
        state.join(id),
        format!("farmvault-grant-state 1\nfirst_open {two_hours_ago}\n"),
    )
    .unwrap();
    let r = job(&env, &job_env(&bundle, token), &["get", "shotgun/render"]).expect(code::EXPIRED);
    r.one_line_error();
    assert!(
        r.stderr.contains(LABEL) && r.stderr.contains("issue a new one"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(RENDER_KEY));
}

#[test]
fn issuing_refuses_bad_requests_before_writing_anything() {
    let env = env_with_entries();
    let label = ["--label", "x"];
    // Both clocks are required: clap's one-line usage error.
    env.fails(
        &["grant", "shotgun/render", "--use-for", "1h", "--label", "x"],
        code::USAGE,
    );
    env.fails(
        &[
            "grant",
            "shotgun/render",
            "--claim-within",
            "1h",
            "--label",
            "x",
        ],
        code::USAGE,
    );
    // Over the vault's limit (7 days to claim by default).
    let r = env.fails(
        &[
            "grant",
            "shotgun/render",
            "--claim-within",
            "8d",
            "--use-for",
            "1h",
            "--label",
            "x",
        ],
        code::USAGE,
    );
    assert!(r.stderr.contains("limit"), "{}", r.stderr);
    // Nothing to grant.
    env.fails(&grant_args(&["nope"], &label), code::NOT_FOUND);
    let r = env.fails(&grant_args(&["nope/"], &label), code::NOT_FOUND);
    assert!(
        r.stderr.contains("no live entry under \"nope/\""),
        "{}",
        r.stderr
    );
    // --require-both and --no-token need recipients; a secret key is not one.
    env.fails(
        &grant_args(&["shotgun/render"], &["--label", "x", "--require-both"]),
        code::USAGE,
    );
    env.fails(
        &grant_args(&["shotgun/render"], &["--label", "x", "--no-token"]),
        code::USAGE,
    );
    let r = env.fails(
        &grant_args(
            &["shotgun/render"],
            &["--label", "x", "--to", "AGE-SECRET-KEY-1QQQQ"],
        ),
        code::USAGE,
    );
    assert!(r.stderr.contains("secret key") && !r.stderr.contains("QQQQ"));
    env.fails(
        &grant_args(
            &["shotgun/render"],
            &["--label", "x", "--to", "no-such-file.pub"],
        ),
        code::USAGE,
    );
    env.fails(
        &grant_args(
            &["shotgun/render"],
            &["--label", "x", "--to", "age1notakey"],
        ),
        code::USAGE,
    );
    env.fails(
        &grant_args(
            &["shotgun/render"],
            &["--label", "x", "--hosts", "render[0-9]"],
        ),
        code::USAGE,
    );
    // --out never overwrites.
    std::fs::write(env.path("taken.fvgrant"), b"keep").unwrap();
    env.fails(
        &grant_args(
            &["shotgun/render"],
            &["--label", "x", "--out", "taken.fvgrant"],
        ),
        code::EXISTS,
    );
    assert_eq!(std::fs::read(env.path("taken.fvgrant")).unwrap(), b"keep");

    assert!(!env.path("x.fvgrant").exists(), "no bundle was written");
    assert!(env.out(&["grants"]).is_empty(), "no grant was recorded");
}

#[test]
fn the_token_is_not_printed_to_a_terminal_without_reveal() {
    let Some(script) = common::script_binary() else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    let env = env_with_entries();
    let on_tty = |extra: &str| {
        let line = format!(
            "{} grant shotgun/render --claim-within 1h --use-for 1h --label tty {extra}",
            common::sh_quote(env!("CARGO_BIN_EXE_farmvault"))
        );
        let mut cmd = env.cmd();
        cmd.env_remove("XDG_STATE_HOME");
        let mut c = Command::new(&script);
        c.args(["-qec", &line, "/dev/null"])
            .current_dir(env.dir.path());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        common::run(&mut c, None)
    };
    let r = on_tty("").expect(code::INSECURE);
    assert!(r.all().contains("--reveal"), "{}", r.all());
    assert!(!r.all().contains("fvg1_"));
    assert!(!env.path("tty.fvgrant").exists(), "refused before issuing");
    assert!(env.out(&["grants"]).is_empty());
    let r = on_tty("--reveal").expect(code::OK);
    assert!(r.all().contains("fvg1_"));
    assert!(env.path("tty.fvgrant").is_file());
}

/// A script key granted for more than 4 h is usable that long by whoever holds
/// the bundle and token: `grant` says so (and the token is still issued); a
/// shorter window, or an entry that is not long-lived, gets no warning.
#[test]
fn a_long_window_on_a_script_key_is_warned_about() {
    let env = env_with_entries();
    let long = |entries: &[&str], use_for: &str, label: &str| {
        env.run(
            &[
                &["grant"][..],
                entries,
                &[
                    "--claim-within",
                    "72h",
                    "--use-for",
                    use_for,
                    "--label",
                    label,
                ],
            ]
            .concat(),
            None,
        )
        .expect(code::OK)
    };
    let r = long(&["shotgun/"], "12h", "long");
    assert!(r.stdout.trim().starts_with("fvg1_"), "{}", r.stdout);
    let warning: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("long-lived"))
        .collect();
    assert_eq!(warning.len(), 1, "{}", r.stderr);
    assert!(
        warning[0].contains("2 long-lived credential(s) (shotgun/publish, ...)")
            && warning[0].contains("12h use window")
            && warning[0].contains("--use-for of 4h or less"),
        "{}",
        warning[0]
    );
    assert!(!r.stderr.contains(RENDER_KEY) && !r.stderr.contains(PUBLISH_KEY));
    for (entries, use_for, label) in [
        (&["shotgun/render"][..], "4h", "short"),
        (&["other"][..], "12h", "opaque"),
    ] {
        let r = long(entries, use_for, label);
        assert!(!r.stderr.contains("long-lived"), "{label}: {}", r.stderr);
    }
}
