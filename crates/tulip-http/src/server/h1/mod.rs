//! The server's HTTP/1.1: one connection's requests read, answered and written in turn, by
//! tulip-http itself rather than by hyper (which keeps HTTP/2, and the client).
//!
//! Why not hyper here: a kept-alive hello-world request cost ~6,900 instructions through
//! hyper's `http1` connection, most of them hyper's own code and the moves of its types
//! around ours, the same as hyper on tokio spends; a server built on it could only be level
//! with hyper. This path parses with `httparse` (what hyper uses), keeps the request's bytes
//! in one buffer without copying them, and writes each response with one `write`.
//!
//! What it does, as a user of aiohttp or hyper expects:
//! - keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection: keep-alive`), pipelined
//!   requests answered in order, `Connection: close` honoured both ways;
//! - bodies framed by `Content-Length` or chunked (with extensions and trailers), read on
//!   demand by the handler; `Expect: 100-continue` answered when the handler first reads;
//! - framing that could smuggle a request (both `Transfer-Encoding` and `Content-Length`,
//!   differing lengths, a coding other than `chunked` last) refused with `400`, a head over
//!   64 KiB or 100 headers with `431`, then the connection closed;
//! - a body the handler left unread skipped when at most 64 KiB remain, else the connection
//!   closed after the response.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use http::{StatusCode, Version};

mod inbound;
mod outbound;

pub(crate) use inbound::WireBody;
use inbound::{BodyStep, HeadError, Inbound};
use outbound::{Outbound, Reply};

use super::response::{Body, Response};
use super::serve::{Connection, ServiceFuture};

/// The most of an unread body skipped to keep the connection open.
const SKIP_MAX: u64 = 64 * 1024;

/// The most requests a connection starts in one poll: a client pipelining a buffer full of
/// small requests does not keep the loop from its other tasks meanwhile (tokio's budget
/// does the same for its tasks).
const REQUESTS_PER_POLL: u32 = 64;

/// One HTTP/1.1 connection, polled by its task until it ends.
pub(crate) struct H1<S> {
    io: S,
    connection: Rc<Connection>,
    inbound: Rc<RefCell<Inbound>>,
    outbound: Outbound,
    phase: Phase,
    /// The server's graceful shutdown began: no request is read after the current one.
    closing: bool,
}

enum Phase {
    /// Waiting for (the rest of) a request's head.
    Head,
    /// A handler is answering; the connection reads its body when it asks.
    Answering {
        answer: ServiceFuture,
        version: Version,
        keep_alive: bool,
    },
    /// A response is being written; then the connection goes on or closes.
    Writing { keep_alive: bool },
    /// Reading away the rest of a body the handler left.
    Skipping,
}

impl<S: AsyncRead + AsyncWrite + Unpin> H1<S> {
    pub(crate) fn new(io: S, connection: Rc<Connection>) -> H1<S> {
        H1 {
            io,
            connection,
            inbound: Rc::new(RefCell::new(Inbound::new())),
            outbound: Outbound::new(),
            phase: Phase::Head,
            closing: false,
        }
    }

    /// The connection's stream, once it is served.
    pub(crate) fn into_io(self) -> S {
        self.io
    }

