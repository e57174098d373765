//! What an HTTP/1.1 connection has read: its buffer, the request heads parsed out of it, and
//! the current request's body, framed by `Content-Length` or chunked.
//!
//! The buffer is a `BytesMut` whose whole length is initialised: `buf[..filled]` is what was
//! read and not consumed yet, the rest is room for the next read. A head is split off the
//! front and frozen, and its header values and URI are slices of that one `Bytes`; a body's
//! data is split off the same way. So a request costs no copy of its bytes, and no `unsafe`
//! read into uninitialised memory: when the room runs low the buffer is reserved again (which
//! reuses its allocation once the frozen pieces of earlier requests are gone) and only the new
//! room is zeroed, about once every hundred small requests.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Uri, Version};

/// The largest request head (request line and headers) read: larger ones get `431`.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// The most header lines in a head: more get `431`.
pub(crate) const MAX_HEADERS: usize = 100;
/// What one read asks for at least, and the room the buffer is grown by.
const READ_ROOM: usize = 8 * 1024;
/// The room a read is given at most (a large body is read in pieces of this size).
const READ_MAX: usize = 64 * 1024;
/// The longest chunk-size line (with its extensions) of a chunked body.
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// The read side of one connection.
pub(crate) struct Inbound {
    buf: BytesMut,
    filled: usize,
    /// The peer closed its side: no more bytes will come.
    pub(crate) eof: bool,
    /// How the current request's body is framed, and how far it was read.
    framing: Framing,
    /// Counts the requests whose bodies were left behind: a [`WireBody`] of an earlier one
    /// reads nothing.
    generation: u64,
    /// A body reader waits for more bytes: the connection reads for it.
    pub(crate) wants_read: bool,
    /// The body reader's task, when it is not the connection's own.
    reader: Option<Waker>,
    /// The connection's task, for a body reader in another task to wake when it needs bytes.
    connection: Option<Waker>,
    /// The request said `Expect: 100-continue` and nothing of its body was asked for yet.
    pub(crate) continue_due: bool,
    /// Trailer bytes seen of a chunked body, bounded like a head.
    trailer_bytes: usize,
    /// How much of the buffer's front is known not to end the head or line being waited for:
    /// a head or line arriving in many small pieces is scanned once, not once per piece
    /// (which would cost the square of its length).
    scanned: usize,
    /// Header names and where their values are, while a head is parsed (kept for its room).
    fields: Vec<(HeaderName, Range<usize>)>,
    /// How many times a head was given to the parser (to test that a trickled head is not
    /// parsed once per byte).
    #[cfg(test)]
    parses: usize,
}

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// No body, or all of it read.
    Done,
    /// `Content-Length`: this many bytes still to come.
    Length(u64),
    /// `Transfer-Encoding: chunked`, at this step.
    Chunked(Chunk),
    /// The body was broken (bad chunk framing, or the peer closed in the middle of it).
    Broken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// A chunk-size line is next.
    Size,
    /// This many bytes of chunk data are still to come.
    Data(u64),
    /// The CRLF after a chunk's data is next.
    DataEnd,
    /// The trailer section (after the last, empty chunk) is next.
    Trailers,
}

/// One step of reading a body out of the buffer.
pub(crate) enum BodyStep {
    Data(Bytes),
    /// More bytes are needed from the socket.
    NeedRead,
    End,
    Failed(&'static str),
}

/// A request head, parsed and checked.
pub(crate) struct Head {
    pub(crate) parts: http::request::Parts,
    /// The `Content-Length`, when the body has one.
    pub(crate) declared_length: Option<u64>,
    /// The request allows the connection to stay open after it (its version and
    /// `Connection` header say so).
    pub(crate) keep_alive: bool,
}

/// Why a head cannot be served: the status to answer before closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// `400 Bad Request`, with what was wrong.
    Malformed(&'static str),
    /// `431 Request Header Fields Too Large`.
    TooLarge,
    /// `505 HTTP Version Not Supported`.
    Version,
}

impl Inbound {
    pub(crate) fn new() -> Inbound {
        Inbound {
            buf: BytesMut::new(),
            filled: 0,
            eof: false,
            framing: Framing::Done,
            generation: 0,
            wants_read: false,
            reader: None,
            connection: None,
            continue_due: false,
            trailer_bytes: 0,
            scanned: 0,
            fields: Vec::new(),
            #[cfg(test)]
            parses: 0,
        }
    }

