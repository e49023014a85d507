//! Time, through a clock the tests can drive: no test sleeps to wait for an expiry.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (UTC). Whole seconds are all a TTL needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// Seconds since the epoch.
    pub fn secs(self) -> u64 {
        self.0
    }

    /// This time plus `d`, rounded up to the next whole second so a TTL is never shortened.
    /// Saturates instead of wrapping.
    pub fn plus(self, d: Duration) -> UnixTime {
        let extra = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        UnixTime(self.0.saturating_add(extra))
    }

    /// The `SystemTime` for this instant.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }
}

/// Where a vault reads the time from.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        // A clock before 1970 is a misconfigured host; treat it as the epoch.
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        UnixTime(secs)
    }
}

/// A clock that only moves when told to: for tests and simulations.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: UnixTime) -> Self {
        ManualClock(Arc::new(AtomicU64::new(start.0)))
    }

    /// Moves the clock forward by `d` (whole seconds, rounded up).
    pub fn advance(&self, d: Duration) {
        let now = UnixTime(self.0.load(Ordering::SeqCst));
        self.set(now.plus(d));
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: UnixTime) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}
