//! [`Server`]: the listener, the accept loop, one task per connection, and graceful shutdown.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::FutureExt;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use tulip::net::{TcpListener, TcpStream, TlsAcceptor, ToSocketAddrs};
use tulip::sync::{Event, Semaphore};

use super::h1::H1;
use super::request::{Request, RequestError, Source};
use super::response::{Body, IntoResponse, Response};
use super::router::{AnswerBox, Answering, Dispatch, Route, Router};
use super::watchdog::{HeadClock, Watchdog};
use super::{DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_SHUTDOWN_TIMEOUT};
use crate::rt::{TulipExecutor, TulipIo, TulipTimer};

/// How long the accept loop rests after an error that may last (out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A bound listener with its settings, ready to [`serve`](Server::serve) a [`Router`]:
/// aiohttp's `web.AppRunner` + `web.TCPSite`, uvicorn's `Server`.
///
/// # Examples
///
/// ```
/// use tulip_http::server::{Router, Server};
///
/// tulip::run(async {
///     let server = Server::bind("127.0.0.1:0").await.unwrap();
///     let addr = server.local_addr();
///     let handle = server.serve(Router::new().get("/", |_req| async { "hello" }));
///     assert_eq!(handle.local_addr(), addr);
///     handle.shutdown().await;
/// });
/// ```
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: Builder,
}

/// The settings of a [`Server`], then [`bind`](Builder::bind).
///
/// | setting | default | aiohttp / uvicorn |
/// |---|---|---|
/// | [`max_body_size`](Builder::max_body_size) | 1 MiB | `client_max_size` |
/// | [`keep_alive`](Builder::keep_alive) | on | `keepalive_timeout`, `timeout_keep_alive` |
/// | [`header_read_timeout`](Builder::header_read_timeout) | 30 s | — |
/// | [`max_connections`](Builder::max_connections) | unlimited | `limit_concurrency` |
/// | [`shutdown_timeout`](Builder::shutdown_timeout) | 60 s | `shutdown_timeout` |
/// | [`tls`](Builder::tls) | none | `ssl_context` |
/// | [`count_paths`](Builder::count_paths) | off | — |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip_http::server::{Router, Server};
///
/// tulip::run(async {
///     let server = Server::builder()
///         .max_body_size(64 * 1024)
///         .header_read_timeout(Duration::from_secs(5))
///         .max_connections(1000)
///         .bind("127.0.0.1:0")
///         .await
///         .unwrap();
///     server.serve(Router::new()).shutdown().await;
/// });
/// ```
#[derive(Clone)]
pub struct Builder {
    max_body_size: usize,
    keep_alive: bool,
    header_read_timeout: Option<Duration>,
    max_connections: usize,
    shutdown_timeout: Option<Duration>,
    tls: Option<TlsAcceptor>,
    count_paths: bool,
}

impl Builder {
    /// The largest request body a handler may read, in bytes (default 1 MiB, aiohttp's
    /// `client_max_size`). A request declaring a larger `Content-Length` is answered `413
    /// Payload Too Large` without running its handler; a chunked body that grows past it
    /// fails [`Request::body`] with a [`RequestError`] that answers `413` too.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip_http::server::Server::builder().max_body_size(10 << 20);
    /// # let _ = builder;
    /// ```
    pub fn max_body_size(mut self, bytes: usize) -> Builder {
        self.max_body_size = bytes;
        self
    }

    /// Whether a connection may carry more than one request (HTTP/1.1 keep-alive; default
    /// on). Off, every response says `Connection: close` and the server closes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip_http::server::Server::builder().keep_alive(false);
    /// # let _ = builder;
    /// ```
    pub fn keep_alive(mut self, on: bool) -> Builder {
        self.keep_alive = on;
        self
    }

    /// How long a client has to send a request's head (its request line and headers), from
    /// the moment the server is ready for it (default 30 s; `None` waits for ever). The
    /// server is ready for a head once the connection is accepted (over TLS: once the
    /// handshake is done), and again once it has handed over the previous response and
    /// written it; a connection whose head is not complete by the deadline is closed without
    /// an answer. So the timeout cuts off a client that sends a head too slowly (the clock
    /// does not restart with each byte) and bounds how long an idle keep-alive connection
    /// stays open. It does not cover the handler's run, the reading of a request's body, or
    /// the writing of a response to a slow reader. It bounds the TLS handshake as well.
    /// Measured on the loop's clock, so virtual on a test clock.
    ///
    /// On HTTP/1 the connection's task keeps it with one timer per connection, which is
    /// only looked at when it fires (hyper's `header_read_timeout` arms a timer for every
    /// request); HTTP/2 connections have the handshake timeout only.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tulip_http::server::Server::builder()
    ///     .header_read_timeout(Duration::from_secs(10));
    /// # let _ = builder;
    /// ```
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Builder {
        self.header_read_timeout = timeout.into();
        self
    }

