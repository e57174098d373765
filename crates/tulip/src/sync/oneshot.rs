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
use crate::loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

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
    let inner = NonNull::from(Box::leak(Box::new(Inner {
        state: AtomicUsize::new(0),
        promises: AtomicUsize::new(1),
        waker_data: AtomicPtr::new(ptr::null_mut()),
        waker_vtable: AtomicPtr::new(ptr::null_mut()),
        value: UnsafeCell::new(None),
        callbacks: ManuallyDrop::new(Mutex::new(Vec::new())),
    })));
    (
        Promise { inner },
        Receiver {
            inner,
            finished: false,
        },
    )
}

// The channel is one allocation whose state word is also its reference count: the promise
// side (all clones together) and the receiver each hold it until they set TX_GONE or RX_GONE,
// and whoever sees the other side gone, in the update that gives up its own hold or in a look
// at the state, frees it. A hop between two tasks (ping_pong in benches/README.md) costs two
// atomic updates of the word: the receiver's storing its waker, and the promise's publishing
// the value, taking the waker and letting go of the channel, all in one compare-exchange.
// Who may touch which part when:
//
// - `value` is written once, by the promise that set CLAIMED, before it sets VALUE; from then
//   on only the receiver reads or takes it (or whoever frees the channel drops it).
// - The waker slot (`waker_data`, `waker_vtable`: a `Waker`'s raw parts, so that reading them
//   while they may change is no data race) is written only by the receiver, and only while
//   WAKER is clear. A promise reads it only while it sees WAKER set, and owns what it read only
//   if its compare-exchange from exactly that state, clearing WAKER, succeeds. The receiver
//   bumps the generation (the bits from GEN_ONE up) every time it sets WAKER, so a state that
//   looks unchanged is unchanged: the slot was not rewritten in between. (The generation has
//   57 bits on 64-bit targets, 25 on 32-bit ones: a wrap-around within one compare-exchange
//   window would take that many re-registrations with different wakers.) A receiver that
//   clears WAKER itself (`fetch_and`) and finds it set owns the waker again.
// - Once a side has set its GONE bit it touches nothing of the channel, unless it saw the
//   other side's bit in the same update: then it frees the channel, alone.
// - Done callbacks are the slow path, under `callbacks`' lock: CALLBACKS is set only while
//   CLAIMED is not, so a promise knows from the state it claims whether it must run them
//   (then it publishes the outcome only once the list is empty, under the lock, and lets go
//   of the channel after unlocking).

/// A promise claimed the right to resolve the future (asyncio's "done", seen from the
/// promises).
const CLAIMED: usize = 1;
/// The value is in `value` for the receiver.
const VALUE: usize = 1 << 1;
/// Every promise was dropped without a value: the outcome is [`RecvError`].
const NO_VALUE: usize = 1 << 2;
/// The receiver's waker is in the waker slot.
const WAKER: usize = 1 << 3;
/// Done callbacks were added before the future was claimed.
const CALLBACKS: usize = 1 << 4;
/// The receiver let go of the channel (it took the outcome or was dropped).
const RX_GONE: usize = 1 << 5;
/// The promise side let go of the channel (every promise handle is gone).
const TX_GONE: usize = 1 << 6;
/// One step of the generation of the waker slot, counted in the bits from here up.
const GEN_ONE: usize = 1 << 7;

struct Inner<T> {
    state: AtomicUsize,
    /// Live [`Promise`] handles that did not let go yet. A lone handle does not bother to
    /// count itself out: nobody else reads the count.
    promises: AtomicUsize,
    waker_data: AtomicPtr<()>,
    waker_vtable: AtomicPtr<RawWakerVTable>,
    value: UnsafeCell<Option<T>>,
    /// Dropped by [`free`], and only if CALLBACKS was ever set: otherwise the list never
    /// allocated.
    callbacks: ManuallyDrop<Mutex<Vec<Callback<T>>>>,
}

/// A done callback: sees the result (or that there will be none) before anyone can take it.
type Callback<T> = Box<dyn FnOnce(Result<&T, RecvError>) + Send>;

/// A waker's raw parts, as the slot holds them.
type WakerParts = (*mut (), *mut RawWakerVTable);

impl<T> Inner<T> {
    fn callbacks(&self) -> MutexGuard<'_, Vec<Callback<T>>> {
        // A panicking callback runs unlocked, so a poisoned lock guards nothing half-done.
        self.callbacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The waker slot as it is now (whether it holds a waker, the state says).
    fn waker_parts(&self) -> WakerParts {
        (
            self.waker_data.load(Ordering::Relaxed),
            self.waker_vtable.load(Ordering::Relaxed),
        )
    }

