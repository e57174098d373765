//! The thread pool: a job queue under one mutex, workers started on demand and retired when
//! idle for `keep_alive`.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::runtime::context;
use crate::runtime::shared::Shared;
use crate::task::{Id, JoinError};

/// How long an idle worker waits for a job before its thread exits (tokio's default too).
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A pool of OS threads for blocking or CPU-heavy work: asyncio's `ThreadPoolExecutor`.
///
/// Threads start when jobs arrive and no worker is idle, up to the pool's size, and exit after
/// being idle for the keep-alive time (10 s unless the builder says otherwise). Cloning gives
/// another handle to the same pool.
///
/// # Examples
///
/// ```
/// use tulip::blocking::ThreadPool;
///
/// let pool = ThreadPool::builder().size(4).name("hashers").build();
/// tulip::run(async move {
///     let sum = pool.spawn(|| (1..=1000u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 500_500);
/// });
/// ```
#[derive(Clone)]
pub struct ThreadPool {
    pool: Arc<Pool>,
}

/// Configures a [`ThreadPool`]: its size, thread names, stack size and keep-alive time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::blocking::ThreadPool;
///
/// let pool = ThreadPool::builder()
///     .size(2)
///     .name("io")
///     .stack_size(256 * 1024)
///     .keep_alive(Duration::from_secs(1))
///     .build();
/// assert_eq!(pool.size(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    size: usize,
    name: String,
    stack_size: Option<usize>,
    keep_alive: Duration,
}

struct Pool {
    state: Mutex<State>,
    work_ready: Condvar,
    all_exited: Condvar,
    size: usize,
    name: String,
    stack_size: Option<usize>,
    keep_alive: Duration,
}

struct State {
    queue: VecDeque<Arc<dyn Job>>,
    /// Worker threads alive (or being started).
    threads: usize,
    /// Workers waiting for a job.
    idle: usize,
    /// Idle workers already signalled, so a burst of jobs wakes as many workers as it needs and
    /// starts new threads only beyond that.
    wakeups: usize,
    shutdown: bool,
    next_thread: usize,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            size: default_size(),
            name: "tulip-pool".to_owned(),
            stack_size: None,
            keep_alive: DEFAULT_KEEP_ALIVE,
        }
    }

    /// The most threads the pool runs at once (at least 1). Default: `min(32, cpus + 4)`,
    /// asyncio's default for `ThreadPoolExecutor`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::builder().size(3).build();
    /// assert_eq!(pool.size(), 3);
    /// ```
    pub fn size(mut self, threads: usize) -> Builder {
        self.size = threads.max(1);
        self
    }

    /// Thread names are this prefix and a number: `name-0`, `name-1`, …
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::builder().name("disk").build();
    /// tulip::run(async move {
    ///     let name = pool.spawn(|| std::thread::current().name().map(str::to_owned));
    ///     assert!(name.await.unwrap().unwrap().starts_with("disk-"));
    /// });
    /// ```
    pub fn name(mut self, prefix: impl Into<String>) -> Builder {
        self.name = prefix.into();
        self
    }

    /// Stack size of each thread, in bytes (Rust's default when not set: 2 MiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::builder().stack_size(128 * 1024).build();
    /// # let _ = pool;
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// How long an idle thread waits for work before it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = tulip::blocking::ThreadPool::builder()
    ///     .keep_alive(Duration::from_millis(100))
    ///     .build();
    /// # let _ = pool;
    /// ```
    pub fn keep_alive(mut self, idle: Duration) -> Builder {
        self.keep_alive = idle;
        self
    }

    /// The pool. No thread starts until the first job.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::builder().build();
    /// assert_eq!(pool.threads(), 0);
    /// ```
    pub fn build(self) -> ThreadPool {
        ThreadPool {
            pool: Arc::new(Pool {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    wakeups: 0,
                    shutdown: false,
                    next_thread: 0,
                }),
                work_ready: Condvar::new(),
                all_exited: Condvar::new(),
                size: self.size,
                name: self.name,
                stack_size: self.stack_size,
                keep_alive: self.keep_alive,
            }),
        }
    }
}

/// asyncio's default executor size: `min(32, cpus + 4)`.
pub(crate) fn default_size() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    (cpus + 4).min(32)
}

impl ThreadPool {
    /// A pool with the default settings (`min(32, cpus + 4)` threads).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::new();
    /// assert!(pool.size() >= 5);
    /// ```
    pub fn new() -> ThreadPool {
        Builder::new().build()
    }

