//! TCP: [`TcpListener`] and [`TcpStream`], what asyncio's `loop.create_server`,
//! `loop.create_connection` and `loop.sock_accept` / `sock_connect` / `sock_recv` /
//! `sock_sendall` work with; also the split halves shared with `UnixStream` and the typed
//! [`ConnectError`].

use std::cell::Cell;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};

use super::dns::{self, ToSocketAddrs};
use crate::io::PollIo;
use crate::io::reactor::{READABLE, WRITABLE};

/// `send(2)` flag that turns SIGPIPE into an `EPIPE` error (Linux, Android and the BSDs other
/// than Apple's, which have none and rely on the SIGPIPE that Rust's runtime ignores).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) const MSG_NOSIGNAL: i32 = 0x4000;
#[cfg(any(target_os = "freebsd", target_os = "netbsd", target_os = "openbsd"))]
pub(super) const MSG_NOSIGNAL: i32 = 0x20000;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
pub(super) const MSG_NOSIGNAL: i32 = 0;

/// Writes through `send(2)` with `MSG_NOSIGNAL`: a write to a closed peer is an `EPIPE`
/// error, never a SIGPIPE that kills a process whose host did not ignore it.
#[inline]
pub(super) fn send(fd: &impl AsFd, buf: &[u8]) -> io::Result<usize> {
    SockRef::from(fd).send_with_flags(buf, MSG_NOSIGNAL)
}

/// [`send`] for several buffers (`sendmsg(2)`).
#[inline]
pub(super) fn send_vectored(fd: &impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    SockRef::from(fd).send_vectored_with_flags(bufs, MSG_NOSIGNAL)
}

