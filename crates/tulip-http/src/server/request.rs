//! What handlers receive: [`Request`], and [`RequestError`] for a body or query that will not
//! do.

use std::cell::RefCell;
use std::error::Error as StdError;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use super::h1::WireBody;
use super::response::{IntoResponse, Response};

/// An HTTP request as a handler sees it: method, URI, headers, the route's path parameters,
/// the peer's address, and a body read on demand.
///
/// The body is read by the first of [`body`], [`text`] or [`json`] to be awaited, at most
/// the server's [`max_body_size`] bytes; later calls reuse what was read (aiohttp's
/// `await request.read()` does the same).
///
/// [`body`]: Request::body
/// [`text`]: Request::text
/// [`json`]: Request::json
/// [`max_body_size`]: super::Builder::max_body_size
///
/// # Examples
///
/// ```
/// use tulip_http::server::{Request, Router};
///
/// async fn show(req: Request) -> String {
///     let id = req.param("id").unwrap_or("?");
///     let verbose = req.query_param("verbose").is_some();
///     format!("{} {} user {id} verbose={verbose}", req.method(), req.path())
/// }
///
/// let router = Router::new().get("/users/{id}", show);
/// # let _ = router;
/// ```
pub struct Request {
    head: http::request::Parts,
    params: Vec<(String, String)>,
    remote_addr: SocketAddr,
    max_body_size: usize,
    body: RefCell<BodyState>,
}

enum BodyState {
    /// Not read yet.
    Unread(Source),
    /// Being read by a `body()` call that has not finished (or was dropped half-way).
    Taken,
    /// Read whole.
    Read(Bytes),
    /// Reading failed; later calls fail the same way.
    Failed(ErrorKind),
}

/// Where a request's body comes from.
pub(crate) enum Source {
    /// hyper's body of an HTTP/2 stream.
    Incoming(hyper::body::Incoming),
    /// The HTTP/1.1 connection's own reading.
    Wire(WireBody),
    /// Given whole (a request made by hand).
    Ready(Bytes),
}

impl Source {
    /// The `Content-Length` the request declared, if any.
    #[inline]
    pub(crate) fn declared_length(&self) -> Option<u64> {
        match self {
            Source::Incoming(body) => http_body::Body::size_hint(body).exact(),
            Source::Wire(body) => body.declared_length(),
            Source::Ready(bytes) => Some(bytes.len() as u64),
        }
    }
}

impl From<WireBody> for Source {
    fn from(body: WireBody) -> Source {
        Source::Wire(body)
    }
}

impl Request {
    /// A request from the server: the parsed head, its body, and the route's parameters
    /// (already percent-decoded).
    #[inline]
    pub(crate) fn from_parts(
        head: http::request::Parts,
        body: Source,
        params: Vec<(String, String)>,
        remote_addr: SocketAddr,
        max_body_size: usize,
    ) -> Request {
        Request {
            head,
            params,
            remote_addr,
            max_body_size,
            body: RefCell::new(BodyState::Unread(body)),
        }
    }

    /// A request made by hand, to call a handler without a server (in a unit test). It has
    /// no path parameters, its peer address is `0.0.0.0:0`, and its body limit is the
    /// server's default (1 MiB).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Request;
    ///
    /// let req = Request::from_http(
    ///     http::Request::post("/echo?x=1").body("hello").unwrap(),
    /// );
    /// assert_eq!(req.query_param("x").as_deref(), Some("1"));
    /// tulip::run(async move {
    ///     assert_eq!(req.text().await.unwrap(), "hello");
    /// });
    /// ```
    pub fn from_http<B: Into<Bytes>>(request: http::Request<B>) -> Request {
        let (head, body) = request.into_parts();
        Request {
            head,
            params: Vec::new(),
            remote_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            max_body_size: super::DEFAULT_MAX_BODY_SIZE,
            body: RefCell::new(BodyState::Unread(Source::Ready(body.into()))),
        }
    }

