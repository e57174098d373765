//! What handlers return: [`Response`], and [`IntoResponse`] for the everyday types.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

// Header values made at compile time: `HeaderValue::from_static` checks every byte when it
// runs, which showed up as 3 % of a hello-world request.
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// An HTTP response: a status, headers and a body held whole in memory.
///
/// Handlers rarely build one by hand — they return a `&str`, a [`Json`], a status, or a tuple
/// of those (see [`IntoResponse`]) — but the constructors here cover the rest: [`text`],
/// [`html`], [`json`], [`redirect`], [`not_found`], and headers with [`with_header`].
///
/// `Content-Length` is always the body's length: the server sets it, whatever a handler put
/// there.
///
/// [`text`]: Response::text
/// [`html`]: Response::html
/// [`json`]: Response::json
/// [`redirect`]: Response::redirect
/// [`not_found`]: Response::not_found
/// [`with_header`]: Response::with_header
///
/// # Examples
///
/// ```
/// use tulip_http::StatusCode;
/// use tulip_http::server::Response;
///
/// let response = Response::text("created")
///     .with_status(StatusCode::CREATED)
///     .with_header("x-request-id", "42");
/// assert_eq!(response.status(), StatusCode::CREATED);
/// assert_eq!(response.headers()["x-request-id"], "42");
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// assert_eq!(&response.body()[..], b"created");
/// ```
#[derive(Clone)]
pub struct Response {
    inner: http::Response<Body>,
}

impl Response {
    /// An empty response with `status`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::new(StatusCode::NO_CONTENT);
    /// assert_eq!(response.status(), 204);
    /// assert!(response.body().is_empty());
    /// ```
    pub fn new(status: StatusCode) -> Response {
        let mut inner = http::Response::new(Body(Bytes::new()));
        *inner.status_mut() = status;
        *inner.headers_mut() = super::spare::take();
        Response { inner }
    }

    /// `200 OK` with `body` as `text/plain; charset=utf-8`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::text(format!("{} items", 3));
    /// assert_eq!(&response.body()[..], b"3 items");
    /// ```
    pub fn text(body: impl Into<String>) -> Response {
        Response::with_body(StatusCode::OK, TEXT_PLAIN, Bytes::from(body.into()))
    }

    /// `200 OK` with `body` as `text/html; charset=utf-8`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::html("<h1>hello</h1>");
    /// assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    /// ```
    pub fn html(body: impl Into<String>) -> Response {
        Response::with_body(StatusCode::OK, TEXT_HTML, Bytes::from(body.into()))
    }

