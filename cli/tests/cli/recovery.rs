//! `farmvault backup`, `restore` and `repair`: exit codes, what they print, and
//! that no secret appears in their output or in the backup files.

use crate::common::{self, code, files_containing, json, Env};

const SECRET: &str = "s3cr3t-value-for-recovery-tests";

/// Makes sled refuse the store: the start of its data file overwritten.
fn wreck_store(env: &Env) {
    let db = common::data_dir(&env.vault).join("db");
    let mut bytes = std::fs::read(&db).expect("db");
    let n = bytes.len().min(4096);
    bytes[..n].fill(0xA5);
    std::fs::write(&db, bytes).expect("write db");
}

#[test]
fn repair_rebuilds_a_damaged_store_and_keeps_every_entry() {
    let env = Env::with_vault();
    for i in 0..5 {
        env.put(&format!("job/{i}"), &format!("{SECRET}-{i}"), &[])
            .expect(code::OK);
    }
    env.put("short", SECRET, &["--ttl", "1h"]).expect(code::OK);
    env.run(&["rm", "job/4"], None).expect(code::OK);

    // Nothing to do on a healthy vault.
    let r = env.run(&["repair"], None).expect(code::OK);
    assert!(r.stderr.contains("nothing to repair"), "{}", r.stderr);

    wreck_store(&env);
    let r = env.fails(&["list"], code::CORRUPT);
    assert!(r.stderr.contains("farmvault repair"), "{}", r.stderr);

    let r = env.run(&["repair", "--json"], None).expect(code::OK);
    let v = json(&r.stdout);
    assert_eq!(v["repaired"], true);
    assert_eq!(v["entries"], 5);
    assert!(v["moved_aside"].as_str().unwrap().contains("damaged-"));
    for i in 0..4 {
        let got = env.out(&["get", &format!("job/{i}")]);
        assert_eq!(got.trim_end(), format!("{SECRET}-{i}"));
    }
    env.fails(&["get", "job/4"], code::NOT_FOUND);
    assert_eq!(env.out(&["get", "short"]).trim_end(), SECRET);
    let r = env.run(&["backup", "--verify"], None).expect(code::OK);
    assert!(r.stderr.contains("matches"), "{}", r.stderr);
    assert!(!r.all().contains(SECRET));
    assert!(
        files_containing(&env.vault, SECRET.as_bytes()).is_empty(),
        "a secret in plaintext under the vault directory"
    );
}

#[test]
fn repair_with_the_wrong_key_changes_nothing() {
    let env = Env::with_vault();
    env.put("a", SECRET, &[]).expect(code::OK);
    wreck_store(&env);
    std::fs::write(&env.passphrase_file, b"not the passphrase\n").unwrap();
    env.fails(&["repair"], code::WRONG_KEY);
    let names: Vec<String> = std::fs::read_dir(&env.vault)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("damaged-")),
        "{names:?}"
    );
    assert!(common::data_dir(&env.vault).join("db").is_file());
}

#[test]
fn backup_and_restore_through_the_command_line() {
    let env = Env::with_vault();
    env.put("shotgun/render", SECRET, &[]).expect(code::OK);
    let file = env.path("vault.fvbk");
    let file_s = file.to_str().unwrap();
    let r = env.run(&["backup", file_s], None).expect(code::OK);
    assert!(r.stderr.contains("1 entry"), "{}", r.stderr);
    assert!(!r.all().contains(SECRET));
    // Never overwrites.
    env.fails(&["backup", file_s], code::EXISTS);
    let backup = std::fs::read(&file).unwrap();
    assert!(
        !backup.windows(SECRET.len()).any(|w| w == SECRET.as_bytes())
            && !backup.windows(14).any(|w| w == b"shotgun/render"),
        "the backup holds a secret or a name in plaintext"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Into a new place.
    let restored = env.path("restored");
    let mut cmd = env.cmd();
    cmd.env("FARMVAULT_PATH", &restored)
        .args(["restore", file_s]);
    let r = common::run(&mut cmd, None).expect(code::OK);
    assert!(r.stderr.contains("restored 1 entry"), "{}", r.stderr);
    let mut cmd = env.cmd();
    cmd.env("FARMVAULT_PATH", &restored)
        .args(["get", "shotgun/render"]);
    assert_eq!(
        common::run(&mut cmd, None)
            .expect(code::OK)
            .stdout
            .trim_end(),
        SECRET
    );
    // Not over an existing vault.
    env.fails(&["restore", file_s], code::EXISTS);
    // A damaged backup is named.
    let mut bad = backup.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    let bad_file = env.path("bad.fvbk");
    std::fs::write(&bad_file, &bad).unwrap();
    let mut cmd = env.cmd();
    cmd.env("FARMVAULT_PATH", env.path("elsewhere"))
        .args(["restore", bad_file.to_str().unwrap()]);
    let r = common::run(&mut cmd, None).expect(code::CORRUPT);
    r.one_line_error();
    assert!(r.stderr.contains("bad.fvbk"), "{}", r.stderr);
    // backup needs a FILE or --verify.
    env.run(&["backup"], None).expect(code::USAGE);
}

/// `backup FILE` never writes through a link planted at FILE: one to a file
/// someone wants overwritten, or to a path they want created. The library's
/// exclusive create refuses it (exit 11) and leaves everything as it was.
#[cfg(unix)]
#[test]
fn backup_never_writes_through_a_link_planted_at_its_path() {
    let env = Env::with_vault();
    env.put("a", SECRET, &[]).expect(code::OK);
    let victim = env.path("victim");
    std::fs::write(&victim, b"the victim's file").unwrap();
    let planted = env.path("planted.fvbk");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    env.fails(&["backup", planted.to_str().unwrap()], code::EXISTS);
    assert_eq!(std::fs::read(&victim).unwrap(), b"the victim's file");

    let elsewhere = env.path("made-through-the-link");
    let dangling = env.path("dangling.fvbk");
    std::os::unix::fs::symlink(&elsewhere, &dangling).unwrap();
    env.fails(&["backup", dangling.to_str().unwrap()], code::EXISTS);
    assert!(!elsewhere.exists());
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
}
