//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and [`UnixDatagram`], what asyncio's
//! `loop.create_unix_server`, `create_unix_connection` and `create_datagram_endpoint(family=
//! AF_UNIX)` work with.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use socket2::{Domain, SockAddr, SockRef, Socket, Type};

use super::tcp::{
    ConnectError, DEFAULT_BACKLOG, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf, bind_error,
    send, send_vectored, split_borrowed, split_owned, stream_io_traits, total_len, total_len_mut,
};
use crate::io::PollIo;
use crate::io::reactor::{READABLE, WRITABLE};

/// A one-byte `MSG_PEEK`: is a read waiting to happen (data, end of stream, an error)?
fn peek(sock: &impl AsFd) -> io::Result<usize> {
    SockRef::from(sock).peek(&mut [MaybeUninit::uninit(); 1])
}

// ---------------------------------------------------------------------------------------------
// UnixListener
// ---------------------------------------------------------------------------------------------

/// A Unix stream socket listening for connections: the socket behind asyncio's
/// `start_unix_server` / `loop.create_unix_server`.
///
/// Binding creates the socket file; it is not removed when the listener is dropped (remove
/// it yourself, or bind to a fresh path: binding to a path that exists fails with
/// `AddrInUse`). Dropping the listener deregisters it and closes it.
///
/// # Examples
///
/// ```
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
/// use tulip::net::{UnixListener, UnixStream};
///
/// tulip::run(async {
///     let path = std::env::temp_dir().join(format!("tulip-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).unwrap();
///     let mut client = UnixStream::connect(&path).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hi").await.unwrap();
///     let mut buf = [0u8; 2];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub struct UnixListener {
    io: PollIo,
    sock: mio::net::UnixListener,
}

