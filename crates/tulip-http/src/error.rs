//! The one error type of tulip-http: what went wrong, and the URL it went wrong for.
//!
//! aiohttp raises a family of exceptions (`ClientConnectorError`, `ServerTimeoutError`,
//! `TooManyRedirects`, `ClientResponseError`, `InvalidURL`, ...); here they are the variants of
//! [`ErrorKind`], and every [`Error`] carries the URL, which its message names.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// A boxed error underneath an [`Error`].
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// An HTTP request that failed: an [`ErrorKind`], the URL, and the error underneath if any.
///
/// # Examples
///
/// ```
/// use tulip_http::{ClientSession, ErrorKind};
///
/// tulip::run(async {
///     let session = ClientSession::new();
///     let err = session.get("not a url").send().await.unwrap_err();
///     assert!(matches!(err.kind(), ErrorKind::InvalidUrl));
///     assert_eq!(err.url(), "not a url");
///     assert!(err.to_string().contains("not a url"));
/// });
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    url: String,
    source: Option<BoxError>,
}

/// What went wrong.
///
/// # Examples
///
/// ```
/// use tulip_http::{ErrorKind, TimeoutKind};
///
/// fn retryable(kind: &ErrorKind) -> bool {
///     match kind {
///         ErrorKind::Connect | ErrorKind::Timeout { .. } => true,
///         ErrorKind::Status { status } => status.is_server_error(),
///         _ => false,
///     }
/// }
/// assert!(retryable(&ErrorKind::Connect));
/// assert!(!retryable(&ErrorKind::InvalidUrl));
/// # let _ = TimeoutKind::Total;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL did not parse, has no host, or is not http(s).
    InvalidUrl,
    /// The host name did not resolve.
    Dns,
    /// No TCP connection could be made (refused, unreachable, reset during connect).
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// A timeout of [`ClientTimeout`](crate::ClientTimeout) ran out.
    Timeout {
        /// Which one.
        kind: TimeoutKind,
        /// Its length.
        after: Duration,
    },
    /// More redirects than the session or request allows.
    TooManyRedirects {
        /// The limit.
        max: usize,
    },
    /// A redirect pointed somewhere it must not be followed (a non-http(s) scheme, no
    /// `Location`, an unparsable `Location`).
    InvalidRedirect,
    /// The body (after decoding) is larger than the configured limit.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// `raise_for_status` on a 4xx or 5xx response.
    Status {
        /// The response's status.
        status: StatusCode,
    },
    /// The peer broke HTTP: a malformed status line or headers, a truncated body, a reset
    /// mid-response, headers over the limit.
    Protocol,
    /// The body's `Content-Encoding` could not be decoded.
    Decode,
    /// The body is not the JSON that was asked for.
    Json,
    /// The request could not be built (a bad header name or value, a body that did not
    /// serialise).
    Request,
    /// The session was closed.
    Closed,
}

/// Which of [`ClientTimeout`](crate::ClientTimeout)'s timeouts ran out.
///
/// # Examples
///
/// ```
/// assert_eq!(tulip_http::TimeoutKind::SockRead.to_string(), "sock_read");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The whole request: connecting, sending, and reading the body.
    Total,
    /// Getting a connection: waiting for a free one in the pool, and connecting.
    Connect,
    /// The TCP connect (and TLS handshake) alone.
    SockConnect,
    /// The gap between two reads from the server.
    SockRead,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Total => "total",
            TimeoutKind::Connect => "connect",
            TimeoutKind::SockConnect => "sock_connect",
            TimeoutKind::SockRead => "sock_read",
        })
    }
}

