//! A key file that group or others can access is refused by the command line
//! (exit 8, naming the fix) unless `--insecure-permissions`. The
//! library's own refusal is tested in the library's integration tests.
#![cfg(unix)]

use crate::common::{chmod, code, Env};

#[test]
fn the_cli_refuses_a_loose_key_file_unless_told_otherwise() {
    let env = Env::with_vault();
    let key = env.path("k.key");
    let key_arg = key.to_str().expect("utf8");
    env.run(&["key-file", "add", key_arg, "--generate"], None)
        .expect(code::OK);
    chmod(&key, 0o644);
    let list = |extra: &[&str]| {
        let mut args = vec!["--key-file", key_arg, "list"];
        args.extend_from_slice(extra);
        env.run(&args, None)
    };
    let r = list(&[]).expect(code::INSECURE);
    r.one_line_error();
    assert!(r.stderr.contains("key file"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("chmod 600 {}", key.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--insecure-permissions"), "{}", r.stderr);
    list(&["--insecure-permissions"]).expect(code::OK);
    // The same for the commands that read a key file to change the slots.
    let r = env
        .run(&["key-file", "remove", key_arg], None)
        .expect(code::INSECURE);
    r.one_line_error();
    chmod(&key, 0o600);
    list(&[]).expect(code::OK);
}

/// Key files, passphrase files and farm identities are opened once by the
/// library, without following a symbolic link, and checked on that descriptor:
/// a link is refused (exit 8) naming the link, unless `--insecure-permissions`.
#[test]
fn linked_key_and_passphrase_files_are_refused_naming_the_link() {
    let env = Env::with_vault();
    let key = env.path("k.key");
    let key_arg = key.to_str().expect("utf8");
    env.run(&["key-file", "add", key_arg, "--generate"], None)
        .expect(code::OK);
    let key_link = env.path("link.key");
    std::os::unix::fs::symlink(&key, &key_link).unwrap();
    let link_arg = key_link.to_str().expect("utf8");
    let r = env
        .run(&["--key-file", link_arg, "list"], None)
        .expect(code::INSECURE);
    r.one_line_error();
    assert!(
        r.stderr.contains(&format!(
            "key file {} is a symbolic link",
            key_link.display()
        )),
        "{}",
        r.stderr
    );
    env.run(
        &["--key-file", link_arg, "list", "--insecure-permissions"],
        None,
    )
    .expect(code::OK);

    let pass_link = env.path("link.pass");
    std::os::unix::fs::symlink(&env.passphrase_file, &pass_link).unwrap();
    let with_link = |args: &[&str]| {
        crate::common::run(
            env.cmd()
                .env("FARMVAULT_PASSPHRASE_FILE", &pass_link)
                .args(args),
            None,
        )
    };
    let r = with_link(&["list"]).expect(code::INSECURE);
    r.one_line_error();
    assert!(
        r.stderr.contains(&format!(
            "passphrase file {} is a symbolic link",
            pass_link.display()
        )),
        "{}",
        r.stderr
    );
    with_link(&["list", "--insecure-permissions"]).expect(code::OK);
}
