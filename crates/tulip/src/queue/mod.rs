//! Queues between tasks: asyncio's `Queue`, `LifoQueue` and `PriorityQueue`, with `maxsize`,
//! the `*_nowait` calls, `task_done` / `join` and 3.13's `shutdown`.
//!
//! A queue is a cheap handle: clone it to give producers and consumers their own. The handles
//! may be on one loop or on several loops on different threads (a queue is `Send` and `Sync`
//! when its items are `Send`): one mutex guards the queue's state, held for a few instructions
//! per call, so on one loop it is never contended.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `Queue()`, `Queue(maxsize=n)` | [`Queue::new`](GenericQueue::new), [`Queue::with_maxsize`](GenericQueue::with_maxsize) |
//! | `LifoQueue`, `PriorityQueue` (smallest first) | [`LifoQueue`], [`PriorityQueue`] |
//! | `await q.put(x)`, `q.put_nowait(x)` → `QueueFull` | [`put`](GenericQueue::put), [`put_nowait`](GenericQueue::put_nowait) → [`TryPutError::Full`]`(x)` |
//! | `await q.get()`, `q.get_nowait()` → `QueueEmpty` | [`get`](GenericQueue::get), [`get_nowait`](GenericQueue::get_nowait) → [`TryGetError::Empty`] |
//! | `q.task_done()` → `ValueError`, `await q.join()` | [`task_done`](GenericQueue::task_done) → [`TaskDoneError`], [`join`](GenericQueue::join) |
//! | `q.shutdown(immediate)` → `QueueShutDown` | [`shutdown`](GenericQueue::shutdown) (returns what it discarded) → [`QueueShutDown`] |
//! | `qsize()`, `empty()`, `full()`, `maxsize` | [`qsize`](GenericQueue::qsize), [`is_empty`](GenericQueue::is_empty), [`is_full`](GenericQueue::is_full), [`maxsize`](GenericQueue::maxsize) |
//!
//! Waiters are served in arrival order, and cancelling (dropping) a `get` or `put` half-way
//! neither loses nor duplicates an item: see the `# Cancel safety` sections.
//!
//! ```
//! use tulip::queue::Queue;
//!
//! tulip::run(async {
//!     let q = Queue::new();
//!     let consumer = tulip::spawn({
//!         let q = q.clone();
//!         async move {
//!             let mut total = 0;
//!             while let Ok(n) = q.get().await {
//!                 total += n;
//!                 q.task_done().unwrap();
//!             }
//!             total
//!         }
//!     });
//!     for n in 1..=4 {
//!         q.put(n).await.unwrap();
//!     }
//!     q.join().await; // every item got and marked done
//!     q.shutdown(false); // the consumer's next `get` fails, ending its loop
//!     assert_eq!(consumer.await.unwrap(), 10);
//! });
//! ```

mod error;
mod future;
mod order;
mod state;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};
pub use order::{Fifo, Lifo, Order, Priority};

use future::{Get, Join, Put};
use order::sealed::Sealed;
use state::State;

/// A first-in, first-out queue: asyncio's `Queue`. All its methods are on [`GenericQueue`].
///
/// # Examples
///
/// ```
/// let q = tulip::queue::Queue::new();
/// for n in [3, 1, 2] {
///     q.put_nowait(n).unwrap();
/// }
/// let order: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
/// assert_eq!(order, [3, 1, 2]);
/// ```
pub type Queue<T> = GenericQueue<T, Fifo>;

/// A last-in, first-out queue (a stack): asyncio's `LifoQueue`. All its methods are on
/// [`GenericQueue`].
///
/// # Examples
///
/// ```
/// let q = tulip::queue::LifoQueue::new();
/// for n in [3, 1, 2] {
///     q.put_nowait(n).unwrap();
/// }
/// let order: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
/// assert_eq!(order, [2, 1, 3]);
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo>;

/// A queue that serves its smallest item first: asyncio's `PriorityQueue` (a min-heap, like
/// `heapq`). Put `(priority, data)` tuples to order by priority; wrap items in
/// [`std::cmp::Reverse`] for largest first. All its methods are on [`GenericQueue`].
///
/// # Examples
///
/// ```
/// let q = tulip::queue::PriorityQueue::new();
/// for job in [(2, "write"), (0, "wake up"), (1, "coffee")] {
///     q.put_nowait(job).unwrap();
/// }
/// let order: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).map(|(_, what)| what).collect();
/// assert_eq!(order, ["wake up", "coffee", "write"]);
/// ```
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

type StoreOf<T, O> = <O as Sealed<T>>::Store;

/// What every handle of one queue points to.
struct Shared<T, O: Order<T>> {
    state: Mutex<State<T, StoreOf<T, O>>>,
}

