//! Human durations for `--ttl`, `--expiring-within` and `--lock-timeout`:
//! `90s`, `15m`, `8h`, `7d`, `2w`, `500ms`, and sums such as `1h30m`; and the
//! TTL an entry gets when none is given.

use farmvault::Kind;
use std::time::Duration;

/// A TTL as given on the command line: a duration, or `none` (never expires).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// `none` / `never`: the entry keeps until it is removed.
    Never,
    /// Expires this long after the write.
    After(Duration),
}

impl Ttl {
    /// As the core takes it.
    pub fn as_option(self) -> Option<Duration> {
        match self {
            Ttl::Never => None,
            Ttl::After(d) => Some(d),
        }
    }
}

const UNITS: &str = "use a number and a unit: 90s, 15m, 8h, 7d, 2w, or a sum such as 1h30m";

/// Parses a duration: one or more `<digits><unit>` with units ms, s, m, h, d, w.
/// A bare number is refused (seconds or minutes? the unit is the point).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration; {UNITS}"));
    }
    let mut total_ms: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("{text:?} is not a duration; {UNITS}"));
        }
        let number: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let ms_per: u128 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hrs" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 7 * 86_400_000,
            "" => return Err(format!("{text:?} has a number without a unit; {UNITS}")),
            other => return Err(format!("{text:?}: unknown unit {other:?}; {UNITS}")),
        };
        total_ms = number
            .checked_mul(ms_per)
            .and_then(|v| total_ms.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too long"))?;
    }
    let ms = u64::try_from(total_ms).map_err(|_| format!("{text:?} is too long"))?;
    Ok(Duration::from_millis(ms))
}

/// Parses a TTL: `none` (or `never`) or a non-zero duration.
pub fn parse_ttl(text: &str) -> Result<Ttl, String> {
    match text.trim() {
        "none" | "never" => Ok(Ttl::Never),
        _ => {
            let d = parse_duration(text)?;
            if d.is_zero() {
                return Err("a TTL must be longer than zero (use `none` for no expiry)".into());
            }
            Ok(Ttl::After(d))
        }
    }
}

/// `3d 4h`, `59m 59s`, `12s`: the largest unit and, when non-zero, the next one.
pub fn human(secs: u64) -> String {
    const PARTS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    for (i, (size, unit)) in PARTS.iter().enumerate() {
        if secs >= *size {
            let mut out = format!("{}{unit}", secs / size);
            if let Some((next, next_unit)) = PARTS.get(i + 1) {
                let n = (secs % size) / next;
                if n > 0 {
                    out.push_str(&format!(" {n}{next_unit}"));
                }
            }
            return out;
        }
    }
    "0s".into()
}

/// Session tokens expire on the server after 24 h of inactivity by default.
pub const SESSION_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// The TTL a new entry of `kind` gets when none is given.
pub fn default_ttl(kind: Kind, given: Option<Ttl>) -> Option<Duration> {
    match given {
        Some(t) => t.as_option(),
        None if kind == Kind::SessionToken => Some(SESSION_TOKEN_TTL),
        None => None,
    }
}

/// A duration as `grant` and `grant-policy` parse it, exact to the second:
/// `7d`, `24h`, `36h`, `2d12h`, `1h30m`. Days only from two days up, because a
/// use window reads better as `24h` than `1d`.
pub fn exact(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (days, rest) = if secs >= 2 * 86_400 {
        (secs / 86_400, secs % 86_400)
    } else {
        (0, secs)
    };
    [
        (days, "d"),
        (rest / 3_600, "h"),
        (rest % 3_600 / 60, "m"),
        (rest % 60, "s"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n}{unit}"))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        let s = |n| Duration::from_secs(n);
        assert_eq!(parse_duration("90s").unwrap(), s(90));
        assert_eq!(parse_duration("15m").unwrap(), s(900));
        assert_eq!(parse_duration("8h").unwrap(), s(8 * 3600));
        assert_eq!(parse_duration("7d").unwrap(), s(7 * 86400));
        assert_eq!(parse_duration("2w").unwrap(), s(14 * 86400));
        assert_eq!(parse_duration("1h30m").unwrap(), s(5400));
        assert_eq!(parse_duration("1d2h3m4s").unwrap(), s(93784));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "",
            "10",
            "h",
            "1x",
            "1h30",
            "-1h",
            "1.5h",
            "99999999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_ttl("0s").is_err());
        assert_eq!(parse_ttl("none").unwrap(), Ttl::Never);
        assert_eq!(
            parse_ttl("24h").unwrap(),
            Ttl::After(Duration::from_secs(86400))
        );
    }

    #[test]
    fn human_is_short() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(59), "59s");
        assert_eq!(human(3600), "1h");
        assert_eq!(human(5400), "1h 30m");
        assert_eq!(human(86400 * 7 + 3600 * 5 + 7), "7d 5h");
        assert_eq!(human(86400 + 12), "1d");
    }

    #[test]
    fn exact_reads_back_as_the_same_duration() {
        for (secs, text) in [
            (604_800, "7d"),
            (86_400, "24h"),
            (259_200, "3d"),
            (129_600, "36h"),
            (216_000, "2d12h"),
            (5_400, "1h30m"),
            (90_061, "25h1m1s"),
            (59, "59s"),
        ] {
            assert_eq!(exact(secs), text);
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_secs(secs),
                "{text}"
            );
        }
    }
}
