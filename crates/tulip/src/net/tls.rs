//! TLS over any tulip byte stream, with rustls: asyncio's `ssl=` arguments and `start_tls`.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `ssl.create_default_context()` | [`TlsConnector::new()`] (Mozilla's roots, verification on) |
//! | `ctx.load_verify_locations(cafile)` | [`TlsConnector::builder()`]`.add_root_certificates_pem(…)` |
//! | `ctx.set_alpn_protocols([...])` | [`alpn_protocols`](TlsConnectorBuilder::alpn_protocols) |
//! | `ctx.check_hostname = False; ctx.verify_mode = CERT_NONE` | [`dangerous_disable_certificate_verification`](TlsConnectorBuilder::dangerous_disable_certificate_verification) |
//! | `ctx.load_cert_chain(certfile, keyfile)` (server) | [`TlsAcceptor::from_pem`] |
//! | `open_connection(host, port, ssl=ctx)` | [`open_tls_connection`](crate::net::open_tls_connection) |
//! | `writer.start_tls(ctx)` | [`TlsConnector::connect`] on the plain stream |
//!
//! The crypto is rustls with the *ring* provider; verification is on unless turned off by a
//! method whose name says it is dangerous.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn invalid(what: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

/// Makes client-side TLS connections: asyncio's client `SSLContext`.
///
/// Cheap to clone (the configuration is shared).
///
/// # Examples
///
/// ```
/// use tulip::net::TlsConnector;
///
/// // Mozilla's root certificates, certificate and host name verification on.
/// let connector = TlsConnector::new();
/// # let _ = connector;
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

/// Settings for a [`TlsConnector`]: trusted roots, ALPN protocols, verification.
///
/// # Examples
///
/// ```
/// use tulip::net::TlsConnector;
///
/// let connector = TlsConnector::builder()
///     .alpn_protocols(&[b"h2", b"http/1.1"])
///     .build()
///     .unwrap();
/// # let _ = connector;
/// ```
#[derive(Debug)]
pub struct TlsConnectorBuilder {
    roots: RootCertStore,
    alpn: Vec<Vec<u8>>,
    verify: bool,
}

impl TlsConnector {
    /// A connector trusting Mozilla's root certificates (the `webpki-roots` set), with
    /// certificate and host name verification.
    ///
    /// # Examples
    ///
    /// ```
    /// let connector = tulip::net::TlsConnector::new();
    /// # let _ = connector;
    /// ```
    pub fn new() -> TlsConnector {
        TlsConnectorBuilder::new()
            .build()
            .expect("the built-in roots and ring's protocol versions form a valid configuration")
    }

    /// Configures a connector.
    ///
    /// # Examples
    ///
    /// ```
    /// let connector = tulip::net::TlsConnector::builder().build().unwrap();
    /// # let _ = connector;
    /// ```
    pub fn builder() -> TlsConnectorBuilder {
        TlsConnectorBuilder::new()
    }

    /// A connector from a rustls configuration made by hand.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    /// let config = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()
    ///     .unwrap()
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let connector = tulip::net::TlsConnector::from_config(Arc::new(config));
    /// # let _ = connector;
    /// ```
    pub fn from_config(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector { config }
    }

    /// Runs the TLS handshake as a client over `stream` for `server_name` (sent as SNI and
    /// checked against the certificate): asyncio's `start_tls` on a connected stream.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `server_name` is not a valid DNS name or IP address; `InvalidData`
    /// naming the server when the handshake fails (untrusted or expired certificate, wrong
    /// host name, no common protocol); I/O errors from the stream.
    ///
    /// # Examples
    ///
    /// See [`TlsAcceptor`].
    pub async fn connect<S>(&self, server_name: &str, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| invalid(format!("invalid TLS server name `{server_name}`")))?;
        let connector = futures_rustls::TlsConnector::from(self.config.clone());
        let stream = connector
            .connect(name, stream)
            .await
            .map_err(|err| handshake_error(&format!("with `{server_name}`"), err))?;
        Ok(TlsStream {
            inner: futures_rustls::TlsStream::from(stream),
        })
    }
}

