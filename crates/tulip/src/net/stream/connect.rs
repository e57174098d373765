//! [`open_connection`] and [`open_unix_connection`]: connect, then wrap the halves.

use std::io;
use std::path::Path;

use super::{StreamReader, StreamWriter};
use crate::net::ToSocketAddrs;
use crate::net::tcp::{OwnedReadHalf, OwnedWriteHalf, TcpStream};
use crate::net::unix::UnixStream;

/// Opens a TCP connection to `addr` and returns its reader and writer: asyncio's
/// `open_connection(host, port)`.
///
/// `addr` is anything [`ToSocketAddrs`] takes: `("example.com", 80)`, `"127.0.0.1:8080"`, a
/// [`SocketAddr`](std::net::SocketAddr). A name is looked up off the loop, and its addresses
/// are raced with Happy Eyeballs, as [`TcpStream::connect`] does.
/// `TCP_NODELAY` is set, as asyncio does, so small writes are not held back.
///
/// # Errors
///
/// When `addr` does not resolve, or no address accepts: the kind says why
/// (`ConnectionRefused`, `TimedOut`, …) and the message names the address.
///
/// # Cancel safety
///
/// Dropping the future abandons the attempt and closes its socket.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let server = tulip::net::start_server(
///         |_reader, mut writer| async move { writer.write(b"hello\n") },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let addr = server.local_addrs()[0];
///     let (mut reader, _writer) = tulip::net::open_connection(addr).await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"hello\n");
/// });
/// ```
pub async fn open_connection(addr: impl ToSocketAddrs) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = connect_tcp(addr).await?;
    Ok(tcp_streams(stream))
}

/// The connect step of [`open_connection`], kept in one place so how names are resolved and
/// raced can change without touching the streams.
pub(crate) async fn connect_tcp(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
    TcpStream::connect(addr).await
}

/// Wraps a connected socket (asyncio's `open_connection(sock=…)`), setting `TCP_NODELAY`.
pub(crate) fn tcp_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    // Latency over packet count, as asyncio: a failure here leaves Nagle on, nothing worse.
    let _ = stream.set_nodelay(true);
    let (read, write): (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) = stream.into_split();
    (StreamReader::new(read), StreamWriter::new(write))
}

/// Opens a connection to the Unix socket at `path` and returns its reader and writer:
/// asyncio's `open_unix_connection(path)`.
///
/// # Errors
///
/// When nothing listens at `path` (`NotFound`, `ConnectionRefused`) or it cannot be reached;
/// the message names the path.
///
/// # Cancel safety
///
/// Dropping the future abandons the attempt and closes its socket.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let path = std::env::temp_dir().join(format!("tulip-doc-{}.sock", std::process::id()));
///     let server = tulip::net::start_unix_server(
///         |_reader, mut writer| async move { writer.write(b"hi\n") },
///         &path,
///     )
///     .await
///     .unwrap();
///     let (mut reader, _writer) = tulip::net::open_unix_connection(&path).await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"hi\n");
///     server.close();
/// });
/// ```
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
) -> io::Result<(
    StreamReader<OwnedReadHalf<UnixStream>>,
    StreamWriter<OwnedWriteHalf<UnixStream>>,
)> {
    let stream = UnixStream::connect(path).await?;
    Ok(unix_streams(stream))
}

/// Wraps a connected Unix socket.
pub(crate) fn unix_streams(
    stream: UnixStream,
) -> (
    StreamReader<OwnedReadHalf<UnixStream>>,
    StreamWriter<OwnedWriteHalf<UnixStream>>,
) {
    let (read, write) = stream.into_split();
    (StreamReader::new(read), StreamWriter::new(write))
}
