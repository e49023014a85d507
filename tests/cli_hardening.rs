//! The command line's side of two safeguards the library keeps: it refuses a
//! key file that group or others can access unless told otherwise
//! (`--insecure-permissions`), and a process that may not lock memory still
//! opens the vault and warns once, without a secret.
//!
//! These run the `farmvault` binary; the library's own checks of the same
//! safeguards are in `tests/vault/` (`key_file_perms`, `memory_lock`).
#![cfg(unix)]

mod cli_common;

use cli_common::{chmod, code, Env};

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

/// Runs on Linux, where a locked-memory limit of 0 can be set for one command.
#[cfg(target_os = "linux")]
mod memory_lock {
    use super::cli_common::{self, code, Env};
    use std::process::Command;

    /// Whether this process has CAP_IPC_LOCK (bit 14 of CapEff), which ignores
    /// RLIMIT_MEMLOCK.
    fn cap_ipc_lock() -> bool {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let cap_eff = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        cap_eff & (1 << 14) != 0
    }

    /// `env`'s command line for `args`, run with a locked-memory limit of 0 (and,
    /// when this process has CAP_IPC_LOCK, which ignores the limit, without it:
    /// `setpriv` drops it from the bounding set). `None` when that needs `setpriv`
    /// and it is missing.
    fn without_mlock(env: &Env, args: &[&str]) -> Option<Command> {
        let base = env.cmd();
        let mut c = if cap_ipc_lock() {
            let ok = Command::new("setpriv").arg("--version").output().is_ok();
            if !ok {
                return None;
            }
            let mut c = Command::new("setpriv");
            c.args([
                "--bounding-set=-ipc_lock",
                "--inh-caps=-ipc_lock",
                "--",
                "sh",
            ]);
            c
        } else {
            Command::new("sh")
        };
        c.args(["-c", r#"ulimit -l 0 && exec "$0" "$@""#])
            .arg(base.get_program())
            .args(args);
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = base.get_current_dir() {
            c.current_dir(d);
        }
        Some(c)
    }

    const SECRET: &str = "s3cret-api-key-0123456789";
    const WARNING_START: &str = "farmvault: warning: could not lock key material in memory: ";
    const WARNING_END: &str = ". The keys work, but the operating system may write them to swap; \
         to keep them in RAM, raise the locked-memory limit (`ulimit -l`, or LimitMEMLOCK= for a \
         systemd service)";

    /// Exactly one memory-lock warning, and it is the fixed text around the OS's error.
    #[track_caller]
    fn warned_once(stderr: &str) {
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("could not lock"))
            .collect();
        assert_eq!(warnings.len(), 1, "stderr: {stderr}");
        let reason = warnings[0]
            .strip_prefix(WARNING_START)
            .and_then(|r| r.strip_suffix(WARNING_END))
            .unwrap_or_else(|| panic!("not the fixed warning: {}", warnings[0]));
        // "Operation not permitted (os error 1)", "Cannot allocate memory (os error 12)".
        assert!(
            reason.ends_with(" (os error 1)") || reason.ends_with(" (os error 12)"),
            "{reason}"
        );
        for secret in [SECRET, cli_common::PW] {
            assert!(!stderr.contains(secret), "stderr: {stderr}");
        }
    }

    #[test]
    fn a_process_that_may_not_lock_memory_still_opens_and_warns_once() {
        let env = Env::with_vault();
        env.put("shotgun/render", SECRET, &[]).expect(code::OK);
        let key = env.path("farm.key");
        let key_arg = key.to_str().expect("utf8");
        env.run(&["key-file", "add", key_arg, "--generate"], None)
            .expect(code::OK);
        let run = |args: &[&str]| {
            let mut c = without_mlock(&env, args)?;
            Some(cli_common::run(&mut c, None))
        };

        // A read by passphrase, one by key file (the key file's key is locked too),
        // a read through `exec` (which warns before the command replaces it), and a
        // new vault (created, not opened): each opens, and warns exactly once.
        let Some(r) = run(&["get", "shotgun/render"]) else {
            eprintln!("skipped: this process has CAP_IPC_LOCK and there is no setpriv to drop it");
            return;
        };
        let r = r.expect(code::OK);
        assert_eq!(r.stdout.trim_end(), SECRET);
        warned_once(&r.stderr);

        let r = run(&["--key-file", key_arg, "list"])
            .unwrap()
            .expect(code::OK);
        assert!(r.stdout.contains("shotgun/render"), "{}", r.stdout);
        warned_once(&r.stderr);

        let r = run(&[
            "exec",
            "--env",
            "RENDER_KEY=shotgun/render",
            "--",
            "sh",
            "-c",
            r#"test "$RENDER_KEY" = "$0""#,
            SECRET,
        ])
        .unwrap()
        .expect(code::OK);
        warned_once(&r.stderr);

        let other = env.path("other-vault");
        let r = run(&["--vault", other.to_str().expect("utf8"), "init"])
            .unwrap()
            .expect(code::OK);
        warned_once(&r.stderr);

        // A failure still warns once, before its one-line error.
        let r = run(&["get", "no/such/entry"])
            .unwrap()
            .expect(code::NOT_FOUND);
        r.one_line_error();
        warned_once(&r.stderr);
    }
}
