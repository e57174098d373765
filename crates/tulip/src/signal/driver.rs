//! The loop side of signal delivery: one duplicate of the wake-up eventfd per loop, registered
//! with that loop's reactor and shared by every listener on the loop.
//!
//! The driver has no task of its own (it would show up in `all_tasks()` and be cancelled like
//! one): its registration's waker schedules a callback on the loop, which drains the eventfd,
//! broadcasts what is pending and re-arms the registration. It lives as long as some listener
//! on its loop holds it; the last one to go deregisters it and closes the duplicate.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use mio::Interest;
use mio::unix::SourceFd;

use super::registry;
use crate::io::Registration;
use crate::runtime::Handle;
use crate::runtime::context;

thread_local! {
    /// The drivers of the loops that run on this thread, by loop id.
    static DRIVERS: RefCell<Vec<(u32, Weak<Driver>)>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Driver {
    loop_id: u32,
    fd: OwnedFd,
    reg: Option<Registration>,
    waker: Waker,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("loop_id", &self.loop_id)
            .field("fd", &self.fd)
            .finish_non_exhaustive()
    }
}

/// The id of the loop running on this thread, if any.
pub(crate) fn current_loop_id() -> Option<u32> {
    context::try_with_core(|core| core.shared.id)
}

/// The driver of the loop running on this thread, created and armed on first use; `None`
/// outside a runtime.
pub(crate) fn current() -> Option<io::Result<Rc<Driver>>> {
    let (loop_id, handle) = context::try_with_core(|core| {
        let handle = Handle {
            shared: core.shared.clone(),
        };
        (core.shared.id, handle)
    })?;
    let existing = DRIVERS.with(|drivers| {
        let drivers = drivers.borrow();
        drivers
            .iter()
            .find(|(id, _)| *id == loop_id)
            .and_then(|(_, weak)| weak.upgrade())
    });
    if let Some(driver) = existing {
        return Some(Ok(driver));
    }
    Some(Driver::new(loop_id, handle))
}

impl Driver {
    fn new(loop_id: u32, handle: Handle) -> io::Result<Rc<Driver>> {
        let fd = rustix::io::fcntl_dupfd_cloexec(registry::wake_fd()?, 0)?;
        let reg = Registration::new(&mut SourceFd(&fd.as_raw_fd()), Interest::READABLE)?;
        let waker = Waker::from(Arc::new(DriverWake { handle, loop_id }));
        let driver = Rc::new(Driver {
            loop_id,
            fd,
            reg: Some(reg),
            waker,
        });
        DRIVERS.with(|drivers| {
            let mut drivers = drivers.borrow_mut();
            drivers.retain(|(_, weak)| weak.strong_count() > 0);
            drivers.push((loop_id, Rc::downgrade(&driver)));
        });
        driver.process();
        Ok(driver)
    }

    pub(crate) fn loop_id(&self) -> u32 {
        self.loop_id
    }

    /// Drains and broadcasts while the eventfd is readable, then leaves the registration armed
    /// with the driver's waker.
    fn process(&self) {
        let Some(reg) = &self.reg else { return };
        let mut cx = Context::from_waker(&self.waker);
        while let Poll::Ready(Ok(())) = reg.poll_read_ready(&mut cx) {
            registry::drain_and_broadcast(self.fd.as_fd());
            // Nothing can set readiness between the read and this: events are taken on this
            // thread, in the loop's turn.
            reg.clear_read_ready();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The duplicate shares its open file with the eventfd every other loop uses, so closing
        // it would not take it out of epoll: deregister first.
        if let Some(reg) = self.reg.take() {
            let _ = reg.deregister(&mut SourceFd(&self.fd.as_raw_fd()));
        }
        let _ = DRIVERS.try_with(|drivers| {
            if let Ok(mut drivers) = drivers.try_borrow_mut() {
                drivers.retain(|(_, weak)| weak.strong_count() > 0);
            }
        });
    }
}

/// The waker of a driver's registration: schedules the driver's processing on its loop.
struct DriverWake {
    handle: Handle,
    loop_id: u32,
}

impl Wake for DriverWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let loop_id = self.loop_id;
        self.handle.call_soon(move || process(loop_id));
    }
}

fn process(loop_id: u32) {
    let driver = DRIVERS.with(|drivers| {
        drivers
            .borrow()
            .iter()
            .find(|(id, _)| *id == loop_id)
            .and_then(|(_, weak)| weak.upgrade())
    });
    if let Some(driver) = driver {
        driver.process();
    }
}
