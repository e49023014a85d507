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