    /// `200 OK` with `value` serialised as `application/json`.
    ///
    /// A value that does not serialise (a map with non-string keys, a `Serialize` impl that
    /// fails) gives a `500 Internal Server Error` whose text says why.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::json(&serde_json::json!({"msg": "ok"}));
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// assert_eq!(&response.body()[..], br#"{"msg":"ok"}"#);
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response::with_body(StatusCode::OK, APPLICATION_JSON, Bytes::from(body)),
            Err(err) => {
                Response::internal_error(format!("could not serialise the response as JSON: {err}"))
            }
        }
    }

    /// `200 OK` with `body` as `application/octet-stream`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::bytes(vec![0u8, 1, 2]);
    /// assert_eq!(response.headers()["content-type"], "application/octet-stream");
    /// assert_eq!(response.body().len(), 3);
    /// ```
    pub fn bytes(body: impl Into<Bytes>) -> Response {
        Response::with_body(StatusCode::OK, OCTET_STREAM, body.into())
    }

    /// A redirect to `location` with `status` (301, 302, 303, 307 or 308 — any status is
    /// accepted, as the caller knows best).
    ///
    /// A `location` that cannot be a header value (a control character such as a newline)
    /// gives a `500 Internal Server Error` naming it instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::redirect(StatusCode::FOUND, "/login");
    /// assert_eq!(response.status(), 302);
    /// assert_eq!(response.headers()["location"], "/login");
    /// ```
    pub fn redirect(status: StatusCode, location: &str) -> Response {
        match HeaderValue::from_str(location) {
            Ok(value) => {
                let mut response = Response::new(status);
                response.headers_mut().insert(header::LOCATION, value);
                response
            }
            Err(_) => Response::internal_error(format!(
                "redirect location {location:?} is not a valid header value"
            )),
        }
    }

    /// `404 Not Found` with the text `404 Not Found`: what the server answers for a path no
    /// route matches.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Response;
    ///
    /// assert_eq!(Response::not_found().status(), 404);
    /// ```
    pub fn not_found() -> Response {
        Response::error_text(StatusCode::NOT_FOUND)
    }

    /// A response with `status` whose text is the status itself (`413 Payload Too Large`).
    pub(crate) fn error_text(status: StatusCode) -> Response {
        let text = format!(
            "{} {}",
            status.as_str(),
            status.canonical_reason().unwrap_or("")
        );
        Response::with_body(status, TEXT_PLAIN, Bytes::from(text))
    }

    /// `500 Internal Server Error` with `message` as its text.
    pub(crate) fn internal_error(message: String) -> Response {
        Response::with_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            TEXT_PLAIN,
            Bytes::from(message),
        )
    }

    #[inline]
    fn with_body(status: StatusCode, content_type: HeaderValue, body: Bytes) -> Response {
        // Built in the value returned, not in a local moved into it at the end (a copy of
        // the whole response).
        let mut response = Response {
            inner: http::Response::new(Body(body)),
        };
        *response.inner.status_mut() = status;
        // A map a request gave back, with room: the insert allocates nothing.
        *response.inner.headers_mut() = super::spare::take();
        response
            .inner
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        response
    }

    /// The same response with another status.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::text("nope").with_status(StatusCode::FORBIDDEN);
    /// assert_eq!(response.status(), 403);
    /// ```
    pub fn with_status(mut self, status: StatusCode) -> Response {
        *self.inner.status_mut() = status;
        self
    }

    /// The same response with header `name` set to `value` (replacing any earlier value).
    ///
    /// A name or value that is not valid HTTP turns the response into a `500 Internal Server
    /// Error` naming the header, so a mistake shows at the first request rather than never.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::Response;
    ///
    /// let response = Response::text("hi").with_header("cache-control", "no-store");
    /// assert_eq!(response.headers()["cache-control"], "no-store");
    ///
    /// let broken = Response::text("hi").with_header("bad name", "x");
    /// assert_eq!(broken.status(), 500);
    /// ```
    pub fn with_header<K, V>(mut self, name: K, value: V) -> Response
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
        K: fmt::Debug + Clone,
    {
        let shown = name.clone();
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.inner.headers_mut().insert(name, value);
                self
            }
            _ => Response::internal_error(format!(
                "the handler set header {shown:?} to something that is not valid HTTP"
            )),
        }
    }

    /// The status.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_http::server::Response::text("x").status(), 200);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The status, to change it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    ///
    /// let mut response = tulip_http::server::Response::text("x");
    /// *response.status_mut() = StatusCode::ACCEPTED;
    /// assert_eq!(response.status(), 202);
    /// ```
    pub fn status_mut(&mut self) -> &mut StatusCode {
        self.inner.status_mut()
    }

    /// The headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = tulip_http::server::Response::json(&[1, 2]);
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The headers, to change them.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::http::HeaderValue;
    ///
    /// let mut response = tulip_http::server::Response::text("x");
    /// response.headers_mut().insert("x-one", HeaderValue::from_static("1"));
    /// assert_eq!(response.headers()["x-one"], "1");
    /// ```
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.inner.headers_mut()
    }

    /// The body.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(&tulip_http::server::Response::text("abc").body()[..], b"abc");
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.inner.body().0
    }

    /// The body, to replace it (the content type stays what it was).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut response = tulip_http::server::Response::text("abc");
    /// *response.body_mut() = "xyz".into();
    /// assert_eq!(&response.body()[..], b"xyz");
    /// ```
    pub fn body_mut(&mut self) -> &mut Bytes {
        &mut self.inner.body_mut().0
    }

    /// The `http` crate's response underneath.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = tulip_http::server::Response::text("abc").into_http();
    /// assert_eq!(response.body(), "abc");
    /// ```
    pub fn into_http(self) -> http::Response<Bytes> {
        self.inner.map(|body| body.0)
    }

    /// The response as hyper sends it: the same value, no conversion (a `map` into another
    /// body type moved the whole response once more).
    #[inline(always)]
    pub(crate) fn into_hyper(self) -> http::Response<Body> {
        self.inner
    }
}

