//! Process-wide signal state: one slot per signal number, the handler, and the eventfd through
//! which the handler wakes whichever loops listen.
//!
//! A handler may only do async-signal-safe things, so it touches atomics and makes one
//! `write(2)`: it sets the signal's bit in [`PENDING`] and adds one to the eventfd. Every loop
//! with a listener has a duplicate of that eventfd registered with its reactor
//! ([`super::driver`]); whichever loop wakes first swaps [`PENDING`] to zero and *broadcasts*
//! each signal it found: it bumps the slot's generation and wakes every listener of that signal
//! on every loop (a waker from another thread goes through that loop's injection queue). A
//! listener is ready when the generation moved since it last looked, so several loops in
//! several threads each see every signal — coalesced, as the OS coalesces signals anyway.
//!
//! Handlers are installed through `signal-hook-registry` once per signal and never removed: it
//! cannot put the default disposition back. Instead the handler itself does what the default
//! would have done when no one listens (and the signal's disposition was the default before
//! tulip installed its handler): `SIGINT` or `SIGTERM` end the process as if uncaught,
//! `SIGTSTP` stops it, `SIGCHLD` is ignored.

use std::io;
use std::os::fd::{BorrowedFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use rustix::event::EventfdFlags;
use slab::Slab;

use super::kind::num;
use super::{SignalError, SignalKind, sys};

/// Signals 1 to 64, slot `n - 1` for signal `n`.
const SLOTS_LEN: usize = 64;

/// What the handler does when nobody listens.
const FALLBACK_NOTHING: u8 = 0;
const FALLBACK_TERMINATE: u8 = 1;
const FALLBACK_STOP: u8 = 2;

pub(super) struct Slot {
    /// Listeners the program made: [`Signals`](super::Signals) streams, `ctrl_c` futures and
    /// handlers added with `Handle::add_signal_handler`.
    listeners: AtomicUsize,
    /// `tulip::run` calls in progress that cancel their main future on this signal (`SIGINT`).
    hooks: AtomicUsize,
    /// How many times the signal has been broadcast to listeners.
    generation: AtomicU64,
    /// Set by the handler when the signal arrived while the program had no listener for it.
    unhandled: AtomicBool,
    /// How many broadcasts carried a signal that arrived unhandled: what `tulip::run`'s hook
    /// acts on, so that a listener dropped between the signal and the hook's look (a task that
    /// awaited `ctrl_c()` and finished) still counts as the program handling it.
    unhandled_generation: AtomicU64,
    /// The wakers of listeners waiting for the next broadcast, one entry per listener.
    waiters: Mutex<Slab<Option<Waker>>>,
    /// What the handler does when no one listens: `FALLBACK_*`.
    fallback: AtomicU8,
    /// The disposition was the default when tulip installed its handler.
    was_default: AtomicBool,
    /// Whether the process-wide handler is in place.
    installed: Mutex<bool>,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            listeners: AtomicUsize::new(0),
            hooks: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            unhandled: AtomicBool::new(false),
            unhandled_generation: AtomicU64::new(0),
            waiters: Mutex::new(Slab::new()),
            fallback: AtomicU8::new(FALLBACK_NOTHING),
            was_default: AtomicBool::new(false),
            installed: Mutex::new(false),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        // Nothing panics while holding it, and the slab stays consistent regardless.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many times the signal has been broadcast.
    #[inline]
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// How many broadcasts carried an arrival nobody but `tulip::run` listened for.
    pub(super) fn unhandled_generation(&self) -> u64 {
        self.unhandled_generation.load(Ordering::SeqCst)
    }

    pub(super) fn add_hook(&self) {
        self.hooks.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn remove_hook(&self) {
        self.hooks.fetch_sub(1, Ordering::SeqCst);
    }

    /// Tulip installed its handler over the default disposition (not over `SIG_IGN` or another
    /// library's handler). Only meaningful once installed.
    pub(super) fn was_default(&self) -> bool {
        self.was_default.load(Ordering::SeqCst)
    }
}

static SLOTS: [Slot; SLOTS_LEN] = [const { Slot::new() }; SLOTS_LEN];

/// Signals raised but not yet broadcast: bit `n - 1` for signal `n`.
static PENDING: AtomicU64 = AtomicU64::new(0);

/// The eventfd the handler writes to, `-1` until created. Created once, never closed: a handler
/// may run at any moment, and must find it open.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// `tulip::run` calls busy cleaning up (after their main future finished or was cancelled):
/// a `SIGINT` then ends the process at once with status 130 (see `super::interrupt`).
pub(super) static RUN_CLEANUP: AtomicUsize = AtomicUsize::new(0);

const IGNORED_BY_DEFAULT: [i32; 4] = [num::SIGCHLD, num::SIGCONT, num::SIGURG, num::SIGWINCH];
const STOPS_BY_DEFAULT: [i32; 3] = [num::SIGTSTP, num::SIGTTIN, num::SIGTTOU];

fn bit(signum: i32) -> u64 {
    1u64 << (signum - 1)
}

/// The slot of `signum`, which must be in `1..=64`.
#[inline]
pub(super) fn slot(signum: i32) -> &'static Slot {
    &SLOTS[signum as usize - 1]
}

/// Checks that `kind` may be listened for.
pub(super) fn validate(kind: SignalKind) -> Result<i32, SignalError> {
    let n = kind.as_raw_value();
    if !(1..=num::SIGRTMAX).contains(&n) || n == 32 || n == 33 {
        return Err(SignalError::invalid(kind));
    }
    let forbidden = [
        num::SIGKILL,
        num::SIGSTOP,
        num::SIGSEGV,
        num::SIGBUS,
        num::SIGILL,
        num::SIGFPE,
    ];
    if forbidden.contains(&n) || signal_hook_registry::FORBIDDEN.contains(&n) {
        return Err(SignalError::forbidden(kind));
    }
    Ok(n)
}

/// The eventfd every loop's driver duplicates; created on first use.
pub(super) fn wake_fd() -> io::Result<BorrowedFd<'static>> {
    static CREATE: Mutex<()> = Mutex::new(());
    let _guard = CREATE.lock().unwrap_or_else(PoisonError::into_inner);
    let mut fd = WAKE_FD.load(Ordering::SeqCst);
    if fd < 0 {
        let owned = rustix::event::eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC)?;
        fd = owned.into_raw_fd();
        WAKE_FD.store(fd, Ordering::SeqCst);
    }
    // SAFETY: the eventfd is never closed (its ownership was given up above).
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Installs the process-wide handler for `signum` (validated) if it is not yet.
pub(super) fn ensure_installed(kind: SignalKind, signum: i32) -> Result<(), SignalError> {
    let slot = slot(signum);
    let mut installed = slot
        .installed
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(());
    }
    wake_fd().map_err(|err| SignalError::os(kind, err))?;
    let was_default = matches!(disposition(signum), Disposition::Default);
    let fallback = if !was_default || IGNORED_BY_DEFAULT.contains(&signum) {
        FALLBACK_NOTHING
    } else if STOPS_BY_DEFAULT.contains(&signum) {
        FALLBACK_STOP
    } else {
        FALLBACK_TERMINATE
    };
    slot.fallback.store(fallback, Ordering::SeqCst);
    slot.was_default.store(was_default, Ordering::SeqCst);
    // SAFETY: `on_signal` is async-signal-safe: it reads and updates atomics, and makes the
    // system calls `write`, `kill`, `signal` and `_exit`; it neither allocates nor locks.
    // `signum` was validated, so it is not one of signal-hook-registry's forbidden signals
    // (for which `register` would panic).
    let registered = unsafe { signal_hook_registry::register(signum, move || on_signal(signum)) };
    match registered {
        Ok(_) => {
            *installed = true;
            Ok(())
        }
        Err(err) => Err(SignalError::os(kind, err)),
    }
}

