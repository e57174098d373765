//! The task allocation: async-task's header carries our [`TaskMeta`]; the future it runs is a
//! [`TaskFuture`], which adds asyncio's cancellation, panic capture and done callbacks.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{Id, JoinError};
use crate::runtime::context;
use crate::runtime::exception::ExceptionContext;
use crate::runtime::shared::Shared;

pub(crate) type Runnable = async_task::Runnable<TaskMeta>;
pub(crate) type RawTask<T> = async_task::Task<Result<T, JoinError>, TaskMeta>;

// Bits of `TaskMeta::state`.
pub(crate) const CANCEL_REQUESTED: u32 = 1 << 0;
pub(crate) const DETACHED: u32 = 1 << 1;
pub(crate) const HAS_CALLBACKS: u32 = 1 << 2;
pub(crate) const DONE: u32 = 1 << 3;
pub(crate) const ENDED_CANCELLED: u32 = 1 << 4;
pub(crate) const ENDED_PANICKED: u32 = 1 << 5;
/// The future is `!Send`: it must never be dropped off the loop thread.
pub(crate) const LOCAL: u32 = 1 << 6;
/// Someone has seen the outcome (awaited the task, or a done callback got it).
pub(crate) const RETRIEVED: u32 = 1 << 7;

pub(crate) const UNREGISTERED: u32 = u32::MAX;

/// Per-task data stored in the task's header (one allocation per task).
#[derive(Debug)]
pub(crate) struct TaskMeta {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: Id,
    pub(crate) state: AtomicU32,
    /// Key in the loop's task registry, or `UNREGISTERED` before the first poll of a task
    /// spawned from another thread.
    pub(crate) key: AtomicU32,
    pub(crate) location: &'static Location<'static>,
    /// Boxed twice so that unnamed tasks (most) pay one pointer, not two.
    name: Option<Box<Name>>,
}

#[derive(Debug, Clone)]
struct Name(Box<str>);

impl TaskMeta {
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_ref().map(|name| &*name.0)
    }

    /// A copy for a task that stands in for this one (see `Task::add_done_callback`).
    pub(crate) fn duplicate(&self) -> TaskMeta {
        TaskMeta {
            shared: self.shared.clone(),
            id: self.id,
            state: AtomicU32::new(self.state()),
            key: AtomicU32::new(UNREGISTERED),
            location: self.location,
            name: self.name.clone(),
        }
    }

    pub(crate) fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    pub(crate) fn exception_context(&self, message: &str, panic: Option<&str>) -> ExceptionContext {
        ExceptionContext {
            message: message.to_owned(),
            task_id: Some(self.id),
            task_name: self.name().map(str::to_owned),
            spawned_at: Some(self.location),
            panic_message: panic.map(str::to_owned),
        }
    }

    pub(crate) fn report_unretrieved_panic(&self, panic: Option<&str>) {
        self.shared
            .report(&self.exception_context("Task exception was never retrieved", panic));
    }
}

/// What becomes of a task woken after its loop closed.
pub(crate) fn discard_after_close(runnable: Runnable) {
    if runnable.metadata().state() & LOCAL != 0 {
        // A !Send future may only be dropped on its own thread, which may not be this one (and
        // its loop is gone). Leaking it is the only sound choice; a closed loop's stragglers
        // are rare and small.
        std::mem::forget(runnable);
    } else {
        // Run it here: off its loop, the task cancels itself, so its handle gets an outcome.
        runnable.run();
    }
}

/// Where a scheduled task goes: straight onto the ready queue on its loop's own thread,
/// through the injection queue from anywhere else.
fn schedule(runnable: Runnable) {
    let runnable = match context::push_if_on_loop(runnable) {
        None => return,
        Some(runnable) => runnable,
    };
    let shared = runnable.metadata().shared.clone();
    shared.inject(runnable);
}