impl Default for TlsConnector {
    fn default() -> TlsConnector {
        TlsConnector::new()
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// A handshake error, worded so the user sees what failed with whom.
fn handshake_error(peer: &str, err: io::Error) -> io::Error {
    // rustls reports protocol and certificate problems as InvalidData: the kind is kept.
    io::Error::new(err.kind(), format!("TLS handshake {peer} failed: {err}"))
}

impl TlsConnectorBuilder {
    fn new() -> TlsConnectorBuilder {
        TlsConnectorBuilder {
            roots: RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            alpn: Vec::new(),
            verify: true,
        }
    }

    /// Also trusts the certificates in `pem` (one or more `BEGIN CERTIFICATE` blocks): for
    /// private CAs and tests.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `pem` holds no certificate or one that cannot be parsed.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tulip::net::TlsConnector::builder()
    ///     .add_root_certificates_pem(b"not a certificate")
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> io::Result<TlsConnectorBuilder> {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| invalid(format!("invalid root certificate PEM: {e}")))?;
            self.roots
                .add(cert)
                .map_err(|e| invalid(format!("unusable root certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(invalid(
                "no `BEGIN CERTIFICATE` block in the root certificate PEM",
            ));
        }
        Ok(self)
    }

    /// Trusts only the roots added with
    /// [`add_root_certificates_pem`](Self::add_root_certificates_pem), not Mozilla's.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip::net::TlsConnector::builder().without_builtin_roots();
    /// # let _ = builder;
    /// ```
    pub fn without_builtin_roots(mut self) -> TlsConnectorBuilder {
        self.roots = RootCertStore::empty();
        self
    }

    /// The application protocols offered, most preferred first (`b"h2"`, `b"http/1.1"`).
    ///
    /// # Examples
    ///
    /// ```
    /// let connector = tulip::net::TlsConnector::builder()
    ///     .alpn_protocols(&[b"http/1.1"])
    ///     .build()
    ///     .unwrap();
    /// # let _ = connector;
    /// ```
    pub fn alpn_protocols(mut self, protocols: &[&[u8]]) -> TlsConnectorBuilder {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// Accepts any certificate for any name: the connection is encrypted but the peer is
    /// not authenticated, so anyone on the path can impersonate it. Only for tests and
    /// debugging (asyncio: `check_hostname = False`, `verify_mode = CERT_NONE`).
    ///
    /// # Examples
    ///
    /// ```
    /// let insecure = tulip::net::TlsConnector::builder()
    ///     .dangerous_disable_certificate_verification()
    ///     .build()
    ///     .unwrap();
    /// # let _ = insecure;
    /// ```
    pub fn dangerous_disable_certificate_verification(mut self) -> TlsConnectorBuilder {
        self.verify = false;
        self
    }

    /// The connector.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when rustls rejects the configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let connector = tulip::net::TlsConnector::builder().build().unwrap();
    /// # let _ = connector;
    /// ```
    pub fn build(self) -> io::Result<TlsConnector> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(invalid)?;
        let mut config = if self.verify {
            builder
                .with_root_certificates(self.roots)
                .with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
                .with_no_client_auth()
        };
        config.alpn_protocols = self.alpn;
        Ok(TlsConnector {
            config: Arc::new(config),
        })
    }
}

/// The verifier behind `dangerous_disable_certificate_verification`: signatures are still
/// checked (the handshake stays well-formed), certificates and names are not.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Accepts server-side TLS connections with a certificate and key: asyncio's server
/// `SSLContext` with `load_cert_chain`.
///
/// # Examples
///
/// ```
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
/// use tulip::net::{TcpListener, TcpStream, TlsAcceptor, TlsConnector};
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
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = tulip::spawn(async move {
///         let (tcp, _) = listener.accept().await.unwrap();
///         let mut tls = acceptor.accept(tcp).await.unwrap();
///         let mut buf = [0; 5];
///         tls.read_exact(&mut buf).await.unwrap();
///         tls.write_all(&buf).await.unwrap();
///         tls.close().await.unwrap();
///     });
///     let tcp = TcpStream::connect(addr).await.unwrap();
///     let mut tls = connector.connect("localhost", tcp).await.unwrap();
///     tls.write_all(b"hello").await.unwrap();
///     let mut echoed = Vec::new();
///     tls.read_to_end(&mut echoed).await.unwrap();
///     assert_eq!(echoed, b"hello");
///     server.await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor presenting the certificate chain in `cert_chain_pem` (leaf first) with the
    /// private key in `key_pem` (PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    ///
    /// `InvalidInput` saying what is wrong: no certificate, no key, a key that does not match.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tulip::net::TlsAcceptor::from_pem(b"", b"").unwrap_err();
    /// assert!(err.to_string().contains("certificate"));
    /// ```
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> io::Result<TlsAcceptor> {
        TlsAcceptor::with_alpn(cert_chain_pem, key_pem, &[])
    }

    /// [`from_pem`](Self::from_pem), also choosing among the client's ALPN protocols, in this
    /// order of preference.
    ///
    /// # Errors
    ///
    /// As [`from_pem`](Self::from_pem).
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// let acceptor = tulip::net::TlsAcceptor::with_alpn(
    ///     cert.cert.pem().as_bytes(),
    ///     cert.signing_key.serialize_pem().as_bytes(),
    ///     &[b"http/1.1"],
    /// )
    /// .unwrap();
    /// # let _ = acceptor;
    /// ```
    pub fn with_alpn(
        cert_chain_pem: &[u8],
        key_pem: &[u8],
        alpn_protocols: &[&[u8]],
    ) -> io::Result<TlsAcceptor> {
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("invalid certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(invalid(
                "no `BEGIN CERTIFICATE` block in the server certificate PEM",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| invalid(format!("no usable private key in the key PEM: {e}")))?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(invalid)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                invalid(format!(
                    "the certificate and key cannot be used together: {e}"
                ))
            })?;
        config.alpn_protocols = alpn_protocols.iter().map(|p| p.to_vec()).collect();
        Ok(TlsAcceptor {
            config: Arc::new(config),
        })
    }