impl UnixListener {
    /// Binds to `path` and listens, with a backlog of
    /// [`DEFAULT_BACKLOG`](crate::net::DEFAULT_BACKLOG).
    ///
    /// # Errors
    ///
    /// When the path exists (`AddrInUse`), its directory does not, or is not writable; the
    /// message names the path. Also outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UnixListener;
    ///
    /// tulip::run(async {
    ///     let err = UnixListener::bind("/nonexistent/dir/x.sock").unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(err.to_string().contains("/nonexistent/dir/x.sock"));
    /// });
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let bound = || -> io::Result<UnixListener> {
            let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
            socket.bind(&SockAddr::unix(path)?)?;
            socket.listen(i32::try_from(DEFAULT_BACKLOG).unwrap_or(i32::MAX))?;
            UnixListener::from_mio(mio::net::UnixListener::from_std(socket.into()))
        };
        bound().map_err(|err| bind_error(err, &path.display()))
    }

    fn from_mio(mut sock: mio::net::UnixListener) -> io::Result<UnixListener> {
        let io = PollIo::new(&mut sock)?;
        Ok(UnixListener { io, sock })
    }

    /// Wraps a listening std socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// Outside a tulip runtime, or when the socket cannot be registered.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let path = std::env::temp_dir().join(format!("tulip-doc-std-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let std = std::os::unix::net::UnixListener::bind(&path).unwrap();
    ///     let listener = tulip::net::UnixListener::from_std(std).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Turns this back into a std listener (still non-blocking), deregistered from the loop.
    ///
    /// # Errors
    ///
    /// When the descriptor cannot be duplicated.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let path = std::env::temp_dir().join(format!("tulip-doc-into-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = tulip::net::UnixListener::bind(&path).unwrap();
    ///     let std = listener.into_std().unwrap();
    ///     assert_eq!(std.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.sock.as_fd().try_clone_to_owned()?.into())
    }

    /// Accepts a connection: the stream and the peer's address (usually unnamed).
    ///
    /// # Errors
    ///
    /// What `accept(2)` says (`EMFILE`, …); the listener stays usable.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no connection was taken from the queue.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection.
    ///
    /// # Errors
    ///
    /// As [`accept`](UnixListener::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::{UnixListener, UnixStream};
    ///
    /// tulip::run(async {
    ///     let path = std::env::temp_dir().join(format!("tulip-doc-poll-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_conn, _addr) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (sock, addr) = std::task::ready!(self.io.poll_op(cx, READABLE, || self.sock.accept()))?;
        Poll::Ready(UnixStream::from_accepted(sock).map(|stream| (stream, addr)))
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` says.
    ///
    /// # Examples
    ///
    /// See [`from_std`](UnixListener::from_std).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        let _ = self.io.release(&mut self.sock);
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixListener");
        if let Ok(addr) = self.sock.local_addr() {
            d.field("addr", &addr);
        }
        d.field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

// ---------------------------------------------------------------------------------------------
// UnixStream
// ---------------------------------------------------------------------------------------------

/// A Unix stream connection: the transport under asyncio's `open_unix_connection`.
///
/// It implements [`futures_io::AsyncRead`] and [`AsyncWrite`](futures_io::AsyncWrite) (also
/// through `&UnixStream`); use `futures_lite::io::{AsyncReadExt, AsyncWriteExt}` for
/// `read_exact`, `write_all` and the rest. `poll_close` shuts the write direction down.
/// Writes go through `send(2)` with `MSG_NOSIGNAL`: a write to a peer that has gone is a
/// `BrokenPipe` error, never a SIGPIPE.
///
/// # Examples
///
/// ```
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
/// use tulip::net::UnixStream;
///
/// tulip::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0u8; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct UnixStream {
    io: PollIo,
    sock: mio::net::UnixStream,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing is at `path`, `ConnectionRefused` when nothing listens there,
    /// `WouldBlock` when the listener's queue is full; the message names the path and the error
    /// carries a [`ConnectError`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let attempt = async {
            let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
            stream.finish_connect().await?;
            Ok(stream)
        };
        attempt.await.map_err(|err| ConnectError::unix(path, err))
    }

    async fn finish_connect(&self) -> io::Result<()> {
        loop {
            self.io.clear(WRITABLE);
            self.io.wait_ready(WRITABLE).await?;
            if let Some(err) = self.sock.take_error()? {
                return Err(err);
            }
            match self.sock.peer_addr() {
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::NotConnected => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// A connected pair of streams (`socketpair(2)`).
    ///
    /// # Errors
    ///
    /// Out of descriptors, or outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// See [`UnixStream`].
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(mut sock: mio::net::UnixStream) -> io::Result<UnixStream> {
        let io = PollIo::new(&mut sock)?;
        Ok(UnixStream { io, sock })
    }

    /// An accepted connection, registered for reading only until it first waits to write.
    fn from_accepted(mut sock: mio::net::UnixStream) -> io::Result<UnixStream> {
        let io = PollIo::new_read_first(&mut sock)?;
        Ok(UnixStream { io, sock })
    }

    /// Wraps a connected std stream (made non-blocking here).
    ///
    /// # Errors
    ///
    /// Outside a tulip runtime, or when the socket cannot be registered.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     let a = tulip::net::UnixStream::from_std(a).unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Turns this back into a std stream (still non-blocking), deregistered from the loop.
    ///
    /// # Errors
    ///
    /// When the descriptor cannot be duplicated.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     let std = a.into_std().unwrap();
    ///     assert!(std.peer_addr().is_ok());
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.sock.as_fd().try_clone_to_owned()?.into())
    }

    /// The local address (unnamed for a client or a pair).
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     assert!(a.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// The peer's address (the listener's path for a client).
    ///
    /// # Errors
    ///
    /// What `getpeername(2)` says.
    ///
    /// # Examples
    ///
    /// See [`from_std`](UnixStream::from_std).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// Shuts down the read, write or both directions (`Write`: asyncio's `write_eof()`).
    ///
    /// # Errors
    ///
    /// `NotConnected` when the connection is already gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use futures_lite::io::AsyncReadExt;
    ///
    /// tulip::run(async {
    ///     let (a, mut b) = tulip::net::UnixStream::pair().unwrap();
    ///     a.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(b.read(&mut [0u8; 4]).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     assert!(a.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    /// Polls for read readiness: Ready when data, end of stream or an error is waiting; see
    /// [`TcpStream::poll_read_ready`](crate::net::TcpStream::poll_read_ready).
    ///
    /// # Errors
    ///
    /// When polled off the stream's loop, or after it closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixStream::pair().unwrap();
    ///     drop(b); // end of stream counts as readable
    ///     poll_fn(|cx| a.poll_read_ready(cx)).await.unwrap();
    ///     assert_eq!(a.try_read(&mut [0u8; 4]).unwrap(), 0);
    /// });
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read_ready(cx, || peek(&self.sock))
    }

    /// Polls for write readiness: Ready at once unless the last write found the buffer full.
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](UnixStream::poll_read_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
    /// });
    /// ```
    #[inline]
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, WRITABLE)
    }

    /// Waits until the stream may be readable; pair with [`try_read`](UnixStream::try_read).
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](UnixStream::poll_read_ready).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixStream::pair().unwrap();
    ///     a.try_write(b"x").unwrap();
    ///     b.readable().await.unwrap();
    ///     assert_eq!(b.try_read(&mut [0u8; 4]).unwrap(), 1);
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Waits until the stream may be writable; pair with [`try_write`](UnixStream::try_write).
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](UnixStream::poll_read_ready).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_write(b"xy").unwrap(), 2);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// Reads what is there without waiting (`WouldBlock` when nothing is).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `read(2)` says.
    ///
    /// # Examples
    ///
    /// See [`readable`](UnixStream::readable).
    #[inline]
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len();
        self.io
            .try_io(READABLE, || (&self.sock).read(buf), |&n| n > 0 && n < want)
    }

    /// [`try_read`](UnixStream::try_read) into several buffers.
    ///
    /// # Errors
    ///
    /// As [`try_read`](UnixStream::try_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::IoSliceMut;
    ///
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixStream::pair().unwrap();
    ///     a.try_write(b"abc").unwrap();
    ///     let (mut x, mut y) = ([0u8; 1], [0u8; 4]);
    ///     let n = b.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]);
    ///     assert_eq!(n.unwrap(), 3);
    /// });
    /// ```
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let want = total_len_mut(bufs);
        self.io.try_io(
            READABLE,
            || (&self.sock).read_vectored(bufs),
            |&n| n > 0 && n < want,
        )
    }

    /// Writes what fits without waiting (`WouldBlock` when nothing does).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `send(2)` says (`BrokenPipe`, …).
    ///
    /// # Examples
    ///
    /// See [`writable`](UnixStream::writable).
    #[inline]
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let want = buf.len();
        self.io
            .try_io(WRITABLE, || send(&self.sock, buf), |&n| n < want)
    }

    /// [`try_write`](UnixStream::try_write) from several buffers.
    ///
    /// # Errors
    ///
    /// As [`try_write`](UnixStream::try_write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::IoSlice;
    ///
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     let n = a.try_write_vectored(&[IoSlice::new(b"a"), IoSlice::new(b"bc")]).unwrap();
    ///     assert_eq!(n, 3);
    /// });
    /// ```
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let want = total_len(bufs);
        self.io
            .try_io(WRITABLE, || send_vectored(&self.sock, bufs), |&n| n < want)
    }

    /// Polls a read into `buf`: what `AsyncRead` does, through `&self`.
    ///
    /// # Errors
    ///
    /// What `read(2)` says, or a readiness error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixStream::pair().unwrap();
    ///     a.try_write(b"abc").unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let n = poll_fn(|cx| b.poll_read(cx, &mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"abc");
    /// });
    /// ```
    #[inline]
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let want = buf.len();
        self.io.poll_read(cx, want, || (&self.sock).read(buf))
    }

    /// Polls a vectored read.
    ///
    /// # Errors
    ///
    /// As [`poll_read`](UnixStream::poll_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::IoSliceMut;
    ///
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixStream::pair().unwrap();
    ///     a.try_write(b"abc").unwrap();
    ///     let (mut x, mut y) = ([0u8; 2], [0u8; 2]);
    ///     let mut bufs = [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)];
    ///     let n = poll_fn(|cx| b.poll_read_vectored(cx, &mut bufs)).await.unwrap();
    ///     assert_eq!(n, 3);
    /// });
    /// ```
    #[inline]
    pub fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let want = total_len_mut(bufs);
        self.io
            .poll_read(cx, want, || (&self.sock).read_vectored(bufs))
    }

    /// Polls a write of `buf`: what `AsyncWrite` does, through `&self`.
    ///
    /// # Errors
    ///
    /// What `send(2)` says (`BrokenPipe`, …), or a readiness error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_write(cx, b"abc")).await.unwrap(), 3);
    /// });
    /// ```
    #[inline]
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf.len(), || send(&self.sock, buf))
    }

    /// Polls a vectored write.
    ///
    /// # Errors
    ///
    /// As [`poll_write`](UnixStream::poll_write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::IoSlice;
    ///
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair().unwrap();
    ///     let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"c")];
    ///     assert_eq!(poll_fn(|cx| a.poll_write_vectored(cx, &bufs)).await.unwrap(), 3);
    /// });
    /// ```
    #[inline]
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let want = total_len(bufs);
        self.io
            .poll_write(cx, want, || send_vectored(&self.sock, bufs))
    }

    /// Splits into owned halves for two tasks; see
    /// [`TcpStream::into_split`](crate::net::TcpStream::into_split).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// tulip::run(async {
    ///     let (a, mut b) = tulip::net::UnixStream::pair().unwrap();
    ///     let (mut rd, mut wr) = a.into_split();
    ///     wr.write_all(b"x").await.unwrap();
    ///     b.write_all(b"y").await.unwrap();
    ///     let mut buf = [0u8; 1];
    ///     rd.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"y");
    ///     let a = rd.reunite(wr).unwrap();
    ///     assert!(a.peer_addr().is_ok());
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        split_owned(self)
    }

    /// Splits into borrowed halves; see [`TcpStream::split`](crate::net::TcpStream::split).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// tulip::run(async {
    ///     let (mut a, mut b) = tulip::net::UnixStream::pair().unwrap();
    ///     let (mut rd, mut wr) = a.split();
    ///     wr.write_all(b"x").await.unwrap();
    ///     let mut buf = [0u8; 1];
    ///     b.read_exact(&mut buf).await.unwrap();
    ///     b.write_all(&buf).await.unwrap();
    ///     rd.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"x");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        split_borrowed(self)
    }
}

