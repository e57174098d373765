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

use crate::loom::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex, MutexGuard};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
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
        state: AtomicUsize::new(0),
        promises: AtomicUsize::new(1),
        value: UnsafeCell::new(None),
        waker: UnsafeCell::new(None),
        callbacks: Mutex::new(Vec::new()),
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

// The channel is one state word and two cells, as tokio's one-shot is: a hop costs two atomic
// updates of it (the promise's claim-and-publish, the receiver's waker) where a `Mutex` took
// three lock/unlock pairs (the ping_pong benchmark, in benches/README.md, measures both). Who
// may touch which cell when:
//
// - `value` is written once, by the promise that set CLAIMED, before it sets VALUE; from then
//   on only the receiver reads or takes it (and `Inner`'s drop drops what is left).
// - `waker` is written only by the receiver, and only while WAKER is clear; a promise reads it
//   (`wake_by_ref`, never taking it) only if WAKER was set in the state its own VALUE or
//   NO_PROMISES update replaced. The receiver clears WAKER before replacing the waker, and if
//   that clearing shows VALUE or NO_PROMISES already set, it leaves the cell alone.
// - Done callbacks are the slow path, under `callbacks`' lock: CALLBACKS is set only while
//   CLAIMED is not, so a promise knows from the state it claims whether it must run them
//   (then it publishes the value only once the list is empty, under the lock).

/// A promise claimed the right to set the value (asyncio's "done", seen from the promises).
const CLAIMED: usize = 1;
/// The value is in `value` for the receiver.
const VALUE: usize = 1 << 1;
/// The receiver took the value or was dropped: nothing more may be sent.
const RX_CLOSED: usize = 1 << 2;
/// The receiver took the value.
const TAKEN: usize = 1 << 3;
/// Every promise was dropped without a value.
const NO_PROMISES: usize = 1 << 4;
/// The receiver's waker is in `waker`.
const WAKER: usize = 1 << 5;
/// Done callbacks were added before the value was claimed.
const CALLBACKS: usize = 1 << 6;

struct Inner<T> {
    state: AtomicUsize,
    /// Live [`Promise`] handles that did not set the value.
    promises: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    waker: UnsafeCell<Option<Waker>>,
    callbacks: Mutex<Vec<Callback<T>>>,
}

// SAFETY: the cells are shared between threads only as the protocol above allows: `value` has
// one writer before VALUE is published (Release) and one reader after it is seen (Acquire), so
// `T: Send` suffices, as for a `Mutex<T>`; a `Waker` is `Send + Sync`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send`; no `&T` is ever shared between two threads at once (callbacks see the
// value on the resolving thread before it is published, or on the receiver's own thread).
unsafe impl<T: Send> Sync for Inner<T> {}

/// A done callback: sees the result (or that there will be none) before anyone can take it.
type Callback<T> = Box<dyn FnOnce(Result<&T, RecvError>) + Send>;

impl<T> Inner<T> {
    fn callbacks(&self) -> MutexGuard<'_, Vec<Callback<T>>> {
        // A panicking callback runs unlocked, so a poisoned lock guards nothing half-done.
        self.callbacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wakes the receiver if `before`, the state an update of ours replaced, says its waker
    /// is stored and it is still there to care.
    fn wake_receiver(&self, before: usize) {
        if before & WAKER != 0 && before & RX_CLOSED == 0 {
            self.waker.with(|waker| {
                // SAFETY: WAKER was set when our update landed, so the receiver had stored its
                // waker and will not write the cell again (it clears WAKER first and then sees
                // our update); we only read it.
                if let Some(waker) = unsafe { &*waker } {
                    waker.wake_by_ref();
                }
            });
        }
    }

    /// Takes the value, which VALUE (seen with Acquire) says is there. Receiver only.
    ///
    /// # Safety
    ///
    /// The caller is the receiver and saw VALUE without TAKEN.
    unsafe fn take_value(&self) -> Option<T> {
        // Once VALUE is set, only the receiver changes the state (the promises' updates all
        // need CLAIMED clear), so a plain store will do.
        let state = self.state.load(Ordering::Relaxed);
        self.state
            .store(state | RX_CLOSED | TAKEN, Ordering::Release);
        // SAFETY: the promise that set VALUE wrote the cell before and never touches it again;
        // the receiver (our caller, `&mut`) is the only one left to.
        self.value.with_mut(|value| unsafe { (*value).take() })
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
    /// `set_result` already did what `Drop` would: nothing is left for `Drop` to do.
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
        let inner = &*self.inner;
        // The common case, one promise and no callbacks, in one atomic step: store the value,
        // then claim and publish it together. No clone exists or can appear (this handle is
        // the only one, and it is being consumed), so nobody else can claim. The count is read
        // first: a clone that set the value counts itself out only after publishing it (see
        // `set_result_slow`), so seeing 1 here means its VALUE is visible below.
        let alone = inner.promises.load(Ordering::Acquire) == 1;
        let mut state = inner.state.load(Ordering::Acquire);
        if alone && state & (CLAIMED | RX_CLOSED | CALLBACKS) == 0 {
            // SAFETY: nobody can claim but us, and the receiver reads the cell only after
            // seeing VALUE, which is not set yet.
            inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
            loop {
                match inner.state.compare_exchange_weak(
                    state,
                    state | CLAIMED | VALUE,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(before) => {
                        // The promise count is not updated: no other handle is left to read it.
                        self.spent = true;
                        inner.wake_receiver(before);
                        return Ok(());
                    }
                    // The receiver stored its waker meanwhile: try again.
                    Err(now) if now & (CLAIMED | RX_CLOSED | CALLBACKS) == 0 => state = now,
                    Err(now) => {
                        // The receiver closed or added a callback meanwhile: take the value
                        // back (VALUE was never set, so the cell is still ours alone) and go
                        // the long way.
                        // SAFETY: as above.
                        let value = inner.value.with_mut(|cell| unsafe { (*cell).take() });
                        let Some(value) = value else {
                            unreachable!("the value stored just above is gone");
                        };
                        return self.set_result_slow(value, now);
                    }
                }
            }
        }
        self.set_result_slow(value, state)
    }