/// A response's body as the server hands it to hyper: the bytes, sent in one frame.
/// (http-body-util's `Full` would do, but the response would have to be rebuilt around it.)
#[derive(Clone, Default)]
pub(crate) struct Body(pub(crate) Bytes);

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let bytes = std::mem::take(&mut self.get_mut().0);
        std::task::Poll::Ready((!bytes.is_empty()).then(|| Ok(http_body::Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0.len() as u64)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.inner.status())
            .field("headers", self.inner.headers())
            .field("body_len", &self.inner.body().0.len())
            .finish()
    }
}

impl Default for Response {
    /// `200 OK` with no body.
    fn default() -> Response {
        Response::new(StatusCode::OK)
    }
}

impl<B: Into<Bytes>> From<http::Response<B>> for Response {
    fn from(response: http::Response<B>) -> Response {
        Response {
            inner: response.map(|body| Body(body.into())),
        }
    }
}

/// Anything a handler may return: how it becomes a [`Response`].
///
/// | returned | response |
/// |---|---|
/// | `&'static str`, `String`, `Cow<'static, str>` | `200`, `text/plain; charset=utf-8` |
/// | [`Html`] | `200`, `text/html; charset=utf-8` |
/// | [`Json`] | `200`, `application/json` (`500` if it does not serialise) |
/// | `Bytes`, `Vec<u8>`, `&'static [u8]` | `200`, `application/octet-stream` |
/// | `StatusCode` | that status, empty body |
/// | `()` | `200`, empty body |
/// | `[(K, V); N]` (`K`, `V` header names and values, as `&str`) | `200`, empty body, those headers |
/// | `(StatusCode, R)` | `R` with that status |
/// | `([(K, V); N], R)`, `(StatusCode, [(K, V); N], R)`, `(StatusCode, HeaderMap, R)` | `R` with those headers added (and status) |
/// | `Option<R>` | `R`, or `404 Not Found` for `None` |
/// | `Result<R, E>` | `R` or `E`, both `IntoResponse` (so handlers can use `?`) |
/// | [`Response`], `http::Response<B>` (`B: Into<Bytes>`) | itself |
///
/// # Examples
///
/// ```
/// use tulip_http::StatusCode;
/// use tulip_http::server::{IntoResponse, Json};
///
/// let response = (StatusCode::CREATED, Json(vec![1, 2, 3])).into_response();
/// assert_eq!(response.status(), 201);
/// assert_eq!(&response.body()[..], b"[1,2,3]");
///
/// let response = ([("x-total", "3")], "three").into_response();
/// assert_eq!(response.headers()["x-total"], "3");
///
/// let missing: Option<&'static str> = None;
/// assert_eq!(missing.into_response().status(), 404);
/// ```
pub trait IntoResponse {
    /// The response.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::IntoResponse;
    ///
    /// assert_eq!("hello".into_response().status(), 200);
    /// ```
    fn into_response(self) -> Response;
}

