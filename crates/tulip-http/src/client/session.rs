//! [`ClientSession`] and its builder: aiohttp's `ClientSession(connector=TCPConnector(limit=,
//! limit_per_host=, keepalive_timeout=), timeout=, headers=, cookie_jar=)`; and the execution
//! of one request — hops of redirects, each on a pooled connection.

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, ACCEPT_ENCODING, CONNECTION, CONTENT_LENGTH, COOKIE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Version};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tulip::net::TlsConnector;
use url::{Position, Url};

use super::connect::{Checkout, Lease, Target, checkout};
use super::pool::{Key, Pool, PoolStats, ReqBody};
use super::redirect::{self, Redirect};
use super::request::{Prepared, RequestBuilder};
use super::response::BodyOptions;
use super::timeout::{ClientTimeout, Deadline, within};
use crate::{CookieJar, Error, ErrorKind, Response, Result, TimeoutKind};

/// The `User-Agent` sent unless told otherwise.
const DEFAULT_USER_AGENT: &str = concat!("tulip-http/", "0.1");

/// How much of a redirect's body is read so that its connection can be reused; a longer one
/// closes the connection instead.
const REDIRECT_DRAIN_LIMIT: usize = 64 * 1024;

/// An HTTP client session: aiohttp's `ClientSession`. Make one per program and share it —
/// it holds the pool of keep-alive connections, the default headers, the timeouts and the
/// optional cookie jar. Cloning it is cheap and shares all of that.
///
/// It lives on one loop thread (it is not `Send`), like everything spawned there.
///
/// | aiohttp | tulip-http |
/// |---|---|
/// | `ClientSession()` | [`ClientSession::new()`] |
/// | `ClientSession(connector=TCPConnector(limit=10), timeout=...)` | [`ClientSession::builder()`] |
/// | `session.get(url, params=...)` | [`session.get(url)`](ClientSession::get)`.query(...)` |
/// | `await session.close()` | [`session.close().await`](ClientSession::close) |
///
/// # Examples
///
/// ```
/// # async fn canned(reply: &'static str) -> String {
/// #     use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// #     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// #     let url = format!("http://{}/", listener.local_addr().unwrap());
/// #     tulip::spawn(async move { loop {
/// #         let (mut s, _) = listener.accept().await.unwrap();
/// #         tulip::spawn(async move { let mut b = [0u8; 4096];
/// #             while let Ok(n) = s.read(&mut b).await { if n == 0 { break }
/// #                 s.write_all(reply.as_bytes()).await.unwrap(); } }).detach();
/// #     } }).detach();
/// #     url
/// # }
/// use tulip_http::ClientSession;
///
/// tulip::run(async {
///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
///     let session = ClientSession::new();
///     for _ in 0..3 {
///         let body = session.get(&url).send().await.unwrap().text().await.unwrap();
///         assert_eq!(body, "ok");
///     }
///     // One connection, kept alive and reused.
///     assert_eq!(session.pool_stats().opened, 1);
///     assert_eq!(session.pool_stats().reused, 2);
///     session.close().await;
/// });
/// ```
#[derive(Clone)]
pub struct ClientSession {
    inner: Rc<Inner>,
}

struct Inner {
    pool: Pool,
    timeout: ClientTimeout,
    max_redirects: usize,
    max_body_size: Option<u64>,
    /// `User-Agent`, `Accept`, `Accept-Encoding` and the user's defaults.
    headers: HeaderMap,
    /// A default header that was not one, reported by every request.
    header_error: Option<String>,
    cookie_jar: Option<CookieJar>,
    tls: OnceCell<TlsConnector>,
    closed: Cell<bool>,
}

/// Settings for a [`ClientSession`]: made by [`ClientSession::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip_http::{ClientSession, ClientTimeout, CookieJar};
///
/// let session = ClientSession::builder()
///     .limit(10)
///     .limit_per_host(2)
///     .keepalive_timeout(Duration::from_secs(30))
///     .timeout(ClientTimeout::new().total(Duration::from_secs(60)))
///     .max_redirects(5)
///     .max_body_size(10 << 20)
///     .user_agent("my-crawler/1.0")
///     .default_header("Accept-Language", "en")
///     .cookie_jar(CookieJar::new())
///     .build();
/// assert!(session.cookie_jar().is_some());
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientSessionBuilder {
    limit: usize,
    limit_per_host: usize,
    keepalive: Duration,
    timeout: ClientTimeout,
    max_redirects: usize,
    max_body_size: Option<u64>,
    headers: HeaderMap,
    header_error: Option<String>,
    cookie_jar: Option<CookieJar>,
    tls: Option<TlsConnector>,
}

