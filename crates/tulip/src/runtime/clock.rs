//! The loop's clock: real monotonic time, or a test clock that only moves when told to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Loop time is kept as nanoseconds since the loop's epoch, so timers can store a plain `u64`.
#[derive(Debug)]
pub(crate) struct Clock {
    epoch: Instant,
    /// `Some` for a test clock: the current offset from `epoch`, in nanoseconds.
    frozen: Option<AtomicU64>,
}

impl Clock {
    pub(crate) fn new(test_clock: bool) -> Clock {
        Clock {
            epoch: Instant::now(),
            frozen: test_clock.then(|| AtomicU64::new(0)),
        }
    }

    pub(crate) fn is_test(&self) -> bool {
        self.frozen.is_some()
    }

    /// Nanoseconds since the epoch.
    pub(crate) fn now_ns(&self) -> u64 {
        match &self.frozen {
            Some(offset) => offset.load(Ordering::Acquire),
            None => duration_ns(self.epoch.elapsed()),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        match &self.frozen {
            Some(offset) => self.instant_at(offset.load(Ordering::Acquire)),
            // The same instant as `instant_at(now_ns())` (both are exact to the nanosecond),
            // without going through the epoch: half the instructions of `Instant::now`.
            None => Instant::now(),
        }
    }

    pub(crate) fn instant_at(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }

    /// Loop time of `instant`; instants before the epoch count as the epoch.
    pub(crate) fn ns_at(&self, instant: Instant) -> u64 {
        duration_ns(instant.saturating_duration_since(self.epoch))
    }

    /// Moves a test clock forward to `ns` (never backwards). No-op on a real clock.
    pub(crate) fn advance_to(&self, ns: u64) {
        if let Some(offset) = &self.frozen {
            offset.fetch_max(ns, Ordering::AcqRel);
        }
    }
}

/// Saturates at `u64::MAX` nanoseconds (about 584 years), which callers treat as "never".
pub(crate) fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_only_moves_forward_when_told() {
        let clock = Clock::new(true);
        assert_eq!(clock.now_ns(), 0);
        clock.advance_to(5_000);
        assert_eq!(clock.now_ns(), 5_000);
        clock.advance_to(1_000);
        assert_eq!(clock.now_ns(), 5_000, "a test clock never goes backwards");
        assert_eq!(clock.ns_at(clock.now()), 5_000);
    }

    #[test]
    fn a_real_clock_reads_the_system_clock() {
        let clock = Clock::new(false);
        let before = Instant::now();
        let now = clock.now();
        assert!(before <= now && now <= Instant::now());
        assert_eq!(clock.instant_at(clock.ns_at(now)), now);
    }

    #[test]
    fn instants_before_the_epoch_clamp_to_zero() {
        let before = Instant::now();
        let clock = Clock::new(false);
        assert_eq!(clock.ns_at(before), 0);
        assert!(clock.now_ns() < u64::MAX);
    }
}
