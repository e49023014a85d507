//! The latest time the vault has seen: a floor under the system clock for expiry.
//!
//! Setting a machine's clock back would make expired entries readable again. So
//! the vault keeps, in its clock record (`format::space::CLOCK`, authenticated
//! with the header key), the latest system time a write saw, and a handle on
//! the system clock judges expiry at `max(system clock, latest seen)`. Reads
//! never write, so the record advances on writes only, and only once the clock
//! has moved `STEP_SECS` past it: a rollback is caught to within that much of the
//! last write, and most writes add nothing. A system clock more than
//! `CLOCK_BEHIND_TOLERANCE` behind the record is reported (`Vault::clock_behind`),
//! and the CLI says so.
//!
//! A handle on a simulated clock (`Config::clock`) is told its own time, as its
//! caller chose, and never advances the record: a clock pinned in the future
//! must not expire entries early for everyone else. docs/SECURITY.md says what
//! this does not stop (anyone who can write the vault directory can put an
//! older record back).

use super::handle::Direct;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::error::{Error, Result};
use crate::format;
use crate::keys::Keys;
use crate::storage::rewrite::Edits;
use crate::storage::Changes;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How far the system clock moves past the clock record before a write advances it.
const STEP_SECS: u64 = 60;

/// A system clock this far behind the latest time the vault has seen is reported.
pub const CLOCK_BEHIND_TOLERANCE: Duration = Duration::from_secs(300);

impl Direct {
    /// Reads the clock record into the store's floor, at open: a vault without
    /// one (written by 0.1.0, or new) has seen at least its creation time.
    pub(super) fn load_time_seen(&self, keys: &Keys, created: u64) -> Result<()> {
        let seen = match self
            .store
            .live()
            .db
            .get(format::space::CLOCK)
            .map_err(|e| self.sled(e))?
        {
            None => created,
            Some(bytes) => {
                format::decode_clock(&bytes, |parts, mac| keys.header.verify(parts, mac))
                    .ok_or_else(|| {
                        Error::corrupt(
                            &self.store.path,
                            "the clock record failed authentication: it was edited or damaged",
                        )
                    })?
            }
        };
        self.store.time_seen.fetch_max(seen, Ordering::Relaxed);
        self.store.time_recorded.fetch_max(seen, Ordering::Relaxed);
        Ok(())
    }

    pub fn now(&self) -> UnixTime {
        if self.simulated_clock {
            self.clock.now()
        } else {
            self.system_now()
        }
    }

    /// The system clock, floored at the latest time the vault has seen.
    pub(super) fn system_now(&self) -> UnixTime {
        UnixTime(
            SystemClock
                .now()
                .secs()
                .max(self.store.time_seen.load(Ordering::Relaxed)),
        )
    }

    pub fn clock_behind(&self) -> Option<Duration> {
        let seen = self.store.time_seen.load(Ordering::Relaxed);
        let behind = Duration::from_secs(seen.saturating_sub(SystemClock.now().secs()));
        (behind > CLOCK_BEHIND_TOLERANCE).then_some(behind)
    }

    /// Whether a write by this handle should advance the clock record.
    pub(super) fn time_seen_due(&self) -> bool {
        !self.simulated_clock
            && SystemClock.now().secs()
                >= self
                    .store
                    .time_recorded
                    .load(Ordering::Relaxed)
                    .saturating_add(STEP_SECS)
    }

    /// Adds an advanced clock record to `changes` when one is due; returns the
    /// time it records, for `recorded_time_seen` once the write is committed.
    pub(super) fn stage_time_seen(&self, keys: &Keys, changes: &mut Changes) -> Option<u64> {
        if !self.time_seen_due() {
            return None;
        }
        let now = self.system_now().secs();
        let record = format::encode_clock(now, |parts| keys.header.tag(parts));
        changes.insert(format::space::CLOCK, &record);
        Some(now)
    }

    /// A write that carried a clock record of `secs` was committed.
    pub(super) fn recorded_time_seen(&self, secs: u64) {
        self.store.time_seen.fetch_max(secs, Ordering::Relaxed);
        self.store.time_recorded.fetch_max(secs, Ordering::Relaxed);
    }

    /// The clock record re-authenticated under `new` keys, for a data-key rotation.
    pub(super) fn restage_time_seen(&self, new: &Keys, batch: &mut Edits) {
        let seen = self.store.time_seen.load(Ordering::Relaxed);
        batch.insert(
            format::space::CLOCK,
            &format::encode_clock(seen, |parts| new.header.tag(parts)),
        );
    }
}