impl Drop for UnixStream {
    fn drop(&mut self) {
        let _ = self.io.release(&mut self.sock);
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixStream");
        if let Ok(addr) = self.sock.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.sock.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

stream_io_traits!(UnixStream);

// ---------------------------------------------------------------------------------------------
// UnixDatagram
// ---------------------------------------------------------------------------------------------

/// A Unix datagram socket: asyncio's `create_datagram_endpoint(family=AF_UNIX)` /
/// `loop.sock_sendto` / `sock_recvfrom` on one.
///
/// Each send is one message and each receive returns one whole message (cut to the buffer).
///
/// # Examples
///
/// ```
/// use tulip::net::UnixDatagram;
///
/// tulip::run(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one").await.unwrap();
///     a.send(b"two").await.unwrap();
///     let mut buf = [0u8; 16];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one");
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"two");
/// });
/// ```
pub struct UnixDatagram {
    io: PollIo,
    sock: mio::net::UnixDatagram,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// # Errors
    ///
    /// When the path exists or cannot be created; the message names it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UnixDatagram;
    ///
    /// tulip::run(async {
    ///     let path = std::env::temp_dir().join(format!("tulip-doc-dgram-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.send_to(b"hello", &path).await.unwrap();
    ///     let mut buf = [0u8; 16];
    ///     let (n, _from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hello");
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        mio::net::UnixDatagram::bind(path)
            .and_then(UnixDatagram::from_mio)
            .map_err(|err| bind_error(err, &path.display()))
    }

