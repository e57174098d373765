//! [`Server`], [`start_server`] and [`start_unix_server`]: accept connections and run a
//! handler task for each, asyncio's `start_server`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::connect::{tcp_streams, unix_streams};
use super::{StreamReader, StreamWriter};
use crate::net::ToSocketAddrs;
use crate::net::dns;
use crate::net::tcp::{OwnedReadHalf, OwnedWriteHalf, TcpListener};
use crate::net::unix::{UnixListener, UnixStream};
use crate::task::Task;

use pin_project_lite::pin_project;

/// How long accepting pauses after running out of descriptors or memory (asyncio's
/// `ACCEPT_RETRY_DELAY`), so a full process does not spin on a listener it cannot serve.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// A listening server that runs a handler task per connection: what asyncio's
/// `start_server` returns.
///
/// It starts accepting as soon as it is created. [`close`](Server::close) stops accepting
/// (the listening sockets close at once); connections already accepted keep their handler
/// running, and [`wait_closed`](Server::wait_closed) waits for those handlers to finish — a
/// graceful shutdown. Dropping the `Server` closes it the same way.
///
/// Each handler runs as its own task, so a handler that panics ends only its connection: the
/// loop's exception handler reports the panic ("Task exception was never retrieved") and the
/// server keeps serving.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let server = tulip::net::start_server(
///         |mut reader, mut writer| async move {
///             while let Ok(line) = reader.readline().await {
///                 if line.is_empty() {
///                     break; // end of stream
///                 }
///                 writer.write(&line.to_ascii_uppercase());
///                 if writer.drain().await.is_err() {
///                     break;
///                 }
///             }
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///
///     let (mut reader, mut writer) =
///         tulip::net::open_connection(server.local_addrs()[0]).await.unwrap();
///     writer.write(b"shout\n");
///     assert_eq!(reader.readline().await.unwrap(), b"SHOUT\n");
///     writer.close();
///
///     server.close();
///     server.wait_closed().await; // the handler saw end of stream and returned
/// });
/// ```
pub struct Server {
    inner: Rc<Inner>,
}

pub(super) struct Inner {
    pub(super) tcp: RefCell<Vec<TcpListener>>,
    unix: RefCell<Option<UnixListener>>,
    addrs: Vec<SocketAddr>,
    path: Option<PathBuf>,
    accept_tasks: RefCell<Vec<Task<()>>>,
    serving: Cell<bool>,
    /// Handlers still running.
    active: Cell<usize>,
    /// Tasks in `serve_forever` or `wait_closed`.
    waiters: RefCell<Vec<Waker>>,
}

impl Inner {
    fn wait(&self, cx: &mut Context<'_>) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
    }

    fn wake(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }
}

/// Counts a running handler; dropped with the handler's future, however it ended (returned,
/// panicked, cancelled).
struct Active(Rc<Inner>);

impl Active {
    fn new(inner: &Rc<Inner>) -> Active {
        inner.active.set(inner.active.get() + 1);
        Active(inner.clone())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        let left = self.0.active.get() - 1;
        self.0.active.set(left);
        if left == 0 && !self.0.serving.get() {
            self.0.wake();
        }
    }
}

/// Starts a TCP server on `addr`, running `handler(reader, writer)` as a new task for each
/// connection: asyncio's `start_server(client_connected_cb, host, port)`.
///
/// `addr` may resolve to several addresses (`("localhost", 8080)` gives `::1` and
/// `127.0.0.1`): the server listens on each, as asyncio does. Port 0 lets the system pick
/// (per address); [`Server::local_addrs`] says which. Listening sockets get `SO_REUSEADDR`;
/// connections get `TCP_NODELAY`. For other listener options (`SO_REUSEPORT`, backlog) bind a
/// [`TcpListener`] yourself and use [`start_server_on`].
///
/// The handler is not `Send`: its tasks stay on this loop, like everything in tulip.
///
/// # Errors
///
/// When `addr` does not resolve or an address cannot be bound (in use, no permission); the
/// message names the address. Listeners already bound are closed again.
///
/// # Examples
///
/// See [`Server`].
pub async fn start_server<H, F>(handler: H, addr: impl ToSocketAddrs) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    let handler = Rc::new(handler);
    bind_all(&addr, |inner, index| {
        spawn_accept_loop(accept_tcp(inner, index, handler.clone()))
    })
    .await
}