/// A body serialised as JSON (`application/json`): return `Json(value)` from a handler.
///
/// # Examples
///
/// ```
/// use serde::Serialize;
/// use tulip_http::server::{IntoResponse, Json};
///
/// #[derive(Serialize)]
/// struct Msg {
///     msg: &'static str,
/// }
///
/// let response = Json(Msg { msg: "ok" }).into_response();
/// assert_eq!(&response.body()[..], br#"{"msg":"ok"}"#);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// A body of HTML (`text/html; charset=utf-8`): return `Html(page)` from a handler.
///
/// # Examples
///
/// ```
/// use tulip_http::server::{Html, IntoResponse};
///
/// let response = Html("<p>hi</p>").into_response();
/// assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Html<T>(pub T);

impl IntoResponse for Response {
    #[inline]
    fn into_response(self) -> Response {
        self
    }
}

impl<B: Into<Bytes>> IntoResponse for http::Response<B> {
    fn into_response(self) -> Response {
        Response::from(self)
    }
}

impl IntoResponse for &'static str {
    #[inline]
    fn into_response(self) -> Response {
        Response::with_body(
            StatusCode::OK,
            TEXT_PLAIN,
            Bytes::from_static(self.as_bytes()),
        )
    }
}

impl IntoResponse for String {
    #[inline]
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(text) => text.into_response(),
            Cow::Owned(text) => text.into_response(),
        }
    }
}

impl IntoResponse for Bytes {
    #[inline]
    fn into_response(self) -> Response {
        Response::bytes(self)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        Response::bytes(self)
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        Response::bytes(Bytes::from_static(self))
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(StatusCode::OK)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    #[inline]
    fn into_response(self) -> Response {
        Response::json(&self.0)
    }
}

impl<T: Into<String>> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        Response::html(self.0)
    }
}

impl<R: IntoResponse> IntoResponse for (StatusCode, R) {
    fn into_response(self) -> Response {
        self.1.into_response().with_status(self.0)
    }
}

impl<K, V, const N: usize> IntoResponse for [(K, V); N]
where
    K: TryInto<HeaderName> + fmt::Debug + Clone,
    V: TryInto<HeaderValue>,
{
    fn into_response(self) -> Response {
        (self, ()).into_response()
    }
}

impl<R, K, V, const N: usize> IntoResponse for ([(K, V); N], R)
where
    R: IntoResponse,
    K: TryInto<HeaderName> + fmt::Debug + Clone,
    V: TryInto<HeaderValue>,
{
    fn into_response(self) -> Response {
        let (headers, inner) = self;
        headers
            .into_iter()
            .fold(inner.into_response(), |response, (name, value)| {
                response.with_header(name, value)
            })
    }
}

impl<R, K, V, const N: usize> IntoResponse for (StatusCode, [(K, V); N], R)
where
    R: IntoResponse,
    K: TryInto<HeaderName> + fmt::Debug + Clone,
    V: TryInto<HeaderValue>,
{
    fn into_response(self) -> Response {
        let (status, headers, inner) = self;
        // Status first: a header that is not valid HTTP then still ends as the 500 naming it.
        (headers, (status, inner)).into_response()
    }
}

impl<R: IntoResponse> IntoResponse for (StatusCode, HeaderMap, R) {
    fn into_response(self) -> Response {
        let (status, headers, inner) = self;
        let mut response = inner.into_response().with_status(status);
        let mut last_name = None;
        for (name, value) in headers {
            // `HeaderMap`'s iterator names a header once, then gives its further values
            // with no name: they belong to the last one named.
            if let Some(name) = name {
                response.headers_mut().remove(&name);
                last_name = Some(name);
            }
            if let Some(name) = &last_name {
                response.headers_mut().append(name.clone(), value);
            }
        }
        response
    }
}

impl<R: IntoResponse> IntoResponse for Option<R> {
    fn into_response(self) -> Response {
        match self {
            Some(inner) => inner.into_response(),
            None => Response::not_found(),
        }
    }
}

impl<R: IntoResponse, E: IntoResponse> IntoResponse for Result<R, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(inner) => inner.into_response(),
            Err(err) => err.into_response(),
        }
    }
}