impl<T, O: Order<T>> Shared<T, O> {
    fn lock(&self) -> MutexGuard<'_, State<T, StoreOf<T, O>>> {
        // Nothing in this module panics while holding the lock, so a poisoned lock can only
        // come from an item's own `Ord` panicking inside a priority queue's heap; the heap
        // stays a valid container, so carry on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A queue whose items come out in order `O`: use it as [`Queue`], [`LifoQueue`] or
/// [`PriorityQueue`].
///
/// A `GenericQueue` is a handle: [`clone`](Clone::clone) it for every task (or thread) that
/// uses the queue; all clones are the same queue.
pub struct GenericQueue<T, O: Order<T>> {
    shared: Arc<Shared<T, O>>,
}

impl<T, O: Order<T>> GenericQueue<T, O> {
    /// An unbounded queue (asyncio's `Queue()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::<String>::new();
    /// assert_eq!(q.maxsize(), 0);
    /// assert!(q.is_empty() && !q.is_full());
    /// ```
    pub fn new() -> Self {
        Self::with_maxsize(0)
    }

    /// A queue that holds at most `maxsize` items: `put` waits while it is full. As in
    /// asyncio, `maxsize == 0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::with_maxsize(2);
    /// q.put_nowait('a').unwrap();
    /// q.put_nowait('b').unwrap();
    /// assert!(q.is_full());
    /// assert!(q.put_nowait('c').unwrap_err().is_full());
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Self {
        GenericQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State::new(maxsize)),
            }),
        }
    }

    /// The most items the queue holds; 0 when unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::queue::LifoQueue::<u8>::with_maxsize(5).maxsize(), 5);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.shared.lock().maxsize
    }

    /// How many items are in the queue (asyncio's `qsize()`).
    ///
    /// An item handed to a `get()` that was waiting counts until that task runs and takes it,
    /// as it does in asyncio; such an item is promised, so `get_nowait` cannot take it.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::new();
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// assert_eq!(q.qsize(), 2);
    /// ```
    pub fn qsize(&self) -> usize {
        self.shared.lock().qsize()
    }

    /// No item in the queue (asyncio's `empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::new();
    /// assert!(q.is_empty());
    /// q.put_nowait(()).unwrap();
    /// assert!(!q.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.qsize() == 0
    }

    /// No room for another item: [`put_nowait`](Self::put_nowait) would fail with
    /// [`TryPutError::Full`] (asyncio's `full()`). A slot already promised to a waiting `put()`
    /// counts as taken. Never true for an unbounded queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::with_maxsize(1);
    /// assert!(!q.is_full());
    /// q.put_nowait(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.shared.lock().is_full()
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::<u8>::new();
    /// q.shutdown(false);
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared.lock().shutdown
    }

    /// Puts `item` in the queue, waiting for a free slot while the queue is full. Putters that
    /// wait are served in arrival order.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`] with the item if the queue is shut down, before or while waiting.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If it is dropped before completing, the item was not put
    /// (it is dropped with the future), and it is never put twice. A slot that had been
    /// promised to it goes to the next waiting `put()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::queue::Queue;
    ///
    /// tulip::run(async {
    ///     let q = Queue::with_maxsize(1);
    ///     q.put("first").await.unwrap();
    ///     let producer = tulip::spawn({
    ///         let q = q.clone();
    ///         async move { q.put("second").await.unwrap() } // waits: the queue is full
    ///     });
    ///     assert_eq!(q.get().await, Ok("first"));
    ///     producer.await.unwrap();
    ///     assert_eq!(q.get().await, Ok("second"));
    /// });
    /// ```
    pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
        Put {
            shared: &self.shared,
            item: Some(item),
            key: None,
        }
        .await
    }

    /// Puts `item` in the queue if there is room now.
    ///
    /// # Errors
    ///
    /// Hands the item back in [`TryPutError::Full`] when the queue is full (or every free slot
    /// is promised to a waiting `put()`), in [`TryPutError::ShutDown`] when it is shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::queue::{Queue, TryPutError};
    ///
    /// let q = Queue::with_maxsize(1);
    /// assert_eq!(q.put_nowait(1), Ok(()));
    /// assert_eq!(q.put_nowait(2), Err(TryPutError::Full(2)));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut state = self.shared.lock();
        let woken = state.try_put(item)?;
        drop(state);
        crate::sync::waiters::wake(woken);
        Ok(())
    }

    /// Takes the next item, waiting while the queue is empty. Getters that wait are served
    /// in arrival order: each item put goes to the getter that has waited longest.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`] once the queue is shut down and has no item left (items still in it
    /// at a non-immediate shutdown can still be got).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If it is dropped before completing, no item is lost: an
    /// item already handed to it goes to the next waiting `get()`, or back to the front of
    /// the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::queue::Queue;
    ///
    /// tulip::run(async {
    ///     let q = Queue::new();
    ///     let consumer = tulip::spawn({
    ///         let q = q.clone();
    ///         async move { q.get().await.unwrap() } // waits for the put below
    ///     });
    ///     tulip::task::yield_now().await;
    ///     q.put_nowait("item").unwrap();
    ///     assert_eq!(consumer.await.unwrap(), "item");
    /// });
    /// ```
    pub async fn get(&self) -> Result<T, QueueShutDown> {
        Get {
            shared: &self.shared,
            key: None,
        }
        .await
    }

    /// Takes the next item if one is free now.
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`] when no item is free (items handed to waiting `get()` calls are
    /// not), [`TryGetError::ShutDown`] when the queue is also shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::queue::{Queue, TryGetError};
    ///
    /// let q = Queue::new();
    /// q.put_nowait(5).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(5));
    /// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    /// ```
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        let mut state = self.shared.lock();
        let (item, granted) = state.try_get()?;
        drop(state);
        crate::sync::waiters::wake(granted);
        Ok(item)
    }

    /// Marks one item got earlier as processed. Each successful put adds one to the count of
    /// unfinished items; each `task_done` takes one away; when it reaches zero, every
    /// [`join`](Self::join) waiting returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] when called more times than items were put; the count stays at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = tulip::queue::Queue::new();
    /// q.put_nowait("job").unwrap();
    /// let _job = q.get_nowait().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.shared.lock();
        if state.task_done()? {
            let mut wake = Vec::new();
            state.release_joiners(&mut wake);
            drop(state);
            wake.into_iter().for_each(std::task::Waker::wake);
        }
        Ok(())
    }

    /// Waits until every item put has been marked done with [`task_done`](Self::task_done).
    /// Returns at once if none is unfinished. A `join` that saw the count reach zero returns
    /// even if new items arrive before it runs.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it changes nothing in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::queue::Queue;
    ///
    /// tulip::run(async {
    ///     let q = Queue::new();
    ///     q.put_nowait(1).unwrap();
    ///     let worker = tulip::spawn({
    ///         let q = q.clone();
    ///         async move {
    ///             q.get().await.unwrap();
    ///             q.task_done().unwrap();
    ///         }
    ///     });
    ///     q.join().await;
    ///     assert!(q.is_empty());
    ///     worker.await.unwrap();
    /// });
    /// ```
    pub async fn join(&self) {
        Join {
            shared: &self.shared,
            key: None,
        }
        .await
    }

    /// Shuts the queue down (asyncio 3.13's `shutdown`): from now on `put` and `put_nowait`
    /// fail with [`QueueShutDown`] / [`TryPutError::ShutDown`], waiting putters included; `get`
    /// keeps returning the items left and then fails, waiting getters included.
    ///
    /// With `immediate`, the items left are discarded at once: they are returned (in the
    /// order `get` would have served them) and taken off the unfinished count, so `join`
    /// callers return when nothing else is pending. Items already handed to a waiting `get()`
    /// still reach it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::queue::Queue;
    ///
    /// let q = Queue::new();
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// assert_eq!(q.shutdown(true), [1, 2]);
    /// assert!(q.is_empty());
    /// assert!(q.put_nowait(3).unwrap_err().is_shutdown());
    /// ```
    pub fn shutdown(&self, immediate: bool) -> Vec<T> {
        let mut wake = Vec::new();
        let mut state = self.shared.lock();
        let discarded = state.shutdown(immediate, &mut wake);
        drop(state);
        wake.into_iter().for_each(std::task::Waker::wake);
        discarded
    }
}

