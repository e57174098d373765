//! Networking: sockets, asyncio's streams API (`open_connection` / `start_server`), DNS and TLS.
//!
//! ## Streams
//!
//! asyncio's high-level API: [`open_connection`] and [`start_server`] (and their Unix
//! socket twins) hand each connection over as a [`StreamReader`] and a [`StreamWriter`].
//!
//! | asyncio | tulip |
//! |---|---|
//! | `reader, writer = await asyncio.open_connection(host, port)` | [`let (reader, writer) = open_connection((host, port)).await?`](open_connection) |
//! | `server = await asyncio.start_server(cb, host, port)` | [`let server = start_server(cb, (host, port)).await?`](start_server) |
//! | `open_unix_connection(path)`, `start_unix_server(cb, path)` | [`open_unix_connection`], [`start_unix_server`] |
//! | `server.serve_forever()`, `close()`, `wait_closed()`, `is_serving()`, `sockets` | [`Server`] methods; [`Server::local_addrs`] |
//! | `reader.read(n)` / `read()`, `readline()`, `readexactly(n)`, `readuntil(sep)`, `at_eof()` | [`StreamReader::read`] / [`read_to_end`](StreamReader::read_to_end), [`readline`](StreamReader::readline), [`readexactly`](StreamReader::readexactly), [`readuntil`](StreamReader::readuntil), [`at_eof`](StreamReader::at_eof) |
//! | `writer.write`, `writelines`, `drain()`, `write_eof()`, `close()`, `wait_closed()`, `is_closing()` | the same names on [`StreamWriter`] |
//! | `writer.get_extra_info('peername')`, `transport.abort()` | [`StreamWriter::peer_addr`], [`StreamWriter::abort`] |
//! | `IncompleteReadError`, `LimitOverrunError` | [`StreamError::IncompleteRead`], [`StreamError::LimitOverrun`] |
//!
//! The defaults are asyncio's: a reader's limit is 64 KiB ([`DEFAULT_LIMIT`]), a writer's
//! water marks 64 KiB and 16 KiB ([`DEFAULT_HIGH_WATER`], [`DEFAULT_LOW_WATER`]).
//!
//! ```
//! use tulip::net::{open_connection, start_server};
//!
//! tulip::run(async {
//!     // The classic echo server: one task per connection.
//!     let server = start_server(
//!         |mut reader, mut writer| async move {
//!             let data = reader.read(100).await.unwrap();
//!             writer.write(&data);
//!             writer.drain().await.unwrap();
//!             writer.close();
//!         },
//!         "127.0.0.1:0",
//!     )
//!     .await
//!     .unwrap();
//!
//!     let (mut reader, mut writer) = open_connection(server.local_addrs()[0]).await.unwrap();
//!     writer.write(b"Hello World!");
//!     writer.drain().await.unwrap();
//!     assert_eq!(reader.read(100).await.unwrap(), b"Hello World!");
//!
//!     server.close();
//!     server.wait_closed().await;
//! });
//! ```
//!
//! ## Sockets
//!
//! Beneath the streams, the socket types asyncio's low-level `loop.sock_*` functions and
//! transports work with. Each registers once with the loop's reactor (edge-triggered) and
//! makes each read and write a plain system call, consulting the reactor only once the kernel
//! has said it would block; dropping one deregisters and closes it. Writes never raise SIGPIPE: a peer
//! that has gone is a `BrokenPipe` or `ConnectionReset` error.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `loop.create_server(...)`, `socket.bind` + `listen`, `reuse_address=`, `reuse_port=`, `backlog=` | [`TcpListener::bind`], [`TcpListener::builder`] |
//! | `loop.sock_accept(sock)` | [`TcpListener::accept`] |
//! | `loop.create_connection(...)`, `loop.sock_connect(sock, addr)` | [`TcpStream::connect`], [`TcpStream::connect_timeout`] |
//! | `loop.sock_recv(sock, n)`, `sock_recv_into`, `sock_sendall` | `read`, `read_exact`, `write_all` from `futures_lite::io::{AsyncReadExt, AsyncWriteExt}` on [`TcpStream`] (it implements `futures_io::AsyncRead` / `AsyncWrite`) |
//! | `transport.write_eof()`, `sock.shutdown(SHUT_WR)` | [`TcpStream::shutdown`], `AsyncWriteExt::close` |
//! | `TCP_NODELAY`, `SO_KEEPALIVE` | [`TcpStream::set_nodelay`], [`TcpStream::set_keepalive`] |
//! | `loop.create_datagram_endpoint(...)`, `loop.sock_sendto` / `sock_recvfrom` | [`UdpSocket`]: [`send_to`](UdpSocket::send_to), [`recv_from`](UdpSocket::recv_from), [`connect`](UdpSocket::connect) + [`send`](UdpSocket::send) / [`recv`](UdpSocket::recv) |
//! | `loop.create_unix_server`, `create_unix_connection`, `socket.socketpair()` | [`UnixListener`], [`UnixStream::connect`], [`UnixStream::pair`] |
//! | `create_datagram_endpoint(family=AF_UNIX)` | [`UnixDatagram`] |
//! | `loop.add_reader(fd, cb)` / `add_writer` | [`TcpStream::readable`] / [`writable`](TcpStream::writable) + [`try_read`](TcpStream::try_read) / [`try_write`](TcpStream::try_write); any descriptor: [`crate::io::Registration`] |
//! | `ConnectionRefusedError`, `TimeoutError` from a connect | `io::Error` of kind `ConnectionRefused` / `TimedOut` naming the address, carrying a [`ConnectError`] |
//!
//! A stream splits into halves two tasks can own ([`TcpStream::into_split`], put back with
//! [`OwnedReadHalf::reunite`]) or one task can use at once ([`TcpStream::split`]).
//!
//! ```
//! use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
//! use tulip::net::{TcpListener, TcpStream};
//!
//! tulip::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     tulip::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let (mut rd, mut wr) = stream.into_split();
//!         futures_lite::io::copy(&mut rd, &mut wr).await.unwrap();
//!     })
//!     .detach();
//!
//!     let mut stream = TcpStream::connect(addr).await.unwrap();
//!     stream.write_all(b"echo me").await.unwrap();
//!     let mut buf = [0u8; 7];
//!     stream.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"echo me");
//! });
//! ```

mod dns;
mod stream;
mod tcp;
mod tls;
mod udp;
mod unix;

pub use dns::{CONNECTION_ATTEMPT_DELAY, ToSocketAddrs, lookup_host};
pub use tcp::{
    ConnectError, DEFAULT_BACKLOG, OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError,
    TcpListener, TcpListenerBuilder, TcpStream, WriteHalf,
};
pub use tls::{TlsAcceptor, TlsConnector, TlsConnectorBuilder, TlsStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

pub use stream::{
    DEFAULT_HIGH_WATER, DEFAULT_LIMIT, DEFAULT_LOW_WATER, Server, SocketInfo, StreamError,
    StreamReader, StreamWriter, TlsReadHalf, TlsStreamReader, TlsStreamWriter, TlsWriteHalf,
    open_connection, open_tls_connection, open_unix_connection, start_server, start_server_on,
    start_tls, start_tls_server, start_unix_server,
};
