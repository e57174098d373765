//! The server's HTTP/1.1 on the wire, seen by a client writing raw bytes: how a request body
//! is framed (chunked with extensions and trailers; `Content-Length` invalid, repeated, or
//! together with `Transfer-Encoding`; a `Transfer-Encoding` other than chunked; a malformed
//! chunk), `Expect: 100-continue`, keep-alive and close for HTTP/1.0 and for
//! `Connection: close`, malformed heads (request line, version, too many headers, a huge
//! header line), bodies a handler leaves unread, the `Date` and `Content-Length` of every
//! response (and neither length nor body on a `204`), absolute-form targets, non-ASCII and
//! repeated headers, a client that shuts its sending side, a request pipelined behind a body,
//! and requests split into pieces at any point.
//!
//! A request the server refuses gets its answer, then the connection is closed, and new
//! connections are still served. Plain pipelining, `HEAD`, 404/405, 413 and the header read
//! timeout are tested in `server_keepalive.rs`, `server_routing.rs`, `server_body.rs` and
//! `server_header_timeout.rs`.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use tulip::net::TcpStream;
use tulip::sync::Event;
use tulip::time::{sleep, wait_for};
use tulip_http::StatusCode;
use tulip_http::server::{Builder, Request, Router, Server, ServerHandle};

/// How long one wait on the server may take before the test fails. Far more than any step
/// needs: it only turns a hang into a message. It is under the default header read timeout
/// (30 s), so a connection the server should have closed is not closed by that instead.
const PATIENCE: Duration = Duration::from_secs(10);

/// The routes every test serves.
fn router() -> Router {
    Router::new()
        .get("/hello", |req: Request| async move {
            format!("hello x={}", req.query_param("x").as_deref().unwrap_or("-"))
        })
        .post("/echo", |req: Request| async move { req.body().await })
        .post("/ignore", |_req| async { "ignored" })
        .get("/none", |_req| async { StatusCode::NO_CONTENT })
        .get("/bin", |req: Request| async move {
            let raw = req
                .headers()
                .get("x-bin")
                .map(|value| value.as_bytes().to_vec());
            format!("{:?} {:?}", req.header("x-bin"), raw)
        })
        .get("/all", |req: Request| async move {
            let values: Vec<&str> = req
                .headers()
                .get_all("x-a")
                .iter()
                .map(|value| value.to_str().unwrap())
                .collect();
            values.join(",")
        })
}

/// A server with the default settings and [`router`].
async fn serve() -> ServerHandle {
    serve_with(Server::builder(), router()).await
}

async fn serve_with(builder: Builder, router: Router) -> ServerHandle {
    builder.bind("127.0.0.1:0").await.unwrap().serve(router)
}

/// `GET path` on a kept-alive connection.
fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

/// `POST path` with `body` framed by `Content-Length`.
fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One response as it came over the wire.
struct Reply {
    /// The head as sent: status line, header lines, blank line.
    head: Vec<u8>,
    status: u16,
    /// Names lowercased, values as sent (without the surrounding blanks).
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Reply {
    /// Parses a head that ends with its blank line; the body is filled in later.
    fn parse_head(head: Vec<u8>) -> Reply {
        let mut lines = head[..head.len() - 4]
            .split(|&b| b == b'\n')
            .map(|line| line.trim_ascii_end());
        let status_line = lossy(lines.next().unwrap());
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("a malformed status line: {status_line:?}"));
        let headers = lines
            .map(|line| {
                let colon = line.iter().position(|&b| b == b':').expect("a header line");
                let name = lossy(&line[..colon]).to_ascii_lowercase();
                (name, line[colon + 1..].trim_ascii().to_vec())
            })
            .collect();
        Reply {
            head,
            status,
            headers,
            body: Vec::new(),
        }
    }

    /// The first value of header `name`, if it is there and UTF-8.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    }

