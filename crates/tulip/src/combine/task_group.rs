//! [`TaskGroup`]: structured concurrency, asyncio's `async with asyncio.TaskGroup() as tg`.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::set::FutureSet;
use crate::task::{Id, JoinError, Task};

/// A group of tasks that succeed or fail together (asyncio's `TaskGroup`, trio's nursery).
///
/// Children are futures returning `Result<T, E>`. A child *fails* when it returns `Err`, or
/// when it panics. At the first failure the group cancels every other child, waits for them
/// to unwind, and [`join`](TaskGroup::join) returns a [`GroupError`] listing every failure
/// (children that failed before the cancellation reached them are listed too: asyncio's
/// `ExceptionGroup`). Children cancelled by the group are not failures. Without a failure,
/// `join` returns every child's value, in spawn order.
///
/// No child outlives the group: dropping the group, or the future of `join` (its task was
/// cancelled, or a timeout gave up on it), cancels every child still running. Cancellation
/// drops each child's future at its next turn of the loop; when `join` returns, every child
/// has finished.
///
/// The children are tasks: they run concurrently from the moment they are spawned, whether
/// or not `join` is being awaited yet. Only the group's owner spawns into it (asyncio also lets
/// a child call `tg.create_task`); a child that needs children of its own makes a group of its
/// own and joins it, which keeps the tree of tasks visible in the code.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::TaskGroup;
/// use tulip::time::sleep;
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let mut group = TaskGroup::new();
///     group.spawn(async { sleep(Duration::from_secs(1)).await; Ok(1) });
///     group.spawn(async { sleep(Duration::from_secs(2)).await; Err("disk full") });
///     group.spawn(async { sleep(Duration::from_secs(3600)).await; Ok(3) }); // cancelled at 2 s
///     let err = group.join().await.unwrap_err();
///     assert_eq!(err.failures().len(), 1);
///     assert_eq!(err.failures()[0].child(), 1);
///     assert_eq!(err.failures()[0].error(), Some(&"disk full"));
///     assert!(tulip::task::all_tasks().is_empty());
/// });
/// ```
pub struct TaskGroup<T, E> {
    children: FutureSet<Task<Result<T, E>>>,
    ids: Vec<Id>,
}

impl<T: 'static, E: 'static> TaskGroup<T, E> {
    /// An empty group.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = tulip::TaskGroup::<(), ()>::new();
    /// assert!(group.is_empty());
    /// ```
    pub fn new() -> TaskGroup<T, E> {
        TaskGroup {
            children: FutureSet::new(),
            ids: Vec::new(),
        }
    }

    /// Spawns `future` as a child of the group (asyncio's `tg.create_task`) and returns its
    /// task id. It starts running at the loop's next turn.
    ///
    /// # Panics
    ///
    /// Outside a tulip runtime, as [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut group = tulip::TaskGroup::<_, ()>::new();
    ///     group.spawn(async { Ok(1) });
    ///     group.spawn(async { Ok(2) });
    ///     assert_eq!(group.join().await.unwrap(), [1, 2]);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> Id
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let task = crate::spawn(future);
        let id = task.id();
        self.children.push(task);
        self.ids.push(id);
        id
    }

    /// Children spawned so far.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut group = tulip::TaskGroup::<(), ()>::new();
    ///     group.spawn(async { Ok(()) });
    ///     assert_eq!(group.len(), 1);
    /// #   group.join().await.unwrap();
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// No child was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tulip::TaskGroup::<(), ()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.children.len() == 0
    }

    /// Waits for every child (the end of asyncio's `async with` block): their values in spawn
    /// order, or every failure if any child failed (the others having been cancelled).
    ///
    /// # Errors
    ///
    /// A [`GroupError`] listing each child that returned `Err`, panicked, or was cancelled by
    /// something other than the group.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels every child still running.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut group = tulip::TaskGroup::<u8, String>::new();
    ///     group.spawn(async { Err("a".to_owned()) });
    ///     group.spawn(async { panic!("b") });
    ///     let err = group.join().await.unwrap_err();
    ///     assert_eq!(err.failures().len(), 2); // both reported
    /// });
    /// ```
    pub fn join(self) -> Join<T, E> {
        let values = std::iter::repeat_with(|| None)
            .take(self.children.len())
            .collect();
        Join {
            group: self,
            values,
            failures: Vec::new(),
            cancelling: false,
        }
    }
}

impl<T: 'static, E: 'static> Default for TaskGroup<T, E> {
    fn default() -> TaskGroup<T, E> {
        TaskGroup::new()
    }
}

impl<T, E> TaskGroup<T, E> {
    fn cancel_all(&self) {
        for (_, task) in self.children.iter_live() {
            task.cancel();
        }
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("children", &self.children.len())
            .field("running", &self.children.live())
            .finish()
    }
}