    /// Room for the next read: at least 1 KiB, initialised.
    #[inline]
    pub(crate) fn room(&mut self) -> &mut [u8] {
        if self.buf.len() - self.filled < 1024 {
            self.grow();
        }
        &mut self.buf[self.filled..]
    }

    #[cold]
    fn grow(&mut self) {
        self.buf.truncate(self.filled);
        self.buf.reserve(READ_ROOM);
        let len = self.buf.capacity().min(self.filled + READ_MAX);
        self.buf.resize(len, 0);
    }

    /// `n` bytes were read into [`room`](Inbound::room).
    #[inline]
    pub(crate) fn filled(&mut self, n: usize) {
        self.filled += n;
    }

    /// Parses the head at the front of the buffer: `None` while it is not all there.
    pub(crate) fn parse_head(&mut self) -> Result<Option<Head>, HeadError> {
        if self.filled == 0 {
            return Ok(None);
        }
        if self.scanned > 0 {
            // Parsed before and found partial: parse again only once the end may be in.
            if self.filled >= MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            if !self.newly_holds(|data| {
                data.windows(2).any(|pair| pair == b"\n\n")
                    || data.windows(3).any(|three| three == b"\n\r\n")
            }) {
                return Ok(None);
            }
        }
        #[cfg(test)]
        {
            self.parses += 1;
        }
        let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut []);
        let data = &self.buf[..self.filled];
        let len = match request.parse_with_uninit_headers(data, &mut slots) {
            Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
            Ok(httparse::Status::Complete(_)) => return Err(HeadError::TooLarge),
            Ok(httparse::Status::Partial) if self.filled >= MAX_HEAD => {
                return Err(HeadError::TooLarge);
            }
            Ok(httparse::Status::Partial) => {
                self.scanned = self.filled;
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
            Err(httparse::Error::Version) => return Err(HeadError::Version),
            Err(_) => return Err(HeadError::Malformed("the request's head is malformed")),
        };
        let base = data.as_ptr() as usize;
        let offset = |part: &[u8]| part.as_ptr() as usize - base;
        let method = match Method::from_bytes(request.method.unwrap_or_default().as_bytes()) {
            Ok(method) => method,
            Err(_) => return Err(HeadError::Malformed("the method is not a token")),
        };
        let path = request.path.unwrap_or_default();
        let path = offset(path.as_bytes())..offset(path.as_bytes()) + path.len();
        let version = match request.version {
            Some(1) => Version::HTTP_11,
            _ => Version::HTTP_10,
        };
        self.fields.clear();
        for field in request.headers.iter() {
            let Ok(name) = HeaderName::from_bytes(field.name.as_bytes()) else {
                return Err(HeadError::Malformed("a header name is not a token"));
            };
            let start = offset(field.value);
            self.fields.push((name, start..start + field.value.len()));
        }
        let head = self.buf.split_to(len).freeze();
        self.filled -= len;
        self.scanned = 0;
        self.build_head(method, path, version, &head).map(Some)
    }

