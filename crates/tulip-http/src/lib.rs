//! tulip-http: an aiohttp-style HTTP client session and a small HTTP server, on tulip's event
//! loop.
//!
//! The client is aiohttp's `ClientSession`: one [`ClientSession`] per program, shared by every
//! task, holding a pool of keep-alive connections (100 at most by default, like aiohttp's
//! `TCPConnector`), timeouts like `ClientTimeout`, redirects, content decoding and an optional
//! cookie jar. The server is the seed's test web service and the crawler's demo site: a
//! [`server::Router`] of handlers, served by [`server::Server`].
//!
//! The client's HTTP/1.1 and HTTP/2, and the server's HTTP/2, are [hyper]'s; tulip supplies its
//! sockets, tasks and timers through [`rt`]. The server's HTTP/1.1 is tulip-http's own (parsed
//! with `httparse`): through hyper a request cost as much as hyper on tokio spends, so the
//! server could only be level with it.
//!
//! | aiohttp | tulip-http |
//! |---|---|
//! | `aiohttp.ClientSession()` | [`ClientSession::new`], [`ClientSession::builder`] |
//! | `TCPConnector(limit=100, limit_per_host=0)` | [`ClientSessionBuilder::limit`], [`ClientSessionBuilder::limit_per_host`] |
//! | `ClientTimeout(total, connect, sock_connect, sock_read)` | [`ClientTimeout`] |
//! | `async with sess.get(url) as resp` | `let resp = sess.get(url).send().await?` |
//! | `resp.status`, `resp.reason`, `resp.headers`, `resp.url`, `resp.history` | [`Response`]'s methods |
//! | `await resp.text()`, `await resp.json()`, `await resp.read()` | [`Response::text`], [`Response::json`], [`Response::bytes`] |
//! | `resp.content.iter_chunked(n)` | [`Response::chunk`], [`Response::bytes_stream`] |
//! | `resp.raise_for_status()` | [`Response::raise_for_status`] |
//! | `aiohttp.ClientError` and its subclasses | [`Error`], [`ErrorKind`] |
//! | `aiohttp.web.Application`, `web.run_app` | [`server::Router`], [`server::Server`] |
//!
//! # Examples
//!
//! ```
//! use tulip_http::ClientSession;
//! use tulip_http::server::{Json, Router, Server};
//!
//! tulip::run(async {
//!     let router = Router::new().get("/", |_req| async { Json(serde_json::json!({"msg": "ok"})) });
//!     let server = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
//!     let url = format!("http://{}/", server.local_addr());
//!
//!     let session = ClientSession::new();
//!     let response = session.get(&url).send().await.unwrap();
//!     assert_eq!(response.status(), 200);
//!     let body: serde_json::Value = response.json().await.unwrap();
//!     assert_eq!(body["msg"], "ok");
//!
//!     server.shutdown().await;
//! });
//! ```

mod charset;
pub mod client;
pub mod cookie;
mod decode;
mod error;
pub mod rt;
pub mod server;

pub use client::{
    BytesStream, ClientSession, ClientSessionBuilder, ClientTimeout, PoolStats, Redirect,
    RequestBuilder, Response,
};
pub use cookie::CookieJar;
pub use error::{Error, ErrorKind, Result, TimeoutKind};

pub use bytes::Bytes;
pub use http;
pub use http::{HeaderMap, Method, StatusCode};
pub use url::Url;
