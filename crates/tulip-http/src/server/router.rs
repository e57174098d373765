//! [`Router`]: method + path pattern → handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use http::Method;
use http::header::HeaderValue;

use super::request::Request;
use super::response::{Body, IntoResponse, Response};
use super::serve::Finish;

/// A handler with its types erased: what the router stores. It runs the handler under
/// `catch_unwind` and hands its response to the [`Finish`], in a boxed [`Answering`].
pub(crate) type Handler = Rc<dyn Handle>;

/// What [`Handler`] erases. A trait of its own rather than `dyn Fn(Request, Finish)`: a call
/// through `dyn Fn` passes its arguments as one tuple, which the callee copied whole (the
/// 280-byte request with them) before it could use them.
pub(crate) trait Handle {
    /// Starts the handler on `request`, in a new box.
    fn call(&self, request: Request, finish: Finish) -> AnswerBox;
}

/// An [`Answering`] in its box.
pub(crate) type AnswerBox = Pin<Box<dyn Answering>>;

/// A request's answer in the making: the handler's future, boxed with the request inside it.
pub(crate) trait Answering:
    Future<Output = Result<http::Response<Body>, Infallible>>
{
    /// Whether the answer was given (and the handler's future dropped).
    fn is_done(&self) -> bool;

    /// Starts the same handler again on another request, in this box: a keep-alive
    /// connection whose requests go to one handler allocates no box per request. Only
    /// called on an answer that [is done](Answering::is_done).
    fn restart(self: Pin<&mut Self>, request: Request, finish: Finish);
}

/// A handler function with the [`Handle`] the router calls it through.
struct Erased<H>(Rc<H>);

impl<H, F, R> Handle for Erased<H>
where
    H: Fn(Request) -> F + 'static,
    F: Future<Output = R> + 'static,
    R: IntoResponse,
{
    fn call(&self, request: Request, finish: Finish) -> AnswerBox {
        Box::pin(Answer {
            future: Some((self.0)(request)),
            handler: self.0.clone(),
            finish: Some(finish),
        })
    }
}

/// Maps requests to handlers by method and path pattern: aiohttp's `web.RouteTableDef` /
/// `app.router.add_get`, FastAPI's `@app.get(...)`.
///
/// Patterns are [matchit]'s: `/users/{id}` captures one segment as `id`, `/static/{*path}`
/// captures the rest of the path; a static segment wins over a capture where both match. A
/// handler is any `Fn(Request) -> impl Future<Output = impl IntoResponse>`, an `async fn`
/// or a closure returning an `async` block; nothing needs to be `Send`, as everything runs on
/// the loop's thread.
///
/// What the server answers by itself:
/// - `404 Not Found` for a path no pattern matches (unless a [`fallback`](Router::fallback)
///   is set);
/// - `405 Method Not Allowed`, with an `Allow` header listing the methods that are routed,
///   for a matching path and a method without a handler;
/// - `HEAD` with the `GET` handler's status and headers and no body, where no `HEAD` handler
///   is routed.
///
/// # Examples
///
/// ```
/// use tulip_http::StatusCode;
/// use tulip_http::server::{Json, Request, Router};
///
/// async fn index(_req: Request) -> Json<serde_json::Value> {
///     Json(serde_json::json!({"msg": "ok"}))
/// }
///
/// let router = Router::new()
///     .get("/", index)
///     .get("/users/{id}", |req: Request| async move {
///         format!("user {}", req.param("id").unwrap_or_default())
///     })
///     .post("/users", |_req| async { StatusCode::CREATED })
///     .fallback(|req: Request| async move {
///         (StatusCode::NOT_FOUND, format!("nothing at {}", req.path()))
///     });
/// # let _ = router;
/// ```
pub struct Router {
    matcher: matchit::Router<usize>,
    /// The patterns without captures, with their index in `endpoints`, looked through before
    /// `matcher` while there are few (see [`Router::dispatch`]).
    exact: Vec<(Box<str>, usize)>,
    endpoints: Vec<Endpoint>,
    /// Pattern → index in `endpoints`, to add methods to a path routed before.
    by_pattern: HashMap<String, usize>,
    fallback: Option<Handler>,
}

struct Endpoint {
    pattern: String,
    methods: Vec<(Method, Handler)>,
}

/// Up to how many patterns without captures [`Router::dispatch`] compares a path with before
/// asking matchit; with more it asks matchit straight away.
const EXACT_SCAN_MAX: usize = 16;

