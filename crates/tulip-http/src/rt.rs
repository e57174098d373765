//! hyper's runtime traits, implemented on tulip: byte streams, an executor and a timer.
//!
//! hyper 1.x owns no sockets, spawns no tasks and reads no clock of its own: a connection is
//! driven over whatever implements [`hyper::rt::Read`] / [`hyper::rt::Write`], background work
//! (HTTP/2 streams) goes to a [`hyper::rt::Executor`], and timeouts to a [`hyper::rt::Timer`].
//! This module gives it tulip's: [`TulipIo`] wraps any futures-io stream (a
//! [`tulip::net::TcpStream`], a [`tulip::net::TlsStream`], a Unix stream), [`TulipExecutor`]
//! spawns on the current loop, and [`TulipTimer`] sleeps on the loop's clock — so on a test
//! clock hyper's timeouts are virtual too.
//!
//! asyncio has no counterpart: aiohttp carries its own HTTP parser on asyncio's transports.
//!
//! # Examples
//!
//! A raw HTTP/1.1 exchange with hyper's client connection API over a tulip socket:
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Empty};
//! use tulip_http::rt::TulipIo;
//! use tulip_http::server::{Router, Server};
//!
//! tulip::run(async {
//!     let server = Server::bind("127.0.0.1:0")
//!         .await
//!         .unwrap()
//!         .serve(Router::new().get("/", |_req| async { "hello" }));
//!     let addr = server.local_addr();
//!
//!     let stream = tulip::net::TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(TulipIo::new(stream))
//!         .await
//!         .unwrap();
//!     tulip::spawn(connection).detach();
//!     let request = http::Request::get(format!("http://{addr}/"))
//!         .body(Empty::<Bytes>::new())
//!         .unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(&body[..], b"hello");
//!     server.shutdown().await;
//! });
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

/// The largest read one `poll_read` makes into its stack buffer.
const READ_CHUNK: usize = 16 * 1024;

/// A futures-io byte stream (`AsyncRead + AsyncWrite`) seen through hyper's I/O traits.
///
/// # Examples
///
/// ```
/// use tulip_http::rt::TulipIo;
///
/// tulip::run(async {
///     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let stream = tulip::net::TcpStream::connect(listener.local_addr().unwrap())
///         .await
///         .unwrap();
///     let io = TulipIo::new(stream);
///     assert!(io.get_ref().peer_addr().is_ok());
///     let _stream = io.into_inner();
/// });
/// ```
#[derive(Debug)]
pub struct TulipIo<T> {
    inner: T,
}

impl<T> TulipIo<T> {
    /// Wraps a stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = tulip_http::rt::TulipIo::new(futures_lite::io::Cursor::new(Vec::<u8>::new()));
    /// # let _ = io;
    /// ```
    pub fn new(inner: T) -> TulipIo<T> {
        TulipIo { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = tulip_http::rt::TulipIo::new(futures_lite::io::Cursor::new(vec![1u8]));
    /// assert_eq!(io.get_ref().get_ref(), &vec![1u8]);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut io = tulip_http::rt::TulipIo::new(futures_lite::io::Cursor::new(vec![1u8]));
    /// io.get_mut().get_mut().push(2);
    /// assert_eq!(io.get_ref().get_ref(), &vec![1u8, 2]);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = tulip_http::rt::TulipIo::new(futures_lite::io::Cursor::new(vec![7u8]));
    /// assert_eq!(io.into_inner().into_inner(), vec![7u8]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for TulipIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // hyper hands over uninitialised memory, and filling it in place needs `unsafe`
        // (`ReadBufCursor::advance`). Reading into a buffer of this thread's, zeroed once, and
        // copying what was read keeps this module safe. (A stack buffer zeroed on every call
        // cost half the client's instructions per request.)
        let want = buf.remaining().min(READ_CHUNK);
        let inner = &mut self.get_mut().inner;
        let mut read_into =
            |scratch: &mut [u8]| match Pin::new(&mut *inner).poll_read(cx, &mut scratch[..want]) {
                Poll::Ready(Ok(n)) => {
                    buf.put_slice(&scratch[..n]);
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            };
        READ_SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => read_into(&mut scratch),
            // Only if the stream's own read runs another TulipIo's read on this thread.
            Err(_) => read_into(&mut vec![0u8; want]),
        })
    }
}

thread_local! {
    /// The buffer `TulipIo::poll_read` reads into before copying into hyper's. A read never
    /// re-enters another (it is one non-blocking syscall), so one per thread is enough.
    static READ_SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_CHUNK].into_boxed_slice());
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for TulipIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // tulip's sockets write a head and a body in one writev.
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// Runs hyper's background futures (HTTP/2 connection and stream tasks) as tulip tasks on the
/// current loop.
///
/// The futures need not be `Send`: they stay on the loop that spawned them.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// use tulip_http::rt::TulipExecutor;
///
/// tulip::run(async {
///     let (promise, answer) = tulip::sync::oneshot::channel();
///     TulipExecutor.execute(async move {
///         promise.set_result(42);
///     });
///     assert_eq!(answer.await.unwrap(), 42);
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TulipExecutor;

impl<F> hyper::rt::Executor<F> for TulipExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        tulip::spawn(future).detach();
    }
}

/// hyper's clock and sleeps, on the current loop's timers (virtual on a test clock).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer;
/// use tulip_http::rt::TulipTimer;
///
/// tulip::Runtime::builder().test_clock().build().unwrap().block_on(async {
///     let start = TulipTimer.now();
///     TulipTimer.sleep(Duration::from_secs(5)).await;
///     assert_eq!(TulipTimer.now() - start, Duration::from_secs(5));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TulipTimer;

impl hyper::rt::Timer for TulipTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            sleep: tulip::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: StdInstant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            sleep: tulip::time::sleep_until(tulip::time::Instant::from_std(deadline)),
        })
    }

    fn now(&self) -> StdInstant {
        tulip::time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: StdInstant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours
                .get_mut()
                .sleep
                .reset(tulip::time::Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A tulip sleep as hyper's `Sleep`.
struct HyperSleep {
    sleep: tulip::time::Sleep,
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().sleep).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}
