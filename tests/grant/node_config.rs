//! The node configuration files: `grant-hostname`, on a node whose
//! administrator wrote it, the hostname a grant's host pattern is checked
//! against; `issuers`, the issuers every grant opened there must be signed by.
//! Each is refused, naming it, when anyone but root could have written it.
//!
//! The node configuration directory here is a temporary one the test makes
//! (`GrantOpen::node_config_dir`, a `test-overrides` knob), owned by the user
//! running the tests: it has to be root's, so these tests need root. Run as
//! anyone else, each says so and skips.

use crate::support::*;
use farmvault::grant::{Grant, GrantOpen, IssuedGrant};
use farmvault::Error;
use std::os::unix::fs::{chown, symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The uid of `nobody`.
const NOBODY: u32 = 65534;

/// Whether the tests run as root; if not, says that the calling test skips.
fn root_or_skip() -> bool {
    let uid = rustix::process::geteuid().as_raw();
    if uid != 0 {
        eprintln!(
            "skipped: a node configuration directory must be root's, and these tests run as uid {uid}"
        );
    }
    uid == 0
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A node configuration directory as an administrator makes one (root's, 0755),
/// holding `grant-hostname` (root's, 0644) with `text`.
fn node_dir(f: &Fixture, name: &str, text: &str) -> PathBuf {
    let dir = f.path(name);
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o755);
    let file = dir.join("grant-hostname");
    std::fs::write(&file, text).unwrap();
    chmod(&file, 0o644);
    dir
}

/// How a render node opens `issued`: the fixture's clock, the state directory of
/// `machine`, the node configuration in `dir`, and no hostname of the opener's.
fn how(f: &Fixture, issued: &IssuedGrant, machine: &str, dir: &Path) -> GrantOpen {
    GrantOpen::new()
        .token(issued.token.clone().unwrap())
        .clock(Arc::new(f.clock.clone()))
        .state_dir(f.path(&format!("state-{machine}")))
        .node_config_dir(dir)
}

#[test]
fn the_node_files_hostname_is_the_one_checked() {
    if !root_or_skip() {
        return;
    }
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).hosts("render*"));
    let dir = node_dir(
        &f,
        "node",
        "# this node's name on the farm\n\ncomp01.studio   # not render*\n",
    );
    match Grant::open(&issued.path, &how(&f, &issued, "a", &dir)) {
        Err(Error::HostNotAllowed { hostname, pattern }) => {
            assert_eq!(
                (hostname.as_str(), pattern.as_str()),
                ("comp01.studio", "render*")
            );
        }
        other => panic!("expected a host refusal, got {other:?}"),
    }
    assert!(
        !f.path("state-a").exists(),
        "a refused host does not start the clock"
    );
    std::fs::write(dir.join("grant-hostname"), "RENDER07.farm.example\n").unwrap();
    let g = Grant::open(&issued.path, &how(&f, &issued, "a", &dir)).unwrap();
    assert_eq!(
        g.credential(RENDER).unwrap().secret(),
        RENDER_KEY.as_bytes()
    );

    // A test's own hostname comes first.
    std::fs::write(dir.join("grant-hostname"), "comp01.studio\n").unwrap();
    let overridden = how(&f, &issued, "a", &dir).hostname("render01");
    assert!(Grant::open(&issued.path, &overridden).is_ok());

    // Without the file, or the directory, the OS's hostname is checked.
    let elsewhere = f.issue(
        &f.spec("elsewhere.fvg")
            .entry(RENDER)
            .hosts("farmvault-no-such-host-??"),
    );
    std::fs::remove_file(dir.join("grant-hostname")).unwrap();
    for dir in [dir.clone(), f.path("no-such-dir")] {
        match Grant::open(&elsewhere.path, &how(&f, &elsewhere, "b", &dir)) {
            Err(Error::HostNotAllowed { hostname, .. }) => assert_eq!(hostname, this_hostname()),
            other => panic!("expected a host refusal, got {other:?}"),
        }
    }
}

/// Opens the `render*` grant `issued` with the node configuration in `dir` and
/// returns the refusal, after checking that nothing was recorded and that the
/// message shows no token.
fn refusal(f: &Fixture, issued: &IssuedGrant, dir: &Path) -> Error {
    let err = Grant::open(&issued.path, &how(f, issued, "a", dir))
        .expect_err("the node configuration is refused");
    assert!(
        !f.path("state-a").exists(),
        "a refused open records nothing"
    );
    let token = issued.token.as_ref().unwrap().expose().to_owned();
    assert!(!err.to_string().contains(&token), "{err}");
    err
}

/// An `Insecure` refusal of `path` whose message holds `what`.
fn assert_insecure(err: Error, path: &Path, what: &str) {
    let msg = err.to_string();
    match err {
        Error::Insecure { path: p, .. } => {
            assert_eq!(p, path, "{msg}");
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(what), "{msg}");
        }
        other => panic!("expected Insecure for {}, got {other:?}", path.display()),
    }
}