    /// The status and the body as text, to compare in one go.
    fn status_and_text(&self) -> (u16, &str) {
        let text = std::str::from_utf8(&self.body).expect("a UTF-8 body");
        (self.status, text)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", lossy(&self.head), lossy(&self.body))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A raw client connection. Requests go out exactly as given; responses are read one at a
/// time, and whatever came after a response stays buffered for the next, so several
/// requests can share the connection.
struct Conn {
    /// Shared, so that a task can write a long request while the test reads the answer.
    stream: Rc<TcpStream>,
    /// Read from the server, not yet part of a response.
    buffered: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        // Each write goes out at once, so the pieces of a split request arrive apart.
        stream.set_nodelay(true).unwrap();
        Conn {
            stream: Rc::new(stream),
            buffered: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        let mut stream = &*self.stream;
        stream.write_all(bytes).await.unwrap();
        stream.flush().await.unwrap();
    }

    /// Reads once more into `buffered`: how many bytes came, 0 at the end of the stream. A
    /// reset counts as the end: a server that closes with request bytes unread resets the
    /// connection after its answer.
    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        let mut stream = &*self.stream;
        match stream.read(&mut chunk).await {
            Ok(n) => {
                self.buffered.extend_from_slice(&chunk[..n]);
                n
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => 0,
            Err(err) => panic!("reading from the server: {err}"),
        }
    }

    /// The next response, to a request other than `HEAD`.
    async fn response(&mut self) -> Reply {
        self.read_reply(false).await
    }

    /// The next response, to a `HEAD` request: it has no body whatever its headers say.
    async fn head_response(&mut self) -> Reply {
        self.read_reply(true).await
    }

    /// The next response, or `None` if the server closes the connection before sending
    /// any of one.
    async fn response_or_close(&mut self) -> Option<Reply> {
        if self.buffered.is_empty() {
            let read = wait_for(PATIENCE, self.fill())
                .await
                .unwrap_or_else(|_| panic!("neither a response nor a close in {PATIENCE:?}"));
            if read == 0 {
                return None;
            }
        }
        Some(self.response().await)
    }

    /// Asserts that the server closes the connection without sending anything more.
    async fn assert_closed(&mut self) {
        let to_the_end = async { while self.fill().await > 0 {} };
        if wait_for(PATIENCE, to_the_end).await.is_err() {
            panic!(
                "the server kept the connection open for {PATIENCE:?}; it sent {:?}",
                lossy(&self.buffered)
            );
        }
        assert!(
            self.buffered.is_empty(),
            "the server sent more before closing: {:?}",
            lossy(&self.buffered)
        );
    }

    async fn read_reply(&mut self, to_head: bool) -> Reply {
        let read = wait_for(PATIENCE, self.parse_reply(to_head)).await;
        read.unwrap_or_else(|_| {
            panic!(
                "no whole response in {PATIENCE:?}; so far: {:?}",
                lossy(&self.buffered)
            )
        })
    }

    /// Reads a head, then the body its `Content-Length` gives (none for `HEAD`, 1xx, 204
    /// and 304; the rest of the stream without a length).
    async fn parse_reply(&mut self, to_head: bool) -> Reply {
        let head_end = loop {
            if let Some(at) = find(&self.buffered, b"\r\n\r\n") {
                break at + 4;
            }
            if self.fill().await == 0 {
                panic!(
                    "the server closed the connection before a whole response head: {:?}",
                    lossy(&self.buffered)
                );
            }
        };
        let mut reply = Reply::parse_head(self.buffered.drain(..head_end).collect());
        let status = reply.status;
        let length = if to_head || status < 200 || status == 204 || status == 304 {
            0
        } else if let Some(length) = reply.header("content-length") {
            length.parse().expect("a numeric content-length")
        } else {
            assert!(
                reply.header("transfer-encoding").is_none(),
                "a chunked response: {reply:?}"
            );
            while self.fill().await > 0 {}
            self.buffered.len()
        };
        while self.buffered.len() < length {
            if self.fill().await == 0 {
                panic!(
                    "the server closed the connection {} bytes into a {length}-byte body",
                    self.buffered.len()
                );
            }
        }
        reply.body = self.buffered.drain(..length).collect();
        reply
    }
}

/// Sends `request` on a new connection and returns the answer, having checked that the
/// server then closed the connection and still serves new ones.
async fn answered_then_closed(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut conn = Conn::open(addr).await;
    conn.send(request).await;
    let reply = conn.response().await;
    conn.assert_closed().await;
    assert_serving(addr).await;
    reply
}

/// Asserts that a new connection is served.
async fn assert_serving(addr: SocketAddr) {
    let mut conn = Conn::open(addr).await;
    conn.send(&get("/hello?x=still")).await;
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "hello x=still")
    );
}

