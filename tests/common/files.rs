//! The files a test left in its folder, and the fixtures it starts from.

use std::path::{Path, PathBuf};

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The fixture `tests/fixtures/<name>` (a `.tar.gz` made by an older farmvault,
/// as docs/FORMAT.md says) unpacked into a new temporary folder, modes kept.
#[allow(dead_code, reason = "the grant tests unpack no fixture")]
pub fn unpack_fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&fixture)
        .arg("-C")
        .arg(tmp.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "unpacking {}", fixture.display());
    tmp
}
