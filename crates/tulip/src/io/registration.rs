use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::reactor::{IoState, READ_CLOSED, READABLE, WRITABLE};
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
    /// Also in the reactor's slab, which sets the readiness bits and takes the wakers.
    state: Rc<IoState>,
    deregistered: Cell<bool>,
    /// Registered for reading only so far: the descriptor, to add write interest the first
    /// time a task waits to write (see [`Registration::new_read_first`]).
    lazy_write_fd: Cell<Option<RawFd>>,
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
            let state = Rc::new(IoState::new());
            let key = reactor.slots.insert(state.clone());
            if let Err(err) = reactor.registry().register(source, Token(key), interest) {
                reactor.slots.remove(key);
                return Err(err);
            }
            Ok(Registration {
                key,
                shared: core.shared.clone(),
                state,
                deregistered: Cell::new(false),
                lazy_write_fd: Cell::new(None),
            })
        })
    }

    /// Registers `source` for reading only, adding write interest the first time a task has
    /// to wait to write. A socket registered for both at once reports a first writable edge
    /// at once, which wakes the loop for nothing when the socket is read before it is written
    /// (a server's accepted connection); most never wait to write at all.
    pub(crate) fn new_read_first(source: &mut (impl Source + AsRawFd)) -> io::Result<Registration> {
        let fd = source.as_raw_fd();
        let registration = Registration::new(source, Interest::READABLE)?;
        registration.lazy_write_fd.set(Some(fd));
        Ok(registration)
    }

    /// Stores the waker for `bit` (adding write interest first if it is still missing).
    #[inline]
    fn wait(&self, state: &IoState, cx: &mut Context<'_>, bit: u8) -> Poll<io::Result<()>> {
        if bit == WRITABLE
            && let Some(fd) = self.lazy_write_fd.get()
            && let Err(err) = self.add_write_interest(fd)
        {
            return Poll::Ready(Err(err));
        }
        state.store_waker(cx.waker(), bit);
        Poll::Pending
    }

    /// `EPOLL_CTL_MOD` to both directions. Edge-triggered epoll looks at the descriptor's
    /// state again on a modification, so a socket that became writable since the write that
    /// would block still reports it.
    #[cold]
    fn add_write_interest(&self, fd: RawFd) -> io::Result<()> {
        let added = context::with_loop_of(&self.shared, |core| {
            core.reactor.borrow().registry().reregister(
                &mut SourceFd(&fd),
                Token(self.key),
                Interest::READABLE | Interest::WRITABLE,
            )
        });
        match added {
            Some(Ok(())) => {
                self.lazy_write_fd.set(None);
                Ok(())
            }
            Some(Err(err)) => Err(err),
            None => Err(not_registered()),
        }
    }

    /// The shared state, if the source is still registered with this thread's running loop.
    #[inline]
    fn state(&self) -> Option<&IoState> {
        (self.state.live.get() && context::is_on_loop(&self.shared)).then_some(&*self.state)
    }

    fn poll_ready(&self, cx: &mut Context<'_>, bit: u8) -> Poll<io::Result<()>> {
        let Some(state) = self.state() else {
            return Poll::Ready(Err(not_registered()));
        };
        if state.readiness.get() & bit != 0 {
            return Poll::Ready(Ok(()));
        }
        self.wait(state, cx, bit)
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
        self.clear_bit(READABLE);
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
        self.clear_bit(WRITABLE);
    }

    #[inline]
    fn clear_bit(&self, bit: u8) {
        self.state.clear(bit);
    }

    /// Takes readiness `bit`: Ready (and the bit cleared) if an event set it since it was last
    /// cleared, else the waker is stored and this is Pending. The socket types use it when they
    /// know the last operation drained the kernel buffer, so the next one waits for an edge
    /// without a syscall that would only say `WouldBlock`.
    #[inline]
    pub(crate) fn poll_take_ready(&self, cx: &mut Context<'_>, bit: u8) -> Poll<io::Result<()>> {
        // End of stream brings no further edge: once seen, reads are always ready. (A write
        // needs no such rule: every hang-up or error event also sets WRITABLE, and a write
        // after one fails instead of coming back short.)
        let closed = if bit == READABLE { READ_CLOSED } else { 0 };
        let Some(state) = self.state() else {
            return Poll::Ready(Err(not_registered()));
        };
        let readiness = state.readiness.get();
        if readiness & (bit | closed) != 0 {
            state.clear(bit);
            return Poll::Ready(Ok(()));
        }
        self.wait(state, cx, bit)
    }

    /// Clears readiness `bit` and stores the waker: call it right after an operation returned
    /// `WouldBlock` (no event can arrive in between, both happen on the loop thread), so the
    /// next edge wakes the task. Pending, or an error when the source is not registered here.
    #[inline]
    pub(crate) fn park(&self, cx: &mut Context<'_>, bit: u8) -> Poll<io::Result<()>> {
        let Some(state) = self.state() else {
            return Poll::Ready(Err(not_registered()));
        };
        state.clear(bit);
        self.wait(state, cx, bit)
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
        self.release(source)
    }

    /// [`deregister`](Registration::deregister) through a shared reference, for owners that
    /// deregister in their own `Drop` (the socket types): afterwards the registration is inert
    /// and dropping it does nothing.
    pub(crate) fn release(&self, source: &mut (impl Source + ?Sized)) -> io::Result<()> {
        if self.deregistered.replace(true) {
            return Ok(());
        }
        let result = context::with_loop_of(&self.shared, |core| {
            let mut reactor = core.reactor.borrow_mut();
            let result = reactor.registry().deregister(source);
            let slot = reactor.slots.try_remove(self.key);
            drop(reactor);
            drop(slot);
            result
        });
        let wakers = self.state.retire();
        drop(wakers);
        result.unwrap_or_else(|| {
            Err(io::Error::other(
                "deregister must be called on the loop that registered the source",
            ))
        })
    }
}

