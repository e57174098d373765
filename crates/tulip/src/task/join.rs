use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use super::raw::{
    CANCEL_REQUESTED, DETACHED, DONE, ENDED_CANCELLED, ENDED_PANICKED, HAS_CALLBACKS, RETRIEVED,
    RawTask, TaskMeta, UNREGISTERED,
};
use super::{Id, JoinError};
use crate::runtime::context;

/// A handle to a spawned task: asyncio's `Task`. Awaiting it gives the task's output, or a
/// [`JoinError`] saying it was cancelled or panicked.
///
/// Dropping the handle detaches the task: it keeps running, as in asyncio and tokio. Use
/// [`cancel`](Task::cancel) to stop it.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let task = tulip::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
#[must_use = "dropping a Task detaches it; await it or call .cancel() to stop it"]
pub struct Task<T> {
    raw: Option<RawTask<T>>,
}

impl<T> Task<T> {
    pub(crate) fn from_raw(raw: RawTask<T>) -> Task<T> {
        Task { raw: Some(raw) }
    }

    fn meta(&self) -> &TaskMeta {
        match &self.raw {
            Some(raw) => raw.metadata(),
            None => unreachable!("the raw task is only taken out in Drop"),
        }
    }

    /// Asks the task to stop, as asyncio's `Task.cancel()`: at its next resumption its future
    /// is dropped (destructors are its clean-up) and awaiting it gives
    /// [`JoinError::is_cancelled`]. Returns `false` if the task had already finished.
    ///
    /// Safe to call from any thread and any number of times.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tulip::run(async {
    ///     let sleeper = tulip::spawn(tulip::time::sleep(Duration::from_secs(3600)));
    ///     assert!(sleeper.cancel());
    ///     assert!(sleeper.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        let meta = self.meta();
        let before = meta.state.fetch_or(CANCEL_REQUESTED, Ordering::SeqCst);
        if before & DONE != 0 {
            return false;
        }
        let key = meta.key.load(Ordering::SeqCst);
        if key != UNREGISTERED {
            let woken =
                context::with_loop_of(&meta.shared, |core| core.wake_registered(key, meta.id));
            if woken.is_none() {
                meta.shared.inject_cancel(key, meta.id);
            }
        }
        // Unregistered means not yet polled, hence already scheduled: the first poll sees the flag.
        true
    }

    /// The task has finished: returned, panicked or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(async {});
    ///     assert!(!task.is_finished());
    ///     tulip::task::yield_now().await;
    ///     assert!(task.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.meta().state() & DONE != 0
    }

    /// The task finished because it was cancelled (asyncio's `Task.cancelled()`).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(std::future::pending::<()>());
    ///     task.cancel();
    ///     tulip::task::yield_now().await;
    ///     assert!(task.is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.meta().state() & ENDED_CANCELLED != 0
    }

    /// The task finished by panicking.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(async { panic!("x") });
    ///     tulip::task::yield_now().await;
    ///     assert!(task.is_panicked());
    /// #   let _ = task.await;
    /// });
    /// ```
    pub fn is_panicked(&self) -> bool {
        self.meta().state() & ENDED_PANICKED != 0
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(async { tulip::task::current().unwrap().id() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.meta().id
    }

    /// The name given with [`Builder::name`](super::Builder::name), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::task::Builder::new().name("fetcher").spawn(async {});
    ///     assert_eq!(task.name(), Some("fetcher"));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.meta().name()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(async {});
    ///     assert!(task.spawned_at().file().ends_with(".rs"));
    /// });
    /// ```
    pub fn spawned_at(&self) -> &'static std::panic::Location<'static> {
        self.meta().location
    }

    /// Detaches the task explicitly (the same as dropping the handle).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     tulip::spawn(async { println!("still runs") }).detach();
    ///     tulip::task::yield_now().await;
    /// });
    /// ```
    pub fn detach(self) {
        drop(self);
    }
}

impl<T: 'static> Task<T> {
    /// Calls `callback` with the task's outcome when it finishes, on the loop's thread, before
    /// anyone awaiting the task resumes (asyncio's `add_done_callback`). If the task has
    /// already finished, `callback` runs now (unless its outcome was already taken by awaiting
    /// it). A panicking callback is reported to the loop's exception handler.
    ///
    /// # Panics
    ///
    /// When called from a thread other than the one that owns the task's loop.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut task = tulip::spawn(async { "Done after 2s" });
    ///     task.add_done_callback(|outcome| println!("Callback: {}", outcome.as_ref().unwrap()));
    ///     task.await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn add_done_callback(&mut self, callback: impl FnOnce(&Result<T, JoinError>) + 'static) {
        let shared = self.meta().shared.clone();
        assert!(
            std::thread::current().id() == shared.owner,
            "Task::add_done_callback must be called on the thread that owns the task's loop"
        );
        let before = self.meta().state.fetch_or(HAS_CALLBACKS, Ordering::AcqRel);
        if before & DONE == 0 {
            let erased = Box::new(move |outcome: &dyn Any| {
                if let Some(outcome) = outcome.downcast_ref::<Result<T, JoinError>>() {
                    callback(outcome);
                }
            });
            super::callbacks::add(self.id(), erased);
            return;
        }
        if self.meta().state() & RETRIEVED != 0 {
            // Already awaited to completion: there is no outcome left to show.
            return;
        }
        let Some(output) = self.poll_finished() else {
            return;
        };
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&output)));
        if let Err(payload) = called {
            let message = super::error::panic_payload_message(&*payload);
            let context = self
                .meta()
                .exception_context("Exception in a task's done callback", message);
            shared.report(&context);
        }
        // The callback only borrowed the outcome; the awaiter still gets it, from a stand-in
        // task that already holds it (so a Task stays one pointer wide).
        let meta = self.meta().duplicate();
        let (runnable, ready) = async_task::Builder::new()
            .metadata(meta)
            .spawn_local(move |_| async move { output }, |_| {});
        runnable.run();
        self.raw = Some(ready);
    }

    /// Takes the output of a finished task without waiting.
    fn poll_finished(&mut self) -> Option<Result<T, JoinError>> {
        let raw = self.raw.as_mut()?;
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(raw).poll(&mut cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(raw) = self.raw.as_mut() else {
            return Poll::Pending;
        };
        let output = std::task::ready!(Pin::new(raw).poll(cx));
        self.meta().state.fetch_or(RETRIEVED, Ordering::AcqRel);
        Poll::Ready(output)
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        let Some(mut raw) = self.raw.take() else {
            return;
        };
        let before = raw.metadata().state.fetch_or(DETACHED, Ordering::AcqRel);
        if before & ENDED_PANICKED == 0 || before & RETRIEVED != 0 {
            raw.detach();
            return;
        }
        // The task panicked and nobody saw the outcome. Its finish() found no DETACHED bit, so
        // reporting falls to us: asyncio's "Task exception was never retrieved".
        let mut message = None;
        if raw.is_finished() {
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(Err(err)) = Pin::new(&mut raw).poll(&mut cx) {
                message = err.panic_message().map(str::to_owned);
            }
        }
        raw.metadata().report_unretrieved_panic(message.as_deref());
        raw.detach();
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}
