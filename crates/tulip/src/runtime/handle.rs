use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context;
use super::exception::ExceptionContext;
use super::shared::Shared;
use crate::blocking::{BlockingTask, ThreadPool};
use crate::task::raw;
use crate::task::{Id, Task};
use crate::time::Instant;

/// A thread-safe reference to a loop: spawn onto it, schedule callbacks, stop it, read its
/// clock — from its own thread or any other. Cheap to clone.
///
/// # Examples
///
/// ```
/// let mut rt = tulip::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// std::thread::spawn(move || {
///     handle.call_soon_threadsafe(|| println!("hello from the loop"));
/// })
/// .join()
/// .unwrap();
/// rt.block_on(tulip::task::yield_now());
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a tulip runtime; see [`Handle::try_current`].
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let handle = tulip::runtime::Handle::current();
    ///     assert!(handle.is_running());
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        context::with_core(|core| Handle {
            shared: core.shared.clone(),
        })
    }

    /// The handle of the loop running on this thread, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tulip::runtime::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::try_with_core(|core| Handle {
            shared: core.shared.clone(),
        })
    }

    /// Spawns a `Send` future onto this loop from any thread. It runs on the loop's thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { 1 + 1 })).join().unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_named(future, None, Location::caller())
    }

    pub(crate) fn spawn_named<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if context::is_on_loop(&self.shared) {
            return context::with_core(|core| core.spawn(future, name, location, false));
        }
        let (runnable, task) = raw::allocate(self.shared.clone(), future, name, location, false);
        runnable.schedule();
        Task::from_raw(task)
    }

    /// Runs `callback` on the loop at its next turn (asyncio's `call_soon`). Callbacks run in
    /// the order they were scheduled. Like every method of `Handle`, this may be called from
    /// any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let stopper = handle.clone();
    /// handle.call_soon(move || stopper.stop());
    /// rt.run_forever(); // returns once the callback has run
    /// ```
    #[track_caller]
    pub fn call_soon(&self, callback: impl FnOnce() + Send + 'static) -> TimerHandle {
        let task = self.spawn_named(async move { callback() }, None, Location::caller());
        TimerHandle { task, when: None }
    }

    /// [`call_soon`](Handle::call_soon) under asyncio's name for calls from other threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let remote = handle.clone();
    /// std::thread::spawn(move || {
    ///     let stopper = remote.clone();
    ///     remote.call_soon_threadsafe(move || stopper.stop());
    /// });
    /// rt.run_forever();
    /// ```
    #[track_caller]
    pub fn call_soon_threadsafe(&self, callback: impl FnOnce() + Send + 'static) -> TimerHandle {
        let task = self.spawn_named(async move { callback() }, None, Location::caller());
        TimerHandle { task, when: None }
    }

    /// Runs `callback` on the loop once `delay` has passed (asyncio's `call_later`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    /// let handle = rt.handle().clone();
    /// let stopper = handle.clone();
    /// let start = handle.time();
    /// handle.call_later(Duration::from_secs(5), move || stopper.stop());
    /// rt.run_forever();
    /// assert_eq!(rt.handle().time() - start, Duration::from_secs(5));
    /// ```
    #[track_caller]
    pub fn call_later(
        &self,
        delay: Duration,
        callback: impl FnOnce() + Send + 'static,
    ) -> TimerHandle {
        self.call_at(self.time() + delay, callback)
    }

    /// Runs `callback` on the loop at `when`, by the loop's clock (asyncio's `call_at`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    /// let handle = rt.handle().clone();
    /// let stopper = handle.clone();
    /// let when = handle.time() + Duration::from_millis(250);
    /// let timer = handle.call_at(when, move || stopper.stop());
    /// assert_eq!(timer.when(), Some(when));
    /// rt.run_forever();
    /// assert_eq!(rt.handle().time(), when);
    /// ```
    #[track_caller]
    pub fn call_at(&self, when: Instant, callback: impl FnOnce() + Send + 'static) -> TimerHandle {
        let task = self.spawn_named(
            async move {
                crate::time::sleep_until(when).await;
                callback();
            },
            None,
            Location::caller(),
        );
        TimerHandle {
            task,
            when: Some(when),
        }
    }

    /// Runs `f` on `pool` and resolves to its result: asyncio's `loop.run_in_executor(pool, f)`.
    ///
    /// The job counts as this loop's wherever it is called from: the loop's test clock does
    /// not jump while it runs, and closing the loop waits for it. For the loop's default pool,
    /// use [`to_thread`](crate::to_thread).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::blocking::ThreadPool;
    /// use tulip::runtime::Handle;
    ///
    /// let pool = ThreadPool::builder().size(2).name("blocking-io").build();
    /// tulip::run(async move {
    ///     let handle = Handle::current();
    ///     let job = handle.run_in_executor(&pool, || std::thread::current().name().map(String::from));
    ///     assert_eq!(job.await.unwrap().as_deref(), Some("blocking-io-0"));
    /// });
    /// ```
    pub fn run_in_executor<F, T>(&self, pool: &ThreadPool, f: F) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        pool.spawn_tracked(f, Some(self.shared.clone()))
    }

    /// The loop's current time (asyncio's `loop.time()`); on a test clock, the virtual time.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// let a = rt.handle().time();
    /// assert!(rt.handle().time() >= a);
    /// ```
    pub fn time(&self) -> Instant {
        Instant::from_std(self.shared.clock.now())
    }

    /// Makes [`Runtime::run_forever`](super::Runtime::run_forever) return after the current
    /// turn (asyncio's `loop.stop()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// handle.stop(); // stopping before running makes run_forever do one turn
    /// rt.run_forever();
    /// ```
    pub fn stop(&self) {
        self.shared.stop_requested.store(true, Ordering::Release);
        self.shared.notify();
    }

    /// The loop is inside `block_on`, `run_until_complete` or `run_forever`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// assert!(!rt.handle().is_running());
    /// ```
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// The loop has been closed; nothing more will run on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// rt.close();
    /// assert!(handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Installs the function called with failures nobody else will see — a panic in a task
    /// whose handle was dropped, a panicking done callback — instead of the default, which logs
    /// them (asyncio's `loop.set_exception_handler`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// rt.handle().set_exception_handler(|cx| eprintln!("custom: {cx}"));
    /// ```
    pub fn set_exception_handler(
        &self,
        handler: impl Fn(&ExceptionContext) + Send + Sync + 'static,
    ) {
        self.shared.set_exception_handler(Some(Arc::new(handler)));
    }

    /// Puts the default exception handler back.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// rt.handle().set_exception_handler(|_| {});
    /// rt.handle().reset_exception_handler();
    /// ```
    pub fn reset_exception_handler(&self) {
        self.shared.set_exception_handler(None);
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle").field(&self.shared).finish()
    }
}