    /// Gives `waker` to the slot. Receiver only, while WAKER is clear; setting WAKER (with
    /// Release) publishes it.
    fn store_waker(&self, waker: Waker) {
        let waker = ManuallyDrop::new(waker);
        self.waker_data
            .store(waker.data().cast_mut(), Ordering::Relaxed);
        self.waker_vtable
            .store(ptr::from_ref(waker.vtable()).cast_mut(), Ordering::Relaxed);
    }

    /// Sets `flag` (VALUE or NO_VALUE) and takes the receiver's waker, if it stored one and is
    /// still there, in one update. The caller claimed the future (or is the last promise).
    fn publish(&self, flag: usize) -> Option<Waker> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let take = state & (WAKER | RX_GONE) == WAKER;
            let parts = if take { self.waker_parts() } else { NO_PARTS };
            let new = if take {
                (state | flag) & !WAKER
            } else {
                state | flag
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: WAKER was set and the receiver there in the state our update
                // replaced, so `parts` is the waker it stored, now ours.
                Ok(_) => return take.then(|| unsafe { own_waker(parts) }),
                Err(now) => state = now,
            }
        }
    }
}

const NO_PARTS: WakerParts = (ptr::null_mut(), ptr::null_mut());

/// The waker whose raw parts were read from the slot.
///
/// # Safety
///
/// The slot held a waker given to it by [`Inner::store_waker`] and the caller now owns it:
/// its update cleared WAKER from a state that had it set (or saw that no promise can take it).
unsafe fn own_waker(parts: WakerParts) -> Waker {
    // SAFETY: the parts are those of a live `Waker` that was forgotten into the slot and that
    // nobody else will rebuild (the caller's contract), so the vtable is `'static` and the
    // data pointer fits it.
    unsafe { Waker::from_raw(RawWaker::new(parts.0, &*parts.1)) }
}

/// Frees the channel.
///
/// # Safety
///
/// Both sides let go of it, and the caller is the one that saw the second do so.
unsafe fn free<T>(inner: NonNull<Inner<T>>) {
    // SAFETY: the channel was leaked from a `Box` in `channel`, and nobody else touches it
    // any more (the caller's contract).
    let mut inner = unsafe { Box::from_raw(inner.as_ptr()) };
    // Only a receiver that added callbacks ever gave the list an allocation (loom's mutex
    // must be dropped in any case).
    if cfg!(loom) || inner.state.load(Ordering::Relaxed) & CALLBACKS != 0 {
        // SAFETY: dropped once, here, and the channel goes with it.
        unsafe { ManuallyDrop::drop(&mut inner.callbacks) };
    }
    drop(inner);
}

