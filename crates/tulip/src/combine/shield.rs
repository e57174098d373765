//! [`shield`]: asyncio's `asyncio.shield(aw)`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{JoinError, Task};

/// Runs `future` so that cancelling whoever awaits it does not cancel it: asyncio's
/// `await asyncio.shield(aw)`.
///
/// The future is spawned as a task of its own, now, and the returned [`Shield`] awaits that
/// task. Dropping the `Shield` (the awaiting side was cancelled, or a timeout gave up on it)
/// leaves the task running to completion. To keep the result retrievable after a timeout or a
/// race, await the shield by reference, `(&mut shield).await` or `wait_for(d, &mut shield)`,
/// and await it again later; a `Shield` is [`Unpin`], so `&mut Shield` is a future too.
///
/// Awaiting gives `Err(JoinError)` only if the inner work panicked or was cancelled directly
/// (through [`Shield::task`], or by the loop closing).
///
/// # Panics
///
/// Outside a tulip runtime, as [`spawn`](crate::spawn).
///
/// # Cancel safety
///
/// That is the point: dropping a `Shield` never stops the work.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{sleep, wait_for};
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let mut save = tulip::shield(async {
///         sleep(Duration::from_secs(5)).await;
///         "saved"
///     });
///     // The caller gives up after one second; the work carries on...
///     assert!(wait_for(Duration::from_secs(1), &mut save).await.is_err());
///     // ...and its result is still there to collect.
///     assert_eq!(save.await.unwrap(), "saved");
/// });
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: IntoFuture,
    F::IntoFuture: 'static,
    F::Output: 'static,
{
    Shield {
        task: crate::spawn(future.into_future()),
    }
}

/// The handle returned by [`shield`]: a future of the shielded work's outcome that can be
/// dropped without stopping the work.
#[must_use = "dropping a Shield does not stop the work; await it to get its result"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Shield<T> {
    /// The shielded work has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut s = tulip::shield(async { 1 });
    ///     assert!(!s.is_finished());
    ///     assert_eq!((&mut s).await.unwrap(), 1);
    ///     assert!(s.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// The task running the shielded work, e.g. to cancel it after all.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let s = tulip::shield(std::future::pending::<()>());
    ///     s.task().cancel();
    ///     assert!(s.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn task(&self) -> &Task<T> {
        &self.task
    }

    /// The task running the shielded work.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::shield(async { 2 }).into_task();
    ///     assert_eq!(task.await.unwrap(), 2);
    /// });
    /// ```
    pub fn into_task(self) -> Task<T> {
        self.task
    }
}

/// Shields work already running as a task.
impl<T> From<Task<T>> for Shield<T> {
    fn from(task: Task<T>) -> Shield<T> {
        Shield { task }
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shield").field(&self.task).finish()
    }
}
