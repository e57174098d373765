//! [`Response`], aiohttp's `ClientResponse`: the status, headers and final URL of a request,
//! and its body — decoded, size-limited and timed — read whole or piece by piece.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Version};
use http_body::Body as _;
use hyper::body::Incoming;
use tulip::time::{Sleep, sleep_until};
use url::Url;

use super::connect::Lease;
use super::redirect::Redirect;
use super::timeout::Deadline;
use crate::decode::{ContentDecoder, DecodeError};
use crate::{Error, ErrorKind, Result, TimeoutKind};

/// The answer to a request: aiohttp's `ClientResponse`.
///
/// The head (status, headers) has arrived; the body is read by [`bytes`](Response::bytes),
/// [`text`](Response::text), [`json`](Response::json), [`chunk`](Response::chunk) or
/// [`bytes_stream`](Response::bytes_stream), decoded from its `Content-Encoding` (gzip,
/// deflate, brotli) and held to the `max_body_size` of the session or request.
///
/// Reading the body to its end gives an HTTP/1.1 connection back to the session's pool for
/// the next request; dropping the response before that closes the connection (aiohttp's
/// `release()` versus `close()`).
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
///     let url = canned("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello").await;
///     let session = ClientSession::new();
///     let response = session.get(&url).send().await.unwrap();
///     assert_eq!(response.status(), 200);
///     assert_eq!(response.headers()["content-type"], "text/plain");
///     assert_eq!(response.text().await.unwrap(), "hello");
/// });
/// ```
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    /// The reason phrase the server sent, when it is not the canonical one.
    reason: Option<Box<str>>,
    url: Url,
    history: Vec<Redirect>,
    body: Body,
}

/// How the body of a response is read.
pub(crate) struct BodyOptions {
    /// `max_body_size`, after decoding.
    pub(crate) limit: Option<u64>,
    /// The request's `total` deadline.
    pub(crate) total: Option<Deadline>,
    /// `sock_read`: the longest wait for the next piece.
    pub(crate) sock_read: Option<Duration>,
    /// A response to `HEAD` has no body, whatever its headers say.
    pub(crate) head: bool,
}

/// The body's state: where it comes from, how it is decoded, what bounds it.
struct Body {
    /// `None` once the body ended or failed.
    incoming: Option<Incoming>,
    lease: Option<Lease>,
    decoder: Option<ContentDecoder>,
    /// An unsupported `Content-Encoding`, reported by the first read.
    bad_encoding: Option<DecodeError>,
    /// Whether any encoded bytes arrived (an empty body is not a truncated stream).
    raw_seen: bool,
    limit: Option<u64>,
    delivered: u64,
    total: Option<Deadline>,
    sock_read: Option<Duration>,
    /// The running wait for the next piece, armed when a read starts waiting.
    timer: Option<(Sleep, Deadline)>,
    url: Url,
}

