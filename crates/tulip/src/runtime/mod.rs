//! The event loop: asyncio's `asyncio.run`, `loop.run_until_complete`, `run_forever`, `stop`,
//! `close`, `call_soon`, `call_later`, `call_at` and `call_soon_threadsafe`.
//!
//! One [`Runtime`] runs on one thread, like one asyncio loop. Its turn, as in asyncio's
//! `_run_once`: wait for I/O readiness (not at all if tasks are ready, else until the next
//! timer), move due timers' tasks to the ready queue, run a bounded batch of ready tasks.
//! Other threads reach the loop through a [`Handle`].
//!
//! ```
//! use std::time::Duration;
//!
//! let mut rt = tulip::Runtime::new().unwrap();
//! let answer = rt.block_on(async {
//!     tulip::time::sleep(Duration::from_millis(1)).await;
//!     42
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! Environment: `TULIP_DEBUG=1` turns debug mode on (asyncio's `PYTHONASYNCIODEBUG=1`), and
//! `TULIP_TEST_CLOCK=1` runs every loop of the process on the test clock, which lets a test
//! run an unchanged program and check its timing exactly.

mod builder;
pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod exception;
mod handle;
pub(crate) mod shared;
mod signal_handlers;

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub use builder::Builder;
pub use exception::ExceptionContext;
pub use handle::{Handle, TimerHandle};

use crate::task::Task;
use crate::time::Instant;
use core::Core;

/// An event loop, owned by the thread that created it.
///
/// # Examples
///
/// ```
/// let mut rt = tulip::Runtime::new().unwrap();
/// let task = rt.spawn(async { "spawned before the loop ran" });
/// assert_eq!(rt.block_on(task).unwrap(), "spawned before the loop ran");
/// rt.close();
/// assert!(rt.is_closed());
/// ```
pub struct Runtime {
    core: Core,
    handle: Handle,
}

impl Runtime {
    /// A loop with the default settings (and `TULIP_DEBUG` / `TULIP_TEST_CLOCK` honoured).
    ///
    /// # Errors
    ///
    /// When the OS refuses an epoll instance, an eventfd or a timerfd (e.g. out of file
    /// descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new()?;
    /// # let _ = rt;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Settings for a new loop: debug mode, slow-poll threshold, test clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::builder().debug(true).test_clock().build().unwrap();
    /// # let _ = rt;
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_parts(core: Core) -> Runtime {
        let handle = Handle {
            shared: core.shared.clone(),
        };
        Runtime { core, handle }
    }

    /// This loop's handle, for other threads and for scheduling callbacks.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// # let _ = handle;
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs the loop until `future` completes and returns its output (asyncio's
    /// `run_until_complete`). Other tasks run meanwhile; those still pending afterwards stay
    /// pending until the loop runs again or is closed.
    ///
    /// The future is polled by the loop directly, so it may borrow from the caller.
    ///
    /// # Panics
    ///
    /// If the loop is closed, or when called from inside a running loop (one loop per thread
    /// at a time, as asyncio says "cannot be called from a running event loop").
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let text = String::from("borrowed");
    /// let len = rt.block_on(async { text.len() });
    /// assert_eq!(len, 8);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        self.enter_running(|core| core.block_on(future))
    }

    /// asyncio's name for [`block_on`](Runtime::block_on).
    ///
    /// # Panics
    ///
    /// As [`block_on`](Runtime::block_on).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let task = rt.spawn(async { 3 });
    /// assert_eq!(rt.run_until_complete(task).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn run_until_complete<F: Future>(&mut self, future: F) -> F::Output {
        self.block_on(future)
    }

    /// Runs the loop until [`stop`](Runtime::stop) is called — by a task, a callback or
    /// another thread.
    ///
    /// # Panics
    ///
    /// As [`block_on`](Runtime::block_on).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// rt.spawn(async move {
    ///     println!("running");
    ///     handle.stop();
    /// })
    /// .detach();
    /// rt.run_forever();
    /// ```
    #[track_caller]
    pub fn run_forever(&mut self) {
        self.enter_running(Core::run_forever);
    }

    #[track_caller]
    fn enter_running<R>(&mut self, f: impl FnOnce(&Core) -> R) -> R {
        assert!(!self.is_closed(), "this tulip Runtime is closed");
        assert!(
            !context::is_set(),
            "cannot run a tulip loop from inside a running loop on the same thread"
        );
        let shared = &self.core.shared;
        shared.running.store(true, Ordering::Release);
        struct NotRunning<'a>(&'a shared::Shared);
        impl Drop for NotRunning<'_> {
            fn drop(&mut self) {
                self.0.running.store(false, Ordering::Release);
            }
        }
        let _guard = NotRunning(shared);
        context::enter(&self.core, || f(&self.core))
    }

    /// Spawns a task on this loop from the thread that owns it, before or between runs; it
    /// starts when the loop next runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let task = rt.spawn(async { 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        context::enter(&self.core, || self.core.spawn(future, None, location, true))
    }

    /// Asks [`run_forever`](Runtime::run_forever) to return; see [`Handle::stop`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// rt.stop();
    /// rt.run_forever();
    /// ```
    pub fn stop(&self) {
        self.handle.stop();
    }

    /// The loop is running (inside `block_on` or `run_forever`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// assert!(!rt.is_running());
    /// ```
    pub fn is_running(&self) -> bool {
        self.handle.is_running()
    }

    /// The loop was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// assert!(!rt.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// The loop's clock (asyncio's `loop.time()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::builder().test_clock().build().unwrap();
    /// assert_eq!(rt.time(), rt.time()); // the test clock stands still
    /// ```
    pub fn time(&self) -> Instant {
        self.handle.time()
    }

    /// Closes the loop: cancels every task still pending, runs the loop until they have
    /// unwound (their destructors ran), and drops everything it holds. Idempotent; dropping a
    /// `Runtime` closes it too.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// rt.close();
    /// assert!(task.is_cancelled());
    /// ```
    pub fn close(&mut self) {
        if self.is_closed() || context::is_set() && self.is_running() {
            return;
        }
        context::enter(&self.core, || self.core.close());
        self.core.shared.shutdown_jobs();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.close();
        self.core.shared.release_os_waker();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

/// Runs `future` on a new loop and returns its output: asyncio's `asyncio.run`. When the
/// future completes, every task still pending is cancelled and allowed to unwind, then the
/// loop is closed.
///
/// # Ctrl+C
///
/// As in asyncio 3.11, the first Ctrl+C (`SIGINT`) while `future` runs cancels it: it is
/// dropped where it waits, so its clean-up (destructors) runs; then every task still pending is
/// cancelled and unwound, the loop closes, and the process exits with status 130, the status of
/// a program Ctrl+C stopped. A second Ctrl+C during that clean-up exits at once. If the program
/// handles Ctrl+C itself — a [`signal::ctrl_c`](crate::signal::ctrl_c) future, a
/// [`signal::signal`](crate::signal::signal) stream for `SIGINT` or a
/// [`Handle::add_signal_handler`] handler for it exists when the signal arrives — `future` is
/// left alone. The hook is in place only while `run` runs, and not at all when `SIGINT` was
/// ignored when the process started (started in the background by a shell, or under
/// `trap '' INT`). See [`crate::signal`].
///
/// # Panics
///
/// When the OS cannot provide a loop (out of file descriptors), or when called from inside a
/// running loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn count() {
///     println!("One");
///     tulip::time::sleep(Duration::from_millis(10)).await;
///     println!("Two");
/// }
///
/// tulip::run(async {
///     let tasks: Vec<_> = (0..3).map(|_| tulip::spawn(count())).collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
/// });
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let mut rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(err) => panic!("tulip::run could not create an event loop: {err}"),
    };
    let hook = crate::signal::interrupt::Hook::install();
    let output = rt.block_on(hook.guard(future));
    hook.cleaning_up();
    rt.close();
    hook.finish(output)
}

/// The default debug-mode threshold: a poll longer than this is reported (asyncio's
/// `slow_callback_duration`).
pub const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);
