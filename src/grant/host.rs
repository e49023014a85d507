//! The host pattern of a grant: a tiny glob (`*` any run of characters, `?` one
//! character), matched case-insensitively against this machine's hostname.

use crate::error::{Error, Result};

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
    fn pattern_validation() {
        assert!(validate_pattern("render*").is_ok());
        assert!(validate_pattern("node-??.farm_1").is_ok());
        assert!(validate_pattern("").is_err());
        assert!(validate_pattern("render[0-9]").is_err());
        assert!(validate_pattern("a b").is_err());
        assert!(validate_pattern(&"a".repeat(254)).is_err());
    }
}