/// A pseudo-random sequence (Knuth's MMIX LCG), so the split points are the same on every run.
struct Lcg(u64);

impl Lcg {
    /// A number below `bound`.
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize % bound
    }
}

#[tulip::test]
async fn a_chunked_body_with_extensions_and_trailers_arrives_whole() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=val\r\nhello\r\n\
          6;a=b;c=\"d e\"\r\n world\r\n\
          0;end=1\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n",
    )
    .await;
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "hello world")
    );

    conn.send(&get("/hello?x=2")).await;
    assert_eq!(conn.response().await.status_and_text(), (200, "hello x=2"));
    server.shutdown().await;
}

#[tulip::test]
async fn transfer_encoding_with_content_length_is_400_and_closes() {
    let server = serve().await;
    let framings = [
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
    ];
    for framing in framings {
        let request =
            format!("POST /echo HTTP/1.1\r\nHost: t\r\n{framing}\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        let reply = answered_then_closed(server.local_addr(), request.as_bytes()).await;
        assert_eq!(reply.status, 400, "{framing:?}: {reply:?}");
    }
    server.shutdown().await;
}

#[tulip::test]
async fn a_transfer_encoding_not_ending_in_chunked_is_400_and_closes() {
    let server = serve().await;
    for coding in ["gzip", "chunked, gzip"] {
        let request = format!(
            "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        let reply = answered_then_closed(server.local_addr(), request.as_bytes()).await;
        assert_eq!(reply.status, 400, "{coding:?}: {reply:?}");
    }
    server.shutdown().await;
}

#[tulip::test]
async fn chunked_on_an_http_1_0_request_is_400_and_closes() {
    let server = serve().await;
    let request =
        b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let reply = answered_then_closed(server.local_addr(), request).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    server.shutdown().await;
}

#[tulip::test]
async fn an_invalid_content_length_is_400_and_closes() {
    let server = serve().await;
    let lengths = [
        "Content-Length: abc",
        "Content-Length: -1",
        "Content-Length: +5",
        "Content-Length: 5\r\nContent-Length: 6",
        "Content-Length: 5, 6",
    ];
    for length in lengths {
        let request = format!("POST /echo HTTP/1.1\r\nHost: t\r\n{length}\r\n\r\nhello!");
        let reply = answered_then_closed(server.local_addr(), request.as_bytes()).await;
        assert_eq!(reply.status, 400, "{length:?}: {reply:?}");
    }
    server.shutdown().await;
}

#[tulip::test]
async fn repeated_equal_content_lengths_frame_the_body() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    let mut requests =
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
            .to_vec();
    requests.extend_from_slice(&get("/hello?x=after"));
    conn.send(&requests).await;
    assert_eq!(conn.response().await.status_and_text(), (200, "hello"));
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "hello x=after")
    );
    server.shutdown().await;
}

#[tulip::test]
async fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    )
    .await;
    let interim = conn.response().await;
    assert_eq!(lossy(&interim.head), "HTTP/1.1 100 Continue\r\n\r\n");

    conn.send(b"hello").await;
    assert_eq!(conn.response().await.status_and_text(), (200, "hello"));
    server.shutdown().await;
}

#[tulip::test]
async fn expect_100_continue_over_the_body_limit_is_413_without_100() {
    let server = serve().await; // the limit is 1 MiB
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n",
    )
    .await;
    let reply = conn.response().await;
    assert_eq!(reply.status, 413, "{reply:?}");
    server.shutdown().await;
}

