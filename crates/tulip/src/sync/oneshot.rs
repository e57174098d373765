//! A single value passed from one side to the other: asyncio's low-level `Future`
//! (`loop.create_future()`, `set_result`, `set_exception`, `done`), split into a [`Promise`]
//! that resolves it and a [`Receiver`] that awaits it.
//!
//! ```
//! use tulip::sync::oneshot;
//!
//! tulip::run(async {
//!     let (promise, future) = oneshot::channel::<String>();
//!     tulip::spawn(async move {
//!         promise.set_result("ready".to_string()).unwrap();
//!     })
//!     .detach();
//!     assert_eq!(future.await.unwrap(), "ready");
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Creates a connected [`Promise`] and [`Receiver`].
///
/// # Examples
///
/// ```
/// let (promise, future) = tulip::sync::oneshot::channel::<u32>();
/// assert!(!future.is_done());
/// promise.set_result(1).unwrap();
/// assert!(future.is_done());
/// ```
pub fn channel<T>() -> (Promise<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            waker: None,
            closed: false,
        }),
    });
    (
        Promise {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    /// The other side is gone (promise dropped unresolved, or receiver dropped), or the value
    /// was already taken: nothing more will arrive.
    closed: bool,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The resolving side.
///
/// # Examples
///
/// ```
/// let (promise, future) = tulip::sync::oneshot::channel();
/// promise.set_result("x").unwrap();
/// # drop(future);
/// ```
pub struct Promise<T> {
    inner: Arc<Inner<T>>,
}

/// The awaiting side: a future of `Result<T, RecvError>`.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let (promise, future) = tulip::sync::oneshot::channel();
///     promise.set_result(5).unwrap();
///     assert_eq!(future.await, Ok(5));
/// });
/// ```
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

/// The [`Promise`] was dropped without a result (asyncio would leave the future pending
/// for ever; tulip says so instead), or the result was already taken.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let (promise, future) = tulip::sync::oneshot::channel::<u8>();
///     drop(promise);
///     assert_eq!(future.await, Err(tulip::sync::oneshot::RecvError));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no result: the promise was dropped without one, or it was already taken")
    }
}

impl std::error::Error for RecvError {}

impl<T> Promise<T> {
    /// Resolves the future with `value`.
    ///
    /// # Errors
    ///
    /// Gives `value` back when the receiver is already gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::oneshot::channel();
    /// drop(future);
    /// assert_eq!(promise.set_result(3), Err(3));
    /// ```
    pub fn set_result(self, value: T) -> Result<(), T> {
        let mut state = self.inner.lock();
        if state.closed {
            return Err(value);
        }
        state.value = Some(value);
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// The receiver was dropped: nobody wants the result any more.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::oneshot::channel::<()>();
    /// drop(future);
    /// assert!(promise.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        if state.value.is_some() {
            return;
        }
        state.closed = true;
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// A result was set (and perhaps already taken), or the promise was dropped (asyncio's
    /// `Future.done()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::oneshot::channel::<()>();
    /// drop(promise);
    /// assert!(future.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        let state = self.inner.lock();
        state.value.is_some() || state.closed
    }

    /// Takes the result if it is there, without waiting.
    ///
    /// # Errors
    ///
    /// `Ok(None)` while pending; `Err(RecvError)` if the promise was dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, mut future) = tulip::sync::oneshot::channel();
    /// assert_eq!(future.try_recv(), Ok(None));
    /// promise.set_result(9).unwrap();
    /// assert_eq!(future.try_recv(), Ok(Some(9)));
    /// ```
    pub fn try_recv(&mut self) -> Result<Option<T>, RecvError> {
        let mut state = self.inner.lock();
        match state.value.take() {
            Some(value) => {
                state.closed = true;
                Ok(Some(value))
            }
            None if state.closed => Err(RecvError),
            None => Ok(None),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.lock();
        if let Some(value) = state.value.take() {
            state.closed = true;
            return Poll::Ready(Ok(value));
        }
        if state.closed {
            return Poll::Ready(Err(RecvError));
        }
        let replaced = match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            slot => slot.replace(cx.waker().clone()),
        };
        drop(state);
        // Dropped unlocked: freeing a task may run destructors that use this channel.
        drop(replaced);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        state.closed = true;
        // A value sent but never received is dropped here, outside the lock.
        let value = state.value.take();
        drop(state);
        drop(value);
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("done", &self.is_done())
            .finish()
    }
}