/// Binds every address `addr` resolves to (each once) and starts one accept loop per
/// listener, made by `accept_loop(inner, listener_index)`.
pub(super) async fn bind_all<L>(
    addr: &(impl ToSocketAddrs + ?Sized),
    accept_loop: L,
) -> io::Result<Server>
where
    L: Fn(Rc<Inner>, usize) -> Task<()>,
{
    let mut resolved = dns::resolve(addr).await?;
    let mut seen = Vec::with_capacity(resolved.len());
    resolved.retain(|one| {
        let fresh = !seen.contains(one);
        seen.push(*one);
        fresh
    });
    let mut listeners = Vec::with_capacity(resolved.len());
    for one in resolved {
        listeners.push(TcpListener::bind(one).await?);
    }
    serve_listeners(listeners, accept_loop)
}

/// Serves connections from `listener`, already bound (asyncio's `start_server(cb, sock=…)`):
/// for listener options `start_server` does not take.
///
/// # Errors
///
/// When the listener's address cannot be read (`getsockname`).
///
/// # Examples
///
/// ```
/// use tulip::net::TcpListener;
///
/// tulip::run(async {
///     let listener = TcpListener::builder().backlog(16).bind("127.0.0.1:0").await.unwrap();
///     let server = tulip::net::start_server_on(|_r, _w| async {}, listener).unwrap();
///     assert!(server.is_serving());
/// });
/// ```
pub fn start_server_on<H, F>(handler: H, listener: TcpListener) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    start_server_on_all(handler, vec![listener])
}

fn start_server_on_all<H, F>(handler: H, listeners: Vec<TcpListener>) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    let handler = Rc::new(handler);
    serve_listeners(listeners, |inner, index| {
        spawn_accept_loop(accept_tcp(inner, index, handler.clone()))
    })
}

fn serve_listeners<L>(listeners: Vec<TcpListener>, accept_loop: L) -> io::Result<Server>
where
    L: Fn(Rc<Inner>, usize) -> Task<()>,
{
    let addrs = listeners
        .iter()
        .map(TcpListener::local_addr)
        .collect::<io::Result<Vec<_>>>()?;
    let count = listeners.len();
    let inner = Rc::new(Inner::new(listeners, None, addrs, None));
    let tasks = (0..count)
        .map(|index| accept_loop(inner.clone(), index))
        .collect();
    *inner.accept_tasks.borrow_mut() = tasks;
    Ok(Server { inner })
}

/// Starts a server on the Unix socket `path`, running `handler(reader, writer)` as a new
/// task for each connection: asyncio's `start_unix_server(client_connected_cb, path)`.
///
/// A stale socket file left at `path` by an earlier run is removed first (only if it is a
/// socket), and [`Server::close`] removes the file again.
///
/// # Errors
///
/// When `path` cannot be bound: its directory does not exist, another file is there, no
/// permission; the message names the path.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let path = std::env::temp_dir().join(format!("tulip-srv-{}.sock", std::process::id()));
///     let server = tulip::net::start_unix_server(
///         |mut reader, mut writer| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line);
///         },
///         &path,
///     )
///     .await
///     .unwrap();
///     assert_eq!(server.local_path(), Some(path.as_path()));
///     let (mut reader, mut writer) = tulip::net::open_unix_connection(&path).await.unwrap();
///     writer.write(b"over unix\n");
///     assert_eq!(reader.readline().await.unwrap(), b"over unix\n");
///     server.close();
///     assert!(!path.exists());
/// });
/// ```
pub async fn start_unix_server<H, F>(handler: H, path: impl AsRef<Path>) -> io::Result<Server>
where
    H: Fn(StreamReader<OwnedReadHalf<UnixStream>>, StreamWriter<OwnedWriteHalf<UnixStream>>) -> F
        + 'static,
    F: Future<Output = ()> + 'static,
{
    let path = path.as_ref();
    remove_stale_socket(path);
    let listener = UnixListener::bind(path)?;
    let inner = Rc::new(Inner::new(
        Vec::new(),
        Some(listener),
        Vec::new(),
        Some(path.to_path_buf()),
    ));
    let task = spawn_accept_loop(accept_unix(inner.clone(), Rc::new(handler)));
    inner.accept_tasks.borrow_mut().push(task);
    Ok(Server { inner })
}