#[tulip::test]
async fn http_1_0_without_keep_alive_is_answered_then_closed() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /hello?x=1 HTTP/1.0\r\n\r\n").await;
    assert_eq!(conn.response().await.status_and_text(), (200, "hello x=1"));
    conn.assert_closed().await;
    server.shutdown().await;
}

#[tulip::test]
async fn http_1_0_with_keep_alive_stays_open() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    for n in 1..=2 {
        conn.send(
            format!("GET /hello?x={n} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes(),
        )
        .await;
        let reply = conn.response().await;
        assert_eq!(
            reply.status_and_text(),
            (200, format!("hello x={n}").as_str())
        );
        assert!(
            reply
                .header("connection")
                .is_some_and(|value| value.eq_ignore_ascii_case("keep-alive")),
            "{reply:?}"
        );
    }
    server.shutdown().await;
}

#[tulip::test]
async fn connection_close_is_answered_with_close_and_the_connection_closed() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /hello?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await;
    let reply = conn.response().await;
    assert_eq!(reply.status_and_text(), (200, "hello x=1"));
    assert!(
        reply
            .header("connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close")),
        "{reply:?}"
    );
    conn.assert_closed().await;
    server.shutdown().await;
}

#[tulip::test]
async fn a_malformed_request_line_is_400_and_closes() {
    let server = serve().await;
    let reply = answered_then_closed(server.local_addr(), b"GARBAGE\r\n\r\n").await;
    assert_eq!(reply.status, 400, "{reply:?}");
    server.shutdown().await;
}

#[tulip::test]
async fn an_unknown_http_version_is_400_or_505_and_closes() {
    let server = serve().await;
    let reply = answered_then_closed(server.local_addr(), b"GET / HTTP/9.9\r\n\r\n").await;
    assert!(matches!(reply.status, 400 | 505), "{reply:?}");
    server.shutdown().await;
}

#[tulip::test]
async fn two_hundred_headers_are_431_and_close() {
    let server = serve().await;
    let mut request = b"GET /hello HTTP/1.1\r\nHost: t\r\n".to_vec();
    for n in 0..200 {
        request.extend_from_slice(format!("X-Header-{n}: v\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    let reply = answered_then_closed(server.local_addr(), &request).await;
    assert_eq!(reply.status, 431, "{reply:?}");
    server.shutdown().await;
}

#[tulip::test]
async fn a_header_line_of_a_mebibyte_is_431_and_closes() {
    let server = serve().await;
    let addr = server.local_addr();
    let mut conn = Conn::open(addr).await;
    let mut request = b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Huge: ".to_vec();
    request.resize(request.len() + (1 << 20), b'a');
    request.extend_from_slice(b"\r\n\r\n");
    // Written by a task: the server may answer, and close, before it has read it all.
    let stream = conn.stream.clone();
    let _writer = tulip::spawn(async move {
        let _ = (&*stream).write_all(&request).await;
    });
    if let Some(reply) = conn.response_or_close().await {
        assert_eq!(reply.status, 431, "{reply:?}");
        conn.assert_closed().await;
    }
    assert_serving(addr).await;
    server.shutdown().await;
}

#[tulip::test]
async fn an_unread_small_body_is_skipped_before_the_next_request() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    // A body that would be answered as a request if it were read as one.
    let mut body = b"GET /hello?x=smuggled HTTP/1.1\r\nHost: t\r\nX-Pad: ".to_vec();
    body.resize(96, b'p');
    body.extend_from_slice(b"\r\n\r\n");
    assert_eq!(body.len(), 100);

    conn.send(&post("/ignore", &body)).await;
    assert_eq!(conn.response().await.status_and_text(), (200, "ignored"));
    conn.send(&get("/hello?x=next")).await;
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "hello x=next")
    );
    server.shutdown().await;
}