    /// The method.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(http::Request::new(""));
    /// assert_eq!(req.method(), tulip_http::Method::GET);
    /// ```
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The request target as sent: usually a path and query (`/search?q=tulip`).
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::get("/search?q=tulip").body("").unwrap(),
    /// );
    /// assert_eq!(req.uri().query(), Some("q=tulip"));
    /// ```
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// The path, still percent-encoded as sent (`/a%20b`).
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::get("/search?q=tulip").body("").unwrap(),
    /// );
    /// assert_eq!(req.path(), "/search");
    /// ```
    pub fn path(&self) -> &str {
        self.head.uri.path()
    }

    /// The HTTP version.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(http::Request::new(""));
    /// assert_eq!(req.version(), http::Version::HTTP_11);
    /// ```
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::get("/").header("user-agent", "curl").body("").unwrap(),
    /// );
    /// assert_eq!(req.headers()["user-agent"], "curl");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The value of header `name` if it is present and readable as text.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::get("/").header("accept", "text/html").body("").unwrap(),
    /// );
    /// assert_eq!(req.header("accept"), Some("text/html"));
    /// assert_eq!(req.header("cookie"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name)?.to_str().ok()
    }

    /// The value of the route's parameter `name` (`{id}` in `/users/{id}`), percent-decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Request, Router};
    ///
    /// let router = Router::new().get("/files/{*rest}", |req: Request| async move {
    ///     format!("file {}", req.param("rest").unwrap_or_default())
    /// });
    /// # let _ = router;
    /// ```
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every route parameter as `(name, value)`, in the order of the pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(http::Request::new(""));
    /// assert!(req.params().next().is_none());
    /// ```
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of query parameter `name`, decoded (`+` is a space, `%xx` a byte).
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::get("/search?q=async+io&page=2").body("").unwrap(),
    /// );
    /// assert_eq!(req.query_param("q").as_deref(), Some("async io"));
    /// assert_eq!(req.query_param("page").as_deref(), Some("2"));
    /// assert_eq!(req.query_param("missing"), None);
    /// ```
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.head.uri.query()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The query string deserialised into `T` (a struct with `#[derive(Deserialize)]`, a
    /// `HashMap<String, String>`, …).
    ///
    /// # Errors
    ///
    /// A [`RequestError`] (`400 Bad Request` when returned) saying which field did not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::get("/?a=1&b=two").body("").unwrap(),
    /// );
    /// let query: HashMap<String, String> = req.query().unwrap();
    /// assert_eq!(query["b"], "two");
    /// ```
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, RequestError> {
        let query = self.head.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query).map_err(|err| RequestError {
            kind: ErrorKind::Query,
            detail: Some(err.to_string()),
        })
    }

    /// The address of the peer (the client, or the proxy in front of it).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Request, Router};
    ///
    /// let router = Router::new().get("/ip", |req: Request| async move {
    ///     req.remote_addr().ip().to_string()
    /// });
    /// # let _ = router;
    /// ```
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The body, whole.
    ///
    /// # Errors
    ///
    /// A [`RequestError`] when the body is larger than the server's
    /// [`max_body_size`](super::Builder::max_body_size) (`413 Payload Too Large` when
    /// returned from the handler; reading stops at the limit, so an oversized body never
    /// sits in memory), or when the client broke off sending it (`400 Bad Request`).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped half-way, what was read is lost and every
    /// later call fails with a `RequestError` saying the body was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Request, RequestError, Router};
    ///
    /// let router = Router::new().post("/len", |req: Request| async move {
    ///     let body = req.body().await?;
    ///     Ok::<_, RequestError>(format!("{} bytes", body.len()))
    /// });
    /// # let _ = router;
    /// ```
    pub async fn body(&self) -> Result<Bytes, RequestError> {
        let state = std::mem::replace(&mut *self.body.borrow_mut(), BodyState::Taken);
        let (state, result) = match state {
            BodyState::Read(bytes) => (BodyState::Read(bytes.clone()), Ok(bytes)),
            BodyState::Failed(kind) => (BodyState::Failed(kind.clone()), Err(kind.into())),
            BodyState::Taken => (BodyState::Taken, Err(ErrorKind::Taken.into())),
            BodyState::Unread(source) => match read_body(source, self.max_body_size).await {
                Ok(bytes) => (BodyState::Read(bytes.clone()), Ok(bytes)),
                Err(err) => (BodyState::Failed(err.kind.clone()), Err(err)),
            },
        };
        *self.body.borrow_mut() = state;
        result
    }

    /// The body as text: decoded with the `charset` of `Content-Type`, UTF-8 without one.
    ///
    /// # Errors
    ///
    /// As [`body`](Request::body), and a [`RequestError`] (`400 Bad Request`) when the bytes
    /// are not valid text in that charset or the charset is unknown.
    ///
    /// # Cancel safety
    ///
    /// As [`body`](Request::body).
    ///
    /// # Examples
    ///
    /// ```
    /// let req = tulip_http::server::Request::from_http(
    ///     http::Request::post("/")
    ///         .header("content-type", "text/plain; charset=latin1")
    ///         .body(vec![b'c', b'a', b'f', 0xe9])
    ///         .unwrap(),
    /// );
    /// tulip::run(async move {
    ///     assert_eq!(req.text().await.unwrap(), "café");
    /// });
    /// ```
    pub async fn text(&self) -> Result<String, RequestError> {
        let body = self.body().await?;
        let encoding = match charset(&self.head.headers) {
            None => encoding_rs::UTF_8,
            Some(label) => {
                encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| RequestError {
                    kind: ErrorKind::Text,
                    detail: Some(format!("unknown charset {label:?}")),
                })?
            }
        };
        match encoding.decode_without_bom_handling_and_without_replacement(&body) {
            Some(text) => Ok(text.into_owned()),
            None => Err(RequestError {
                kind: ErrorKind::Text,
                detail: Some(format!("the body is not valid {}", encoding.name())),
            }),
        }
    }

    /// The body deserialised from JSON into `T`. The `Content-Type` is not checked
    /// (aiohttp's `await request.json()` does not check it either).
    ///
    /// # Errors
    ///
    /// As [`body`](Request::body), and a [`RequestError`] (`400 Bad Request` when returned)
    /// saying where the JSON went wrong.
    ///
    /// # Cancel safety
    ///
    /// As [`body`](Request::body).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::Deserialize;
    /// use tulip_http::server::{Json, Request, RequestError, Router};
    ///
    /// #[derive(Deserialize)]
    /// struct Add {
    ///     a: i64,
    ///     b: i64,
    /// }
    ///
    /// let router = Router::new().post("/add", |req: Request| async move {
    ///     let add: Add = req.json().await?;
    ///     Ok::<_, RequestError>(Json(add.a + add.b))
    /// });
    /// # let _ = router;
    /// ```
    pub async fn json<T: DeserializeOwned>(&self) -> Result<T, RequestError> {
        let body = self.body().await?;
        serde_json::from_slice(&body).map_err(|err| RequestError {
            kind: ErrorKind::Json,
            detail: Some(err.to_string()),
        })
    }
}

