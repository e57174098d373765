//! [`StreamWriter`]: asyncio's `StreamWriter` (and the write buffer of its transport) over any
//! [`AsyncWrite`] transport.
//!
//! The writer owns its transport through a small shared state. `write` sends at once when
//! nothing is queued (asyncio's transport does the same) and queues what the operating system
//! did not take. Queued bytes are sent by a helper task spawned the first time something is
//! left over, so — as in asyncio — data goes out even if the program never calls `drain`, and
//! `close` works without `wait_closed`. That task is the only one polling the transport
//! while bytes are queued, so readiness wake-ups are never split between two tasks.

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_io::AsyncWrite;

use super::info::SocketInfo;
use crate::net::tcp::{OwnedWriteHalf, TcpStream};
use crate::runtime::context;

/// asyncio's default high-water mark: `drain` waits while more than this is queued.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// asyncio's default low-water mark (a quarter of the high one): a waiting `drain` resumes
/// once the queue is down to this.
pub const DEFAULT_LOW_WATER: usize = DEFAULT_HIGH_WATER / 4;

/// The write side of a stream connection, with asyncio's `StreamWriter` methods:
/// [`write`], [`writelines`], [`drain`], [`write_eof`], [`close`], [`wait_closed`],
/// [`is_closing`] and the addresses.
///
/// # Buffering and flow control
///
/// [`write`] never blocks: it hands the bytes to the operating system at once when nothing
/// is queued, and queues the rest, which a helper task sends as the socket accepts it (so
/// bytes go out even if `drain` is never awaited, as in asyncio). When the queue grows past
/// the high-water mark (64 KiB by default) the writer is *paused*, and [`drain`] waits until
/// the queue is back down to the low-water mark (16 KiB); when not paused, `drain` returns at
/// once. That is asyncio's flow control: call `drain` after writing and a fast writer cannot
/// outrun a slow reader by more than the high-water mark. Change the marks with
/// [`set_write_buffer_limits`]; set the high one to 0 to make `drain` wait until everything is
/// sent.
///
/// # Errors
///
/// `write` does not report errors: a failure (a reset peer, a broken pipe — never a
/// `SIGPIPE`) is kept and returned by the next [`drain`] and by [`wait_closed`], and from
/// then on writes are dropped.
///
/// `W` is the transport: by default a TCP connection's write half, but any [`AsyncWrite`]
/// works. Generic rather than boxed, so the hot path is direct calls.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let server = tulip::net::start_server(
///         |mut reader, mut writer| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line);
///             writer.drain().await.unwrap();
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, mut writer) =
///         tulip::net::open_connection(server.local_addrs()[0]).await.unwrap();
///     writer.write(b"echo me\n");
///     writer.drain().await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"echo me\n");
///     writer.close();
///     writer.wait_closed().await.unwrap();
/// });
/// ```
///
/// [`write`]: StreamWriter::write
/// [`writelines`]: StreamWriter::writelines
/// [`drain`]: StreamWriter::drain
/// [`write_eof`]: StreamWriter::write_eof
/// [`close`]: StreamWriter::close
/// [`wait_closed`]: StreamWriter::wait_closed
/// [`is_closing`]: StreamWriter::is_closing
/// [`set_write_buffer_limits`]: StreamWriter::set_write_buffer_limits
pub struct StreamWriter<W: AsyncWrite + Unpin + 'static = OwnedWriteHalf<TcpStream>> {
    shared: Rc<RefCell<State<W>>>,
}

/// An I/O error kept to be reported more than once (`io::Error` is not `Clone`).
#[derive(Debug)]
enum SavedError {
    Os(i32),
    Other(io::ErrorKind, String),
}

impl SavedError {
    fn new(err: &io::Error) -> SavedError {
        match err.raw_os_error() {
            Some(code) => SavedError::Os(code),
            None => SavedError::Other(err.kind(), err.to_string()),
        }
    }

