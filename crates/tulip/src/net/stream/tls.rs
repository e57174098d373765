//! The streams API over TLS: asyncio's `open_connection(..., ssl=ctx)`,
//! `start_server(..., ssl=ctx)` and `StreamWriter.start_tls(ctx)`.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::server::{Server, accept_failed, bind_all, spawn_accept_loop, spawn_handler};
use super::{SocketInfo, StreamReader, StreamWriter};
use crate::net::tcp::{OwnedReadHalf, OwnedWriteHalf, TcpStream};
use crate::net::{TlsAcceptor, TlsConnector, TlsStream, ToSocketAddrs};

/// The reading half of a TLS connection split for the streams API.
///
/// # Examples
///
/// See [`open_tls_connection`].
pub struct TlsReadHalf<S> {
    stream: Rc<RefCell<TlsStream<S>>>,
}

/// The writing half of a TLS connection split for the streams API. Closing it sends TLS's
/// `close_notify` and shuts down the sending side of the socket.
///
/// # Examples
///
/// See [`open_tls_connection`].
pub struct TlsWriteHalf<S> {
    stream: Rc<RefCell<TlsStream<S>>>,
}

/// A TLS reader of the streams API.
pub type TlsStreamReader = StreamReader<TlsReadHalf<TcpStream>>;
/// A TLS writer of the streams API.
pub type TlsStreamWriter = StreamWriter<TlsWriteHalf<TcpStream>>;

/// Splits `stream` into halves that share it (one loop, one task at a time per half).
fn split<S>(stream: TlsStream<S>) -> (TlsReadHalf<S>, TlsWriteHalf<S>) {
    let stream = Rc::new(RefCell::new(stream));
    (
        TlsReadHalf {
            stream: stream.clone(),
        },
        TlsWriteHalf { stream },
    )
}

fn tls_streams(stream: TlsStream<TcpStream>) -> (TlsStreamReader, TlsStreamWriter) {
    let (read, write) = split(stream);
    (StreamReader::new(read), StreamWriter::new(write))
}

// The RefCell is borrowed only for the length of one poll, and a poll never re-enters the
// other half, so the borrows never overlap.
impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream.borrow_mut()).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream.borrow_mut()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream.borrow_mut()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream.borrow_mut()).poll_close(cx)
    }
}

impl SocketInfo for TlsReadHalf<TcpStream> {
    type Addr = SocketAddr;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.borrow().get_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.borrow().get_ref().local_addr()
    }
}

impl SocketInfo for TlsWriteHalf<TcpStream> {
    type Addr = SocketAddr;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.borrow().get_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.borrow().get_ref().local_addr()
    }
}

impl<S> TlsReadHalf<S> {
    /// The ALPN protocol agreed in the handshake, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// fn protocol(reader: &tulip::net::TlsStreamReader) -> Option<Vec<u8>> {
    ///     reader.get_ref().alpn_protocol()
    /// }
    /// ```
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.stream.borrow().alpn_protocol().map(<[u8]>::to_vec)
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stream.try_borrow() {
            Ok(stream) => f.debug_tuple("TlsReadHalf").field(&*stream).finish(),
            Err(_) => f.write_str("TlsReadHalf(<in use>)"),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stream.try_borrow() {
            Ok(stream) => f.debug_tuple("TlsWriteHalf").field(&*stream).finish(),
            Err(_) => f.write_str("TlsWriteHalf(<in use>)"),
        }
    }
}

/// Opens a TLS connection to `host:port` and returns its reader and writer: asyncio's
/// `open_connection(host, port, ssl=ctx)`. `host` is also the name sent for SNI and checked
/// against the server's certificate (asyncio's `server_hostname`).
///
/// # Errors
///
/// As [`open_connection`](crate::net::open_connection) for the connection, then as
/// [`TlsConnector::connect`] for the handshake (an untrusted certificate or a wrong name is
/// `InvalidData`, naming the host).
///
/// # Examples
///
/// ```
/// use tulip::net::{TlsAcceptor, TlsConnector};
///
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
/// let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
/// let acceptor = TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
/// let connector = TlsConnector::builder()
///     .add_root_certificates_pem(cert_pem.as_bytes())
///     .unwrap()
///     .build()
///     .unwrap();
///
/// tulip::run(async move {
///     let server = tulip::net::start_tls_server(
///         |mut reader, mut writer| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line);
///             writer.close();
///             writer.wait_closed().await.unwrap();
///         },
///         "127.0.0.1:0",
///         acceptor,
///     )
///     .await
///     .unwrap();
///     let port = server.local_addrs()[0].port();
///     let (mut reader, mut writer) =
///         tulip::net::open_tls_connection("localhost", port, &connector).await.unwrap();
///     writer.write(b"over TLS\n");
///     assert_eq!(reader.readline().await.unwrap(), b"over TLS\n");
/// });
/// ```
pub async fn open_tls_connection(
    host: &str,
    port: u16,
    connector: &TlsConnector,
) -> io::Result<(TlsStreamReader, TlsStreamWriter)> {
    let tcp = TcpStream::connect((host, port)).await?;
    // Latency over packet count, as asyncio: a failure here leaves Nagle on, nothing worse.
    let _ = tcp.set_nodelay(true);
    let tls = connector.connect(host, tcp).await?;
    Ok(tls_streams(tls))
}

