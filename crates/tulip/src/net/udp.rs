//! UDP: [`UdpSocket`], what asyncio's `loop.create_datagram_endpoint` and `loop.sock_sendto` /
//! `sock_recvfrom` work with.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use super::dns::{self, ToSocketAddrs};
use super::tcp::{ConnectError, bind_error};
use crate::io::PollIo;
use crate::io::reactor::{READABLE, WRITABLE};

/// A UDP socket: datagrams to and from any address, or — once
/// [`connect`](UdpSocket::connect)ed — to and from one peer.
///
/// Each send is one datagram; each receive returns one whole datagram (cut to the buffer).
/// Dropping the socket deregisters it and closes it.
///
/// # Examples
///
/// ```
/// use tulip::net::UdpSocket;
///
/// tulip::run(async {
///     let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     client.send_to(b"ping", server.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, client.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    io: PollIo,
    sock: mio::net::UdpSocket,
}

impl UdpSocket {
    /// A socket bound to the first address `addr` resolves to that accepts the bind (port 0
    /// picks a free port).
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve or no address accepts the bind; the message names the
    /// address.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in dns::resolve(&addr).await? {
            match mio::net::UdpSocket::bind(addr).and_then(UdpSocket::from_mio) {
                Ok(socket) => return Ok(socket),
                Err(err) => last = Some(bind_error(err, &addr)),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to bind to")))
    }

    fn from_mio(mut sock: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        let io = PollIo::new(&mut sock)?;
        Ok(UdpSocket { io, sock })
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
    ///     let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let addr = std.local_addr().unwrap();
    ///     let socket = tulip::net::UdpSocket::from_std(std).unwrap();
    ///     assert_eq!(socket.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
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
    ///     let socket = tulip::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = socket.local_addr().unwrap();
    ///     assert_eq!(socket.into_std().unwrap().local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.sock.as_fd().try_clone_to_owned()?.into())
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes there and only its datagrams are
    /// received. Tries each address `addr` resolves to until one is accepted.
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve or no address is accepted; the message names it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for addr in dns::resolve(&addr).await? {
            match self.sock.connect(addr) {
                Ok(()) => return Ok(()),
                Err(err) => last = Some(ConnectError::inet(addr, err)),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` says.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
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
    /// See [`connect`](UdpSocket::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket was never connected, `ConnectionRefused` (an ICMP error
    /// from an earlier datagram), or what `send(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    ///
    /// # Examples
    ///
    /// See [`connect`](UdpSocket::connect).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Polls a [`send`](UdpSocket::send).
    ///
    /// # Errors
    ///
    /// As [`send`](UdpSocket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"me")).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_op(cx, WRITABLE, || self.sock.send(buf))
            .map_err(no_peer)
    }

    /// Sends `buf` as one datagram to `target` (the first address it resolves to).
    ///
    /// # Errors
    ///
    /// When `target` does not resolve, or what `sendto(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, nothing was sent.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = dns::resolve(&target).await?[0];
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls a [`send_to`](UdpSocket::send_to) to a resolved address.
    ///
    /// # Errors
    ///
    /// What `sendto(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let to = a.local_addr().unwrap();
    ///     assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"me", to)).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_op(cx, WRITABLE, || self.sock.send_to(buf, target))
    }

    /// Receives one datagram from the connected peer (the rest of a longer one is lost).
    ///
    /// # Errors
    ///
    /// What `recv(2)` says (`ConnectionRefused` after an ICMP error).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no datagram was taken.
    ///
    /// # Examples
    ///
    /// See [`connect`](UdpSocket::connect).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Polls a [`recv`](UdpSocket::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"me").await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(poll_fn(|cx| a.poll_recv(cx, &mut buf)).await.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_op(cx, READABLE, || self.sock.recv(buf))
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, no datagram was taken.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls a [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"me", a.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await.unwrap();
    ///     assert_eq!((n, from), (2, a.local_addr().unwrap()));
    /// });
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_op(cx, READABLE, || self.sock.recv_from(buf))
    }

    /// Receives one datagram without taking it from the queue: the next receive returns it
    /// again.
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` says.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"me", a.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0u8; 4];
    ///     assert_eq!(a.peek_from(&mut buf).await.unwrap().0, 2);
    ///     assert_eq!(a.recv_from(&mut buf).await.unwrap().0, 2);
    /// });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_op(cx, READABLE, || self.sock.peek_from(buf))).await
    }

    /// Sends to the connected peer without waiting (`WouldBlock` when the buffer is full).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send`](UdpSocket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.try_send(b"me").unwrap();
    ///     a.readable().await.unwrap();
    ///     assert_eq!(a.try_recv(&mut [0u8; 4]).unwrap(), 2);
    /// });
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(WRITABLE, || self.sock.send(buf), |_| false)
            .map_err(no_peer)
    }

    /// Sends to `target` without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send_to`](UdpSocket::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::UdpSocket;
    ///
    /// tulip::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.try_send_to(b"me", a.local_addr().unwrap()).unwrap();
    ///     a.readable().await.unwrap();
    ///     assert_eq!(a.try_recv_from(&mut [0u8; 4]).unwrap().0, 2);
    /// });
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(WRITABLE, || self.sock.send_to(buf, target), |_| false)
    }