    /// The most connections open at once (default 0, no limit). At the limit the server
    /// stops accepting until one closes; the kernel's backlog holds the callers meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip_http::server::Server::builder().max_connections(512);
    /// # let _ = builder;
    /// ```
    pub fn max_connections(mut self, max: usize) -> Builder {
        self.max_connections = max;
        self
    }

    /// How long [`ServerHandle::shutdown`] waits for requests in flight before closing their
    /// connections anyway (default 60 s, aiohttp's; `None` waits for ever).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tulip_http::server::Server::builder()
    ///     .shutdown_timeout(Duration::from_secs(5));
    /// # let _ = builder;
    /// ```
    pub fn shutdown_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Builder {
        self.shutdown_timeout = timeout.into();
        self
    }

    /// Serves HTTPS with `acceptor`. HTTP/2 is spoken when the client and the acceptor agree
    /// on it through ALPN (make the acceptor with [`TlsAcceptor::with_alpn`] offering `h2`),
    /// HTTP/1.1 otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::TlsAcceptor;
    /// use tulip_http::server::{Router, Server};
    ///
    /// let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    /// let acceptor = TlsAcceptor::with_alpn(
    ///     cert.cert.pem().as_bytes(),
    ///     cert.signing_key.serialize_pem().as_bytes(),
    ///     &[b"h2", b"http/1.1"],
    /// )
    /// .unwrap();
    /// tulip::run(async move {
    ///     let server = Server::builder().tls(acceptor).bind("127.0.0.1:0").await.unwrap();
    ///     server.serve(Router::new()).shutdown().await;
    /// });
    /// ```
    pub fn tls(mut self, acceptor: TlsAcceptor) -> Builder {
        self.tls = Some(acceptor);
        self
    }

    /// Counts the requests for each path, for [`ServerHandle::path_counts`] (default off:
    /// on a public server every path a client makes up would take memory). For test sites
    /// that check what a crawler or a client fetched.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::run(async {
    ///     let router = Router::new().get("/{page}", |_req| async { "a page" });
    ///     let server = Server::builder()
    ///         .count_paths(true)
    ///         .bind("127.0.0.1:0")
    ///         .await
    ///         .unwrap()
    ///         .serve(router);
    ///     let session = tulip_http::ClientSession::new();
    ///     for page in ["a", "b", "a"] {
    ///         let url = format!("http://{}/{page}", server.local_addr());
    ///         session.get(&url).send().await.unwrap().text().await.unwrap();
    ///     }
    ///     let counts = server.path_counts();
    ///     assert_eq!(counts.get("/a"), Some(&2));
    ///     assert_eq!(counts.get("/b"), Some(&1));
    ///     server.shutdown().await;
    /// });
    /// ```
    pub fn count_paths(mut self, on: bool) -> Builder {
        self.count_paths = on;
        self
    }

    /// Binds to `addr` (`"127.0.0.1:8000"`, `("0.0.0.0", 8000)`, a `SocketAddr`; port 0
    /// picks a free port) and listens.
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve or cannot be bound (in use, no permission); the message
    /// names the address.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip_http::server::Server::builder()
    ///         .bind(("127.0.0.1", 0))
    ///         .await
    ///         .unwrap();
    ///     assert!(server.local_addr().ip().is_loopback());
    /// });
    /// ```
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        self.from_listener(listener)
    }

    /// Serves on a listener bound elsewhere.
    ///
    /// # Errors
    ///
    /// When the listener's address cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let server = tulip_http::server::Server::builder().from_listener(listener).unwrap();
    ///     # let _ = server;
    /// });
    /// ```
    pub fn from_listener(self, listener: TcpListener) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            config: self,
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            keep_alive: true,
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            max_connections: 0,
            shutdown_timeout: Some(DEFAULT_SHUTDOWN_TIMEOUT),
            tls: None,
            count_paths: false,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_body_size", &self.max_body_size)
            .field("keep_alive", &self.keep_alive)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("tls", &self.tls.is_some())
            .field("count_paths", &self.count_paths)
            .finish()
    }
}

