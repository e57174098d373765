//! Reaping children without zombies and without a thread per child.
//!
//! A child being awaited is watched by its loop: through a pidfd (Linux 5.3+), registered with
//! the reactor, readable once the child has exited; or, where `pidfd_open` is missing (ENOSYS),
//! through a `SIGCHLD` listener — every `SIGCHLD` makes each waiting child try `waitpid` on its
//! own pid (never `waitpid(-1)`, which would steal other code's children). `TULIP_NO_PIDFD=1`
//! in the environment forces the `SIGCHLD` path, so it can be tested on any kernel.
//!
//! A child dropped while still running (asyncio lets it run on) is *adopted* here: one reaper
//! thread for all such orphans, started when the first one arrives and gone when none is left,
//! waits on their pidfds (or on `SIGCHLD`) and reaps them as they exit. A thread rather than a
//! loop, because the orphan may outlive every loop.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Wake, Waker};

use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, WaitOptions};

use crate::signal::{Listener, SignalKind};

const PIDFD_UNKNOWN: u8 = 0;
const PIDFD_ON: u8 = 1;
const PIDFD_OFF: u8 = 2;

static PIDFD: AtomicU8 = AtomicU8::new(PIDFD_UNKNOWN);

fn pidfd_enabled() -> bool {
    match PIDFD.load(Ordering::Relaxed) {
        PIDFD_ON => true,
        PIDFD_OFF => false,
        _ => {
            let off = std::env::var_os("TULIP_NO_PIDFD").is_some_and(|v| !v.is_empty() && v != "0");
            PIDFD.store(if off { PIDFD_OFF } else { PIDFD_ON }, Ordering::Relaxed);
            !off
        }
    }
}

/// A pidfd for `pid`, or `None` when the kernel has none (then every later child goes the
/// `SIGCHLD` way too) or it could not be had (then this child does).
pub(crate) fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    if !pidfd_enabled() {
        return None;
    }
    match rustix::process::pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => Some(fd),
        Err(Errno::NOSYS) => {
            PIDFD.store(PIDFD_OFF, Ordering::Relaxed);
            None
        }
        Err(_) => None,
    }
}

/// `waitpid(pid, WNOHANG)`: the exit status if the child has exited (and is now reaped).
pub(crate) fn try_reap(pid: Pid) -> io::Result<Option<ExitStatus>> {
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::NOHANG) {
            Ok(Some((_, status))) => return Ok(Some(ExitStatus::from_raw(status.as_raw()))),
            Ok(None) => return Ok(None),
            Err(Errno::INTR) => {}
            Err(err) => return Err(err.into()),
        }
    }
}

struct Orphan {
    pid: Pid,
    pidfd: Option<OwnedFd>,
}

struct Inbox {
    orphans: Vec<Orphan>,
    thread_running: bool,
}

static INBOX: Mutex<Inbox> = Mutex::new(Inbox {
    orphans: Vec::new(),
    thread_running: false,
});

fn inbox() -> MutexGuard<'static, Inbox> {
    INBOX.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reaper thread's wake-up eventfd: poked when an orphan arrives.
fn wake_fd() -> Option<&'static OwnedFd> {
    static FD: OnceLock<Option<OwnedFd>> = OnceLock::new();
    FD.get_or_init(|| {
        rustix::event::eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC).ok()
    })
    .as_ref()
}

fn poke() {
    if let Some(fd) = wake_fd() {
        let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
    }
}

/// Takes over a child that was dropped while (perhaps) still running, and reaps it once it
/// exits.
pub(crate) fn adopt(pid: Pid, pidfd: Option<OwnedFd>) {
    match try_reap(pid) {
        Ok(None) => {}
        // Exited, or not ours to wait for any more (someone reaped it): nothing to do.
        Ok(Some(_)) | Err(_) => return,
    }
    // Made here rather than by the thread, so that it exists from the first adoption on.
    let _ = wake_fd();
    let mut inbox = inbox();
    inbox.orphans.push(Orphan { pid, pidfd });
    if inbox.thread_running {
        drop(inbox);
        poke();
        return;
    }
    let started = std::thread::Builder::new()
        .name("tulip-reaper".into())
        .spawn(reaper_thread);
    // Without a thread (the OS refused one), the orphan waits in the inbox for the next
    // adoption to try again.
    inbox.thread_running = started.is_ok();
}

/// Wakes the reaper thread; used as the waker of its `SIGCHLD` listener.
struct PokeWake;

impl Wake for PokeWake {
    fn wake(self: Arc<Self>) {
        poke();
    }
}

fn reaper_thread() {
    let mut mine: Vec<Orphan> = Vec::new();
    // The SIGCHLD way, for orphans without a pidfd: a listener keeps the handler reporting
    // SIGCHLD, and a duplicate of the signal eventfd lets this thread drive delivery when no
    // loop does.
    let mut sigchld: Option<(Listener, Option<OwnedFd>)> = None;
    let waker = Waker::from(Arc::new(PokeWake));
    loop {
        {
            let mut inbox = inbox();
            mine.append(&mut inbox.orphans);
            mine.retain(|orphan| matches!(try_reap(orphan.pid), Ok(None)));
            if mine.is_empty() {
                inbox.thread_running = false;
                return;
            }
        }
        let need_sigchld = mine.iter().any(|orphan| orphan.pidfd.is_none());
        if need_sigchld && sigchld.is_none() {
            if let Ok(listener) = Listener::new(SignalKind::child(), false) {
                sigchld = Some((listener, crate::signal::dup_wake_fd().ok()));
            }
        }
        if let Some((listener, _)) = &mut sigchld {
            let mut cx = Context::from_waker(&waker);
            while listener.poll_recv(&mut cx).is_ready() {}
        }
        wait_for_news(
            &mine,
            sigchld.as_ref().and_then(|(_, fd)| fd.as_ref()),
            need_sigchld,
        );
    }
}

/// Blocks until an orphan's pidfd is readable, a new orphan arrives, or a `SIGCHLD` comes.
fn wait_for_news(mine: &[Orphan], signal_fd: Option<&OwnedFd>, need_sigchld: bool) {
    let Some(wake) = wake_fd() else {
        // No eventfd: look again in a while.
        std::thread::sleep(std::time::Duration::from_millis(50));
        return;
    };
    let mut fds = vec![PollFd::new(wake, PollFlags::IN)];
    if let Some(fd) = signal_fd {
        fds.push(PollFd::new(fd, PollFlags::IN));
    }
    fds.extend(
        mine.iter()
            .filter_map(|orphan| orphan.pidfd.as_ref())
            .map(|fd| PollFd::new(fd, PollFlags::IN)),
    );
    // Without a way to hear of SIGCHLD (its eventfd could not be duplicated), poll for exits.
    let timeout = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    let timeout = (need_sigchld && signal_fd.is_none()).then_some(&timeout);
    let _ = rustix::event::poll(&mut fds, timeout);
    let mut buf = [0u8; 8];
    let _ = rustix::io::read(wake, &mut buf);
    if let Some(fd) = signal_fd {
        if !fds[1].revents().is_empty() {
            crate::signal::drain_and_broadcast(fd.as_fd());
        }
    }
}