    /// Receives from the connected peer without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// See [`try_send`](UdpSocket::try_send).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(READABLE, || self.sock.recv(buf), |_| false)
    }

    /// Receives a datagram and its sender without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Examples
    ///
    /// See [`try_send_to`](UdpSocket::try_send_to).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(READABLE, || self.sock.recv_from(buf), |_| false)
    }

    /// Waits until a datagram is waiting (or an error).
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
    /// See [`try_send`](UdpSocket::try_send).
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| {
            self.io
                .poll_read_ready(cx, || self.sock.peek_from(&mut [0u8; 1]))
        })
        .await
    }

    /// Waits until a send may succeed (may be spurious).
    ///
    /// # Errors
    ///
    /// As [`readable`](UdpSocket::readable).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let a = tulip::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// a.writable().await.unwrap();
    /// # });
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.io.poll_ready(cx, WRITABLE)).await
    }

    /// `SO_BROADCAST`: allow sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let a = tulip::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// a.set_broadcast(true).unwrap();
    /// assert!(a.broadcast().unwrap());
    /// # });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.sock.set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is on.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// See [`set_broadcast`](UdpSocket::set_broadcast).
    pub fn broadcast(&self) -> io::Result<bool> {
        self.sock.broadcast()
    }

    /// `IP_TTL`: the time-to-live of outgoing datagrams.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let a = tulip::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// a.set_ttl(7).unwrap();
    /// assert_eq!(a.ttl().unwrap(), 7);
    /// # });
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
    /// See [`set_ttl`](UdpSocket::set_ttl).
    pub fn ttl(&self) -> io::Result<u32> {
        self.sock.ttl()
    }

    /// Takes the pending socket error (`SO_ERROR`), e.g. an ICMP "port unreachable".
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` says.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let a = tulip::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    /// assert!(a.take_error().unwrap().is_none());
    /// # });
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }
}

/// `send` on a socket that was never connected fails with `EDESTADDRREQ`, which std files
/// under no stable kind: say what it means, as `NotConnected`.
fn no_peer(err: io::Error) -> io::Error {
    if err.raw_os_error() == Some(rustix::io::Errno::DESTADDRREQ.raw_os_error()) {
        return io::Error::new(
            io::ErrorKind::NotConnected,
            "this UDP socket has no peer: connect() it first, or use send_to",
        );
    }
    err
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let _ = self.io.release(&mut self.sock);
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UdpSocket");
        if let Ok(addr) = self.sock.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.sock.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.sock.as_raw_fd()).finish()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
