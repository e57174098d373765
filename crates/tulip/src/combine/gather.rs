//! `gather!`, `try_gather!`, [`gather_all`] and [`try_gather_all`]: asyncio's `gather`.
//!
//! All four poll their futures in place, inside the task that awaits them: they spawn
//! nothing. Dropping one (because its task was cancelled, or a timeout gave up on it) drops
//! every future it still holds, which is how a future is cancelled in Rust. asyncio's `gather`
//! wraps coroutines in tasks and cancels those tasks when it is cancelled; polling in place
//! gives the same result without the tasks.
//!
//! A [`Task`](crate::Task) handle passed in is only awaited: dropping a handle detaches its
//! task (it keeps running), here as anywhere. To have the task cancelled with the gather, pass
//! it wrapped in [`CancelOnDrop`](super::CancelOnDrop), or gather the futures themselves.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::set::FutureSet;

/// Runs several futures concurrently and returns their outputs as a tuple, in argument order:
/// asyncio's `await gather(a, b, c)`, written `gather!(a, b, c).await`.
///
/// Unlike `futures::join!`, the macro makes a future and does not await it, so it can be
/// handed on: `wait_for(d, gather!(a, b))`.
///
/// The futures may have different output types. They are polled in place by the task that
/// awaits the `gather!`, which spawns nothing; each turn it polls all of them that have not
/// finished, so keep it to a handful (use [`gather_all`] for many).
///
/// Each argument may be anything [`IntoFuture`]; arguments are evaluated (not polled) where
/// the macro is written.
///
/// # Cancel safety
///
/// Dropping the `gather!` future drops every future it has not finished, cancelling them.
/// Outputs of those that had finished are dropped with it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip::time::{Instant, sleep};
///
/// async fn after(secs: u64, word: &str) -> String {
///     sleep(Duration::from_secs(secs)).await;
///     word.to_uppercase()
/// }
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let (a, b, n) = tulip::gather!(after(2, "a"), after(1, "b"), async { 3 }).await;
///     assert_eq!((a.as_str(), b.as_str(), n), ("A", "B", 3));
///     assert_eq!(start.elapsed(), Duration::from_secs(2)); // concurrently: the longest, not the sum
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_name!(gather; []; $($future,)+)
    };
}

/// Like [`gather!`], for futures whose outputs are `Result`s with the same error type: the
/// first `Err` wins and the futures not finished are dropped (cancelled) at once; with no error
/// the outputs come back as `Ok` of a tuple, in argument order.
///
/// asyncio's `gather` is different on the first error: it raises it but leaves the other
/// awaitables running. `try_gather!` cancels them, since nobody is left to collect their
/// results. To see every outcome instead, use [`gather!`] on the `Result`s (asyncio's
/// `return_exceptions=True`).
///
/// # Cancel safety
///
/// As for [`gather!`]: dropping it drops every future it has not finished.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
///     text.parse()
/// }
///
/// tulip::run(async {
///     let ok = tulip::try_gather!(parse("1"), parse("2")).await.unwrap();
///     assert_eq!(ok, (1, 2));
///
///     let never = async {
///         tulip::time::sleep(Duration::from_secs(3600)).await;
///         Ok(0)
///     };
///     // The error comes back at once; the hour-long sleep is dropped.
///     assert!(tulip::try_gather!(parse("x"), never).await.is_err());
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_name!(try_gather; []; $($future,)+)
    };
}

/// Gives each future of `gather!` / `try_gather!` a binding of its own: every `slot` below
/// comes from a different expansion of this macro, so hygiene keeps them apart.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_name {
    ($kind:ident; [$($named:tt)*]; $future:expr, $($rest:tt)*) => {
        $crate::__gather_name!($kind; [$($named)* (slot $future)]; $($rest)*)
    };
    (gather; [$(($slot:ident $future:expr))+];) => {{
        $(
            let $slot = $crate::combine::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($future),
            );
        )+
        async move {
            $( let mut $slot = ::core::pin::pin!($slot); )+
            ::core::future::poll_fn(move |cx| {
                let mut pending = false;
                $( pending |= $slot.as_mut().poll_step(cx).is_pending(); )+
                if pending {
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(($( $slot.as_mut().take_output(), )+))
            })
            .await
        }
    }};
    (try_gather; [$(($slot:ident $future:expr))+];) => {{
        $(
            let $slot = $crate::combine::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($future),
            );
        )+
        async move {
            $( let mut $slot = ::core::pin::pin!($slot); )+
            ::core::future::poll_fn(move |cx| {
                let mut pending = false;
                $(
                    pending |= $slot.as_mut().poll_step(cx).is_pending();
                    if let ::core::option::Option::Some(err) = $slot.as_mut().take_err() {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(err));
                    }
                )+
                if pending {
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(::core::result::Result::Ok((
                    $( $slot.as_mut().take_ok(), )+
                )))
            })
            .await
        }
    }};
}