impl Default for ClientSession {
    /// The same as [`ClientSession::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::default();
    /// assert!(!session.is_closed());
    /// ```
    fn default() -> ClientSession {
        ClientSession::new()
    }
}

impl ClientSession {
    /// A session with aiohttp's defaults: at most 100 connections, no limit per host,
    /// keep-alive 15 s, [`ClientTimeout::default()`] (total 300 s, sock_connect 30 s), 10
    /// redirects, no body size limit, no cookie jar. It needs no running loop until its first
    /// request.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// assert_eq!(session.pool_stats().opened, 0);
    /// ```
    pub fn new() -> ClientSession {
        ClientSession::builder().build()
    }

    /// Settings for a session.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().limit(4).build();
    /// # let _ = session;
    /// ```
    pub fn builder() -> ClientSessionBuilder {
        ClientSessionBuilder::new()
    }

    /// A `GET` request (aiohttp's `session.get`).
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn canned(reply: &'static str) -> String {
    /// #     use futures_lite::{AsyncReadExt, AsyncWriteExt};
    /// #     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// #     let url = format!("http://{}/", listener.local_addr().unwrap());
    /// #     tulip::spawn(async move { loop {
    /// #         let (mut s, _) = listener.accept().await.unwrap();
    /// #         tulip::spawn(async move { let mut b = [0u8; 4096];
    /// #             while let Ok(n) = s.read(&mut b).await { if n == 0 { break }
    /// #                 s.write_all(reply.as_bytes()).await.unwrap(); } }).detach();
    /// #     } }).detach();
    /// #     url
    /// # }
    /// tulip::run(async {
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi").await;
    ///     let session = tulip_http::ClientSession::new();
    ///     assert_eq!(session.get(&url).await.unwrap().text().await.unwrap(), "hi");
    /// });
    /// ```
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` request (aiohttp's `session.post`).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session.post("http://127.0.0.1:8080/items").json(&[1, 2, 3]);
    /// # drop(request);
    /// ```
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A `PUT` request (aiohttp's `session.put`).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session.put("http://127.0.0.1:8080/items/1").body("raw");
    /// # drop(request);
    /// ```
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request (aiohttp's `session.patch`).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session.patch("http://127.0.0.1:8080/items/1").form(&[("name", "x")]);
    /// # drop(request);
    /// ```
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request (aiohttp's `session.delete`).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session.delete("http://127.0.0.1:8080/items/1");
    /// # drop(request);
    /// ```
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A `HEAD` request (aiohttp's `session.head`): the response has headers and no body.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn canned(reply: &'static str) -> String {
    /// #     use futures_lite::{AsyncReadExt, AsyncWriteExt};
    /// #     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// #     let url = format!("http://{}/", listener.local_addr().unwrap());
    /// #     tulip::spawn(async move { loop {
    /// #         let (mut s, _) = listener.accept().await.unwrap();
    /// #         tulip::spawn(async move { let mut b = [0u8; 4096];
    /// #             while let Ok(n) = s.read(&mut b).await { if n == 0 { break }
    /// #                 s.write_all(reply.as_bytes()).await.unwrap(); } }).detach();
    /// #     } }).detach();
    /// #     url
    /// # }
    /// tulip::run(async {
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new().head(&url).send().await.unwrap();
    ///     assert_eq!(response.headers()["content-length"], "1000");
    ///     assert!(response.bytes().await.unwrap().is_empty());
    /// });
    /// ```
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request with any method (aiohttp's `session.request(method, url)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session.request(http::Method::OPTIONS, "http://127.0.0.1:8080/");
    /// # drop(request);
    /// ```
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.as_ref())
    }

    /// The cookie jar, if the session has one (see [`ClientSessionBuilder::cookie_jar`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, CookieJar};
    ///
    /// assert!(ClientSession::new().cookie_jar().is_none());
    /// let session = ClientSession::builder().cookie_jar(CookieJar::new()).build();
    /// assert!(session.cookie_jar().is_some());
    /// ```
    pub fn cookie_jar(&self) -> Option<&CookieJar> {
        self.inner.cookie_jar.as_ref()
    }

    /// Counters of the connection pool: connections opened and reused, idle, in use,
    /// requests waiting for a slot.
    ///
    /// # Examples
    ///
    /// ```
    /// let stats = tulip_http::ClientSession::new().pool_stats();
    /// assert_eq!((stats.opened, stats.reused, stats.in_use), (0, 0, 0));
    /// ```
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    /// Whether [`close`](ClientSession::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let session = tulip_http::ClientSession::new();
    ///     session.close().await;
    ///     assert!(session.is_closed());
    /// });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// Closes the session (aiohttp's `await session.close()`): idle connections are closed
    /// (this waits until they are), requests waiting for a connection and every later request
    /// fail with [`ErrorKind::Closed`]. Responses already received can still be read; their
    /// connections close at the end of their bodies. Calling it again does nothing.
    ///
    /// Dropping the last clone of a session closes its idle connections too, without waiting.
    ///
    /// # Cancel safety
    ///
    /// The session is closed by the first poll; dropping the future only skips waiting for
    /// the connections to finish closing.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let session = ClientSession::new();
    ///     session.close().await;
    ///     let err = session.get("http://127.0.0.1:8080/").send().await.unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::Closed);
    /// });
    /// ```
    pub async fn close(&self) {
        self.inner.closed.set(true);
        self.inner.pool.close().await;
    }

    /// The TLS connector: the user's, or the default one offering HTTP/2 and HTTP/1.1.
    fn tls(&self) -> &TlsConnector {
        self.inner.tls.get_or_init(|| {
            TlsConnector::builder()
                .alpn_protocols(&[b"h2", b"http/1.1"])
                .build()
                .unwrap_or_else(|_| TlsConnector::new())
        })
    }

    /// Runs a request: hop after hop while the server redirects.
    pub(crate) async fn execute(&self, req: Prepared) -> Result<Response> {
        if self.inner.closed.get() || self.inner.pool.is_closed() {
            return Err(Error::bare(ErrorKind::Closed, req.url.as_str()));
        }
        if let Some(why) = &self.inner.header_error {
            return Err(Error::with_source(
                ErrorKind::Request,
                req.url.as_str(),
                why.clone(),
            ));
        }
        let timeout = req.timeout.unwrap_or(self.inner.timeout);
        let total = Deadline::starting_now(TimeoutKind::Total, timeout.get_total());
        let max_redirects = req.max_redirects.unwrap_or(self.inner.max_redirects);
        let options = |head: bool| BodyOptions {
            limit: req.max_body_size.or(self.inner.max_body_size),
            total,
            sock_read: timeout.get_sock_read(),
            head,
        };
        let mut method = req.method.clone();
        let mut url = req.url.clone();
        let mut headers = req.headers.clone();
        let mut body = req.body.clone();
        let mut history = Vec::new();
        loop {
            let hop = Hop {
                method: &method,
                url: &url,
                headers: &headers,
                body: body.as_ref(),
                timeout: &timeout,
            };
            // Whatever failed inside the hop, the error names the URL this hop fetched.
            let (head, incoming, lease) = within(total, url.as_str(), self.send_hop(&hop))
                .await
                .and_then(|sent| sent)
                .map_err(|e| e.for_url(url.as_str()))?;
            if let Some(jar) = &self.inner.cookie_jar {
                jar.store_response_cookies(&url, &head.headers);
            }
            if !req.allow_redirects || !redirect::is_redirect(head.status) {
                let options = options(method == Method::HEAD);
                return Ok(Response::new(head, incoming, lease, url, history, options));
            }
            if history.len() >= max_redirects {
                return Err(Error::bare(
                    ErrorKind::TooManyRedirects { max: max_redirects },
                    url.as_str(),
                ));
            }
            let next = redirect::target(&url, &head.headers)?;
            let read = Deadline::starting_now(TimeoutKind::SockRead, timeout.get_sock_read());
            drain(incoming, lease, Deadline::earliest(total, read)).await;
            history.push(Redirect::new(head.status, url.clone(), head.headers));
            let (next_method, keep_body) = redirect::next_method(head.status, &method);
            if !keep_body {
                body = None;
                redirect::drop_body_headers(&mut headers);
            }
            redirect::strip_credentials(&url, &next, &mut headers);
            method = next_method;
            url = next;
        }
    }

    /// One exchange: a connection, the request, the response's head. A request that fails
    /// on a reused connection before any answer (the server closed it while idle) is sent
    /// once more on a new connection, if its method is idempotent.
    async fn send_hop(&self, hop: &Hop<'_>) -> Result<(http::response::Parts, Incoming, Lease)> {
        let url = hop.url.as_str();
        let key = Key::from_url(hop.url)
            .ok_or_else(|| Error::with_source(ErrorKind::InvalidUrl, url, "not an http(s) URL"))?;
        let target = Target {
            key: &key,
            url,
            tls: self.tls(),
            connect: Deadline::starting_now(TimeoutKind::Connect, hop.timeout.get_connect()),
            sock_connect: hop.timeout.get_sock_connect(),
        };
        let mut fresh = false;
        loop {
            let (conn, reused) = checkout(&self.inner.pool, &target, fresh).await?;
            let h2 = matches!(conn, Checkout::H2 { .. });
            let request = self.build_request(hop, h2)?;
            let read = Deadline::starting_now(TimeoutKind::SockRead, hop.timeout.get_sock_read());
            let sent = match conn {
                Checkout::H1 { mut conn, slot } => {
                    let sent = within(read, url, conn.sender.send_request(request)).await?;
                    sent.map(|response| {
                        let reusable = keeps_alive(&response);
                        let lease = Lease::H1 {
                            conn: Some(conn),
                            slot: Some(slot),
                            key: key.clone(),
                            pool: self.inner.pool.clone(),
                            reusable,
                        };
                        (response, lease)
                    })
                }
                Checkout::H2 { mut sender, used } => {
                    let sent = within(read, url, sender.send_request(request)).await?;
                    sent.map(|response| (response, Lease::H2(Some(used))))
                }
            };
            match sent {
                Ok((response, lease)) => {
                    let (head, incoming) = response.into_parts();
                    return Ok((head, incoming, lease));
                }
                Err(err) if reused && !fresh && is_replayable(hop.method, &err) => fresh = true,
                Err(err) => return Err(Error::with_source(ErrorKind::Protocol, url, err)),
            }
        }
    }

    /// The request of one hop, with the session's default headers, `Host`, cookies and
    /// `Content-Length`.
    fn build_request(&self, hop: &Hop<'_>, h2: bool) -> Result<http::Request<ReqBody>> {
        let url = hop.url;
        // HTTP/1.1 sends the path (origin form) and a Host header; HTTP/2 the whole URL, from
        // which hyper takes `:scheme` and `:authority`.
        let target = if h2 {
            &url[..Position::AfterQuery]
        } else {
            &url[Position::BeforePath..Position::AfterQuery]
        };
        let uri: http::Uri = target
            .parse()
            .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url.as_str(), e))?;
        let mut headers = hop.headers.clone();
        for (name, value) in &self.inner.headers {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        if !h2 && !headers.contains_key(HOST) {
            headers.insert(HOST, host_header(url)?);
        }
        if let Some(cookies) = self
            .inner
            .cookie_jar
            .as_ref()
            .and_then(|j| j.cookie_header(url))
        {
            merge_cookies(&mut headers, cookies);
        }
        if let Some(body) = hop.body {
            if !headers.contains_key(CONTENT_LENGTH) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            }
        }
        let mut request = http::Request::new(Full::new(hop.body.cloned().unwrap_or_default()));
        *request.method_mut() = hop.method.clone();
        *request.uri_mut() = uri;
        *request.version_mut() = if h2 {
            Version::HTTP_2
        } else {
            Version::HTTP_11
        };
        *request.headers_mut() = headers;
        Ok(request)
    }
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("pool", &self.inner.pool)
            .field("timeout", &self.inner.timeout)
            .field("max_redirects", &self.inner.max_redirects)
            .field("max_body_size", &self.inner.max_body_size)
            .field("cookie_jar", &self.inner.cookie_jar.is_some())
            .field("closed", &self.inner.closed.get())
            .finish_non_exhaustive()
    }
}

/// What one hop sends.
struct Hop<'a> {
    method: &'a Method,
    url: &'a Url,
    headers: &'a HeaderMap,
    body: Option<&'a Bytes>,
    timeout: &'a ClientTimeout,
}

