//! The HTTP client: [`ClientSession`], the counterpart of aiohttp's `ClientSession`.
//!
//! A session keeps a pool of connections keyed by (scheme, host, port) — aiohttp's
//! `TCPConnector`: idle HTTP/1.1 connections are reused most-recent-first and closed after
//! `keepalive_timeout`; `limit` and `limit_per_host` bound the connections in use, requests
//! over them wait their turn; an https server that picks HTTP/2 through ALPN gets one
//! connection shared by all requests. Requests are built with [`RequestBuilder`], follow
//! redirects, and answer with a [`Response`] whose body is decoded (gzip, deflate, brotli)
//! and bounded by `max_body_size`. [`ClientTimeout`] is aiohttp's `ClientTimeout`.
//!
//! HTTP framing is hyper's (`hyper::client::conn`); sockets, tasks and timers are tulip's.
//!
//! # Examples
//!
//! ```
//! # async fn canned(reply: &'static str) -> String {
//! #     use futures_lite::{AsyncReadExt, AsyncWriteExt};
//! #     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! #     let url = format!("http://{}/", listener.local_addr().unwrap());
//! #     tulip::spawn(async move { loop {
//! #         let (mut s, _) = listener.accept().await.unwrap();
//! #         tulip::spawn(async move { let mut b = [0u8; 4096];
//! #             while let Ok(n) = s.read(&mut b).await { if n == 0 { break }
//! #                 s.write_all(reply.as_bytes()).await.unwrap(); } }).detach();
//! #     } }).detach();
//! #     url
//! # }
//! use std::time::Duration;
//! use tulip_http::{ClientSession, ClientTimeout};
//!
//! tulip::run(async {
//!     let url = canned("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"msg\":\"ok\"}").await;
//!     let session = ClientSession::builder()
//!         .limit_per_host(4)
//!         .timeout(ClientTimeout::new().total(Duration::from_secs(10)))
//!         .build();
//!     let body: serde_json::Value = session.get(&url).send().await.unwrap().json().await.unwrap();
//!     assert_eq!(body["msg"], "ok");
//!     session.close().await;
//! });
//! ```

mod connect;
mod pool;
mod redirect;
mod request;
mod response;
mod session;
mod timeout;

pub use pool::PoolStats;
pub use redirect::Redirect;
pub use request::RequestBuilder;
pub use response::{BytesStream, Response};
pub use session::{ClientSession, ClientSessionBuilder};
pub use timeout::ClientTimeout;