pin_project! {
    /// One future of a `gather!`, then its output. Public only for the macros.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneTaken]
    pub enum MaybeDone<F: Future> {
        Running { #[pin] future: F },
        Done { output: F::Output },
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future not polled yet.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Running { future }
    }

    /// Polls the future if it is still running; `Ready` once it has an output.
    pub fn poll_step(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Running { future } => std::task::ready!(future.poll(cx)),
            MaybeDoneProj::Done { .. } | MaybeDoneProj::Taken => return Poll::Ready(()),
        };
        self.project_replace(MaybeDone::Done { output });
        Poll::Ready(())
    }

    /// The output, once [`poll_step`](MaybeDone::poll_step) said `Ready`.
    ///
    /// # Panics
    ///
    /// Before the output is there, or when it was taken already: the macros never do that.
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneTaken::Done { output } => output,
            _ => unreachable!("gather! takes each output once, after it is ready"),
        }
    }
}

impl<F, T, E> MaybeDone<F>
where
    F: Future<Output = Result<T, E>>,
{
    /// Takes the output if it is an error.
    pub fn take_err(mut self: Pin<&mut Self>) -> Option<E> {
        if !matches!(
            self.as_mut().project(),
            MaybeDoneProj::Done { output: Err(_) }
        ) {
            return None;
        }
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneTaken::Done { output: Err(err) } => Some(err),
            _ => None,
        }
    }

    /// Takes the output, known to be `Ok`.
    ///
    /// # Panics
    ///
    /// As [`take_output`](MaybeDone::take_output), or if the output is an error.
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.take_output() {
            Ok(value) => value,
            Err(_) => unreachable!("try_gather! returns errors before taking values"),
        }
    }
}

impl<F: Future> fmt::Debug for MaybeDone<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self {
            MaybeDone::Running { .. } => "Running",
            MaybeDone::Done { .. } => "Done",
            MaybeDone::Taken => "Taken",
        };
        f.write_str(state)
    }
}

/// Runs every future of `futures` concurrently and returns their outputs in input order:
/// asyncio's `await gather(*aws)`.
///
/// The futures are polled in place by the awaiting task (nothing is spawned), and only those
/// that woke are polled again, so gathering a hundred thousand costs about a hundred thousand
/// polls, not their square. Each future is boxed to pin it; [`Task`](crate::Task) handles are
/// small, so gathering tasks costs a few words per task.
///
/// Gathering [`Task`](crate::Task)s gives a `Vec<Result<T, JoinError>>`: every outcome, failed
/// or not, which is asyncio's `return_exceptions=True`.
///
/// # Cancel safety
///
/// Dropping the returned future drops every future not finished (cancelling them) and the
/// outputs gathered so far. Task handles among them detach; see the
/// [module docs](crate::combine#cancellation).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
/// rt.block_on(async {
///     let tasks: Vec<_> = [3u64, 1, 2]
///         .into_iter()
///         .map(|secs| {
///             tulip::spawn(async move {
///                 tulip::time::sleep(Duration::from_secs(secs)).await;
///                 secs
///             })
///         })
///         .collect();
///     let results = tulip::gather_all(tasks).await;
///     let secs: Vec<u64> = results.into_iter().map(Result::unwrap).collect();
///     assert_eq!(secs, [3, 1, 2]); // input order, not completion order
/// });
/// ```
pub fn gather_all<I>(futures: I) -> GatherAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let set = FutureSet::from_iter(futures.into_iter().map(|f| Box::pin(f.into_future())));
    let outputs = std::iter::repeat_with(|| None).take(set.len()).collect();
    GatherAll { set, outputs }
}

/// The future returned by [`gather_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<F: Future> {
    set: FutureSet<Pin<Box<F>>>,
    outputs: Vec<Option<F::Output>>,
}