/// `Host: name[:port]`, the port only when it is not the scheme's default.
fn host_header(url: &Url) -> Result<HeaderValue> {
    let host = url.host_str().unwrap_or_default();
    let value = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    HeaderValue::from_str(&value)
        .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url.as_str(), e))
}

/// Adds the jar's cookies to those the user set by hand: one `Cookie` header, as RFC 6265
/// asks of HTTP/1.1 clients.
fn merge_cookies(headers: &mut HeaderMap, jar: HeaderValue) {
    let merged = match headers.get(COOKIE) {
        Some(own) => {
            let mut both = own.as_bytes().to_vec();
            both.extend_from_slice(b"; ");
            both.extend_from_slice(jar.as_bytes());
            HeaderValue::from_bytes(&both).unwrap_or(jar)
        }
        None => jar,
    };
    headers.insert(COOKIE, merged);
}

/// Whether the HTTP/1.x connection stays open after this response.
fn keeps_alive(response: &http::Response<Incoming>) -> bool {
    let says = |token: &str| {
        response
            .headers()
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    match response.version() {
        Version::HTTP_10 | Version::HTTP_09 => says("keep-alive"),
        _ => !says("close"),
    }
}

/// Whether a request that failed this way may be sent again on a new connection: the method
/// is idempotent and the failure says the old connection was dead before it answered.
fn is_replayable(method: &Method, err: &hyper::Error) -> bool {
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    let dead_connection = err.is_canceled()
        || err.is_incomplete_message()
        || err.is_closed()
        || std::error::Error::source(err)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                )
            });
    idempotent && dead_connection
}

