//! A small Redis client on the tulip event loop: what aioredis (now redis-py's
//! `redis.asyncio` client) is to asyncio.
//!
//! | redis-py asyncio / aioredis | tulip-redis |
//! |---|---|
//! | `redis.asyncio.from_url(url)` | [`Client::open`], [`Client::builder`] |
//! | `await r.execute_command("SET", "k", 5)` | [`client.query(&cmd!("SET", "k", 5))`](Client::query) |
//! | `async with r.pipeline(transaction=False) as p: ...; await p.execute()` | [`Client::pipeline`] |
//! | `r.register_script(lua)`, `await script(keys=..., args=...)` | [`Script`], [`Client::eval`] |
//! | `redis.exceptions.ResponseError`, `ConnectionError`, `TimeoutError` | [`Error`] with [`ErrorKind::Server`], [`Connect`](ErrorKind::Connect) / [`Io`](ErrorKind::Io), [`Timeout`](ErrorKind::Timeout) |
//! | `max_connections=`, `socket_connect_timeout=`, `socket_timeout=`, `retry=` | [`ClientBuilder`] |
//!
//! It speaks RESP2 over TCP (no TLS, no Unix sockets, no pub/sub), keeps a small pool of
//! connections, sends a pipeline in one write, and reconnects when the server goes away (read
//! [Reconnects](Client#reconnects) before relying on it). [`testing::RedisServer`] runs a
//! throwaway `redis-server` for tests.
//!
//! ```
//! use tulip_redis::{Client, ErrorKind, cmd, testing::RedisServer};
//!
//! let Some(server) = RedisServer::start().unwrap() else { return }; // no redis-server here
//! tulip::run(async move {
//!     let client = Client::open(&server.url()).await.unwrap();
//!     client.query(&cmd!("SET", "visits", 41)).await.unwrap();
//!     assert_eq!(client.query(&cmd!("INCR", "visits")).await.unwrap().as_int(), Some(42));
//!
//!     let replies = client.pipeline(&[cmd!("GET", "visits"), cmd!("HGET", "visits", "f")]).await.unwrap();
//!     assert_eq!(replies[0].as_int(), Some(42));
//!     assert!(matches!(replies[1], tulip_redis::Value::Error(_))); // WRONGTYPE
//!
//!     let err = client.query(&cmd!("HGET", "visits", "f")).await.unwrap_err();
//!     assert_eq!(err.kind(), ErrorKind::Server);
//!     assert_eq!(client.stats().round_trips, 4);
//! });
//! ```
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]

mod client;
mod cmd;
mod connection;
mod error;
mod script;
pub mod testing;
mod url;
mod value;

pub use client::{Client, ClientBuilder, ClientStats};
pub use cmd::{Arg, Cmd};
pub use error::{Error, ErrorKind};
pub use script::{Script, ScriptCall};
pub use value::Value;
