//! Time: asyncio's `sleep`, `loop.time()`, and a periodic [`Interval`]; the test clock's
//! [`advance`].
//!
//! Timers are exact: a sleep of 1.3 ms ends 1.3 ms later (armed through a timerfd), not at the
//! next millisecond. A million pending sleeps cost a few dozen bytes each, and cancelling one
//! is O(1). Timers due at the same instant fire in the order they were armed, so tasks that
//! start equal sleeps one after another wake in that order.
//!
//! ```
//! use std::time::Duration;
//! use tulip::time::{Instant, sleep};
//!
//! let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let a = tulip::spawn(sleep(Duration::from_secs(1)));
//!     let b = tulip::spawn(sleep(Duration::from_secs(1)));
//!     a.await.unwrap();
//!     b.await.unwrap();
//!     assert_eq!(start.elapsed(), Duration::from_secs(1)); // concurrently, not 2 s
//! });
//! ```

mod instant;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;

use std::time::Duration;

pub use instant::Instant;
pub use interval::{Interval, MissedTicks, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, WaitFor, Within, timeout, timeout_at, wait_for};

use crate::runtime::context;

/// Moves a test clock forward by `duration`, fires the timers that come due, and lets the
/// tasks they woke run before returning (tokio's `time::advance`).
///
/// # Panics
///
/// Outside a runtime, or on a loop with a real clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let sleeper = tulip::spawn(tulip::time::sleep(Duration::from_secs(10)));
///     tulip::time::advance(Duration::from_secs(9)).await;
///     assert!(!sleeper.is_finished());
///     tulip::time::advance(Duration::from_secs(1)).await;
///     assert!(sleeper.is_finished());
/// });
/// ```
pub async fn advance(duration: Duration) {
    context::with_core(|core| {
        let clock = &core.shared.clock;
        assert!(
            clock.is_test(),
            "tulip::time::advance needs a runtime built with .test_clock()"
        );
        let target = clock
            .now_ns()
            .saturating_add(crate::runtime::clock::duration_ns(duration));
        clock.advance_to(target);
        core.fire_due_now();
    });
    crate::task::yield_now().await;
}