    /// A socket bound to no path: it can send, and receive replies to a connected peer.
    ///
    /// # Errors
    ///
    /// Out of descriptors, or outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// See [`bind`](UnixDatagram::bind).
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of datagram sockets.
    ///
    /// # Errors
    ///
    /// Out of descriptors, or outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    fn from_mio(mut sock: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let io = PollIo::new(&mut sock)?;
        Ok(UnixDatagram { io, sock })
    }

    /// Wraps a std socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// Outside a tulip runtime, or when the socket cannot be registered.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let std = std::os::unix::net::UnixDatagram::unbound().unwrap();
    ///     let sock = tulip::net::UnixDatagram::from_std(std).unwrap();
    ///     assert!(sock.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Turns this back into a std socket (still non-blocking), deregistered from the loop.
    ///
    /// # Errors
    ///
    /// When the descriptor cannot be duplicated.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let sock = tulip::net::UnixDatagram::unbound().unwrap();
    ///     let std = sock.into_std().unwrap();
    ///     assert!(std.local_addr().is_ok());
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.sock.as_fd().try_clone_to_owned()?.into())
    }

    /// Sets the default peer: [`send`](UnixDatagram::send) goes there and only its messages
    /// are received.
    ///
    /// # Errors
    ///
    /// When nothing is bound at `path`; the message names it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UnixDatagram;
    ///
    /// tulip::run(async {
    ///     let path = std::env::temp_dir().join(format!("tulip-doc-dconn-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.connect(&path).unwrap();
    ///     client.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(server.recv(&mut buf).await.unwrap(), 2);
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.sock
            .connect(path)
            .map_err(|err| ConnectError::unix(path, err))
    }

    /// The local address (unnamed unless bound).
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` says.
    ///
    /// # Examples
    ///
    /// See [`from_std`](UnixDatagram::from_std).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` when not connected.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     assert!(a.peer_addr().is_ok());
    ///     let lone = tulip::net::UnixDatagram::unbound().unwrap();
    ///     assert!(lone.peer_addr().is_err());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// Shuts down reading, writing or both.
    ///
    /// # Errors
    ///
    /// What `shutdown(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     a.shutdown(std::net::Shutdown::Both).unwrap();
    ///     assert!(a.send(b"x").await.is_err());
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let sock = tulip::net::UnixDatagram::unbound().unwrap();
    ///     assert!(sock.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    /// Sends `buf` to the connected peer, as one message.
    ///
    /// # Errors
    ///
    /// `NotConnected`, `ConnectionRefused` (the peer is gone), or what `send(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Polls a [`send`](UnixDatagram::send).
    ///
    /// # Errors
    ///
    /// As [`send`](UnixDatagram::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"x")).await.unwrap(), 1);
    /// });
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_op(cx, WRITABLE, || self.sock.send(buf))
    }

    /// Sends `buf` to the socket at `path`, as one message.
    ///
    /// # Errors
    ///
    /// `NotFound` or `ConnectionRefused` when nothing is bound at `path`, or what `sendto(2)`
    /// says; the message names the path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    ///
    /// # Examples
    ///
    /// See [`bind`](UnixDatagram::bind).
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| {
            self.io
                .poll_op(cx, WRITABLE, || self.sock.send_to(buf, path))
        })
        .await
        .map_err(|err| io::Error::new(err.kind(), format!("sending to {}: {err}", path.display())))
    }

    /// Receives one message from the connected peer into `buf` (the rest of a longer message
    /// is lost).
    ///
    /// # Errors
    ///
    /// What `recv(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no message was taken.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Polls a [`recv`](UnixDatagram::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](UnixDatagram::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"x").await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap(), 1);
    /// });
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_op(cx, READABLE, || self.sock.recv(buf))
    }

    /// Receives one message and its sender's address.
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no message was taken.
    ///
    /// # Examples
    ///
    /// See [`bind`](UnixDatagram::bind).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls a [`recv_from`](UnixDatagram::recv_from).
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UnixDatagram::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"x").await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
    ///     assert_eq!((n, from.is_unnamed()), (1, true));
    /// });
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_op(cx, READABLE, || self.sock.recv_from(buf))
    }

    /// Sends without waiting (`WouldBlock` when the queue is full).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send`](UnixDatagram::send).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     a.try_send(b"x").unwrap();
    ///     b.readable().await.unwrap();
    ///     assert_eq!(b.try_recv(&mut [0u8; 4]).unwrap(), 1);
    /// });
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(WRITABLE, || self.sock.send(buf), |_| false)
    }

    /// Receives without waiting (`WouldBlock` when no message is queued).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv`](UnixDatagram::recv).
    ///
    /// # Examples
    ///
    /// See [`try_send`](UnixDatagram::try_send).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(READABLE, || self.sock.recv(buf), |_| false)
    }

    /// Waits until a message is waiting (or an error).
    ///
    /// # Errors
    ///
    /// When polled off the socket's loop, or after it closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// See [`try_send`](UnixDatagram::try_send).
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.io.poll_read_ready(cx, || peek(&self.sock))).await
    }

    /// Waits until a send may succeed (may be spurious).
    ///
    /// # Errors
    ///
    /// As [`readable`](UnixDatagram::readable).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let (a, _b) = tulip::net::UnixDatagram::pair().unwrap();
    ///     a.writable().await.unwrap();
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.io.poll_ready(cx, WRITABLE)).await
    }
}

impl Drop for UnixDatagram {
    fn drop(&mut self) {
        let _ = self.io.release(&mut self.sock);
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixDatagram");
        if let Ok(addr) = self.sock.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.sock.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
