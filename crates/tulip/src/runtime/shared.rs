//! The part of a loop that other threads may touch: the injection queue, the OS waker, flags.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::thread::ThreadId;
use std::time::Duration;

use super::clock::Clock;
use super::exception::{ExceptionContext, ExceptionHandler};
use crate::blocking::ThreadPool;
use crate::blocking::tracker::JobTracker;
use crate::task::Id;
use crate::task::raw::Runnable;

pub(crate) struct Shared {
    /// Unique among the loops of the process (lets small handles name their loop).
    pub(crate) id: u32,
    pub(crate) clock: Clock,
    injected: Mutex<Injected>,
    /// Set by the first cross-thread wake since the loop last drained `injected`; later wakes
    /// skip the syscall.
    notified: AtomicBool,
    /// Taken out when the `Runtime` is dropped, so its eventfd closes then even if another
    /// thread (a pool job finishing) still holds this `Shared` for a moment.
    os_waker: Mutex<Option<mio::Waker>>,
    pub(crate) stop_requested: AtomicBool,
    pub(crate) running: AtomicBool,
    pub(crate) closed: AtomicBool,
    exception_handler: RwLock<Option<Arc<ExceptionHandler>>>,
    /// Debug mode: polls longer than this are reported.
    pub(crate) slow_poll: Option<Duration>,
    /// The thread that created (and so owns) the loop.
    pub(crate) owner: ThreadId,
    /// Thread-pool jobs this loop waits for.
    pub(crate) jobs: JobTracker,
    /// `to_thread`'s pool, started on first use.
    default_pool: OnceLock<ThreadPool>,
    default_pool_size: usize,
    shutdown_timeout: Duration,
}

#[derive(Default)]
pub(crate) struct Injected {
    pub(crate) runnables: VecDeque<Runnable>,
    /// Cancellation requests from other threads: (registry key, task id).
    pub(crate) cancels: Vec<(u32, Id)>,
    closed: bool,
}

impl Shared {
    pub(crate) fn new(
        clock: Clock,
        os_waker: mio::Waker,
        slow_poll: Option<Duration>,
        default_pool_size: usize,
        shutdown_timeout: Duration,
    ) -> Shared {
        static NEXT_ID: AtomicU32 = AtomicU32::new(1);
        Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            clock,
            injected: Mutex::new(Injected::default()),
            notified: AtomicBool::new(false),
            os_waker: Mutex::new(Some(os_waker)),
            stop_requested: AtomicBool::new(false),
            running: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            exception_handler: RwLock::new(None),
            slow_poll,
            owner: std::thread::current().id(),
            jobs: JobTracker::default(),
            default_pool: OnceLock::new(),
            default_pool_size,
            shutdown_timeout,
        }
    }

    pub(crate) fn default_pool(&self) -> &ThreadPool {
        self.default_pool.get_or_init(|| {
            ThreadPool::builder()
                .size(self.default_pool_size)
                .name(format!("tulip-loop{}-pool", self.id))
                .build()
        })
    }

    /// asyncio's `shutdown_default_executor`: stop the default pool taking jobs once those
    /// queued have run, and wait a while for every job this loop started.
    pub(crate) fn shutdown_jobs(&self) {
        let timeout = self.shutdown_timeout;
        if let Some(pool) = self.default_pool.get() {
            pool.shutdown();
        }
        if !self.jobs.wait_idle(timeout) {
            crate::log::warn(&format!(
                "closing the loop: {} thread-pool job(s) still running after {timeout:?}; not waiting for them",
                self.jobs.in_flight()
            ));
        }
    }

    fn lock(&self) -> MutexGuard<'_, Injected> {
        // Nothing panics while holding this lock, but a poisoned queue is still a valid queue.
        self.injected.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a task woken on another thread (or before the loop runs) and wakes the loop.
    pub(crate) fn inject(&self, runnable: Runnable) {
        let mut injected = self.lock();
        if injected.closed {
            drop(injected);
            crate::task::raw::discard_after_close(runnable);
            return;
        }
        injected.runnables.push_back(runnable);
        drop(injected);
        self.notify();
    }

    pub(crate) fn inject_cancel(&self, key: u32, id: Id) {
        let mut injected = self.lock();
        if injected.closed {
            return;
        }
        injected.cancels.push((key, id));
        drop(injected);
        self.notify();
    }

    /// Wakes the loop out of its OS wait, once per drain.
    pub(crate) fn notify(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            // If the eventfd write fails the loop is being torn down; there is no one to wake.
            let waker = self.os_waker.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(waker) = &*waker {
                let _ = waker.wake();
            }
        }
    }

    /// Closes the loop's eventfd: nothing waits on it any more.
    pub(crate) fn release_os_waker(&self) {
        let waker = self
            .os_waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(waker);
    }

    pub(crate) fn has_injected(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Takes everything injected so far. Called by the loop thread only.
    pub(crate) fn drain(&self, into: &mut Injected) {
        self.notified.store(false, Ordering::Release);
        let mut injected = self.lock();
        into.runnables.append(&mut injected.runnables);
        into.cancels.append(&mut injected.cancels);
    }

    /// Refuses further injections; returns what was queued.
    pub(crate) fn close_injection(&self) -> Injected {
        let mut injected = self.lock();
        injected.closed = true;
        Injected {
            runnables: std::mem::take(&mut injected.runnables),
            cancels: std::mem::take(&mut injected.cancels),
            closed: true,
        }
    }

    pub(crate) fn set_exception_handler(&self, handler: Option<Arc<ExceptionHandler>>) {
        *self
            .exception_handler
            .write()
            .unwrap_or_else(PoisonError::into_inner) = handler;
    }

    /// Reports an error nobody else will see: asyncio's `call_exception_handler`.
    pub(crate) fn report(&self, context: &ExceptionContext) {
        let handler = self
            .exception_handler
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match handler {
            Some(handler) => {
                // A handler that panics must not take the loop down with it.
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(context)));
                if outcome.is_err() {
                    super::exception::default_handler(context);
                    crate::log::error("the exception handler itself panicked");
                }
            }
            None => super::exception::default_handler(context),
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("running", &self.running.load(Ordering::Relaxed))
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .field("test_clock", &self.clock.is_test())
            .finish_non_exhaustive()
    }
}
