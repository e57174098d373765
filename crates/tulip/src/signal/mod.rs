//! Signals: asyncio's `loop.add_signal_handler` and Ctrl+C (`KeyboardInterrupt`).
//!
//! | asyncio | tulip |
//! |---|---|
//! | `loop.add_signal_handler(signal.SIGTERM, cb)` | [`Handle::add_signal_handler(SignalKind::terminate(), cb)`](crate::runtime::Handle::add_signal_handler) |
//! | `loop.remove_signal_handler(sig)` | [`Handle::remove_signal_handler`](crate::runtime::Handle::remove_signal_handler) |
//! | waiting for a signal with an `asyncio.Event` set by a handler | [`signal(kind)`](signal)`.recv().await`, a [`Stream`](futures_core::Stream) |
//! | `except KeyboardInterrupt` around `asyncio.run` | [`ctrl_c()`](ctrl_c)`.await`, or let [`tulip::run`](crate::run) cancel its main future |
//! | `signal.SIGINT`, `signal.SIGUSR1`, … | [`SignalKind::interrupt()`](SignalKind::interrupt), [`SignalKind::user_defined1()`](SignalKind::user_defined1), … |
//!
//! ```
//! use tulip::signal::{SignalKind, signal};
//!
//! tulip::run(async {
//!     let mut terms = signal(SignalKind::terminate()).unwrap();
//!     // Something sends us SIGTERM (here, we do).
//!     let me = rustix::process::getpid();
//!     rustix::process::kill_process(me, rustix::process::Signal::TERM).unwrap();
//!     terms.recv().await;
//!     println!("SIGTERM: closing connections and exiting");
//! });
//! ```
//!
//! How it works: the process-wide handler (installed through `signal-hook-registry` the first
//! time a signal is listened for) only records the signal and writes to an eventfd; each loop
//! that listens watches a duplicate of that eventfd, and the first to wake wakes every listener
//! of the signal on every loop. So every listener sees every signal, whatever thread the OS
//! delivered it to. While nobody listens, the handler does what the signal's default would
//! have done (end or stop the process, or nothing), so listening for a while and stopping
//! leaves the program as it was.
//!
//! [`tulip::run`](crate::run) cancels its main future on the first Ctrl+C unless the program
//! listens for `SIGINT` itself, then exits with status 130; see [`run`](crate::run) for the
//! rules.

mod driver;
mod error;
pub(crate) mod handlers;
pub(crate) mod interrupt;
mod kind;
mod registry;
mod stream;
pub(crate) mod sys;

pub use error::SignalError;
pub use kind::SignalKind;
pub use stream::{CtrlC, Signals, ctrl_c, signal};

pub(crate) use registry::{Listener, drain_and_broadcast};

/// A duplicate of the eventfd signal handlers write to, for a thread that drives delivery
/// itself (the process module's orphan reaper).
pub(crate) fn dup_wake_fd() -> std::io::Result<std::os::fd::OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(registry::wake_fd()?, 0)?)
}
