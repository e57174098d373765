//! Deadlines on futures: asyncio's `wait_for` and `asyncio.timeout()` (3.11).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use pin_project_lite::pin_project;
use slab::Slab;

use super::timers::{TimerKey, TimerState};
use super::{Instant, Sleep, sleep_until};
use crate::runtime::clock::duration_ns;
use crate::runtime::context;
use crate::runtime::shared::Shared;

/// A deadline passed before the future finished: asyncio's `TimeoutError`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tulip::run(async {
///     let err = tulip::time::wait_for(Duration::ZERO, std::future::pending::<()>()).await;
///     assert_eq!(err.unwrap_err().to_string(), "deadline has elapsed");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(err: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, err)
    }
}

/// Runs `future` for at most `duration`: asyncio's `await wait_for(aw, timeout)`.
///
/// Returns the future's output, or `Err(`[`Elapsed`]`)` at the deadline, having dropped the
/// future there: dropping is how a future is cancelled, and its destructors run before this
/// returns. The future is polled first at every turn, so one that completes at the deadline
/// itself wins. A zero duration still lets a future that is ready at once complete.
///
/// The deadline counts from the first poll, when the `wait_for` is first awaited, as asyncio's
/// counts from when its `wait_for` coroutine starts. A future that is ready at that first
/// poll never reads the clock; otherwise the timer is armed then, and disarmed in O(1) when
/// the future completes: a deadline that never fires costs next to nothing.
///
/// A [`Task`](crate::Task) handle given here is detached on timeout, not cancelled (that is
/// what dropping a handle does); wrap it in [`CancelOnDrop`](crate::combine::CancelOnDrop)
/// to cancel it, or pass `&mut task` to keep it and decide later.
///
/// # Cancel safety
///
/// Dropping the returned future drops `future` and disarms the timer.
///
/// # Examples
///
/// The seed's `wait_for(long_task(), timeout=5)`, where `long_task` sleeps 10 s:
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{Instant, sleep, wait_for};
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let result = wait_for(Duration::from_secs(5), sleep(Duration::from_secs(10))).await;
///     assert!(result.is_err());
///     assert_eq!(start.elapsed(), Duration::from_secs(5)); // exactly at the deadline
/// });
/// ```
pub fn wait_for<F: IntoFuture>(duration: Duration, future: F) -> WaitFor<F::IntoFuture> {
    WaitFor {
        future: future.into_future(),
        duration,
        deadline: Deadline::Unarmed,
    }
}

pin_project! {
    /// The future returned by [`wait_for`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct WaitFor<F> {
        #[pin]
        future: F,
        duration: Duration,
        // Armed when the future first returns `Pending`.
        deadline: Deadline,
    }
}

impl<F> WaitFor<F> {
    /// When the future will be given up on, once the timer is armed (after a first poll that
    /// found the future pending).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tulip::run(async {
    ///     let w = tulip::time::wait_for(Duration::from_secs(1), async {});
    ///     assert_eq!(w.deadline(), None);
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        match &self.deadline {
            Deadline::Unarmed => None,
            Deadline::Armed(timer) => Some(Instant::from_std(timer.on.clock.instant_at(timer.at))),
            Deadline::Moved(sleep) => Some(sleep.deadline()),
        }
    }

    /// The future, back, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let w = tulip::time::wait_for(Duration::from_secs(1), std::future::ready(3));
    /// assert_eq!(tulip::run(w.into_inner()), 3);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match this.deadline.poll(*this.duration, cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// `wait_for`'s timer. [`Sleep`] would do, but this is the timer armed and disarmed around
/// every operation a program times out, nearly always without firing, so it is kept lean: it
/// reads the clock once when armed (a `Sleep` reads it when made and again when first polled,
/// and converts its deadline between `Instant` and loop time), and goes straight to the loop's
/// timer table, as `Sleep` does.
#[derive(Debug)]
enum Deadline {
    Unarmed,
    Armed(Timer),
    /// Polled on another loop than the one it was armed on: re-armed there as a `Sleep`.
    Moved(Sleep),
}

#[derive(Debug)]
struct Timer {
    key: TimerKey,
    /// Loop time, in nanoseconds.
    at: u64,
    /// The loop whose table holds the timer.
    on: Arc<Shared>,
}