enum Disposition {
    Default,
    IgnoredOrCaught,
}

/// What the process does with `signum` right now, from `/proc/self/status` (its `SigIgn` and
/// `SigCgt` masks): std offers no `sigaction` query. Without `/proc`, assume the default.
fn disposition(signum: i32) -> Disposition {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Disposition::Default;
    };
    let mask = |field: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or(0)
    };
    if (mask("SigIgn:") | mask("SigCgt:")) & bit(signum) != 0 {
        Disposition::IgnoredOrCaught
    } else {
        Disposition::Default
    }
}

/// The handler: runs on whatever thread the OS picked, interrupting it anywhere.
fn on_signal(signum: i32) {
    let slot = slot(signum);
    let listeners = slot.listeners.load(Ordering::SeqCst);
    if signum == num::SIGINT && listeners == 0 && RUN_CLEANUP.load(Ordering::SeqCst) > 0 {
        // A second Ctrl+C while `tulip::run` cleans up: asyncio raises KeyboardInterrupt.
        sys::exit_now(130);
    }
    if listeners + slot.hooks.load(Ordering::SeqCst) > 0 {
        if listeners == 0 {
            slot.unhandled.store(true, Ordering::SeqCst);
        }
        PENDING.fetch_or(bit(signum), Ordering::SeqCst);
        let fd = WAKE_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            sys::poke(fd);
        }
        return;
    }
    match slot.fallback.load(Ordering::SeqCst) {
        FALLBACK_TERMINATE => sys::die_by(signum),
        FALLBACK_STOP => sys::stop_self(),
        _ => {}
    }
}