impl Server {
    /// Binds to `addr` with the default settings: see [`Builder::bind`].
    ///
    /// # Errors
    ///
    /// As [`Builder::bind`].
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip_http::server::Server::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(server.local_addr().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Builder::default().bind(addr).await
    }

    /// Settings other than the defaults.
    ///
    /// # Examples
    ///
    /// See [`Builder`].
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Serves on a listener bound elsewhere, with the default settings.
    ///
    /// # Errors
    ///
    /// When the listener's address cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let server = tulip_http::server::Server::from_listener(listener).unwrap();
    ///     # let _ = server;
    /// });
    /// ```
    pub fn from_listener(listener: TcpListener) -> io::Result<Server> {
        Builder::default().from_listener(listener)
    }

    /// The address the server listens on (with the port the system picked for port 0).
    ///
    /// # Examples
    ///
    /// See [`Server::bind`].
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts serving `router`: spawns the accept loop on the current loop and returns at
    /// once. Each connection is then served by a task of its own.
    ///
    /// The server runs until [`ServerHandle::shutdown`] (or until the loop closes: dropping
    /// the handle does not stop it).
    ///
    /// # Panics
    ///
    /// When called outside a tulip loop (it spawns a task).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::run(async {
    ///     let handle = Server::bind("127.0.0.1:0")
    ///         .await
    ///         .unwrap()
    ///         .serve(Router::new().get("/", |_req| async { "hi" }));
    ///     println!("serving on http://{}/", handle.local_addr());
    ///     handle.shutdown().await;
    /// });
    /// ```
    pub fn serve(self, router: Router) -> ServerHandle {
        let Server {
            listener,
            local_addr,
            config,
        } = self;
        let shared = Rc::new(Shared {
            local_addr,
            accepted: Cell::new(0),
            requests: Cell::new(0),
            active: Cell::new(0),
            limit: (config.max_connections > 0).then(|| Semaphore::new(config.max_connections)),
            shutdown: Event::new(),
            stopping: Cell::new(false),
            force: Event::new(),
            idle: Event::new(),
            accept_done: Event::new(),
            stopped: Event::new(),
            shutdown_timeout: config.shutdown_timeout,
            paths: config.count_paths.then(RefCell::default),
        });
        shared.idle.set();
        let mut http2 = http2::Builder::new(TulipExecutor);
        http2.timer(TulipTimer);
        let context = Rc::new(Context {
            router,
            shared: shared.clone(),
            keep_alive: config.keep_alive,
            http2,
            max_body_size: config.max_body_size,
            header_read_timeout: config.header_read_timeout,
            tls: config.tls,
        });
        tulip::task::Builder::new()
            .name(format!("tulip-http server {local_addr}"))
            .spawn(accept_loop(context, listener))
            .detach();
        ServerHandle { shared }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("config", &self.config)
            .finish()
    }
}

/// A running server: its address, its counters, and the way to stop it.
///
/// Clones share the one server, so a task can wait for it while another shuts it down.
///
/// # Examples
///
/// ```
/// use tulip_http::server::{Router, Server};
///
/// tulip::run(async {
///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
///     let waiter = handle.clone();
///     let waiting = tulip::spawn(async move { waiter.wait().await });
///     handle.shutdown().await;
///     waiting.await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct ServerHandle {
    shared: Rc<Shared>,
}

/// A server's counters at one moment: see [`ServerHandle::stats`].
///
/// # Examples
///
/// ```
/// use tulip_http::server::{Router, Server};
///
/// tulip::run(async {
///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
///     let stats = handle.stats();
///     assert_eq!(stats.connections_accepted, 0);
///     assert_eq!(stats.requests_served, 0);
///     handle.shutdown().await;
/// });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections accepted since the server started.
    pub connections_accepted: u64,
    /// Connections open now.
    pub connections_active: usize,
    /// Responses produced since the server started, the server's own (404, 405, 413)
    /// included.
    pub requests_served: u64,
}