    /// [`set_result`](Promise::set_result) with clones or callbacks about; `state` is a recent
    /// look at the state.
    fn set_result_slow(mut self, value: T, mut state: usize) -> Result<(), T> {
        let inner = &*self.inner;
        loop {
            if state & (CLAIMED | RX_CLOSED) != 0 {
                return Err(value);
            }
            match inner.state.compare_exchange_weak(
                state,
                state | CLAIMED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        self.spent = true;
        let mut panic = None;
        let before = if state & CALLBACKS == 0 {
            // SAFETY: CLAIMED is ours, so we are the cell's only writer, and the receiver reads
            // it only after seeing VALUE, which we set below.
            inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
            inner.state.fetch_or(VALUE, Ordering::AcqRel)
        } else {
            // Callbacks run unlocked (they may use the channel); one added meanwhile joins the
            // list, so go round until it is empty, and publish the value under the lock.
            let mut callbacks = inner.callbacks();
            loop {
                if callbacks.is_empty() {
                    // SAFETY: as above; the lock keeps new callbacks out until VALUE is set.
                    inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
                    break inner.state.fetch_or(VALUE, Ordering::AcqRel);
                }
                let batch = std::mem::take(&mut *callbacks);
                drop(callbacks);
                panic = panic.or(run_callbacks(batch, Ok(&value)));
                callbacks = inner.callbacks();
            }
        };
        // Counted out only now that the value is published: a sibling that then finds itself
        // alone (the fast path above) must also find the value claimed.
        inner.promises.fetch_sub(1, Ordering::AcqRel);
        inner.wake_receiver(before);
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
        self.inner.state.load(Ordering::Acquire) & RX_CLOSED != 0
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
        self.inner.state.load(Ordering::Acquire) & CLAIMED != 0
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
        // This handle keeps the count above zero, so it cannot reach zero meanwhile.
        self.inner.promises.fetch_add(1, Ordering::Relaxed);
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
        let inner = &*self.inner;
        if inner.promises.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The last handle: unless a clone set the value, there will be none.
        let mut state = inner.state.load(Ordering::Acquire);
        loop {
            if state & CLAIMED != 0 {
                return;
            }
            match inner.state.compare_exchange_weak(
                state,
                state | NO_PROMISES,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        inner.wake_receiver(state);
        if state & CALLBACKS != 0 {
            let callbacks = std::mem::take(&mut *inner.callbacks());
            if let Some(payload) = run_callbacks(callbacks, Err(RecvError))
                && !std::thread::panicking()
            {
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
        self.inner.state.load(Ordering::Acquire) & (CLAIMED | TAKEN | NO_PROMISES) != 0
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
        let state = self.inner.state.load(Ordering::Acquire);
        if state & TAKEN != 0 || (state & NO_PROMISES != 0 && state & VALUE == 0) {
            return Err(RecvError);
        }
        if state & VALUE == 0 {
            return Ok(None);
        }
        // SAFETY: we are the receiver and saw VALUE without TAKEN.
        Ok(unsafe { self.inner.take_value() })
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
        let inner = &*self.inner;
        let mut callbacks = inner.callbacks();
        let mut state = inner.state.load(Ordering::Acquire);
        loop {
            if state & TAKEN != 0 || (state & NO_PROMISES != 0 && state & VALUE == 0) {
                drop(callbacks);
                callback(Err(RecvError));
                return;
            }
            if state & VALUE != 0 {
                drop(callbacks);
                inner.value.with(|cell| {
                    // SAFETY: the value is published and not taken: only this receiver (`&mut
                    // self`) touches it now, and lends it for the call.
                    if let Some(value) = unsafe { &*cell } {
                        callback(Ok(value));
                    }
                });
                return;
            }
            if state & CLAIMED != 0 {
                if state & CALLBACKS != 0 {
                    // The resolving promise runs the list before it publishes the value, and
                    // it cannot publish while we hold the lock.
                    callbacks.push(Box::new(callback));
                    return;
                }
                // Claimed on the fast path: the value is being stored; it takes a few
                // instructions.
                std::hint::spin_loop();
                crate::loom::thread::yield_now();
                state = inner.state.load(Ordering::Acquire);
                continue;
            }
            match inner.state.compare_exchange_weak(
                state,
                state | CALLBACKS,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    callbacks.push(Box::new(callback));
                    return;
                }
                Err(now) => state = now,
            }
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &*self.inner;
        let mut state = inner.state.load(Ordering::Acquire);
        loop {
            if state & VALUE != 0 && state & TAKEN == 0 {
                // SAFETY: we are the receiver and saw VALUE without TAKEN.
                let value = unsafe { inner.take_value() };
                self.finished = true;
                return Poll::Ready(value.ok_or(RecvError));
            }
            if state & (TAKEN | NO_PROMISES) != 0 {
                self.finished = true;
                return Poll::Ready(Err(RecvError));
            }
            if state & WAKER != 0 {
                let same = inner.waker.with(|stored| {
                    // SAFETY: only we write the cell, and a promise only reads it; a shared
                    // read.
                    unsafe { &*stored }
                        .as_ref()
                        .is_some_and(|w| w.will_wake(cx.waker()))
                });
                if same {
                    return Poll::Pending;
                }
                // Take the waker back before replacing it; a promise that got there first
                // (VALUE or NO_PROMISES already set) may be reading it: then leave it.
                state = inner.state.fetch_and(!WAKER, Ordering::AcqRel);
                if state & (VALUE | NO_PROMISES) != 0 {
                    continue;
                }
            }
            // SAFETY: WAKER is clear, so no promise reads the cell until we set it again.
            let old = inner
                .waker
                .with_mut(|stored| unsafe { (*stored).replace(cx.waker().clone()) });
            state = inner.state.fetch_or(WAKER, Ordering::AcqRel);
            // Dropped after the update: freeing a task may run destructors that use this
            // channel.
            drop(old);
            if state & (VALUE | NO_PROMISES) == 0 {
                return Poll::Pending;
            }
            // Resolved while we stored the waker, without seeing it: take the outcome now.
            state = inner.state.load(Ordering::Acquire);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let inner = &*self.inner;
        let state = inner.state.fetch_or(RX_CLOSED, Ordering::AcqRel);
        // A value sent but never received, and callbacks never called, are dropped here.
        if state & VALUE != 0 && state & TAKEN == 0 {
            // SAFETY: VALUE was published: the promise is done with the cell, and we are the
            // receiver.
            drop(inner.value.with_mut(|cell| unsafe { (*cell).take() }));
        }
        let callbacks = std::mem::take(&mut *inner.callbacks());
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

/// Model checks of the state word's protocol: loom runs each body through the interleavings
/// of its two threads that can tell them apart. `RUSTFLAGS="--cfg loom" cargo test -p tulip-rt
/// --lib --release loom` (see `crate::loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::{RecvError, channel};
    use loom::future::block_on;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    #[test]
    fn loom_a_value_set_while_the_receiver_waits_arrives() {
        loom::model(|| {
            let (promise, receiver) = channel::<usize>();
            let sender = thread::spawn(move || promise.set_result(7).unwrap());
            assert_eq!(block_on(receiver), Ok(7));
            sender.join().unwrap();
        });
    }

    #[test]
    fn loom_a_receiver_dropped_while_the_value_is_set_loses_nothing() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            struct Counted(Arc<AtomicUsize>);
            impl Drop for Counted {
                fn drop(&mut self) {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
            let (promise, receiver) = channel::<Counted>();
            let value = Counted(drops.clone());
            let sender = thread::spawn(move || {
                if let Err(back) = promise.set_result(value) {
                    drop(back);
                }
            });
            drop(receiver);
            sender.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn loom_the_last_promise_dropped_while_waiting_gives_recv_error() {
        loom::model(|| {
            let (promise, receiver) = channel::<usize>();
            let twin = promise.clone();
            let dropper = thread::spawn(move || drop(twin));
            drop(promise);
            assert_eq!(block_on(receiver), Err(RecvError));
            dropper.join().unwrap();
        });
    }

    #[test]
    fn loom_of_two_clones_exactly_one_sets_the_value() {
        loom::model(|| {
            let (promise, receiver) = channel::<usize>();
            let twin = promise.clone();
            let other = thread::spawn(move || twin.set_result(2).is_ok());
            let mine = promise.set_result(1).is_ok();
            let theirs = other.join().unwrap();
            assert!(mine != theirs);
            let got = block_on(receiver).unwrap();
            assert_eq!(got, if mine { 1 } else { 2 });
        });
    }

    #[test]
    fn loom_a_callback_added_while_the_value_is_set_runs_once_first() {
        loom::model(|| {
            let calls = Arc::new(AtomicUsize::new(0));
            let (promise, mut receiver) = channel::<usize>();
            let sender = thread::spawn(move || promise.set_result(3).unwrap());
            let seen = calls.clone();
            receiver.add_done_callback(move |outcome| {
                assert_eq!(outcome, Ok(&3));
                seen.fetch_add(1, Ordering::SeqCst);
            });
            assert_eq!(block_on(receiver), Ok(3));
            sender.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        });
    }
}
