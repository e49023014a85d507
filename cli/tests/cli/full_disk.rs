//! A full disk never damages the vault: on a small tmpfs filled by another file,
//! reads work or fail saying the disk is full, a write fails the same way and
//! loses nothing already stored, and once space is freed the vault opens and
//! reads with no `repair`.
#![cfg(target_os = "linux")]

use crate::common::{code, Env};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on a new directory, unmounted on drop.
pub(crate) struct SmallDisk(pub(crate) PathBuf);

impl SmallDisk {
    /// `None` (with the reason printed) where this process may not mount.
    pub(crate) fn mount(at: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir(at).expect("mount point");
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
            return None;
        }
        Some(SmallDisk(at.to_owned()))
    }

    /// Writes zeros to `file` until the disk is full.
    pub(crate) fn fill(&self, file: &Path) {
        use std::io::Write;
        let mut f = std::fs::File::create(file).expect("filler");
        let block = vec![0u8; 64 * 1024];
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // Small writes take the last partial block too.
        while f.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_cleanly_and_loses_nothing() {
    let env = Env::new();
    let Some(disk) = SmallDisk::mount(&env.path("disk"), "4m") else {
        return;
    };
    let vault = disk.0.join("vault");
    let run = |args: &[&str], stdin: Option<&[u8]>| {
        let mut c = env.cmd();
        c.env("FARMVAULT_PATH", &vault).args(args);
        crate::common::run(&mut c, stdin)
    };
    run(&["init"], None).expect(code::OK);
    for i in 0..3 {
        run(
            &["put", &format!("e{i}")],
            Some(format!("secret-{i}").as_bytes()),
        )
        .expect(code::OK);
    }
    let filler = disk.0.join("filler");
    disk.fill(&filler);

    for args in [&["get", "e1"][..], &["list"], &["export-sgtk", "e1"]] {
        let r = run(args, None);
        if r.code != code::OK {
            // export-sgtk of an opaque entry is refused for what it is, not for space.
            if args[0] == "export-sgtk" && r.stderr.contains("opaque") {
                continue;
            }
            let r = r.expect(code::IO);
            r.one_line_error();
            assert!(r.stderr.contains("No space left"), "{args:?}: {}", r.stderr);
            assert!(
                r.stderr.contains("the disk is full"),
                "{args:?}: {}",
                r.stderr
            );
        }
    }
    let r = run(&["put", "e9"], Some(b"late")).expect(code::IO);
    r.one_line_error();
    assert!(r.stderr.contains("No space left"), "{}", r.stderr);

    std::fs::remove_file(&filler).expect("free the disk");
    // No repair: it opens, everything stored before is there, and it takes writes.
    for i in 0..3 {
        let out = run(&["get", &format!("e{i}")], None)
            .expect(code::OK)
            .stdout;
        assert_eq!(out.trim_end(), format!("secret-{i}"));
    }
    run(&["get", "e9"], None).expect(code::NOT_FOUND);
    run(&["put", "e9"], Some(b"late")).expect(code::OK);
    drop(disk);
}
