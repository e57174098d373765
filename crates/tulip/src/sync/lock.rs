//! asyncio's `Lock`: one task at a time, the others wait in line.

use std::fmt;

use super::permits::Permits;

/// A mutual-exclusion lock for tasks (asyncio's `Lock`): [`lock`](Lock::lock) waits until no
/// other task holds it and returns a guard that releases it when dropped (`async with lock:`).
///
/// The lock guards no data of its own, as in asyncio; to guard data, keep it beside the lock
/// (in a `RefCell` on one loop). Tasks waiting for it are served first come, first served.
/// Share a lock between tasks through an `Rc`/`Arc`, or make it a `static`: [`Lock::new`] is
/// `const`.
///
/// # Examples
///
/// The seed's `test5.py`: three workers, one lock, so the three one-second calls run one after
/// another.
///
/// ```
/// use std::time::Duration;
/// use tulip::sync::Lock;
/// use tulip::time::{Instant, sleep};
///
/// static LOCK: Lock = Lock::new();
///
/// async fn run(id: u32) -> u32 {
///     let _guard = LOCK.lock().await;
///     sleep(Duration::from_secs(1)).await; // the HTTP call
///     id
/// }
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let workers: Vec<_> = (0..3).map(|id| tulip::spawn(run(id))).collect();
///     for (id, worker) in (0..3).zip(workers) {
///         assert_eq!(worker.await.unwrap(), id);
///     }
///     assert_eq!(start.elapsed(), Duration::from_secs(3));
/// });
/// ```
pub struct Lock {
    permits: Permits,
}

/// Holds a [`Lock`]; dropping it releases the lock to the next waiting task.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Lock {
    /// An unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = tulip::sync::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub const fn new() -> Lock {
        Lock {
            permits: Permits::new(1, 1),
        }
    }

    /// Waits until the lock is free, takes it and returns the guard that releases it.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. Tasks are served in the order they started waiting; if the
    /// future is dropped after the lock was handed to it but before it ran, the lock passes to
    /// the next waiting task (or is released), never lost.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let lock = tulip::sync::Lock::new();
    ///     let guard = lock.lock().await;
    ///     assert!(lock.locked());
    ///     drop(guard);
    ///     assert!(!lock.locked());
    /// });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        self.permits.acquire().await;
        LockGuard { lock: self }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = tulip::sync::Lock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.permits.try_acquire().then(|| LockGuard { lock: self })
    }

    /// Whether the lock is held (asyncio's `locked()`). A lock handed to a waiting task that
    /// has not run yet counts as held.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = tulip::sync::Lock::new();
    /// let _guard = lock.try_lock();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.is_locked()
    }
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.permits.release();
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("waiters", &self.permits.waiting())
            .finish()
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