    /// Configures a pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::builder().size(8).build();
    /// assert_eq!(pool.size(), 8);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// The process-wide pool for CPU-bound work, one thread per core: where asyncio programs
    /// use a `ProcessPoolExecutor`. Rust threads run in parallel (there is no GIL), so CPU work
    /// needs no second process; keeping it off the I/O pool keeps it from crowding out
    /// blocking I/O.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::blocking::ThreadPool;
    ///
    /// tulip::run(async {
    ///     let squares = ThreadPool::cpu().spawn(|| (1..=10u64).map(|n| n * n).sum::<u64>());
    ///     assert_eq!(squares.await.unwrap(), 385);
    /// });
    /// ```
    pub fn cpu() -> &'static ThreadPool {
        static CPU: OnceLock<ThreadPool> = OnceLock::new();
        CPU.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            Builder::new().size(cores).name("tulip-cpu").build()
        })
    }

    /// The most threads this pool runs at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::builder().size(2).build();
    /// assert_eq!(pool.size(), 2);
    /// ```
    pub fn size(&self) -> usize {
        self.pool.size
    }

    /// How many worker threads are alive now (busy or idle).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::new();
    /// assert_eq!(pool.threads(), 0); // threads start with the first job
    /// ```
    pub fn threads(&self) -> usize {
        self.pool.lock().threads
    }

    /// Runs `f` on one of the pool's threads; the returned [`BlockingTask`] resolves to its
    /// result, or to a [`JoinError`] if it panicked. Dropping the `BlockingTask` does not stop
    /// the job (a thread cannot be interrupted): it runs to the end and its result is dropped.
    ///
    /// Called on a loop thread, the job counts as that loop's: the loop's test clock does not
    /// jump while it runs, and closing the loop waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::new();
    /// tulip::run(async move {
    ///     let contents = pool.spawn(|| std::fs::read_to_string("/definitely/not/here"));
    ///     assert!(contents.await.unwrap().is_err());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, f: F) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let tracker = context::try_with_core(|core| core.shared.clone());
        self.spawn_tracked(f, tracker)
    }

    pub(crate) fn spawn_tracked<F, T>(&self, f: F, tracker: Option<Arc<Shared>>) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(shared) = &tracker {
            shared.jobs.started();
        }
        let cell = Arc::new(JobCell {
            id: Id::next(),
            tracker,
            inner: Mutex::new(Inner {
                func: Some(f),
                output: None,
                waker: None,
                detached: false,
            }),
        });
        let task = BlockingTask { cell: cell.clone() };
        self.pool.submit(cell);
        task
    }

    /// Stops taking jobs; jobs already queued still run, then the threads exit. Jobs spawned
    /// afterwards fail at once with a cancelled [`JoinError`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = tulip::blocking::ThreadPool::new();
    /// pool.shutdown();
    /// tulip::run(async move {
    ///     assert!(pool.spawn(|| 1).await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn shutdown(&self) {
        self.pool.lock().shutdown = true;
        self.pool.work_ready.notify_all();
    }

    /// [`shutdown`](Self::shutdown), then waits (blocking this thread) until every job has run
    /// and every thread has exited, or until `timeout` passes. Returns whether they all did.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = tulip::blocking::ThreadPool::new();
    /// let job = pool.spawn(|| 2 + 2);
    /// assert!(pool.shutdown_and_wait(Duration::from_secs(60)));
    /// assert_eq!(pool.threads(), 0);
    /// # drop(job);
    /// ```
    pub fn shutdown_and_wait(&self, timeout: Duration) -> bool {
        self.shutdown();
        let state = self.pool.lock();
        let (state, _) = self
            .pool
            .all_exited
            .wait_timeout_while(state, timeout, |s| s.threads > 0)
            .unwrap_or_else(PoisonError::into_inner);
        state.threads == 0
    }
}

impl Default for ThreadPool {
    fn default() -> ThreadPool {
        ThreadPool::new()
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.pool.lock();
        f.debug_struct("ThreadPool")
            .field("name", &self.pool.name)
            .field("size", &self.pool.size)
            .field("threads", &state.threads)
            .field("queued", &state.queue.len())
            .finish()
    }
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn submit(self: &Arc<Self>, job: Arc<dyn Job>) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            job.abandon();
            return;
        }
        state.queue.push_back(job);
        if state.idle > state.wakeups {
            state.wakeups += 1;
            drop(state);
            self.work_ready.notify_one();
            return;
        }
        if state.threads >= self.size {
            return; // a busy worker takes it when it finishes
        }
        state.threads += 1;
        let number = state.next_thread;
        state.next_thread += 1;
        drop(state);
        self.start_thread(number);
    }

    fn start_thread(self: &Arc<Self>, number: usize) {
        let mut builder = std::thread::Builder::new().name(format!("{}-{number}", self.name));
        if let Some(bytes) = self.stack_size {
            builder = builder.stack_size(bytes);
        }
        let pool = self.clone();
        if let Err(err) = builder.spawn(move || pool.work()) {
            let mut state = self.lock();
            state.threads -= 1;
            if state.threads > 0 {
                return; // the queued job waits for a running worker
            }
            // No thread will ever run what is queued: fail it rather than hang its awaiter.
            let stranded: Vec<_> = state.queue.drain(..).collect();
            drop(state);
            crate::log::error(&format!(
                "thread pool `{}` could not start a thread: {err}",
                self.name
            ));
            stranded.into_iter().for_each(Job::abandon);
        }
    }

    fn work(self: Arc<Self>) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job.run();
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (woken, wait) = self
                .work_ready
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(PoisonError::into_inner);
            state = woken;
            state.idle -= 1;
            if state.wakeups > 0 {
                state.wakeups -= 1;
            } else if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        let last = state.threads == 0;
        drop(state);
        if last {
            self.all_exited.notify_all();
        }
    }
}