/// Empties the eventfd `fd` (a duplicate of the wake-up eventfd) and broadcasts every pending
/// signal. Called by whichever loop's driver saw the eventfd readable.
pub(crate) fn drain_and_broadcast(fd: BorrowedFd<'_>) {
    let mut buf = [0u8; 8];
    // One read resets an eventfd; `WouldBlock` means another loop read it first.
    let _ = rustix::io::read(fd, &mut buf);
    broadcast_pending();
}

/// Broadcasts every signal whose bit is set in [`PENDING`].
pub(super) fn broadcast_pending() {
    let mut pending = PENDING.swap(0, Ordering::SeqCst);
    while pending != 0 {
        let index = pending.trailing_zeros() as usize;
        pending &= pending - 1;
        broadcast(&SLOTS[index]);
    }
}

fn broadcast(slot: &Slot) {
    // Before the generation moves: whoever sees the new generation sees this too.
    if slot.unhandled.swap(false, Ordering::SeqCst) {
        slot.unhandled_generation.fetch_add(1, Ordering::SeqCst);
    }
    slot.generation.fetch_add(1, Ordering::SeqCst);
    let wakers: Vec<Waker> = slot
        .waiters()
        .iter_mut()
        .filter_map(|(_, waker)| waker.take())
        .collect();
    // Woken outside the lock: a waker may run code that registers another listener.
    wakers.into_iter().for_each(Waker::wake);
}

/// One party's interest in a signal, registered process-wide: keeps the handler delivering it
/// and tells the party when it arrives. Thread-safe; the loop side lives in `Signals`.
#[derive(Debug)]
pub(crate) struct Listener {
    signum: i32,
    key: usize,
    /// The generation last reported to the owner.
    seen: u64,
    /// Counted as one of `tulip::run`'s hooks rather than a listener of the program.
    hook: bool,
    /// The waker stored in the slot since the last broadcast, if any: polling again with the
    /// same waker then needs no lock (the main future of `tulip::run` polls this every time).
    armed: Option<Waker>,
}

impl Listener {
    /// Validates `kind`, installs its handler if needed and registers a listener. A `hook` is
    /// `tulip::run`'s own, and does not count as the program handling the signal.
    pub(crate) fn new(kind: SignalKind, hook: bool) -> Result<Listener, SignalError> {
        let signum = validate(kind)?;
        ensure_installed(kind, signum)?;
        let slot = slot(signum);
        let key = slot.waiters().insert(None);
        let seen = slot.generation.load(Ordering::SeqCst);
        if hook {
            slot.add_hook();
        } else {
            slot.listeners.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Listener {
            signum,
            key,
            seen,
            hook,
            armed: None,
        })
    }

    pub(crate) fn signum(&self) -> i32 {
        self.signum
    }

    /// The generation last reported (or skipped at creation).
    pub(super) fn seen(&self) -> u64 {
        self.seen
    }

    /// Ready once for every broadcast since the last time it was.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let slot = slot(self.signum);
        if self.take_news(slot) {
            return Poll::Ready(());
        }
        // No broadcast since the waker went in (it would have moved the generation), so the
        // slot still holds it.
        if self.armed.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let replaced = {
            let mut waiters = slot.waiters();
            match waiters.get_mut(self.key) {
                Some(Some(w)) if w.will_wake(cx.waker()) => None,
                Some(entry) => entry.replace(cx.waker().clone()),
                None => None,
            }
        };
        drop(replaced);
        self.armed = Some(cx.waker().clone());
        // A broadcast between the first look and the waker going in must not be missed.
        if self.take_news(slot) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    fn take_news(&mut self, slot: &Slot) -> bool {
        let generation = slot.generation.load(Ordering::SeqCst);
        if generation != self.seen {
            self.seen = generation;
            self.armed = None;
            true
        } else {
            false
        }
    }

    /// Unregisters and wakes whoever was waiting on this listener (so it notices it is gone).
    pub(crate) fn close(mut self) {
        let waker = self.unregister();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Takes the listener out of the slot (once); returns the waker that was waiting.
    fn unregister(&mut self) -> Option<Waker> {
        if self.key == GONE {
            return None;
        }
        let slot = slot(self.signum);
        if self.hook {
            slot.remove_hook();
        } else {
            slot.listeners.fetch_sub(1, Ordering::SeqCst);
        }
        let key = std::mem::replace(&mut self.key, GONE);
        slot.waiters().try_remove(key).flatten()
    }
}

/// `Listener::key` once unregistered.
const GONE: usize = usize::MAX;

impl Drop for Listener {
    fn drop(&mut self) {
        drop(self.unregister());
    }
}