    /// The request from the parsed pieces of `bytes`, its body framing set up.
    fn build_head(
        &mut self,
        method: Method,
        path: Range<usize>,
        version: Version,
        bytes: &Bytes,
    ) -> Result<Head, HeadError> {
        let uri = Uri::from_maybe_shared(bytes.slice(path))
            .map_err(|_| HeadError::Malformed("the request target is not a valid URI"))?;
        let mut headers = crate::server::spare::take();
        let mut framing = Framing::Done;
        let mut declared_length = None;
        let mut chunked = false;
        let mut close = false;
        let mut keep_alive = false;
        let mut expect_continue = false;
        for (name, range) in self.fields.drain(..) {
            let value = HeaderValue::from_maybe_shared(bytes.slice(range))
                .map_err(|_| HeadError::Malformed("a header value has a forbidden byte"))?;
            if name == header::CONTENT_LENGTH {
                let length = content_length(value.as_bytes())?;
                if declared_length.is_some_and(|earlier| earlier != length) {
                    return Err(HeadError::Malformed("two Content-Length headers differ"));
                }
                declared_length = Some(length);
            } else if name == header::TRANSFER_ENCODING {
                // Only `chunked`, last, is understood (RFC 9112 §6.3): anything else is refused.
                if chunked || !ends_with_chunked(value.as_bytes())? {
                    return Err(HeadError::Malformed(
                        "Transfer-Encoding must end with chunked, once",
                    ));
                }
                chunked = true;
            } else if name == header::CONNECTION {
                for token in tokens(value.as_bytes()) {
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name == header::EXPECT {
                expect_continue = value.as_bytes().eq_ignore_ascii_case(b"100-continue");
            }
            headers.append(name, value);
        }
        if chunked {
            if declared_length.is_some() {
                // A request smuggling vector (RFC 9112 §6.1): refused rather than guessed at.
                return Err(HeadError::Malformed(
                    "a request has both Transfer-Encoding and Content-Length",
                ));
            }
            if version == Version::HTTP_10 {
                return Err(HeadError::Malformed(
                    "Transfer-Encoding is not allowed in HTTP/1.0",
                ));
            }
            framing = Framing::Chunked(Chunk::Size);
        } else if let Some(length) = declared_length
            && length > 0
        {
            framing = Framing::Length(length);
        }
        self.framing = framing;
        self.trailer_bytes = 0;
        self.wants_read = false;
        self.reader = None;
        self.continue_due = expect_continue && framing != Framing::Done;
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = method;
        parts.uri = uri;
        parts.version = version;
        parts.headers = headers;
        Ok(Head {
            parts,
            declared_length,
            keep_alive: !close && (version == Version::HTTP_11 || keep_alive),
        })
    }

    /// The generation a new request's [`WireBody`] belongs to.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the current request's body was read to its end.
    pub(crate) fn body_done(&self) -> bool {
        self.framing == Framing::Done
    }

    /// The request is answered: its body can no longer be read by its handler. True when what
    /// is left of it can be skipped to keep the connection (a `Content-Length` remainder up to
    /// `most` bytes, or a chunked body whose end is already buffered).
    pub(crate) fn abandon_body(&mut self, most: u64) -> bool {
        self.generation += 1;
        self.wants_read = false;
        self.reader = None;
        if self.continue_due {
            // The client waits for a `100 Continue` before it sends the body: it may send it
            // later or never, so the connection cannot be reused.
            return false;
        }
        loop {
            match self.framing {
                Framing::Done => return true,
                Framing::Broken => return false,
                Framing::Length(left) if left <= most => return true,
                Framing::Length(_) => return false,
                Framing::Chunked(_) => match self.next_data() {
                    BodyStep::Data(_) => {}
                    BodyStep::End => return true,
                    BodyStep::NeedRead | BodyStep::Failed(_) => return false,
                },
            }
        }
    }

    /// The next piece of the current body from the buffer.
    pub(crate) fn next_data(&mut self) -> BodyStep {
        loop {
            match self.framing {
                Framing::Done => return BodyStep::End,
                Framing::Broken => return BodyStep::Failed("the request's body was broken off"),
                Framing::Length(left) => {
                    let Some(data) = self.take(left) else {
                        return self.need_more();
                    };
                    let left = left - data.len() as u64;
                    self.framing = if left == 0 {
                        Framing::Done
                    } else {
                        Framing::Length(left)
                    };
                    return BodyStep::Data(data);
                }
                Framing::Chunked(Chunk::Data(left)) => {
                    let Some(data) = self.take(left) else {
                        return self.need_more();
                    };
                    let left = left - data.len() as u64;
                    self.framing = Framing::Chunked(if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    });
                    return BodyStep::Data(data);
                }
                Framing::Chunked(step) => match self.chunk_framing(step) {
                    Ok(true) => {}
                    Ok(false) => return self.need_more(),
                    Err(why) => {
                        self.framing = Framing::Broken;
                        return BodyStep::Failed(why);
                    }
                },
            }
        }
    }

    /// Up to `most` bytes off the front of the buffer; `None` when it is empty.
    #[inline]
    fn take(&mut self, most: u64) -> Option<Bytes> {
        if self.filled == 0 {
            return None;
        }
        let n = self.filled.min(usize::try_from(most).unwrap_or(usize::MAX));
        self.filled -= n;
        self.scanned = 0;
        Some(self.buf.split_to(n).freeze())
    }

    fn need_more(&mut self) -> BodyStep {
        if self.eof {
            self.framing = Framing::Broken;
            return BodyStep::Failed("the client closed the connection in the middle of the body");
        }
        BodyStep::NeedRead
    }

    /// Consumes one piece of chunked framing (a size line, a CRLF, a trailer line): true when
    /// it did, false when it is not all in the buffer yet.
    fn chunk_framing(&mut self, step: Chunk) -> Result<bool, &'static str> {
        if self.scanned > 0 && !self.newly_holds(|data| data.contains(&b'\n')) {
            // The line waited for is still not complete.
            return Ok(false);
        }
        let data = &self.buf[..self.filled];
        let (used, next) = match step {
            Chunk::Size => match httparse::parse_chunk_size(data) {
                Ok(httparse::Status::Complete((used, 0))) => {
                    (used, Framing::Chunked(Chunk::Trailers))
                }
                Ok(httparse::Status::Complete((used, size))) => {
                    (used, Framing::Chunked(Chunk::Data(size)))
                }
                Ok(httparse::Status::Partial) if data.len() > MAX_CHUNK_LINE => {
                    return Err("a chunk-size line is too long");
                }
                Ok(httparse::Status::Partial) => {
                    self.scanned = self.filled;
                    return Ok(false);
                }
                Err(_) => return Err("a chunk size is not valid"),
            },
            Chunk::DataEnd => match data {
                [b'\r', b'\n', ..] => (2, Framing::Chunked(Chunk::Size)),
                [] | [b'\r'] => return Ok(false),
                _ => return Err("a chunk's data does not end with CRLF"),
            },
            Chunk::Trailers => {
                // A trailer line ends with LF (CRLF, or a bare LF as in a head); trailers are
                // read past, not kept.
                let Some(end) = data.iter().position(|&b| b == b'\n') else {
                    if self.trailer_bytes + data.len() > MAX_HEAD {
                        return Err("the body's trailers are too large");
                    }
                    self.scanned = self.filled;
                    return Ok(false);
                };
                self.trailer_bytes += end + 1;
                if self.trailer_bytes > MAX_HEAD {
                    return Err("the body's trailers are too large");
                }
                let next = if matches!(&data[..end], b"" | b"\r") {
                    Framing::Done
                } else {
                    Framing::Chunked(Chunk::Trailers)
                };
                (end + 1, next)
            }
            Chunk::Data(_) => unreachable!("chunk data is read by next_data"),
        };
        self.buf.advance(used);
        self.filled -= used;
        self.scanned = 0;
        self.framing = next;
        Ok(true)
    }