/// Reads a redirect's short body to its end so its connection can serve the next hop; a
/// long, slow or broken one just closes the connection.
async fn drain(mut incoming: Incoming, mut lease: Lease, deadline: Option<Deadline>) {
    let mut seen = 0;
    loop {
        if incoming.is_end_stream() {
            lease.release();
            return;
        }
        match within(deadline, "", incoming.frame()).await {
            Ok(Some(Ok(frame))) => {
                seen += frame.data_ref().map_or(0, Bytes::len);
                if seen > REDIRECT_DRAIN_LIMIT {
                    return;
                }
            }
            Ok(None) => {
                lease.release();
                return;
            }
            Ok(Some(Err(_))) | Err(_) => return,
        }
    }
}

impl ClientSessionBuilder {
    fn new() -> ClientSessionBuilder {
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        ClientSessionBuilder {
            limit: 100,
            limit_per_host: 0,
            keepalive: Duration::from_secs(15),
            timeout: ClientTimeout::default(),
            max_redirects: 10,
            max_body_size: None,
            headers,
            header_error: None,
            cookie_jar: None,
            tls: None,
        }
    }

    /// The most connections in use at once, all hosts together (aiohttp's
    /// `TCPConnector(limit=)`, 100 by default; 0 for no limit). A request that would pass it
    /// waits for a connection to be free, first come first served. Idle connections to other
    /// hosts are closed to make room.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().limit(0).build(); // unlimited
    /// # let _ = session;
    /// ```
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    /// The most connections in use at once to one (scheme, host, port) (aiohttp's
    /// `limit_per_host`; 0, the default, for no limit).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().limit_per_host(2).build();
    /// # let _ = session;
    /// ```
    pub fn limit_per_host(mut self, n: usize) -> Self {
        self.limit_per_host = n;
        self
    }

