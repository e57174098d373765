//! [`StreamReader`]: asyncio's `StreamReader` over any [`AsyncRead`] transport.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncBufRead, AsyncRead};

use super::StreamError;
use super::info::SocketInfo;
use crate::net::tcp::{OwnedReadHalf, TcpStream};

/// asyncio's default limit (`2 ** 16`): the longest line or chunk `readuntil` will buffer.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The buffer's first size, allocated on the first read so an idle reader costs no buffer.
/// Small, because a server holds one per connection: at 8 KiB, ten thousand mostly idle
/// connections cost 4.8× tokio's memory each (c10k bench); bulk readers double it quickly.
const INITIAL_CAPACITY: usize = 1024;

/// Plain reads grow the buffer (doubling when a read fills it) up to this size, so a peer
/// that sends in bulk is read in few system calls; only `readuntil`/`readexactly` go beyond.
const MAX_ADAPTIVE_CAPACITY: usize = 64 * 1024;

/// The least free space a read from the transport is given, so a nearly full buffer is
/// compacted or grown rather than read into a few bytes at a time.
const MIN_READ: usize = 1024;

/// The read side of a stream connection, with asyncio's `StreamReader` methods: [`read`],
/// [`read_to_end`], [`readline`], [`readexactly`], [`readuntil`] and [`at_eof`].
///
/// It buffers what the transport delivers, so framing methods can look ahead without losing
/// bytes. `R` is the transport: by default a TCP connection's read half (what
/// [`open_connection`](super::open_connection) and [`start_server`](super::start_server) give),
/// but any [`AsyncRead`] works — a Unix socket half, a TLS stream, or a byte slice in tests.
/// The type is generic rather than boxed so every read is a direct, inlinable call.
///
/// It implements [`AsyncRead`] and [`AsyncBufRead`], so code written against `futures-io`
/// (e.g. `futures_lite::io::AsyncBufReadExt::lines`) reads through it, sharing its buffer.
///
/// # Cancel safety
///
/// Every read method is cancel safe: bytes are only taken out of the buffer when a method
/// completes, so dropping a half-finished `readexactly` or `readuntil` leaves whatever had
/// arrived in the buffer for the next call.
///
/// # Examples
///
/// ```
/// use tulip::net::StreamReader;
///
/// tulip::run(async {
///     let mut reader = StreamReader::new(&b"HTTP/1.0 200 OK\r\n\r\nhello"[..]);
///     assert_eq!(reader.readline().await.unwrap(), b"HTTP/1.0 200 OK\r\n");
///     assert_eq!(reader.readuntil(b"\r\n").await.unwrap(), b"\r\n");
///     assert_eq!(reader.read_to_end().await.unwrap(), b"hello");
///     assert!(reader.at_eof());
/// });
/// ```
///
/// [`read`]: StreamReader::read
/// [`read_to_end`]: StreamReader::read_to_end
/// [`readline`]: StreamReader::readline
/// [`readexactly`]: StreamReader::readexactly
/// [`readuntil`]: StreamReader::readuntil
/// [`at_eof`]: StreamReader::at_eof
pub struct StreamReader<R = OwnedReadHalf<TcpStream>> {
    inner: R,
    /// Always initialised (`len` is the capacity): the buffered bytes are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A read filled the whole free space: the next refill doubles the buffer.
    grow: bool,
    eof: bool,
    limit: usize,
}

impl<R> StreamReader<R> {
    /// Wraps `inner` with asyncio's default limit of 64 KiB ([`DEFAULT_LIMIT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// let reader = StreamReader::new(&b"data"[..]);
    /// assert_eq!(reader.limit(), 64 * 1024);
    /// ```
    pub fn new(inner: R) -> StreamReader<R> {
        StreamReader::with_limit(inner, DEFAULT_LIMIT)
    }

    /// Wraps `inner` with `limit`: the longest chunk [`readuntil`](StreamReader::readuntil) and
    /// [`readline`](StreamReader::readline) will buffer while looking for their separator.
    /// A limit of 0 is raised to 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// let reader = StreamReader::with_limit(&b"data"[..], 1024);
    /// assert_eq!(reader.limit(), 1024);
    /// ```
    pub fn with_limit(inner: R, limit: usize) -> StreamReader<R> {
        StreamReader {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            grow: false,
            eof: false,
            limit: limit.max(1),
        }
    }