impl Drop for Request {
    /// Hands the request's header map on to the next response made on this thread (see
    /// `spare`): a request and its answer then allocate no header map.
    fn drop(&mut self) {
        super::spare::give(std::mem::take(&mut self.head.headers));
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.head.method)
            .field("uri", &self.head.uri)
            .field("version", &self.head.version)
            .field("headers", &self.head.headers)
            .field("params", &self.params)
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

/// The `charset` parameter of `Content-Type`, unquoted.
fn charset(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

async fn read_body(source: Source, limit: usize) -> Result<Bytes, RequestError> {
    if source
        .declared_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large(limit));
    }
    let mut body = match source {
        Source::Ready(bytes) => return Ok(bytes),
        body => body,
    };
    // One chunk is handed over as it came; only a body in several chunks is copied together.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(data) = next_data(&mut body).await {
        let data = data.map_err(|detail| RequestError {
            kind: ErrorKind::Read,
            detail: Some(detail),
        })?;
        let so_far = first.as_ref().map_or(0, Bytes::len) + joined.len();
        if so_far + data.len() > limit {
            return Err(too_large(limit));
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            None => joined.extend_from_slice(&data),
            Some(earlier) => {
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| joined.freeze()))
}

/// The next piece of a body's data (trailers are skipped); `None` at its end.
async fn next_data(body: &mut Source) -> Option<Result<Bytes, String>> {
    match body {
        Source::Incoming(body) => loop {
            match body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some(Ok(data)),
                    Err(_trailers) => continue,
                },
                Err(err) => return Some(Err(err.to_string())),
            }
        },
        Source::Wire(body) => std::future::poll_fn(|cx| body.poll_data(cx)).await,
        Source::Ready(bytes) => (!bytes.is_empty()).then(|| Ok(std::mem::take(bytes))),
    }
}