/// A job as the queue sees it: its function and result type erased.
trait Job: Send + Sync {
    fn run(self: Arc<Self>);
    /// The job will never run (its pool shut down, or could not start a thread).
    fn abandon(self: Arc<Self>);
}

/// One allocation per job: the function, then its result, and the awaiting task's waker.
struct JobCell<F, T> {
    id: Id,
    /// The loop that waits for this job, if it was spawned on one.
    tracker: Option<Arc<Shared>>,
    inner: Mutex<Inner<F, T>>,
}

struct Inner<F, T> {
    func: Option<F>,
    output: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
    /// The `BlockingTask` was dropped: nobody wants the output.
    detached: bool,
}

impl<F, T> JobCell<F, T> {
    fn lock(&self) -> MutexGuard<'_, Inner<F, T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn complete(&self, output: Result<T, JoinError>) {
        let mut inner = self.lock();
        let (unwanted, waker) = if inner.detached {
            (Some(output), None)
        } else {
            inner.output = Some(output);
            (None, inner.waker.take())
        };
        drop(inner);
        // Outside the lock: a result's destructor or a waker may do anything.
        drop(unwanted);
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(shared) = &self.tracker {
            shared.jobs.finished(shared);
        }
    }
}

impl<F, T> Job for JobCell<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(self: Arc<Self>) {
        let func = self.lock().func.take();
        let Some(func) = func else { return };
        let output = catch_unwind(AssertUnwindSafe(func))
            .map_err(|payload| JoinError::panic(self.id, payload).for_job());
        self.complete(output);
    }

    fn abandon(self: Arc<Self>) {
        let func = self.lock().func.take();
        drop(func);
        self.complete(Err(JoinError::cancelled(self.id).for_job()));
    }
}

/// The awaiting side of a thread-pool job: a future of `Result<T, JoinError>`.
///
/// Dropping it detaches the job, which still runs to the end; its result is then dropped on the
/// pool's thread.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let job = tulip::to_thread(|| "done on another thread");
///     assert_eq!(job.await.unwrap(), "done on another thread");
///
///     let err = tulip::to_thread(|| panic!("broken job")).await.unwrap_err();
///     assert_eq!(err.panic_message(), Some("broken job"));
/// });
/// ```
#[must_use = "a BlockingTask does nothing useful unless awaited; drop it to detach the job"]
pub struct BlockingTask<T> {
    cell: Arc<dyn Output<T>>,
}

/// The awaiting side's view of a job cell: its function type erased.
trait Output<T>: Send + Sync {
    fn poll_output(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn detach(&self);
    fn is_finished(&self) -> bool;
    fn id(&self) -> Id;
}

impl<F: Send, T: Send> Output<T> for JobCell<F, T> {
    fn poll_output(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut inner = self.lock();
        if let Some(output) = inner.output.take() {
            return Poll::Ready(output);
        }
        let replaced = match &inner.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => inner.waker.replace(cx.waker().clone()),
        };
        drop(inner);
        drop(replaced);
        Poll::Pending
    }

    fn detach(&self) {
        let mut inner = self.lock();
        inner.detached = true;
        let output = inner.output.take();
        let waker = inner.waker.take();
        drop(inner);
        drop((output, waker));
    }

    fn is_finished(&self) -> bool {
        let inner = self.lock();
        inner.func.is_none() && (inner.output.is_some() || inner.detached)
    }

    fn id(&self) -> Id {
        self.id
    }
}

impl<T> BlockingTask<T> {
    /// Whether the job has finished (its result is ready to be taken).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let job = tulip::to_thread(|| 7);
    ///     while !job.is_finished() {
    ///         tulip::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    ///     assert_eq!(job.await.unwrap(), 7);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.cell.is_finished()
    }

    /// The job's id (unique among tasks and jobs of the process).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let a = tulip::to_thread(|| ());
    ///     let b = tulip::to_thread(|| ());
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.cell.id()
    }
}

impl<T> Future for BlockingTask<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.cell.poll_output(cx)
    }
}

impl<T> Drop for BlockingTask<T> {
    fn drop(&mut self) {
        self.cell.detach();
    }
}

impl<T> fmt::Debug for BlockingTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingTask")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
