//! The loop itself: ready queue, timers, reactor and the task registry, owned by one thread.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::Location;
use std::pin::{Pin, pin};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::context;
use super::shared::{Injected, Shared};
use crate::io::reactor::Reactor;
use crate::task::raw::{self, CANCEL_REQUESTED, Runnable, TaskMeta, UNREGISTERED};
use crate::task::{Id, Task, TaskInfo};
use crate::time::timers::Timers;
use crate::util::chunked::{ChunkedQueue, ChunkedSlab};

/// Tasks run between two looks at the OS (and at due timers) while tasks keep being ready.
/// Bounded so that a task that wakes itself for ever cannot starve I/O or timers; large enough
/// that the readiness syscall is amortised. tokio uses 61 for the same reason.
const EVENT_INTERVAL: u32 = 61;

/// How many times closing re-runs the loop to let cancelled tasks unwind (their destructors may
/// spawn or wake other tasks).
const CLOSE_ROUNDS: usize = 64;

struct Registered {
    waker: Waker,
    meta: NonNull<TaskMeta>,
}

pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    ready: RefCell<ChunkedQueue<Runnable>>,
    pub(crate) timers: RefCell<Timers>,
    pub(crate) reactor: RefCell<Reactor>,
    /// Every task not yet finished: asyncio's `all_tasks()`, and what closing cancels.
    registry: RefCell<ChunkedSlab<Registered>>,
    /// The task being polled; its metadata outlives the poll.
    current: Cell<Option<NonNull<TaskMeta>>>,
    closing: Cell<bool>,
    /// Tasks run since the OS was last asked for readiness.
    since_io: Cell<u32>,
    wake_buf: RefCell<Vec<Waker>>,
    injected_buf: RefCell<Injected>,
}

impl Core {
    pub(crate) fn new(shared: Arc<Shared>, reactor: Reactor) -> Core {
        Core {
            shared,
            ready: RefCell::new(ChunkedQueue::default()),
            timers: RefCell::new(Timers::new()),
            reactor: RefCell::new(reactor),
            registry: RefCell::new(ChunkedSlab::default()),
            current: Cell::new(None),
            closing: Cell::new(false),
            since_io: Cell::new(0),
            wake_buf: RefCell::new(Vec::new()),
            injected_buf: RefCell::new(Injected::default()),
        }
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.shared.clock.now_ns()
    }

    pub(crate) fn push_ready(&self, runnable: Runnable) {
        self.ready.borrow_mut().push_back(runnable);
    }

    // ----- tasks -----

