//! [`CancelOnDrop`]: a task handle that cancels its task when dropped.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{JoinError, Task};

/// A [`Task`] handle that cancels its task when dropped, where a plain handle detaches it.
///
/// The combinators of this module cancel what they poll by dropping it; for a task handle
/// that only detaches the task. Wrapped in `CancelOnDrop`, tasks are cancelled with a dropped
/// [`gather_all`](super::gather_all), the losers of a
/// [`try_gather_all`](super::try_gather_all), or the task a
/// [`wait_for`](crate::time::wait_for) gave up on, as asyncio does with the tasks it is given.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::combine::CancelOnDrop;
///
/// tulip::run(async {
///     let task = tulip::spawn(std::future::pending::<()>());
///     let id = task.id();
///     let guarded = CancelOnDrop::new(task);
///     let timed_out = tulip::time::wait_for(Duration::from_millis(1), guarded).await;
///     assert!(timed_out.is_err());
///     tulip::task::yield_now().await;
///     assert!(tulip::task::all_tasks().iter().all(|t| t.id() != id)); // gone, not detached
/// });
/// ```
pub struct CancelOnDrop<T> {
    task: Option<Task<T>>,
}

impl<T> CancelOnDrop<T> {
    /// Wraps `task`.
    ///
    /// # Examples
    ///
    /// See [`CancelOnDrop`].
    pub fn new(task: Task<T>) -> CancelOnDrop<T> {
        CancelOnDrop { task: Some(task) }
    }

    /// The task handle.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let guarded = tulip::combine::CancelOnDrop::new(tulip::spawn(async {}));
    ///     assert!(!guarded.task().is_finished());
    /// });
    /// ```
    pub fn task(&self) -> &Task<T> {
        match &self.task {
            Some(task) => task,
            None => unreachable!("the task is only taken out by into_inner and Drop"),
        }
    }

    /// Unwraps the handle: dropping it afterwards detaches the task again.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let guarded = tulip::combine::CancelOnDrop::new(tulip::spawn(async { 5 }));
    ///     assert_eq!(guarded.into_inner().await.unwrap(), 5);
    /// });
    /// ```
    pub fn into_inner(mut self) -> Task<T> {
        match self.task.take() {
            Some(task) => task,
            None => unreachable!("the task is only taken out by into_inner and Drop"),
        }
    }
}

impl<T> From<Task<T>> for CancelOnDrop<T> {
    fn from(task: Task<T>) -> CancelOnDrop<T> {
        CancelOnDrop::new(task)
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.task {
            Some(task) => Pin::new(task).poll(cx),
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.cancel();
        }
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CancelOnDrop").field(&self.task).finish()
    }
}
