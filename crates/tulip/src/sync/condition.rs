//! asyncio's `Condition`: a lock plus a line of tasks waiting to be notified.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::lock::{Lock, LockGuard};
use super::waiters::{WaitList, store_waker};

/// A condition variable for tasks (asyncio's `Condition`), with its own [`Lock`].
///
/// [`lock`](Condition::lock) takes the lock (`async with cond:`) and returns a
/// [`ConditionGuard`]; through the guard a task can [`wait`](ConditionGuard::wait) (release
/// the lock, sleep until notified, take the lock again) or
/// [`notify`](ConditionGuard::notify) `n` waiters. Holding the guard is what asyncio checks at
/// run time ("lock is not acquired"): here it is a type. Waiters are notified in the order
/// they started waiting.
///
/// # Examples
///
/// The seed's `test7.py`: three waiters, and `notify(2)` wakes exactly two of them.
///
/// ```
/// use std::rc::Rc;
/// use tulip::sync::Condition;
///
/// tulip::run(async {
///     let cond = Rc::new(Condition::new());
///     let waiters: Vec<_> = (0..3)
///         .map(|id| {
///             let cond = cond.clone();
///             tulip::spawn(async move {
///                 let guard = cond.lock().await;
///                 let _guard = guard.wait().await;
///                 id
///             })
///         })
///         .collect();
///     tulip::task::yield_now().await; // let them all start waiting
///     assert_eq!(cond.lock().await.notify(2), 2);
///     tulip::task::yield_now().await;
///     let done: Vec<_> = waiters.iter().map(|w| w.is_finished()).collect();
///     assert_eq!(done, [true, true, false]);
///     assert_eq!(cond.lock().await.notify_all(), 1);
///     for waiter in waiters {
///         waiter.await.unwrap();
///     }
/// });
/// ```
pub struct Condition {
    lock: Lock,
    /// A waiter served (unlinked) has been notified.
    waiters: Mutex<WaitList<Option<Waker>>>,
}

/// The [`Condition`]'s lock, held; dropping it releases the lock.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a> {
    cond: &'a Condition,
    _lock: LockGuard<'a>,
}

impl Condition {
    /// A condition with its own, unlocked, lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!tulip::sync::Condition::new().locked());
    /// ```
    pub const fn new() -> Condition {
        Condition {
            lock: Lock::new(),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, WaitList<Option<Waker>>> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the condition's lock, waiting while another task holds it.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`Lock::lock`] is.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let cond = tulip::sync::Condition::new();
    ///     let guard = cond.lock().await;
    ///     assert!(cond.locked());
    ///     drop(guard);
    /// });
    /// ```
    pub async fn lock(&self) -> ConditionGuard<'_> {
        ConditionGuard {
            cond: self,
            _lock: self.lock.lock().await,
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = tulip::sync::Condition::new();
    /// let guard = cond.try_lock().unwrap();
    /// assert!(cond.try_lock().is_none());
    /// # drop(guard);
    /// ```
    pub fn try_lock(&self) -> Option<ConditionGuard<'_>> {
        Some(ConditionGuard {
            cond: self,
            _lock: self.lock.try_lock()?,
        })
    }

    /// Whether the lock is held (asyncio's `locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = tulip::sync::Condition::new();
    /// let _guard = cond.try_lock();
    /// assert!(cond.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Wakes up to `n` waiters in line; returns how many it woke.
    fn wake(&self, n: usize) -> usize {
        let mut waiters = self.waiters();
        let mut wake = Vec::with_capacity(n.min(waiters.len()));
        let mut woken = 0;
        while woken < n {
            let Some(waiter) = waiters.pop_front() else {
                break;
            };
            woken += 1;
            wake.extend(waiter.take());
        }
        drop(waiters);
        wake.into_iter().for_each(Waker::wake);
        woken
    }
}

impl<'a> ConditionGuard<'a> {
    /// Releases the lock, waits to be notified, then takes the lock again and returns the
    /// guard (asyncio's `await cond.wait()`).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If it is dropped while waiting, the task leaves the line;
    /// if it had just been notified, the notification passes to the next waiter (asyncio 3.13
    /// does the same), so a `notify(n)` still wakes `n` tasks that go on to run. Either way the
    /// lock is not held once the future is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// tulip::run(async {
    ///     let cond = Rc::new(tulip::sync::Condition::new());
    ///     let waiter = tulip::spawn({
    ///         let cond = cond.clone();
    ///         async move { drop(cond.lock().await.wait().await) }
    ///     });
    ///     tulip::task::yield_now().await;
    ///     cond.lock().await.notify(1);
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub async fn wait(self) -> ConditionGuard<'a> {
        let cond = self.cond;
        // In line before the lock is released: a notify in between cannot be missed.
        let key = cond.waiters().push_back(None);
        let notified = Notified {
            cond,
            key: Some(key),
        };
        drop(self);
        notified.await;
        cond.lock().await
    }

    /// Waits until `predicate` returns true, checking it with the lock held: first at once,
    /// then after each notification (asyncio's `wait_for`).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`wait`](Self::wait) is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// tulip::run(async {
    ///     let cond = Rc::new(tulip::sync::Condition::new());
    ///     let count = Rc::new(Cell::new(0));
    ///     let waiter = tulip::spawn({
    ///         let (cond, count) = (cond.clone(), count.clone());
    ///         async move { drop(cond.lock().await.wait_for(|| count.get() >= 3).await) }
    ///     });
    ///     for _ in 0..3 {
    ///         tulip::task::yield_now().await;
    ///         let guard = cond.lock().await;
    ///         count.set(count.get() + 1);
    ///         guard.notify_all();
    ///     }
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub async fn wait_for(self, mut predicate: impl FnMut() -> bool) -> ConditionGuard<'a> {
        let mut guard = self;
        while !predicate() {
            guard = guard.wait().await;
        }
        guard
    }

    /// Wakes the first `n` waiting tasks; returns how many there were (at most `n`).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let cond = tulip::sync::Condition::new();
    ///     assert_eq!(cond.lock().await.notify(2), 0, "nobody waits");
    /// });
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        self.cond.wake(n)
    }

    /// Wakes every waiting task; returns how many there were.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let cond = tulip::sync::Condition::new();
    ///     assert_eq!(cond.lock().await.notify_all(), 0);
    /// });
    /// ```
    pub fn notify_all(&self) -> usize {
        self.cond.wake(usize::MAX)
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .field("waiters", &self.waiters().len())
            .finish()
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard").finish_non_exhaustive()
    }
}

/// In line for a notification.
struct Notified<'a> {
    cond: &'a Condition,
    key: Option<usize>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(key) = self.key else {
            return Poll::Ready(());
        };
        let mut waiters = self.cond.waiters();
        if waiters.is_linked(key) {
            let replaced = store_waker(waiters.get_mut(key), cx.waker());
            drop(waiters);
            drop(replaced);
            return Poll::Pending;
        }
        self.key = None;
        let waker = waiters.remove(key);
        drop(waiters);
        drop(waker);
        Poll::Ready(())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut waiters = self.cond.waiters();
        let notified = !waiters.is_linked(key);
        let waker = waiters.remove(key);
        drop(waiters);
        drop(waker);
        if notified {
            self.cond.wake(1);
        }
    }
}