/// Which handler a request went to: the index of its pattern and of its method in that
/// pattern's list (`None`: the fallback). Two small numbers instead of a clone of the
/// request's method, kept for the log line should the handler panic.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route(Option<(u32, u32)>);

/// Where a request goes.
pub(crate) enum Dispatch<'a> {
    /// To this handler, with these path parameters.
    Handler {
        handler: &'a Handler,
        params: Vec<(String, String)>,
        /// Which handler this is, for [`Router::handler_name`].
        route: Route,
    },
    /// No pattern matches the path.
    NotFound,
    /// The path matches, the method has no handler; the value lists those that do.
    MethodNotAllowed(HeaderValue),
}

impl Router {
    /// A router with no routes: every request gets `404 Not Found`.
    ///
    /// # Examples
    ///
    /// ```
    /// let router = tulip_http::server::Router::new();
    /// # let _ = router;
    /// ```
    pub fn new() -> Router {
        Router {
            matcher: matchit::Router::new(),
            exact: Vec::new(),
            endpoints: Vec::new(),
            by_pattern: HashMap::new(),
            fallback: None,
        }
    }

    /// Routes `method` requests for `path` to `handler`.
    ///
    /// # Panics
    ///
    /// When `path` is not a valid pattern (it must start with `/`; a capture is `{name}` or
    /// `{*name}`, the latter only at the end), conflicts with a pattern routed before (as
    /// `/{a}` and `/{b}` do), or has a handler for `method` already. These are mistakes in
    /// the program, found the first time it runs; [`try_route`](Router::try_route) returns
    /// them as a [`RouteError`] instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::Method;
    /// use tulip_http::server::Router;
    ///
    /// let router = Router::new().route(Method::OPTIONS, "/", |_req| async { "GET, OPTIONS" });
    /// # let _ = router;
    /// ```
    pub fn route<H, F, R>(self, method: Method, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        match self.try_route(method, path, handler) {
            Ok(router) => router,
            Err(err) => panic!("{err}"),
        }
    }

