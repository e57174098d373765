//! The reactor: readiness from the OS (epoll through mio), and a timerfd so timers fire to the
//! microsecond instead of epoll's millisecond.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};
use slab::Slab;

pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);
const TIMER_TOKEN: Token = Token(usize::MAX - 1);

/// Readiness bits kept per registration.
pub(crate) const READABLE: u8 = 0b01;
pub(crate) const WRITABLE: u8 = 0b10;
/// Sticky: the peer closed its sending side, or the connection is gone (`EPOLLRDHUP`,
/// `EPOLLHUP`). Never cleared, so an owner that skips a read it believes would block still
/// learns of end of stream, which brings no further edge. (Not set for a bare `EPOLLERR`: a
/// datagram socket's ICMP error is reported once and then gone.)
pub(crate) const READ_CLOSED: u8 = 0b100;

/// One registered source's readiness and wakers, shared by its `Registration` and the
/// reactor's slab: the registration reads and clears its bits without going through the
/// loop's thread-local and the reactor's `RefCell`, the hot path of every socket operation.
/// Only the loop's thread touches it (`Rc`, `Cell`).
#[derive(Default)]
pub(crate) struct IoState {
    pub(crate) readiness: Cell<u8>,
    pub(crate) read_waker: Cell<Option<Waker>>,
    pub(crate) write_waker: Cell<Option<Waker>>,
    /// Cleared when the source is deregistered or its loop closes: no event will come.
    pub(crate) live: Cell<bool>,
}

impl std::fmt::Debug for IoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoState")
            .field("readiness", &self.readiness.get())
            .field("live", &self.live.get())
            .finish_non_exhaustive()
    }
}

impl IoState {
    pub(crate) fn new() -> IoState {
        IoState {
            live: Cell::new(true),
            ..IoState::default()
        }
    }

    /// Marks the source dead and hands back its wakers, for the caller to drop outside any
    /// borrow of the loop (dropping a waker may free a task whose destructors use it).
    pub(crate) fn retire(&self) -> [Option<Waker>; 2] {
        self.live.set(false);
        [self.read_waker.take(), self.write_waker.take()]
    }

    fn set(&self, bits: u8) {
        self.readiness.set(self.readiness.get() | bits);
    }

    pub(crate) fn clear(&self, bits: u8) {
        self.readiness.set(self.readiness.get() & !bits);
    }

    /// Keeps `waker` for readiness `bit`, unless the one kept already wakes the same task.
    pub(crate) fn store_waker(&self, waker: &Waker, bit: u8) {
        let slot = if bit == READABLE {
            &self.read_waker
        } else {
            &self.write_waker
        };
        match slot.take() {
            Some(kept) if kept.will_wake(waker) => slot.set(Some(kept)),
            // The replaced waker is dropped here, with no borrow of the loop held: dropping it
            // may free a task whose destructors use the reactor.
            replaced => {
                slot.set(Some(waker.clone()));
                drop(replaced);
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    pub(crate) slots: Slab<Rc<IoState>>,
    timerfd: OwnedFd,
    /// The loop-time deadline the timerfd is armed for, if any.
    armed: Option<u64>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Reactor, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let timerfd = rustix::time::timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        poll.registry().register(
            &mut SourceFd(&timerfd.as_raw_fd()),
            TIMER_TOKEN,
            Interest::READABLE,
        )?;
        let reactor = Reactor {
            poll,
            events: Events::with_capacity(1024),
            slots: Slab::new(),
            timerfd,
            armed: None,
        };
        Ok((reactor, waker))
    }

    pub(crate) fn registry(&self) -> &mio::Registry {
        self.poll.registry()
    }

    /// Waits for readiness. `timeout` is `None` to wait for ever; `deadline` (with `now`, both
    /// loop time in ns) arms the timerfd so the wait ends on the nanosecond, not the millisecond.
    /// Wakers of ready registrations are pushed onto `wake`.
    pub(crate) fn poll(
        &mut self,
        timeout: Option<Duration>,
        deadline: Option<(u64, u64)>,
        wake: &mut Vec<Waker>,
    ) -> io::Result<()> {
        let mut timeout = timeout;
        if let Some((deadline, now)) = deadline {
            if deadline <= now {
                timeout = Some(Duration::ZERO);
            } else {
                self.arm(deadline, deadline - now)?;
            }
        }
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(err) => return Err(err),
        }
        for event in self.events.iter() {
            match event.token() {
                WAKER_TOKEN => {}
                TIMER_TOKEN => {
                    self.armed = None;
                    let mut buf = [0u8; 8];
                    // Clears the expiration count; WouldBlock only means another read won.
                    let _ = rustix::io::read(&self.timerfd, &mut buf);
                }
                Token(key) => {
                    let Some(slot) = self.slots.get(key) else {
                        continue;
                    };
                    if event.is_read_closed() {
                        slot.set(READ_CLOSED);
                    }
                    if event.is_readable() || event.is_read_closed() || event.is_error() {
                        slot.set(READABLE);
                        wake.extend(slot.read_waker.take());
                    }
                    if event.is_writable() || event.is_write_closed() || event.is_error() {
                        slot.set(WRITABLE);
                        wake.extend(slot.write_waker.take());
                    }
                }
            }
        }
        Ok(())
    }

    fn arm(&mut self, deadline: u64, after_ns: u64) -> io::Result<()> {
        if self.armed == Some(deadline) {
            return Ok(());
        }
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: i64::try_from(after_ns / 1_000_000_000).unwrap_or(i64::MAX),
                // Never zero: a zero it_value disarms the timer.
                tv_nsec: i64::try_from(after_ns % 1_000_000_000).unwrap_or(0).max(1),
            },
        };
        rustix::time::timerfd_settime(&self.timerfd, TimerfdTimerFlags::empty(), &spec)?;
        self.armed = Some(deadline);
        Ok(())
    }
}
