//! A single value passed from one side to the other: asyncio's low-level `Future`
//! (`loop.create_future()`, `set_result`, `set_exception`, `done`, `add_done_callback`), split
//! into a [`Promise`] that resolves it and a [`Receiver`] that awaits it.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `fut = loop.create_future()` | `let (promise, fut) = oneshot::channel();` |
//! | `fut.set_result(x)` | [`promise.set_result(x)`](Promise::set_result) |
//! | `fut.set_exception(e)` | [`promise.set_exception(e)`](Promise::set_exception), on a channel of `Result<T, E>` |
//! | `InvalidStateError` when set twice | [`set_result`](Promise::set_result) hands the value back (promises are [`Clone`]: the first to set wins) |
//! | a future nobody ever resolves | [`RecvError`] once every promise is dropped |
//! | `fut.done()`, `fut.add_done_callback(cb)` | [`Receiver::is_done`], [`Receiver::add_done_callback`] |
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

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
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
            resolved: false,
            promises: 1,
            callbacks: Vec::new(),
        }),
    });
    (
        Promise {
            inner: inner.clone(),
            spent: false,
        },
        Receiver {
            inner,
            finished: false,
        },
    )
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

/// A done callback: sees the result (or that there will be none) before anyone can take it.
type Callback<T> = Box<dyn FnOnce(Result<&T, RecvError>) + Send>;

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    /// The other side is gone (every promise dropped unresolved, or receiver dropped), or the
    /// value was already taken: nothing more will arrive.
    closed: bool,
    /// A promise set the result. The value may not be stored yet: it waits while the done
    /// callbacks run.
    resolved: bool,
    /// Live [`Promise`] handles.
    promises: usize,
    callbacks: Vec<Callback<T>>,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs every callback, each in its own `catch_unwind`; returns the first panic, if any.
fn run_callbacks<T>(
    callbacks: Vec<Callback<T>>,
    outcome: Result<&T, RecvError>,
) -> Option<Box<dyn Any + Send>> {
    let mut first_panic = None;
    for callback in callbacks {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(outcome))) {
            first_panic.get_or_insert(payload);
        }
    }
    first_panic
}

/// The resolving side. Cloning it gives another handle on the same future: the first
/// handle to call [`set_result`](Promise::set_result) resolves it, the others get their value
/// back, and the receiver gets [`RecvError`] only once every handle is gone unresolved.
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
    /// `set_result` already did what `Drop` would (saves a second lock on the hot path).
    spent: bool,
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
    /// The outcome was handed out: the channel is closed, and `Drop` has nothing to do.
    finished: bool,
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
    /// Resolves the future with `value`. The done callbacks run first, here, on this thread;
    /// then the receiver is woken.
    ///
    /// # Errors
    ///
    /// Gives `value` back when the receiver is already gone, or when the future was already
    /// resolved through another clone of this promise (asyncio's `InvalidStateError`).
    ///
    /// # Panics
    ///
    /// If a done callback panicked: the panic is resumed here once the value is delivered and
    /// every other callback has run.
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, future) = tulip::sync::oneshot::channel();
    /// let twin = promise.clone();
    /// assert_eq!(promise.set_result(1), Ok(()));
    /// assert_eq!(twin.set_result(2), Err(2), "already set");
    /// # drop(future);
    /// let (promise, future) = tulip::sync::oneshot::channel();
    /// drop(future);
    /// assert_eq!(promise.set_result(3), Err(3), "nobody listens");
    /// ```
    pub fn set_result(mut self, value: T) -> Result<(), T> {
        let mut state = self.inner.lock();
        if state.closed || state.resolved {
            return Err(value);
        }
        state.resolved = true;
        // This handle is done: count it out now, under the lock we hold, instead of in Drop.
        state.promises -= 1;
        self.spent = true;
        let mut panic = None;
        // Callbacks run unlocked (they may use the channel); one added meanwhile by the
        // receiver joins the list, so go round until the list is empty.
        while !state.callbacks.is_empty() {
            let callbacks = std::mem::take(&mut state.callbacks);
            drop(state);
            let panicked = run_callbacks(callbacks, Ok(&value));
            panic = panic.or(panicked);
            state = self.inner.lock();
        }
        // The receiver may have gone while the callbacks ran: then the value is dropped
        // with the channel, like any value nobody received.
        state.value = Some(value);
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(payload) = panic {
            resume_unwind(payload);
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

    /// A result was set, through this promise's clones (asyncio's `done()` seen from the
    /// resolving side).
    ///
    /// # Examples
    ///
    /// ```
    /// let (promise, _future) = tulip::sync::oneshot::channel();
    /// let twin = promise.clone();
    /// promise.set_result(()).unwrap();
    /// assert!(twin.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.inner.lock().resolved
    }
}