    /// Routes `method` requests for `path` to `handler`, or says why it cannot.
    ///
    /// # Errors
    ///
    /// A [`RouteError`] naming the pattern when it is invalid, conflicts with one routed
    /// before, or already has a handler for `method`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::Method;
    /// use tulip_http::server::Router;
    ///
    /// let router = Router::new().get("/{name}", |_req| async { "hi" });
    /// let err = router
    ///     .try_route(Method::GET, "/{other}", |_req| async { "hello" })
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("/{other}"));
    /// ```
    pub fn try_route<H, F, R>(
        mut self,
        method: Method,
        path: &str,
        handler: H,
    ) -> Result<Router, RouteError>
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        let index = match self.by_pattern.get(path) {
            Some(&index) => index,
            None => {
                let index = self.endpoints.len();
                self.matcher.insert(path, index).map_err(|err| RouteError {
                    pattern: path.to_owned(),
                    problem: err.to_string(),
                })?;
                self.endpoints.push(Endpoint {
                    pattern: path.to_owned(),
                    methods: Vec::new(),
                });
                self.by_pattern.insert(path.to_owned(), index);
                if !path.contains(['{', '}']) {
                    self.exact.push((path.into(), index));
                }
                index
            }
        };
        let endpoint = &mut self.endpoints[index];
        if endpoint.methods.iter().any(|(m, _)| *m == method) {
            return Err(RouteError {
                pattern: endpoint.pattern.clone(),
                problem: format!("it has a {method} handler already"),
            });
        }
        endpoint.methods.push((method, erase(handler)));
        Ok(self)
    }

    /// Routes `GET` (and so `HEAD`) requests for `path` to `handler`.
    ///
    /// # Panics
    ///
    /// As [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// let router = tulip_http::server::Router::new().get("/", |_req| async { "hello" });
    /// # let _ = router;
    /// ```
    pub fn get<H, F, R>(self, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.route(Method::GET, path, handler)
    }

    /// Routes `POST` requests for `path` to `handler`.
    ///
    /// # Panics
    ///
    /// As [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Request, Router};
    ///
    /// let router = Router::new().post("/echo", |req: Request| async move { req.body().await });
    /// # let _ = router;
    /// ```
    pub fn post<H, F, R>(self, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.route(Method::POST, path, handler)
    }

    /// Routes `PUT` requests for `path` to `handler`.
    ///
    /// # Panics
    ///
    /// As [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    ///
    /// let router = tulip_http::server::Router::new()
    ///     .put("/items/{id}", |_req| async { StatusCode::NO_CONTENT });
    /// # let _ = router;
    /// ```
    pub fn put<H, F, R>(self, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.route(Method::PUT, path, handler)
    }

    /// Routes `PATCH` requests for `path` to `handler`.
    ///
    /// # Panics
    ///
    /// As [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// let router = tulip_http::server::Router::new()
    ///     .patch("/items/{id}", |_req| async { "patched" });
    /// # let _ = router;
    /// ```
    pub fn patch<H, F, R>(self, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.route(Method::PATCH, path, handler)
    }

    /// Routes `DELETE` requests for `path` to `handler`.
    ///
    /// # Panics
    ///
    /// As [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    ///
    /// let router = tulip_http::server::Router::new()
    ///     .delete("/items/{id}", |_req| async { StatusCode::NO_CONTENT });
    /// # let _ = router;
    /// ```
    pub fn delete<H, F, R>(self, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.route(Method::DELETE, path, handler)
    }

    /// Routes `HEAD` requests for `path` to `handler`, in place of the `GET` handler's
    /// answer without its body. Whatever body it returns is not sent.
    ///
    /// # Panics
    ///
    /// As [`route`](Router::route).
    ///
    /// # Examples
    ///
    /// ```
    /// let router = tulip_http::server::Router::new()
    ///     .get("/big", |_req| async { vec![0u8; 1 << 20] })
    ///     .head("/big", |_req| async { [("content-length", "1048576")] });
    /// # let _ = router;
    /// ```
    pub fn head<H, F, R>(self, path: &str, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.route(Method::HEAD, path, handler)
    }

    /// Answers requests whose path no pattern matches with `handler` instead of `404 Not
    /// Found` (a path that matches with the wrong method still gets `405`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::StatusCode;
    /// use tulip_http::server::{Request, Router};
    ///
    /// let router = Router::new().fallback(|req: Request| async move {
    ///     (StatusCode::NOT_FOUND, format!("no page at {}", req.path()))
    /// });
    /// # let _ = router;
    /// ```
    pub fn fallback<H, F, R>(mut self, handler: H) -> Router
    where
        H: Fn(Request) -> F + 'static,
        F: Future<Output = R> + 'static,
        R: IntoResponse,
    {
        self.fallback = Some(erase(handler));
        self
    }

    /// The method and pattern of a handler [`dispatch`](Router::dispatch) found, as a log
    /// line names it.
    pub(crate) fn handler_name(&self, route: Route) -> String {
        match route.0 {
            Some((pattern, method)) => {
                let endpoint = &self.endpoints[pattern as usize];
                format!(
                    "{} {}",
                    endpoint.methods[method as usize].0, endpoint.pattern
                )
            }
            None => "the fallback".to_owned(),
        }
    }

    /// Where a `method` request for `path` goes.
    pub(crate) fn dispatch(&self, method: &Method, path: &str) -> Dispatch<'_> {
        // A path equal to a pattern without captures is that pattern's (matchit ranks a
        // static pattern first too); comparing it with a few such patterns costs a fraction
        // of a walk through matchit's tree, and makes no parameter list.
        if self.exact.len() <= EXACT_SCAN_MAX
            && let Some(&(_, pattern)) = self.exact.iter().find(|(p, _)| **p == *path)
        {
            return self.dispatch_to(pattern, method, Vec::new());
        }
        let Ok(found) = self.matcher.at(path) else {
            return match &self.fallback {
                Some(handler) => Dispatch::Handler {
                    handler,
                    params: Vec::new(),
                    route: Route(None),
                },
                None => Dispatch::NotFound,
            };
        };
        let params = if found.params.is_empty() {
            Vec::new()
        } else {
            found
                .params
                .iter()
                .map(|(name, value)| (name.to_owned(), percent_decode(value)))
                .collect()
        };
        self.dispatch_to(*found.value, method, params)
    }

    /// Where a `method` request for the pattern at `pattern` goes.
    #[inline]
    fn dispatch_to(
        &self,
        pattern: usize,
        method: &Method,
        params: Vec<(String, String)>,
    ) -> Dispatch<'_> {
        let endpoint = &self.endpoints[pattern];
        let index = endpoint.handler(method).or_else(|| {
            // HEAD is GET without the body; the server drops the body.
            (*method == Method::HEAD)
                .then(|| endpoint.handler(&Method::GET))
                .flatten()
        });
        match index {
            Some(index) => Dispatch::Handler {
                handler: &endpoint.methods[index].1,
                params,
                // Patterns and methods are far fewer than 2^32.
                route: Route(Some((pattern as u32, index as u32))),
            },
            None => Dispatch::MethodNotAllowed(endpoint.allow()),
        }
    }
}

