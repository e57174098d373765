//! [`ClientTimeout`], aiohttp's `ClientTimeout`: how long a request may take, as a whole and
//! phase by phase; and the deadlines a request derives from it.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use tulip::time::{Instant, sleep_until};

use crate::{Error, ErrorKind, TimeoutKind};

/// The timeouts of a request: aiohttp's `ClientTimeout(total, connect, sock_connect,
/// sock_read)`.
///
/// - `total`: the whole request — waiting for a connection, connecting, sending, reading the
///   head and the body to the end;
/// - `connect`: getting a connection — waiting for a free one in the pool and making a new one;
/// - `sock_connect`: the TCP connect and TLS handshake of a new connection (not the name
///   lookup);
/// - `sock_read`: the longest gap between two reads from the server (the head, then each
///   piece of the body).
///
/// [`ClientTimeout::new`] sets none of them; [`ClientTimeout::default`] is aiohttp's default:
/// `total` 300 s and `sock_connect` 30 s. A session has one
/// ([`ClientSessionBuilder::timeout`](crate::ClientSessionBuilder::timeout)); a request may
/// replace it entirely ([`RequestBuilder::timeout`](crate::RequestBuilder::timeout)). A timeout
/// that runs out fails the request with [`ErrorKind::Timeout`] naming which one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tulip_http::{ClientSession, ClientTimeout};
///
/// let timeout = ClientTimeout::new()
///     .total(Duration::from_secs(30))
///     .sock_read(Duration::from_secs(5));
/// assert_eq!(timeout.get_total(), Some(Duration::from_secs(30)));
/// assert_eq!(timeout.get_connect(), None);
/// let session = ClientSession::builder().timeout(timeout).build();
/// # let _ = session;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientTimeout {
    total: Option<Duration>,
    connect: Option<Duration>,
    sock_connect: Option<Duration>,
    sock_read: Option<Duration>,
}

impl Default for ClientTimeout {
    /// aiohttp's default: `total` 300 s, `sock_connect` 30 s, the others unset.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = tulip_http::ClientTimeout::default();
    /// assert_eq!(t.get_total(), Some(Duration::from_secs(300)));
    /// assert_eq!(t.get_sock_connect(), Some(Duration::from_secs(30)));
    /// ```
    fn default() -> ClientTimeout {
        ClientTimeout::new()
            .total(Duration::from_secs(300))
            .sock_connect(Duration::from_secs(30))
    }
}

impl ClientTimeout {
    /// No timeout at all: a request may wait forever.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = tulip_http::ClientTimeout::new();
    /// assert_eq!(t.get_total(), None);
    /// ```
    pub fn new() -> ClientTimeout {
        ClientTimeout {
            total: None,
            connect: None,
            sock_connect: None,
            sock_read: None,
        }
    }

    /// The whole request, body included.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = tulip_http::ClientTimeout::new().total(Duration::from_secs(10));
    /// assert_eq!(t.get_total(), Some(Duration::from_secs(10)));
    /// ```
    pub fn total(mut self, d: Duration) -> Self {
        self.total = Some(d);
        self
    }

    /// Getting a connection: the wait for a free one in the pool plus connecting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = tulip_http::ClientTimeout::new().connect(Duration::from_secs(2));
    /// assert_eq!(t.get_connect(), Some(Duration::from_secs(2)));
    /// ```
    pub fn connect(mut self, d: Duration) -> Self {
        self.connect = Some(d);
        self
    }

    /// The TCP connect and the TLS handshake of a new connection.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = tulip_http::ClientTimeout::new().sock_connect(Duration::from_secs(3));
    /// assert_eq!(t.get_sock_connect(), Some(Duration::from_secs(3)));
    /// ```
    pub fn sock_connect(mut self, d: Duration) -> Self {
        self.sock_connect = Some(d);
        self
    }

    /// The longest wait for the next bytes from the server (head or body).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = tulip_http::ClientTimeout::new().sock_read(Duration::from_secs(4));
    /// assert_eq!(t.get_sock_read(), Some(Duration::from_secs(4)));
    /// ```
    pub fn sock_read(mut self, d: Duration) -> Self {
        self.sock_read = Some(d);
        self
    }

    /// The `total` timeout, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_http::ClientTimeout::new().get_total(), None);
    /// ```
    pub fn get_total(&self) -> Option<Duration> {
        self.total
    }

    /// The `connect` timeout, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_http::ClientTimeout::default().get_connect(), None);
    /// ```
    pub fn get_connect(&self) -> Option<Duration> {
        self.connect
    }

    /// The `sock_connect` timeout, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tulip_http::ClientTimeout::default().get_sock_connect().is_some());
    /// ```
    pub fn get_sock_connect(&self) -> Option<Duration> {
        self.sock_connect
    }

    /// The `sock_read` timeout, if set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_http::ClientTimeout::default().get_sock_read(), None);
    /// ```
    pub fn get_sock_read(&self) -> Option<Duration> {
        self.sock_read
    }
}

/// A point in time at which a request fails, and which timeout put it there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) kind: TimeoutKind,
    pub(crate) after: Duration,
}

impl Deadline {
    /// The deadline `after` from now, if a timeout is set.
    pub(crate) fn starting_now(kind: TimeoutKind, after: Option<Duration>) -> Option<Deadline> {
        let after = after?;
        // A timeout too large to add is no timeout.
        let at = Instant::now().checked_add(after)?;
        Some(Deadline { at, kind, after })
    }

    /// The earlier of two optional deadlines; on a tie the more specific one (`b`), since its
    /// name says more about what was slow.
    pub(crate) fn earliest(a: Option<Deadline>, b: Option<Deadline>) -> Option<Deadline> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if a.at < b.at { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// The error for this deadline running out while fetching `url`.
    pub(crate) fn error(&self, url: &str) -> Error {
        Error::bare(
            ErrorKind::Timeout {
                kind: self.kind,
                after: self.after,
            },
            url,
        )
    }
}

/// Runs `future` until `deadline` (forever if `None`); `Err` with the timeout's error when it
/// runs out first. The future is dropped at that point.
pub(crate) async fn within<F: Future>(
    deadline: Option<Deadline>,
    url: &str,
    future: F,
) -> Result<F::Output, Error> {
    let Some(deadline) = deadline else {
        return Ok(future.await);
    };
    let mut future = pin!(future);
    let mut sleep = sleep_until(deadline.at);
    poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match std::pin::Pin::new(&mut sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(deadline.error(url))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