/// A scheduled callback (asyncio's `Handle`/`TimerHandle`): cancel it before it runs.
/// Dropping it does not cancel the callback.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// let handle = rt.handle().clone();
/// let timer = handle.call_later(Duration::from_secs(1), || unreachable!("cancelled"));
/// assert!(timer.cancel());
/// rt.block_on(tulip::time::sleep(Duration::from_secs(2)));
/// assert!(timer.is_cancelled());
/// ```
pub struct TimerHandle {
    task: Task<()>,
    when: Option<Instant>,
}

impl TimerHandle {
    /// Cancels the callback if it has not run yet; returns `false` if it already ran.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// let timer = rt.handle().call_soon(|| {});
    /// assert!(timer.cancel());
    /// ```
    pub fn cancel(&self) -> bool {
        self.task.cancel()
    }

    /// The callback was cancelled before it ran.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let timer = rt.handle().call_soon(|| {});
    /// timer.cancel();
    /// rt.block_on(tulip::task::yield_now());
    /// assert!(timer.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.task.is_cancelled()
    }

    /// When the callback is due, for `call_later` and `call_at`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// assert!(rt.handle().call_soon(|| {}).when().is_none());
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.when
    }

    /// The id of the task that runs the callback.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::new().unwrap();
    /// let timer = rt.handle().call_soon(|| {});
    /// assert!(timer.id().as_u64() > 0);
    /// ```
    pub fn id(&self) -> Id {
        self.task.id()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("task", &self.task)
            .field("when", &self.when)
            .finish()
    }
}
