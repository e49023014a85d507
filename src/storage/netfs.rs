//! Network filesystems, told apart from local ones at `init` and at every open.
//!
//! A vault relies on what a local filesystem promises: an exclusive lock that
//! every process honours, `fsync` that means the bytes are on the disk, and
//! an atomic `rename`. NFS, SMB and FUSE network clients such as sshfs keep
//! these only in part (locks that a second host does not see, close-to-open
//! caching, writes cached on the client), and studios' home directories,
//! where the default vault path lives, are often on one of them. So a vault
//! there is refused unless the caller opts in (`Config::allow_network_filesystem`).
//!
//! Linux reads the filesystem's magic number with `statfs`, and for FUSE the
//! mount's type (`fuse.sshfs`) from `/proc/self/mountinfo`. Elsewhere nothing
//! is detected yet (macOS's `MNT_LOCAL` flag and Windows' `GetDriveTypeW` are
//! the equivalents), and every path is taken for local.

use std::path::Path;

/// The network filesystem `path` (or, when it does not exist yet, its nearest
/// existing ancestor) is on, by name (`nfs`, `cifs`, `fuse.sshfs`), or `None`
/// for a local one or one that cannot be told.
pub fn network_filesystem(path: &Path) -> Option<String> {
    let existing = path.ancestors().find(|p| p.exists())?;
    detect(existing)
}

#[cfg(target_os = "linux")]
fn detect(path: &Path) -> Option<String> {
    const FUSE_SUPER_MAGIC: u64 = 0x6573_5546;
    let magic = rustix::fs::statfs(path).ok()?.f_type as u64;
    if magic == FUSE_SUPER_MAGIC {
        let canonical = std::fs::canonicalize(path).ok()?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let fstype = fuse_type(&mountinfo, &canonical)?;
        let subtype = fstype.strip_prefix("fuse.")?;
        return NETWORK_FUSE.contains(&subtype).then_some(fstype);
    }
    NETWORK_MAGIC
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|(_, name)| (*name).to_owned())
}

#[cfg(not(target_os = "linux"))]
fn detect(_path: &Path) -> Option<String> {
    None
}

/// statfs magic numbers of network and cluster filesystems (linux/magic.h and
/// the filesystems' own sources).
#[cfg(target_os = "linux")]
const NETWORK_MAGIC: &[(u64, &str)] = &[
    (0x6969, "nfs"),
    (0x517B, "smbfs"),
    (0xFF53_4D42, "cifs"),
    (0xFE53_4D42, "smb2"),
    (0x7375_7245, "coda"),
    (0x5346_414F, "afs"),
    (0x6B41_4653, "afs"),
    (0x00C3_6400, "ceph"),
    (0x0102_1997, "9p"),
    (0x0BD0_0BD0, "lustre"),
    (0x4750_4653, "gpfs"),
    (0x1983_0326, "beegfs"),
    (0x564C, "ncpfs"),
];

/// FUSE filesystems whose data lives on another machine.
#[cfg(target_os = "linux")]
const NETWORK_FUSE: &[&str] = &[
    "sshfs",
    "glusterfs",
    "ceph-fuse",
    "s3fs",
    "rclone",
    "gcsfuse",
    "goofys",
    "juicefs",
    "smbnetfs",
    "davfs",
    "lizardfs",
    "mfs",
    "s3ql",
    "objectivefs",
];

/// The type of the mount `/proc/self/mountinfo` gives for `path`: the mount
/// point that is the longest ancestor of it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn fuse_type(mountinfo: &str, path: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in mountinfo.lines() {
        // id parent major:minor root mount-point options [optional...] - type source super
        let (left, right) = line.split_once(" - ")?;
        let mount_point = unescape(left.split(' ').nth(4)?);
        let fstype = right.split(' ').next()?;
        let depth = mount_point.len();
        if path.starts_with(&mount_point) && best.as_ref().is_none_or(|(d, _)| depth >= *d) {
            best = Some((depth, fstype.to_owned()));
        }
    }
    best.map(|(_, t)| t)
}

/// mountinfo writes space, tab, newline and backslash as `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(b) => {
                out.push(char::from(b));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
45 22 0:40 / /home/jdoe rw,nosuid - fuse.sshfs fileserver:/home/jdoe rw,user_id=0
46 45 0:41 / /home/jdoe/local\\040disk rw - ext4 /dev/sdb1 rw
";

    #[test]
    fn the_longest_mount_point_above_a_path_gives_its_type() {
        let t = |p: &str| fuse_type(MOUNTINFO, Path::new(p));
        assert_eq!(
            t("/home/jdoe/.local/share/farmvault").as_deref(),
            Some("fuse.sshfs")
        );
        assert_eq!(t("/home/jdoe/local disk/vault").as_deref(), Some("ext4"));
        assert_eq!(t("/var/tmp/vault").as_deref(), Some("ext4"));
    }

    #[test]
    fn a_local_filesystem_is_not_a_network_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(network_filesystem(&dir.path().join("not/yet/made")), None);
    }
}