impl Response {
    pub(crate) fn new(
        head: http::response::Parts,
        incoming: Incoming,
        lease: Lease,
        url: Url,
        history: Vec<Redirect>,
        options: BodyOptions,
    ) -> Response {
        let status = head.status;
        let reason = head
            .extensions
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into());
        let bodiless = options.head
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        let (decoder, bad_encoding) = if bodiless {
            (None, None)
        } else {
            match ContentDecoder::from_headers(&head.headers) {
                Ok(decoder) => (decoder, None),
                Err(err) => (None, Some(err)),
            }
        };
        let mut body = Body {
            incoming: Some(incoming),
            lease: Some(lease),
            decoder,
            bad_encoding,
            raw_seen: false,
            limit: options.limit,
            delivered: 0,
            total: options.total,
            sock_read: options.sock_read,
            timer: None,
            url: url.clone(),
        };
        if bodiless || body.incoming.as_ref().is_some_and(|b| b.is_end_stream()) {
            body.end();
        }
        Response {
            status,
            version: head.version,
            headers: head.headers,
            reason,
            url,
            history,
            body,
        }
    }

    /// The status code (aiohttp's `resp.status`). [`StatusCode`] compares with integers.
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
    ///     let url = canned("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert_eq!(response.status(), 404);
    ///     assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
    /// });
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase (aiohttp's `resp.reason`): the one the server sent over HTTP/1.1
    /// when it is not the standard one, else the standard one for the status ("" for an
    /// unknown status).
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
    ///     let url = canned("HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert_eq!(response.reason(), "Fine Thanks");
    /// });
    /// ```
    pub fn reason(&self) -> &str {
        match &self.reason {
            Some(reason) => reason,
            None => self.status.canonical_reason().unwrap_or(""),
        }
    }

    /// The headers (aiohttp's `resp.headers`), looked up case-insensitively.
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nX-Answer: 42\r\nContent-Length: 0\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert_eq!(response.headers()["x-answer"], "42");
    /// });
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL this response came from: after redirects, the last one (aiohttp's
    /// `resp.url`).
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
    ///         .get(format!("{url}search"))
    ///         .query(&[("q", "tulip")])
    ///         .send()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(response.url().path(), "/search");
    ///     assert_eq!(response.url().query(), Some("q=tulip"));
    /// });
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redirects followed to get here, first to last (aiohttp's `resp.history`); empty
    /// when there were none.
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
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert!(response.history().is_empty());
    /// });
    /// ```
    pub fn history(&self) -> &[Redirect] {
        &self.history
    }

    /// The HTTP version the server answered with.
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
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert_eq!(response.version(), http::Version::HTTP_11);
    /// });
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }

    /// The whole body, decoded (aiohttp's `await resp.read()`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BodyTooLarge`] past `max_body_size`, [`ErrorKind::Decode`] for a body its
    /// `Content-Encoding` does not decode, [`ErrorKind::Protocol`] when the connection breaks
    /// mid-body, [`ErrorKind::Timeout`] for `total` or `sock_read`.
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\x01\x02\x03").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert_eq!(&response.bytes().await.unwrap()[..], &[1, 2, 3]);
    /// });
    /// ```
    pub async fn bytes(mut self) -> Result<Bytes> {
        let first = match self.chunk().await? {
            Some(first) => first,
            None => return Ok(Bytes::new()),
        };
        let Some(second) = self.chunk().await? else {
            // One piece: no copy.
            return Ok(first);
        };
        let mut all = Vec::with_capacity(first.len() + second.len());
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(more) = self.chunk().await? {
            all.extend_from_slice(&more);
        }
        Ok(Bytes::from(all))
    }

    /// The body as text (aiohttp's `await resp.text()`): in the charset the `Content-Type`
    /// names, else the one a byte-order mark or an HTML `<meta>` names, else UTF-8; bytes
    /// that do not decode become U+FFFD.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Response::bytes).
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\ntulip!").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     assert_eq!(response.text().await.unwrap(), "tulip!");
    /// });
    /// ```
    pub async fn text(self) -> Result<String> {
        let content_type = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = self.bytes().await?;
        Ok(crate::charset::decode_text(content_type.as_deref(), &body))
    }

    /// The body parsed as JSON into `T` (aiohttp's `await resp.json()`), whatever the
    /// `Content-Type`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Json`] when the body is not JSON of that shape; else as
    /// [`bytes`](Response::bytes).
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"msg\":\"ok\"}").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     let body: serde_json::Value = response.json().await.unwrap();
    ///     assert_eq!(body["msg"], "ok");
    /// });
    /// ```
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let url = self.url.clone();
        let body = self.bytes().await?;
        serde_json::from_slice(&body)
            .map_err(|e| Error::with_source(ErrorKind::Json, url.as_str(), e))
    }

    /// The next piece of the body, decoded; `None` at its end (aiohttp's
    /// `await resp.content.readany()`). Pieces are as they arrive, not of a fixed size.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Response::bytes). After an error the body is over: later calls return
    /// `Ok(None)`.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped before it completes, no piece is lost; the next
    /// call returns it.
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
    ///     let url = canned("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").await;
    ///     let mut response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     let mut body = Vec::new();
    ///     while let Some(piece) = response.chunk().await.unwrap() {
    ///         body.extend_from_slice(&piece);
    ///     }
    ///     assert_eq!(body, b"abcde");
    /// });
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        poll_fn(|cx| self.body.poll_chunk(cx)).await
    }

    /// The body as a [`Stream`](futures_core::Stream) of decoded pieces (aiohttp's
    /// `async for data in resp.content.iter_any()`).
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
    /// use futures_lite::StreamExt;
    ///
    /// tulip::run(async {
    ///     let url = canned("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     let mut stream = response.bytes_stream();
    ///     let mut total = 0;
    ///     while let Some(piece) = stream.next().await {
    ///         total += piece.unwrap().len();
    ///     }
    ///     assert_eq!(total, 4);
    /// });
    /// ```
    pub fn bytes_stream(self) -> BytesStream {
        BytesStream { response: self }
    }

    /// `Err` with [`ErrorKind::Status`] (status and URL) for a 4xx or 5xx response, else the
    /// response back (aiohttp's `resp.raise_for_status()`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Status`] for a client or server error status; the error's message names
    /// the status, its reason and the URL (and the server's own reason phrase when it is not
    /// the standard one).
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
    ///     let url = canned("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").await;
    ///     let response = tulip_http::ClientSession::new().get(&url).send().await.unwrap();
    ///     let err = response.raise_for_status().unwrap_err();
    ///     assert_eq!(err.kind(), &ErrorKind::Status { status: http::StatusCode::SERVICE_UNAVAILABLE });
    ///     assert!(err.to_string().contains("503 Service Unavailable"));
    /// });
    /// ```
    pub fn raise_for_status(self) -> Result<Response> {
        if !(self.status.is_client_error() || self.status.is_server_error()) {
            return Ok(self);
        }
        let kind = ErrorKind::Status {
            status: self.status,
        };
        Err(match &self.reason {
            Some(reason) if Some(&**reason) != self.status.canonical_reason() => {
                Error::with_source(
                    kind,
                    self.url.as_str(),
                    format!("the server said `{reason}`"),
                )
            }
            _ => Error::bare(kind, self.url.as_str()),
        })
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// A response's body as a stream of decoded pieces: made by [`Response::bytes_stream`].
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// async fn count(response: tulip_http::Response) -> tulip_http::Result<usize> {
///     let mut stream = response.bytes_stream();
///     let mut n = 0;
///     while let Some(piece) = stream.next().await {
///         n += piece?.len();
///     }
///     Ok(n)
/// }
/// # let _ = count;
/// ```
#[derive(Debug)]
pub struct BytesStream {
    response: Response,
}

impl BytesStream {
    /// The response the stream reads, for its status and headers.
    ///
    /// # Examples
    ///
    /// ```
    /// fn is_ok(stream: &tulip_http::client::BytesStream) -> bool {
    ///     stream.response().status().is_success()
    /// }
    /// # let _ = is_ok;
    /// ```
    pub fn response(&self) -> &Response {
        &self.response
    }
}

impl futures_core::Stream for BytesStream {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        match self.get_mut().response.body.poll_chunk(cx) {
            Poll::Ready(Ok(Some(piece))) => Poll::Ready(Some(Ok(piece))),
            Poll::Ready(Ok(None)) => Poll::Ready(None),
            Poll::Ready(Err(err)) => Poll::Ready(Some(Err(err))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Body {
    /// The body ended: the connection may serve the next request.
    fn end(&mut self) {
        self.incoming = None;
        self.timer = None;
        if let Some(mut lease) = self.lease.take() {
            lease.release();
        }
    }

    /// The body failed: the connection is in an unknown state and is closed.
    fn fail(&mut self, err: Error) -> Poll<Result<Option<Bytes>>> {
        self.incoming = None;
        self.timer = None;
        self.lease = None;
        self.decoder = None;
        Poll::Ready(Err(err))
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>> {
        loop {
            let Some(incoming) = self.incoming.as_mut() else {
                return Poll::Ready(Ok(None));
            };
            if let Some(err) = self.bad_encoding.take() {
                let err = self.decode_error(err);
                return self.fail(err);
            }
            match Pin::new(incoming).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    // Data arrived: the next wait is timed afresh.
                    self.timer = None;
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers
                    };
                    match self.take(&data) {
                        Ok(Some(piece)) => return Poll::Ready(Ok(Some(piece))),
                        Ok(None) => continue,
                        Err(err) => return self.fail(err),
                    }
                }
                Poll::Ready(Some(Err(err))) => {
                    let err = Error::with_source(ErrorKind::Protocol, self.url.as_str(), err);
                    return self.fail(err);
                }
                Poll::Ready(None) => {
                    let tail = match self.finish() {
                        Ok(tail) => tail,
                        Err(err) => return self.fail(err),
                    };
                    self.end();
                    return Poll::Ready(Ok(tail));
                }
                Poll::Pending => return self.poll_timer(cx),
            }
        }
    }

    /// Pending, unless the wait for this piece has run out of `sock_read` or `total`.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>> {
        if self.timer.is_none() {
            let read = Deadline::starting_now(TimeoutKind::SockRead, self.sock_read);
            if let Some(deadline) = Deadline::earliest(self.total, read) {
                self.timer = Some((sleep_until(deadline.at), deadline));
            }
        }
        let Some((sleep, deadline)) = self.timer.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => {
                let err = deadline.error(self.url.as_str());
                self.fail(err)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// What remains of `max_body_size`.
    fn room(&self) -> usize {
        match self.limit {
            Some(limit) => {
                usize::try_from(limit.saturating_sub(self.delivered)).unwrap_or(usize::MAX)
            }
            None => usize::MAX,
        }
    }

    /// One piece from the wire, decoded and counted; `None` when it decoded to nothing yet.
    fn take(&mut self, data: &Bytes) -> Result<Option<Bytes>> {
        if data.is_empty() {
            return Ok(None);
        }
        self.raw_seen = true;
        let room = self.room();
        let piece = match self.decoder.as_mut() {
            Some(decoder) => {
                let mut out = Vec::new();
                decoder
                    .decode(data, &mut out, room)
                    .map_err(|e| self.decode_error(e))?;
                Bytes::from(out)
            }
            None if data.len() > room => return Err(self.too_large()),
            None => data.clone(),
        };
        self.delivered += piece.len() as u64;
        Ok((!piece.is_empty()).then_some(piece))
    }

    /// The end of the wire body: what the decoder still holds.
    fn finish(&mut self) -> Result<Option<Bytes>> {
        let room = self.room();
        let Some(decoder) = self.decoder.as_mut().filter(|_| self.raw_seen) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        if let Err(e) = decoder.finish(&mut out, room) {
            return Err(self.decode_error(e));
        }
        self.delivered += out.len() as u64;
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }

    fn too_large(&self) -> Error {
        Error::bare(
            ErrorKind::BodyTooLarge {
                limit: self.limit.unwrap_or(u64::MAX),
            },
            self.url.as_str(),
        )
    }

    fn decode_error(&self, err: DecodeError) -> Error {
        let url = self.url.as_str();
        match err {
            DecodeError::TooLarge => self.too_large(),
            DecodeError::Unsupported(encoding) => Error::with_source(
                ErrorKind::Decode,
                url,
                format!("unsupported Content-Encoding `{encoding}`"),
            ),
            DecodeError::Corrupt(e) => Error::with_source(ErrorKind::Decode, url, e),
        }
    }
}
