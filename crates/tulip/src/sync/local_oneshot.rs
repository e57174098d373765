//! A one-shot channel bound to one loop: asyncio's `loop.create_future()` exactly, since an
//! asyncio `Future` belongs to its loop and is not thread-safe either.
//!
//! Both halves are `!Send`: they stay on the loop's thread, so the hand-off needs no atomic
//! instruction or lock at all (only the wake-up of the receiving task does). Between tasks of
//! one loop it saves [`oneshot`](super::oneshot)'s two atomic updates per hand-off (ping_pong:
//! a round trip 5–10 % cheaper); `oneshot` works across threads and loops and adds promise
//! clones and done callbacks.
//!
//! ```
//! use tulip::sync::local_oneshot;
//!
//! tulip::run(async {
//!     let (promise, future) = local_oneshot::channel();
//!     tulip::spawn(async move { promise.set_result("ready").unwrap() }).detach();
//!     assert_eq!(future.await, Ok("ready"));
//! });
//! ```

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub use super::oneshot::RecvError;

/// Creates a connected [`Promise`] and [`Receiver`] for use on one loop.
///
/// # Examples
///
/// ```
/// let (promise, mut future) = tulip::sync::local_oneshot::channel::<u8>();
/// promise.set_result(1).unwrap();
/// assert_eq!(future.try_recv(), Ok(Some(1)));
/// ```
pub fn channel<T>() -> (Promise<T>, Receiver<T>) {
    let state = Rc::new(State {
        value: Cell::new(None),
        waker: Cell::new(None),
        closed: Cell::new(false),
    });
    (
        Promise {
            state: state.clone(),
        },
        Receiver { state },
    )
}

/// Plain cells: both halves live on one thread, and no borrow is ever held across a call out.
struct State<T> {
    value: Cell<Option<T>>,
    waker: Cell<Option<Waker>>,
    /// The other side is gone, or the value was taken: nothing more will arrive.
    closed: Cell<bool>,
}

impl<T> State<T> {
    fn has_value(&self) -> bool {
        let value = self.value.take();
        let has = value.is_some();
        self.value.set(value);
        has
    }
}

/// The resolving side, for the tasks of one loop.
///
/// # Examples
///
/// ```
/// let (promise, _future) = tulip::sync::local_oneshot::channel();
/// promise.set_result(3).unwrap();
/// ```
pub struct Promise<T> {
    state: Rc<State<T>>,
}

/// The awaiting side: a future of `Result<T, RecvError>`.
///
/// # Cancel safety
///
/// Cancel safe: dropping it before the result arrives loses nothing but the result, which the
/// promise then gets back from [`set_result`](Promise::set_result).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let (promise, future) = tulip::sync::local_oneshot::channel();
///     promise.set_result(5).unwrap();
///     assert_eq!(future.await, Ok(5));
/// });
/// ```
pub struct Receiver<T> {
    state: Rc<State<T>>,
}

impl<T> Promise<T> {
    /// Resolves the future with `value` and wakes the task awaiting it.
    ///
    /// # Errors
    ///
    /// Gives `value` back when the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::local_oneshot::channel();
    /// drop(future);
    /// assert_eq!(promise.set_result(3), Err(3));
    /// ```
    pub fn set_result(self, value: T) -> Result<(), T> {
        if self.state.closed.get() {
            return Err(value);
        }
        self.state.value.set(Some(value));
        if let Some(waker) = self.state.waker.take() {
            waker.wake();
        }
        Ok(())
    }

    /// The receiver is gone: nobody wants the result any more.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::local_oneshot::channel::<()>();
    /// drop(future);
    /// assert!(promise.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.closed.get()
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if self.state.has_value() {
            return;
        }
        self.state.closed.set(true);
        if let Some(waker) = self.state.waker.take() {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// A result arrived (and perhaps was taken), or the promise was dropped (asyncio's
    /// `Future.done()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::local_oneshot::channel::<()>();
    /// drop(promise);
    /// assert!(future.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.state.closed.get() || self.state.has_value()
    }

    /// Takes the result if it is there, without waiting.
    ///
    /// # Errors
    ///
    /// `Ok(None)` while pending; `Err(RecvError)` if the promise was dropped or the result was
    /// already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, mut future) = tulip::sync::local_oneshot::channel();
    /// assert_eq!(future.try_recv(), Ok(None));
    /// promise.set_result(9).unwrap();
    /// assert_eq!(future.try_recv(), Ok(Some(9)));
    /// assert!(future.try_recv().is_err());
    /// ```
    pub fn try_recv(&mut self) -> Result<Option<T>, RecvError> {
        match self.state.value.take() {
            Some(value) => {
                self.state.closed.set(true);
                Ok(Some(value))
            }
            None if self.state.closed.get() => Err(RecvError),
            None => Ok(None),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(value) = self.state.value.take() {
            self.state.closed.set(true);
            return Poll::Ready(Ok(value));
        }
        if self.state.closed.get() {
            return Poll::Ready(Err(RecvError));
        }
        let waker = match self.state.waker.take() {
            Some(waker) if waker.will_wake(cx.waker()) => waker,
            // Cells hold no borrow, so dropping a replaced waker here is safe even if it frees
            // a task whose destructors use this channel.
            _ => cx.waker().clone(),
        };
        self.state.waker.set(Some(waker));
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.state.closed.set(true);
        // A value sent but never received is dropped here.
        drop(self.state.value.take());
        drop(self.state.waker.take());
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("local_oneshot::Promise")
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("local_oneshot::Receiver")
            .field("done", &self.is_done())
            .finish()
    }
}