#[tulip::test]
async fn an_unread_large_body_is_skipped_or_the_connection_closed() {
    let builder = Server::builder().max_body_size(16 << 20);
    let server = serve_with(builder, router()).await;
    let mut conn = Conn::open(server.local_addr()).await;
    // 5 MiB of requests that must never be answered, then one that may be.
    let smuggled = get("/hello?x=smuggled");
    let body: Vec<u8> = smuggled.iter().copied().cycle().take(5 << 20).collect();
    let mut requests = post("/ignore", &body);
    requests.extend_from_slice(&get("/hello?x=after"));
    // Written by a task while the answer is read; fails if the server closes instead of
    // reading it all, which is allowed.
    let stream = conn.stream.clone();
    let _writer = tulip::spawn(async move {
        let _ = (&*stream).write_all(&requests).await;
    });

    assert_eq!(conn.response().await.status_and_text(), (200, "ignored"));
    if let Some(next) = conn.response_or_close().await {
        assert_eq!(next.status_and_text(), (200, "hello x=after"));
    }
    server.shutdown().await;
}

#[tulip::test]
async fn every_response_has_a_date_and_a_content_length_matching_its_body() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    let exchanges: [(&[u8], &str); 3] = [
        (&get("/hello?x=1"), "hello x=1"),
        (&post("/echo", b"some bytes"), "some bytes"),
        (&get("/nowhere"), "404 Not Found"),
    ];
    for (request, body) in exchanges {
        conn.send(request).await;
        let reply = conn.response().await;
        assert_eq!(std::str::from_utf8(&reply.body), Ok(body));
        assert_eq!(
            reply.header("content-length"),
            Some(&*body.len().to_string())
        );
        assert!(
            reply
                .header("date")
                .is_some_and(|date| date.ends_with(" GMT")),
            "{reply:?}"
        );
    }
    // HEAD: the length of the body GET would send, and no body.
    conn.send(b"HEAD /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let reply = conn.head_response().await;
    assert_eq!(reply.header("content-length"), Some("9"), "{reply:?}");
    assert!(reply.header("date").is_some(), "{reply:?}");
    conn.send(&get("/hello?x=2")).await;
    assert_eq!(conn.response().await.status_and_text(), (200, "hello x=2"));
    server.shutdown().await;
}

#[tulip::test]
async fn a_204_has_no_body_nor_content_length_and_the_connection_goes_on() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(&get("/none")).await;
    let reply = conn.response().await;
    assert_eq!(reply.status, 204, "{reply:?}");
    assert_eq!(reply.header("content-length"), None, "{reply:?}");
    assert_eq!(reply.header("transfer-encoding"), None, "{reply:?}");
    // Had the 204 a body, it would be read here as the next response's head.
    conn.send(&get("/hello?x=after")).await;
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "hello x=after")
    );
    server.shutdown().await;
}

#[tulip::test]
async fn an_absolute_form_target_is_routed_by_its_path_and_query() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET http://example.com/hello?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.status_and_text(), (200, "hello x=1"));
    server.shutdown().await;
}

#[tulip::test]
async fn a_header_value_with_bytes_over_0x7f_is_kept_raw() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /bin HTTP/1.1\r\nHost: t\r\nX-Bin: caf\xe9 \xff\x80\r\n\r\n")
        .await;
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "None Some([99, 97, 102, 233, 32, 255, 128])")
    );
    server.shutdown().await;
}

#[tulip::test]
async fn a_client_that_shuts_its_sending_side_behind_a_request_gets_the_response() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(&get("/hello?x=1")).await;
    conn.stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(conn.response().await.status_and_text(), (200, "hello x=1"));
    conn.assert_closed().await;
    server.shutdown().await;
}

