//! A vault on a network filesystem is refused unless the caller opts in. The
//! filesystem is real: sshfs (FUSE, mount type `fuse.sshfs`) speaking SFTP to
//! OpenSSH's own `sftp-server`, started directly instead of through ssh, so
//! only the network between them is missing.
#![cfg(target_os = "linux")]

use crate::common::{code, Env};
use std::path::{Path, PathBuf};
use std::process::Command;

/// OpenSSH's SFTP server, where Debian installs it.
const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// An sshfs mount of a local directory, unmounted on drop.
struct Sshfs(PathBuf);

impl Sshfs {
    /// `None` (with the reason printed) where sshfs cannot mount here.
    fn mount(env: &Env) -> Option<Sshfs> {
        if !Path::new("/dev/fuse").exists() {
            eprintln!("skipped: no /dev/fuse on this machine");
            return None;
        }
        if !Path::new(SFTP_SERVER).exists() || Command::new("sshfs").arg("-V").output().is_err() {
            eprintln!(
                "skipped: sshfs or {SFTP_SERVER} is missing (scripts/test-all.sh installs them)"
            );
            return None;
        }
        let served = env.path("served");
        let mount = env.path("mnt");
        std::fs::create_dir(&served).unwrap();
        std::fs::create_dir(&mount).unwrap();
        // sshfs runs its "ssh command" with ssh's arguments; this one ignores
        // them and is the SFTP server itself.
        let ssh = env.path("sftp-direct");
        std::fs::write(&ssh, format!("#!/bin/sh\nexec {SFTP_SERVER}\n")).unwrap();
        crate::common::chmod(&ssh, 0o700);
        let ok = Command::new("sshfs")
            .arg("-o")
            .arg(format!("ssh_command={}", ssh.display()))
            .arg(format!("localhost:{}", served.display()))
            .arg(&mount)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: sshfs could not mount (FUSE needs root or a setuid fusermount3)");
            return None;
        }
        Some(Sshfs(mount))
    }
}

impl Drop for Sshfs {
    fn drop(&mut self) {
        let unmounted = Command::new("fusermount3")
            .arg("-u")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

#[test]
fn a_vault_on_sshfs_is_refused_unless_allowed() {
    let env = Env::new();
    let Some(mount) = Sshfs::mount(&env) else {
        return;
    };
    let vault = mount.0.join("vault");
    let vault_arg = vault.to_str().unwrap();

    let refused = env.fails(&["--vault", vault_arg, "init"], code::INSECURE);
    assert!(
        refused.stderr.contains("network filesystem (fuse.sshfs)"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--allow-network-filesystem"),
        "{}",
        refused.stderr
    );
    assert!(!vault.exists(), "a refused init made the vault directory");

    // Opted in: the vault works there, and every later command must opt in too.
    env.run(
        &["--vault", vault_arg, "--allow-network-filesystem", "init"],
        None,
    )
    .expect(code::OK);
    let put = [
        "--vault",
        vault_arg,
        "--allow-network-filesystem",
        "put",
        "a",
    ];
    env.run(&put, Some(b"over sshfs")).expect(code::OK);
    let get = [
        "--vault",
        vault_arg,
        "--allow-network-filesystem",
        "get",
        "a",
    ];
    assert_eq!(env.run(&get, None).expect(code::OK).stdout, "over sshfs\n");
    let r = env.fails(&["--vault", vault_arg, "get", "a"], code::INSECURE);
    assert!(r.stderr.contains("fuse.sshfs"), "{}", r.stderr);
    // The environment variable opts in as the flag does.
    let mut c = env.cmd();
    c.env("FARMVAULT_ALLOW_NETWORK_FILESYSTEM", "true")
        .args(["--vault", vault_arg, "list"]);
    let listed = crate::common::run(&mut c, None).expect(code::OK);
    assert!(listed.stdout.contains('a'), "{}", listed.stdout);
    drop(mount);
}

#[test]
fn a_local_vault_needs_no_opt_in() {
    let env = Env::with_vault();
    env.put("a", "local", &[]).expect(code::OK);
    assert_eq!(env.out(&["get", "a"]), "local\n");
}
