//! The few calls a signal handler makes that neither std nor rustix (with the features tulip
//! enables) offers. Everything here is async-signal-safe: plain system calls, no allocation, no
//! locks.

use std::ffi::c_int;
use std::os::fd::{BorrowedFd, RawFd};

use rustix::process::Signal;

// SAFETY: both are declared with the C library's own prototypes (`void _exit(int)`, and
// `sighandler_t signal(int, sighandler_t)` where `sighandler_t` is a pointer-sized function
// pointer, passed here as `usize`). std links the C library on every Linux target.
unsafe extern "C" {
    fn _exit(status: c_int) -> !;
    fn signal(signum: c_int, handler: usize) -> usize;
}

/// `SIG_DFL` in C.
const SIG_DFL: usize = 0;

/// Ends the process at once with `status`, without running destructors or flushing buffers:
/// the one way out that is allowed inside a signal handler.
pub(super) fn exit_now(status: c_int) -> ! {
    // SAFETY: `_exit` takes any status and never returns; it is async-signal-safe by POSIX.
    unsafe { _exit(status) }
}

/// Does what the OS would have done with `signum` had nobody caught it: puts the default
/// disposition back and sends the signal again. Called from the handler, where the signal is
/// blocked, so it is delivered (and ends the process) as soon as the handler returns.
pub(super) fn die_by(signum: c_int) {
    // SAFETY: `signal` only changes the disposition of `signum`, a valid signal number (the
    // caller got it from its own handler); `signal` is async-signal-safe by POSIX.
    unsafe { signal(signum, SIG_DFL) };
    send_to_self(signum);
}

/// Stops the process as the default action of `SIGTSTP`, `SIGTTIN` and `SIGTTOU` would.
pub(super) fn stop_self() {
    let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::STOP);
}

fn send_to_self(signum: c_int) {
    if let Some(signal) = to_rustix(signum) {
        let _ = rustix::process::kill_process(rustix::process::getpid(), signal);
    }
}

/// rustix's name for signal number `signum`, for the numbers tulip accepts.
pub(crate) fn to_rustix(signum: c_int) -> Option<Signal> {
    if let Some(named) = Signal::from_named_raw(signum) {
        return Some(named);
    }
    if (super::kind::num::SIGRTMIN..=super::kind::num::SIGRTMAX).contains(&signum) {
        // SAFETY: `signum` is a real-time signal number above the ones glibc reserves for
        // itself (32 and 33), so it is valid and may be sent.
        return Some(unsafe { Signal::from_raw_unchecked(signum) });
    }
    None
}

/// Adds one to the eventfd `fd` — the handler's wake-up call to the loops.
pub(super) fn poke(fd: RawFd) {
    // SAFETY: `fd` is the wake-up eventfd, created once and never closed (see
    // `registry::WAKE_FD`), so it is open for the whole life of the process.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    // Fails only when the counter would overflow, and then the loops have a wake-up pending.
    let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
}