#[tulip::test]
async fn a_client_that_shuts_its_sending_side_while_the_handler_runs_gets_the_response() {
    let entered = Rc::new(Event::new());
    let gate = Rc::new(Event::new());
    let router = router().get("/gated", {
        let (entered, gate) = (entered.clone(), gate.clone());
        move |_req| {
            let (entered, gate) = (entered.clone(), gate.clone());
            async move {
                entered.set();
                gate.wait().await;
                "through the gate"
            }
        }
    });
    let server = serve_with(Server::builder(), router).await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(&get("/gated")).await;
    wait_for(PATIENCE, entered.wait()).await.unwrap();
    conn.stream.shutdown(Shutdown::Write).unwrap();
    // Nothing shows when the server has seen the end of the stream: the handler is held a
    // little while it arrives.
    sleep(Duration::from_millis(50)).await;
    gate.set();
    assert_eq!(
        conn.response().await.status_and_text(),
        (200, "through the gate")
    );
    conn.assert_closed().await;
    server.shutdown().await;
}

#[tulip::test]
async fn a_request_pipelined_behind_a_body_in_one_write_is_answered() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    let mut requests = post("/echo", b"first body");
    requests.extend_from_slice(&post("/echo", b"second"));
    requests.extend_from_slice(&get("/hello?x=3"));
    conn.send(&requests).await;
    assert_eq!(conn.response().await.status_and_text(), (200, "first body"));
    assert_eq!(conn.response().await.status_and_text(), (200, "second"));
    assert_eq!(conn.response().await.status_and_text(), (200, "hello x=3"));
    server.shutdown().await;
}

#[tulip::test]
async fn a_malformed_chunk_size_fails_the_body_read_with_400_and_closes() {
    let server = serve().await;
    let request = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    let reply = answered_then_closed(server.local_addr(), request).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    // The handler's `RequestError`, not a refusal before the handler ran.
    assert!(
        reply
            .body
            .starts_with(b"the request body could not be read"),
        "{reply:?}"
    );
    server.shutdown().await;
}

/// Three pipelined requests (a GET, a body by length, a chunked body) and their answers.
const PIPELINE: &[u8] = b"GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n\
    POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello there\
    POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
    4;x=y\r\nchun\r\n3\r\nked\r\n0\r\n\r\n";
const PIPELINE_ANSWERS: [(u16, &str); 3] =
    [(200, "hello x=1"), (200, "hello there"), (200, "chunked")];

/// Sends [`PIPELINE`] cut at `cuts` (ascending offsets), each piece in a write of its own a
/// few milliseconds after the one before, so that the server reads them apart, and checks
/// the answers.
async fn send_split(addr: SocketAddr, cuts: &[usize]) {
    let mut conn = Conn::open(addr).await;
    let mut start = 0;
    for &end in cuts.iter().chain([&PIPELINE.len()]) {
        conn.send(&PIPELINE[start..end]).await;
        sleep(Duration::from_millis(2)).await;
        start = end;
    }
    for expected in PIPELINE_ANSWERS {
        let reply = conn.response().await;
        assert_eq!(reply.status_and_text(), expected, "cut at {cuts:?}");
    }
}

#[tulip::test]
async fn pipelined_requests_cut_in_two_anywhere_get_the_same_answers() {
    let server = serve().await;
    for cut in 1..PIPELINE.len() {
        send_split(server.local_addr(), &[cut]).await;
    }
    server.shutdown().await;
}

#[tulip::test]
async fn pipelined_requests_cut_in_many_pieces_get_the_same_answers() {
    let server = serve().await;
    let mut random = Lcg(0x0074_756c_6970); // "tulip"
    for _ in 0..40 {
        let mut cuts: Vec<usize> = (0..2 + random.below(10))
            .map(|_| 1 + random.below(PIPELINE.len() - 1))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        send_split(server.local_addr(), &cuts).await;
    }
    server.shutdown().await;
}

#[tulip::test]
async fn repeated_header_names_are_all_seen_by_the_handler() {
    let server = serve().await;
    let mut conn = Conn::open(server.local_addr()).await;
    conn.send(b"GET /all HTTP/1.1\r\nHost: t\r\nX-A: one\r\nX-B: b\r\nX-A: two\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.status_and_text(), (200, "one,two"));
    server.shutdown().await;
}