/// asyncio removes a socket file left behind before binding; anything else at `path` is left
/// alone so the bind reports it.
fn remove_stale_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub(super) fn spawn_accept_loop(future: impl Future<Output = ()> + 'static) -> Task<()> {
    crate::task::Builder::new()
        .name("Server accept")
        .spawn(future)
}

async fn accept_tcp<H, F>(inner: Rc<Inner>, index: usize, handler: Rc<H>)
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    loop {
        let accepted = poll_fn(|cx| match inner.tcp.borrow().get(index) {
            Some(listener) => listener.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((stream, _peer))) => {
                let (reader, writer) = tcp_streams(stream);
                spawn_connection(&inner, handler.clone(), reader, writer);
            }
            Some(Err(err)) => accept_failed(&inner, err).await,
        }
    }
}

async fn accept_unix<H, F>(inner: Rc<Inner>, handler: Rc<H>)
where
    H: Fn(StreamReader<OwnedReadHalf<UnixStream>>, StreamWriter<OwnedWriteHalf<UnixStream>>) -> F
        + 'static,
    F: Future<Output = ()> + 'static,
{
    loop {
        let accepted = poll_fn(|cx| match &*inner.unix.borrow() {
            Some(listener) => listener.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((stream, _peer))) => {
                let (reader, writer) = unix_streams(stream);
                spawn_connection(&inner, handler.clone(), reader, writer);
            }
            Some(Err(err)) => accept_failed(&inner, err).await,
        }
    }
}

/// One connection, one task. The handler is called inside the task (the future given here
/// calls it), so even a handler that panics before returning its future only ends that task.
pub(super) fn spawn_handler(inner: &Rc<Inner>, connection: impl Future<Output = ()> + 'static) {
    let active = Active::new(inner);
    crate::spawn(async move {
        let _active = active;
        connection.await;
    })
    .detach();
}

/// One connection, one task, for a handler given its streams as they are accepted: like
/// [`spawn_handler`] with `async move { handler(reader, writer).await }`, but the task holds
/// the streams or the handler's future, never both (an `async` block keeps its captures
/// beside the future they became: the c10k benchmark measured 2,141 B per connection that way,
/// 1,777 B this way).
fn spawn_connection<H, R, W, F>(inner: &Rc<Inner>, handler: Rc<H>, reader: R, writer: W)
where
    H: Fn(R, W) -> F + 'static,
    R: 'static,
    W: 'static,
    F: Future<Output = ()> + 'static,
{
    let task = ConnectionTask {
        connection: Connection::Accepted {
            handler,
            streams: Some((reader, writer)),
        },
        _active: Active::new(inner),
    };
    crate::spawn(task).detach();
}

pin_project! {
    struct ConnectionTask<H, R, W, F> {
        #[pin]
        connection: Connection<H, R, W, F>,
        _active: Active,
    }
}

pin_project! {
    #[project = ConnectionProj]
    enum Connection<H, R, W, F> {
        // The handler is called on the task's first poll, inside the task, so a handler that
        // panics before returning its future only ends that task.
        Accepted { handler: Rc<H>, streams: Option<(R, W)> },
        Serving { #[pin] future: F },
    }
}

impl<H, R, W, F> Future for ConnectionTask<H, R, W, F>
where
    H: Fn(R, W) -> F,
    F: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut connection = self.project().connection;
        if let ConnectionProj::Accepted { handler, streams } = connection.as_mut().project() {
            let Some((reader, writer)) = streams.take() else {
                return Poll::Ready(());
            };
            let future = handler(reader, writer);
            connection.set(Connection::Serving { future });
        }
        match connection.project() {
            ConnectionProj::Serving { future } => future.poll(cx),
            ConnectionProj::Accepted { .. } => Poll::Ready(()),
        }
    }
}

/// asyncio's policy: a connection aborted before it was accepted is nobody's business; out of
/// descriptors or memory, log and pause accepting a moment; anything else, log and go on.
pub(super) async fn accept_failed(inner: &Inner, err: io::Error) {
    if err.kind() == io::ErrorKind::ConnectionAborted {
        return;
    }
    let name = inner.describe();
    let exhausted = matches!(
        err.raw_os_error(),
        Some(libc_errno::EMFILE | libc_errno::ENFILE | libc_errno::ENOBUFS | libc_errno::ENOMEM)
    );
    if exhausted {
        crate::log::error(&format!(
            "server on {name}: accept failed ({err}); pausing accepts for {} s",
            ACCEPT_RETRY_DELAY.as_secs()
        ));
        crate::time::sleep(ACCEPT_RETRY_DELAY).await;
    } else {
        crate::log::error(&format!("server on {name}: accept failed ({err})"));
    }
}