impl ServerHandle {
    /// The address the server listens on.
    ///
    /// # Examples
    ///
    /// See [`Server::serve`].
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The counters now: connections accepted and open, requests served. A client that
    /// reuses its connections shows many requests on few connections.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::ClientSession;
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::run(async {
    ///     let handle = Server::bind("127.0.0.1:0")
    ///         .await
    ///         .unwrap()
    ///         .serve(Router::new().get("/", |_req| async { "hi" }));
    ///     let url = format!("http://{}/", handle.local_addr());
    ///     let session = ClientSession::new();
    ///     for _ in 0..3 {
    ///         session.get(&url).send().await.unwrap().text().await.unwrap();
    ///     }
    ///     let stats = handle.stats();
    ///     assert_eq!(stats.requests_served, 3);
    ///     assert_eq!(stats.connections_accepted, 1);
    ///     handle.shutdown().await;
    /// });
    /// ```
    pub fn stats(&self) -> ServerStats {
        ServerStats {
            connections_accepted: self.shared.accepted.get(),
            connections_active: self.shared.active.get(),
            requests_served: self.shared.requests.get(),
        }
    }

    /// How many requests each path has had (as sent, still percent-encoded; unknown paths
    /// included), when the server was built with [`count_paths`](Builder::count_paths);
    /// empty otherwise.
    ///
    /// # Examples
    ///
    /// See [`Builder::count_paths`].
    pub fn path_counts(&self) -> BTreeMap<String, u64> {
        self.shared
            .paths
            .as_ref()
            .map(|paths| paths.borrow().clone())
            .unwrap_or_default()
    }

    /// Whether [`shutdown`](ServerHandle::shutdown) has begun.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let handle = tulip_http::server::Server::bind("127.0.0.1:0")
    ///         .await
    ///         .unwrap()
    ///         .serve(tulip_http::server::Router::new());
    ///     assert!(!handle.is_shutting_down());
    ///     handle.clone().shutdown().await;
    ///     assert!(handle.is_shutting_down());
    /// });
    /// ```
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutdown.is_set()
    }

    /// Stops the server gracefully, as aiohttp's `runner.cleanup()`: stops accepting (the
    /// listening socket is closed, so new connections are refused), closes idle keep-alive
    /// connections, lets requests in flight finish and then closes their connections, and
    /// returns when every connection is closed. After the
    /// [`shutdown_timeout`](Builder::shutdown_timeout) the connections still open are closed
    /// anyway, their handlers dropped.
    ///
    /// Calling it from several clones is fine: each returns when the server has stopped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the shutdown, once begun, goes on without this future (another clone's
    /// [`wait`](ServerHandle::wait) sees it end); only the deadline that forces the
    /// remaining connections closed is lost with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::Runtime::builder().test_clock().build().unwrap().block_on(async {
    ///     let router = Router::new().get("/slow", |_req| async {
    ///         tulip::time::sleep(Duration::from_secs(5)).await;
    ///         "done"
    ///     });
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(router);
    ///     let url = format!("http://{}/slow", handle.local_addr());
    ///     let request = tulip::spawn(async move {
    ///         let session = tulip_http::ClientSession::new();
    ///         session.get(&url).send().await.unwrap().text().await.unwrap()
    ///     });
    ///     tulip::time::sleep(Duration::from_secs(1)).await; // the request is in flight
    ///     handle.shutdown().await;
    ///     assert_eq!(request.await.unwrap(), "done");
    /// });
    /// ```
    pub async fn shutdown(self) {
        let shared = &self.shared;
        shared.stopping.set(true);
        shared.shutdown.set();
        shared.accept_done.wait().await;
        let drained = match shared.shutdown_timeout {
            Some(limit) => tulip::time::wait_for(limit, shared.idle.wait())
                .await
                .is_ok(),
            None => {
                shared.idle.wait().await;
                true
            }
        };
        if !drained {
            tracing::warn!(
                "tulip-http server {}: closing {} connection(s) still busy after the {:?} shutdown timeout",
                shared.local_addr,
                shared.active.get(),
                shared.shutdown_timeout.unwrap_or_default(),
            );
            shared.force.set();
            shared.idle.wait().await;
        }
        shared.stopped.set();
    }

    /// Waits until the server has stopped: until a [`shutdown`](ServerHandle::shutdown),
    /// here or through a clone, has finished. With nobody to call `shutdown` it serves for
    /// ever, as aiohttp's `web.run_app` or uvicorn's `server.serve()`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only watches.
    ///
    /// # Examples
    ///
    /// Serve until Ctrl+C (here, a pretend one):
    ///
    /// ```
    /// use tulip_http::server::{Router, Server};
    ///
    /// tulip::run(async {
    ///     let handle = Server::bind("127.0.0.1:0").await.unwrap().serve(Router::new());
    ///     let stopper = handle.clone();
    ///     tulip::spawn(async move {
    ///         // tulip::signal::ctrl_c().await.unwrap();
    ///         stopper.shutdown().await;
    ///     })
    ///     .detach();
    ///     handle.wait().await;
    /// });
    /// ```
    pub async fn wait(&self) {
        self.shared.stopped.wait().await;
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.shared.local_addr)
            .field("stats", &self.stats())
            .field("shutting_down", &self.is_shutting_down())
            .finish()
    }
}