fn check_in_runtime() -> io::Result<()> {
    if context::is_set() {
        return Ok(());
    }
    Err(io::Error::other(
        "a tulip socket must be created inside a tulip runtime (tulip::run, Runtime::block_on or a task)",
    ))
}

fn not_registered() -> io::Error {
    io::Error::other(
        "the I/O source is not registered with this thread's tulip loop (deregistered, or its loop closed)",
    )
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
        let wakers = self.state.retire();
        drop(wakers);
    }
}

/// A [`Registration`] for a socket, with the bookkeeping that lets its operations skip
/// syscalls that could only say `WouldBlock`: the socket types in `net` are built on it.
///
/// An operation is tried first, before the reactor is consulted. When it returns `WouldBlock`,
/// or — for byte streams — transfers fewer bytes than asked (the kernel buffer was drained or
/// filled at that instant), the direction is marked *blocked*: its readiness bit is cleared and
/// the next operation in that direction waits for a fresh edge from epoll instead of calling
/// the kernel. Any data that arrives after that instant produces such an edge, so nothing is
/// missed; a stale edge costs one extra syscall, never a lost wake-up.
///
/// Registered once for `READABLE | WRITABLE` and deregistered by [`PollIo::release`], which
/// the owners call from their `Drop` before the descriptor closes.
#[derive(Debug)]
pub(crate) struct PollIo {
    reg: Registration,
    read_blocked: Cell<bool>,
    write_blocked: Cell<bool>,
}

impl PollIo {
    /// Registers `source` (non-blocking already) with the current loop, for both directions.
    pub(crate) fn new(source: &mut (impl Source + ?Sized)) -> io::Result<PollIo> {
        check_in_runtime()?;
        Ok(PollIo::with(Registration::new(
            source,
            Interest::READABLE | Interest::WRITABLE,
        )?))
    }

    /// For a socket that is read before it is written, e.g. an accepted connection: see
    /// [`Registration::new_read_first`].
    pub(crate) fn new_read_first(source: &mut (impl Source + AsRawFd)) -> io::Result<PollIo> {
        check_in_runtime()?;
        Ok(PollIo::with(Registration::new_read_first(source)?))
    }