#[inline]
pub(super) fn total_len(bufs: &[IoSlice<'_>]) -> usize {
    bufs.iter().map(|b| b.len()).sum()
}

#[inline]
pub(super) fn total_len_mut(bufs: &[IoSliceMut<'_>]) -> usize {
    bufs.iter().map(|b| b.len()).sum()
}

/// Error for binding to `addr`, naming it.
pub(super) fn bind_error(err: io::Error, addr: &dyn fmt::Display) -> io::Error {
    io::Error::new(err.kind(), format!("could not bind to {addr}: {err}"))
}

/// The backlog listeners get unless told otherwise.
///
/// asyncio's `start_server` asks for 100; tulip asks for 1024 (as mio and tokio do, capped by
/// the kernel's `net.core.somaxconn`, 4096 on current Linux): with 100, a burst of a few
/// hundred connects overflows the queue and the kernel drops SYNs, costing the clients a
/// one-second retransmission each.
pub const DEFAULT_BACKLOG: u32 = 1024;

// ---------------------------------------------------------------------------------------------
// ConnectError
// ---------------------------------------------------------------------------------------------

/// A connection attempt failed: to what, and why.
///
/// Connecting functions return it inside an [`io::Error`] of the same
/// [`kind`](io::Error::kind) (`ConnectionRefused`, `TimedOut`, `NotFound`, …), so code that only
/// looks at kinds keeps working; the message names the address ("connection to 127.0.0.1:1
/// refused"), and [`io::Error::get_ref`] + `downcast_ref` gives this struct back, with the
/// operating system's own error as its [`source`](std::error::Error::source).
///
/// # Examples
///
/// ```
/// use std::io::ErrorKind;
/// use tulip::net::{ConnectError, TcpListener, TcpStream};
///
/// tulip::run(async {
///     // A port that was just free: nothing listens there.
///     let addr = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
///     let err = TcpStream::connect(addr).await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
///     assert_eq!(err.to_string(), format!("connection to {addr} refused"));
///     let detail = err.get_ref().unwrap().downcast_ref::<ConnectError>().unwrap();
///     assert_eq!(detail.addr(), Some(addr));
/// });
/// ```
#[derive(Debug)]
pub struct ConnectError {
    peer: Peer,
    source: io::Error,
}

#[derive(Debug)]
enum Peer {
    Inet(SocketAddr),
    Unix(PathBuf),
}

impl ConnectError {
    pub(super) fn inet(addr: SocketAddr, source: io::Error) -> io::Error {
        Self::wrap(Peer::Inet(addr), source)
    }

    pub(super) fn unix(path: &Path, source: io::Error) -> io::Error {
        Self::wrap(Peer::Unix(path.to_owned()), source)
    }

    fn wrap(peer: Peer, source: io::Error) -> io::Error {
        // Already wrapped (e.g. by an inner attempt): keep the first, most precise one.
        if source
            .get_ref()
            .is_some_and(|e| e.downcast_ref::<ConnectError>().is_some())
        {
            return source;
        }
        io::Error::new(source.kind(), ConnectError { peer, source })
    }

    /// The IP address and port that could not be reached (`None` for a Unix socket).
    ///
    /// # Examples
    ///
    /// See [`ConnectError`].
    pub fn addr(&self) -> Option<SocketAddr> {
        match self.peer {
            Peer::Inet(addr) => Some(addr),
            Peer::Unix(_) => None,
        }
    }

    /// The Unix socket path that could not be reached (`None` for TCP).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{ConnectError, UnixStream};
    ///
    /// tulip::run(async {
    ///     let err = UnixStream::connect("/nonexistent/tulip.sock").await.unwrap_err();
    ///     let detail = err.get_ref().unwrap().downcast_ref::<ConnectError>().unwrap();
    ///     assert_eq!(detail.path().unwrap().to_str(), Some("/nonexistent/tulip.sock"));
    /// });
    /// ```
    pub fn path(&self) -> Option<&Path> {
        match &self.peer {
            Peer::Inet(_) => None,
            Peer::Unix(path) => Some(path),
        }
    }

    /// What went wrong, as an [`io::ErrorKind`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use tulip::net::{ConnectError, UnixStream};
    ///
    /// tulip::run(async {
    ///     let err = UnixStream::connect("/nonexistent/tulip.sock").await.unwrap_err();
    ///     let detail = err.get_ref().unwrap().downcast_ref::<ConnectError>().unwrap();
    ///     assert_eq!(detail.kind(), ErrorKind::NotFound);
    /// });
    /// ```
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Inet(addr) => write!(f, "{addr}"),
            Peer::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source.kind() {
            io::ErrorKind::ConnectionRefused => write!(f, "connection to {} refused", self.peer),
            io::ErrorKind::TimedOut => write!(f, "connection to {} timed out", self.peer),
            _ => write!(f, "connection to {} failed: {}", self.peer, self.source),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

// ---------------------------------------------------------------------------------------------
// TcpListener
// ---------------------------------------------------------------------------------------------

/// A TCP socket listening for connections: the socket behind asyncio's `start_server` /
/// `loop.create_server`, accepted from as with `loop.sock_accept`.
///
/// [`bind`](TcpListener::bind) turns `SO_REUSEADDR` on (as asyncio does on Unix, so a
/// restarted server can bind while old connections linger in `TIME_WAIT`) and listens with a
/// backlog of [`DEFAULT_BACKLOG`]; [`TcpListener::builder`] changes either and adds
/// `SO_REUSEPORT`.
///
/// Dropping the listener deregisters it from the loop and closes it.
///
/// # Examples
///
/// ```
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
/// use tulip::net::{TcpListener, TcpStream};
///
/// tulip::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = tulip::spawn(async move {
///         let (mut conn, _peer) = listener.accept().await.unwrap();
///         let mut buf = [0u8; 4];
///         conn.read_exact(&mut buf).await.unwrap();
///         conn.write_all(&buf).await.unwrap();
///     });
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"ping").await.unwrap();
///     let mut buf = [0u8; 4];
///     client.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpListener {
    io: PollIo,
    sock: mio::net::TcpListener,
}

/// Options for a [`TcpListener`] before it binds: asyncio's `create_server(reuse_address=,
/// reuse_port=, backlog=)`.
///
/// # Examples
///
/// ```
/// use tulip::net::TcpListener;
///
/// tulip::run(async {
///     let listener = TcpListener::builder()
///         .reuse_port(true)
///         .backlog(128)
///         .bind("127.0.0.1:0")
///         .await
///         .unwrap();
///     assert!(listener.local_addr().unwrap().port() != 0);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct TcpListenerBuilder {
    reuse_address: bool,
    reuse_port: bool,
    backlog: u32,
    only_v6: Option<bool>,
}

impl TcpListenerBuilder {
    /// `SO_REUSEADDR` (on by default): bind while connections of an earlier server on the same
    /// port are still in `TIME_WAIT`.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let listener = tulip::net::TcpListener::builder()
    ///     .reuse_address(false)
    ///     .bind("127.0.0.1:0")
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn reuse_address(mut self, on: bool) -> TcpListenerBuilder {
        self.reuse_address = on;
        self
    }

    /// `SO_REUSEPORT` (off by default): let several sockets, in this process or others, listen
    /// on the same address, the kernel spreading connections among them.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::TcpListener;
    ///
    /// tulip::run(async {
    ///     let a = TcpListener::builder().reuse_port(true).bind("127.0.0.1:0").await.unwrap();
    ///     let addr = a.local_addr().unwrap();
    ///     let b = TcpListener::builder().reuse_port(true).bind(addr).await.unwrap();
    ///     assert_eq!(b.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn reuse_port(mut self, on: bool) -> TcpListenerBuilder {
        self.reuse_port = on;
        self
    }

    /// How many connections the kernel queues before [`accept`](TcpListener::accept) takes
    /// them ([`DEFAULT_BACKLOG`] by default; the kernel caps it at `net.core.somaxconn`).
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let listener = tulip::net::TcpListener::builder().backlog(16).bind("127.0.0.1:0").await;
    /// assert!(listener.is_ok());
    /// # });
    /// ```
    pub fn backlog(mut self, backlog: u32) -> TcpListenerBuilder {
        self.backlog = backlog;
        self
    }

    /// `IPV6_V6ONLY` for an IPv6 address: `true` accepts IPv6 only, `false` IPv4 too (as
    /// mapped addresses). Unset, the system default applies (`net.ipv6.bindv6only`).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip::net::TcpListener::builder().only_v6(true);
    /// ```
    pub fn only_v6(mut self, on: bool) -> TcpListenerBuilder {
        self.only_v6 = Some(on);
        self
    }

    /// Binds to the first address `addr` resolves to that accepts the bind, and listens.
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve, or binding fails for every address; the error names the
    /// last address tried ("could not bind to 127.0.0.1:80: Permission denied").
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let listener = tulip::net::TcpListener::builder().bind(("127.0.0.1", 0)).await.unwrap();
    /// # });
    /// ```
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in dns::resolve(&addr).await? {
            match self.bind_one(addr) {
                Ok(listener) => return Ok(listener),
                Err(err) => last = Some(bind_error(err, &addr)),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to bind to")))
    }

    fn bind_one(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        let ty = Type::STREAM.nonblocking().cloexec();
        let socket = Socket::new(Domain::for_address(addr), ty, Some(Protocol::TCP))?;
        if self.reuse_address {
            socket.set_reuse_address(true)?;
        }
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if let (Some(only), SocketAddr::V6(_)) = (self.only_v6, addr) {
            socket.set_only_v6(only)?;
        }
        socket.bind(&addr.into())?;
        socket.listen(i32::try_from(self.backlog).unwrap_or(i32::MAX))?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(socket.into()))
    }
}