impl<T, E> Promise<Result<T, E>> {
    /// Resolves the future with an error (asyncio's `set_exception`): on a channel of
    /// `Result<T, E>`, the receiver gets `Ok(Err(error))`.
    ///
    /// # Errors
    ///
    /// Gives `error` back when the receiver is gone or the future is already resolved.
    ///
    /// # Panics
    ///
    /// If a done callback panicked, as [`set_result`](Promise::set_result) does.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (promise, future) = tulip::sync::oneshot::channel::<Result<u32, String>>();
    ///     promise.set_exception("no route to host".to_string()).unwrap();
    ///     assert_eq!(future.await, Ok(Err("no route to host".to_string())));
    /// });
    /// ```
    pub fn set_exception(self, error: E) -> Result<(), E> {
        self.set_result(Err(error)).map_err(|back| match back {
            Err(error) => error,
            // `set_result` hands back exactly what it was given.
            Ok(_) => unreachable!("set_result gave back a value it was not given"),
        })
    }
}

impl<T> Clone for Promise<T> {
    fn clone(&self) -> Self {
        self.inner.lock().promises += 1;
        Promise {
            inner: self.inner.clone(),
            spent: false,
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if self.spent {
            return;
        }
        let mut state = self.inner.lock();
        state.promises -= 1;
        if state.promises > 0 || state.resolved || state.closed {
            return;
        }
        state.closed = true;
        let waker = state.waker.take();
        let callbacks = std::mem::take(&mut state.callbacks);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(payload) = run_callbacks(callbacks, Err(RecvError)) {
            if !std::thread::panicking() {
                resume_unwind(payload);
            }
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
        state.resolved || state.closed
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

    /// Calls `callback` when the future is done (asyncio's `add_done_callback`): with the
    /// result, or with [`RecvError`] if every promise is dropped without one.
    ///
    /// The callback runs on the thread that resolves the future, inside
    /// [`set_result`](Promise::set_result) (or the promise's drop), before the receiver can
    /// take the value, so every callback sees it. Added once the future is done, it runs at
    /// once, here; if the value was already taken, it gets [`RecvError`]. Callbacks of a
    /// receiver dropped before the future is done are dropped uncalled.
    ///
    /// # Panics
    ///
    /// Added to a future already done, a callback that panics panics here (the value stays
    /// in the receiver).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// tulip::run(async {
    ///     let seen = Arc::new(Mutex::new(None));
    ///     let (promise, mut future) = tulip::sync::oneshot::channel::<u32>();
    ///     let log = seen.clone();
    ///     future.add_done_callback(move |result| *log.lock().unwrap() = result.ok().copied());
    ///     promise.set_result(7).unwrap();
    ///     assert_eq!(*seen.lock().unwrap(), Some(7));
    ///     assert_eq!(future.await, Ok(7), "the value is still there for the receiver");
    /// });
    /// ```
    pub fn add_done_callback<F>(&mut self, callback: F)
    where
        F: FnOnce(Result<&T, RecvError>) + Send + 'static,
    {
        let mut state = self.inner.lock();
        if let Some(value) = state.value.take() {
            // Done, not taken: lend the value to the callback, unlocked, then put it back.
            // No one else takes a stored value: only this receiver does.
            drop(state);
            let called = catch_unwind(AssertUnwindSafe(|| callback(Ok(&value))));
            self.inner.lock().value = Some(value);
            if let Err(payload) = called {
                resume_unwind(payload);
            }
        } else if state.closed {
            drop(state);
            callback(Err(RecvError));
        } else {
            // Pending, or being resolved right now: `set_result` runs it before storing.
            state.callbacks.push(Box::new(callback));
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.lock();
        if let Some(value) = state.value.take() {
            state.closed = true;
            drop(state);
            self.finished = true;
            return Poll::Ready(Ok(value));
        }
        if state.closed {
            drop(state);
            self.finished = true;
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
        if self.finished {
            return;
        }
        let mut state = self.inner.lock();
        state.closed = true;
        // A value sent but never received, and callbacks never called, are dropped here,
        // outside the lock.
        let value = state.value.take();
        let callbacks = std::mem::take(&mut state.callbacks);
        drop(state);
        drop(value);
        drop(callbacks);
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
