//! What an HTTP/1.1 connection writes: a response's head, serialised into a buffer the
//! connection keeps, and its body, copied behind the head when small and written from its own
//! `Bytes` (vectored, with the head) when large.

use std::cell::Cell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes};
use futures_io::AsyncWrite;
use http::header::{self, HeaderMap};
use http::{StatusCode, Version};

/// Bodies up to this size are copied behind the head and go out in one `write`; larger ones
/// are written from where they are.
const COPY_BODY_MAX: usize = 8 * 1024;

/// The write side of one connection.
pub(crate) struct Outbound {
    /// The serialised heads (and small bodies) not written yet, from `sent` on.
    buf: Vec<u8>,
    sent: usize,
    /// A large body, written after `buf`.
    body: Bytes,
}

/// How a response goes out, beyond what the handler set: to which version, and whether the
/// connection stays open after it.
pub(crate) struct Reply {
    /// The request's version: an HTTP/1.0 client is told when the connection stays open.
    pub(crate) version: Version,
    /// The connection stays open after this response.
    pub(crate) keep_alive: bool,
}

impl Outbound {
    pub(crate) fn new() -> Outbound {
        Outbound {
            buf: Vec::new(),
            sent: 0,
            body: Bytes::new(),
        }
    }

    /// Whether everything queued was written.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.sent == self.buf.len() && self.body.is_empty()
    }

    /// Queues `HTTP/1.1 100 Continue`.
    pub(crate) fn push_continue(&mut self) {
        self.buf.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    /// Queues a response. Its `Content-Length` is the body's length (a `HEAD` response's was
    /// set by the server already and is kept), `Transfer-Encoding` was removed before; a
    /// `date` is added, and `connection` when the connection closes after it (or stays open
    /// for an HTTP/1.0 client). True when the handler's own headers asked to close.
    pub(crate) fn push_response(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
        reply: &Reply,
    ) -> bool {
        let out = &mut self.buf;
        // One reservation for what a head usually takes, so the pushes below seldom grow it.
        out.reserve(
            256 + if body.len() <= COPY_BODY_MAX {
                body.len()
            } else {
                0
            },
        );
        if status == StatusCode::OK {
            out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        } else {
            out.extend_from_slice(b"HTTP/1.1 ");
            out.extend_from_slice(status.as_str().as_bytes());
            out.push(b' ');
            out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let mut has_length = false;
        let mut close = false;
        for (name, value) in headers {
            if name == header::CONTENT_LENGTH {
                has_length = true;
            } else if name == header::CONNECTION {
                close |= value
                    .as_bytes()
                    .split(|&b| b == b',')
                    .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"));
            }
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let bodiless = status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        if !has_length && !bodiless {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !close {
            if !reply.keep_alive {
                out.extend_from_slice(b"connection: close\r\n");
            } else if reply.version == Version::HTTP_10 {
                out.extend_from_slice(b"connection: keep-alive\r\n");
            }
        }
        out.extend_from_slice(b"date: ");
        push_date(out);
        out.extend_from_slice(b"\r\n\r\n");
        if !bodiless {
            if body.len() <= COPY_BODY_MAX {
                out.extend_from_slice(&body);
            } else {
                self.body = body;
            }
        }
        close
    }

    /// Writes what is queued. Ready once all of it is written (and flushed).
    pub(crate) fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let pending = &self.buf[self.sent..];
            let written = if pending.is_empty() {
                if self.body.is_empty() {
                    break;
                }
                ready(Pin::new(&mut *io).poll_write(cx, &self.body))?
            } else if self.body.is_empty() {
                ready(Pin::new(&mut *io).poll_write(cx, pending))?
            } else {
                let slices = [IoSlice::new(pending), IoSlice::new(&self.body)];
                ready(Pin::new(&mut *io).poll_write_vectored(cx, &slices))?
            };
            let Some(n) = written else {
                return Poll::Pending;
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let from_buf = n.min(pending.len());
            self.sent += from_buf;
            self.body.advance(n - from_buf);
        }
        self.buf.clear();
        self.sent = 0;
        Pin::new(io).poll_flush(cx)
    }
}

/// A write's count, `None` when pending, its error as an error.
#[inline]
fn ready(poll: Poll<io::Result<usize>>) -> io::Result<Option<usize>> {
    match poll {
        Poll::Ready(Ok(n)) => Ok(Some(n)),
        Poll::Ready(Err(err)) => Err(err),
        Poll::Pending => Ok(None),
    }
}

/// The length of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
const DATE_LEN: usize = 29;

thread_local! {
    /// The `date` of this second, rendered once a second (hyper caches it the same way).
    /// An array, so that appending it is a copy of known size rather than a `memcpy` call.
    static DATE: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((u64::MAX, [b' '; DATE_LEN])) };
}

/// Appends the current time as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn push_date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (rendered, mut text) = DATE.get();
    if rendered != second {
        let fresh = httpdate::fmt_http_date(now);
        // Always 29 bytes for the years 1000 to 9999; another length keeps the last one.
        if let Ok(fresh) = <[u8; DATE_LEN]>::try_from(fresh.as_bytes()) {
            text = fresh;
            DATE.set((second, text));
        }
    }
    out.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};

    fn head_of(out: &Outbound) -> String {
        String::from_utf8(out.buf.clone()).unwrap()
    }

    #[test]
    fn a_response_gets_its_length_date_and_connection() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let mut out = Outbound::new();
        let reply = Reply {
            version: Version::HTTP_11,
            keep_alive: false,
        };
        out.push_response(StatusCode::OK, &headers, Bytes::from_static(b"hi"), &reply);
        let text = head_of(&out);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"));
        assert!(text.contains("content-length: 2\r\nconnection: close\r\ndate: "));
        assert!(text.ends_with(" GMT\r\n\r\nhi"));
    }

    #[test]
    fn no_content_has_no_length_or_body_and_http10_is_told_keep_alive() {
        let mut out = Outbound::new();
        let reply = Reply {
            version: Version::HTTP_10,
            keep_alive: true,
        };
        out.push_response(
            StatusCode::NO_CONTENT,
            &HeaderMap::new(),
            Bytes::from_static(b"dropped"),
            &reply,
        );
        let text = head_of(&out);
        assert!(!text.contains("content-length"));
        assert!(text.contains("connection: keep-alive\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn a_head_responses_length_is_kept_and_a_handlers_close_is_seen() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(42));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Close"));
        let mut out = Outbound::new();
        let reply = Reply {
            version: Version::HTTP_11,
            keep_alive: true,
        };
        assert!(out.push_response(StatusCode::OK, &headers, Bytes::new(), &reply));
        let text = head_of(&out);
        assert_eq!(text.matches("content-length").count(), 1);
        assert!(text.contains("content-length: 42\r\n"));
        assert_eq!(text.matches("connection").count(), 1);
    }

    #[test]
    fn a_large_body_is_kept_apart_from_the_head() {
        let mut out = Outbound::new();
        let reply = Reply {
            version: Version::HTTP_11,
            keep_alive: true,
        };
        let body = Bytes::from(vec![b'x'; COPY_BODY_MAX + 1]);
        out.push_response(StatusCode::OK, &HeaderMap::new(), body.clone(), &reply);
        assert!(head_of(&out).ends_with("\r\n\r\n"));
        assert_eq!(out.body, body);
        assert!(!out.is_empty());
    }
}