    /// How long an idle connection is kept for the next request (aiohttp's
    /// `keepalive_timeout`, 15 s by default); zero closes each connection after its response.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let session = tulip_http::ClientSession::builder()
    ///     .keepalive_timeout(Duration::from_secs(60))
    ///     .build();
    /// # let _ = session;
    /// ```
    pub fn keepalive_timeout(mut self, d: Duration) -> Self {
        self.keepalive = d;
        self
    }

    /// The timeouts of every request ([`ClientTimeout::default()`] unless set); a request
    /// can replace them with [`RequestBuilder::timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_http::ClientTimeout;
    ///
    /// let session = tulip_http::ClientSession::builder()
    ///     .timeout(ClientTimeout::new().connect(Duration::from_secs(5)))
    ///     .build();
    /// # let _ = session;
    /// ```
    pub fn timeout(mut self, t: ClientTimeout) -> Self {
        self.timeout = t;
        self
    }

    /// The most redirects a request follows (10 by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().max_redirects(2).build();
    /// # let _ = session;
    /// ```
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// The largest response body, after decoding (no limit by default); reading past it fails
    /// with [`ErrorKind::BodyTooLarge`], before the excess is held in memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().max_body_size(1 << 20).build();
    /// # let _ = session;
    /// ```
    pub fn max_body_size(mut self, n: u64) -> Self {
        self.max_body_size = Some(n);
        self
    }