    fn to_error(&self) -> io::Error {
        match self {
            SavedError::Os(code) => io::Error::from_raw_os_error(*code),
            SavedError::Other(kind, message) => io::Error::new(*kind, message.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eof {
    Open,
    Requested,
    Sent,
}

struct State<W> {
    /// The transport; `None` once closed or failed.
    io: Option<W>,
    /// The queue: bytes `buf[pos..]` are waiting to be sent.
    buf: Vec<u8>,
    pos: usize,
    high: usize,
    low: usize,
    /// The queue went past the high-water mark and has not come down to the low one.
    paused: bool,
    /// Bytes were written since the transport was last flushed (a TLS layer may hold some).
    unflushed: bool,
    eof: Eof,
    closing: bool,
    closed: bool,
    error: Option<SavedError>,
    /// A misuse (write after close) to report once from the next `drain`.
    misuse: Option<&'static str>,
    /// The helper task exists (parked or working).
    flusher_spawned: bool,
    /// The helper task owns the outstanding work: only it polls the transport.
    flusher_busy: bool,
    /// The parked helper task.
    flusher_waker: Option<Waker>,
    /// The `StreamWriter` was dropped: the helper task ends once the work is done.
    writer_gone: bool,
    /// Tasks in `drain`, `wait_closed`, `poll_flush`, `poll_write` waiting for progress.
    waiters: Vec<Waker>,
}

impl<W: AsyncWrite + Unpin> State<W> {
    fn queued(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn has_work(&self) -> bool {
        self.io.is_some()
            && (self.pos < self.buf.len()
                || self.unflushed
                || self.eof == Eof::Requested
                || self.closing)
    }

    fn enqueue(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
        if self.queued() > self.high {
            self.paused = true;
        }
    }

    fn fail(&mut self, err: &io::Error) {
        if self.error.is_none() {
            self.error = Some(SavedError::new(err));
        }
        self.io = None;
        self.buf = Vec::new();
        self.pos = 0;
        self.paused = false;
        self.closed = true;
    }

    /// Does as much of the outstanding work (send the queue, flush, shut down, close) as the
    /// transport allows: Ready when none is left, Pending when the transport is not ready.
    fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(io) = self.io.as_mut() else {
                return Poll::Ready(());
            };
            if self.pos < self.buf.len() {
                match Pin::new(io).poll_write(cx, &self.buf[self.pos..]) {
                    Poll::Ready(Ok(0)) => {
                        self.fail(&io::ErrorKind::WriteZero.into());
                        return Poll::Ready(());
                    }
                    Poll::Ready(Ok(n)) => {
                        self.pos += n;
                        self.unflushed = true;
                        if self.pos == self.buf.len() {
                            self.buf.clear();
                            self.pos = 0;
                        }
                        if self.paused && self.queued() <= self.low {
                            self.paused = false;
                        }
                        continue;
                    }
                    Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Poll::Ready(Err(err)) => {
                        self.fail(&err);
                        return Poll::Ready(());
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            if self.unflushed {
                match Pin::new(&mut *io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.unflushed = false,
                    Poll::Ready(Err(err)) => {
                        self.fail(&err);
                        return Poll::Ready(());
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            if self.eof == Eof::Requested || (self.closing && self.eof == Eof::Open) {
                match Pin::new(&mut *io).poll_close(cx) {
                    Poll::Ready(Ok(())) => self.eof = Eof::Sent,
                    // The peer is gone already: there is nothing left to shut down.
                    Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::NotConnected => {
                        self.eof = Eof::Sent;
                    }
                    Poll::Ready(Err(err)) => {
                        self.fail(&err);
                        return Poll::Ready(());
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            if self.closing {
                self.io = None;
                self.closed = true;
            }
            return Poll::Ready(());
        }
    }

    /// False (and the misuse noted for `drain`) when writes are no longer accepted.
    fn accepts_writes(&mut self) -> bool {
        if self.io.is_some() && !self.closing && self.eof == Eof::Open {
            return true;
        }
        if self.error.is_none() {
            self.misuse = Some(
                "write() after close() or write_eof(): the bytes were dropped; \
                 write everything before closing",
            );
        }
        false
    }

    /// The wake-ups owed once the writer is closed: its waiters, and the parked helper task
    /// (which then ends).
    fn closed_wakeups(&mut self) -> Vec<Waker> {
        let mut wakers = std::mem::take(&mut self.waiters);
        wakers.extend(self.flusher_waker.take());
        wakers
    }

    fn wait(&mut self, cx: &mut Context<'_>) {
        if !self.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiters.push(cx.waker().clone());
        }
    }
}

/// Wakes tasks after the state's borrow has ended: a waker may run code that touches it.
fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

/// Makes progress on new work right away (no wait), and hands what is left to the helper
/// task, spawning it on first need.
fn kick<W: AsyncWrite + Unpin + 'static>(shared: &Rc<RefCell<State<W>>>) {
    let mut st = shared.borrow_mut();
    if st.flusher_busy || !st.has_work() {
        return;
    }
    let mut cx = Context::from_waker(Waker::noop());
    let done = st.poll_progress(&mut cx).is_ready();
    if done {
        // Only a failure or a close can have changed what waiters wait for.
        if st.closed {
            let wakers = st.closed_wakeups();
            drop(st);
            wake_all(wakers);
        }
        return;
    }
    st.flusher_busy = true;
    if let Some(waker) = st.flusher_waker.take() {
        drop(st);
        waker.wake();
    } else if !st.flusher_spawned {
        if !context::is_set() {
            st.fail(&io::Error::other(
                "StreamWriter used outside a tulip loop: queued bytes cannot be sent",
            ));
            return;
        }
        st.flusher_spawned = true;
        drop(st);
        crate::task::Builder::new()
            .name("StreamWriter flush")
            .spawn(flusher(shared.clone()))
            .detach();
    }
}

/// The helper task: sends queued bytes whenever the transport is ready, then parks until
/// `kick` hands it more work. Ends when the writer is closed, failed, or dropped and done.
async fn flusher<W: AsyncWrite + Unpin + 'static>(shared: Rc<RefCell<State<W>>>) {
    poll_fn(|cx| {
        let mut st = shared.borrow_mut();
        if st.flusher_busy {
            if st.poll_progress(cx).is_pending() {
                // Kept so `abort` can wake it: the transport, which holds the other copy of
                // this waker, may be dropped while the task waits on it.
                if !matches!(&st.flusher_waker, Some(w) if w.will_wake(cx.waker())) {
                    st.flusher_waker = Some(cx.waker().clone());
                }
                // Waiters may be owed a wake-up for bytes sent before the transport blocked.
                let waiters = if st.paused {
                    Vec::new()
                } else {
                    std::mem::take(&mut st.waiters)
                };
                drop(st);
                wake_all(waiters);
                return Poll::Pending;
            }
            st.flusher_busy = false;
            let waiters = std::mem::take(&mut st.waiters);
            let finished = st.closed || st.writer_gone;
            if finished {
                st.flusher_spawned = false;
            } else {
                st.flusher_waker = Some(cx.waker().clone());
            }
            drop(st);
            wake_all(waiters);
            return if finished {
                Poll::Ready(())
            } else {
                Poll::Pending
            };
        }
        if st.closed || st.writer_gone {
            st.flusher_spawned = false;
            return Poll::Ready(());
        }
        st.flusher_waker = Some(cx.waker().clone());
        Poll::Pending
    })
    .await;
}

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// Wraps `transport` with asyncio's default water marks (64 KiB high, 16 KiB low).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.write(b"hello");
    ///     writer.drain().await.unwrap();
    ///     assert_eq!(writer.write_buffer_size(), 0);
    /// });
    /// ```
    pub fn new(transport: W) -> StreamWriter<W> {
        StreamWriter {
            shared: Rc::new(RefCell::new(State {
                io: Some(transport),
                buf: Vec::new(),
                pos: 0,
                high: DEFAULT_HIGH_WATER,
                low: DEFAULT_LOW_WATER,
                paused: false,
                unflushed: false,
                eof: Eof::Open,
                closing: false,
                closed: false,
                error: None,
                misuse: None,
                flusher_spawned: false,
                flusher_busy: false,
                flusher_waker: None,
                writer_gone: false,
                waiters: Vec::new(),
            })),
        }
    }

    /// Queues `data` to be sent, sending as much as the operating system takes right now
    /// (asyncio's `write`). Never blocks; follow it with [`drain`](StreamWriter::drain) so a
    /// slow peer slows the writer down.
    ///
    /// After [`close`](StreamWriter::close) or [`write_eof`](StreamWriter::write_eof) the bytes
    /// are dropped and the next `drain` says so; after a failure they are dropped silently
    /// (`drain` reports the failure).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.write(b"GET / HTTP/1.0\r\n");
    ///     writer.write(b"\r\n");
    ///     writer.drain().await.unwrap();
    /// });
    /// ```
    pub fn write(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.shared.borrow_mut();
        if !st.accepts_writes() {
            return;
        }
        if st.flusher_busy || st.queued() > 0 {
            st.enqueue(data);
            return;
        }
        // Nothing queued: try to send straight from the caller's slice, no copy.
        let mut cx = Context::from_waker(Waker::noop());
        let mut sent = 0;
        while sent < data.len() {
            let Some(io) = st.io.as_mut() else { return };
            match Pin::new(io).poll_write(&mut cx, &data[sent..]) {
                Poll::Ready(Ok(0)) => {
                    st.fail(&io::ErrorKind::WriteZero.into());
                    let wakers = st.closed_wakeups();
                    drop(st);
                    wake_all(wakers);
                    return;
                }
                Poll::Ready(Ok(n)) => {
                    sent += n;
                    st.unflushed = true;
                }
                Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(err)) => {
                    st.fail(&err);
                    let wakers = st.closed_wakeups();
                    drop(st);
                    wake_all(wakers);
                    return;
                }
                Poll::Pending => break,
            }
        }
        if sent < data.len() {
            st.enqueue(&data[sent..]);
        } else if let Some(io) = st.io.as_mut() {
            // All sent (the usual case): flush here, sparing `kick` another look at the state.
            if let Poll::Ready(Ok(())) = Pin::new(io).poll_flush(&mut cx) {
                st.unflushed = false;
                return;
            }
        }
        drop(st);
        kick(&self.shared);
    }

    /// Queues each of `chunks` in order, then sends them together: asyncio's `writelines`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.writelines([&b"one\n"[..], b"two\n"]);
    ///     writer.drain().await.unwrap();
    /// });
    /// ```
    pub fn writelines<I>(&mut self, chunks: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut st = self.shared.borrow_mut();
        if !st.accepts_writes() {
            return;
        }
        for chunk in chunks {
            st.enqueue(chunk.as_ref());
        }
        drop(st);
        kick(&self.shared);
    }

    /// Waits for the write buffer to drain enough: asyncio's `drain()`.
    ///
    /// When the queue went past the high-water mark, waits until it is back down to the
    /// low-water mark; otherwise returns at once (the helper task keeps sending in the
    /// background). So `write` + `drain` in a loop never queues more than the high-water
    /// mark, however slow the peer.
    ///
    /// # Errors
    ///
    /// The transport's failure, once it has happened (e.g. `ConnectionReset` or `BrokenPipe`
    /// when the peer went away) — every call from then on returns it; or a `BrokenPipe`
    /// error, once, when bytes were written after `close` / `write_eof`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the queued bytes stay queued and keep being sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.write(&vec![b'x'; 1 << 20]);
    ///     writer.drain().await.unwrap();
    ///     assert!(writer.write_buffer_size() <= 16 * 1024);
    /// });
    /// ```
    // Not an `async fn`: it is awaited once per message on a streams hot path, and its own
    // state machine around the `poll_fn` cost ~15 instructions a call.
    pub fn drain(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        poll_fn(|cx| self.poll_drain(cx))
    }

    fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.borrow_mut();
        if let Some(err) = &st.error {
            return Poll::Ready(Err(err.to_error()));
        }
        if let Some(misuse) = st.misuse.take() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, misuse)));
        }
        if st.paused {
            st.wait(cx);
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    /// Sends (and flushes) everything queued, then gives the transport back, for a change of
    /// protocol on the same connection such as [`start_tls`](crate::net::start_tls).
    ///
    /// # Errors
    ///
    /// A write error met while sending the queue, or `NotConnected` when the writer was
    /// already closed.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut writer = tulip::net::StreamWriter::new(Vec::new());
    ///     writer.write(b"last plain-text words");
    ///     let sent: Vec<u8> = writer.into_inner().await.unwrap();
    ///     assert_eq!(sent, b"last plain-text words");
    /// });
    /// ```
    pub async fn into_inner(self) -> io::Result<W> {
        poll_fn(|cx| {
            loop {
                let mut st = self.shared.borrow_mut();
                if let Some(err) = &st.error {
                    return Poll::Ready(Err(err.to_error()));
                }
                if st.flusher_busy {
                    st.wait(cx);
                    return Poll::Pending;
                }
                if !st.has_work() {
                    return Poll::Ready(Ok(()));
                }
                drop(st);
                // Sends what it can now and hands the rest to the helper task.
                kick(&self.shared);
            }
        })
        .await?;
        let (io, wakers) = {
            let mut st = self.shared.borrow_mut();
            let io = st.io.take();
            st.closed = true;
            (io, st.closed_wakeups())
        };
        wake_all(wakers);
        io.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "the StreamWriter was already closed: there is no transport to give back",
            )
        })
    }

    /// Sends everything queued, then shuts down the sending direction (a TCP FIN): the peer
    /// reads end of stream, and can still send to us. asyncio's `write_eof()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// # let server = tulip::net::start_server(
    /// #     |mut r, mut w| async move {
    /// #         let all = r.read_to_end().await.unwrap();
    /// #         w.write(&all);
    /// #     },
    /// #     "127.0.0.1:0",
    /// # ).await.unwrap();
    /// let (mut reader, mut writer) =
    ///     tulip::net::open_connection(server.local_addrs()[0]).await.unwrap();
    /// writer.write(b"the whole request");
    /// writer.write_eof(); // the server reads to the end, then answers
    /// assert_eq!(reader.read_to_end().await.unwrap(), b"the whole request");
    /// # });
    /// ```
    pub fn write_eof(&mut self) {
        let mut st = self.shared.borrow_mut();
        if st.eof == Eof::Open && !st.closing {
            st.eof = Eof::Requested;
        }
        drop(st);
        kick(&self.shared);
    }

    /// Always true: stream transports can send end of stream (asyncio's `can_write_eof()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// # tulip::run(async {
    /// assert!(StreamWriter::new(Vec::<u8>::new()).can_write_eof());
    /// # });
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Starts closing: queued bytes are still sent, then the sending direction is shut down
    /// and the transport released (asyncio's `close()`). Returns at once; await
    /// [`wait_closed`](StreamWriter::wait_closed) to know it is done.
    ///
    /// With a socket's halves, the socket itself closes once the reader is dropped too.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.write(b"bye");
    ///     writer.close();
    ///     assert!(writer.is_closing());
    ///     writer.wait_closed().await.unwrap();
    /// });
    /// ```
    pub fn close(&mut self) {
        self.shared.borrow_mut().closing = true;
        kick(&self.shared);
    }

    /// Closes at once: queued bytes are dropped and the transport released without sending
    /// them (asyncio's `transport.abort()`), for a peer that stopped reading. `wait_closed`
    /// returns at once afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.write(b"never mind");
    ///     writer.abort();
    ///     assert!(writer.is_closing());
    ///     assert_eq!(writer.write_buffer_size(), 0);
    ///     writer.wait_closed().await.unwrap();
    /// });
    /// ```
    pub fn abort(&mut self) {
        let mut st = self.shared.borrow_mut();
        st.closing = true;
        let transport = st.io.take();
        st.buf = Vec::new();
        st.pos = 0;
        st.paused = false;
        st.unflushed = false;
        st.closed = true;
        let wakers = st.closed_wakeups();
        drop(st);
        // Dropped outside the borrow: a transport's destructor may run arbitrary code.
        drop(transport);
        wake_all(wakers);
    }

    /// True once [`close`](StreamWriter::close) was called or the transport failed: asyncio's
    /// `is_closing()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// # tulip::run(async {
    /// let mut writer = StreamWriter::new(Vec::<u8>::new());
    /// assert!(!writer.is_closing());
    /// writer.close();
    /// assert!(writer.is_closing());
    /// # });
    /// ```
    pub fn is_closing(&self) -> bool {
        let st = self.shared.borrow();
        st.closing || st.closed
    }

    /// Waits until the writer is closed: everything queued was sent and the transport
    /// released, or the transport failed. asyncio's `wait_closed()`. Only
    /// [`close`](StreamWriter::close) or a failure closes the writer, so call `close` first.
    ///
    /// # Errors
    ///
    /// The transport's failure, if it failed (before or while closing).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: closing goes on in the background.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// tulip::run(async {
    ///     let mut writer = StreamWriter::new(Vec::<u8>::new());
    ///     writer.close();
    ///     writer.wait_closed().await.unwrap();
    /// });
    /// ```
    pub async fn wait_closed(&self) -> io::Result<()> {
        poll_fn(|cx| {
            let mut st = self.shared.borrow_mut();
            if !st.closed {
                st.wait(cx);
                return Poll::Pending;
            }
            match &st.error {
                Some(err) => Poll::Ready(Err(err.to_error())),
                None => Poll::Ready(Ok(())),
            }
        })
        .await
    }

    /// How many bytes are queued, not yet taken by the operating system: asyncio's
    /// `transport.get_write_buffer_size()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// # tulip::run(async {
    /// let writer = StreamWriter::new(Vec::<u8>::new());
    /// assert_eq!(writer.write_buffer_size(), 0);
    /// # });
    /// ```
    pub fn write_buffer_size(&self) -> usize {
        self.shared.borrow().queued()
    }

    /// The high- and low-water marks, in bytes: asyncio's
    /// `transport.get_write_buffer_limits()` (returned as `(low, high)` there).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// # tulip::run(async {
    /// let writer = StreamWriter::new(Vec::<u8>::new());
    /// assert_eq!(writer.write_buffer_limits(), (64 * 1024, 16 * 1024));
    /// # });
    /// ```
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        let st = self.shared.borrow();
        (st.high, st.low)
    }

