//! [`as_completed`]: asyncio's `for aw in asyncio.as_completed(aws, timeout=)`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use super::set::FutureSet;
use crate::time::{Elapsed, Instant, Sleep, sleep, sleep_until};

/// A [`Stream`] of the outputs of `futures`, in the order they complete: asyncio's
/// `as_completed`.
///
/// The futures are polled in place by whoever polls the stream (nothing is spawned), and
/// must be [`Unpin`]: [`Task`](crate::Task) handles are, and so is any future put in a
/// `Box::pin`. Outputs that are ready together come out in input order. The stream ends when
/// every future has completed. For a deadline on the whole, see
/// [`AsCompleted::timeout`].
///
/// # Cancel safety
///
/// Dropping the stream drops the futures not completed (task handles detach their tasks);
/// [`into_pending`](AsCompleted::into_pending) hands them back instead. Dropping a `next()`
/// call in progress loses nothing: an output is only taken out when it is returned.
///
/// # Examples
///
/// The seed's `coro([3, 2, 1])` and `coro([10, 5, 0])`: the first result is out at 3 s, the
/// second at 10 s.
///
/// ```
/// use std::time::Duration;
/// use tulip::combine::StreamExt;
/// use tulip::time::Instant;
///
/// async fn coro(mut seq: Vec<u64>) -> Vec<u64> {
///     let longest = *seq.iter().max().unwrap();
///     tulip::time::sleep(Duration::from_secs(longest)).await;
///     seq.reverse();
///     seq
/// }
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let t = tulip::spawn(coro(vec![3, 2, 1]));
///     let t2 = tulip::spawn(coro(vec![10, 5, 0]));
///     let mut results = tulip::as_completed([t2, t]);
///     assert_eq!(results.next().await.unwrap().unwrap(), [1, 2, 3]);
///     assert_eq!(start.elapsed(), Duration::from_secs(3));
///     assert_eq!(results.next().await.unwrap().unwrap(), [0, 5, 10]);
///     assert_eq!(start.elapsed(), Duration::from_secs(10));
///     assert!(results.next().await.is_none());
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Unpin,
{
    AsCompleted {
        set: FutureSet::from_iter(futures.into_iter().map(IntoFuture::into_future)),
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    set: FutureSet<F>,
}

impl<F: Future + Unpin> AsCompleted<F> {
    /// Ends the stream at `duration` from now: until then it yields `Ok(output)` as futures
    /// complete; at the deadline, if any future is still running, it yields one
    /// `Err(`[`Elapsed`]`)` and ends (asyncio raises `TimeoutError` from the loop). The futures
    /// still running are not cancelled by the deadline; take them back with
    /// [`AsCompletedTimeout::into_pending`] or drop the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::combine::StreamExt;
    /// use tulip::time::sleep;
    ///
    /// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    /// rt.block_on(async {
    ///     let fast = tulip::spawn(sleep(Duration::from_secs(1)));
    ///     let slow = tulip::spawn(sleep(Duration::from_secs(60)));
    ///     let mut stream = tulip::as_completed([fast, slow]).timeout(Duration::from_secs(5));
    ///     assert!(stream.next().await.unwrap().is_ok());
    ///     assert!(stream.next().await.unwrap().is_err()); // Elapsed, at 5 s
    ///     assert!(stream.next().await.is_none());
    ///     let slow = stream.into_pending().pop().unwrap();
    ///     assert!(!slow.is_finished()); // still running, still ours
    ///     slow.cancel();
    /// });
    /// ```
    pub fn timeout(self, duration: Duration) -> AsCompletedTimeout<F> {
        AsCompletedTimeout {
            inner: self,
            deadline: Some(sleep(duration)),
        }
    }

    /// Like [`timeout`](AsCompleted::timeout), with the deadline as an instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::combine::StreamExt;
    /// use tulip::time::Instant;
    ///
    /// tulip::run(async {
    ///     let never = tulip::spawn(std::future::pending::<()>());
    ///     let mut stream = tulip::as_completed([never]).timeout_at(Instant::now());
    ///     assert!(stream.next().await.unwrap().is_err());
    /// #   stream.into_pending()[0].cancel();
    /// });
    /// ```
    pub fn timeout_at(self, deadline: Instant) -> AsCompletedTimeout<F> {
        AsCompletedTimeout {
            inner: self,
            deadline: Some(sleep_until(deadline)),
        }
    }

    /// Futures not completed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let stream = tulip::combine::as_completed([std::future::ready(1)]);
    /// assert_eq!(stream.remaining(), 1);
    /// ```
    pub fn remaining(&self) -> usize {
        self.set.live()
    }

    /// Stops and hands back the futures not completed, in input order.
    ///
    /// # Examples
    ///
    /// ```
    /// let stream = tulip::combine::as_completed([std::future::ready(1)]);
    /// assert_eq!(stream.into_pending().len(), 1);
    /// ```
    pub fn into_pending(mut self) -> Vec<F> {
        self.set
            .take_live()
            .into_iter()
            .map(|(_, future)| future)
            .collect()
    }
}

impl<F: Future + Unpin> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let mut next = None;
        let polled = self.set.poll_some(cx, |_, output| {
            next = Some(output);
            ControlFlow::Break(())
        });
        match polled {
            Poll::Ready(()) => Poll::Ready(next),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.set.live(), Some(self.set.live()))
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("futures", &self.set.len())
            .finish_non_exhaustive()
    }
}

/// The stream returned by [`AsCompleted::timeout`]: outputs as `Ok`, then `Err(Elapsed)` once
/// if the deadline passes first.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedTimeout<F> {
    inner: AsCompleted<F>,
    /// `None` once the deadline has been reported.
    deadline: Option<Sleep>,
}

impl<F: Future + Unpin> AsCompletedTimeout<F> {
    /// Futures not completed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let stream = tulip::combine::as_completed([std::future::ready(1)]).timeout(Duration::from_secs(1));
    /// assert_eq!(stream.remaining(), 1);
    /// ```
    pub fn remaining(&self) -> usize {
        self.inner.remaining()
    }

    /// Stops and hands back the futures not completed, in input order.
    ///
    /// # Examples
    ///
    /// See [`AsCompleted::timeout`].
    pub fn into_pending(self) -> Vec<F> {
        self.inner.into_pending()
    }
}

impl<F: Future + Unpin> Stream for AsCompletedTimeout<F> {
    type Item = Result<F::Output, Elapsed>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(deadline) = &mut this.deadline else {
            return Poll::Ready(None);
        };
        // Outputs first: one that is ready when the deadline comes still counts.
        if let Poll::Ready(next) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(next.map(Ok));
        }
        if Pin::new(deadline).poll(cx).is_ready() {
            this.deadline = None;
            return Poll::Ready(Some(Err(Elapsed::new())));
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for AsCompletedTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTimeout")
            .field("inner", &self.inner)
            .field("deadline", &self.deadline.as_ref().map(Sleep::deadline))
            .finish()
    }
}
