//! asyncio's `Semaphore` and `BoundedSemaphore`: at most N tasks at a time.

use std::fmt;

use super::permits::Permits;

/// A counter of permits (asyncio's `Semaphore`): [`acquire`](Semaphore::acquire) takes one,
/// waiting while there are none, and returns a [`SemaphorePermit`] that gives it back when
/// dropped (`async with sem:`). Waiting tasks are served first come, first served.
///
/// As in asyncio, [`release`](Semaphore::release) adds a permit whether or not one was taken;
/// [`BoundedSemaphore`] refuses to go above its starting count.
///
/// # Examples
///
/// The seed's `test8.py`: `Semaphore(2)` lets two of three one-second calls run at once, so
/// they take two seconds.
///
/// ```
/// use std::time::Duration;
/// use tulip::sync::Semaphore;
/// use tulip::time::{Instant, sleep};
///
/// static SEMP: Semaphore = Semaphore::new(2);
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let workers: Vec<_> = (0..3)
///         .map(|_| {
///             tulip::spawn(async {
///                 let _permit = SEMP.acquire().await;
///                 sleep(Duration::from_secs(1)).await;
///             })
///         })
///         .collect();
///     for worker in workers {
///         worker.await.unwrap();
///     }
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
pub struct Semaphore {
    permits: Permits,
}

/// A [`Semaphore`] that cannot be released above its starting count (asyncio's
/// `BoundedSemaphore`): one `release` too many is an error, which catches a permit given back
/// twice.
///
/// # Examples
///
/// ```
/// use tulip::sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// sem.try_acquire().unwrap().forget();
/// assert_eq!(sem.release(), Ok(()));
/// assert!(sem.release().is_err(), "a second release would exceed the bound");
/// ```
pub struct BoundedSemaphore {
    permits: Permits,
    bound: usize,
}

/// One permit of a [`Semaphore`] or [`BoundedSemaphore`], given back when dropped.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    permits: &'a Permits,
}

/// [`BoundedSemaphore::release`] would have raised the count above its starting value
/// (asyncio raises `ValueError` here).
///
/// # Examples
///
/// ```
/// let sem = tulip::sync::BoundedSemaphore::new(2);
/// assert_eq!(sem.release(), Err(tulip::sync::TooManyReleases));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyReleases;

impl fmt::Display for TooManyReleases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoundedSemaphore released more times than it was acquired")
    }
}

impl std::error::Error for TooManyReleases {}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::sync::Semaphore::new(3).permits(), 3);
    /// ```
    pub const fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Permits::new(permits, usize::MAX),
        }
    }

    /// Takes a permit, waiting for one if none is free.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. Tasks are served in the order they started waiting; if the
    /// future is dropped after a permit was handed to it but before it ran, the permit passes
    /// to the next waiting task (or back to the count), never lost.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let sem = tulip::sync::Semaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert!(sem.locked());
    ///     drop(permit);
    ///     assert_eq!(sem.permits(), 1);
    /// });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.permits.acquire().await;
        SemaphorePermit {
            permits: &self.permits,
        }
    }

    /// Takes a permit if one is free and nobody is waiting for one.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// # drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        // `then`, not `then_some`: a permit built and dropped on failure would release one.
        self.permits.try_acquire().then(|| SemaphorePermit {
            permits: &self.permits,
        })
    }

    /// Adds a permit (asyncio's `release()`): it goes to the first waiting task, if any. The
    /// count saturates at `usize::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.permits(), 1);
    /// ```
    pub fn release(&self) {
        self.permits.release();
    }

    /// How many permits are free now. Permits handed to waiting tasks that have not run yet
    /// are not free.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::Semaphore::new(2);
    /// let _permit = sem.try_acquire();
    /// assert_eq!(sem.permits(), 1);
    /// ```
    pub fn permits(&self) -> usize {
        self.permits.available()
    }

    /// Whether `acquire` would wait (asyncio's `locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::Semaphore::new(1);
    /// assert!(!sem.locked());
    /// let _permit = sem.try_acquire();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.is_locked()
    }
}

impl BoundedSemaphore {
    /// A bounded semaphore with `permits` permits, which is also its bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::BoundedSemaphore::new(2);
    /// assert_eq!((sem.permits(), sem.bound()), (2, 2));
    /// ```
    pub const fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            permits: Permits::new(permits, permits),
            bound: permits,
        }
    }

    /// Takes a permit, waiting for one if none is free.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe, as [`Semaphore::acquire`] is.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let sem = tulip::sync::BoundedSemaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert_eq!(sem.permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.permits(), 1);
    /// });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.permits.acquire().await;
        SemaphorePermit {
            permits: &self.permits,
        }
    }

    /// Takes a permit if one is free and nobody is waiting for one.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        // `then`, not `then_some`: a permit built and dropped on failure would release one.
        self.permits.try_acquire().then(|| SemaphorePermit {
            permits: &self.permits,
        })
    }

    /// Gives back a permit taken with [`SemaphorePermit::forget`] (asyncio's `release()`).
    ///
    /// # Errors
    ///
    /// [`TooManyReleases`], changing nothing, if every permit is already free (counting those
    /// handed to waiting tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.permits(), 0);
    /// sem.release().unwrap();
    /// assert_eq!(sem.permits(), 1);
    /// ```
    pub fn release(&self) -> Result<(), TooManyReleases> {
        self.permits.release().then_some(()).ok_or(TooManyReleases)
    }

    /// How many permits are free now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::sync::BoundedSemaphore::new(4).permits(), 4);
    /// ```
    pub fn permits(&self) -> usize {
        self.permits.available()
    }

    /// The starting count, which releases may not exceed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::sync::BoundedSemaphore::new(4).bound(), 4);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Whether `acquire` would wait (asyncio's `locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tulip::sync::BoundedSemaphore::new(0).locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.is_locked()
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken for good: dropping this no longer gives it back (asyncio's
    /// `acquire()` without a `release()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tulip::sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.permits(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        // A bounded semaphore already at its bound (someone called `release` for this
        // permit) stays there: a destructor has no way to report the error.
        self.permits.release();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.permits())
            .field("waiters", &self.permits.waiting())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("permits", &self.permits())
            .field("bound", &self.bound)
            .field("waiters", &self.permits.waiting())
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