    /// Sets the water marks used by [`drain`](StreamWriter::drain): asyncio's
    /// `transport.set_write_buffer_limits(high, low)`. `high` 0 (and so `low` 0) makes `drain`
    /// wait until everything is sent.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `low > high`; the marks are unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamWriter;
    ///
    /// # tulip::run(async {
    /// let mut writer = StreamWriter::new(Vec::<u8>::new());
    /// writer.set_write_buffer_limits(1024, 256).unwrap();
    /// assert!(writer.set_write_buffer_limits(10, 20).is_err());
    /// assert_eq!(writer.write_buffer_limits(), (1024, 256));
    /// # });
    /// ```
    pub fn set_write_buffer_limits(&mut self, high: usize, low: usize) -> io::Result<()> {
        if low > high {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "set_write_buffer_limits: the low-water mark ({low}) is above the \
                     high-water mark ({high}); pass high >= low"
                ),
            ));
        }
        let mut st = self.shared.borrow_mut();
        st.high = high;
        st.low = low;
        if st.queued() > high {
            st.paused = true;
        } else if st.paused && st.queued() <= low {
            st.paused = false;
        }
        Ok(())
    }

    /// Calls `f` with the transport (asyncio's `writer.transport` /
    /// `get_extra_info('socket')`), for socket options and the like; `None` once the writer
    /// is closed. Writing to the transport directly would jump the queue: use `write`.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// # let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    /// let (_reader, writer) = tulip::net::open_connection(server.local_addrs()[0]).await.unwrap();
    /// let nodelay = writer.with_transport(|half| half.as_ref().nodelay().unwrap());
    /// assert_eq!(nodelay, Some(true)); // set by open_connection, as in asyncio
    /// # });
    /// ```
    pub fn with_transport<T>(&self, f: impl FnOnce(&W) -> T) -> Option<T> {
        self.shared.borrow().io.as_ref().map(f)
    }

    fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.borrow_mut();
        if !st.closed {
            st.wait(cx);
            return Poll::Pending;
        }
        match &st.error {
            Some(err) => Poll::Ready(Err(err.to_error())),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl<W: AsyncWrite + Unpin + SocketInfo + 'static> StreamWriter<W> {
    /// The address of the other end: asyncio's `get_extra_info('peername')`.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the writer is closed; otherwise the operating system's.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// # let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    /// # let addr = server.local_addrs()[0];
    /// let (_reader, writer) = tulip::net::open_connection(addr).await.unwrap();
    /// assert_eq!(writer.peer_addr().unwrap(), addr);
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<W::Addr> {
        self.addr_of(SocketInfo::peer_addr)
    }

    /// The address of this end: asyncio's `get_extra_info('sockname')`.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the writer is closed; otherwise the operating system's.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// # let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    /// # let addr = server.local_addrs()[0];
    /// let (_reader, writer) = tulip::net::open_connection(addr).await.unwrap();
    /// assert!(writer.local_addr().unwrap().ip().is_loopback());
    /// # });
    /// ```
    pub fn local_addr(&self) -> io::Result<W::Addr> {
        self.addr_of(SocketInfo::local_addr)
    }

    fn addr_of<T>(&self, f: impl FnOnce(&W) -> io::Result<T>) -> io::Result<T> {
        match &self.shared.borrow().io {
            Some(io) => f(io),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the StreamWriter is closed: its transport was released",
            )),
        }
    }
}

