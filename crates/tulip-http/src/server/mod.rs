//! A small HTTP server: a [`Router`] of async handlers, served by [`Server`] on the current
//! tulip loop — aiohttp's `aiohttp.web` (`Application`, `add_routes`, `run_app`), or FastAPI
//! on uvicorn, made small: enough for the seed's test web service (`web.py`) and the
//! crawler's demo site, not a framework.
//!
//! HTTP/1.1 with keep-alive and pipelining is the server's own (one task per connection,
//! requests parsed in place with `httparse`, each response written with one `write`);
//! HTTP/2 over TLS, when ALPN picks it, is [hyper]'s on tulip's sockets, tasks and timers
//! (see [`crate::rt`]). Everything runs on the loop's clock, so on a test clock a handler's
//! `sleep(1 s)` takes no real time.
//!
//! On HTTP/1.1 the server refuses what could smuggle a request (`400` for a head with both
//! `Transfer-Encoding` and `Content-Length`, differing lengths, or a transfer coding other
//! than `chunked` last) and heads over 64 KiB or 100 header lines (`431`), then closes the
//! connection. A body the handler leaves unread is skipped when at most 64 KiB of it remain;
//! otherwise the connection closes after the response. A body can be read until the handler
//! answers, not after (a task the handler spawned with its [`Request`] gets a
//! [`RequestError`] then).
//!
//! | aiohttp.web / FastAPI | tulip-http |
//! |---|---|
//! | `app.router.add_get(path, handler)`, `@app.get(path)` | [`Router::get`], [`Router::route`] |
//! | `request.match_info["id"]`, a path parameter | [`Request::param`] |
//! | `request.query["q"]`, a query parameter | [`Request::query_param`], [`Request::query`] |
//! | `await request.read()`, `.text()`, `.json()`, a body model | [`Request::body`], [`Request::text`], [`Request::json`] |
//! | `client_max_size`, `HTTPRequestEntityTooLarge` | [`Builder::max_body_size`], `413` from [`RequestError`] |
//! | `web.json_response(d)`, returning a `dict` | [`Json`], [`Response::json`] |
//! | `web.Response(text=...)`, `web.HTTPFound(location)` | [`Response::text`], [`Response::redirect`] |
//! | `web.run_app(app, host, port)` | [`Server::bind`] + [`Server::serve`] + [`ServerHandle::wait`] |
//! | `await runner.cleanup()`, graceful shutdown | [`ServerHandle::shutdown`] |
//!
//! # Examples
//!
//! The seed's test web service (`web.py`), and one request to it:
//!
//! ```
//! use std::time::Duration;
//! use tulip_http::server::{Json, Router, Server};
//!
//! tulip::Runtime::builder().test_clock().build().unwrap().block_on(async {
//!     let router = Router::new().get("/", |_req| async {
//!         tulip::time::sleep(Duration::from_secs(1)).await;
//!         Json(serde_json::json!({"msg": "ok"}))
//!     });
//!     let server = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
//!
//!     let url = format!("http://{}/", server.local_addr());
//!     let session = tulip_http::ClientSession::new();
//!     let body: serde_json::Value = session.get(&url).send().await.unwrap().json().await.unwrap();
//!     assert_eq!(body, serde_json::json!({"msg": "ok"}));
//!
//!     server.shutdown().await;
//! });
//! ```

use std::time::Duration;

mod h1;
mod request;
mod response;
mod router;
mod serve;
mod spare;
mod watchdog;

pub use request::{Request, RequestError};
pub use response::{Html, IntoResponse, Json, Response};
pub use router::{RouteError, Router};
pub use serve::{Builder, Server, ServerHandle, ServerStats};

/// The default of [`Builder::max_body_size`]: 1 MiB, as aiohttp's `client_max_size`.
///
/// # Examples
///
/// ```
/// use tulip_http::server::{DEFAULT_MAX_BODY_SIZE, Server};
///
/// // Four times the default, for uploads.
/// let builder = Server::builder().max_body_size(4 * DEFAULT_MAX_BODY_SIZE);
/// # let _ = builder;
/// ```
pub const DEFAULT_MAX_BODY_SIZE: usize = 1024 * 1024;

/// The default of [`Builder::header_read_timeout`]: 30 s, hyper's.
///
/// # Examples
///
/// ```
/// assert_eq!(tulip_http::server::DEFAULT_HEADER_READ_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default of [`Builder::shutdown_timeout`]: 60 s, as aiohttp's `shutdown_timeout`.
///
/// # Examples
///
/// ```
/// assert_eq!(tulip_http::server::DEFAULT_SHUTDOWN_TIMEOUT.as_secs(), 60);
/// ```
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);
