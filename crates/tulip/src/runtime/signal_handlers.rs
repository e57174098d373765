//! asyncio's `loop.add_signal_handler` / `loop.remove_signal_handler` on [`Handle`].

use super::Handle;
use crate::signal::{SignalError, SignalKind, handlers};

impl Handle {
    /// Calls `callback` on this loop's thread each time `signal` arrives (asyncio's
    /// `loop.add_signal_handler`). A handler added for a signal replaces this loop's previous
    /// one for it; other loops' handlers and [`signal`](crate::signal::signal) streams keep
    /// receiving it too.
    ///
    /// The handler is a task named `signal handler SIGxxx` (so it is listed by
    /// [`all_tasks`](crate::task::all_tasks)); closing the loop removes it. It catches the
    /// signal from the moment this returns. A panic in `callback` goes to the loop's exception
    /// handler and the handler stays. A handler for `SIGINT` means the program handles Ctrl+C:
    /// [`tulip::run`](crate::run) then does not cancel its main future.
    ///
    /// May be called from any thread.
    ///
    /// # Errors
    ///
    /// A [`SignalError`] naming the signal when it is no signal or cannot be caught
    /// (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, …), when the loop is closed, or when the OS refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use tulip::runtime::Handle;
    /// use tulip::signal::SignalKind;
    ///
    /// tulip::run(async {
    ///     let seen = Arc::new(AtomicUsize::new(0));
    ///     let counter = seen.clone();
    ///     let handle = Handle::current();
    ///     handle
    ///         .add_signal_handler(SignalKind::user_defined1(), move || {
    ///             counter.fetch_add(1, Ordering::SeqCst);
    ///         })
    ///         .unwrap();
    ///     let me = rustix::process::getpid();
    ///     rustix::process::kill_process(me, rustix::process::Signal::USR1).unwrap();
    ///     while seen.load(Ordering::SeqCst) == 0 {
    ///         tulip::task::yield_now().await;
    ///     }
    ///     assert!(handle.remove_signal_handler(SignalKind::user_defined1()));
    /// });
    /// ```
    pub fn add_signal_handler(
        &self,
        signal: SignalKind,
        callback: impl Fn() + Send + 'static,
    ) -> Result<(), SignalError> {
        handlers::add(self, signal, Box::new(callback))
    }

    /// Removes this loop's handler for `signal`; `true` if there was one (asyncio's
    /// `loop.remove_signal_handler`). Once no handler or listener is left for a signal, its
    /// default action is back. May be called from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::SignalKind;
    ///
    /// tulip::run(async {
    ///     let handle = tulip::runtime::Handle::current();
    ///     assert!(!handle.remove_signal_handler(SignalKind::hangup()));
    ///     handle.add_signal_handler(SignalKind::hangup(), || {}).unwrap();
    ///     assert!(handle.remove_signal_handler(SignalKind::hangup()));
    /// });
    /// ```
    pub fn remove_signal_handler(&self, signal: SignalKind) -> bool {
        handlers::remove(self, signal)
    }
}