    /// The current limit for [`readuntil`](StreamReader::readuntil) and
    /// [`readline`](StreamReader::readline).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{DEFAULT_LIMIT, StreamReader};
    ///
    /// assert_eq!(StreamReader::new(&b""[..]).limit(), DEFAULT_LIMIT);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the limit (asyncio's `limit=` argument); 0 is raised to 1. Bytes already
    /// buffered stay.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::with_limit(&b"a long line\n"[..], 4);
    ///     assert!(reader.readline().await.is_err());
    ///     reader.set_limit(100);
    ///     assert_eq!(reader.readline().await.unwrap(), b"a long line\n");
    /// });
    /// ```
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// True when the transport has reported end of stream and the buffer is empty: asyncio's
    /// `at_eof()`. Every read from here on returns no bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"x"[..]);
    ///     assert!(!reader.at_eof());
    ///     assert_eq!(reader.read_to_end().await.unwrap(), b"x");
    ///     assert!(reader.at_eof());
    /// });
    /// ```
    pub fn at_eof(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// The bytes received but not read yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"one\ntwo\n"[..]);
    ///     reader.readline().await.unwrap();
    ///     assert_eq!(reader.buffer(), b"two\n");
    /// });
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The transport.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// let reader = StreamReader::new(&b"abc"[..]);
    /// assert_eq!(*reader.get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The transport, mutably. Reading from it directly skips bytes already buffered here.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// let mut reader = StreamReader::new(&b"abc"[..]);
    /// *reader.get_mut() = &b"xyz"[..];
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Takes the transport back, with the bytes that were buffered but not read.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"line\nrest"[..]);
    ///     reader.readline().await.unwrap();
    ///     let (inner, buffered) = reader.into_parts();
    ///     assert_eq!(buffered, b"rest");
    ///     assert!(inner.is_empty());
    /// });
    /// ```
    pub fn into_parts(mut self) -> (R, Vec<u8>) {
        self.buf.truncate(self.end);
        self.buf.drain(..self.start);
        (self.inner, self.buf)
    }

    fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Takes `n` buffered bytes out.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.start..self.start + n].to_vec();
        self.consume_buf(n);
        out
    }

    fn consume_buf(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Makes free space at the end of the buffer for the next read from the transport: at
    /// least `want` bytes (capped at [`MAX_ADAPTIVE_CAPACITY`], bigger reads take several
    /// refills) and never less than [`MIN_READ`], moving the buffered bytes to the front or
    /// growing the buffer as needed.
    fn make_room(&mut self, want: usize) {
        let min_free = want.clamp(MIN_READ, MAX_ADAPTIVE_CAPACITY);
        let cap = self.buf.len();
        if !self.grow && cap - self.end >= min_free {
            return;
        }
        let len = self.buffered();
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = len;
        }
        let mut new_cap = cap.max(INITIAL_CAPACITY);
        if self.grow && new_cap < MAX_ADAPTIVE_CAPACITY {
            new_cap *= 2;
        }
        self.grow = false;
        while new_cap - len < min_free {
            new_cap *= 2;
        }
        if new_cap > cap {
            self.buf.resize(new_cap, 0);
        }
    }
}

/// The future of [`StreamReader::fill_buf`]: holds the reader until the bytes are lent out.
struct FillBuf<'a, R> {
    reader: Option<&'a mut StreamReader<R>>,
}

impl<'a, R: AsyncRead + Unpin> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let reader = self
            .reader
            .as_mut()
            .expect("`fill_buf` future polled after it completed");
        if reader.buffered() == 0 {
            ready!(reader.poll_fill(cx, 1))?;
        }
        let reader = self.reader.take().expect("checked above");
        Poll::Ready(Ok(reader.buffer()))
    }
}

