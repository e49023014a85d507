//! `farmvault` on a terminal, through a pseudo-terminal made by util-linux
//! `script`: hidden passphrase and secret prompts, and the refusal to print a
//! secret to a terminal without --reveal. Skipped (with a note) where `script`
//! is missing.
#![cfg(target_os = "linux")]

use crate::common::{self, code, sh_quote, Env, PW};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A farmvault run on a pseudo-terminal, driven like `expect`.
struct Pty {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Vec<u8>>,
    seen: String,
    /// Everything the terminal showed.
    all: String,
}

impl Pty {
    /// Runs farmvault `args` on a pty, with `env`'s environment minus `remove`.
    fn spawn(env: &Env, args: &[&str], remove: &[&str]) -> Option<Pty> {
        common::script_binary()?;
        let base = env.cmd();
        let mut line = sh_quote(env!("CARGO_BIN_EXE_farmvault"));
        for a in args {
            line.push(' ');
            line.push_str(&sh_quote(a));
        }
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .current_dir(env.dir.path())
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        for k in remove {
            cmd.env_remove(k);
        }
        let mut child = cmd.spawn().expect("spawn script");
        let mut out = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Some(Pty {
            child,
            stdin,
            rx,
            seen: String::new(),
            all: String::new(),
        })
    }

    /// Waits (10 s at most) until the terminal has shown `text` since the last expect.
    #[track_caller]
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(i) = self.seen.find(text) {
                self.seen.drain(..i + text.len());
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => {
                    let text = String::from_utf8_lossy(&chunk);
                    self.seen.push_str(&text);
                    self.all.push_str(&text);
                }
                Err(_) => panic!("timed out waiting for {text:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Types a line, once the prompt has had time to turn echo off.
    fn type_line(&mut self, text: &str) {
        std::thread::sleep(Duration::from_millis(300));
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{text}\n").as_bytes())
            .expect("type");
        stdin.flush().expect("flush");
    }

    /// Waits for the exit; returns the status and everything the terminal showed.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().expect("wait");
        drop(self.stdin.take());
        while let Ok(chunk) = self.rx.recv_timeout(Duration::from_secs(5)) {
            self.all.push_str(&String::from_utf8_lossy(&chunk));
        }
        (status.code().unwrap_or(-1), self.all)
    }
}

const NO_PASSPHRASE_FILE: &[&str] = &["FARMVAULT_PASSPHRASE_FILE"];

#[test]
fn hidden_prompts_for_init_unlock_and_put() {
    let env = Env::new();
    let Some(mut t) = Pty::spawn(&env, &["init"], NO_PASSPHRASE_FILE) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    t.expect("New passphrase: ");
    t.type_line(PW);
    t.expect("Repeat the passphrase: ");
    t.type_line(PW);
    t.expect("created a vault");
    let (status, transcript) = t.finish();
    assert_eq!(status, code::OK);
    assert!(!transcript.contains(PW), "echoed: {transcript}");

    // put: the passphrase, then the secret, both at hidden prompts.
    let mut t = Pty::spawn(
        &env,
        &[
            "put",
            "typed",
            "--kind",
            "script_key",
            "--host",
            "https://h",
            "--script-name",
            "s",
        ],
        NO_PASSPHRASE_FILE,
    )
    .expect("script");
    t.expect("Passphrase for ");
    t.type_line(PW);
    t.expect("API key for typed: ");
    t.type_line("typed-api-key-77");
    t.expect("stored typed");
    let (status, transcript) = t.finish();
    assert_eq!(status, code::OK, "{transcript}");
    assert!(
        !transcript.contains("typed-api-key-77") && !transcript.contains(PW),
        "echoed: {transcript}"
    );
    assert_eq!(env.out(&["get", "typed"]), "typed-api-key-77\n");

    // A wrong passphrase at the prompt: 5.
    let mut t = Pty::spawn(&env, &["list"], NO_PASSPHRASE_FILE).expect("script");
    t.expect("Passphrase for ");
    t.type_line("not the passphrase");
    let (status, rest) = t.finish();
    assert_eq!(status, code::WRONG_KEY, "{rest}");
    assert!(rest.contains("farmvault: wrong passphrase"), "{rest}");
}

#[test]
fn init_refuses_two_different_passphrases() {
    let env = Env::new();
    let Some(mut t) = Pty::spawn(&env, &["init"], NO_PASSPHRASE_FILE) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    t.expect("New passphrase: ");
    t.type_line("one passphrase");
    t.expect("Repeat the passphrase: ");
    t.type_line("another passphrase");
    let (status, rest) = t.finish();
    assert_eq!(status, code::USAGE, "{rest}");
    assert!(rest.contains("differ"), "{rest}");
    assert!(!env.vault.exists(), "no vault was created");
}

#[test]
fn secrets_are_not_printed_to_a_terminal_without_reveal() {
    let env = Env::with_vault();
    env.put_script_key("k", "terminal-secret-5", &[])
        .expect(code::OK);
    let Some(t) = Pty::spawn(&env, &["get", "k"], &[]) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    let (status, out) = t.finish();
    assert_eq!(status, code::INSECURE, "{out}");
    assert!(
        out.contains("--reveal") && !out.contains("terminal-secret-5"),
        "{out}"
    );
    for args in [
        &["get", "k", "--json"][..],
        &["export-sgtk", "k"],
        &["get", "k", "--field", "api_key"],
    ] {
        let (status, out) = Pty::spawn(&env, args, &[]).expect("script").finish();
        assert_eq!(status, code::INSECURE, "{args:?}: {out}");
        assert!(!out.contains("terminal-secret-5"), "{out}");
    }
    // --reveal prints it; non-secret fields print anywhere.
    let (status, out) = Pty::spawn(&env, &["get", "k", "--reveal"], &[])
        .expect("script")
        .finish();
    assert_eq!(status, code::OK);
    assert!(out.contains("terminal-secret-5"), "{out}");
    let (status, out) = Pty::spawn(&env, &["get", "k", "--field", "host"], &[])
        .expect("script")
        .finish();
    assert_eq!(status, code::OK);
    assert!(out.contains(common::HOST), "{out}");
}

#[test]
fn get_refuses_a_terminal_before_asking_for_the_passphrase() {
    let env = Env::with_vault();
    env.put_script_key("k", "terminal-secret-6", &[])
        .expect(code::OK);
    let Some(mut t) = Pty::spawn(&env, &["get", "k"], NO_PASSPHRASE_FILE) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    // A build that prompts first waits at the prompt: answer it, so the test
    // ends either way and then fails on what the terminal showed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while t.child.try_wait().expect("try_wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if t.child.try_wait().expect("try_wait").is_none() {
        t.type_line(PW);
    }
    let (status, out) = t.finish();
    assert_eq!(status, code::INSECURE, "{out}");
    assert!(!out.contains("Passphrase for"), "prompted first: {out}");
    assert!(!out.contains("terminal-secret-6"), "{out}");
}