    fn with(reg: Registration) -> PollIo {
        PollIo {
            reg,
            read_blocked: Cell::new(false),
            write_blocked: Cell::new(false),
        }
    }

    #[inline]
    fn dir(&self, bit: u8) -> &Cell<bool> {
        if bit == READABLE {
            &self.read_blocked
        } else {
            &self.write_blocked
        }
    }

    /// Runs `op` (a read when `bit` is `READABLE`, a write when `WRITABLE`), waiting for
    /// readiness only when the direction is blocked. `drained` says whether a successful result
    /// proves the kernel buffer empty (reads) or full (writes).
    #[inline(always)]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        bit: u8,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let blocked = self.dir(bit);
        if blocked.get() {
            match self.reg.poll_take_ready(cx, bit) {
                Poll::Ready(Ok(())) => blocked.set(false),
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        match op() {
            Ok(r) => {
                if drained(&r) {
                    blocked.set(true);
                }
                Poll::Ready(Ok(r))
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                blocked.set(true);
                // `park` is Pending unless the registration is gone: no event can have
                // arrived since `op` ran, so there is nothing to retry.
                match self.reg.park(cx, bit) {
                    Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                    _ => Poll::Pending,
                }
            }
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    /// A byte-stream read of up to `want` bytes: a short read marks the direction blocked.
    #[inline]
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        want: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, READABLE, op, |&n| n > 0 && n < want)
    }

    /// A byte-stream write of up to `want` bytes: a short write marks the direction blocked.
    #[inline]
    pub(crate) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        want: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, WRITABLE, op, |&n| n < want)
    }

    /// An operation whose success says nothing about what is left (accept, a datagram).
    #[inline]
    pub(crate) fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        bit: u8,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, bit, op, |_| false)
    }

    /// Runs `op` once without waiting; `WouldBlock` marks the direction blocked.
    #[inline]
    pub(crate) fn try_io<R>(
        &self,
        bit: u8,
        op: impl FnOnce() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> io::Result<R> {
        let blocked = self.dir(bit);
        match op() {
            Ok(r) => {
                blocked.set(drained(&r));
                Ok(r)
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                blocked.set(true);
                self.reg.clear_bit(bit);
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    /// Ready when an operation in direction `bit` may succeed: at once unless the direction is
    /// blocked, else at the next edge. May be spurious: the operation can still say
    /// `WouldBlock`.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, bit: u8) -> Poll<io::Result<()>> {
        let blocked = self.dir(bit);
        if blocked.get() {
            std::task::ready!(self.reg.poll_take_ready(cx, bit))?;
            blocked.set(false);
        }
        Poll::Ready(Ok(()))
    }

    /// Read readiness for users (`readable()`): when the direction is not known to be drained,
    /// `peek` (a non-consuming `MSG_PEEK` of one byte) settles it with one syscall instead of
    /// answering "maybe" — so a fresh socket is not reported readable before data arrives.
    pub(crate) fn poll_read_ready<R>(
        &self,
        cx: &mut Context<'_>,
        peek: impl FnOnce() -> io::Result<R>,
    ) -> Poll<io::Result<()>> {
        if !self.read_blocked.get() {
            match peek() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.clear(READABLE),
                // Data, end of stream or an error: a read would not wait.
                _ => return Poll::Ready(Ok(())),
            }
        }
        self.poll_ready(cx, READABLE)
    }

    /// [`poll_ready`](PollIo::poll_ready) as a future.
    pub(crate) async fn wait_ready(&self, bit: u8) -> io::Result<()> {
        poll_fn(|cx| self.poll_ready(cx, bit)).await
    }

    /// Forgets readiness in direction `bit` (an operation just said `WouldBlock` or "not yet").
    pub(crate) fn clear(&self, bit: u8) {
        self.dir(bit).set(true);
        self.reg.clear_bit(bit);
    }

    /// Deregisters `source`; owners call it from `Drop`, before the descriptor closes.
    pub(crate) fn release(&self, source: &mut (impl Source + ?Sized)) -> io::Result<()> {
        self.reg.release(source)
    }
}
