//! A system clock set back does not make expired entries readable again: the
//! vault keeps the latest time a write saw and judges expiry no earlier, and
//! says the clock is behind. The clock really moves for the command, through
//! libfaketime (`faketime -f +2h`), and then really goes back.
#![cfg(target_os = "linux")]

use crate::common::{code, Env};
use std::process::Command;

/// `farmvault ARGS` with the system clock `offset` ahead (`+2h`), through faketime.
fn at(env: &Env, offset: &str, args: &[&str], stdin: Option<&[u8]>) -> crate::common::Run {
    let cmd = env.cmd();
    let mut faked = Command::new("faketime");
    faked.args(["-f", offset]).arg(cmd.get_program()).args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => faked.env(k, v),
            None => faked.env_remove(k),
        };
    }
    faked.current_dir(env.path(""));
    crate::common::run(&mut faked, stdin)
}

fn faketime_works() -> bool {
    let ok = Command::new("faketime")
        .args(["-f", "+1d", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: faketime (libfaketime) is not installed");
    }
    ok
}

#[test]
fn a_clock_set_back_does_not_revive_expired_entries() {
    if !faketime_works() {
        return;
    }
    let env = Env::with_vault();
    env.put("x", "short-lived", &["--ttl", "1h"])
        .expect(code::OK);
    // Two hours later a write happens: the vault has now seen that time.
    at(&env, "+2h", &["put", "y"], Some(b"later")).expect(code::OK);
    at(&env, "+2h", &["get", "x"], None).expect(code::EXPIRED);
    // The clock goes back to now, before x's expiry: x stays expired.
    let r = env.run(&["get", "x"], None).expect(code::EXPIRED);
    assert!(!r.stdout.contains("short-lived"), "{}", r.stdout);
    // "2h", or "1h 59m" when the commands took their time.
    assert!(
        r.stderr.contains("the system clock is 2h behind")
            || r.stderr.contains("the system clock is 1h 59m behind"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("behind the latest time this vault has seen"),
        "{}",
        r.stderr
    );
    // list and check judge at the same time.
    let list = env.run(&["list", "--json"], None).expect(code::OK);
    let json = crate::common::json(&list.stdout);
    let x = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["name"] == "x")
        .expect("x listed");
    assert_eq!(x["expired"], true, "{x}");
}

#[test]
fn a_clock_that_is_right_says_nothing() {
    if !faketime_works() {
        return;
    }
    let env = Env::with_vault();
    env.put("x", "value", &["--ttl", "1h"]).expect(code::OK);
    let r = env.run(&["get", "x"], None).expect(code::OK);
    assert!(!r.stderr.contains("clock"), "{}", r.stderr);
    // A clock ahead of the vault's record is simply later: no warning either.
    let r = at(&env, "+10m", &["get", "x"], None).expect(code::OK);
    assert!(!r.stderr.contains("clock"), "{}", r.stderr);
}