impl Deadline {
    fn poll(&mut self, duration: Duration, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Deadline::Unarmed => self.arm(duration, cx),
            Deadline::Armed(timer) => {
                let polled = context::with_loop_of(&timer.on, |core| {
                    core.timers.borrow_mut().poll(timer.key, cx.waker())
                });
                match polled {
                    Some((TimerState::Waiting, replaced)) => {
                        drop(replaced);
                        Poll::Pending
                    }
                    Some((TimerState::Fired, _)) => {
                        self.disarm();
                        Poll::Ready(())
                    }
                    None => {
                        let at = timer.on.clock.instant_at(timer.at);
                        self.disarm();
                        let mut sleep = sleep_until(Instant::from_std(at));
                        let polled = Pin::new(&mut sleep).poll(cx);
                        *self = Deadline::Moved(sleep);
                        polled
                    }
                }
            }
            Deadline::Moved(sleep) => Pin::new(sleep).poll(cx),
        }
    }

    fn arm(&mut self, duration: Duration, cx: &mut Context<'_>) -> Poll<()> {
        context::with_core(|core| {
            let now = core.shared.clock.now_ns();
            let at = now.saturating_add(duration_ns(duration));
            if at <= now {
                return Poll::Ready(());
            }
            let key = core.timers.borrow_mut().insert(at, cx.waker().clone());
            *self = Deadline::Armed(Timer {
                key,
                at,
                on: core.shared.clone(),
            });
            Poll::Pending
        })
    }

    fn disarm(&mut self) {
        *self = Deadline::Unarmed;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let removed =
            context::with_loop_of(&self.on, |core| core.timers.borrow_mut().remove(self.key));
        // The waker is dropped here, outside the timers' borrow.
        drop(removed);
    }
}

/// A deadline for a block of async code that can be moved while it runs: asyncio's
/// `async with asyncio.timeout(delay) as cm:` (3.11), `cm.reschedule(when)`, `cm.when()`,
/// `cm.expired()`.
///
/// [`run`](Timeout::run) wraps a future in the deadline; the future (or anyone holding the
/// `Timeout`, on the same loop or not) may call [`reschedule`](Timeout::reschedule) while it
/// runs, and the new deadline takes effect at once, earlier or later. At the deadline the
/// future is dropped and `run` gives `Err(Elapsed)`. The same `Timeout` can wrap several runs,
/// one after the other or at once, all under the one deadline.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{Instant, sleep, timeout};
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let deadline = timeout(Duration::from_secs(10));
///     let result = deadline
///         .run(async {
///             sleep(Duration::from_secs(1)).await;
///             // Halfway through, the work finds it needs less time than it feared.
///             deadline.reschedule(Some(Instant::now() + Duration::from_secs(2)));
///             sleep(Duration::from_secs(60)).await;
///         })
///         .await;
///     assert!(result.is_err());
///     assert!(deadline.expired());
///     assert_eq!(start.elapsed(), Duration::from_secs(3));
/// });
/// ```
pub struct Timeout {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    deadline: Option<Instant>,
    /// Set for a timeout made outside any loop: the deadline is this long after the first
    /// poll of a run, by the clock (real or test) of the loop that runs it.
    from_first_poll: Option<Duration>,
    /// Bumped by every reschedule, so a run knows to re-arm its timer.
    generation: u64,
    expired: bool,
    /// Wakers of the runs waiting, woken by a reschedule.
    waiting: Slab<Waker>,
}

/// A [`Timeout`] expiring `duration` from now: asyncio's `asyncio.timeout(delay)`.
///
/// # Examples
///
/// See [`Timeout`].
pub fn timeout(duration: Duration) -> Timeout {
    let timeout = Timeout::new(Some(Instant::now() + duration));
    if !crate::runtime::context::is_set() {
        timeout.lock().from_first_poll = Some(duration);
    }
    timeout
}

/// A [`Timeout`] expiring at `deadline`: asyncio's `asyncio.timeout_at(when)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{Instant, timeout_at};
///
/// tulip::run(async {
///     let at = Instant::now() + Duration::from_millis(5);
///     let t = timeout_at(at);
///     assert_eq!(t.when(), Some(at));
///     assert!(t.run(std::future::pending::<()>()).await.is_err());
/// });
/// ```
pub fn timeout_at(deadline: Instant) -> Timeout {
    Timeout::new(Some(deadline))
}