/// What the server's tasks share with its handles.
struct Shared {
    local_addr: SocketAddr,
    accepted: Cell<u64>,
    requests: Cell<u64>,
    active: Cell<usize>,
    /// `max_connections`: a permit per open connection, taken before accepting it. The
    /// accept loop waits here at the limit, so excess callers queue in the kernel's backlog
    /// instead of costing a task each.
    limit: Option<Semaphore>,
    /// Set by `shutdown`: stop accepting, close connections once idle.
    shutdown: Event,
    /// Set by `shutdown` with `shutdown`, for connections to look at on every wake-up
    /// instead of the event (which takes a lock).
    stopping: Cell<bool>,
    /// Set when the shutdown timeout runs out: close connections now.
    force: Event,
    /// Set while no connection is open.
    idle: Event,
    /// Set once the accept loop has ended and the listening socket is closed.
    accept_done: Event,
    /// Set once a shutdown has finished.
    stopped: Event,
    shutdown_timeout: Option<Duration>,
    /// Requests per path, when [`Builder::count_paths`] asked for them.
    paths: Option<RefCell<BTreeMap<String, u64>>>,
}

/// What every connection task of one server needs.
struct Context {
    router: Router,
    shared: Rc<Shared>,
    /// Whether HTTP/1 connections stay open between requests.
    keep_alive: bool,
    http2: http2::Builder<TulipExecutor>,
    max_body_size: usize,
    /// Bounds the TLS handshake, then each wait for a request's head on HTTP/1.
    header_read_timeout: Option<Duration>,
    tls: Option<TlsAcceptor>,
}

/// Marks the end of the accept loop however it ends (returning, or cancelled when the loop
/// closes); the listening socket is closed by then.
struct AcceptDone(Rc<Shared>);

impl Drop for AcceptDone {
    fn drop(&mut self) {
        self.0.accept_done.set();
    }
}

/// One open connection, counted from its accept to its task's end (however it ends).
struct OpenConnection {
    shared: Rc<Shared>,
}

impl OpenConnection {
    fn new(shared: Rc<Shared>) -> OpenConnection {
        shared.accepted.set(shared.accepted.get() + 1);
        shared.active.set(shared.active.get() + 1);
        shared.idle.clear();
        OpenConnection { shared }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.active.set(shared.active.get() - 1);
        if let Some(limit) = &shared.limit {
            limit.release();
        }
        if shared.active.get() == 0 {
            shared.idle.set();
        }
    }
}

async fn accept_loop(context: Rc<Context>, listener: TcpListener) {
    let shared = &context.shared;
    let _done = AcceptDone(shared.clone());
    // Moved in after `_done`, so it is dropped (the socket closed) before `_done` says so.
    let listener = listener;
    loop {
        if let Some(limit) = &shared.limit {
            let stopping = async {
                shared.shutdown.wait().await;
                true
            };
            let permit = async {
                limit.acquire().await.forget();
                false
            };
            if stopping.or(permit).await {
                return;
            }
        }
        let stopping = async {
            shared.shutdown.wait().await;
            None
        };
        let accepted = async { Some(listener.accept().await) };
        match stopping.or(accepted).await {
            None => {
                if let Some(limit) = &shared.limit {
                    limit.release();
                }
                return;
            }
            Some(Ok((stream, remote))) => {
                let open = OpenConnection::new(shared.clone());
                tulip::spawn(serve_connection(context.clone(), stream, remote, open)).detach();
            }
            Some(Err(err)) => {
                if let Some(limit) = &shared.limit {
                    limit.release();
                }
                if !accept_error_is_transient(&err) {
                    tracing::error!(
                        "tulip-http server {}: accept failed: {err}; retrying in {ACCEPT_ERROR_PAUSE:?}",
                        shared.local_addr
                    );
                    let stopping = async {
                        shared.shutdown.wait().await;
                    };
                    stopping.or(tulip::time::sleep(ACCEPT_ERROR_PAUSE)).await;
                }
            }
        }
    }
}

/// Errors that concern one caller only (it hung up before we accepted), not the listener.
fn accept_error_is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

