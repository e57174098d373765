//! [`RequestBuilder`]: one request being put together — aiohttp's keyword arguments to
//! `session.request(method, url, params=, headers=, json=, data=, timeout=, allow_redirects=,
//! max_redirects=)`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use super::session::ClientSession;
use super::timeout::ClientTimeout;
use crate::{Error, ErrorKind, Response, Result};

/// A request to send: made by [`ClientSession::get`] and its siblings, sent by
/// [`send`](RequestBuilder::send) or by awaiting it.
///
/// Mistakes (a header name that is not one, a body that does not serialise) do not panic: the
/// first is kept and [`send`](RequestBuilder::send) returns it as [`ErrorKind::Request`] (or
/// [`ErrorKind::InvalidUrl`] for the URL), naming the URL.
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
///     let url = canned("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n").await;
///     let session = ClientSession::new();
///     let response = session
///         .post(format!("{url}items"))
///         .query(&[("dry_run", "false")])
///         .header("X-Request-Id", "42")
///         .json(&serde_json::json!({"name": "tulip"}))
///         .await
///         .unwrap();
///     assert_eq!(response.status(), 201);
/// });
/// ```
#[must_use = "a request does nothing until sent or awaited"]
pub struct RequestBuilder {
    session: ClientSession,
    method: Method,
    /// The URL, or the text that failed to be one.
    url: std::result::Result<Url, String>,
    headers: HeaderMap,
    body: Option<Bytes>,
    /// The first mistake made while building.
    error: Option<Error>,
    timeout: Option<ClientTimeout>,
    max_redirects: Option<usize>,
    allow_redirects: bool,
    max_body_size: Option<u64>,
}

/// A request ready to go, as the session executes it.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) timeout: Option<ClientTimeout>,
    pub(crate) max_redirects: Option<usize>,
    pub(crate) allow_redirects: bool,
    pub(crate) max_body_size: Option<u64>,
}