impl TcpListener {
    /// Binds to `addr` (`"127.0.0.1:8080"`, `("localhost", 0)`, a [`SocketAddr`], …) with
    /// `SO_REUSEADDR` and a backlog of [`DEFAULT_BACKLOG`], and listens. Port 0 picks a free
    /// port; [`local_addr`](TcpListener::local_addr) tells which.
    ///
    /// A host name is looked up on the thread pool; literal addresses need no lookup.
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve or no address accepts the bind (in use, no permission);
    /// the message names the address.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::TcpListener;
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let taken = listener.local_addr().unwrap();
    ///     let err = TcpListener::builder().reuse_address(false).bind(taken).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    ///     assert!(err.to_string().contains(&taken.to_string()));
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::builder().bind(addr).await
    }

    /// Options before binding: `SO_REUSEADDR`, `SO_REUSEPORT`, backlog, `IPV6_V6ONLY`.
    ///
    /// # Examples
    ///
    /// See [`TcpListenerBuilder`].
    pub fn builder() -> TcpListenerBuilder {
        TcpListenerBuilder {
            reuse_address: true,
            reuse_port: false,
            backlog: DEFAULT_BACKLOG,
            only_v6: None,
        }
    }

    fn from_mio(mut sock: mio::net::TcpListener) -> io::Result<TcpListener> {
        let io = PollIo::new(&mut sock)?;
        Ok(TcpListener { io, sock })
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
    ///     let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let listener = tulip::net::TcpListener::from_std(std).unwrap();
    ///     assert!(listener.local_addr().is_ok());
    /// });
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Turns this back into a std listener (still in non-blocking mode: call
    /// `set_nonblocking(false)` for blocking use), deregistered from the loop.
    ///
    /// # Errors
    ///
    /// When the descriptor cannot be duplicated (out of descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let std = listener.into_std().unwrap();
    ///     assert_eq!(std.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        // A duplicate, so that dropping `self` can deregister and close the original as usual.
        Ok(self.sock.as_fd().try_clone_to_owned()?.into())
    }

    /// Accepts a connection: the stream and the peer's address. asyncio's `loop.sock_accept`.
    ///
    /// # Errors
    ///
    /// What `accept(2)` says: out of descriptors (`EMFILE`), a connection aborted before it was
    /// accepted, … The listener stays usable.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no connection was taken from the queue.
    ///
    /// # Examples
    ///
    /// See [`TcpListener`].
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; the waker is stored when none is waiting.
    ///
    /// # Errors
    ///
    /// As [`accept`](TcpListener::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_conn, peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    ///     assert!(peer.ip().is_loopback());
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (sock, addr) = std::task::ready!(self.io.poll_op(cx, READABLE, || self.sock.accept()))?;
        Poll::Ready(TcpStream::from_accepted(sock).map(|stream| (stream, addr)))
    }

    /// The address this listener is bound to (the port the system picked for port 0).
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` says.
    ///
    /// # Examples
    ///
    /// See [`TcpListener::bind`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        // Fails only when the loop is gone, which took the epoll instance with it.
        let _ = self.io.release(&mut self.sock);
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpListener");
        if let Ok(addr) = self.sock.local_addr() {
            d.field("addr", &addr);
        }
        d.field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

// ---------------------------------------------------------------------------------------------
// TcpStream
// ---------------------------------------------------------------------------------------------

/// A TCP connection: the transport under asyncio's `open_connection` streams, and the socket
/// `loop.sock_recv` / `sock_sendall` work on.
///
/// It implements [`futures_io::AsyncRead`] and [`AsyncWrite`] (also through `&TcpStream`), so
/// `futures_lite::io::{AsyncReadExt, AsyncWriteExt}` give it `read`, `read_exact`,
/// `read_to_end`, `write_all`, `close`, and `futures_lite::io::copy` works on it.
/// [`AsyncWrite::poll_close`] shuts the write direction down (the peer reads end of stream);
/// writes are unbuffered, so flushing does nothing.
///
/// Reads and writes try the system call first and consult the loop only when it would block;
/// a write to a peer that has gone is an error (`BrokenPipe` or `ConnectionReset`), never a
/// SIGPIPE. Dropping the stream deregisters it and closes the socket.
///
/// # Examples
///
/// ```
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
/// use tulip::net::{TcpListener, TcpStream};
///
/// tulip::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     client.close().await.unwrap(); // shutdown(Write): the server sees EOF
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"hello");
/// });
/// ```
pub struct TcpStream {
    io: PollIo,
    sock: mio::net::TcpStream,
}