impl<T, O: Order<T>> Clone for GenericQueue<T, O> {
    /// Another handle on the same queue.
    fn clone(&self) -> Self {
        GenericQueue {
            shared: self.shared.clone(),
        }
    }
}

impl<T, O: Order<T>> Default for GenericQueue<T, O> {
    /// An unbounded queue.
    fn default() -> Self {
        Self::new()
    }
}

impl<T, O: Order<T>> fmt::Debug for GenericQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct(<O as Sealed<T>>::NAME)
            .field("maxsize", &state.maxsize)
            .field("qsize", &state.qsize())
            .field("unfinished", &state.unfinished)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>(_: &T) {}

    #[test]
    fn handles_are_send_and_sync_for_send_items() {
        assert_send_sync(&Queue::<String>::new());
        assert_send_sync(&PriorityQueue::<u8>::new());
        let q = LifoQueue::<Vec<u8>>::new();
        assert_send_sync(&q);
        assert_send_sync(&q.get());
        assert_send_sync(&q.put(vec![]));
        assert_send_sync(&q.join());
    }

    #[test]
    fn debug_names_the_kind_and_counts() {
        let q = PriorityQueue::with_maxsize(3);
        q.put_nowait(1).unwrap();
        assert_eq!(
            format!("{q:?}"),
            "PriorityQueue { maxsize: 3, qsize: 1, unfinished: 1, getters: 0, putters: 0, \
             shutdown: false }"
        );
        assert!(format!("{:?}", Queue::<()>::new()).starts_with("Queue {"));
        assert!(format!("{:?}", LifoQueue::<()>::new()).starts_with("LifoQueue {"));
    }

    #[test]
    fn store_len_matches_qsize_without_waiters() {
        let q = Queue::new();
        q.put_nowait(1).unwrap();
        let stored = q.shared.lock().store.len();
        assert_eq!(stored, q.qsize());
    }
}
