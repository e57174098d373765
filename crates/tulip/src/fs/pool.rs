//! Where file jobs run, and how their results come back.
//!
//! On a loop thread a job goes to the loop's default pool (what [`to_thread`](crate::to_thread)
//! uses), so the loop's test clock does not jump while it runs and closing the loop waits for
//! it. Off a loop (a `File` dropped after its loop closed, or polled by another executor) it
//! goes to one process-wide pool, so `tulip::fs` never panics for lack of a loop.

use std::future::Future;
use std::io;
use std::panic;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use super::error::pool_gone;
use crate::blocking::{BlockingTask, ThreadPool};
use crate::runtime::context;
use crate::task::JoinError;

/// Runs `f` on the current loop's default pool, or on the fallback pool off a loop.
pub(crate) fn spawn<F, T>(f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match context::try_with_core(|core| core.shared.clone()) {
        Some(shared) => shared.default_pool().clone().spawn_tracked(f, Some(shared)),
        None => fallback().spawn(f),
    }
}

fn fallback() -> &'static ThreadPool {
    static POOL: OnceLock<ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| ThreadPool::builder().name("tulip-fs").build())
}

/// A job's output, or the reason it has none.
///
/// A panic is resumed on the awaiting task: the jobs of this module only call `std::fs`, which
/// does not panic, so a panic here is a bug worth seeing with its own message and backtrace,
/// not an I/O error to handle. A job the pool never ran (it shut down) is an I/O error.
pub(crate) fn output<T>(result: Result<T, JoinError>) -> io::Result<T> {
    match result {
        Ok(value) => Ok(value),
        Err(err) => match err.try_into_panic() {
            Ok(payload) => panic::resume_unwind(payload),
            Err(_cancelled) => Err(pool_gone()),
        },
    }
}

/// Runs `f` on a pool thread and awaits its `io::Result`.
pub(crate) async fn run<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    output(spawn(f).await)?
}

/// Blocks this (non-loop) thread until `task` finishes. Used only where no loop can wait: a
/// dropped `File`'s last job, which must run after the job before it.
pub(crate) fn wait<T>(mut task: BlockingTask<T>) -> Result<T, JoinError> {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = Pin::new(&mut task).poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Whether this thread is running a tulip loop (whose close waits for the jobs it starts).
pub(crate) fn on_loop() -> bool {
    context::is_set()
}