/// Allocates a task. The caller schedules the returned runnable; the task registers itself
/// if it ever waits.
pub(crate) fn allocate<F>(
    shared: Arc<Shared>,
    future: F,
    name: Option<Box<str>>,
    location: &'static Location<'static>,
    local: bool,
) -> (Runnable, RawTask<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let meta = TaskMeta {
        shared,
        id: Id::next(),
        state: AtomicU32::new(if local { LOCAL } else { 0 }),
        key: AtomicU32::new(UNREGISTERED),
        location,
        name: name.map(|name| Box::new(Name(name))),
    };
    // SAFETY: async-task's conditions for spawn_unchecked:
    // - the future may be !Send: callers pass `local = true` for those, and then every
    //   Runnable is run only on the loop's thread (`schedule` pushes off-thread wakes into the
    //   injection queue, which only the loop thread drains), and a Runnable that cannot reach
    //   its loop any more is leaked, never dropped elsewhere (`discard_after_close`);
    // - the future borrows only the task's own metadata, which async-task keeps alive until
    //   the future has been dropped; everything else it holds is 'static;
    // - `schedule` is a plain fn: Send, Sync and 'static.
    let (runnable, task) = unsafe {
        async_task::Builder::new()
            .metadata(meta)
            .spawn_unchecked(task_future(future), schedule)
    };
    (runnable, task)
}

/// The closure async-task calls with the metadata's address to build the task's future.
fn task_future<'a, F: Future>(future: F) -> impl FnOnce(&'a TaskMeta) -> TaskFuture<'a, F> {
    move |meta| TaskFuture {
        meta,
        future: Some(future),
    }
}

pin_project! {
    /// The future a task allocation runs: the user's future plus asyncio's task semantics.
    pub(crate) struct TaskFuture<'a, F: Future> {
        meta: &'a TaskMeta,
        #[pin]
        future: Option<F>,
    }

    impl<'a, F: Future> PinnedDrop for TaskFuture<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped without finishing: the loop is closing, or the task was freed unpolled.
            let meta: &TaskMeta = this.meta;
            if meta.state() & DONE == 0 {
                meta.state.fetch_or(DONE | ENDED_CANCELLED, Ordering::AcqRel);
                context::unregister_task(meta);
            }
        }
    }
}

impl<F: Future> Future for TaskFuture<'_, F>
where
    F::Output: 'static,
{
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let meta: &TaskMeta = this.meta;
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            // Polled after completion: async-task never does this.
            return Poll::Pending;
        };
        // One look at the thread's loop per poll: this is the hottest path of the runtime.
        // `None` means cancelled (or run off its loop, which only a closed loop does).
        let polled = context::with_loop_of(&meta.shared, |core| {
            if core.cancel_before_poll(meta) {
                return None;
            }
            let polled =
                core.with_current_task(meta, || catch_unwind(AssertUnwindSafe(|| future.poll(cx))));
            if let Ok(Poll::Pending) = polled {
                core.register_pending(meta, cx.waker());
            }
            Some(polled)
        })
        .flatten();
        let outcome = match polled {
            Some(Ok(Poll::Pending)) => return Poll::Pending,
            Some(Ok(Poll::Ready(value))) => {
                // Drop the future here, inside the task, so its destructor runs on the loop
                // and a panic in it is caught like any other.
                match catch_unwind(AssertUnwindSafe(|| this.future.set(None))) {
                    Ok(()) => Ok(value),
                    Err(payload) => Err(JoinError::panic(meta.id, payload)),
                }
            }
            Some(Err(payload)) => {
                let _ = catch_unwind(AssertUnwindSafe(|| this.future.set(None)));
                Err(JoinError::panic(meta.id, payload))
            }
            None => match catch_unwind(AssertUnwindSafe(|| this.future.set(None))) {
                Ok(()) => Err(JoinError::cancelled(meta.id)),
                Err(payload) => Err(JoinError::panic(meta.id, payload)),
            },
        };
        finish(meta, &outcome);
        Poll::Ready(outcome)
    }
}

fn finish<T: 'static>(meta: &TaskMeta, outcome: &Result<T, JoinError>) {
    context::unregister_task(meta);
    let ended = match outcome {
        Ok(_) => DONE,
        Err(err) if err.is_cancelled() => DONE | ENDED_CANCELLED,
        Err(_) => DONE | ENDED_PANICKED,
    };
    let before = meta.state.fetch_or(ended, Ordering::AcqRel);
    if before & HAS_CALLBACKS != 0 {
        super::callbacks::run(meta, outcome as &dyn Any);
    }
    if before & DETACHED != 0 {
        if let Err(err) = outcome {
            if err.is_panic() {
                meta.report_unretrieved_panic(err.panic_message());
            }
        }
    }
}
