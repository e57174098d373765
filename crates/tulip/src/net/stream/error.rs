//! [`StreamError`]: what can go wrong while reading a framed message from a [`StreamReader`].
//!
//! [`StreamReader`]: super::StreamReader

use std::error::Error;
use std::fmt;
use std::io;

/// Why a [`StreamReader`](super::StreamReader) could not hand over the bytes asked for:
/// asyncio's `IncompleteReadError` and `LimitOverrunError`, plus the I/O error underneath.
///
/// Neither framing error loses data: [`IncompleteRead`](StreamError::IncompleteRead) carries
/// the bytes that did arrive, and after a [`LimitOverrun`](StreamError::LimitOverrun) the bytes
/// are still in the reader's buffer, so the next read gets them.
///
/// A `StreamError` converts into an [`io::Error`] (kind `UnexpectedEof` for an incomplete
/// read, `InvalidData` for an overrun), so `?` works in functions returning `io::Result`.
///
/// # Examples
///
/// ```
/// use tulip::net::{StreamError, StreamReader};
///
/// tulip::run(async {
///     let mut reader = StreamReader::new(&b"abc"[..]);
///     match reader.readexactly(5).await {
///         Err(StreamError::IncompleteRead { partial, expected }) => {
///             assert_eq!(partial, b"abc");
///             assert_eq!(expected, Some(5));
///         }
///         other => panic!("unexpected {other:?}"),
///     }
/// });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// The transport failed (reset, timed out, …).
    Io(io::Error),
    /// The stream ended before the read was complete: asyncio's `IncompleteReadError`.
    IncompleteRead {
        /// The bytes that arrived before the end of the stream (consumed from the reader).
        partial: Vec<u8>,
        /// How many bytes were asked for: `Some(n)` from
        /// [`readexactly(n)`](super::StreamReader::readexactly), `None` from
        /// [`readuntil`](super::StreamReader::readuntil) (which wanted a separator).
        expected: Option<usize>,
    },
    /// The separator was not found within the reader's limit (or was found past it):
    /// asyncio's `LimitOverrunError`. The buffered bytes stay in the reader.
    LimitOverrun {
        /// How many buffered bytes come before the point where the search stopped; reading
        /// or skipping this many bytes gets past the overlong chunk.
        consumed: usize,
        /// The reader's limit when the error was raised.
        limit: usize,
    },
}

impl StreamError {
    /// True for [`StreamError::IncompleteRead`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::new(&b"ab"[..]);
    ///     assert!(reader.readexactly(3).await.unwrap_err().is_incomplete_read());
    /// });
    /// ```
    pub fn is_incomplete_read(&self) -> bool {
        matches!(self, StreamError::IncompleteRead { .. })
    }

    /// True for [`StreamError::LimitOverrun`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::net::StreamReader;
    ///
    /// tulip::run(async {
    ///     let mut reader = StreamReader::with_limit(&b"0123456789\n"[..], 4);
    ///     assert!(reader.readline().await.unwrap_err().is_limit_overrun());
    /// });
    /// ```
    pub fn is_limit_overrun(&self) -> bool {
        matches!(self, StreamError::LimitOverrun { .. })
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Io(err) => write!(f, "stream I/O error: {err}"),
            StreamError::IncompleteRead {
                partial,
                expected: Some(expected),
            } => write!(
                f,
                "incomplete read: the stream ended after {} of {expected} expected bytes \
                 (the peer closed early; the bytes received are in `partial`)",
                partial.len()
            ),
            StreamError::IncompleteRead {
                partial,
                expected: None,
            } => write!(
                f,
                "incomplete read: the stream ended after {} bytes without the separator \
                 (the peer closed early; the bytes received are in `partial`)",
                partial.len()
            ),
            StreamError::LimitOverrun { consumed, limit } => write!(
                f,
                "limit overrun: no separator within the reader's limit of {limit} bytes \
                 ({consumed} bytes searched, still buffered); read them with `read`, or raise \
                 the limit with `set_limit`"
            ),
        }
    }
}

impl Error for StreamError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StreamError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(err: io::Error) -> StreamError {
        StreamError::Io(err)
    }
}

impl From<StreamError> for io::Error {
    fn from(err: StreamError) -> io::Error {
        match err {
            StreamError::Io(err) => err,
            StreamError::IncompleteRead { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, err),
            StreamError::LimitOverrun { .. } => io::Error::new(io::ErrorKind::InvalidData, err),
        }
    }
}