    /// Spawns a task on this loop, from this loop's thread.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
        local: bool,
    ) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (runnable, task) = raw::allocate(self.shared.clone(), future, name, location, local);
        // Spawned while closing (by a destructor), it is cancelled on its first poll.
        self.push_ready(runnable);
        Task::from_raw(task)
    }

    /// Whether a task about to be polled must be cancelled instead.
    pub(crate) fn cancel_before_poll(&self, meta: &TaskMeta) -> bool {
        self.closing.get() || meta.state.load(Ordering::SeqCst) & CANCEL_REQUESTED != 0
    }

    /// Registers a task whose poll returned `Pending`, the first time it does. Tasks that finish
    /// in their first poll never touch the registry; before that poll they sit in the ready
    /// queue, where `all_tasks` and `close` find them.
    #[inline]
    pub(crate) fn register_pending(&self, meta: &TaskMeta, waker: &Waker) {
        if meta.key.load(Ordering::Relaxed) == UNREGISTERED {
            self.register(meta, waker);
        }
    }

    #[cold]
    fn register(&self, meta: &TaskMeta, waker: &Waker) {
        let mut registry = self.registry.borrow_mut();
        // Four billion tasks waiting at once do not fit a key; such a task runs unregistered
        // (not listed by all_tasks, cancelled at close only through its wakers).
        let Ok(key) = u32::try_from(registry.vacant_key()) else {
            return;
        };
        if key == UNREGISTERED {
            return;
        }
        registry.insert(Registered {
            waker: waker.clone(),
            meta: NonNull::from(meta),
        });
        drop(registry);
        // SeqCst pairs with `Task::cancel` on another thread: either it sees the key and asks
        // us to wake the task, or we see its flag here and wake it ourselves.
        meta.key.store(key, Ordering::SeqCst);
        if meta.state.load(Ordering::SeqCst) & CANCEL_REQUESTED != 0 {
            waker.wake_by_ref();
        }
    }

    pub(crate) fn unregister(&self, meta: &TaskMeta) {
        let key = meta.key.swap(UNREGISTERED, Ordering::AcqRel);
        if key == UNREGISTERED {
            return;
        }
        let removed = {
            let mut registry = self.registry.borrow_mut();
            match registry.get(key as usize) {
                Some(entry) if entry.meta == NonNull::from(meta) => {
                    Some(registry.remove(key as usize))
                }
                _ => None,
            }
        };
        // Dropped outside the borrow: dropping a waker may free another task.
        drop(removed);
    }

    pub(crate) fn with_current_task<R>(&self, meta: &TaskMeta, f: impl FnOnce() -> R) -> R {
        let previous = self.current.replace(Some(NonNull::from(meta)));
        let result = f();
        self.current.set(previous);
        result
    }

    pub(crate) fn current_task(&self) -> Option<TaskInfo> {
        let meta = self.current.get()?;
        // SAFETY: `current` is set only for the duration of that task's poll
        // (`with_current_task`), and the metadata lives in the task's allocation, which is kept
        // alive by the running Runnable for at least that long.
        Some(TaskInfo::from_meta(unsafe { meta.as_ref() }))
    }

    pub(crate) fn all_tasks(&self) -> Vec<TaskInfo> {
        let registry = self.registry.borrow();
        // SAFETY: an entry is removed (`unregister`) before its task's future is dropped, and
        // the metadata outlives the future, so every entry's pointer is live.
        let pending = registry
            .iter()
            .map(|(_, entry)| unsafe { entry.meta.as_ref() });
        let ready = self.ready.borrow();
        // Tasks not polled yet are registered nowhere but here.
        let unpolled = ready.iter().map(|runnable| runnable.metadata());
        let current = self.current.get().map(|meta| {
            // SAFETY: see `current_task`.
            unsafe { meta.as_ref() }
        });
        pending
            .chain(
                unpolled
                    .chain(current)
                    .filter(|meta| meta.key.load(Ordering::Relaxed) == UNREGISTERED),
            )
            .map(TaskInfo::from_meta)
            .collect()
    }

    /// Asks a task of this loop to stop; wakes it so the request takes effect.
    pub(crate) fn wake_registered(&self, key: u32, id: Id) {
        let waker = {
            let registry = self.registry.borrow();
            registry.get(key as usize).and_then(|entry| {
                // SAFETY: as in `all_tasks`, a registered entry's metadata is live.
                let meta = unsafe { entry.meta.as_ref() };
                (meta.id == id).then(|| entry.waker.clone())
            })
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn run(&self, runnable: Runnable) {
        match self.shared.slow_poll {
            None => {
                runnable.run();
            }
            Some(threshold) => self.run_timed(runnable, threshold),
        }
    }

    fn run_timed(&self, runnable: Runnable, threshold: Duration) {
        let meta = runnable.metadata();
        let (id, location, name) = (meta.id, meta.location, meta.name().map(str::to_owned));
        let started = Instant::now();
        runnable.run();
        let took = started.elapsed();
        if took >= threshold {
            let name = name.map(|n| format!(" '{n}'")).unwrap_or_default();
            crate::log::warn(&format!(
                "task {id}{name} (spawned at {location}) blocked the loop for {:.3} s in one poll",
                took.as_secs_f64()
            ));
        }
    }

    // ----- the turn -----

    /// Runs `future` to completion on this loop (the caller has entered the context).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let main = Arc::new(MainWake {
            woken: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            // Ready tasks go first: the main future, woken, queues behind them as a task would
            // (so `yield_now()` in it lets everything else that is ready run).
            self.turn(&|| main.woken.load(Ordering::Acquire));
            if main.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) = self.poll_main(future.as_mut(), &mut cx) {
                    return output;
                }
                // The main future counts as a task run: a main future that keeps waking itself
                // must not starve timers and I/O either.
                self.since_io.set(self.since_io.get() + 1);
            }
        }
    }

    fn poll_main<F: Future>(&self, future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(threshold) = self.shared.slow_poll else {
            return future.poll(cx);
        };
        let started = Instant::now();
        let polled = future.poll(cx);
        let took = started.elapsed();
        if took >= threshold {
            crate::log::warn(&format!(
                "the main future (block_on/run) blocked the loop for {:.3} s in one poll",
                took.as_secs_f64()
            ));
        }
        polled
    }

    /// Runs until `stop()` is called.
    /// As in asyncio, a stop requested before the call still lets one turn run.
    pub(crate) fn run_forever(&self) {
        loop {
            self.turn(&|| self.shared.stop_requested.load(Ordering::Acquire));
            if self.shared.stop_requested.swap(false, Ordering::AcqRel) {
                return;
            }
        }
    }

    /// One turn: a bounded batch of ready tasks, then — when the batch ran dry or the interval
    /// is up — a look at the OS, the injection queue and due timers.
    fn turn(&self, other_work: &dyn Fn() -> bool) {
        if self.shared.has_injected() {
            self.drain_injected();
        }
        let mut ran = 0;
        while ran < EVENT_INTERVAL {
            let next = self.ready.borrow_mut().pop_front();
            let Some(runnable) = next else { break };
            self.run(runnable);
            ran += 1;
        }
        let since_io = self.since_io.get() + ran;
        let idle = self.ready.borrow().is_empty() && !other_work();
        if idle || since_io >= EVENT_INTERVAL {
            self.since_io.set(0);
            self.maintain(idle, other_work);
        } else {
            self.since_io.set(since_io);
        }
    }

    fn maintain(&self, idle: bool, other_work: &dyn Fn() -> bool) {
        self.drain_injected();
        let mut wake = std::mem::take(&mut *self.wake_buf.borrow_mut());
        let now = self.now_ns();
        self.timers.borrow_mut().fire_due(now, &mut wake);
        let may_block = idle && wake.is_empty() && self.ready.borrow().is_empty() && !other_work();
        let test_clock = self.shared.clock.is_test();
        let next_deadline = if may_block {
            self.timers.borrow_mut().next_deadline()
        } else {
            None
        };
        // A thread-pool job may still wake a task: the test clock must not jump past it.
        let jobs_running = test_clock && self.shared.jobs.busy();
        let (timeout, deadline) = match (may_block, test_clock, next_deadline) {
            (false, _, _) => (Some(Duration::ZERO), None),
            (true, true, Some(_)) if jobs_running => (None, None),
            // The test clock never waits for a timer: it jumps to it (below) once nothing else
            // can happen.
            (true, true, Some(_)) => (Some(Duration::ZERO), None),
            (true, false, Some(deadline)) => (None, Some((deadline, now))),
            (true, _, None) => (None, None),
        };
        let polled = self.reactor.borrow_mut().poll(timeout, deadline, &mut wake);
        if let Err(err) = polled {
            crate::log::error(&format!("waiting for I/O readiness failed: {err}"));
        }
        if deadline.is_some() {
            self.timers.borrow_mut().fire_due(self.now_ns(), &mut wake);
        }
        if may_block
            && test_clock
            && wake.is_empty()
            && !self.shared.has_injected()
            && !jobs_running
            && !other_work()
        {
            if let Some(deadline) = next_deadline {
                self.shared.clock.advance_to(deadline);
                self.timers.borrow_mut().fire_due(deadline, &mut wake);
            }
        }
        for waker in wake.drain(..) {
            waker.wake();
        }
        *self.wake_buf.borrow_mut() = wake;
        if self.shared.has_injected() {
            self.drain_injected();
        }
    }

    fn drain_injected(&self) {
        let mut injected = std::mem::take(&mut *self.injected_buf.borrow_mut());
        self.shared.drain(&mut injected);
        self.ready.borrow_mut().extend(injected.runnables.drain(..));
        for (key, id) in injected.cancels.drain(..) {
            self.wake_registered(key, id);
        }
        *self.injected_buf.borrow_mut() = injected;
    }

    /// Fires timers due by the test clock's new time; used by `time::advance`.
    pub(crate) fn fire_due_now(&self) {
        let mut wake = Vec::new();
        self.timers.borrow_mut().fire_due(self.now_ns(), &mut wake);
        wake.into_iter().for_each(Waker::wake);
    }

    // ----- closing -----

    /// Cancels every task still pending, lets them unwind, and drops everything the loop holds.
    pub(crate) fn close(&self) {
        self.closing.set(true);
        for _ in 0..CLOSE_ROUNDS {
            let wakers: Vec<Waker> = self
                .registry
                .borrow()
                .iter()
                .map(|(_, e)| e.waker.clone())
                .collect();
            wakers.into_iter().for_each(Waker::wake);
            self.drain_injected();
            self.run_all_ready();
            if self.registry.borrow().is_empty()
                && self.ready.borrow().is_empty()
                && !self.shared.has_injected()
            {
                break;
            }
        }
        let leftover = self.shared.close_injection();
        self.ready.borrow_mut().extend(leftover.runnables);
        self.run_all_ready();
        // Whatever still exists is referenced only from the structures below; dropping them
        // (outside their borrows) frees those tasks, which may schedule one last time.
        let registry = std::mem::take(&mut *self.registry.borrow_mut());
        drop(registry);
        let timer_wakers = self.timers.borrow_mut().take_all();
        drop(timer_wakers);
        let io_slots = std::mem::take(&mut self.reactor.borrow_mut().slots);
        // The registrations share these states: mark them dead (their next poll fails) and
        // drop the wakers, which may be the last references to their tasks.
        let io_wakers: Vec<_> = io_slots.iter().map(|(_, state)| state.retire()).collect();
        drop(io_slots);
        drop(io_wakers);
        self.run_all_ready();
        self.shared.closed.store(true, Ordering::Release);
    }

    fn run_all_ready(&self) {
        loop {
            let next = self.ready.borrow_mut().pop_front();
            let Some(runnable) = next else { break };
            self.run(runnable);
        }
    }
}

/// Wakes the future given to `block_on`, which is polled by the loop itself, not as a task.
struct MainWake {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if !context::is_on_loop(&self.shared) {
            self.shared.notify();
        }
    }
}
