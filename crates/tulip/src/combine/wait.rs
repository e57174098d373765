//! [`wait`]: asyncio's `asyncio.wait(aws, timeout=, return_when=)`.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::set::FutureSet;
use crate::task::{Id, JoinError, Task};
use crate::time::{Sleep, sleep};

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any task finishes, however it finishes.
    FirstCompleted,
    /// As soon as any task panics (a panic is what escapes a task, as an exception escapes an
    /// asyncio task), or when all have finished. A task returning `Err(..)` has not failed in
    /// this sense: it returned a value. A task cancelled does not count either, as in asyncio.
    FirstException,
    /// When every task has finished.
    #[default]
    AllCompleted,
}

/// Waits for `tasks` until `return_when` is met or `timeout` passes, and returns
/// `(done, pending)`: asyncio's `done, pending = await asyncio.wait(tasks, timeout, return_when)`.
///
/// `done` holds the outcome of every task that finished (its result, or how it failed), and
/// `pending` the handles of those still running: they keep running and can be awaited, waited
/// on again, or cancelled. Both are in input order. With no tasks at all, both are empty at
/// once (asyncio raises `ValueError` there). A timeout does not cancel anything; it only ends
/// the wait, as in asyncio.
///
/// `done` is a list of [`Done`] outcomes rather than of task handles: awaiting a handle is
/// what takes its output out, and `wait` has already done that.
///
/// # Cancel safety
///
/// Dropping the future drops the task handles it holds, which detaches those tasks (they keep
/// running); the outcomes of tasks that had finished are dropped with it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::combine::{ReturnWhen, wait};
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let tasks: Vec<_> = [1u64, 2, 4]
///         .into_iter()
///         .map(|secs| {
///             tulip::spawn(async move {
///                 tulip::time::sleep(Duration::from_secs(secs)).await;
///                 format!("Done after {secs}s")
///             })
///         })
///         .collect();
///     let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
///     assert_eq!(done[0].result().unwrap(), "Done after 1s");
///     assert_eq!(pending.len(), 2);
///     let (done, pending) = wait(pending, ReturnWhen::AllCompleted, None).await;
///     assert_eq!((done.len(), pending.len()), (2, 0));
/// });
/// ```
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    let ids = tasks.iter().map(Task::id).collect();
    Wait {
        set: FutureSet::from_iter(tasks),
        ids,
        done: Vec::new(),
        return_when,
        timeout: timeout.map(sleep),
    }
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    set: FutureSet<Task<T>>,
    ids: Vec<Id>,
    done: Vec<Done<T>>,
    return_when: ReturnWhen,
    timeout: Option<Sleep>,
}

impl<T> Wait<T> {
    fn finish(&mut self) -> (Vec<Done<T>>, Vec<Task<T>>) {
        let mut done = std::mem::take(&mut self.done);
        done.sort_unstable_by_key(|d| d.index);
        let pending = self.set.take_live().into_iter().map(|(_, t)| t).collect();
        (done, pending)
    }
}

// Nothing in it is pinned: outputs and task handles are plain values.
impl<T> Unpin for Wait<T> {}

impl<T> Future for Wait<T> {
    type Output = (Vec<Done<T>>, Vec<Task<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let (ids, done, return_when) = (&this.ids, &mut this.done, this.return_when);
        // Every task seen finished in this turn goes into `done`, not just the first: asyncio
        // also reports all that are done by the time it returns.
        let mut met = false;
        let polled = this.set.poll_some(cx, |index, outcome| {
            met |= match return_when {
                ReturnWhen::FirstCompleted => true,
                ReturnWhen::FirstException => matches!(&outcome, Err(e) if e.is_panic()),
                ReturnWhen::AllCompleted => false,
            };
            done.push(Done {
                index,
                id: ids[index],
                outcome,
            });
            ControlFlow::Continue(())
        });
        if polled.is_ready() || met {
            return Poll::Ready(this.finish());
        }
        if let Some(timeout) = &mut this.timeout {
            if Pin::new(timeout).poll(cx).is_ready() {
                return Poll::Ready(this.finish());
            }
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.set.len())
            .field("done", &self.done.len())
            .field("return_when", &self.return_when)
            .field("timeout", &self.timeout.as_ref().map(Sleep::deadline))
            .finish()
    }
}

/// A task that [`wait`] saw finish, with its outcome: what asyncio's `task.result()` /
/// `task.exception()` read from a task in the `done` set.
///
/// # Examples
///
/// ```
/// use tulip::combine::{ReturnWhen, wait};
///
/// tulip::run(async {
///     let task = tulip::spawn(async { 7 });
///     let id = task.id();
///     let (done, _) = wait([task], ReturnWhen::AllCompleted, None).await;
///     assert_eq!((done[0].index(), done[0].id()), (0, id));
///     assert_eq!(done[0].result().ok(), Some(&7));
/// });
/// ```
pub struct Done<T> {
    index: usize,
    id: Id,
    outcome: Result<T, JoinError>,
}

impl<T> Done<T> {
    /// The task's position in the list given to [`wait`].
    ///
    /// # Examples
    ///
    /// See [`Done`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// See [`Done`].
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's output, or how it failed (asyncio's `task.result()`).
    ///
    /// # Errors
    ///
    /// The [`JoinError`] when the task panicked or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::combine::{ReturnWhen, wait};
    ///
    /// tulip::run(async {
    ///     let (done, _) = wait([tulip::spawn(async { panic!("no") })], ReturnWhen::AllCompleted, None).await;
    ///     assert!(done[0].result().unwrap_err().is_panic());
    /// });
    /// ```
    pub fn result(&self) -> Result<&T, &JoinError> {
        self.outcome.as_ref()
    }

    /// The task's output, or how it failed, by value.
    ///
    /// # Errors
    ///
    /// The [`JoinError`] when the task panicked or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::combine::{ReturnWhen, wait};
    ///
    /// tulip::run(async {
    ///     let (done, _) = wait([tulip::spawn(async { 1 })], ReturnWhen::AllCompleted, None).await;
    ///     let values: Vec<i32> = done.into_iter().map(|d| d.into_result().unwrap()).collect();
    ///     assert_eq!(values, [1]);
    /// });
    /// ```
    pub fn into_result(self) -> Result<T, JoinError> {
        self.outcome
    }
}

impl<T: fmt::Debug> fmt::Debug for Done<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("index", &self.index)
            .field("id", &self.id)
            .field("outcome", &self.outcome)
            .finish()
    }
}