/// Upgrades a plain connection to TLS as a client (asyncio's `StreamWriter.start_tls`): what
/// STARTTLS-style protocols do after a plain-text exchange. Whatever the writer had queued is
/// sent first.
///
/// # Errors
///
/// `InvalidData` when the reader holds bytes it has not handed out (they arrived before the
/// handshake and would be lost); `InvalidInput` when the reader and writer are not halves of
/// one connection; otherwise as [`TlsConnector::connect`].
///
/// # Examples
///
/// ```
/// use tulip::net::{TlsAcceptor, TlsConnector};
///
/// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
/// let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
/// let acceptor = TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
/// let connector = TlsConnector::builder()
///     .add_root_certificates_pem(cert_pem.as_bytes())
///     .unwrap()
///     .build()
///     .unwrap();
///
/// tulip::run(async move {
///     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = tulip::spawn(async move {
///         use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
///         let (mut tcp, _) = listener.accept().await.unwrap();
///         let mut hello = [0; 9];
///         tcp.read_exact(&mut hello).await.unwrap(); // "STARTTLS\n" in plain text
///         let mut tls = acceptor.accept(tcp).await.unwrap();
///         tls.write_all(b"secret\n").await.unwrap();
///         tls.close().await.unwrap();
///     });
///     let (reader, mut writer) = tulip::net::open_connection(addr).await.unwrap();
///     writer.write(b"STARTTLS\n");
///     let (mut reader, _writer) =
///         tulip::net::start_tls(reader, writer, "localhost", &connector).await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"secret\n");
///     server.await.unwrap();
/// });
/// ```
pub async fn start_tls(
    reader: StreamReader,
    writer: StreamWriter,
    server_name: &str,
    connector: &TlsConnector,
) -> io::Result<(TlsStreamReader, TlsStreamWriter)> {
    let (read_half, buffered): (OwnedReadHalf<TcpStream>, Vec<u8>) = reader.into_parts();
    if !buffered.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "start_tls: the reader holds {} byte(s) received before the TLS handshake; \
                 read them before upgrading",
                buffered.len()
            ),
        ));
    }
    let write_half: OwnedWriteHalf<TcpStream> = writer.into_inner().await?;
    let tcp = read_half.reunite(write_half).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "start_tls: the reader and the writer belong to different connections",
        )
    })?;
    let tls = connector.connect(server_name, tcp).await?;
    Ok(tls_streams(tls))
}

/// Starts a TLS server on `addr`: each connection's handshake runs in its own task, then
/// `handler(reader, writer)` runs there: asyncio's `start_server(cb, host, port, ssl=ctx)`.
/// A client whose handshake fails is logged and dropped; the server goes on.
///
/// # Errors
///
/// As [`start_server`](crate::net::start_server).
///
/// # Examples
///
/// See [`open_tls_connection`].
pub async fn start_tls_server<H, F>(
    handler: H,
    addr: impl ToSocketAddrs,
    acceptor: TlsAcceptor,
) -> io::Result<Server>
where
    H: Fn(TlsStreamReader, TlsStreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    let handler = Rc::new(handler);
    let acceptor = Rc::new(acceptor);
    bind_all(&addr, |inner, index| {
        let handler = handler.clone();
        let acceptor = acceptor.clone();
        spawn_accept_loop(async move {
            loop {
                let accepted = poll_fn(|cx| match inner.tcp.borrow().get(index) {
                    Some(listener) => listener.poll_accept(cx).map(Some),
                    None => Poll::Ready(None),
                })
                .await;
                match accepted {
                    None => return,
                    Some(Ok((stream, peer))) => {
                        let _ = stream.set_nodelay(true);
                        let acceptor = acceptor.clone();
                        let handler = handler.clone();
                        spawn_handler(&inner, async move {
                            match acceptor.accept(stream).await {
                                Ok(tls) => {
                                    let (reader, writer) = tls_streams(tls);
                                    handler(reader, writer).await;
                                }
                                Err(err) => crate::log::warn(&format!(
                                    "TLS server: connection from {peer} dropped: {err}"
                                )),
                            }
                        });
                    }
                    Some(Err(err)) => accept_failed(&inner, err).await,
                }
            }
        })
    })
    .await
}