impl TcpStream {
    /// Connects to `addr`: asyncio's `loop.create_connection` / `sock_connect`.
    ///
    /// A host name is looked up on the thread pool ([`lookup_host`](crate::net::lookup_host))
    /// and, when it has several addresses, they are raced with Happy Eyeballs (RFC 8305: IPv6
    /// and IPv4 interleaved, a new attempt every
    /// [`CONNECTION_ATTEMPT_DELAY`](crate::net::CONNECTION_ATTEMPT_DELAY) or as soon as one
    /// fails); the first connection made wins.
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve (`NotFound`, naming the host), or every address fails: the
    /// first attempt's error, with its kind (`ConnectionRefused`, `TimedOut`, …) and a message
    /// naming the address, carrying a [`ConnectError`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// See [`TcpStream`] and [`ConnectError`].
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        dns::connect_with(&addr, TcpStream::connect_addr).await
    }

    /// [`connect`](TcpStream::connect) with a deadline `timeout` after the call, for the name
    /// lookup and all the attempts together: asyncio's `wait_for(open_connection(...),
    /// timeout)`.
    ///
    /// # Errors
    ///
    /// As [`connect`](TcpStream::connect); at the deadline, `TimedOut` naming the first
    /// address tried ("connection to 10.255.255.1:80 timed out").
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempts and closes their sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect_timeout(addr, Duration::from_secs(5)).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn connect_timeout(
        addr: impl ToSocketAddrs,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        let first = Cell::new(None);
        let attempt = |addr| {
            if first.get().is_none() {
                first.set(Some(addr));
            }
            TcpStream::connect_addr(addr)
        };
        match crate::time::timeout(timeout)
            .run(dns::connect_with(&addr, attempt))
            .await
        {
            Ok(result) => result,
            Err(elapsed) => Err(match first.get() {
                Some(addr) => ConnectError::inet(addr, elapsed.into()),
                None => io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connecting timed out while looking up the address",
                ),
            }),
        }
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let sock = mio::net::TcpStream::connect(addr).map_err(|e| ConnectError::inet(addr, e))?;
        let stream = TcpStream::from_mio(sock)?;
        stream
            .finish_connect()
            .await
            .map_err(|e| ConnectError::inet(addr, e))?;
        Ok(stream)
    }

    /// Waits until a non-blocking `connect` completes: writable, then either an error in
    /// `SO_ERROR` or a peer address.
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

    pub(super) fn from_mio(mut sock: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = PollIo::new(&mut sock)?;
        Ok(TcpStream { io, sock })
    }

    /// An accepted connection, registered for reading only until it first waits to write.
    fn from_accepted(mut sock: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = PollIo::new_read_first(&mut sock)?;
        Ok(TcpStream { io, sock })
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
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let std = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    ///     let stream = tulip::net::TcpStream::from_std(std).unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Turns this back into a std stream (still in non-blocking mode: call
    /// `set_nonblocking(false)` for blocking use), deregistered from the loop.
    ///
    /// # Errors
    ///
    /// When the descriptor cannot be duplicated (out of descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let std = stream.into_std().unwrap();
    ///     assert_eq!(std.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        // A duplicate, so that dropping `self` can deregister and close the original as usual.
        Ok(self.sock.as_fd().try_clone_to_owned()?.into())
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::connect_timeout`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(client.local_addr().unwrap(), peer);
    ///     assert_eq!(server.local_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// `TCP_NODELAY`: send small writes at once instead of coalescing them (Nagle's algorithm).
    /// asyncio turns it on for every TCP transport; here it is the caller's choice.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.sock.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is on.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// See [`set_nodelay`](TcpStream::set_nodelay).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.sock.nodelay()
    }

    /// TCP keepalive: `Some(idle)` probes the peer after `idle` without traffic (`SO_KEEPALIVE`
    /// and `TCP_KEEPIDLE`); `None` turns probing off.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_keepalive(Some(Duration::from_secs(60))).unwrap();
    ///     assert!(stream.keepalive().unwrap());
    ///     stream.set_keepalive(None).unwrap();
    ///     assert!(!stream.keepalive().unwrap());
    /// });
    /// ```
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        let sock = SockRef::from(&self.sock);
        match idle {
            Some(idle) => sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle)),
            None => sock.set_keepalive(false),
        }
    }

    /// Whether `SO_KEEPALIVE` is on.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// See [`set_keepalive`](TcpStream::set_keepalive).
    pub fn keepalive(&self) -> io::Result<bool> {
        SockRef::from(&self.sock).keepalive()
    }

    /// `IP_TTL`: the time-to-live of outgoing packets.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_ttl(42).unwrap();
    ///     assert_eq!(stream.ttl().unwrap(), 42);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.sock.set_ttl(ttl)
    }

    /// `IP_TTL`.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// See [`set_ttl`](TcpStream::set_ttl).
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock.ttl()
    }

    /// Shuts down the read, write or both directions: `Shutdown::Write` is asyncio's
    /// `write_eof()` (the peer reads end of stream; this side can still read).
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
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(server.read(&mut [0u8; 8]).await.unwrap(), 0);
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
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.take_error().unwrap().is_none());
    /// });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    /// Polls for read readiness: Ready when data, end of stream or an error is waiting (a
    /// one-byte `MSG_PEEK` checks when the last read did not already find the buffer empty),
    /// else at the next sign of one. Rarely spurious: a read can still say `WouldBlock`.
    ///
    /// # Errors
    ///
    /// When polled off the loop the stream belongs to, or after that loop closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     server.try_write(b"x").unwrap();
    ///     poll_fn(|cx| client.poll_read_ready(cx)).await.unwrap();
    ///     assert_eq!(client.try_read(&mut [0u8; 4]).unwrap(), 1);
    /// });
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io
            .poll_read_ready(cx, || self.sock.peek(&mut [0u8; 1]))
    }

    /// Polls for write readiness: Ready at once unless the last write found the send buffer
    /// full, then when it drains (or the connection fails). May be spurious.
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](TcpStream::poll_read_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     poll_fn(|cx| client.poll_write_ready(cx)).await.unwrap();
    /// });
    /// ```
    #[inline]
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, WRITABLE)
    }

    /// Waits until the stream may be readable; pair with [`try_read`](TcpStream::try_read),
    /// which may still say `WouldBlock`.
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](TcpStream::poll_read_ready).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use futures_lite::io::AsyncWriteExt;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     loop {
    ///         server.readable().await.unwrap();
    ///         match server.try_read(&mut buf) {
    ///             Ok(n) => break assert_eq!(&buf[..n], b"hi"),
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             Err(e) => panic!("{e}"),
    ///         }
    ///     }
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Waits until the stream may be writable; pair with [`try_write`](TcpStream::try_write).
    ///
    /// # Errors
    ///
    /// As [`poll_read_ready`](TcpStream::poll_read_ready).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     client.writable().await.unwrap();
    ///     assert_eq!(client.try_write(b"hi").unwrap(), 2);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// Reads what is there without waiting: `WouldBlock` when nothing is, `Ok(0)` at end of
    /// stream.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `recv(2)` says (`ConnectionReset`, …).
    ///
    /// # Examples
    ///
    /// See [`readable`](TcpStream::readable).
    #[inline]
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len();
        self.io
            .try_io(READABLE, || (&self.sock).read(buf), |&n| n > 0 && n < want)
    }

    /// [`try_read`](TcpStream::try_read) into several buffers (`readv(2)`).
    ///
    /// # Errors
    ///
    /// As [`try_read`](TcpStream::try_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::IoSliceMut;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (mut a, mut b) = ([0u8; 2], [0u8; 2]);
    ///     let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
    ///     let err = server.try_read_vectored(&mut bufs).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
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

    /// Writes what fits without waiting: `WouldBlock` when nothing does.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or what `send(2)` says (`BrokenPipe`, `ConnectionReset`, …).
    ///
    /// # Examples
    ///
    /// See [`writable`](TcpStream::writable).
    #[inline]
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let want = buf.len();
        self.io
            .try_io(WRITABLE, || send(&self.sock, buf), |&n| n < want)
    }

    /// [`try_write`](TcpStream::try_write) from several buffers (`sendmsg(2)`).
    ///
    /// # Errors
    ///
    /// As [`try_write`](TcpStream::try_write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let n = client.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"c")]).unwrap();
    ///     assert_eq!(n, 3);
    /// });
    /// ```
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let want = total_len(bufs);
        self.io
            .try_io(WRITABLE, || send_vectored(&self.sock, bufs), |&n| n < want)
    }

    /// Polls a read into `buf`: what [`AsyncRead`] does, callable through `&self`.
    ///
    /// # Errors
    ///
    /// What `recv(2)` says, or a readiness error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use futures_lite::io::AsyncWriteExt;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"abc").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let n = poll_fn(|cx| server.poll_read(cx, &mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"abc");
    /// });
    /// ```
    #[inline]
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let want = buf.len();
        self.io.poll_read(cx, want, || (&self.sock).read(buf))
    }

    /// Polls a vectored read (`readv(2)`).
    ///
    /// # Errors
    ///
    /// As [`poll_read`](TcpStream::poll_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::IoSliceMut;
    /// use futures_lite::io::AsyncWriteExt;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"abc").await.unwrap();
    ///     let (mut a, mut b) = ([0u8; 1], [0u8; 8]);
    ///     let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
    ///     let n = poll_fn(|cx| server.poll_read_vectored(cx, &mut bufs)).await.unwrap();
    ///     assert_eq!(n, 3);
    ///     assert_eq!((&a, &b[..2]), (b"a", &b"bc"[..]));
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

    /// Polls a write of `buf`: what [`AsyncWrite`] does, callable through `&self`.
    ///
    /// # Errors
    ///
    /// What `send(2)` says (`BrokenPipe`, `ConnectionReset`, …), or a readiness error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let n = poll_fn(|cx| client.poll_write(cx, b"abc")).await.unwrap();
    ///     assert_eq!(n, 3);
    /// });
    /// ```
    #[inline]
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf.len(), || send(&self.sock, buf))
    }

    /// Polls a vectored write (`sendmsg(2)`).
    ///
    /// # Errors
    ///
    /// As [`poll_write`](TcpStream::poll_write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::IoSlice;
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
    ///     let n = poll_fn(|cx| client.poll_write_vectored(cx, &bufs)).await.unwrap();
    ///     assert_eq!(n, 4);
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

    /// Reads without consuming: the next read returns the same bytes. Waits for data.
    ///
    /// # Errors
    ///
    /// What `recv(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"abc").await.unwrap();
    ///     let mut buf = [0u8; 3];
    ///     let n = server.peek(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], &b"abc"[..n]);
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"abc");
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        // A peek drains nothing: never a reason to wait for the next edge.
        poll_fn(|cx| self.io.poll_op(cx, READABLE, || self.sock.peek(buf))).await
    }

    /// Splits into halves that two tasks can own: the read half and the write half share the
    /// socket (an `Rc`), and [`OwnedReadHalf::reunite`] puts them back together. Dropping the
    /// write half shuts the write direction down, as asyncio's `writer.close()` would; the
    /// socket closes when both halves are gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (mut rd, mut wr) = server.into_split();
    ///     let echo = tulip::spawn(async move {
    ///         futures_lite::io::copy(&mut rd, &mut wr).await.unwrap()
    ///     });
    ///     let (mut crd, mut cwr) = client.into_split();
    ///     cwr.write_all(b"echo").await.unwrap();
    ///     drop(cwr); // EOF for the server: its copy ends and drops its write half
    ///     let mut got = Vec::new();
    ///     crd.read_to_end(&mut got).await.unwrap();
    ///     assert_eq!(got, b"echo");
    ///     assert_eq!(echo.await.unwrap(), 4);
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) {
        split_owned(self)
    }

    /// Splits into borrowed halves, for reading and writing at once within one task (say, in
    /// `futures_lite::future::zip` or a `select`). No allocation; the halves do not shut
    /// anything down when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let (mut rd, mut wr) = client.split();
    ///     let (sent, got) = futures_lite::future::zip(
    ///         async { wr.write_all(b"x").await },
    ///         async {
    ///             let mut b = [0u8; 1];
    ///             server.read_exact(&mut b).await.unwrap();
    ///             server.write_all(&b).await.unwrap();
    ///             rd.read_exact(&mut b).await.map(|()| b)
    ///         },
    ///     )
    ///     .await;
    ///     sent.unwrap();
    ///     assert_eq!(&got.unwrap(), b"x");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_, TcpStream>, WriteHalf<'_, TcpStream>) {
        split_borrowed(self)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // Fails only when the loop is gone, which took the epoll instance with it.
        let _ = self.io.release(&mut self.sock);
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpStream");
        if let Ok(addr) = self.sock.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.sock.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// Implements `AsyncRead`/`AsyncWrite` for a stream type and its shared reference, through
