//! The loop both crash tests run: every kind of write takes its turn, a child
//! is killed, what it left is checked, and the figures are printed.

use super::check::{check_after, kills_per_kind, one_kill, setup, Tally, KINDS};
use super::model::Model;
use super::workload::{Rng, CHILD};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the loop found, per kind, and the vaults that could not be recovered.
pub struct Outcome {
    pub tallies: BTreeMap<&'static str, Tally>,
    pub refusals: Vec<String>,
    pub seed: u64,
}

/// Runs `FARMVAULT_CRASH_KILLS` kills per kind (default 20) on vaults under
/// `root`. `after_kill(round, vault, tally)` runs between the kill and the
/// check: the place to take away what the kill alone would not (a power cut,
/// a store sled will not open). `None` when this process is a child.
pub fn run(
    label: &str,
    root: &Path,
    mut after_kill: impl FnMut(u64, &Path, &mut Tally),
) -> Option<Outcome> {
    if std::env::var(CHILD).is_ok() {
        return None;
    }
    let kills = kills_per_kind();
    let seed: u64 = std::env::var("FARMVAULT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("{label}: {kills} kills per kind, FARMVAULT_CRASH_SEED={seed}");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut refusals = Vec::new();
    // The kinds take turns, so a slow one does not starve the others of the budget.
    let mut states: Vec<(&'static str, PathBuf, Model, Duration, u64)> = KINDS
        .iter()
        .map(|k| {
            let path = root.join(k);
            let model = setup(k, &path);
            (*k, path, model, Duration::from_millis(30), 0u64)
        })
        .collect();
    for round in 0..kills as u64 {
        for (kind, path, model, open_est, generation) in states.iter_mut() {
            let ctx = format!("{kind} round {round} (FARMVAULT_CRASH_SEED={seed})");
            let doublings = tallies.get(kind).map_or(0, |t| {
                if t.acked_ops == 0 {
                    t.kills.min(4) as u32
                } else {
                    0
                }
            });
            let run = one_kill(kind, path, model, round, &mut rng, *open_est, doublings);
            if let Some(t) = run.to_ready {
                *open_est = (*open_est * 3 + t) / 4;
            }
            let tally = tallies.entry(kind).or_default();
            tally.kills += 1;
            tally.before_ready += usize::from(!run.ready);
            tally.acked_ops += run.acked.len();
            after_kill(round, path, tally);
            if let Err(e) = check_after(kind, path, model, &run, tally, &ctx) {
                refusals.push(format!("{ctx}: {e}"));
                // Go on with that kind on a fresh vault.
                *generation += 1;
                *path = root.join(format!("{kind}-{generation}"));
                *model = setup(kind, path);
            }
        }
    }
    eprintln!("{label}: {:.1} s", started.elapsed().as_secs_f64());
    eprintln!(
        "kind        kills  during-open  acked-ops  in-flight  in-flight-applied  sled-refused  forced  repaired"
    );
    for (k, t) in &tallies {
        eprintln!(
            "{k:<10} {:>6} {:>12} {:>10} {:>10} {:>18} {:>13} {:>7} {:>9}",
            t.kills,
            t.before_ready,
            t.acked_ops,
            t.in_flight,
            t.in_flight_applied,
            t.sled_refused,
            t.forced_repairs,
            t.repaired
        );
    }
    for r in &refusals {
        eprintln!("not recovered: {r}");
    }
    for (k, t) in &tallies {
        assert_eq!(t.kills, kills, "{k}");
        // The random delays must reach the interesting places, not only quiet ones.
        if kills >= 20 {
            assert!(
                t.acked_ops > 0,
                "{k}: no operation was ever acknowledged: {t:?}"
            );
            assert!(
                t.in_flight > 0,
                "{k}: no kill landed during an operation: {t:?}"
            );
        }
        assert_eq!(
            t.repaired,
            t.forced_repairs + t.sled_refused,
            "{k}: every store that would not open was repaired: {t:?}"
        );
    }
    Some(Outcome {
        tallies,
        refusals,
        seed,
    })
}
