//! A write is acknowledged only after every sync it depends on succeeded, and a
//! failed sync never panics, never loses an acknowledged write and never leaves
//! a vault that needs `repair`.
//!
//! Real system calls fail here: strace's fault injection makes the Nth `fsync`
//! (or `fdatasync`) of one command return EIO, for every N the command reaches.
#![cfg(target_os = "linux")]

use crate::common::{self, code, Env};

/// One write command: its arguments, its stdin, and how to check it took effect.
struct Op {
    what: &'static str,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    /// Whether the write is visible to a later, uninjected command.
    took_effect: Box<dyn Fn(&Env) -> bool>,
}

fn secret_of(env: &Env, name: &str) -> Option<String> {
    let r = env.run(&["get", name], None);
    (r.code == code::OK).then(|| r.stdout.trim_end().to_owned())
}

fn ops(round: usize) -> Vec<Op> {
    let put_name = format!("put-{round}");
    let put_value = format!("value-{round}");
    let rm_name = format!("keep-{round}");
    let renew_name = format!("renew-{round}");
    let (p, v) = (put_name.clone(), put_value.clone());
    let r = rm_name.clone();
    let n = renew_name.clone();
    vec![
        Op {
            what: "put",
            args: vec!["put".into(), put_name],
            stdin: Some(put_value.into_bytes()),
            took_effect: Box::new(move |env| secret_of(env, &p).as_deref() == Some(v.as_str())),
        },
        Op {
            what: "rm",
            args: vec!["rm".into(), rm_name],
            stdin: None,
            took_effect: Box::new(move |env| env.run(&["get", &r], None).code == code::NOT_FOUND),
        },
        Op {
            what: "renew",
            args: vec!["renew".into(), renew_name, "--ttl".into(), "30d".into()],
            stdin: None,
            took_effect: Box::new(move |env| {
                // Put with a TTL of one day, renewed to thirty.
                let list = common::json(&env.out(&["list", "--json"]));
                let now = list["now"].as_u64().expect("now");
                list["entries"]
                    .as_array()
                    .expect("entries")
                    .iter()
                    .any(|e| {
                        e["name"] == n.as_str()
                            && e["expires"].as_u64().is_some_and(|x| x > now + 2 * 86_400)
                    })
            }),
        },
    ]
}

/// Runs every op with the Nth call of `syscall` failing, for N = 1, 2, ... until
/// an op's run reaches no Nth call; checks each outcome.
fn sweep(syscall: &str) {
    if !common::strace_works() {
        return;
    }
    let env = Env::with_vault();
    let log = env.path("strace.log");
    let mut injected_runs = 0;
    for round in 0..40 {
        let mut any_injected = false;
        for op in ops(round) {
            // What the op acts on exists first, written without faults.
            if op.what == "rm" || op.what == "renew" {
                let name = &op.args[1];
                env.put(name, "present", &["--ttl", "1d"]).expect(code::OK);
            }
            let n = round + 1;
            let mut cmd = env.cmd();
            cmd.args(&op.args);
            let inject = format!("inject={syscall}:error=EIO:when={n}");
            let mut traced = common::under_strace(
                &cmd,
                &["-e", &format!("trace={syscall}"), "-e", &inject],
                &log,
            );
            let r = common::run(&mut traced, op.stdin.as_deref());
            let hit = std::fs::read_to_string(&log)
                .expect("strace log")
                .contains("INJECTED");
            any_injected |= hit;
            injected_runs += usize::from(hit);
            let ctx = format!(
                "{} with {syscall} #{n} failing (injected: {hit}): exit {}\nstdout: {}\nstderr: {}",
                op.what, r.code, r.stdout, r.stderr
            );
            assert!(
                !r.stderr.contains("panicked"),
                "a panic reached the user: {ctx}"
            );
            match r.code {
                code::OK => {
                    // Acknowledged: it must be there, now and for every later reader.
                    assert!((op.took_effect)(&env), "acknowledged but lost: {ctx}");
                }
                code::IO => {
                    assert!(
                        r.stderr.contains("Input/output error"),
                        "the I/O error is not named: {ctx}"
                    );
                    assert!(!r.stdout.contains("stored"), "refused yet confirmed: {ctx}");
                }
                _ => panic!("neither success nor an I/O error: {ctx}"),
            }
            // Whatever happened, the next command finds a vault that opens.
            let after = env.run(&["list"], None);
            assert_eq!(
                after.code,
                code::OK,
                "the vault does not open after {ctx}\nlist said: {}",
                after.stderr
            );
        }
        if !any_injected {
            break;
        }
    }
    assert!(injected_runs > 3, "the sweep never reached a {syscall}");
}

#[test]
fn a_failed_fsync_is_an_io_error_or_harmless() {
    sweep("fsync");
}

#[test]
fn a_failed_fdatasync_is_an_io_error_or_harmless() {
    sweep("fdatasync");
}