/// The errno values the accept policy looks at (Linux and the BSDs agree on them).
mod libc_errno {
    pub(super) const ENOMEM: i32 = 12;
    pub(super) const ENFILE: i32 = 23;
    pub(super) const EMFILE: i32 = 24;
    #[cfg(target_os = "linux")]
    pub(super) const ENOBUFS: i32 = 105;
    #[cfg(not(target_os = "linux"))]
    pub(super) const ENOBUFS: i32 = 55;
}

impl Inner {
    fn new(
        tcp: Vec<TcpListener>,
        unix: Option<UnixListener>,
        addrs: Vec<SocketAddr>,
        path: Option<PathBuf>,
    ) -> Inner {
        Inner {
            tcp: RefCell::new(tcp),
            unix: RefCell::new(unix),
            addrs,
            path,
            accept_tasks: RefCell::new(Vec::new()),
            serving: Cell::new(true),
            active: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
        }
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => self
                .addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl Server {
    /// The addresses the server listens on (for a TCP server; empty for a Unix one): asyncio's
    /// `[s.getsockname() for s in server.sockets]`.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    ///     let addr = server.local_addrs()[0];
    ///     assert!(addr.ip().is_loopback());
    ///     assert_ne!(addr.port(), 0);
    /// });
    /// ```
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.inner.addrs
    }

    /// The socket path of a Unix server; `None` for a TCP one.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    ///     assert_eq!(server.local_path(), None);
    /// });
    /// ```
    pub fn local_path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// True until [`close`](Server::close): asyncio's `is_serving()`.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    ///     assert!(server.is_serving());
    ///     server.close();
    ///     assert!(!server.is_serving());
    /// });
    /// ```
    pub fn is_serving(&self) -> bool {
        self.inner.serving.get()
    }

    /// How many connection handlers are running now.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    ///     assert_eq!(server.active_connections(), 0);
    /// });
    /// ```
    pub fn active_connections(&self) -> usize {
        self.inner.active.get()
    }

    /// Waits until the server is closed (by [`close`](Server::close), from another task):
    /// asyncio's `serve_forever()`. The server accepts from the moment it was created; this
    /// only keeps the caller here.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future leaves the server serving.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// tulip::run(async {
    ///     let server = Rc::new(
    ///         tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap(),
    ///     );
    ///     let closer = server.clone();
    ///     tulip::spawn(async move { closer.close() }).detach();
    ///     server.serve_forever().await; // returns once the task above closed it
    /// });
    /// ```
    pub async fn serve_forever(&self) {
        poll_fn(|cx| {
            if !self.inner.serving.get() {
                return Poll::Ready(());
            }
            self.inner.wait(cx);
            Poll::Pending
        })
        .await;
    }

    /// Stops accepting: the listening sockets are closed now (new connection attempts are
    /// refused) and a Unix server's socket file is removed. Handlers already running go on;
    /// [`wait_closed`](Server::wait_closed) waits for them. asyncio's `close()`. Calling it
    /// again does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await.unwrap();
    ///     let addr = server.local_addrs()[0];
    ///     server.close();
    ///     assert!(tulip::net::open_connection(addr).await.is_err());
    /// });
    /// ```
    pub fn close(&self) {
        let inner = &self.inner;
        if !inner.serving.replace(false) {
            return;
        }
        let tcp = std::mem::take(&mut *inner.tcp.borrow_mut());
        let unix = inner.unix.borrow_mut().take();
        drop(tcp);
        drop(unix);
        if let Some(path) = &inner.path {
            let _ = std::fs::remove_file(path);
        }
        for task in inner.accept_tasks.borrow_mut().drain(..) {
            task.cancel();
        }
        inner.wake();
    }

    /// Waits until the server is closed and every connection handler has finished: the
    /// second half of a graceful shutdown. asyncio's `wait_closed()`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            if !self.inner.serving.get() && self.inner.active.get() == 0 {
                return Poll::Ready(());
            }
            self.inner.wait(cx);
            Poll::Pending
        })
        .await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listening_on", &self.inner.describe())
            .field("serving", &self.inner.serving.get())
            .field("active", &self.inner.active.get())
            .finish()
    }
}
