use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use mio::event::Source;
use mio::{Interest, Token};

use super::reactor::{IoSlot, READABLE, WRITABLE};
use crate::runtime::context;
use crate::runtime::shared::Shared;

/// An I/O source registered with the current loop's reactor.
///
/// Registration is edge-triggered: readiness, once reported, stays set until the owner
/// clears it after an operation returned `WouldBlock`. The `*_with` helpers do that loop.
/// A registration belongs to the loop that created it and is not `Send`.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use tulip::io::{Interest, Registration};
///
/// tulip::run(async {
///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
///     let reg = Registration::new(&mut a, Interest::WRITABLE).unwrap();
///     let n = reg.write_with(|| a.write(b"hello")).await.unwrap();
///     assert_eq!(n, 5);
///     reg.deregister(&mut a).unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct Registration {
    key: usize,
    shared: Arc<Shared>,
    deregistered: Cell<bool>,
    _not_send: PhantomData<*const ()>,
}

impl Registration {
    /// Registers `source` for `interest` with the current loop.
    ///
    /// # Errors
    ///
    /// What epoll says: e.g. the descriptor is already registered or not pollable.
    ///
    /// # Panics
    ///
    /// Outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut a, Interest::READABLE | Interest::WRITABLE).unwrap();
    ///     reg.deregister(&mut a).unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn new(
        source: &mut (impl Source + ?Sized),
        interest: Interest,
    ) -> io::Result<Registration> {
        context::with_core(|core| {
            let mut reactor = core.reactor.borrow_mut();
            let key = reactor.slots.insert(IoSlot::default());
            if let Err(err) = reactor.registry().register(source, Token(key), interest) {
                reactor.slots.remove(key);
                return Err(err);
            }
            Ok(Registration {
                key,
                shared: core.shared.clone(),
                deregistered: Cell::new(false),
                _not_send: PhantomData,
            })
        })
    }

    fn with_slot<R>(&self, f: impl FnOnce(&mut IoSlot) -> R) -> Option<R> {
        context::with_loop_of(&self.shared, |core| {
            let mut reactor = core.reactor.borrow_mut();
            reactor.slots.get_mut(self.key).map(f)
        })
        .flatten()
    }

    fn poll_ready(&self, cx: &mut Context<'_>, bit: u8) -> Poll<io::Result<()>> {
        // A replaced waker leaves the closure and is dropped after the reactor's borrow ends:
        // dropping it may free a task whose destructors use the reactor.
        let polled = self.with_slot(|slot| {
            if slot.readiness & bit != 0 {
                return (true, None);
            }
            let waker = if bit == READABLE {
                &mut slot.read_waker
            } else {
                &mut slot.write_waker
            };
            match waker {
                Some(w) if w.will_wake(cx.waker()) => (false, None),
                _ => (false, waker.replace(cx.waker().clone())),
            }
        });
        match polled {
            Some((true, _)) => Poll::Ready(Ok(())),
            Some((false, replaced)) => {
                drop(replaced);
                Poll::Pending
            }
            None => Poll::Ready(Err(io::Error::other(
                "the I/O source is not registered with this thread's tulip loop (deregistered, or its loop closed)",
            ))),
        }
    }

    /// Ready when the source is readable (or at end of stream, or in error).
    ///
    /// # Errors
    ///
    /// When polled off the loop that registered it, or after that loop closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::Write;
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, mut b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
    ///     a.write_all(b"x").unwrap();
    ///     poll_fn(|cx| reg.poll_read_ready(cx)).await.unwrap();
    ///     reg.deregister(&mut b).unwrap();
    /// });
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, READABLE)
    }

    /// Ready when the source is writable (or closed, or in error).
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](Registration::poll_read_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut a, Interest::WRITABLE).unwrap();
    ///     poll_fn(|cx| reg.poll_write_ready(cx)).await.unwrap();
    ///     reg.deregister(&mut a).unwrap();
    /// });
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, WRITABLE)
    }

    /// Forgets read readiness; call it when a read returned `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut a, Interest::READABLE).unwrap();
    ///     reg.clear_read_ready();
    ///     reg.deregister(&mut a).unwrap();
    /// });
    /// ```
    pub fn clear_read_ready(&self) {
        self.with_slot(|slot| slot.readiness &= !READABLE);
    }

    /// Forgets write readiness; call it when a write returned `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut a, Interest::WRITABLE).unwrap();
    ///     reg.clear_write_ready();
    ///     reg.deregister(&mut a).unwrap();
    /// });
    /// ```
    pub fn clear_write_ready(&self) {
        self.with_slot(|slot| slot.readiness &= !WRITABLE);
    }

    /// Runs `op` whenever the source is readable until it does not return `WouldBlock`.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, or a readiness error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is: dropping the future between attempts loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, mut b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
    ///     a.write_all(b"hi").unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let n = reg.read_with(|| b.read(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    ///     reg.deregister(&mut b).unwrap();
    /// });
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        loop {
            poll_fn(|cx| self.poll_read_ready(cx)).await?;
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.clear_read_ready(),
                result => return result,
            }
        }
    }

    /// Runs `op` whenever the source is writable until it does not return `WouldBlock`.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, or a readiness error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut a, Interest::WRITABLE).unwrap();
    ///     assert_eq!(reg.write_with(|| a.write(b"abc")).await.unwrap(), 3);
    ///     reg.deregister(&mut a).unwrap();
    /// });
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        loop {
            poll_fn(|cx| self.poll_write_ready(cx)).await?;
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.clear_write_ready(),
                result => return result,
            }
        }
    }

    /// Removes `source` from the reactor. (Closing the descriptor removes it too; dropping a
    /// `Registration` without this frees only the loop's bookkeeping.)
    ///
    /// # Errors
    ///
    /// What epoll says, e.g. when `source` is not the registered one.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::io::{Interest, Registration};
    ///
    /// tulip::run(async {
    ///     let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    ///     let reg = Registration::new(&mut a, Interest::READABLE).unwrap();
    ///     reg.deregister(&mut a).unwrap();
    /// });
    /// ```
    pub fn deregister(self, source: &mut (impl Source + ?Sized)) -> io::Result<()> {
        self.deregistered.set(true);
        let result = context::with_loop_of(&self.shared, |core| {
            let mut reactor = core.reactor.borrow_mut();
            let result = reactor.registry().deregister(source);
            let slot = reactor.slots.try_remove(self.key);
            drop(reactor);
            drop(slot);
            result
        });
        result.unwrap_or_else(|| {
            Err(io::Error::other(
                "deregister must be called on the loop that registered the source",
            ))
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.deregistered.get() {
            return;
        }
        let slot = context::with_loop_of(&self.shared, |core| {
            core.reactor.borrow_mut().slots.try_remove(self.key)
        });
        drop(slot);
    }
}