/// `url` parsed, if it is an http(s) URL with a host.
fn parse_url(url: &str) -> Result<Url> {
    let parsed = Url::parse(url).map_err(|e| Error::with_source(ErrorKind::InvalidUrl, url, e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::with_source(
            ErrorKind::InvalidUrl,
            url,
            format!("the scheme `{}` is not http or https", parsed.scheme()),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::with_source(ErrorKind::InvalidUrl, url, "no host"));
    }
    Ok(parsed)
}

impl RequestBuilder {
    pub(crate) fn new(session: ClientSession, method: Method, url: &str) -> RequestBuilder {
        let (url, error) = match parse_url(url) {
            Ok(parsed) => (Ok(parsed), None),
            Err(err) => (Err(url.to_owned()), Some(err)),
        };
        RequestBuilder {
            session,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            error,
            timeout: None,
            max_redirects: None,
            allow_redirects: true,
            max_body_size: None,
        }
    }

    fn url_str(&self) -> &str {
        match &self.url {
            Ok(url) => url.as_str(),
            Err(raw) => raw,
        }
    }

    /// Keeps the first mistake.
    fn fail(mut self, why: String) -> Self {
        if self.error.is_none() {
            self.error = Some(Error::with_source(ErrorKind::Request, self.url_str(), why));
        }
        self
    }

    /// Adds query parameters (aiohttp's `params=`), URL-encoded from anything `serde`
    /// serialises as a sequence of pairs or a flat struct or map; appended to the query the
    /// URL already has.
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
    ///     let url = canned("HTTP/1.1 204 No Content\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new()
    ///         .get(format!("{url}?page=2"))
    ///         .query(&[("q", "a b"), ("lang", "en")])
    ///         .send()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(response.url().query(), Some("page=2&q=a+b&lang=en"));
    /// });
    /// ```
    pub fn query<T: serde::Serialize + ?Sized>(mut self, q: &T) -> Self {
        let encoded = match serde_urlencoded::to_string(q) {
            Ok(encoded) => encoded,
            Err(e) => return self.fail(format!("the query parameters do not encode: {e}")),
        };
        if let Ok(url) = &mut self.url {
            if !encoded.is_empty() {
                let joined = match url.query() {
                    Some(old) if !old.is_empty() => format!("{old}&{encoded}"),
                    _ => encoded,
                };
                url.set_query(Some(&joined));
            }
        }
        self
    }

    /// Adds a header (another value if the name is already there). Headers set here win over
    /// the session's default headers of the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let session = ClientSession::new();
    ///     let err = session
    ///         .get("http://127.0.0.1:1/")
    ///         .header("bad header name", "x")
    ///         .send()
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::Request);
    ///     assert!(err.to_string().contains("bad header name"));
    /// });
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name_ok = HeaderName::from_bytes(name.as_bytes());
        let value_ok = HeaderValue::from_str(value);
        match (name_ok, value_ok) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
                self
            }
            (Err(_), _) => self.fail(format!("`{name}` is not a valid header name")),
            (_, Err(_)) => self.fail(format!("the value of header `{name}` is not valid")),
        }
    }

    /// Sends `value` as JSON (aiohttp's `json=`), with `Content-Type: application/json`
    /// unless a content type was set.
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    ///     let body = serde_json::json!({"msg": "ok"});
    ///     let response = tulip_http::ClientSession::new().post(&url).json(&body).send().await;
    ///     assert!(response.is_ok());
    /// });
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.with_body(body.into(), "application/json"),
            Err(e) => self.fail(format!("the JSON body does not serialise: {e}")),
        }
    }

    /// Sends `value` as an HTML form (aiohttp's `data=` with a dict), URL-encoded, with
    /// `Content-Type: application/x-www-form-urlencoded` unless a content type was set.
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new()
    ///         .post(&url)
    ///         .form(&[("user", "ada"), ("lang", "en")])
    ///         .send()
    ///         .await;
    ///     assert!(response.is_ok());
    /// });
    /// ```
    pub fn form<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        match serde_urlencoded::to_string(value) {
            Ok(body) => self.with_body(body.into(), "application/x-www-form-urlencoded"),
            Err(e) => self.fail(format!("the form body does not encode: {e}")),
        }
    }

    fn with_body(mut self, body: Bytes, content_type: &'static str) -> Self {
        if !self.headers.contains_key(CONTENT_TYPE) {
            self.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        self.body = Some(body);
        self
    }

    /// Sends these bytes as the body (aiohttp's `data=` with bytes or str), as they are.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session
    ///     .put("http://127.0.0.1:8080/blob")
    ///     .header("Content-Type", "application/octet-stream")
    ///     .body(vec![0u8, 1, 2]);
    /// # drop(request);
    /// ```
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Timeouts for this request instead of the session's (aiohttp's `timeout=`): the given
    /// [`ClientTimeout`] replaces the session's whole.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_http::ClientTimeout;
    ///
    /// let session = tulip_http::ClientSession::new();
    /// let request = session
    ///     .get("http://127.0.0.1:8080/slow")
    ///     .timeout(ClientTimeout::new().total(Duration::from_secs(2)));
    /// # drop(request);
    /// ```
    pub fn timeout(mut self, timeout: ClientTimeout) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The most redirects this request follows (the session's, 10 by default, otherwise);
    /// one more fails with [`ErrorKind::TooManyRedirects`].
    ///
    /// # Examples
    ///
    /// ```
    /// let session = tulip_http::ClientSession::new();
    /// let request = session.get("http://127.0.0.1:8080/").max_redirects(3);
    /// # drop(request);
    /// ```
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = Some(n);
        self
    }

    /// Whether redirects are followed (yes by default). When not, a redirect is returned as
    /// the response.
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
    ///     let url = canned("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new()
    ///         .get(&url)
    ///         .allow_redirects(false)
    ///         .send()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(response.status(), 302);
    ///     assert_eq!(response.headers()["location"], "/elsewhere");
    /// });
    /// ```
    pub fn allow_redirects(mut self, on: bool) -> Self {
        self.allow_redirects = on;
        self
    }

    /// The largest body (after decoding) this response may have, instead of the session's;
    /// reading past it fails with [`ErrorKind::BodyTooLarge`].
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
    /// use tulip_http::ErrorKind;
    ///
    /// tulip::run(async {
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789").await;
    ///     let response = tulip_http::ClientSession::new()
    ///         .get(&url)
    ///         .max_body_size(4)
    ///         .send()
    ///         .await
    ///         .unwrap();
    ///     let err = response.bytes().await.unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::BodyTooLarge { limit: 4 });
    /// });
    /// ```
    pub fn max_body_size(mut self, limit: u64) -> Self {
        self.max_body_size = Some(limit);
        self
    }

    /// Sends the request and waits for the response's head, following redirects; the body is
    /// read from the [`Response`]. Awaiting the builder does the same.
    ///
    /// # Errors
    ///
    /// Any [`ErrorKind`]: the first mistake made while building, the URL's, the connection's
    /// ([`Dns`](ErrorKind::Dns), [`Connect`](ErrorKind::Connect), [`Tls`](ErrorKind::Tls)),
    /// a [`Timeout`](ErrorKind::Timeout), a broken response ([`Protocol`](ErrorKind::Protocol)),
    /// a redirect that may not be followed, or a [`Closed`](ErrorKind::Closed) session. Every
    /// error names the URL; the session stays usable.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the request: a connection it was using is closed (it may
    /// be half-way through an exchange), a slot it was waiting for goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{ClientSession, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let err = ClientSession::new().get("mailto:someone@example.com").send().await.unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::InvalidUrl);
    /// });
    /// ```
    pub async fn send(self) -> Result<Response> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let url = match self.url {
            Ok(url) => url,
            // Not reached: a URL that did not parse leaves its error behind.
            Err(raw) => return Err(Error::bare(ErrorKind::InvalidUrl, raw)),
        };
        let prepared = Prepared {
            method: self.method,
            url,
            headers: self.headers,
            body: self.body,
            timeout: self.timeout,
            max_redirects: self.max_redirects,
            allow_redirects: self.allow_redirects,
            max_body_size: self.max_body_size,
        };
        self.session.execute(prepared).await
    }
}

impl IntoFuture for RequestBuilder {
    type Output = Result<Response>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Response>>>>;

    /// The same as [`send`](RequestBuilder::send).
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("url", &self.url_str())
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .finish_non_exhaustive()
    }
}