impl<W: AsyncWrite + Unpin + 'static> AsyncWrite for StreamWriter<W> {
    /// Queues `data` like [`write`](StreamWriter::write), but waits first while the writer is
    /// paused (above the high-water mark), so generic copy loops get flow control.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        {
            let mut st = this.shared.borrow_mut();
            if let Some(err) = &st.error {
                return Poll::Ready(Err(err.to_error()));
            }
            if st.closing || st.eof != Eof::Open {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "poll_write after close or write_eof",
                )));
            }
            if st.paused {
                st.wait(cx);
                return Poll::Pending;
            }
        }
        this.write(data);
        Poll::Ready(Ok(data.len()))
    }

    /// Ready once everything queued was sent and the transport flushed.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut st = self.shared.borrow_mut();
        if let Some(err) = &st.error {
            return Poll::Ready(Err(err.to_error()));
        }
        if st.has_work() && (st.queued() > 0 || st.unflushed) {
            st.wait(cx);
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    /// [`close`](StreamWriter::close), then [`wait_closed`](StreamWriter::wait_closed).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.shared.borrow().closing {
            this.close();
        }
        this.poll_closed(cx)
    }
}

impl<W: AsyncWrite + Unpin + 'static> Drop for StreamWriter<W> {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.shared.borrow_mut();
            st.writer_gone = true;
            st.flusher_waker.take()
        };
        // A parked helper task ends; a busy one finishes sending first.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<W: AsyncWrite + Unpin + fmt::Debug + 'static> fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.borrow();
        f.debug_struct("StreamWriter")
            .field("transport", &st.io)
            .field("queued", &st.queued())
            .field("paused", &st.paused)
            .field("closing", &(st.closing || st.closed))
            .finish()
    }
}
