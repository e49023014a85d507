//! `farmvault compact`: the vault rewritten with its live entries only, which
//! gives back the space of removed and overwritten entries; a progress bar on a
//! terminal when there is enough to wait for.

use crate::args::Global;
use crate::error::{CliError, OK};
use crate::print::{emit, say};
use crate::unlock;
use std::io::IsTerminal;

/// Compactions of fewer items than this finish too fast for a progress bar.
const PROGRESS_MIN_ITEMS: u64 = 5000;

/// `compact`.
pub fn run(g: &Global, json: bool) -> Result<i32, CliError> {
    let vault = unlock::open(g)?;
    let show = !g.quiet && std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut progress = |done: u64, total: u64| {
        if !show || total < PROGRESS_MIN_ITEMS {
            return;
        }
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "compacting [{bar:40}] {pos}/{len} items ({eta})",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            b
        });
        b.set_position(done);
    };
    let result = vault.compact(&mut progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let r = result?;
    if json {
        emit(
            serde_json::json!({
                "entries": r.entries,
                "bytes_before": r.bytes_before,
                "bytes_after": r.bytes_after,
            })
            .to_string(),
        )?;
    } else {
        say(
            g,
            format!(
                "compacted {} entr{}: {} -> {}",
                r.entries,
                if r.entries == 1 { "y" } else { "ies" },
                human_bytes(r.bytes_before),
                human_bytes(r.bytes_after)
            ),
        )?;
    }
    Ok(OK)
}

/// `1234567` as `1.2 MB`: what a person reads a disk size as.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_as_a_person_reads_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(43_210_000), "43.2 MB");
        assert_eq!(human_bytes(5_000_000_000_000_000), "5000.0 TB");
    }
}