// Nothing in it is pinned: the futures are boxed.
impl<F: Future> Unpin for GatherAll<F> {}

impl<F: Future> Future for GatherAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        let outputs = &mut this.outputs;
        std::task::ready!(this.set.poll_some(cx, |index, output| {
            outputs[index] = Some(output);
            ControlFlow::Continue(())
        }));
        let outputs = std::mem::take(&mut this.outputs);
        Poll::Ready(outputs.into_iter().flatten().collect())
    }
}

impl<F: Future> fmt::Debug for GatherAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("futures", &self.set.len())
            .field("pending", &self.set.live())
            .finish()
    }
}

/// Like [`gather_all`], for futures whose outputs are `Result`s: `Ok` with every value in
/// input order, or the first error, in which case every future not finished is dropped
/// (cancelled) before this returns.
///
/// This differs from asyncio's `gather`, which raises the first exception but leaves the
/// other awaitables running: here nobody would be left to collect them. Task handles among the
/// futures are detached rather than cancelled, unless wrapped in
/// [`CancelOnDrop`](super::CancelOnDrop).
///
/// # Cancel safety
///
/// As [`gather_all`]: dropping it drops every future not finished.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn fetch(n: u32) -> Result<u32, String> {
///     tulip::time::sleep(Duration::from_millis(u64::from(n))).await;
///     if n == 2 { Err(format!("{n} failed")) } else { Ok(n * 10) }
/// }
///
/// tulip::run(async {
///     assert_eq!(tulip::combine::try_gather_all([fetch(1), fetch(3)]).await, Ok(vec![10, 30]));
///     assert_eq!(
///         tulip::combine::try_gather_all([fetch(1), fetch(2), fetch(500)]).await,
///         Err("2 failed".to_owned()),
///     );
/// });
/// ```
pub fn try_gather_all<I, T, E>(futures: I) -> TryGatherAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let set = FutureSet::from_iter(futures.into_iter().map(|f| Box::pin(f.into_future())));
    let values = std::iter::repeat_with(|| None).take(set.len()).collect();
    TryGatherAll {
        set,
        values,
        error: None,
    }
}

/// The future returned by [`try_gather_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryGatherAll<F>
where
    F: Future,
    F::Output: Fallible,
{
    set: FutureSet<Pin<Box<F>>>,
    values: Vec<Option<<F::Output as Fallible>::Value>>,
    error: Option<<F::Output as Fallible>::Error>,
}

/// `Result<T, E>` seen through associated types, so [`TryGatherAll`] can name `T` and `E`.
#[doc(hidden)]
pub trait Fallible {
    /// The `T` of `Result<T, E>`.
    type Value;
    /// The `E` of `Result<T, E>`.
    type Error;
    /// The result itself.
    fn into_result(self) -> Result<Self::Value, Self::Error>;
}

impl<T, E> Fallible for Result<T, E> {
    type Value = T;
    type Error = E;
    fn into_result(self) -> Result<T, E> {
        self
    }
}

// Nothing in it is pinned: the futures are boxed.
impl<F: Future> Unpin for TryGatherAll<F> where F::Output: Fallible {}

impl<F> Future for TryGatherAll<F>
where
    F: Future,
    F::Output: Fallible,
{
    type Output = Result<Vec<<F::Output as Fallible>::Value>, <F::Output as Fallible>::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let (values, error) = (&mut this.values, &mut this.error);
        std::task::ready!(
            this.set
                .poll_some(cx, |index, output| match output.into_result() {
                    Ok(value) => {
                        values[index] = Some(value);
                        ControlFlow::Continue(())
                    }
                    Err(err) => {
                        *error = Some(err);
                        ControlFlow::Break(())
                    }
                })
        );
        if let Some(err) = this.error.take() {
            // The first error wins: cancel the rest now, not whenever this future is dropped.
            this.set.clear();
            this.values.clear();
            return Poll::Ready(Err(err));
        }
        let values = std::mem::take(&mut this.values);
        Poll::Ready(Ok(values.into_iter().flatten().collect()))
    }
}

impl<F: Future> fmt::Debug for TryGatherAll<F>
where
    F::Output: Fallible,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGatherAll")
            .field("futures", &self.set.len())
            .field("pending", &self.set.live())
            .finish()
    }
}