    /// Whether `found` holds of what was read since the last scan (with the three bytes
    /// before it, for a marker cut in two); marks it scanned either way.
    fn newly_holds(&mut self, found: impl Fn(&[u8]) -> bool) -> bool {
        let from = self.scanned.saturating_sub(3);
        self.scanned = self.filled;
        found(&self.buf[from..self.filled])
    }

    /// Notes the connection's task, for a body reader in another task to wake.
    #[inline]
    pub(crate) fn set_connection(&mut self, waker: &Waker) {
        match &mut self.connection {
            Some(known) if known.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// The body reader's task, to wake once more bytes are in (when it is not `own`).
    pub(crate) fn take_reader(&mut self, own: &Waker) -> Option<Waker> {
        self.reader.take().filter(|reader| !reader.will_wake(own))
    }
}

/// A `Content-Length` value: digits only (a list of equal values is one value).
fn content_length(value: &[u8]) -> Result<u64, HeadError> {
    let invalid = HeadError::Malformed("Content-Length is not a number of bytes");
    let mut length = None;
    for part in value.split(|&b| b == b',') {
        let digits = part.trim_ascii();
        if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(invalid);
        }
        let n = digits
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if length.is_some_and(|earlier| earlier != n) {
            return Err(HeadError::Malformed("two Content-Length values differ"));
        }
        length = Some(n);
    }
    length.ok_or(invalid)
}

/// Whether a `Transfer-Encoding` value's last coding is `chunked` (and no earlier one is).
fn ends_with_chunked(value: &[u8]) -> Result<bool, HeadError> {
    let mut codings = tokens(value).peekable();
    while let Some(coding) = codings.next() {
        // A coding may have parameters (`gzip;q=1`); its name is what is compared.
        let name = coding
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let is_chunked = name.eq_ignore_ascii_case(b"chunked");
        if codings.peek().is_none() {
            return Ok(is_chunked);
        }
        if is_chunked {
            return Err(HeadError::Malformed(
                "chunked must be the last transfer coding",
            ));
        }
    }
    Ok(false)
}

/// The comma-separated, trimmed, non-empty tokens of a header value.
fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|token| !token.is_empty())
}

