//! The host pattern of a grant: a tiny glob (`*` any run of characters, `?` one
//! character), matched case-insensitively against this machine's hostname: the
//! one the node's administrator wrote in the node configuration file
//! `grant-hostname`, else the one the OS reports.

use super::node_config;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Longest host pattern accepted (a DNS name is at most 253 characters).
pub(crate) const MAX_PATTERN_LEN: usize = 253;

/// Checks a host pattern: 1 to 253 characters of letters, digits, `.`, `-`, `_`,
/// and the wildcards `*` and `?`. Anything else (`[`, `{`, spaces) would suggest a
/// richer glob than the one implemented, so it is refused rather than taken literally.
pub(crate) fn validate_pattern(pattern: &str) -> std::result::Result<(), String> {
    if pattern.is_empty() || pattern.len() > MAX_PATTERN_LEN {
        return Err(format!(
            "a host pattern is 1 to {MAX_PATTERN_LEN} characters, got {}",
            pattern.len()
        ));
    }
    if let Some(c) = pattern
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*' | '?')))
    {
        return Err(format!(
            "host pattern {pattern:?} contains {c:?}: only letters, digits, '.', '-', '_' \
             and the wildcards '*' and '?' are allowed"
        ));
    }
    Ok(())
}

/// Whether `hostname` matches `pattern`: the full name, or its first label (the
/// short name before the first dot), so `render??` matches `render01.farm.example`.
pub(crate) fn matches(pattern: &str, hostname: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let full = hostname.to_ascii_lowercase();
    let short = full.split('.').next().unwrap_or_default();
    glob(p.as_bytes(), full.as_bytes()) || glob(p.as_bytes(), short.as_bytes())
}

/// Glob match with `*` and `?`, linear-time backtracking on the last star.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The error for a machine whose hostname does not match the grant's pattern.
pub(crate) fn refused(hostname: &str, pattern: &str) -> Error {
    Error::HostNotAllowed {
        hostname: hostname.to_owned(),
        pattern: pattern.to_owned(),
    }
}

/// The node configuration file naming the hostname that grants' host patterns
/// are checked against on this node, for a node whose OS hostname is not its
/// name on the farm (a container, a cloud instance named by its provider). One
/// hostname on one line; `#` starts a comment.
pub(crate) const NODE_HOSTNAME_FILE: &str = "grant-hostname";

/// Where [`NODE_HOSTNAME_FILE`] is on this node (for messages).
pub(crate) fn node_hostname_path() -> PathBuf {
    node_config::node_config_dir().join(NODE_HOSTNAME_FILE)
}

/// The hostname a grant's host pattern is checked against: the one the node
/// file names (read from `node_dir`, else the node configuration directory),
/// else [`this_host`]. A node file that anyone but root could have written,
/// or that is malformed or unreadable, is an error rather than passed over: the
/// administrator meant it to apply.
pub(crate) fn hostname_to_check(node_dir: Option<&Path>) -> Result<String> {
    let (path, text) = match node_dir {
        Some(dir) => (
            dir.join(NODE_HOSTNAME_FILE),
            node_config::read_node_file_in(dir, NODE_HOSTNAME_FILE)?,
        ),
        None => (
            node_hostname_path(),
            node_config::read_node_file(NODE_HOSTNAME_FILE)?,
        ),
    };
    match text {
        Some(text) => parse_node_hostname(&path, &text),
        None => this_host(),
    }
}

/// The one hostname in the text of the node file at `path`.
fn parse_node_hostname(path: &Path, text: &str) -> Result<String> {
    let bad =
        |why: String| Error::invalid(format!("node configuration file {}: {why}", path.display()));
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        // A hostname has no `#`, so whatever follows one is a comment.
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if found.is_some() {
            return Err(bad(format!(
                "line {}: a second hostname; the file names one",
                i + 1
            )));
        }
        validate_hostname(line).map_err(|why| bad(format!("line {}: {why}", i + 1)))?;
        found = Some(line.to_owned());
    }
    found.ok_or_else(|| {
        bad("names no hostname: write this node's name on one line, or remove the file".to_owned())
    })
}

/// Checks a hostname: 1 to 253 characters, dot-separated labels of 1 to 63
/// letters, digits, `-` and `_`, none starting or ending with `-`.
fn validate_hostname(name: &str) -> std::result::Result<(), String> {
    let bad = |why: &str| Err(format!("{name:?} is not a hostname: {why}"));
    if name.len() > MAX_PATTERN_LEN {
        return bad("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad("each dot-separated label is 1 to 63 characters");
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad("only letters, digits, '-', '_' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label neither starts nor ends with '-'");
        }
    }
    Ok(())
}

/// This machine's hostname, as the OS reports it.
pub(crate) fn this_host() -> Result<String> {
    let name = gethostname::gethostname();
    let name = name.to_string_lossy().trim().to_owned();
    if name.is_empty() {
        return Err(Error::invalid(
            "this machine reports an empty hostname, so the grant's host pattern cannot be checked",
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_cases() {
        let yes = [
            ("render*", "render01"),
            ("render*", "RENDER01.farm.example"),
            ("render??", "render01.farm.example"),
            ("*", "anything"),
            ("r*r", "rr"),
            ("r*r", "render-server"),
            ("*.farm.example", "render01.farm.example"),
            ("a*b*c", "aXXbYYc"),
            ("a?c", "abc"),
        ];
        for (p, h) in yes {
            assert!(matches(p, h), "{p} should match {h}");
        }
        let no = [
            ("render*", "comp01"),
            ("render??", "render001"),
            ("a?c", "ac"),
            ("r*r", "renders"),
            ("*.farm.example", "render01.other.example"),
            ("a*b*c", "aXXbYY"),
        ];
        for (p, h) in no {
            assert!(!matches(p, h), "{p} should not match {h}");
        }
    }

    #[test]
    fn node_hostname_file() {
        let p = Path::new("/etc/farmvault/grant-hostname");
        let ok = |text: &str| parse_node_hostname(p, text).unwrap();
        assert_eq!(ok("render07.farm.example\n"), "render07.farm.example");
        assert_eq!(
            ok("# set by the farm's provisioning\n\n  render07 # its farm name\n"),
            "render07"
        );
        let long = "a".repeat(254);
        for (text, why) in [
            ("", "names no hostname"),
            ("# only a comment\n", "names no hostname"),
            ("render07\nrender08\n", "line 2: a second hostname"),
            ("render 07\n", "line 1: \"render 07\" is not a hostname"),
            ("render..farm\n", "1 to 63 characters"),
            ("-render\n", "starts nor ends"),
            (long.as_str(), "longer than 253"),
        ] {
            let msg = parse_node_hostname(p, text).unwrap_err().to_string();
            assert!(
                msg.contains("/etc/farmvault/grant-hostname") && msg.contains(why),
                "{text:?}: {msg}"
            );
        }
    }

    #[test]
    fn pattern_validation() {
        assert!(validate_pattern("render*").is_ok());
        assert!(validate_pattern("node-??.farm_1").is_ok());
        assert!(validate_pattern("").is_err());
        assert!(validate_pattern("render[0-9]").is_err());
        assert!(validate_pattern("a b").is_err());
        assert!(validate_pattern(&"a".repeat(254)).is_err());
    }
}