async fn serve_connection(
    context: Rc<Context>,
    stream: TcpStream,
    remote: SocketAddr,
    _open: OpenConnection,
) {
    // Responses are written whole in one go; Nagle would only hold the last segment back.
    let _ = stream.set_nodelay(true);
    let head_clock = Rc::new(HeadClock::new(context.header_read_timeout));
    let state = Rc::new(Connection {
        context: context.clone(),
        remote,
        head_clock: head_clock.clone(),
        linger: Cell::new(false),
        spare: RefCell::new(None),
    });
    let service = Service {
        connection: state.clone(),
    };
    let shared = &context.shared;
    let Some(acceptor) = &context.tls else {
        let mut connection = H1::new(stream, state.clone());
        let served = drive(shared, remote, Some(&head_clock), |cx, begin_graceful| {
            connection.poll(cx, begin_graceful)
        })
        .await;
        if served && state.linger.get() {
            linger(connection.into_io()).await;
        }
        return;
    };
    let handshake = async {
        match context.header_read_timeout {
            Some(limit) => tulip::time::wait_for(limit, acceptor.accept(stream))
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the TLS handshake took too long",
                    ))
                }),
            None => acceptor.accept(stream).await,
        }
    };
    let stopping = async {
        shared.shutdown.wait().await;
        Err(io::Error::other("the server is shutting down"))
    };
    let tls = match stopping.or(handshake).await {
        Ok(tls) => tls,
        Err(err) => {
            tracing::debug!("tulip-http server: TLS with {remote} failed: {err}");
            return;
        }
    };
    if tls.alpn_protocol() == Some(b"h2") {
        let mut connection = pin!(context.http2.serve_connection(TulipIo::new(tls), service));
        drive(shared, remote, None, |cx, begin_graceful| {
            if begin_graceful {
                connection.as_mut().graceful_shutdown();
            }
            connection.as_mut().poll(cx)
        })
        .await;
    } else {
        head_clock.restart();
        let mut connection = H1::new(tls, state);
        let served = drive(shared, remote, Some(&head_clock), |cx, begin_graceful| {
            connection.poll(cx, begin_graceful)
        })
        .await;
        if served {
            // close_notify, so the client knows the response is whole.
            let mut tls = connection.into_io();
            let _ =
                tulip::time::wait_for(LINGER_IDLE, futures_lite::AsyncWriteExt::close(&mut tls))
                    .await;
        }
    }
}

/// How long a lingering close waits for more of a refused body, in all and between reads.
const LINGER_TOTAL: Duration = Duration::from_secs(10);
const LINGER_IDLE: Duration = Duration::from_secs(2);
/// How much of a refused body a lingering close reads away before giving up.
const LINGER_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Closes a connection whose last request body was refused (413) without a reset: shuts the
/// sending side (the 413 is already written), then reads and drops what the client is still
/// sending until it closes, pauses, or sends too much. Closing with unread data would make the
/// kernel send a reset, and a client still writing its body would get a broken pipe instead of
/// the 413 (nginx's `lingering_close` does the same).
async fn linger(stream: TcpStream) {
    use futures_lite::AsyncReadExt;

    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut stream = stream;
    let mut scratch = vec![0u8; 64 * 1024];
    let mut drained = 0u64;
    let deadline = tulip::time::Instant::now() + LINGER_TOTAL;
    while drained < LINGER_MAX_BYTES && tulip::time::Instant::now() < deadline {
        match tulip::time::wait_for(LINGER_IDLE, stream.read(&mut scratch)).await {
            Ok(Ok(n)) if n > 0 => drained += n as u64,
            _ => break,
        }
    }
}