/// The future returned by [`TaskGroup::join`].
#[must_use = "futures do nothing unless awaited; dropping this cancels the group's children"]
pub struct Join<T, E> {
    group: TaskGroup<T, E>,
    values: Vec<Option<T>>,
    failures: Vec<Failure<E>>,
    /// The group has cancelled its children after a failure.
    cancelling: bool,
}

// Nothing in it is pinned: outputs and task handles are plain values.
impl<T, E> Unpin for Join<T, E> {}

impl<T: 'static, E: 'static> Future for Join<T, E> {
    type Output = Result<Vec<T>, GroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let (ids, values, failures) = (&this.group.ids, &mut this.values, &mut this.failures);
            let cancelling = this.cancelling;
            let polled = this.group.children.poll_some(cx, |child, outcome| {
                match outcome {
                    Ok(Ok(value)) => values[child] = Some(value),
                    Ok(Err(error)) => failures.push(Failure::Error {
                        child,
                        id: ids[child],
                        error,
                    }),
                    // Cancelled by us after a sibling failed: not a failure of its own.
                    Err(error) if cancelling && error.is_cancelled() => {}
                    Err(error) => failures.push(Failure::Join { child, error }),
                }
                ControlFlow::Continue(())
            });
            if !this.failures.is_empty() && !this.cancelling {
                // The first failure: cancel the rest, then wait for them to unwind.
                this.cancelling = true;
                this.group.cancel_all();
                continue;
            }
            std::task::ready!(polled);
            if this.failures.is_empty() {
                let values = std::mem::take(&mut this.values);
                return Poll::Ready(Ok(values.into_iter().flatten().collect()));
            }
            let failures = std::mem::take(&mut this.failures);
            return Poll::Ready(Err(GroupError { failures }));
        }
    }
}

impl<T, E> fmt::Debug for Join<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("group", &self.group)
            .field("failures", &self.failures.len())
            .field("cancelling", &self.cancelling)
            .finish()
    }
}

/// How one child of a [`TaskGroup`] failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// The child returned `Err(error)`.
    Error {
        /// The child's position in spawn order.
        child: usize,
        /// The child's task id.
        id: Id,
        /// What it returned.
        error: E,
    },
    /// The child panicked, or was cancelled by something other than the group (the loop
    /// closing); `error` says which.
    Join {
        /// The child's position in spawn order.
        child: usize,
        /// The panic or the cancellation.
        error: JoinError,
    },
}

impl<E> Failure<E> {
    /// The child's position in spawn order.
    ///
    /// # Examples
    ///
    /// See [`TaskGroup`].
    pub fn child(&self) -> usize {
        match self {
            Failure::Error { child, .. } | Failure::Join { child, .. } => *child,
        }
    }

    /// The child's task id.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut group = tulip::TaskGroup::<(), ()>::new();
    ///     let id = group.spawn(async { Err(()) });
    ///     assert_eq!(group.join().await.unwrap_err().failures()[0].id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        match self {
            Failure::Error { id, .. } => *id,
            Failure::Join { error, .. } => error.id(),
        }
    }

    /// The error the child returned, if that is how it failed.
    ///
    /// # Examples
    ///
    /// See [`TaskGroup`].
    pub fn error(&self) -> Option<&E> {
        match self {
            Failure::Error { error, .. } => Some(error),
            Failure::Join { .. } => None,
        }
    }

    /// The child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut group = tulip::TaskGroup::<(), ()>::new();
    ///     group.spawn(async { panic!("oops") });
    ///     assert!(group.join().await.unwrap_err().failures()[0].is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, Failure::Join { error, .. } if error.is_panic())
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error { child, error, .. } => write!(f, "child {child} failed: {error}"),
            Failure::Join { child, error } => write!(f, "child {child}: {error}"),
        }
    }
}

/// Every failure of a [`TaskGroup`]'s children, in the order they happened (asyncio's
/// `ExceptionGroup`).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let mut group = tulip::TaskGroup::<(), &str>::new();
///     group.spawn(async { Err("no route") });
///     let err = group.join().await.unwrap_err();
///     assert_eq!(err.to_string(), "1 task of the group failed: child 0 failed: no route");
/// });
/// ```
#[derive(Debug)]
pub struct GroupError<E> {
    failures: Vec<Failure<E>>,
}

impl<E> GroupError<E> {
    /// The failures, in the order they happened; never empty.
    ///
    /// # Examples
    ///
    /// See [`TaskGroup`].
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The failures, by value.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut group = tulip::TaskGroup::<(), u8>::new();
    ///     group.spawn(async { Err(7) });
    ///     let failures = group.join().await.unwrap_err().into_failures();
    ///     assert_eq!(failures[0].error(), Some(&7));
    /// });
    /// ```
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        let tasks = if n == 1 { "task" } else { "tasks" };
        write!(f, "{n} {tasks} of the group failed")?;
        for (i, failure) in self.failures.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{failure}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}
