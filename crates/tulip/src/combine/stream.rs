//! Async generators ([`generator`]) and what `async for` and async comprehensions do with
//! them ([`StreamExt`]: `next`, `map`, `filter`, `take`, `collect`, ...).
//!
//! Everything here is a [`futures_core::Stream`], so streams from other crates mix in freely.
//! The combinators are [`futures_lite`]'s (smol's small futures toolkit), re-exported.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pub use futures_core::Stream;
pub use futures_lite::stream::{StreamExt, empty, iter, once, repeat, unfold};

/// Writes a stream as an async block that yields values: Python's async generator
/// (`async def` with `yield`).
///
/// `body` receives a [`Yielder`]; `yielder.send(value).await` hands `value` to whoever polls
/// the stream and suspends the body until the next value is asked for. The stream ends when
/// the body returns. As in Python, nothing runs until the first value is asked for, and the
/// body runs only while someone waits for a value: a generator does not make iteration
/// concurrent.
///
/// The stream is `Send` when the body is and the values are, and `!Unpin`: pin it
/// (`std::pin::pin!`, `Box::pin`) before calling [`StreamExt::next`]; `collect`, `map` and the
/// other combinators that take the stream by value need no pinning.
///
/// # Cancel safety
///
/// Dropping the stream drops the body wherever it is suspended (Python's `aclose()`); a
/// value sent and not yet taken is dropped with it.
///
/// # Examples
///
/// The seed's `mygen(u)`, yielding powers of two with a tenth of a second between them, and
/// its two async comprehensions:
///
/// ```
/// use std::time::Duration;
/// use tulip::combine::stream::{Stream, StreamExt, generator};
///
/// fn mygen(u: u32) -> impl Stream<Item = u64> {
///     generator(move |y| async move {
///         for i in 0..u {
///             y.send(2u64.pow(i)).await;
///             tulip::time::sleep(Duration::from_millis(100)).await;
///         }
///     })
/// }
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let g: Vec<u64> = mygen(10).collect().await;
///     let f: Vec<u64> = mygen(10).filter(|j| j / 3 % 5 == 0).collect().await;
///     assert_eq!(g, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
///     assert_eq!(f, [1, 2, 16, 32, 256, 512]);
/// });
/// ```
pub fn generator<T, F, Fut>(body: F) -> Generator<T, Fut>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    let slot = Arc::new(Mutex::new(None));
    let body = body(Yielder { slot: slot.clone() });
    Generator {
        slot,
        body: Some(body),
    }
}

/// The body's handle for handing out values; see [`generator`].
pub struct Yielder<T> {
    slot: Arc<Mutex<Option<T>>>,
}

impl<T> Yielder<T> {
    /// Yields `value` to the stream's consumer and waits until the next value is asked for.
    ///
    /// Use it inside the generator's body only: the stream looks for values when it polls the
    /// body, so a value sent from another task would wait unseen.
    ///
    /// # Examples
    ///
    /// See [`generator`].
    pub fn send(&self, value: T) -> Sending<'_, T> {
        Sending {
            yielder: self,
            value: Some(value),
        }
    }
}

impl<T> fmt::Debug for Yielder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

/// The future returned by [`Yielder::send`].
#[must_use = "a value is yielded only when the send is awaited"]
pub struct Sending<'a, T> {
    yielder: &'a Yielder<T>,
    value: Option<T>,
}

impl<T> Unpin for Sending<'_, T> {}

impl<T> Future for Sending<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.value.is_none() {
            return Poll::Ready(());
        }
        // Leave the value for the stream and suspend the body. The stream polls the body again
        // whenever it is asked for the next value, so no waker is needed; a slot still full (two
        // sends raced inside the body) is retried at that next poll, losing nothing.
        let mut slot = lock(&self.yielder.slot);
        if slot.is_none() {
            *slot = self.value.take();
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for Sending<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sending")
            .field("sent", &self.value.is_none())
            .finish()
    }
}

pin_project! {
    /// The stream returned by [`generator`].
    #[must_use = "streams do nothing unless polled"]
    pub struct Generator<T, Fut> {
        slot: Arc<Mutex<Option<T>>>,
        // `None` once the body has returned.
        #[pin]
        body: Option<Fut>,
    }
}

fn lock<T>(slot: &Mutex<Option<T>>) -> std::sync::MutexGuard<'_, Option<T>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T, Fut: Future<Output = ()>> Stream for Generator<T, Fut> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        let Some(body) = this.body.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let finished = body.poll(cx).is_ready();
        if let Some(value) = lock(this.slot).take() {
            return Poll::Ready(Some(value));
        }
        if finished {
            this.body.set(None);
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<T, Fut> fmt::Debug for Generator<T, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("finished", &self.body.is_none())
            .finish_non_exhaustive()
    }
}