/// The last promise handle lets go of the channel, whose outcome it published (or saw
/// published).
///
/// # Safety
///
/// The caller is the last promise handle, and touches nothing of the channel afterwards.
unsafe fn release_promises<T>(inner: NonNull<Inner<T>>) {
    // SAFETY: the promise side still holds the channel.
    let state = unsafe { inner.as_ref() };
    // Only the last handle sets TX_GONE, once: adding it sets the bit.
    if state.state.fetch_add(TX_GONE, Ordering::AcqRel) & RX_GONE != 0 {
        // SAFETY: the receiver let go before us.
        unsafe { free(inner) };
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
    /// Held by the promise side until the last handle lets go (a handle that resolved the
    /// future lets go there and is forgotten, not dropped).
    inner: NonNull<Inner<T>>,
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
    inner: NonNull<Inner<T>>,
    /// The outcome was handed out: the receiver let go of the channel, and `Drop` has nothing
    /// to do.
    finished: bool,
}

// SAFETY: the handles share `Inner` as the protocol above allows: `value` has one writer before
// VALUE is published (Release) and one reader after it is seen (Acquire), so `T: Send`
// suffices, as for a `Mutex<T>`; wakers are `Send + Sync`; no `&T` is ever shared between two
// threads at once (callbacks see the value on the resolving thread before it is published, or
// on the receiver's own thread). As `Arc<Inner<T>>` was.
unsafe impl<T: Send> Send for Promise<T> {}
// SAFETY: as for `Send`; a `&Promise` only reads the state.
unsafe impl<T: Send> Sync for Promise<T> {}
// SAFETY: as for `Promise`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: as for `Promise`; a `&Receiver` only reads the state.
unsafe impl<T: Send> Sync for Receiver<T> {}

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
    fn inner(&self) -> &Inner<T> {
        // SAFETY: a live handle keeps the promise side's hold on the channel.
        unsafe { self.inner.as_ref() }
    }

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
    pub fn set_result(self, value: T) -> Result<(), T> {
        // SAFETY: this handle holds the channel until its update below lets go.
        let inner = unsafe { self.inner.as_ref() };
        // The common case, one promise and no callbacks, in one atomic step: store the value,
        // then claim and publish it, take the receiver's waker and let go of the channel
        // together. No clone exists or can appear (this handle is the only one, and it is
        // being consumed), so nobody else can claim. The count is read first: a clone that
        // set the value counts itself out only after publishing it (see `set_result_slow`),
        // so seeing 1 here means its CLAIMED is visible below.
        let alone = inner.promises.load(Ordering::Acquire) == 1;
        let mut state = inner.state.load(Ordering::Acquire);
        if !alone || state & (CLAIMED | RX_GONE | CALLBACKS) != 0 {
            return self.set_result_slow(value, state);
        }
        // SAFETY: nobody can claim but us, and the receiver reads the cell only after seeing
        // VALUE, which is not set yet; the cell holds `None` (nothing to drop).
        inner
            .value
            .with_mut(|cell| unsafe { cell.write(Some(value)) });
        loop {
            let take = state & WAKER != 0;
            let parts = if take { inner.waker_parts() } else { NO_PARTS };
            match inner.state.compare_exchange_weak(
                state,
                (state & !WAKER) | CLAIMED | VALUE | TX_GONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // The channel may be freed by now: only what is on our stack is left,
                    // and this handle has let go.
                    std::mem::forget(self);
                    if take {
                        // SAFETY: WAKER was set in the state our update replaced and cleared,
                        // so `parts` is the receiver's waker, now ours.
                        unsafe { own_waker(parts) }.wake();
                    }
                    return Ok(());
                }
                // The receiver stored its waker meanwhile: try again.
                Err(now) if now & (CLAIMED | RX_GONE | CALLBACKS) == 0 => state = now,
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

    /// [`set_result`](Promise::set_result) with clones or callbacks about; `state` is a recent
    /// look at the state.
    #[cold]
    #[inline(never)]
    fn set_result_slow(self, value: T, mut state: usize) -> Result<(), T> {
        // SAFETY: this handle holds the channel until it lets go below.
        let inner = unsafe { self.inner.as_ref() };
        loop {
            if state & (CLAIMED | RX_GONE) != 0 {
                // `Drop` counts this handle out.
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
        let (waker, panic) = if state & CALLBACKS == 0 {
            // SAFETY: CLAIMED is ours, so we are the cell's only writer, and the receiver reads
            // it only after seeing VALUE, which we set below.
            inner
                .value
                .with_mut(|cell| unsafe { cell.write(Some(value)) });
            (inner.publish(VALUE), None)
        } else {
            // Callbacks run unlocked (they may use the channel); one added meanwhile joins the
            // list, so go round until it is empty, and publish the value under the lock.
            let mut panic = None;
            let mut callbacks = inner.callbacks();
            loop {
                if callbacks.is_empty() {
                    // SAFETY: as above; the lock keeps new callbacks out until VALUE is set.
                    inner
                        .value
                        .with_mut(|cell| unsafe { cell.write(Some(value)) });
                    let waker = inner.publish(VALUE);
                    // Still ours to unlock: the promise side holds the channel.
                    drop(callbacks);
                    break (waker, panic);
                }
                let batch = std::mem::take(&mut *callbacks);
                drop(callbacks);
                panic = panic.or(run_callbacks(batch, Ok(&value)));
                callbacks = inner.callbacks();
            }
        };
        // Counted out only now that the value is published: a sibling that then finds itself
        // alone (the fast path above) must also find the value claimed.
        let last = inner.promises.load(Ordering::Acquire) == 1
            || inner.promises.fetch_sub(1, Ordering::AcqRel) == 1;
        let promise = self.inner;
        std::mem::forget(self);
        if last {
            // SAFETY: we are the last handle, and touch nothing of the channel from here on.
            unsafe { release_promises(promise) };
        }
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
        self.inner().state.load(Ordering::Acquire) & RX_GONE != 0
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
        self.inner().state.load(Ordering::Acquire) & CLAIMED != 0
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
        self.inner().promises.fetch_add(1, Ordering::Relaxed);
        Promise { inner: self.inner }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        let inner = self.inner();
        // A lone handle is the last without counting itself out.
        if inner.promises.load(Ordering::Acquire) != 1
            && inner.promises.fetch_sub(1, Ordering::AcqRel) != 1
        {
            return;
        }
        // The last handle: unless a clone set the value, there will be none. Say so, take the
        // receiver's waker and let go of the channel in one update (callbacks aside).
        let mut state = inner.state.load(Ordering::Acquire);
        loop {
            if state & RX_GONE != 0 {
                // SAFETY: the receiver let go, and we are the last handle.
                unsafe { free(self.inner) };
                return;
            }
            if state & (CLAIMED | CALLBACKS) == CALLBACKS {
                match inner.state.compare_exchange_weak(
                    state,
                    state | CLAIMED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return self.resolve_empty_with_callbacks(),
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
            // Claimed means a clone published the value (it counted itself out afterwards).
            let claimed = state & CLAIMED != 0;
            let take = !claimed && state & WAKER != 0;
            let parts = if take { inner.waker_parts() } else { NO_PARTS };
            let new = if claimed {
                state | TX_GONE
            } else {
                (state & !WAKER) | NO_VALUE | TX_GONE
            };
            match inner
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // The channel may be freed by now: only what is on our stack is left.
                    if take {
                        // SAFETY: WAKER was set (and the receiver there) in the state our
                        // update replaced and cleared, so `parts` is its waker, now ours.
                        unsafe { own_waker(parts) }.wake();
                    }
                    return;
                }
                Err(now) => state = now,
            }
        }
    }
}

impl<T> Promise<T> {
    /// The last handle, dropped unresolved, claimed the future to run the done callbacks with
    /// [`RecvError`]; publishes NO_VALUE once they ran, then lets go of the channel (the
    /// handle's `Drop` ends there).
    #[cold]
    #[inline(never)]
    fn resolve_empty_with_callbacks(&mut self) {
        let inner = self.inner();
        let mut panic = None;
        let mut callbacks = inner.callbacks();
        let waker = loop {
            if callbacks.is_empty() {
                let waker = inner.publish(NO_VALUE);
                drop(callbacks);
                break waker;
            }
            let batch = std::mem::take(&mut *callbacks);
            drop(callbacks);
            panic = panic.or(run_callbacks(batch, Err(RecvError)));
            callbacks = inner.callbacks();
        };
        // SAFETY: we are the last handle, and touch nothing of the channel from here on.
        unsafe { release_promises(self.inner) };
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(payload) = panic
            && !std::thread::panicking()
        {
            resume_unwind(payload);
        }
    }
}

impl<T> Receiver<T> {
    /// The channel, while the receiver holds it (until `finished`).
    fn inner(&self) -> &Inner<T> {
        debug_assert!(!self.finished, "the receiver let go of the channel");
        // SAFETY: a receiver that is not finished keeps its hold on the channel.
        unsafe { self.inner.as_ref() }
    }

    /// Hands out the outcome, which `state` (seen with Acquire) says is in, and lets go of the
    /// channel.
    #[inline]
    fn finish(&mut self, state: usize) -> Result<T, RecvError> {
        debug_assert!(state & (VALUE | NO_VALUE) != 0);
        debug_assert!(!self.finished);
        // SAFETY: not finished yet, the receiver holds the channel; we let go at the end.
        let inner = unsafe { self.inner.as_ref() };
        let value = if state & VALUE != 0 {
            // SAFETY: the promise that set VALUE wrote the cell before and never touches it
            // again; we are the receiver (`&mut self`).
            inner.value.with_mut(|cell| unsafe { (*cell).take() })
        } else {
            None
        };
        self.finished = true;
        // Every promise gone already (the common case: `set_result` lets go as it publishes):
        // the channel is ours alone, no update needed. Otherwise say we are gone; only the
        // receiver sets RX_GONE, once, so adding it sets the bit.
        if state & TX_GONE != 0 || inner.state.fetch_add(RX_GONE, Ordering::AcqRel) & TX_GONE != 0 {
            // SAFETY: the promise side let go before us.
            unsafe { free(self.inner) };
        }
        value.ok_or(RecvError)
    }

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
        self.finished || self.inner().state.load(Ordering::Acquire) & (CLAIMED | NO_VALUE) != 0
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
        if self.finished {
            return Err(RecvError);
        }
        let state = self.inner().state.load(Ordering::Acquire);
        if state & (VALUE | NO_VALUE) == 0 {
            return Ok(None);
        }
        self.finish(state).map(Some)
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
        if self.finished {
            callback(Err(RecvError));
            return;
        }
        let inner = self.inner();
        let mut callbacks = inner.callbacks();
        let mut state = inner.state.load(Ordering::Acquire);
        loop {
            if state & NO_VALUE != 0 {
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
                    // The resolving promise runs the list before it publishes the outcome, and
                    // it cannot publish while we hold the lock.
                    callbacks.push(Box::new(callback));
                    return;
                }
                // Claimed without callbacks: the value is being stored; it takes a few
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
        if self.finished {
            return Poll::Ready(Err(RecvError));
        }
        // SAFETY: not finished, the receiver holds the channel until `finish` lets go, after
        // which we return without touching it.
        let inner = unsafe { self.inner.as_ref() };
        let state = inner.state.load(Ordering::Acquire);
        if state & (VALUE | NO_VALUE) != 0 {
            return Poll::Ready(self.finish(state));
        }
        if state & WAKER == 0 {
            // The first wait: WAKER is clear, so no promise reads the slot until we set it.
            return self.register(cx.waker(), None);
        }
        // Polled again while waiting; only we write the slot, so this is what we stored.
        let parts = inner.waker_parts();
        let waker = cx.waker();
        if waker.data() == parts.0.cast_const() && ptr::eq(waker.vtable(), parts.1) {
            return Poll::Pending;
        }
        self.replace_waker(waker, parts)
    }
}

impl<T> Receiver<T> {
    /// Stores `waker` in the slot (WAKER is clear) and publishes it with a new generation;
    /// `replaced`, the waker it takes the place of, is dropped on the way out (dropping a
    /// waker may free a task, whose destructors may use this channel).
    #[inline]
    fn register(&mut self, waker: &Waker, replaced: Option<Waker>) -> Poll<Result<T, RecvError>> {
        // SAFETY: not finished (our callers checked), the receiver holds the channel.
        let inner = unsafe { self.inner.as_ref() };
        inner.store_waker(waker.clone());
        // Adding to a clear WAKER bit sets it.
        let before = inner.state.fetch_add(WAKER | GEN_ONE, Ordering::AcqRel);
        if before & (VALUE | NO_VALUE) == 0 {
            drop(replaced);
            return Poll::Pending;
        }
        // Resolved while we stored the waker, without seeing it: no promise takes it once the
        // outcome is published, so it is ours again. Take the outcome.
        // SAFETY: the slot holds the waker we just stored, and nobody else will rebuild it.
        drop(unsafe { own_waker(inner.waker_parts()) });
        let outcome = self.finish(before);
        drop(replaced);
        Poll::Ready(outcome)
    }

    /// Polled with a waker other than the one stored (`parts`): takes that one back and
    /// stores this one.
    #[cold]
    #[inline(never)]
    fn replace_waker(&mut self, waker: &Waker, parts: WakerParts) -> Poll<Result<T, RecvError>> {
        // SAFETY: not finished (`poll` checked), the receiver holds the channel.
        let inner = unsafe { self.inner.as_ref() };
        // Take the waker back before replacing it. If a promise took it first (WAKER already
        // clear), the outcome is in.
        let before = inner.state.fetch_and(!WAKER, Ordering::AcqRel);
        if before & WAKER == 0 {
            return Poll::Ready(self.finish(before));
        }
        // SAFETY: we cleared WAKER, so no promise owns the waker: it is ours again.
        let replaced = unsafe { own_waker(parts) };
        self.register(waker, Some(replaced))
    }

    /// `Drop`, for a receiver that still holds the channel.
    #[cold]
    #[inline(never)]
    fn close(&mut self) {
        // SAFETY: not finished, the receiver holds the channel until its update below.
        let inner = unsafe { self.inner.as_ref() };
        let state = inner.state.load(Ordering::Acquire);
        if state & VALUE != 0 {
            // A value sent but never received is dropped here.
            drop(self.finish(state));
            return;
        }
        // Callbacks of a receiver dropped before the future is done are dropped uncalled.
        // Only the receiver adds them, so none can join the list after this.
        let callbacks = if state & CALLBACKS != 0 {
            std::mem::take(&mut *inner.callbacks())
        } else {
            Vec::new()
        };
        // Read before we let go: only we write the slot, so this is what we stored, if WAKER
        // says there is something.
        let parts = inner.waker_parts();
        self.finished = true;
        // Only the receiver sets RX_GONE, once, so adding it sets the bit.
        let before = inner.state.fetch_add(RX_GONE, Ordering::AcqRel);
        if before & TX_GONE != 0 {
            // SAFETY: the promise side let go before us. Whatever was published since our
            // look (a value) is dropped with the channel.
            unsafe { free(self.inner) };
        }
        // Nothing of the channel is touched from here on.
        if before & WAKER != 0 {
            // SAFETY: WAKER was still set when RX_GONE landed, so no promise took the waker,
            // and none will (they take it only while RX_GONE is clear): it is ours.
            drop(unsafe { own_waker(parts) });
        }
        drop(callbacks);
    }
}

impl<T> Drop for Receiver<T> {
    #[inline]
    fn drop(&mut self) {
        if !self.finished {
            self.close();
        }
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
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::thread;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Wake, Waker};

    /// A value that counts its drops, to see that a raced value is dropped exactly once.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A waker that remembers being woken; its `std` `Arc`'s count tells whether the channel
    /// still holds a clone.
    #[derive(Default)]
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn flag() -> (std::sync::Arc<Flag>, Waker) {
        let flag = std::sync::Arc::new(Flag::default());
        (flag.clone(), Waker::from(flag))
    }

    /// Polls `future` once with `waker`.
    fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(waker))
    }

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

    #[test]
    fn loom_a_waker_replaced_while_the_value_is_set_is_the_one_woken() {
        loom::model(|| {
            let (promise, mut receiver) = channel::<usize>();
            let sender = thread::spawn(move || promise.set_result(7).unwrap());
            let (a, waker_a) = flag();
            let (b, waker_b) = flag();
            let mut outcome = poll_with(&mut receiver, &waker_a);
            if outcome.is_pending() {
                outcome = poll_with(&mut receiver, &waker_b);
            }
            sender.join().unwrap();
            if outcome.is_pending() {
                // Pending with waker B stored: the value came after, so B was woken.
                assert!(b.0.load(Ordering::SeqCst), "the stored waker was not woken");
                outcome = poll_with(&mut receiver, &waker_b);
            }
            assert_eq!(outcome, Poll::Ready(Ok(7)));
            drop(receiver);
            drop((waker_a, waker_b));
            // Every clone the channel made was dropped (or woken) exactly once.
            assert_eq!(std::sync::Arc::strong_count(&a), 1);
            assert_eq!(std::sync::Arc::strong_count(&b), 1);
        });
    }

    #[test]
    fn loom_a_waiting_receiver_and_its_promise_dropped_at_once_free_everything_once() {
        loom::model(|| {
            let (promise, mut receiver) = channel::<usize>();
            let (a, waker_a) = flag();
            assert!(poll_with(&mut receiver, &waker_a).is_pending());
            let dropper = thread::spawn(move || drop(promise));
            drop(receiver);
            dropper.join().unwrap();
            drop(waker_a);
            assert_eq!(std::sync::Arc::strong_count(&a), 1);
        });
    }

    #[test]
    fn loom_a_value_and_a_closing_receiver_race_and_the_value_is_dropped_once() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let (promise, mut receiver) = channel::<Counted>();
            let (a, waker_a) = flag();
            let value = Counted(drops.clone());
            let sender = thread::spawn(move || drop(promise.set_result(value)));
            if let Poll::Ready(outcome) = poll_with(&mut receiver, &waker_a) {
                assert!(outcome.is_ok());
            }
            drop(receiver);
            sender.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            drop(waker_a);
            assert_eq!(std::sync::Arc::strong_count(&a), 1);
        });
    }

    #[test]
    fn loom_the_last_of_two_promises_dropped_while_the_other_sets_the_value() {
        loom::model(|| {
            let (promise, receiver) = channel::<usize>();
            let twin = promise.clone();
            let setter = thread::spawn(move || promise.set_result(1).is_ok());
            drop(twin);
            let set = setter.join().unwrap();
            assert!(set);
            assert_eq!(block_on(receiver), Ok(1));
        });
    }

    #[test]
    fn loom_a_clone_set_while_the_receiver_waits_and_the_twin_drops() {
        loom::model(|| {
            let (promise, receiver) = channel::<usize>();
            let twin = promise.clone();
            let setter = thread::spawn(move || promise.set_result(1).is_ok());
            let outcome = block_on(receiver);
            drop(twin);
            let set = setter.join().unwrap();
            assert_eq!(outcome, if set { Ok(1) } else { Err(RecvError) });
            assert!(set);
        });
    }
}