impl<R: AsyncRead + Unpin> StreamReader<R> {
    /// Reads more bytes from the transport into the buffer: Ready(0) at end of stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        self.make_room(want);
        let free = &mut self.buf[self.end..];
        let n = ready!(Pin::new(&mut self.inner).poll_read(cx, free))?;
        if n == 0 {
            self.eof = true;
        } else {
            self.grow = n == free.len();
            self.end += n;
        }
        Poll::Ready(Ok(n))
    }

    async fn fill(&mut self, want: usize) -> io::Result<usize> {
        poll_fn(|cx| self.poll_fill(cx, want)).await
    }

    /// Reads up to `n` bytes: what is buffered, or else what one read from the transport
    /// brings (at least one byte unless the stream has ended). Returns an empty vector at end
    /// of stream, or when `n` is 0. asyncio's `read(n)`; for its `read(-1)` use
    /// [`read_to_end`](StreamReader::read_to_end).
    ///
    /// For a copy-free hot path use [`fill_buf`](StreamReader::fill_buf) and
    /// [`consume`](StreamReader::consume) instead, which lend the buffer out.
    ///
    /// # Errors
    ///
    /// The transport's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no byte leaves the buffer unless the call completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"hello world"[..]);
    ///     assert_eq!(reader.read(5).await.unwrap(), b"hello");
    ///     assert_eq!(reader.read(100).await.unwrap(), b" world");
    ///     assert!(reader.read(100).await.unwrap().is_empty());
    /// });
    /// ```
    pub fn read(&mut self, n: usize) -> impl Future<Output = io::Result<Vec<u8>>> + '_ {
        // A bare `poll_fn`, not `async fn` → `fill` → `poll_fn`, as in `fill_buf`.
        poll_fn(move |cx| {
            if n == 0 {
                return Poll::Ready(Ok(Vec::new()));
            }
            if self.buffered() == 0 {
                ready!(self.poll_fill(cx, 1))?;
            }
            let n = n.min(self.buffered());
            Poll::Ready(Ok(self.take(n)))
        })
    }

    /// Lends the buffered bytes, reading from the transport first if none are buffered: the
    /// copy-free way to read. Empty only at end of stream. The bytes stay buffered until
    /// [`consume`](StreamReader::consume) takes them, so a protocol can parse what it can and
    /// leave the rest. (The same as [`AsyncBufRead::poll_fill_buf`], without the `Pin`.)
    ///
    /// # Errors
    ///
    /// The transport's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing leaves the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"ping"[..]);
    ///     assert_eq!(reader.fill_buf().await.unwrap(), b"ping");
    ///     reader.consume(2);
    ///     assert_eq!(reader.fill_buf().await.unwrap(), b"ng");
    ///     reader.consume(2);
    ///     assert!(reader.fill_buf().await.unwrap().is_empty());
    /// });
    /// ```
    pub fn fill_buf(&mut self) -> impl Future<Output = io::Result<&[u8]>> + '_ {
        // A flat future rather than `async fn` → `fill` → `poll_fn`: the copy-free read is the
        // streams' hot path, and the nested state machines cost ~50 instructions a message.
        FillBuf { reader: Some(self) }
    }

    /// Takes `n` bytes of what [`fill_buf`](StreamReader::fill_buf) lent out of the buffer
    /// (at most what is buffered).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"key=value"[..]);
    ///     let at = reader.fill_buf().await.unwrap().iter().position(|&b| b == b'=').unwrap();
    ///     reader.consume(at + 1);
    ///     assert_eq!(reader.read(100).await.unwrap(), b"value");
    /// });
    /// ```
    pub fn consume(&mut self, n: usize) {
        self.consume_buf(n.min(self.buffered()));
    }

    /// Reads until end of stream and returns everything: asyncio's `read()` / `read(-1)`.
    /// Not bounded by the limit.
    ///
    /// # Errors
    ///
    /// The transport's error; the bytes read so far stay buffered.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: what arrived stays in the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"all of it"[..]);
    ///     assert_eq!(reader.read_to_end().await.unwrap(), b"all of it");
    /// });
    /// ```
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        while self.fill(INITIAL_CAPACITY).await? > 0 {}
        Ok(self.take(self.buffered()))
    }

    /// Reads exactly `n` bytes: asyncio's `readexactly(n)`.
    ///
    /// # Errors
    ///
    /// [`StreamError::IncompleteRead`] with the bytes that did arrive (taken out of the
    /// buffer) and `expected: Some(n)` if the stream ends first; [`StreamError::Io`] if the
    /// transport fails (the bytes read so far stay buffered).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the bytes stay buffered until all `n` have arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"\x00\x05hello"[..]);
    ///     let header = reader.readexactly(2).await.unwrap();
    ///     let len = u16::from_be_bytes([header[0], header[1]]) as usize;
    ///     assert_eq!(reader.readexactly(len).await.unwrap(), b"hello");
    /// });
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        while self.buffered() < n {
            let want = n - self.buffered();
            if self.fill(want).await? == 0 {
                return Err(StreamError::IncompleteRead {
                    partial: self.take(self.buffered()),
                    expected: Some(n),
                });
            }
        }
        Ok(self.take(n))
    }

    /// Reads up to and including the first `\n`: asyncio's `readline()`. At end of stream it
    /// returns what is left (the last line without its `\n`), then empty vectors.
    ///
    /// # Errors
    ///
    /// [`StreamError::LimitOverrun`] when no `\n` comes within the limit; unlike asyncio, which
    /// discards the overlong line, the bytes stay buffered (see
    /// [`readuntil`](StreamReader::readuntil)). [`StreamError::Io`] if the transport fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a partial line stays buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"first\nlast"[..]);
    ///     assert_eq!(reader.readline().await.unwrap(), b"first\n");
    ///     assert_eq!(reader.readline().await.unwrap(), b"last");
    ///     assert_eq!(reader.readline().await.unwrap(), b"");
    /// });
    /// ```
    pub async fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        match self.readuntil(b"\n").await {
            Err(StreamError::IncompleteRead { partial, .. }) => Ok(partial),
            other => other,
        }
    }

    /// Reads up to and including the first occurrence of `separator`: asyncio's
    /// `readuntil(separator)`.
    ///
    /// The search is bounded by the [limit](StreamReader::limit): the separator must start
    /// within the first `limit` buffered bytes (asyncio's rule), so a peer that never sends
    /// it cannot make the reader buffer without bound.
    ///
    /// # Errors
    ///
    /// - [`StreamError::LimitOverrun`] when the separator is not found within the limit, or
    ///   found beyond it. The bytes stay buffered: read `consumed` of them with
    ///   [`read`](StreamReader::read) or [`readexactly`](StreamReader::readexactly) to skip
    ///   them, or raise the limit and call again.
    /// - [`StreamError::IncompleteRead`] (`expected: None`) when the stream ends first, with
    ///   the bytes that arrived (taken out of the buffer).
    /// - [`StreamError::Io`]: the transport failed, or `separator` is empty (`InvalidInput`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the bytes stay buffered until the separator arrives.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"key: value\r\n\r\nbody"[..]);
    ///     let head = reader.readuntil(b"\r\n\r\n").await.unwrap();
    ///     assert_eq!(head, b"key: value\r\n\r\n");
    /// });
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        if separator.is_empty() {
            return Err(StreamError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "readuntil: the separator is empty; pass at least one byte",
            )));
        }
        // Where the next search starts: bytes before it were searched already.
        let mut offset = 0;
        loop {
            let buffered = &self.buf[self.start..self.end];
            if let Some(found) = find(&buffered[offset..], separator) {
                let at = offset + found;
                if at > self.limit {
                    return Err(StreamError::LimitOverrun {
                        consumed: at,
                        limit: self.limit,
                    });
                }
                return Ok(self.take(at + separator.len()));
            }
            offset = (buffered.len() + 1).saturating_sub(separator.len());
            if offset > self.limit {
                return Err(StreamError::LimitOverrun {
                    consumed: offset,
                    limit: self.limit,
                });
            }
            if self.fill(1).await? == 0 {
                return Err(StreamError::IncompleteRead {
                    partial: self.take(self.buffered()),
                    expected: None,
                });
            }
        }
    }
}