impl Endpoint {
    /// The index of `method`'s handler in `methods`.
    fn handler(&self, method: &Method) -> Option<usize> {
        self.methods.iter().position(|(m, _)| m == method)
    }

    /// The `Allow` header: the routed methods, with `HEAD` where `GET` is routed.
    fn allow(&self) -> HeaderValue {
        let mut methods: Vec<&str> = self.methods.iter().map(|(m, _)| m.as_str()).collect();
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            methods.push("HEAD");
        }
        // Method names are tokens, so the list is always a valid header value.
        HeaderValue::from_str(&methods.join(", ")).unwrap_or(HeaderValue::from_static(""))
    }
}

impl Default for Router {
    fn default() -> Router {
        Router::new()
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes: Vec<String> = self
            .endpoints
            .iter()
            .flat_map(|e| {
                e.methods
                    .iter()
                    .map(move |(m, _)| format!("{m} {}", e.pattern))
            })
            .collect();
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

/// Boxes a handler's future and converts its output, so handlers of every type fit one table.
fn erase<H, F, R>(handler: H) -> Handler
where
    H: Fn(Request) -> F + 'static,
    F: Future<Output = R> + 'static,
    R: IntoResponse,
{
    Rc::new(Erased(Rc::new(handler)))
}

pin_project_lite::pin_project! {
    /// A handler's future run under `catch_unwind`, its response (or its panic) handed to the
    /// [`Finish`]. Written out rather than as an `async` block around futures-lite's
    /// `CatchUnwind`, whose layers each moved the handler's future once more on the first
    /// poll. It keeps the handler, to [restart](Answering::restart) in the same box.
    struct Answer<H, F> {
        #[pin]
        future: Option<F>,
        handler: Rc<H>,
        // Taken when the answer is ready.
        finish: Option<Finish>,
    }
}

impl<H, F> Future for Answer<H, F>
where
    F: Future,
    F::Output: IntoResponse,
{
    type Output = Result<http::Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let (Some(finish), Some(future)) =
            (this.finish.as_ref(), this.future.as_mut().as_pin_mut())
        else {
            panic!("a handler's answer polled after it was given");
        };
        // The response is left in `answer` rather than returned through `catch_unwind`'s
        // `Result` and matched out of it, then readied for hyper where it lies: each of those
        // steps moved the 144-byte response once more. A panic turning the value into a
        // response (a `Serialize` impl) is the handler's too.
        let mut answer = None;
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if let Poll::Ready(output) = future.poll(cx) {
                answer = Some(output.into_response());
            }
        }));
        if caught.is_err() {
            answer = Some(finish.panicked());
        }
        let Some(response) = &mut answer else {
            return Poll::Pending;
        };
        // The handler's future (and the request, if it kept it) goes now, not with the box.
        this.future.set(None);
        finish.answer(response);
        *this.finish = None;
        Poll::Ready(Ok(answer.map(Response::into_hyper).unwrap_or_default()))
    }
}

impl<H, F, R> Answering for Answer<H, F>
where
    H: Fn(Request) -> F,
    F: Future<Output = R>,
    R: IntoResponse,
{
    fn is_done(&self) -> bool {
        self.future.is_none()
    }

    fn restart(self: Pin<&mut Self>, request: Request, finish: Finish) {
        let mut this = self.project();
        this.future.set(Some((this.handler)(request)));
        *this.finish = Some(finish);
    }
}

/// `%xx` escapes decoded; a result that is not UTF-8 keeps U+FFFD for the bad bytes.
pub(crate) fn percent_decode(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A route that could not be added: an invalid pattern, one that conflicts with an earlier
/// one, or a method routed twice for one pattern.
///
/// # Examples
///
/// ```
/// use tulip_http::Method;
/// use tulip_http::server::Router;
///
/// let err = Router::new()
///     .try_route(Method::GET, "no-slash/{", |_req| async { "" })
///     .unwrap_err();
/// assert_eq!(err.pattern(), "no-slash/{");
/// ```
#[derive(Debug, Clone)]
pub struct RouteError {
    pattern: String,
    problem: String,
}

impl RouteError {
    /// The pattern that was refused.
    ///
    /// # Examples
    ///
    /// See [`RouteError`].
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot route {:?}: {}", self.pattern, self.problem)
    }
}

impl StdError for RouteError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }
}