/// its inherent `poll_*` methods (which take `&self`).
macro_rules! stream_io_traits {
    ($ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            #[inline]
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_read(&*self, cx, buf)
            }

            #[inline]
            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_read_vectored(&*self, cx, bufs)
            }
        }

        impl futures_io::AsyncRead for &$ty {
            #[inline]
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_read(*self, cx, buf)
            }

            #[inline]
            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_read_vectored(*self, cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            #[inline]
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_write(&*self, cx, buf)
            }

            #[inline]
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_write_vectored(&*self, cx, bufs)
            }

            #[inline]
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::tcp::shutdown_write(&*self))
            }
        }

        impl futures_io::AsyncWrite for &$ty {
            #[inline]
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_write(*self, cx, buf)
            }

            #[inline]
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                <$ty>::poll_write_vectored(*self, cx, bufs)
            }

            #[inline]
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::tcp::shutdown_write(*self))
            }
        }
    };
}
pub(super) use stream_io_traits;

stream_io_traits!(TcpStream);

/// `shutdown(Write)` for `poll_close`: a connection that is already gone has nothing left to
/// close, so `NotConnected` counts as done.
pub(super) fn shutdown_write(fd: &impl AsFd) -> io::Result<()> {
    match SockRef::from(fd).shutdown(Shutdown::Write) {
        Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Split halves (shared by TcpStream and UnixStream)
// ---------------------------------------------------------------------------------------------

pub(super) fn split_owned<S: AsFd>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let inner = Rc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

/// The read half of a [`TcpStream`] or [`UnixStream`](crate::net::UnixStream), owned: from
/// [`TcpStream::into_split`]. Implements [`AsyncRead`]; [`as_ref`](AsRef::as_ref) reaches the
/// stream for `peer_addr`, `readable`, `try_read`…
///
/// # Examples
///
/// See [`TcpStream::into_split`].
pub struct OwnedReadHalf<S> {
    inner: Rc<S>,
}

/// The write half of a [`TcpStream`] or [`UnixStream`](crate::net::UnixStream), owned: from
/// [`TcpStream::into_split`]. Implements [`AsyncWrite`]; dropping it (or
/// [`AsyncWrite::poll_close`]) shuts the write direction down, unless
/// [`reunite`](OwnedReadHalf::reunite) took it back. (Dropped after the read half, it closes
/// the socket instead, which tells the peer the same: end of stream.)
///
/// # Examples
///
/// See [`TcpStream::into_split`].
pub struct OwnedWriteHalf<S: AsFd> {
    inner: Rc<S>,
    shutdown_on_drop: bool,
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; here they are
/// back.
///
/// # Examples
///
/// ```
/// use tulip::net::UnixStream;
///
/// tulip::run(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let (a_rd, _a_wr) = a.into_split();
///     let (_b_rd, b_wr) = b.into_split();
///     let err = a_rd.reunite(b_wr).unwrap_err();
///     assert_eq!(err.to_string(), "tried to reunite halves of different streams");
///     let (_rd, _wr) = (err.0, err.1);
/// });
/// ```
pub struct ReuniteError<S: AsFd>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S> OwnedReadHalf<S> {
    /// Puts the stream back together from its two halves.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], holding both halves, when they belong to different streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::{TcpListener, TcpStream};
    ///
    /// tulip::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, wr) = client.into_split();
    ///     let client = rd.reunite(wr).unwrap();
    ///     assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn reunite(self, mut other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>>
    where
        S: AsFd,
    {
        if !Rc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        other.shutdown_on_drop = false;
        drop(other);
        match Rc::try_unwrap(self.inner) {
            Ok(stream) => Ok(stream),
            // The two halves are the only owners, and one was just dropped.
            Err(_) => unreachable!("a stream's halves are its only owners"),
        }
    }
}

impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsFd> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsFd> OwnedWriteHalf<S> {
    /// Drops the half without shutting the write direction down.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UnixStream;
    ///
    /// tulip::run(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let (_rd, wr) = a.into_split();
    ///     wr.forget();
    /// });
    /// ```
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<S: AsFd> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        // Dropped after the read half, this closes the socket, which ends the write direction
        // too: a shutdown first would be one more system call per connection.
        if self.shutdown_on_drop && Rc::strong_count(&self.inner) > 1 {
            let _ = shutdown_write(&*self.inner);
        }
    }
}

impl<S> AsyncRead for OwnedReadHalf<S>
where
    for<'a> &'a S: AsyncRead,
{
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.inner).poll_read(cx, buf)
    }

    #[inline]
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.inner).poll_read_vectored(cx, bufs)
    }
}

