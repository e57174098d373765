//! Ctrl+C in [`tulip::run`](crate::run), as asyncio 3.11's `asyncio.run` does it.
//!
//! - The first `SIGINT` while `run`'s main future is pending cancels it: the future is dropped
//!   where it waits, so its destructors (the clean-up) run. `run` then cancels and unwinds every
//!   task still pending, closes the loop, and ends the process with status 130 — the status of
//!   a program stopped by Ctrl+C — since the program did not handle the signal.
//! - If the program handles Ctrl+C itself — a [`ctrl_c`](super::ctrl_c) future, a
//!   [`signal(SignalKind::interrupt())`](super::signal) stream or an
//!   [`add_signal_handler`](crate::runtime::Handle::add_signal_handler) handler for `SIGINT`
//!   exists when the signal arrives — `run` leaves the main future alone.
//! - A second Ctrl+C while `run` cleans up ends the process at once with status 130.
//! - The hook is in place only while `run` runs; outside it Ctrl+C does what it did before.
//!   If `SIGINT` was ignored when tulip first looked (a program started in the background by a
//!   shell, or under `trap '' INT`) or handled by someone else, `run` leaves it alone entirely.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::SignalKind;
use super::driver::{self, Driver};
use super::kind::num::SIGINT;
use super::registry::{self, Listener, RUN_CLEANUP};

/// The exit status of a program that Ctrl+C stopped (128 + `SIGINT`), as shells report it.
pub(crate) const INTERRUPTED_STATUS: i32 = 130;

/// One `tulip::run` call's `SIGINT` hook.
pub(crate) struct Hook {
    listener: RefCell<Option<Listener>>,
    /// `SIGINT`'s unhandled generation when the hook went in.
    unhandled_seen: u64,
    interrupted: Cell<bool>,
    cleaning_up: Cell<bool>,
}

impl Hook {
    /// Puts the hook in place: from here on a `SIGINT` is caught and reported to this hook.
    pub(crate) fn install() -> Hook {
        let unhandled_seen = registry::slot(SIGINT).unhandled_generation();
        let listener = Listener::new(SignalKind::interrupt(), true)
            .ok()
            .filter(|_| registry::slot(SIGINT).was_default());
        Hook {
            unhandled_seen,
            listener: RefCell::new(listener),
            interrupted: Cell::new(false),
            cleaning_up: Cell::new(false),
        }
    }

    /// `main`, dropped on the first unhandled `SIGINT`: resolves to `None` then.
    pub(crate) fn guard<F: Future>(&self, main: F) -> Guarded<'_, F> {
        Guarded {
            hook: self,
            driver: None,
            quiet: None,
            main: Some(main),
        }
    }

    /// `run`'s main future is done: from here a `SIGINT` ends the process at once.
    pub(crate) fn cleaning_up(&self) {
        if self.cleaning_up.replace(true) {
            return;
        }
        // Counted before the hook goes, so that no `SIGINT` finds nobody interested (and takes
        // the default action, which would report death by signal instead of status 130).
        RUN_CLEANUP.fetch_add(1, Ordering::SeqCst);
        drop(self.listener.borrow_mut().take());
    }

    /// `run`'s last step: its output, or — when Ctrl+C cancelled the main future — the end of
    /// the process with status 130.
    pub(crate) fn finish<T>(self, output: Option<T>) -> T {
        drop(self);
        match output {
            Some(output) => output,
            None => std::process::exit(INTERRUPTED_STATUS),
        }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        if self.cleaning_up.get() {
            RUN_CLEANUP.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook")
            .field("active", &self.listener.borrow().is_some())
            .field("interrupted", &self.interrupted.get())
            .finish()
    }
}

pin_project! {
    /// `run`'s main future under the hook.
    pub(crate) struct Guarded<'a, F> {
        hook: &'a Hook,
        driver: Option<Rc<Driver>>,
        // The generation of `SIGINT` the hook's listener is armed for, and the waker it is
        // armed with: while both hold, there is nothing to look at (one atomic load a poll).
        quiet: Option<(u64, Waker)>,
        #[pin]
        main: Option<F>,
    }
}

impl<F: Future> Future for Guarded<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let mut this = self.project();
        let quiet = this.quiet.as_ref().is_some_and(|(seen, waker)| {
            registry::slot(SIGINT).generation() == *seen && waker.will_wake(cx.waker())
        });
        if !quiet && interrupted(this.hook, this.driver, this.quiet, cx) {
            this.hook.interrupted.set(true);
            this.hook.cleaning_up();
            // Dropping the future in place runs its clean-up: asyncio's CancelledError in main.
            this.main.set(None);
            return Poll::Ready(None);
        }
        match this.main.as_pin_mut() {
            Some(main) => main.poll(cx).map(Some),
            None => Poll::Ready(None),
        }
    }
}

/// A `SIGINT` arrived that the program does not handle itself.
fn interrupted(
    hook: &Hook,
    driver: &mut Option<Rc<Driver>>,
    quiet: &mut Option<(u64, Waker)>,
    cx: &mut Context<'_>,
) -> bool {
    let mut listener = hook.listener.borrow_mut();
    let Some(listener) = listener.as_mut() else {
        // No hook (SIGINT ignored): never anything to look at.
        *quiet = Some((registry::slot(SIGINT).generation(), cx.waker().clone()));
        return false;
    };
    if driver.is_none() {
        // The loop learns of signals through its driver; made on the first poll, which is the
        // first thing `run`'s loop does.
        *driver = driver::current().and_then(Result::ok);
    }
    while listener.poll_recv(cx).is_ready() {}
    // Whether the program listened is decided when the signal arrived, not now: a task that
    // awaited `ctrl_c()` may have finished (and dropped its listener) before this poll.
    if registry::slot(SIGINT).unhandled_generation() != hook.unhandled_seen {
        return true;
    }
    *quiet = Some((listener.seen(), cx.waker().clone()));
    false
}
