use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep_until};

/// Ticks every `period`, the first tick at once (at the first poll, if made outside a loop).
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = tulip::time::Instant::now();
///     let mut every = tulip::time::interval(Duration::from_secs(1));
///     for _ in 0..3 {
///         every.tick().await;
///     }
///     assert_eq!(start.elapsed(), Duration::from_secs(2)); // ticks at 0 s, 1 s, 2 s
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "tulip::time::interval needs a non-zero period"
    );
    // `sleep` fixes a zero delay at the first poll when made outside a loop, so the first tick
    // follows the clock of the loop that runs the interval.
    Interval {
        sleep: super::sleep(Duration::ZERO),
        period,
        missed: MissedTicks::default(),
    }
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{Instant, interval_at};
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now() + Duration::from_secs(5);
///     let mut every = interval_at(start, Duration::from_secs(1));
///     assert_eq!(every.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "tulip::time::interval needs a non-zero period"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTicks::default(),
    }
}

/// What an [`Interval`] does when ticks were missed because the loop or the consumer was busy
/// for longer than a period.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::MissedTicks;
///
/// let mut every = tulip::time::interval(Duration::from_millis(10));
/// every.set_missed_ticks(MissedTicks::Skip);
/// assert_eq!(every.missed_ticks(), MissedTicks::Skip);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTicks {
    /// Fire the missed ticks back to back until caught up, keeping the original schedule
    /// (the default, as in tokio).
    #[default]
    Burst,
    /// Restart the schedule from the late tick: the next tick is one period after it.
    Delay,
    /// Drop the missed ticks and fire next on the original schedule's next multiple.
    Skip,
}

/// A periodic timer; see [`interval`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let mut every = tulip::time::interval(Duration::from_millis(100));
///     every.tick().await;
///     every.tick().await;
///     assert_eq!(every.period(), Duration::from_millis(100));
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTicks,
}

impl Interval {
    /// Waits for the next tick and returns when it was due.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no tick is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tulip::run(async {
    ///     let mut every = tulip::time::interval(Duration::from_millis(1));
    ///     let first = every.tick().await;
    ///     let second = every.tick().await;
    ///     assert_eq!(second - first, Duration::from_millis(1));
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick, for use inside hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::{Future, poll_fn};
    /// use std::time::Duration;
    ///
    /// tulip::run(async {
    ///     let mut every = tulip::time::interval(Duration::from_millis(1));
    ///     poll_fn(|cx| every.poll_tick(cx)).await;
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let now = Instant::now();
        let next = due + self.period;
        let next = if next > now {
            next
        } else {
            match self.missed {
                MissedTicks::Burst => next,
                MissedTicks::Delay => now + self.period,
                MissedTicks::Skip => {
                    let behind = now.duration_since(due).as_nanos();
                    let period = self.period.as_nanos();
                    let periods = u32::try_from(behind / period + 1).unwrap_or(u32::MAX);
                    due + self.period.saturating_mul(periods)
                }
            }
        };
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tulip::run(async {
    ///     let mut every = tulip::time::interval(Duration::from_millis(1));
    ///     every.reset();
    ///     every.tick().await;
    /// });
    /// ```
    pub fn reset(&mut self) {
        self.sleep.reset(Instant::now() + self.period);
    }

    /// The period.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(tulip::time::interval(Duration::from_secs(2)).period(), Duration::from_secs(2));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The missed-tick behaviour in force.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::time::MissedTicks;
    /// assert_eq!(tulip::time::interval(Duration::from_secs(1)).missed_ticks(), MissedTicks::Burst);
    /// ```
    pub fn missed_ticks(&self) -> MissedTicks {
        self.missed
    }

    /// Chooses what happens to missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::time::MissedTicks;
    /// let mut every = tulip::time::interval(Duration::from_secs(1));
    /// every.set_missed_ticks(MissedTicks::Delay);
    /// ```
    pub fn set_missed_ticks(&mut self, behaviour: MissedTicks) {
        self.missed = behaviour;
    }
}