impl Timeout {
    fn new(deadline: Option<Instant>) -> Timeout {
        Timeout {
            state: Mutex::new(State {
                deadline,
                from_first_poll: None,
                generation: 0,
                expired: false,
                waiting: Slab::new(),
            }),
        }
    }

    /// A timeout with no deadline yet (asyncio's `timeout(None)`), to be set with
    /// [`reschedule`](Timeout::reschedule).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = tulip::time::Timeout::never();
    /// assert_eq!(t.when(), None);
    /// ```
    pub fn never() -> Timeout {
        Timeout::new(None)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current deadline, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let at = tulip::time::Instant::now();
    /// assert_eq!(tulip::time::timeout_at(at).when(), Some(at));
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.lock().deadline
    }

    /// Moves the deadline (`None`: no deadline). Runs in progress see the change at once: a
    /// deadline moved into the past ends them at their next turn.
    ///
    /// # Examples
    ///
    /// See [`Timeout`].
    pub fn reschedule(&self, deadline: Option<Instant>) {
        let wakers: Vec<Waker> = {
            let mut state = self.lock();
            state.deadline = deadline;
            state.from_first_poll = None;
            state.generation = state.generation.wrapping_add(1);
            state.expired = false;
            state.waiting.drain().collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The deadline passed while a run was in progress and ended it (asyncio's
    /// `cm.expired()`). A reschedule clears it.
    ///
    /// # Examples
    ///
    /// See [`Timeout`].
    pub fn expired(&self) -> bool {
        self.lock().expired
    }

    /// Runs `future` under this deadline: its output, or `Err(Elapsed)` once the deadline
    /// passes, the future having been dropped there.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops `future` and disarms the timer.
    ///
    /// # Examples
    ///
    /// See [`Timeout`].
    pub fn run<F: IntoFuture>(&self, future: F) -> Within<'_, F::IntoFuture> {
        Within {
            future: future.into_future(),
            timeout: self,
            timer: None,
            registered: None,
        }
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Timeout")
            .field("deadline", &state.deadline)
            .field("expired", &state.expired)
            .finish()
    }
}

pin_project! {
    /// The future returned by [`Timeout::run`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Within<'a, F> {
        #[pin]
        future: F,
        timeout: &'a Timeout,
        // The armed timer and the generation of the deadline it was armed for.
        timer: Option<(Sleep, u64)>,
        // Our key among the timeout's waiting wakers, and the generation it belongs to: a
        // reschedule empties the list, after which the key may be someone else's.
        registered: Option<(usize, u64)>,
    }

    impl<F> PinnedDrop for Within<'_, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some((key, generation)) = this.registered.take() {
                let mut state = this.timeout.lock();
                let removed = (state.generation == generation)
                    .then(|| state.waiting.try_remove(key))
                    .flatten();
                drop(state);
                drop(removed);
            }
        }
    }
}

impl<F: Future> Future for Within<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let mut state = this.timeout.lock();
        if let Some(delay) = state.from_first_poll.take() {
            state.deadline = Some(Instant::now() + delay);
        }
        // Listen for reschedules.
        let generation = state.generation;
        let ours = this
            .registered
            .filter(|&(_, registered_in)| registered_in == generation)
            .map(|(key, _)| key);
        let replaced = match ours.and_then(|key| state.waiting.get_mut(key)) {
            Some(current) => (!current.will_wake(cx.waker()))
                .then(|| std::mem::replace(current, cx.waker().clone())),
            None => {
                let key = state.waiting.insert(cx.waker().clone());
                *this.registered = Some((key, generation));
                None
            }
        };
        let deadline = state.deadline;
        drop(state);
        drop(replaced);
        let Some(deadline) = deadline else {
            *this.timer = None;
            return Poll::Pending;
        };
        match this.timer {
            Some((_, armed_for)) if *armed_for == generation => {}
            _ => *this.timer = Some((sleep_until(deadline), generation)),
        }
        let Some((timer, _)) = this.timer else {
            return Poll::Pending;
        };
        if Pin::new(timer).poll(cx).is_ready() {
            this.timeout.lock().expired = true;
            return Poll::Ready(Err(Elapsed::new()));
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for Within<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Within")
            .field("timeout", self.timeout)
            .finish_non_exhaustive()
    }
}
