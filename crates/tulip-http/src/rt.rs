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
use std::task::{Context, Poll, Waker};
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
            deadline: None,
            timer: Armed {
                sleep: tulip::time::sleep(duration),
                waker: None,
            },
        })
    }

    fn sleep_until(&self, deadline: StdInstant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let deadline = tulip::time::Instant::from_std(deadline);
        let timer = SPARE_SLEEPS
            .with(|spare| spare.borrow_mut().pop())
            .map(|mut timer| {
                // One due no later stays armed: it fires early at worst, and is then moved.
                if timer.sleep.deadline() > deadline {
                    timer.reset(deadline);
                }
                timer
            })
            .unwrap_or_else(|| Armed {
                sleep: tulip::time::sleep_until(deadline),
                waker: None,
            });
        Box::pin(HyperSleep {
            deadline: Some(deadline),
            timer,
        })
    }

    fn now(&self) -> StdInstant {
        tulip::time::Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: StdInstant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => {
                let ours = ours.get_mut();
                let deadline = tulip::time::Instant::from_std(new_deadline);
                ours.deadline = Some(deadline);
                if ours.timer.sleep.deadline() > deadline {
                    ours.timer.reset(deadline);
                }
            }
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The most spare sleeps a thread keeps (see `SPARE_SLEEPS`).
const MAX_SPARE_SLEEPS: usize = 256;

thread_local! {
    /// Sleeps that hyper dropped, still armed, for its next `sleep_until`. hyper's HTTP/1
    /// server makes a new header read timeout for every request and drops it as soon as the
    /// headers are in, almost always long before it is due: handing its timer on costs a look
    /// at the timer instead of arming one and disarming it again (and a read of the clock).
    /// A spare keeps its timer — and the waker of the task that last polled it — until it is
    /// due or taken again; a timer that comes due in the meantime wakes that task once for
    /// nothing, which a task must tolerate anyway.
    static SPARE_SLEEPS: RefCell<Vec<Armed>> = const { RefCell::new(Vec::new()) };
}

/// A tulip sleep, and the waker its timer is known to hold.
struct Armed {
    sleep: tulip::time::Sleep,
    /// Set when the sleep was last polled with this waker and stayed pending: its timer then
    /// wakes this waker at the deadline, and until then a poll with the same waker can say
    /// Pending from a look at the clock, without going to the loop's timers.
    waker: Option<Waker>,
}

impl Armed {
    fn reset(&mut self, deadline: tulip::time::Instant) {
        self.sleep.reset(deadline);
        self.waker = None;
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(waker) = &self.waker
            && waker.will_wake(cx.waker())
            && tulip::time::Instant::now() < self.sleep.deadline()
        {
            return Poll::Pending;
        }
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Pending => {
                if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    self.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Poll::Ready(()) => {
                self.waker = None;
                Poll::Ready(())
            }
        }
    }
}

/// A tulip sleep as hyper's `Sleep`. With a `deadline`, the timer may be due earlier (a spare
/// handed on, or a deadline moved later): when it fires before `deadline`, it is moved there.
struct HyperSleep {
    deadline: Option<tulip::time::Instant>,
    timer: Armed,
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.timer.poll(cx).is_pending() {
                return Poll::Pending;
            }
            match this.deadline {
                Some(deadline) if this.timer.sleep.deadline() < deadline => {
                    this.timer.reset(deadline)
                }
                _ => return Poll::Ready(()),
            }
        }
    }
}

impl Drop for HyperSleep {
    fn drop(&mut self) {
        if self.deadline.is_none() {
            return;
        }
        // The stand-in is never armed, so it costs nothing to make or drop.
        let stand_in = Armed {
            sleep: tulip::time::sleep_until(self.timer.sleep.deadline()),
            waker: None,
        };
        let timer = std::mem::replace(&mut self.timer, stand_in);
        // During the thread's exit the spares are gone already: the sleep is just dropped.
        let _ = SPARE_SLEEPS.try_with(|spare| {
            if let Ok(mut spare) = spare.try_borrow_mut()
                && spare.len() < MAX_SPARE_SLEEPS
            {
                spare.push(timer);
            }
        });
    }
}

impl hyper::rt::Sleep for HyperSleep {}

#[cfg(test)]
mod tests {
    use hyper::rt::Timer;

    use super::*;

    #[test]
    fn a_spare_sleep_due_earlier_still_waits_for_the_later_deadline() {
        let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
        rt.block_on(async {
            let start = tulip::time::Instant::now();
            let at = |secs| (start + Duration::from_secs(secs)).into_std();
            // Armed at 5 s, then dropped: its timer becomes the spare the next sleep takes.
            let mut early = TulipTimer.sleep_until(at(5));
            assert!(
                futures_lite::future::poll_once(early.as_mut())
                    .await
                    .is_none()
            );
            drop(early);
            TulipTimer.sleep_until(at(10)).await;
            assert_eq!(start.elapsed(), Duration::from_secs(10));

            // A deadline moved later is waited for; one moved earlier is kept.
            let mut later = TulipTimer.sleep_until(at(11));
            TulipTimer.reset(&mut later, at(13));
            later.await;
            assert_eq!(start.elapsed(), Duration::from_secs(13));
            let mut sooner = TulipTimer.sleep_until(at(20));
            TulipTimer.reset(&mut sooner, at(14));
            sooner.await;
            assert_eq!(start.elapsed(), Duration::from_secs(14));
        });
    }
}
