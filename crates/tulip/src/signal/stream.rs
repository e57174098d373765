use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::driver::{self, Driver};
use super::registry::Listener;
use super::{SignalError, SignalKind};

/// Listens for `kind` from now on: a stream that yields `()` each time the signal arrives.
///
/// Every listener sees every signal — several in one loop, or in loops on several threads.
/// Signals that arrive faster than the listener looks are merged into one, as the OS merges
/// them. While at least one listener (or [`add_signal_handler`] handler) exists for a signal,
/// its default action (ending the process, for `SIGTERM`) does not happen; when the last one
/// goes, the default is back.
///
/// [`add_signal_handler`]: crate::runtime::Handle::add_signal_handler
///
/// # Errors
///
/// A [`SignalError`] naming the signal when it is no signal, one that cannot or must not be
/// caught (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, …), when called outside a tulip runtime, or when
/// the OS refuses the handler.
///
/// # Examples
///
/// ```
/// use tulip::signal::{SignalKind, signal};
///
/// tulip::run(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::HUP)
///         .unwrap();
///     hangups.recv().await;
///     println!("got SIGHUP: reloading the configuration");
/// });
/// ```
pub fn signal(kind: SignalKind) -> Result<Signals, SignalError> {
    super::registry::validate(kind)?;
    let driver = match driver::current() {
        None => {
            return Err(SignalError::no_loop(
                kind,
                "no tulip runtime on this thread (call it inside tulip::run, Runtime::block_on or a task)",
            ));
        }
        Some(Err(err)) => return Err(SignalError::os(kind, err)),
        Some(Ok(driver)) => driver,
    };
    let listener = Listener::new(kind, false)?;
    Ok(Signals {
        kind,
        listener,
        driver,
    })
}

/// A stream of one signal's arrivals, from [`signal`]: a [`Stream`] of `()`, or call
/// [`recv`](Signals::recv). It never ends. Belongs to the loop it was made on (not `Send`).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use tulip::signal::{SignalKind, signal};
///
/// tulip::run(async {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::USR1)
///         .unwrap();
///     assert_eq!(usr1.next().await, Some(()));
/// });
/// ```
pub struct Signals {
    kind: SignalKind,
    listener: Listener,
    driver: Rc<Driver>,
}

impl Signals {
    /// Waits for the next arrival of the signal.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a signal that arrives while no `recv` is pending is
    /// reported by the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// tulip::run(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::USR2)
    ///         .unwrap();
    ///     usr2.recv().await;
    /// });
    /// ```
    pub async fn recv(&mut self) {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Ready when the signal arrived since the last time this was ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// tulip::run(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    ///     rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::USR1)
    ///         .unwrap();
    ///     poll_fn(|cx| usr1.poll_recv(cx)).await;
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.follow_loop();
        self.listener.poll_recv(cx)
    }

    /// The signal this stream listens for.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// tulip::run(async {
    ///     let hup = signal(SignalKind::hangup()).unwrap();
    ///     assert_eq!(hup.kind(), SignalKind::hangup());
    /// });
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// A stream made on one loop and polled on another (two runtimes used in turn on one
    /// thread) takes the new loop's driver, so that loop wakes for the signal.
    fn follow_loop(&mut self) {
        match driver::current_loop_id() {
            Some(id) if id != self.driver.loop_id() => {}
            _ => return,
        }
        if let Some(Ok(driver)) = driver::current() {
            self.driver = driver;
        }
    }
}

impl Stream for Signals {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx).map(Some)
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals").field("kind", &self.kind).finish()
    }
}

/// Completes on the next Ctrl+C (`SIGINT`): the future [`ctrl_c`] returns.
///
/// While it exists the program handles Ctrl+C itself: [`tulip::run`](crate::run) does not
/// cancel its main future on `SIGINT`.
///
/// # Examples
///
/// ```no_run
/// tulip::run(async {
///     let ctrl_c = tulip::signal::ctrl_c(); // listening from here on
///     println!("press Ctrl+C");
///     ctrl_c.await.unwrap();
///     println!("bye");
/// });
/// ```
pub struct CtrlC {
    state: CtrlCState,
}

enum CtrlCState {
    Listening(Signals),
    /// Made outside a runtime: starts listening when first polled.
    NotYet,
    Failed(Option<io::Error>),
}

/// Waits for Ctrl+C (`SIGINT`) — the usual way for a server to shut down cleanly.
///
/// Called inside a runtime, it listens from the moment it is called; elsewhere, from its first
/// poll. Awaiting it means the program handles Ctrl+C: [`tulip::run`](crate::run) then leaves
/// the main future alone on `SIGINT`.
///
/// # Errors
///
/// When the handler cannot be installed (see [`signal`]); the error names `SIGINT`.
///
/// # Cancel safety
///
/// Cancel safe: dropping it stops listening and loses nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tulip::run(async {
///     // Serve until Ctrl+C — here, until a pretend Ctrl+C a moment later.
///     let ctrl_c = tulip::signal::ctrl_c();
///     tulip::spawn(async {
///         tulip::time::sleep(Duration::from_millis(5)).await;
///         let me = rustix::process::getpid();
///         rustix::process::kill_process(me, rustix::process::Signal::INT).unwrap();
///     })
///     .detach();
///     ctrl_c.await.unwrap();
///     println!("shutting down");
/// });
/// ```
pub fn ctrl_c() -> CtrlC {
    let state = match signal(SignalKind::interrupt()) {
        Ok(signals) => CtrlCState::Listening(signals),
        Err(err) if err.is_no_loop() => CtrlCState::NotYet,
        Err(err) => CtrlCState::Failed(Some(err.into())),
    };
    CtrlC { state }
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let CtrlCState::NotYet = this.state {
            this.state = match signal(SignalKind::interrupt()) {
                Ok(signals) => CtrlCState::Listening(signals),
                Err(err) => CtrlCState::Failed(Some(err.into())),
            };
        }
        match &mut this.state {
            CtrlCState::Listening(signals) => signals.poll_recv(cx).map(Ok),
            CtrlCState::Failed(err) => Poll::Ready(Err(err.take().unwrap_or_else(|| {
                io::Error::other("tulip::signal::ctrl_c polled after it completed")
            }))),
            CtrlCState::NotYet => Poll::Pending,
        }
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            CtrlCState::Listening(_) => "listening",
            CtrlCState::NotYet => "not yet listening",
            CtrlCState::Failed(_) => "failed",
        };
        f.debug_struct("CtrlC").field("state", &state).finish()
    }
}