fn too_large(limit: usize) -> RequestError {
    RequestError::too_large(limit)
}

/// A request a handler cannot use: a body over the size limit, a body that is not the JSON
/// or text expected, a query that does not deserialise, a body the client broke off.
///
/// Returned from a handler (it is [`IntoResponse`], so `?` works in a handler returning
/// `Result<_, RequestError>`), it becomes its [`status`](RequestError::status) with its
/// message as the text: `413 Payload Too Large` for a body over the limit, `400 Bad Request`
/// otherwise.
///
/// # Examples
///
/// ```
/// use tulip_http::StatusCode;
/// use tulip_http::server::{IntoResponse, Request};
///
/// let req = Request::from_http(http::Request::post("/").body("{not json").unwrap());
/// tulip::run(async move {
///     let err = req.json::<serde_json::Value>().await.unwrap_err();
///     assert!(err.is_json());
///     assert_eq!(err.status(), StatusCode::BAD_REQUEST);
///     assert!(err.to_string().contains("not valid JSON"));
///     assert_eq!(err.into_response().status(), 400);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct RequestError {
    kind: ErrorKind,
    detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ErrorKind {
    TooLarge { limit: usize },
    Read,
    Json,
    Text,
    Query,
    Taken,
}

impl From<ErrorKind> for RequestError {
    fn from(kind: ErrorKind) -> RequestError {
        RequestError { kind, detail: None }
    }
}

impl RequestError {
    /// A body over `limit` bytes.
    pub(crate) fn too_large(limit: usize) -> RequestError {
        ErrorKind::TooLarge { limit }.into()
    }

    /// The status this error answers with: `413 Payload Too Large` for a body over the
    /// limit, `400 Bad Request` for the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Request;
    ///
    /// let req = Request::from_http(http::Request::get("/?page=x").body("").unwrap());
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Page {
    ///     #[allow(dead_code)]
    ///     page: u32,
    /// }
    /// let err = req.query::<Page>().unwrap_err();
    /// assert_eq!(err.status(), 400);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self.kind {
            ErrorKind::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the body was over the server's size limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Request;
    ///
    /// let big = vec![b'x'; 2 << 20]; // 2 MiB, over the default 1 MiB
    /// let req = Request::from_http(http::Request::post("/").body(big).unwrap());
    /// tulip::run(async move {
    ///     assert!(req.body().await.unwrap_err().is_too_large());
    /// });
    /// ```
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, ErrorKind::TooLarge { .. })
    }

    /// Whether the body was not the JSON asked for.
    ///
    /// # Examples
    ///
    /// See [`RequestError`].
    pub fn is_json(&self) -> bool {
        self.kind == ErrorKind::Json
    }

    /// Whether the query string did not deserialise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tulip_http::server::Request;
    ///
    /// let req = Request::from_http(http::Request::get("/?n=x").body("").unwrap());
    /// let err = req.query::<HashMap<String, u8>>().unwrap_err();
    /// assert!(err.is_query());
    /// ```
    pub fn is_query(&self) -> bool {
        self.kind == ErrorKind::Query
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::TooLarge { limit } => {
                write!(f, "the request body is over the limit of {limit} bytes")?
            }
            ErrorKind::Read => f.write_str("the request body could not be read")?,
            ErrorKind::Json => f.write_str("the request body is not valid JSON")?,
            ErrorKind::Text => f.write_str("the request body is not valid text")?,
            ErrorKind::Query => f.write_str("the query string does not fit")?,
            ErrorKind::Taken => {
                f.write_str("the request body was taken by an earlier read that did not finish")?
            }
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl StdError for RequestError {}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let mut response = Response::text(self.to_string()).with_status(self.status());
        if self.is_too_large() {
            // The rest of the body was never read, so the connection cannot carry another
            // request: say so rather than leave the client guessing.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
