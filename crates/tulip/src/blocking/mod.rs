//! Blocking work off the loop: asyncio's `to_thread` and `run_in_executor`.
//!
//! A blocking call (a file read, a DNS lookup, a C library) or a long computation would stop
//! every task of the loop while it runs. Hand it to a thread instead and await the result.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `await asyncio.to_thread(f)` | [`to_thread(f)`](to_thread)`.await` (the loop's default pool) |
//! | `loop.run_in_executor(pool, f)` | [`Handle::run_in_executor(&pool, f)`](crate::runtime::Handle::run_in_executor), or [`ThreadPool::spawn`] |
//! | `ThreadPoolExecutor(max_workers=…)` | [`ThreadPool::builder()`](ThreadPool::builder) |
//! | `ProcessPoolExecutor` for CPU-bound work | [`ThreadPool::cpu()`](ThreadPool::cpu): Rust has no GIL, threads run in parallel |
//! | `loop.shutdown_default_executor()` | done by [`Runtime::close`](crate::Runtime::close) and [`run`](crate::run) |
//!
//! A job that panics gives a [`JoinError`](crate::JoinError); the loop carries on. Dropping the
//! [`BlockingTask`] (say, because a `wait_for` timed out) does not stop the thread: the job
//! finishes and its result is dropped. Closing a loop waits for the jobs it started.
//!
//! ```
//! use std::time::Duration;
//! use tulip::blocking::ThreadPool;
//!
//! tulip::run(async {
//!     // Blocking I/O on the default pool, CPU work on the CPU pool, all at once.
//!     let io = tulip::to_thread(|| std::thread::sleep(Duration::from_millis(20)));
//!     let cpu = ThreadPool::cpu().spawn(|| (0..1_000_000u64).sum::<u64>());
//!     let (io, cpu) = tulip::gather!(io, cpu).await;
//!     io.unwrap();
//!     assert_eq!(cpu.unwrap(), 499_999_500_000);
//! });
//! ```

mod pool;
pub(crate) mod tracker;

pub(crate) use pool::default_size;
pub use pool::{BlockingTask, Builder, ThreadPool};

use crate::runtime::context;

/// Runs `f` on the current loop's default thread pool and resolves to its result:
/// asyncio's `asyncio.to_thread`.
///
/// The default pool has `min(32, cpus + 4)` threads (set it with
/// [`runtime::Builder::thread_pool_size`](crate::runtime::Builder::thread_pool_size)); they
/// start on demand and exit after 10 s idle. A panic in `f` comes back as a
/// [`JoinError`](crate::JoinError).
///
/// # Panics
///
/// When called outside a tulip loop (use [`ThreadPool::spawn`] there).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let len = tulip::to_thread(|| std::fs::read("Cargo.toml").map(|b| b.len()));
///     assert!(len.await.unwrap().unwrap() > 0);
/// });
/// ```
#[track_caller]
pub fn to_thread<F, T>(f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match context::try_with_core(|core| core.shared.clone()) {
        Some(shared) => shared.default_pool().clone().spawn_tracked(f, Some(shared)),
        None => panic!("tulip::to_thread must be called from a task running on a tulip loop"),
    }
}
