//! The header read timeout of an HTTP/1 connection, kept by the connection's task.
//!
//! hyper's `header_read_timeout` arms a new sleep for every request (when it starts reading a
//! head) and drops it as soon as the head is in, almost always long before it is due: about
//! 1,000 instructions per request for a timer that nearly never fires. Here a request costs a
//! few cell writes and one read of the clock ([`HeadClock`]), and each connection has one
//! sleep ([`Watchdog`]) that is only looked at when it fires: it then either closes the
//! connection or sleeps again until the deadline as it now stands.
//!
//! What the timeout covers (as hyper's does): the time from the moment the server is ready for
//! a request's head — the connection accepted (or its TLS handshake done), or the previous
//! response handed over and written — until that head is complete. So a client that sends a
//! head slowly (slowloris) and an idle keep-alive connection are both closed once it runs
//! out; a handler's run, the reading of a request body and the writing of a response to a
//! slow reader are not covered.

use std::cell::Cell;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tulip::time::{Instant, Sleep};

/// Where one HTTP/1 connection stands with respect to its header read timeout: what its
/// requests and its writes record, and what its [`Watchdog`] reads when it fires.
pub(crate) struct HeadClock {
    /// `None`: no timeout, and nothing to record.
    timeout: Option<Duration>,
    /// A request's head is in and its response not handed over yet: no head is awaited.
    in_flight: Cell<bool>,
    /// A write of a response waits for the peer to read: no head is awaited yet.
    write_blocked: Cell<bool>,
    /// Since when the server has been ready for the next head (when no request is in flight).
    ready_since: Cell<Instant>,
}

impl HeadClock {
    /// A clock for a connection that is ready for its first head now.
    pub(crate) fn new(timeout: Option<Duration>) -> HeadClock {
        HeadClock {
            timeout,
            in_flight: Cell::new(false),
            write_blocked: Cell::new(false),
            ready_since: Cell::new(Instant::now()),
        }
    }

    /// The server is ready for a head from now on (a TLS handshake is done).
    pub(crate) fn restart(&self) {
        self.ready_since.set(Instant::now());
    }

    /// Whether there is a timeout to keep.
    pub(crate) fn is_on(&self) -> bool {
        self.timeout.is_some()
    }

    /// A request's head is complete: its handler starts.
    #[inline]
    pub(crate) fn head_read(&self) {
        self.in_flight.set(true);
    }

    /// The request's response is ready and written at once: the wait for the
    /// next head starts (a write that blocks restarts it when it completes).
    #[inline]
    pub(crate) fn answered(&self) {
        self.in_flight.set(false);
        if self.timeout.is_some() {
            self.ready_since.set(Instant::now());
        }
    }

    /// Notes a write of a response: one that blocks holds the clock back, one that completes
    /// after blocking restarts it.
    #[inline]
    pub(crate) fn wrote<T>(&self, written: Poll<T>) -> Poll<T> {
        if written.is_pending() {
            self.write_blocked.set(true);
        } else if self.write_blocked.get() {
            self.write_blocked.set(false);
            self.restart();
        }
        written
    }

    /// No head is awaited: a request is in flight, or a write of its response is blocked.
    fn busy(&self) -> bool {
        self.in_flight.get() || self.write_blocked.get()
    }
}

/// The one sleep of a connection that enforces its [`HeadClock`]. Polled on every wake-up of
/// the connection's task, it answers from an atomic flag that its timer sets when it fires,
/// so that a wake-up for I/O does not go to the loop's timers.
///
/// When it fires while no head is awaited, it is not armed again until one is: a long
/// request costs no wake-ups (and on a test clock, gives the clock no timer to jump to while
/// the peer's bytes are on their way).
pub(crate) struct Watchdog {
    sleep: Sleep,
    /// It fired while the connection was busy, and sleeps no more until it is not.
    dormant: bool,
    /// The flag, the task to wake, and the waker the sleep's timer holds.
    alarm: Option<(Arc<Alarm>, Waker)>,
}

/// What the watchdog's timer wakes: it notes that it rang, then wakes the connection's task.
struct Alarm {
    rang: AtomicBool,
    task: Waker,
}

impl Wake for Alarm {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.rang.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

impl Watchdog {
    /// A watchdog, armed at its first poll.
    pub(crate) fn new() -> Watchdog {
        Watchdog {
            sleep: tulip::time::sleep_until(Instant::now()),
            dormant: false,
            alarm: None,
        }
    }

    /// Ready when the connection has waited for a head longer than its timeout (and is to be
    /// closed); pending until then, with the task's waker registered.
    #[inline]
    pub(crate) fn poll(&mut self, clock: &HeadClock, cx: &mut Context<'_>) -> Poll<()> {
        if let Some((alarm, _)) = &self.alarm
            && !self.dormant
            && !alarm.rang.load(Ordering::Acquire)
            && alarm.task.will_wake(cx.waker())
        {
            return Poll::Pending;
        }
        self.check(clock, cx)
    }

    /// The first poll, a poll by another task's waker, the timer rang, or dormant: decides,
    /// and sleeps again until the deadline as it now stands.
    #[cold]
    fn check(&mut self, clock: &HeadClock, cx: &mut Context<'_>) -> Poll<()> {
        let Some(timeout) = clock.timeout else {
            return Poll::Pending;
        };
        if clock.busy() {
            if !self.dormant {
                self.dormant = true;
                // Disarmed, if it was armed.
                self.sleep.reset(self.sleep.deadline());
            }
            return Poll::Pending;
        }
        self.dormant = false;
        let (alarm, waker) = match &mut self.alarm {
            Some(pair) if pair.0.task.will_wake(cx.waker()) => pair,
            slot => {
                let alarm = Arc::new(Alarm {
                    rang: AtomicBool::new(false),
                    task: cx.waker().clone(),
                });
                slot.insert((alarm.clone(), Waker::from(alarm)))
            }
        };
        alarm.rang.store(false, Ordering::Relaxed);
        let mut alarm_cx = Context::from_waker(waker);
        let deadline = clock.ready_since.get() + timeout;
        if self.sleep.deadline() != deadline {
            self.sleep.reset(deadline);
        }
        // Ready when the deadline has passed (by the loop's clock).
        Pin::new(&mut self.sleep).poll(&mut alarm_cx)
    }
}