/// Runs one connection (HTTP/1's own, or hyper's HTTP/2) to its end, starting its graceful
/// shutdown when the server's begins, dropping it if the shutdown timeout runs out, and
/// dropping it when `head_clock` (HTTP/1) says it waited too long for a request's head. `poll` polls the connection, first
/// starting its graceful shutdown when told to. True when the connection ended by itself
/// (served to the end, or failed), false when it was cut off.
async fn drive<E: fmt::Display>(
    shared: &Shared,
    remote: SocketAddr,
    head_clock: Option<&HeadClock>,
    mut poll: impl FnMut(&mut std::task::Context<'_>, bool) -> Poll<Result<(), E>>,
) -> bool {
    let mut shutdown = pin!(shared.shutdown.wait());
    let mut force = pin!(shared.force.wait());
    let mut closing = false;
    // The waker `shutdown` holds: until the server stops, it need not be polled again (it
    // takes a lock) while the connection is woken with the same one.
    let mut watching: Option<std::task::Waker> = None;
    let mut watchdog = head_clock
        .filter(|clock| clock.is_on())
        .map(|clock| (clock, Watchdog::new()));
    let ended = poll_fn(|cx| {
        // At most one of the events is polled at a time: this runs on every wake-up of the
        // connection, so it stays cheap.
        let mut begin_graceful = false;
        if closing {
            if force.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ended::ShutdownTimeout);
            }
        } else if shared.stopping.get()
            || !watching.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
        {
            if shutdown.as_mut().poll(cx).is_ready() {
                closing = true;
                begin_graceful = true;
                if force.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Ended::ShutdownTimeout);
                }
            } else {
                watching = Some(cx.waker().clone());
            }
        }
        if let Poll::Ready(ended) = poll(cx, begin_graceful) {
            return Poll::Ready(Ended::Served(ended));
        }
        // Looked at after the connection, which may just have completed a head.
        if let Some((clock, watchdog)) = &mut watchdog
            && watchdog.poll(clock, cx).is_ready()
        {
            return Poll::Ready(Ended::HeadTimeout);
        }
        Poll::Pending
    })
    .await;
    match ended {
        Ended::Served(Ok(())) => true,
        Ended::Served(Err(err)) => {
            tracing::debug!("tulip-http server: connection with {remote} ended: {err}");
            true
        }
        Ended::HeadTimeout => {
            tracing::debug!(
                "tulip-http server: closing the connection with {remote}: no request head within the header read timeout"
            );
            false
        }
        Ended::ShutdownTimeout => false,
    }
}

/// How [`drive`]'s connection ended.
enum Ended<E> {
    /// By itself: served to the end, or failed.
    Served(Result<(), E>),
    /// Cut off: no request head came within the header read timeout.
    HeadTimeout,
    /// Cut off: the server's shutdown timeout ran out.
    ShutdownTimeout,
}

/// hyper's view of the router, for one HTTP/2 connection.
struct Service {
    connection: Rc<Connection>,
}

/// What a connection's requests share.
pub(crate) struct Connection {
    context: Rc<Context>,
    remote: SocketAddr,
    /// What the header read timeout looks at: marked here when a head is in and when its
    /// response is handed over.
    pub(crate) head_clock: Rc<HeadClock>,
    /// Set when the connection is to close with bytes of the client's possibly unread (a
    /// `413`, a refused head, a body left unread): it then closes lingering (see `linger`).
    pub(crate) linger: Cell<bool>,
    /// The box of the last handler's answer, given back once the answer is ready,
    /// for the next request to the same handler (see [`Answering::restart`]).
    spare: RefCell<Option<(Route, AnswerBox)>>,
}

impl Connection {
    /// Whether the server keeps connections open between requests.
    pub(crate) fn keep_alive(&self) -> bool {
        self.context.keep_alive
    }

    /// The client's address.
    pub(crate) fn remote(&self) -> SocketAddr {
        self.remote
    }
}

/// One request's answer as the connection awaits it: the handler's boxed future, which goes
/// back to its connection when dropped, for the next request to reuse (see
/// [`Answering::restart`]): the box is allocated once per connection and handler, not per
/// request.
pub(crate) struct ServiceFuture {
    answer: Option<AnswerBox>,
    /// Where the box goes back to, and for which handler (none for the server's own answers).
    home: Option<(Rc<Connection>, Route)>,
}

impl Future for ServiceFuture {
    type Output = Result<http::Response<Body>, Infallible>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        match &mut self.answer {
            Some(answer) => answer.as_mut().poll(cx),
            None => unreachable!("the answer is only taken when the future is dropped"),
        }
    }
}

impl Drop for ServiceFuture {
    fn drop(&mut self) {
        if let (Some((connection, route)), Some(answer)) = (self.home.take(), self.answer.take())
            && answer.is_done()
            && let Ok(mut spare) = connection.spare.try_borrow_mut()
        {
            *spare = Some((route, answer));
        }
    }
}

/// The server's own answer (404, 405, 413), ready at once.
struct Ready(Option<http::Response<Body>>);

impl Future for Ready {
    type Output = Result<http::Response<Body>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        match self.0.take() {
            Some(response) => Poll::Ready(Ok(response)),
            None => panic!("a ready answer polled after it was given"),
        }
    }
}

impl Answering for Ready {
    fn is_done(&self) -> bool {
        self.0.is_none()
    }

    fn restart(self: Pin<&mut Self>, _request: Request, _finish: Finish) {
        unreachable!("the server's own answers are not kept for reuse")
    }
}

impl hyper::service::Service<http::Request<Incoming>> for Service {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, request: http::Request<Incoming>) -> ServiceFuture {
        let (parts, body) = request.into_parts();
        start(&self.connection, parts, Source::Incoming(body))
    }
}

