//! What can go wrong with a queue: asyncio's `QueueFull`, `QueueEmpty`, `QueueShutDown`, and
//! the `ValueError` of one `task_done()` too many. Errors about an item hand the item back.

use std::fmt;

/// [`put_nowait`](super::GenericQueue::put_nowait) could not add the item, which comes back
/// inside the error.
///
/// # Examples
///
/// ```
/// use tulip::queue::{Queue, TryPutError};
///
/// let q = Queue::with_maxsize(1);
/// q.put_nowait("a").unwrap();
/// assert_eq!(q.put_nowait("b"), Err(TryPutError::Full("b")));
/// q.shutdown(false);
/// let err = q.put_nowait("c").unwrap_err();
/// assert!(err.is_shutdown());
/// assert_eq!(err.into_inner(), "c");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items, or waiting `put()` calls are ahead in line
    /// (asyncio's `QueueFull`).
    Full(T),
    /// [`shutdown`](super::GenericQueue::shutdown) was called (asyncio's `QueueShutDown`).
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }

    /// The queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// The queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, TryPutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::ShutDown(_) => f.write_str("the queue is shut down"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// [`get_nowait`](super::GenericQueue::get_nowait) found no item.
///
/// # Examples
///
/// ```
/// use tulip::queue::{Queue, TryGetError};
///
/// let q = Queue::<u8>::new();
/// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is ready (asyncio's `QueueEmpty`). The queue may still hold items already
    /// promised to `get()` calls that were waiting.
    Empty,
    /// The queue is shut down and has no item left (asyncio's `QueueShutDown`).
    ShutDown,
}

impl TryGetError {
    /// No item was ready.
    pub fn is_empty(&self) -> bool {
        matches!(self, TryGetError::Empty)
    }

    /// The queue is shut down and drained.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, TryGetError::ShutDown)
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::ShutDown => f.write_str("the queue is shut down and empty"),
        }
    }
}

impl std::error::Error for TryGetError {}

/// The queue was shut down (asyncio's `QueueShutDown`). From [`put`](super::GenericQueue::put)
/// it carries the item that was not put; from [`get`](super::GenericQueue::get) it carries
/// `()`.
///
/// # Examples
///
/// ```
/// use tulip::queue::{Queue, QueueShutDown};
///
/// tulip::run(async {
///     let q = Queue::new();
///     q.shutdown(false);
///     assert_eq!(q.put(7).await, Err(QueueShutDown(7)));
///     assert_eq!(q.get().await, Err(QueueShutDown(())));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// [`task_done`](super::GenericQueue::task_done) was called more times than items were put
/// (asyncio raises `ValueError` here).
///
/// # Examples
///
/// ```
/// use tulip::queue::{Queue, TaskDoneError};
///
/// let q = Queue::new();
/// q.put_nowait(1).unwrap();
/// q.get_nowait().unwrap();
/// assert_eq!(q.task_done(), Ok(()));
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items put in the queue")
    }
}

impl std::error::Error for TaskDoneError {}