/// A request's body as its handler reads it: the connection's [`Inbound`], for as long as the
/// request is current.
pub(crate) struct WireBody {
    inbound: Rc<RefCell<Inbound>>,
    generation: u64,
    declared_length: Option<u64>,
}

impl WireBody {
    pub(crate) fn new(inbound: Rc<RefCell<Inbound>>, declared_length: Option<u64>) -> WireBody {
        let generation = inbound.borrow().generation();
        WireBody {
            inbound,
            generation,
            declared_length,
        }
    }

    /// The `Content-Length` the request declared.
    pub(crate) fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// The next piece of the body; `None` at its end. Pending until the connection has read
    /// more for it.
    pub(crate) fn poll_data(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, String>>> {
        let mut inbound = self.inbound.borrow_mut();
        if inbound.generation != self.generation {
            return Poll::Ready(Some(Err(
                "the request was answered before its body was read".to_owned(),
            )));
        }
        match inbound.next_data() {
            BodyStep::Data(data) => Poll::Ready(Some(Ok(data))),
            BodyStep::End => Poll::Ready(None),
            BodyStep::Failed(why) => Poll::Ready(Some(Err(why.to_owned()))),
            BodyStep::NeedRead => {
                inbound.wants_read = true;
                if let Some(connection) = &inbound.connection
                    && !connection.will_wake(cx.waker())
                {
                    // Read by another task than the connection's: the connection is to read
                    // for it, and may be waiting for something else.
                    connection.wake_by_ref();
                }
                match &mut inbound.reader {
                    Some(reader) if reader.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound_with(bytes: &[u8]) -> Inbound {
        let mut inbound = Inbound::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = inbound.room();
            let n = room.len().min(rest.len());
            room[..n].copy_from_slice(&rest[..n]);
            inbound.filled(n);
            rest = &rest[n..];
        }
        inbound
    }

    fn head(inbound: &mut Inbound) -> Head {
        match inbound.parse_head() {
            Ok(Some(head)) => head,
            Ok(None) => panic!("partial"),
            Err(err) => panic!("failed: {err:?}"),
        }
    }

    fn body(inbound: &mut Inbound) -> Result<Vec<u8>, &'static str> {
        let mut all = Vec::new();
        loop {
            match inbound.next_data() {
                BodyStep::Data(data) => all.extend_from_slice(&data),
                BodyStep::End => return Ok(all),
                BodyStep::NeedRead => return Err("needs more"),
                BodyStep::Failed(why) => return Err(why),
            }
        }
    }

    #[test]
    fn a_head_and_its_length_body_come_apart_and_the_next_head_follows() {
        let mut inbound =
            inbound_with(b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n");
        let first = head(&mut inbound);
        assert_eq!(first.parts.method, Method::POST);
        assert_eq!(first.parts.uri.path(), "/a");
        assert_eq!(first.parts.uri.query(), Some("b=1"));
        assert_eq!(first.parts.headers["host"], "x");
        assert_eq!(first.declared_length, Some(3));
        assert!(first.keep_alive);
        assert_eq!(body(&mut inbound).unwrap(), b"abc");
        let second = head(&mut inbound);
        assert_eq!(second.parts.version, Version::HTTP_10);
        assert!(!second.keep_alive);
        assert_eq!(inbound.filled, 0);
    }

    #[test]
    fn a_chunked_body_with_extensions_and_trailers_is_whole() {
        let mut inbound = inbound_with(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\nnext",
        );
        let _ = head(&mut inbound);
        assert_eq!(body(&mut inbound).unwrap(), b"abcde");
        assert_eq!(&inbound.buf[..inbound.filled], b"next");
    }

    #[test]
    fn a_partial_chunked_body_asks_for_more_and_a_broken_one_fails() {
        let mut inbound =
            inbound_with(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
        let _ = head(&mut inbound);
        assert_eq!(body(&mut inbound), Err("needs more"));
        let mut inbound =
            inbound_with(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        let _ = head(&mut inbound);
        assert_eq!(body(&mut inbound), Err("a chunk size is not valid"));
        assert!(!inbound.abandon_body(u64::MAX));
    }

    #[test]
    fn framing_that_could_smuggle_a_request_is_refused() {
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            let mut inbound = inbound_with(bad);
            assert!(
                matches!(inbound.parse_head(), Err(HeadError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut inbound =
            inbound_with(b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok");
        let _ = head(&mut inbound);
        assert_eq!(body(&mut inbound).unwrap(), b"ok");
    }

    #[test]
    fn oversized_heads_are_431_and_garbage_is_400() {
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let mut inbound = inbound_with(&many);
        assert!(matches!(inbound.parse_head(), Err(HeadError::TooLarge)));
        let mut long = b"GET / HTTP/1.1\r\nx: ".to_vec();
        long.resize(MAX_HEAD + 10, b'a');
        let mut inbound = inbound_with(&long);
        assert!(matches!(inbound.parse_head(), Err(HeadError::TooLarge)));
        let mut inbound = inbound_with(b"GARBAGE\r\n\r\n");
        assert!(matches!(inbound.parse_head(), Err(HeadError::Malformed(_))));
    }

    #[test]
    fn connection_and_version_decide_keep_alive() {
        for (request, keep_alive) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], true),
            (b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ] {
            let mut inbound = inbound_with(request);
            assert_eq!(head(&mut inbound).keep_alive, keep_alive);
        }
    }

    #[test]
    fn an_unread_body_is_skipped_when_small_and_expect_continue_keeps_it_unread() {
        let mut inbound = inbound_with(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
        let _ = head(&mut inbound);
        assert!(inbound.abandon_body(5));
        let mut inbound = inbound_with(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
        let _ = head(&mut inbound);
        assert!(!inbound.abandon_body(4));
        let mut inbound =
            inbound_with(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        let _ = head(&mut inbound);
        assert!(inbound.continue_due);
        assert!(!inbound.abandon_body(u64::MAX));
    }

    /// Feeds `bytes` one at a time, calling `step` after each.
    fn trickle(inbound: &mut Inbound, bytes: &[u8], mut step: impl FnMut(&mut Inbound)) {
        for &byte in bytes {
            inbound.room()[0] = byte;
            inbound.filled(1);
            step(inbound);
        }
    }

    #[test]
    fn a_head_trickled_byte_by_byte_is_parsed_once_it_is_whole_not_once_per_byte() {
        let mut request = b"\r\nGET /slow HTTP/1.1\r\n".to_vec();
        for i in 0..50 {
            request.extend_from_slice(format!("x-{i}: {}\r\n", "v".repeat(40)).as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        let mut inbound = Inbound::new();
        let mut heads = Vec::new();
        trickle(&mut inbound, &request, |inbound| {
            if let Some(head) = inbound.parse_head().unwrap() {
                heads.push(head.parts.uri.path().to_owned());
            }
        });
        assert_eq!(heads, ["/slow"]);
        assert!(inbound.parses < 10, "parsed {} times", inbound.parses);
    }

    #[test]
    fn a_chunked_body_trickled_byte_by_byte_arrives_whole() {
        let mut inbound = inbound_with(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        let _ = head(&mut inbound);
        let mut all = Vec::new();
        let mut ended = false;
        trickle(
            &mut inbound,
            b"3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: x\r\n\r\n",
            |inbound| loop {
                match inbound.next_data() {
                    BodyStep::Data(data) => all.extend_from_slice(&data),
                    BodyStep::End => {
                        ended = true;
                        break;
                    }
                    BodyStep::NeedRead => break,
                    BodyStep::Failed(why) => panic!("{why}"),
                }
            },
        );
        assert!(ended);
        assert_eq!(all, b"abc0123456789abcdef");
    }

    #[test]
    fn the_buffer_is_reused_once_the_pieces_of_earlier_requests_are_gone() {
        let mut inbound = Inbound::new();
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for _ in 0..1000 {
            let room = inbound.room();
            room[..request.len()].copy_from_slice(request);
            inbound.filled(request.len());
            let head = head(&mut inbound);
            drop(head);
        }
        assert!(inbound.buf.capacity() <= READ_MAX + READ_ROOM);
    }
}