/// The first position of `needle` (non-empty) in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [byte] => haystack.iter().position(|b| b == byte),
        [first, rest @ ..] => {
            let last_start = haystack.len().checked_sub(needle.len())?;
            (0..=last_start).find(|&i| haystack[i] == *first && haystack[i + 1..].starts_with(rest))
        }
        [] => Some(0),
    }
}

impl<R: SocketInfo> StreamReader<R> {
    /// The address of the other end: asyncio's `get_extra_info('peername')`.
    ///
    /// # Errors
    ///
    /// The operating system's, e.g. when the peer is no longer connected.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// # let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    /// # let addr = server.local_addrs()[0];
    /// let (reader, _writer) = tulip::net::open_connection(addr).await.unwrap();
    /// assert_eq!(reader.peer_addr().unwrap(), addr);
    /// # });
    /// ```
    pub fn peer_addr(&self) -> io::Result<R::Addr> {
        self.inner.peer_addr()
    }

    /// The address of this end: asyncio's `get_extra_info('sockname')`.
    ///
    /// # Errors
    ///
    /// The operating system's.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// # let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    /// # let addr = server.local_addrs()[0];
    /// let (reader, _writer) = tulip::net::open_connection(addr).await.unwrap();
    /// assert!(reader.local_addr().unwrap().ip().is_loopback());
    /// # });
    /// ```
    pub fn local_addr(&self) -> io::Result<R::Addr> {
        self.inner.local_addr()
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for StreamReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // A large read with nothing buffered goes straight into the caller's memory.
        if this.buffered() == 0 && out.len() >= this.buf.len().max(INITIAL_CAPACITY) {
            if this.eof {
                return Poll::Ready(Ok(0));
            }
            let n = ready!(Pin::new(&mut this.inner).poll_read(cx, out))?;
            if n == 0 && !out.is_empty() {
                this.eof = true;
            }
            return Poll::Ready(Ok(n));
        }
        let available = ready!(Pin::new(&mut *this).poll_fill_buf(cx))?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        this.consume_buf(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for StreamReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.buffered() == 0 {
            ready!(this.poll_fill(cx, 1))?;
        }
        Poll::Ready(Ok(&this.buf[this.start..this.end]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        StreamReader::consume(self.get_mut(), amt);
    }
}

impl<R: fmt::Debug> fmt::Debug for StreamReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("transport", &self.inner)
            .field("buffered", &self.buffered())
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish()
    }
}
