//! asyncio's `Barrier`: tasks wait until a set number of them have arrived.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitList, store_waker};

/// Waits until `parties` tasks have called [`wait`](Barrier::wait), then lets them all go
/// (asyncio's `Barrier`, 3.11+). The barrier is reusable: the next `parties` arrivals form the
/// next round.
///
/// [`abort`](Barrier::abort) breaks it: waiting and later calls fail with [`BrokenBarrier`]
/// until [`reset`](Barrier::reset), which also fails the tasks waiting at that moment.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use tulip::sync::Barrier;
///
/// tulip::run(async {
///     let barrier = Rc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             tulip::spawn(async move { barrier.wait().await.unwrap() })
///         })
///         .collect();
///     let mut indexes = Vec::new();
///     for task in tasks {
///         indexes.push(task.await.unwrap());
///     }
///     assert_eq!(indexes, [0, 1, 2], "each task learns its arrival index");
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    broken: bool,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    waker: Option<Waker>,
    /// Set when the waiter is served: its arrival index, or the barrier broke.
    outcome: Result<usize, BrokenBarrier>,
}

/// The barrier was aborted or reset while the task waited, or is still broken (asyncio's
/// `BrokenBarrierError`).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let barrier = tulip::sync::Barrier::new(2);
///     barrier.abort();
///     assert_eq!(barrier.wait().await, Err(tulip::sync::BrokenBarrier));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken (aborted or reset)")
    }
}

impl std::error::Error for BrokenBarrier {}

impl Barrier {
    /// A barrier for `parties` tasks. asyncio refuses fewer than one; here 0 counts as 1, a
    /// barrier every task passes alone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::sync::Barrier::new(4).parties(), 4);
    /// assert_eq!(tulip::sync::Barrier::new(0).parties(), 1);
    /// ```
    pub const fn new(parties: usize) -> Barrier {
        Barrier {
            parties: if parties == 0 { 1 } else { parties },
            state: Mutex::new(State {
                broken: false,
                waiters: WaitList::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `parties` tasks are waiting, then returns this task's arrival index in
    /// the round: 0 for the first to arrive, `parties - 1` for the last, which does not wait.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken, or is aborted or reset while waiting.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. A task dropped while waiting leaves the barrier, which then
    /// needs another arrival to fill the round; one dropped after its round filled up leaves
    /// the others released.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let barrier = tulip::sync::Barrier::new(1);
    ///     assert_eq!(barrier.wait().await, Ok(0));
    ///     assert_eq!(barrier.wait().await, Ok(0), "a new round");
    /// });
    /// ```
    pub async fn wait(&self) -> Result<usize, BrokenBarrier> {
        Wait {
            barrier: self,
            key: None,
        }
        .await
    }

    /// Breaks the barrier: every waiting task and every later [`wait`](Self::wait) gets
    /// [`BrokenBarrier`], until [`reset`](Self::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = tulip::sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// ```
    pub fn abort(&self) {
        self.fail_waiters(true);
    }

    /// Returns the barrier to its empty, unbroken state; the tasks waiting at that moment
    /// get [`BrokenBarrier`].
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = tulip::sync::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.is_broken());
    /// ```
    pub fn reset(&self) {
        self.fail_waiters(false);
    }

    fn fail_waiters(&self, broken: bool) {
        let mut state = self.lock();
        state.broken = broken;
        let mut wake = Vec::with_capacity(state.waiters.len());
        while let Some(waiter) = state.waiters.pop_front() {
            waiter.outcome = Err(BrokenBarrier);
            wake.extend(waiter.waker.take());
        }
        drop(state);
        wake.into_iter().for_each(Waker::wake);
    }

    /// How many tasks it takes to pass.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::sync::Barrier::new(3).parties(), 3);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round (asyncio's `n_waiting`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::sync::Barrier::new(3).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.lock().waiters.len()
    }

    /// Whether the barrier is broken (asyncio's `broken`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!tulip::sync::Barrier::new(3).is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.lock().broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.waiters.len())
            .field("broken", &state.broken)
            .finish()
    }
}

struct Wait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let parties = self.barrier.parties;
        let mut state = self.barrier.lock();
        if let Some(key) = self.key {
            if state.waiters.is_linked(key) {
                let replaced = store_waker(&mut state.waiters.get_mut(key).waker, cx.waker());
                drop(state);
                drop(replaced);
                return Poll::Pending;
            }
            self.key = None;
            let waiter = state.waiters.remove(key);
            drop(state);
            return Poll::Ready(waiter.outcome);
        }
        if state.broken {
            return Poll::Ready(Err(BrokenBarrier));
        }
        if state.waiters.len() + 1 < parties {
            self.key = Some(state.waiters.push_back(Waiter {
                waker: Some(cx.waker().clone()),
                outcome: Err(BrokenBarrier),
            }));
            return Poll::Pending;
        }
        // The last to arrive releases the round, numbering the others in arrival order.
        let mut wake = Vec::with_capacity(parties - 1);
        let mut index = 0;
        while let Some(waiter) = state.waiters.pop_front() {
            waiter.outcome = Ok(index);
            index += 1;
            wake.extend(waiter.waker.take());
        }
        drop(state);
        wake.into_iter().for_each(Waker::wake);
        Poll::Ready(Ok(index))
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.barrier.lock();
        let waiter = state.waiters.remove(key);
        drop(state);
        drop(waiter);
    }
}