impl Error {
    /// An error of `kind` for `url`, caused by `source` if given.
    pub(crate) fn new(kind: ErrorKind, url: impl Into<String>, source: Option<BoxError>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                url: url.into(),
                source,
            }),
        }
    }

    /// An error of `kind` for `url` with nothing underneath.
    pub(crate) fn bare(kind: ErrorKind, url: impl Into<String>) -> Error {
        Error::new(kind, url, None)
    }

    /// An error of `kind` for `url`, caused by `source`.
    pub(crate) fn with_source(
        kind: ErrorKind,
        url: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Error {
        Error::new(kind, url, Some(source.into()))
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let err = ClientSession::new().get("ftp://example.com/").send().await.unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::InvalidUrl);
    /// });
    /// ```
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The URL of the request that failed (after redirects: the one being fetched when it
    /// failed), as given if it did not parse.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let err = tulip_http::ClientSession::new().get("http://").send().await.unwrap_err();
    ///     assert_eq!(err.url(), "http://");
    /// });
    /// ```
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The status, for an error made by `raise_for_status`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::run(async {
    ///     let router = Router::new().get("/", |_req| async { http::StatusCode::IM_A_TEAPOT });
    ///     let server = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
    ///     let url = format!("http://{}/", server.local_addr());
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     let err = response.raise_for_status().unwrap_err();
    ///     assert_eq!(err.status(), Some(http::StatusCode::IM_A_TEAPOT));
    ///     server.shutdown().await;
    /// });
    /// ```
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            ErrorKind::Status { status } => Some(status),
            _ => None,
        }
    }

    /// Which timeout ran out, if this is a timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_http::{ClientSession, ClientTimeout, TimeoutKind};
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::Runtime::builder().test_clock().build().unwrap().block_on(async {
    ///     let router = Router::new().get("/", |_req| async {
    ///         tulip::time::sleep(Duration::from_secs(60)).await;
    ///         "late"
    ///     });
    ///     let server = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
    ///     let session = ClientSession::builder()
    ///         .timeout(ClientTimeout::new().total(Duration::from_secs(5)))
    ///         .build();
    ///     let url = format!("http://{}/", server.local_addr());
    ///     let err = session.get(&url).send().await.unwrap_err();
    ///     assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total));
    ///     server.shutdown().await;
    /// });
    /// ```
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        match self.inner.kind {
            ErrorKind::Timeout { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Whether a timeout ran out.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let err = tulip_http::ClientSession::new().get("nope").send().await.unwrap_err();
    ///     assert!(!err.is_timeout());
    /// });
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.timeout_kind().is_some()
    }

    /// Whether no connection could be made (DNS, connect or TLS).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let url = format!("http://{}/", listener.local_addr().unwrap());
    ///     drop(listener); // now nobody listens there
    ///     let err = tulip_http::ClientSession::new().get(&url).send().await.unwrap_err();
    ///     assert!(err.is_connect());
    /// });
    /// ```
    pub fn is_connect(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Dns | ErrorKind::Connect | ErrorKind::Tls
        )
    }

    /// The same error for another URL (used when an error from a redirect hop is reported).
    pub(crate) fn for_url(mut self, url: impl Into<String>) -> Error {
        self.inner.url = url.into();
        self
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("tulip_http::Error");
        d.field("kind", &self.inner.kind)
            .field("url", &self.inner.url);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.inner.url;
        match &self.inner.kind {
            ErrorKind::InvalidUrl => write!(f, "invalid URL `{url}`")?,
            ErrorKind::Dns => write!(f, "could not resolve the host of {url}")?,
            ErrorKind::Connect => write!(f, "could not connect for {url}")?,
            ErrorKind::Tls => write!(f, "TLS handshake failed for {url}")?,
            ErrorKind::Timeout { kind, after } => {
                write!(f, "{kind} timeout ({after:?}) ran out for {url}")?
            }
            ErrorKind::TooManyRedirects { max } => {
                write!(f, "more than {max} redirects, stopped at {url}")?
            }
            ErrorKind::InvalidRedirect => write!(f, "refused to follow the redirect from {url}")?,
            ErrorKind::BodyTooLarge { limit } => {
                write!(f, "the body of {url} is over the limit of {limit} bytes")?
            }
            ErrorKind::Status { status } => write!(
                f,
                "{} {} for {url}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )?,
            ErrorKind::Protocol => write!(f, "HTTP protocol error from {url}")?,
            ErrorKind::Decode => write!(f, "could not decode the body of {url}")?,
            ErrorKind::Json => write!(f, "the body of {url} is not the expected JSON")?,
            ErrorKind::Request => write!(f, "could not build the request for {url}")?,
            ErrorKind::Closed => write!(f, "the session is closed (request for {url})")?,
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn StdError + 'static))
    }
}

/// `Result` with tulip-http's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
