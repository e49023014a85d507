//! Where tk-core keeps its session cache: `SHOTGUN_HOME`, or the per-OS default.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// tk-core's cache root: `$SHOTGUN_HOME` when set and not empty (with `~` and `$VAR` /
/// `${VAR}` expanded and made absolute, as tk-core does), else `~/.shotgun` on Linux and
/// other Unixes, `~/Library/Caches/Shotgun` on macOS, `%APPDATA%\Shotgun` on Windows.
/// `None` when the home folder (or `APPDATA`) is unknown.
pub fn default_shotgun_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("SHOTGUN_HOME").filter(|v| !v.is_empty()) {
        let expanded = expand_user(&expand_vars(&home));
        return Some(std::path::absolute(&expanded).unwrap_or(expanded));
    }
    platform_shotgun_home()
}

#[cfg(target_os = "macos")]
pub(super) fn platform_shotgun_home() -> Option<PathBuf> {
    home_dir().map(|h| h.join("Library").join("Caches").join("Shotgun"))
}

#[cfg(windows)]
pub(super) fn platform_shotgun_home() -> Option<PathBuf> {
    std::env::var_os("APPDATA")
        .filter(|v| !v.is_empty())
        .map(|a| PathBuf::from(a).join("Shotgun"))
}

#[cfg(all(unix, not(target_os = "macos")))]
pub(super) fn platform_shotgun_home() -> Option<PathBuf> {
    home_dir().map(|h| h.join(".shotgun"))
}

#[cfg(not(any(unix, windows)))]
pub(super) fn platform_shotgun_home() -> Option<PathBuf> {
    None
}

/// The home folder as Python's `os.path.expanduser` finds it.
pub(super) fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `os.path.expanduser` for a leading `~` or `~/...`.
pub(super) fn expand_user(path: &Path) -> PathBuf {
    let mut components = path.components();
    match components.next() {
        Some(std::path::Component::Normal(first)) if first == "~" => match home_dir() {
            Some(home) => home.join(components.as_path()),
            None => path.to_path_buf(),
        },
        _ => path.to_path_buf(),
    }
}

/// `os.path.expandvars` (POSIX form): `$NAME` and `${NAME}` are replaced when `NAME` is
/// set; anything else is left as it is.
pub(super) fn expand_vars(value: &OsString) -> PathBuf {
    let Some(s) = value.to_str() else {
        return PathBuf::from(value);
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match std::env::var(name).ok().filter(|_| !name.is_empty()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[dollar..dollar + 1 + consumed]),
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    PathBuf::from(out)
}
