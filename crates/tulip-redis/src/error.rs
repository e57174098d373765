//! The client's error type: what failed, on which server, and whether it is worth retrying.

use std::fmt;
use std::io;

/// What went wrong in a [`Client`](crate::Client) call: see [`Error::kind`].
///
/// The message always names the server (`redis 127.0.0.1:6379: ...`), so a log line says which
/// of several Redis servers failed.
///
/// # Examples
///
/// ```
/// use tulip_redis::{Client, ErrorKind};
///
/// tulip::run(async {
///     let err = Client::open("http://localhost").await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::InvalidUrl);
///     assert!(err.to_string().starts_with("redis "));
/// });
/// ```
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    /// `host:port`, or the (password-redacted) URL when it could not be parsed.
    addr: String,
    message: String,
    source: Option<io::Error>,
}

/// The kind of an [`Error`].
///
/// Only [`Connect`](ErrorKind::Connect) and [`Io`](ErrorKind::Io) failures are retried by the
/// client (see [`Client`](crate::Client)); by the time a call returns one of them, the
/// client has given up reconnecting.
///
/// # Examples
///
/// ```
/// use tulip_redis::ErrorKind;
///
/// let kind = ErrorKind::Server;
/// assert_ne!(kind, ErrorKind::Io);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL is not a `redis://` URL the client understands.
    InvalidUrl,
    /// No connection could be made (refused, unreachable, connect timeout, name not found).
    Connect,
    /// The connection broke in the middle of a call (reset, EOF, broken pipe).
    Io,
    /// No reply came within the client's response timeout.
    Timeout,
    /// The server sent bytes that are not a RESP2 reply.
    Protocol,
    /// The server answered with an error reply (`-ERR ...`, `-WRONGTYPE ...`, `-NOAUTH ...`).
    Server,
    /// The client was closed with [`Client::close`](crate::Client::close).
    Closed,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, addr: &str, message: impl Into<String>) -> Error {
        Error {
            kind,
            addr: addr.to_owned(),
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(kind: ErrorKind, addr: &str, context: &str, err: io::Error) -> Error {
        Error {
            kind,
            addr: addr.to_owned(),
            message: format!("{context}: {err}"),
            source: Some(err),
        }
    }

    /// The kind of failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::{Client, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let err = Client::open("redis://localhost/not-a-number").await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::InvalidUrl);
    /// });
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the `redis host:port: ` prefix.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The same error, its message followed by `note`.
    pub(crate) fn with_note(mut self, note: &str) -> Error {
        self.message = format!("{} ({note})", self.message);
        self
    }

    /// Whether the failure broke the connection, so that a retry on a fresh one may succeed.
    pub(crate) fn is_connection_lost(&self) -> bool {
        matches!(self.kind, ErrorKind::Connect | ErrorKind::Io)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis {}: {}", self.addr, self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