/// Starts answering a request whose head is in: the router's handler (in the connection's
/// spare box when the last request went to the same handler), or the server's own answer.
#[inline]
pub(crate) fn start(
    connection: &Rc<Connection>,
    head: http::request::Parts,
    body: Source,
) -> ServiceFuture {
    connection.head_clock.head_read();
    let context = &connection.context;
    let is_head = head.method == Method::HEAD;
    if let Some(paths) = &context.shared.paths {
        *paths
            .borrow_mut()
            .entry(head.uri.path().to_owned())
            .or_default() += 1;
    }
    let response = match context.router.dispatch(&head.method, head.uri.path()) {
        Dispatch::NotFound => Response::not_found(),
        Dispatch::MethodNotAllowed(allow) => {
            let mut response = Response::error_text(StatusCode::METHOD_NOT_ALLOWED);
            response.headers_mut().insert(header::ALLOW, allow);
            response
        }
        Dispatch::Handler {
            handler,
            params,
            route,
        } => {
            if body.declared_length() > Some(context.max_body_size as u64) {
                // The declared length is over the limit: no need to run the handler to
                // know how this ends.
                RequestError::too_large(context.max_body_size).into_response()
            } else {
                let finish = Finish {
                    connection: connection.clone(),
                    is_head,
                    route,
                };
                // The `Request` is made right where the handler takes it, in each arm (a
                // named local first would be one more copy of it).
                let request = || {
                    Request::from_parts(
                        head,
                        body,
                        params,
                        connection.remote,
                        context.max_body_size,
                    )
                };
                let spare = connection.spare.borrow_mut().take();
                let answer = match spare {
                    Some((used_by, mut answer)) if used_by == route => {
                        answer.as_mut().restart(request(), finish);
                        answer
                    }
                    _ => handler.call(request(), finish),
                };
                return ServiceFuture {
                    answer: Some(answer),
                    home: Some((connection.clone(), route)),
                };
            }
        }
    };
    let mut response = response;
    finish(connection, &mut response, is_head);
    ServiceFuture {
        answer: Some(Box::pin(Ready(Some(response.into_hyper())))),
        home: None,
    }
}

/// What is left to do with a handler's response: passed to the router's handlers, which
/// call [`finish`](Finish::finish) on what they return (or on their panic).
pub(crate) struct Finish {
    connection: Rc<Connection>,
    is_head: bool,
    /// The handler, named in the log should it panic. (Not the URI: cloning, moving and
    /// dropping it cost 1 % of a small request; nor a clone of the method.)
    route: Route,
}

impl Finish {
    /// Readies what the handler answered for hyper, and counts it.
    #[inline(always)]
    pub(crate) fn answer(&self, response: &mut Response) {
        finish(&self.connection, response, self.is_head);
    }

    /// The `500` that stands for a handler's panic, which it logs with the handler's method
    /// and route.
    #[cold]
    pub(crate) fn panicked(&self) -> Response {
        tracing::error!(
            "tulip-http server: the handler for {} panicked (a request from {})",
            self.connection.context.router.handler_name(self.route),
            self.connection.remote,
        );
        Response::error_text(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// Counts the response and readies it for hyper, where it lies. (Always inlined, and on a
/// reference: as a call of its own taking the response by value it moved it once more.)
#[inline(always)]
fn finish(connection: &Connection, response: &mut Response, is_head: bool) {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        connection.linger.set(true);
    }
    connection.head_clock.answered();
    let shared = &connection.context.shared;
    shared.requests.set(shared.requests.get() + 1);
    for_hyper(response, is_head);
}

/// Readies a response for hyper. The body's length is the `Content-Length` (hyper writes
/// it), whatever the handler set; a `HEAD` response keeps the length and drops the body.
#[inline(always)]
fn for_hyper(response: &mut Response, is_head: bool) {
    let length = response.body().len();
    let status = response.status();
    let headers = response.headers_mut();
    // Looking is cheaper than removing what is not there (most responses have one header).
    let framing = headers
        .keys()
        .any(|name| name == header::TRANSFER_ENCODING || name == header::CONTENT_LENGTH);
    if framing {
        headers.remove(header::TRANSFER_ENCODING);
    }
    if !is_head {
        if framing {
            headers.remove(header::CONTENT_LENGTH);
        }
        return;
    }
    let has_length = !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED);
    if has_length && (length > 0 || !headers.contains_key(header::CONTENT_LENGTH)) {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    *response.body_mut() = Bytes::new();
}