    /// Serves requests until the connection ends: ready when the peer closed, a response
    /// said `connection: close`, or (after `begin_graceful`) the request in flight was
    /// answered.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        begin_graceful: bool,
    ) -> Poll<io::Result<()>> {
        self.closing |= begin_graceful;
        let mut started = 0;
        loop {
            match &mut self.phase {
                Phase::Head => {
                    if self.closing {
                        return Poll::Ready(Ok(()));
                    }
                    if started == REQUESTS_PER_POLL {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    let parsed = self.inbound.borrow_mut().parse_head();
                    match parsed {
                        Ok(Some(head)) => {
                            started += 1;
                            self.start(head);
                        }
                        Ok(None) => {
                            if self.inbound.borrow().eof {
                                return Poll::Ready(Ok(()));
                            }
                            if self.poll_read(cx)?.is_pending() {
                                return Poll::Pending;
                            }
                        }
                        Err(err) => self.refuse(err),
                    }
                }
                Phase::Answering {
                    answer,
                    version,
                    keep_alive,
                } => {
                    if let Poll::Ready(Ok(response)) = Pin::new(answer).poll(cx) {
                        let (version, keep_alive) = (*version, *keep_alive);
                        self.respond(response, version, keep_alive);
                        continue;
                    }
                    let mut inbound = self.inbound.borrow_mut();
                    if !inbound.wants_read {
                        inbound.set_connection(cx.waker());
                        return Poll::Pending;
                    }
                    drop(inbound);
                    if self.poll_read_body(cx)?.is_pending() {
                        return Poll::Pending;
                    }
                }
                Phase::Writing { keep_alive } => {
                    let keep_alive = *keep_alive;
                    let written = self.outbound.poll_write(&mut self.io, cx);
                    if self.connection.head_clock.wrote(written)?.is_pending() {
                        return Poll::Pending;
                    }
                    if !keep_alive {
                        return Poll::Ready(Ok(()));
                    }
                    self.phase = if self.inbound.borrow().body_done() {
                        Phase::Head
                    } else {
                        Phase::Skipping
                    };
                }
                Phase::Skipping => {
                    let step = self.inbound.borrow_mut().next_data();
                    match step {
                        BodyStep::Data(_) => {}
                        BodyStep::End => self.phase = Phase::Head,
                        BodyStep::Failed(_) => return Poll::Ready(Ok(())),
                        BodyStep::NeedRead => {
                            if self.poll_read(cx)?.is_pending() {
                                return Poll::Pending;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reads into the inbound buffer; ready when something (or the end) was read.
    #[inline]
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inbound = self.inbound.borrow_mut();
        match Pin::new(&mut self.io).poll_read(cx, inbound.room()) {
            Poll::Ready(Ok(0)) => {
                inbound.eof = true;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(n)) => {
                inbound.filled(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Reads for a handler waiting on its request's body, first telling a client that
    /// expects it to go on (`100 Continue`).
    #[cold]
    fn poll_read_body(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        {
            let mut inbound = self.inbound.borrow_mut();
            if inbound.continue_due {
                inbound.continue_due = false;
                self.outbound.push_continue();
            }
        }
        if !self.outbound.is_empty() && self.outbound.poll_write(&mut self.io, cx)?.is_pending() {
            return Poll::Pending;
        }
        if self.poll_read(cx)?.is_pending() {
            return Poll::Pending;
        }
        let mut inbound = self.inbound.borrow_mut();
        inbound.wants_read = false;
        if let Some(reader) = inbound.take_reader(cx.waker()) {
            reader.wake();
        }
        Poll::Ready(Ok(()))
    }

    /// Hands a complete head to its handler.
    fn start(&mut self, head: inbound::Head) {
        let body = WireBody::new(self.inbound.clone(), head.declared_length);
        let version = head.parts.version;
        let keep_alive = head.keep_alive && self.connection.keep_alive();
        let answer = super::serve::start(&self.connection, head.parts, body.into());
        self.phase = Phase::Answering {
            answer,
            version,
            keep_alive,
        };
    }

    /// Queues the handler's response, deciding whether the connection stays open.
    fn respond(&mut self, response: http::Response<Body>, version: Version, keep_alive: bool) {
        if !self.inbound.borrow_mut().abandon_body(SKIP_MAX) {
            // Closing with unread bytes would reset the connection: linger instead.
            self.connection.linger.set(true);
        }
        let keep_alive = keep_alive && !self.closing && !self.connection.linger.get();
        self.queue(
            response,
            &Reply {
                version,
                keep_alive,
            },
        );
    }

    /// Answers a head that cannot be served, and closes once it is written.
    #[cold]
    fn refuse(&mut self, err: HeadError) {
        let (status, why) = match err {
            HeadError::Malformed(why) => (StatusCode::BAD_REQUEST, why),
            HeadError::TooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "the request's head is too large",
            ),
            HeadError::Version => (
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "only HTTP/1.0 and HTTP/1.1 are served here",
            ),
        };
        tracing::debug!(
            "tulip-http server: refusing a request from {}: {why}",
            self.connection.remote()
        );
        self.connection.linger.set(true);
        let response = Response::text(format!("{why}\n")).with_status(status);
        self.queue(
            response.into_hyper(),
            &Reply {
                version: Version::HTTP_11,
                keep_alive: false,
            },
        );
    }

    /// Queues a response for writing, and hands its header map on for the next request.
    fn queue(&mut self, response: http::Response<Body>, reply: &Reply) {
        let (parts, body) = response.into_parts();
        let close = self
            .outbound
            .push_response(parts.status, &parts.headers, body.0, reply);
        super::spare::give(parts.headers);
        self.phase = Phase::Writing {
            keep_alive: reply.keep_alive && !close,
        };
    }
}
