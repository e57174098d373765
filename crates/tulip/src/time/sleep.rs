use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use super::timers::{TimerKey, TimerState};
use crate::runtime::clock::duration_ns;
use crate::runtime::context;

/// Waits until `duration` has passed: asyncio's `await asyncio.sleep(delay)`.
///
/// The timer is exact to the microsecond (no wheel rounds it up) and is armed at the first
/// poll. A `Sleep` made outside any loop counts its duration from its first poll, so that it
/// follows the clock (real or test) of the loop that runs it. `sleep(Duration::ZERO)` completes at once; to let other tasks run, use
/// [`yield_now`](crate::task::yield_now).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tulip::run(async {
///     tulip::time::sleep(Duration::from_millis(5)).await;
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let mut sleep = Sleep::new(Instant::now() + duration);
    if !context::is_set() {
        // Made outside a loop (e.g. passed to `block_on`): the loop's clock, which may be a
        // test clock, is not known yet, so the deadline is fixed at the first poll.
        sleep.timer = Timer::FromFirstPoll(duration_ns(duration));
    }
    sleep
}

/// Waits until `deadline`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{Instant, sleep_until};
///
/// tulip::run(async {
///     sleep_until(Instant::now() + Duration::from_millis(5)).await;
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// # Cancel safety
///
/// Dropping a `Sleep` disarms its timer in O(1); nothing else is affected.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tulip::run(async {
///     let mut sleep = tulip::time::sleep(Duration::from_secs(3600));
///     sleep.reset(tulip::time::Instant::now());
///     sleep.await; // the new deadline has passed
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    timer: Timer,
}

/// Kept to 16 bytes: a million sleeping tasks each hold one.
#[derive(Debug)]
enum Timer {
    Unarmed,
    /// Made outside a loop: the deadline is this many nanoseconds after the first poll.
    FromFirstPoll(u64),
    /// Armed in the timers of the loop with this id.
    Armed {
        key: TimerKey,
        loop_id: u32,
    },
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            timer: Timer::Unarmed,
        }
    }

    /// When this sleep ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::time::{Instant, sleep_until};
    /// let at = Instant::now();
    /// assert_eq!(sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The deadline has passed (by the current loop's clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::time::{Instant, sleep_until};
    /// assert!(sleep_until(Instant::now()).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline; the sleep may be pending or already done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::time::{Instant, sleep};
    ///
    /// tulip::run(async {
    ///     let mut s = sleep(Duration::from_secs(60));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     s.await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.timer = Timer::Unarmed;
        self.deadline = deadline;
    }

    fn disarm(&mut self) {
        if let Timer::Armed { key, loop_id } = self.timer {
            self.timer = Timer::Unarmed;
            let removed =
                context::with_loop_id(loop_id, |core| core.timers.borrow_mut().remove(key));
            // The waker is dropped here, outside the timers' borrow.
            drop(removed);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        match this.timer {
            Timer::Armed { key, loop_id } => {
                let polled = context::with_loop_id(loop_id, |core| {
                    core.timers.borrow_mut().poll(key, cx.waker())
                });
                match polled {
                    Some((TimerState::Waiting, replaced)) => {
                        // Dropped outside the timers' borrow: it may free a task.
                        drop(replaced);
                        return Poll::Pending;
                    }
                    Some((TimerState::Fired, _)) => {
                        this.disarm();
                        return Poll::Ready(());
                    }
                    // Polled on another loop: arm there.
                    None => this.timer = Timer::Unarmed,
                }
            }
            Timer::FromFirstPoll(delay) => {
                this.deadline = Instant::now() + Duration::from_nanos(delay);
                this.timer = Timer::Unarmed;
            }
            Timer::Unarmed => {}
        }
        let deadline = this.deadline.into_std();
        context::with_core(|core| {
            let clock = &core.shared.clock;
            let deadline = clock.ns_at(deadline);
            if deadline <= clock.now_ns() {
                return Poll::Ready(());
            }
            let key = core
                .timers
                .borrow_mut()
                .insert(deadline, cx.waker().clone());
            this.timer = Timer::Armed {
                key,
                loop_id: core.shared.id,
            };
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