    /// The `User-Agent` header (`tulip-http/0.1` by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().user_agent("areq/0.1").build();
    /// # let _ = session;
    /// ```
    pub fn user_agent(self, ua: &str) -> Self {
        self.default_header(USER_AGENT.as_str(), ua)
    }

    /// A header every request sends unless it sets its own (aiohttp's `headers=`); replaces
    /// an earlier default of the same name. A name or value that is not valid makes every
    /// request fail with [`ErrorKind::Request`] naming it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let session = ClientSession::builder().default_header("X-Bad\n", "1").build();
    ///     let err = session.get("http://127.0.0.1:8080/").send().await.unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::Request);
    /// });
    /// ```
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            (Err(_), _) => {
                self.header_error.get_or_insert(format!(
                    "`{}` is not a valid header name",
                    name.escape_debug()
                ));
            }
            (_, Err(_)) => {
                self.header_error
                    .get_or_insert(format!("the default value of header `{name}` is not valid"));
            }
        }
        self
    }

    /// Keeps cookies in `jar` (none are kept by default, like aiohttp with a
    /// `DummyCookieJar`): every response's `Set-Cookie` (redirects' too) is stored, and
    /// matching cookies are sent. The jar is shared with clones of `jar`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, CookieJar};
    ///
    /// let jar = CookieJar::new();
    /// let session = ClientSession::builder().cookie_jar(jar.clone()).build();
    /// # let _ = session;
    /// ```
    pub fn cookie_jar(mut self, jar: CookieJar) -> Self {
        self.cookie_jar = Some(jar);
        self
    }

    /// The TLS settings for https URLs (trusted roots, verification). The default trusts
    /// Mozilla's roots and offers HTTP/2 and HTTP/1.1 through ALPN; a connector given here
    /// speaks HTTP/2 only if it offers `h2` itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// let connector = tulip::net::TlsConnector::builder()
    ///     .add_root_certificates_pem(cert.cert.pem().as_bytes())
    ///     .unwrap()
    ///     .alpn_protocols(&[b"h2", b"http/1.1"])
    ///     .build()
    ///     .unwrap();
    /// let session = tulip_http::ClientSession::builder().tls_connector(connector).build();
    /// # let _ = session;
    /// ```
    pub fn tls_connector(mut self, c: TlsConnector) -> Self {
        self.tls = Some(c);
        self
    }

    /// The session.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::builder().build();
    /// assert!(!session.is_closed());
    /// ```
    pub fn build(self) -> ClientSession {
        let tls = OnceCell::new();
        if let Some(connector) = self.tls {
            let _ = tls.set(connector);
        }
        ClientSession {
            inner: Rc::new(Inner {
                pool: Pool::new(self.limit, self.limit_per_host, self.keepalive),
                timeout: self.timeout,
                max_redirects: self.max_redirects,
                max_body_size: self.max_body_size,
                headers: self.headers,
                header_error: self.header_error,
                cookie_jar: self.cookie_jar,
                tls,
                closed: Cell::new(false),
            }),
        }
    }
}

impl fmt::Debug for ClientSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSessionBuilder")
            .field("limit", &self.limit)
            .field("limit_per_host", &self.limit_per_host)
            .field("keepalive_timeout", &self.keepalive)
            .field("timeout", &self.timeout)
            .field("max_redirects", &self.max_redirects)
            .field("max_body_size", &self.max_body_size)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn host_header_names_a_non_default_port() {
        let url = Url::parse("http://example.com:8080/x").unwrap();
        assert_eq!(host_header(&url).unwrap(), "example.com:8080");
        let url = Url::parse("https://example.com:443/x").unwrap();
        assert_eq!(host_header(&url).unwrap(), "example.com");
        let url = Url::parse("http://[::1]:81/").unwrap();
        assert_eq!(host_header(&url).unwrap(), "[::1]:81");
    }

    #[test]
    fn cookies_merge_into_one_header() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1"));
        merge_cookies(&mut headers, HeaderValue::from_static("b=2"));
        assert_eq!(headers[COOKIE], "a=1; b=2");
    }

    #[test]
    fn status_codes_used_are_redirects() {
        assert!(redirect::is_redirect(StatusCode::SEE_OTHER));
        assert!(!redirect::is_redirect(StatusCode::NOT_MODIFIED));
    }
}