    /// An acceptor from a rustls configuration made by hand.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    /// let config = rustls::ServerConfig::builder_with_provider(Arc::new(
    ///     rustls::crypto::ring::default_provider(),
    /// ))
    /// .with_safe_default_protocol_versions()
    /// .unwrap()
    /// .with_no_client_auth()
    /// .with_single_cert(vec![cert.cert.der().clone()], key)
    /// .unwrap();
    /// let acceptor = tulip::net::TlsAcceptor::from_config(Arc::new(config));
    /// # let _ = acceptor;
    /// ```
    pub fn from_config(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor { config }
    }

    /// Runs the TLS handshake as a server over `stream`.
    ///
    /// # Errors
    ///
    /// `InvalidData` when the client's handshake fails (it does not trust the certificate,
    /// speaks no common protocol, or is not speaking TLS); I/O errors from the stream.
    ///
    /// # Examples
    ///
    /// See [`TlsAcceptor`].
    pub async fn accept<S>(&self, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = futures_rustls::TlsAcceptor::from(self.config.clone());
        let stream = acceptor
            .accept(stream)
            .await
            .map_err(|err| handshake_error("with a client", err))?;
        Ok(TlsStream {
            inner: futures_rustls::TlsStream::from(stream),
        })
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// A TLS connection over a byte stream `S` (a [`TcpStream`](crate::net::TcpStream) usually),
/// itself a byte stream: `futures-io` [`AsyncRead`] and [`AsyncWrite`]. Closing it sends TLS's
/// `close_notify` and then shuts the underlying stream's write side.
///
/// # Examples
///
/// See [`TlsAcceptor`].
pub struct TlsStream<S> {
    inner: futures_rustls::TlsStream<S>,
}

impl<S> TlsStream<S> {
    /// The underlying stream.
    ///
    /// # Examples
    ///
    /// ```
    /// fn peer(tls: &tulip::net::TlsStream<tulip::net::TcpStream>) -> std::io::Result<std::net::SocketAddr> {
    ///     tls.get_ref().peer_addr()
    /// }
    /// ```
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref().0
    }

    /// The underlying stream, mutably (reading or writing it directly corrupts the TLS
    /// session).
    ///
    /// # Examples
    ///
    /// ```
    /// fn nodelay(tls: &mut tulip::net::TlsStream<tulip::net::TcpStream>) -> std::io::Result<()> {
    ///     tls.get_mut().set_nodelay(true)
    /// }
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        self.inner.get_mut().0
    }

    /// The application protocol agreed through ALPN, if any (`b"h2"`, `b"http/1.1"`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn is_http2<S>(tls: &tulip::net::TlsStream<S>) -> bool {
    ///     tls.alpn_protocol() == Some(b"h2")
    /// }
    /// ```
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.inner.get_ref().1.alpn_protocol()
    }

    /// The TLS version in use, as rustls names it (e.g. `TLSv1_3`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn version<S>(tls: &tulip::net::TlsStream<S>) -> Option<String> {
    ///     tls.protocol_version()
    /// }
    /// ```
    pub fn protocol_version(&self) -> Option<String> {
        self.inner
            .get_ref()
            .1
            .protocol_version()
            .map(|v| format!("{v:?}"))
    }

    /// The peer's certificate chain in DER (the server's, on a client; a server that does
    /// not ask for client certificates gets `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn has_cert<S>(tls: &tulip::net::TlsStream<S>) -> bool {
    ///     tls.peer_certificates().is_some_and(|c| !c.is_empty())
    /// }
    /// ```
    pub fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        self.inner
            .get_ref()
            .1
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.to_vec()).collect())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("stream", self.get_ref())
            .field("alpn_protocol", &self.alpn_protocol())
            .finish()
    }
}