impl<S: AsFd> AsyncWrite for OwnedWriteHalf<S>
where
    for<'a> &'a S: AsyncWrite,
{
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.inner).poll_write(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.inner).poll_write_vectored(cx, bufs)
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(shutdown_write(&*self.inner))
    }
}

/// The read half of a borrowed stream: from [`TcpStream::split`]. Implements [`AsyncRead`].
///
/// # Examples
///
/// See [`TcpStream::split`].
pub struct ReadHalf<'a, S> {
    inner: &'a S,
}

/// The write half of a borrowed stream: from [`TcpStream::split`]. Implements [`AsyncWrite`];
/// [`AsyncWrite::poll_close`] shuts the write direction down, dropping it does not.
///
/// # Examples
///
/// See [`TcpStream::split`].
pub struct WriteHalf<'a, S> {
    inner: &'a S,
}

pub(super) fn split_borrowed<S>(stream: &S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf { inner: stream }, WriteHalf { inner: stream })
}

impl<S> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.inner
    }
}

impl<S> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.inner
    }
}

impl<'a, S> AsyncRead for ReadHalf<'a, S>
where
    &'a S: AsyncRead,
{
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }

    #[inline]
    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
    }
}

impl<'a, S> AsyncWrite for WriteHalf<'a, S>
where
    &'a S: AsyncWrite,
{
    #[inline]
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl<S: fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&*self.inner).finish()
    }
}

impl<S: fmt::Debug + AsFd> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&*self.inner).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.inner).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(self.inner).finish()
    }
}

impl<S: AsFd> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: AsFd> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of different streams")
    }
}

impl<S: AsFd> std::error::Error for ReuniteError<S> {}