#[test]
fn a_node_file_anyone_but_root_could_write_is_refused() {
    if !root_or_skip() {
        return;
    }
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER).hosts("render*"));
    let good = "render07\n";

    let dir = node_dir(&f, "file-nobody", good);
    let file = dir.join("grant-hostname");
    chown(&file, Some(NOBODY), None).unwrap();
    assert_insecure(refusal(&f, &issued, &dir), &file, "node configuration file");
    assert_insecure(
        refusal(&f, &issued, &dir),
        &file,
        "is owned by uid 65534, not by root",
    );
    for mode in [0o664, 0o646, 0o666] {
        let dir = node_dir(&f, &format!("file-{mode:o}"), good);
        let file = dir.join("grant-hostname");
        chmod(&file, mode);
        assert_insecure(
            refusal(&f, &issued, &dir),
            &file,
            &format!("is writable by group or others (mode {mode:04o})"),
        );
    }

    let dir = node_dir(&f, "dir-nobody", good);
    chown(&dir, Some(NOBODY), None).unwrap();
    assert_insecure(
        refusal(&f, &issued, &dir),
        &dir,
        "node configuration directory",
    );
    assert_insecure(refusal(&f, &issued, &dir), &dir, "owned by uid 65534");
    let dir = node_dir(&f, "dir-775", good);
    chmod(&dir, 0o775);
    assert_insecure(
        refusal(&f, &issued, &dir),
        &dir,
        "is writable by group or others (mode 0775)",
    );

    // Symbolic links are refused, never followed, even to what would pass.
    let real = node_dir(&f, "real", good);
    let dir = f.path("dir-link");
    symlink(&real, &dir).unwrap();
    assert_insecure(refusal(&f, &issued, &dir), &dir, "is a symbolic link");
    let dir = node_dir(&f, "file-link", good);
    let file = dir.join("grant-hostname");
    std::fs::remove_file(&file).unwrap();
    symlink(real.join("grant-hostname"), &file).unwrap();
    assert_insecure(refusal(&f, &issued, &dir), &file, "is a symbolic link");

    // Root's but malformed, or not a file: refused too, naming it.
    let dir = node_dir(&f, "two-names", "render07\nrender08\n");
    let msg = refusal(&f, &issued, &dir).to_string();
    assert!(
        msg.contains(&dir.join("grant-hostname").display().to_string())
            && msg.contains("line 2: a second hostname"),
        "{msg}"
    );
    let dir = node_dir(&f, "not-a-file", good);
    std::fs::remove_file(dir.join("grant-hostname")).unwrap();
    std::fs::create_dir(dir.join("grant-hostname")).unwrap();
    let msg = refusal(&f, &issued, &dir).to_string();
    assert!(msg.contains("is not a regular file"), "{msg}");

    // The same file, set right, is used.
    let dir = f.path("file-nobody");
    chown(dir.join("grant-hostname"), Some(0), None).unwrap();
    assert!(Grant::open(&issued.path, &how(&f, &issued, "a", &dir)).is_ok());
}

#[test]
fn a_grant_without_a_host_pattern_never_reads_the_node_file() {
    if !root_or_skip() {
        return;
    }
    let f = Fixture::new();
    let issued = f.issue(&f.spec("job.fvg").entry(RENDER));
    let dir = node_dir(&f, "loose", "comp01.studio\n");
    chmod(&dir.join("grant-hostname"), 0o666);
    let g = Grant::open(&issued.path, &how(&f, &issued, "a", &dir)).unwrap();
    assert_eq!(
        g.credential(RENDER).unwrap().secret(),
        RENDER_KEY.as_bytes()
    );
}

/// The node file `issuers` pins the node's issuers for every grant opened
/// there: a grant from another vault is refused, whatever the opener passes,
/// and one from a pinned vault opens. A file anyone but root could have
/// written is refused rather than skipped.
#[test]
fn the_node_issuers_file_pins_every_open() {
    if !root_or_skip() {
        return;
    }
    let f = Fixture::new();
    let ours = f.issue(&f.spec("ours.fvg").entry(RENDER));
    let other = Fixture::new();
    let theirs = other.issue(&other.spec("theirs.fvg").entry(RENDER));
    let dir = node_dir(&f, "node", "render01\n");
    let issuers = dir.join("issuers");
    std::fs::write(
        &issuers,
        format!(
            "# the studio's vault\n{}\n",
            f.vault.grant_issuer().unwrap()
        ),
    )
    .unwrap();
    chmod(&issuers, 0o644);

    Grant::open(&ours.path, &how(&f, &ours, "a", &dir)).unwrap();
    // The opener pinning the other vault too does not widen the node's pins.
    let widened = how(&other, &theirs, "b", &dir).issuers([other.vault.grant_issuer().unwrap()]);
    match Grant::open(&theirs.path, &widened) {
        Err(Error::UntrustedGrant { why, .. }) => {
            assert!(why.contains(&issuers.display().to_string()), "{why}");
        }
        other => panic!("expected a refusal by the node's pins, got {other:?}"),
    }

    chown(&issuers, Some(NOBODY), None).unwrap();
    match Grant::open(&ours.path, &how(&f, &ours, "a", &dir)) {
        Err(Error::Insecure { path, .. }) => assert_eq!(path, issuers),
        other => panic!("expected a refusal of nobody's issuers file, got {other:?}"),
    }
}
