//! Faults from a hand-made socket server: a reset or a close in the middle of a body, truncated
//! and malformed chunked encoding, a malformed status line, headers over the limit, a server
//! that never answers, a redirect loop, a redirect to `ftp://`, a gzip bomb against the body
//! limit, invalid JSON, a refused connection and a host that does not resolve. Each gives its
//! own `ErrorKind`, the error names the URL, and the same session then gets a good answer.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use tulip::net::{TcpListener, TcpStream};
use tulip::sync::Event;
use tulip::task::Task;
use tulip::time::Instant;
use tulip_http::{ClientSession, ClientTimeout, Error, ErrorKind, TimeoutKind};

/// What the server does after reading a request for some path.
enum Reply {
    /// Writes these bytes and waits for the next request on the connection.
    Send(Vec<u8>),
    /// Writes these bytes, then closes the connection (FIN).
    SendAndClose(Vec<u8>),
    /// Writes these bytes, waits for the event, then resets the connection (RST).
    SendThenReset(Vec<u8>, Rc<Event>),
    /// Writes these bytes, then neither writes nor closes again.
    SendAndHang(Vec<u8>),
}

/// A server on 127.0.0.1 that answers `/ok` properly and every other path as its route says.
struct FaultServer {
    addr: SocketAddr,
    /// Requests read, on every path.
    hits: Rc<Cell<usize>>,
    _accept: Task<()>,
}

type Route = Rc<dyn Fn(&str) -> Reply>;

impl FaultServer {
    async fn start(route: impl Fn(&str) -> Reply + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Rc::new(Cell::new(0));
        let route: Route = Rc::new(route);
        let counter = hits.clone();
        let accept = tulip::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tulip::spawn(serve_connection(stream, route.clone(), counter.clone())).detach();
            }
        });
        FaultServer {
            addr,
            hits,
            _accept: accept,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn serve_connection(mut stream: TcpStream, route: Route, hits: Rc<Cell<usize>>) {
    let mut buffered = Vec::new();
    while let Some(head) = read_head(&mut stream, &mut buffered).await {
        hits.set(hits.get() + 1);
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let reply = if path == "/ok" {
            Reply::Send(ok_response())
        } else {
            route(&path)
        };
        // Write errors are the client having given up, which is what some tests want.
        match reply {
            Reply::Send(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Reply::SendAndClose(bytes) => {
                let _ = stream.write_all(&bytes).await;
                return;
            }
            Reply::SendThenReset(bytes, go) => {
                let _ = stream.write_all(&bytes).await;
                go.wait().await;
                socket2::SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
                return; // dropping the socket with a zero linger sends RST
            }
            Reply::SendAndHang(bytes) => {
                let _ = stream.write_all(&bytes).await;
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The next request head on the connection (requests here have no body), None at its end.
async fn read_head(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buffered.drain(..end + 4).collect();
            return Some(String::from_utf8_lossy(&head).into_owned());
        }
        let mut buf = [0; 4096];
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffered.extend_from_slice(&buf[..n]),
        }
    }
}

fn ok_response() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok".to_vec()
}

fn response(head: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = head.replace('\n', "\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

/// A session whose requests end within a minute whatever happens, so a client bug fails a
/// test instead of hanging it (the failing test then reports a timeout, not its fault).
fn session() -> ClientSession {
    ClientSession::builder()
        .timeout(ClientTimeout::new().total(Duration::from_secs(60)))
        .build()
}

#[track_caller]
fn assert_fault(err: &Error, kind: &ErrorKind, url: &str) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.url(), url, "{err}");
    assert!(
        err.to_string().contains(url),
        "the message names the URL: {err}"
    );
}

/// The session still works: a good request to the same server succeeds.
async fn assert_still_works(session: &ClientSession, server: &FaultServer) {
    let response = session
        .get(server.url("/ok"))
        .send()
        .await
        .unwrap_or_else(|err| panic!("a good request after the fault failed: {err}"));
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tulip::test]
async fn reset_in_the_middle_of_the_body() {
    let go = Rc::new(Event::new());
    let reset = go.clone();
    let server = FaultServer::start(move |_| {
        let head = "HTTP/1.1 200 OK\nContent-Length: 100000\n";
        Reply::SendThenReset(response(head, &[b'x'; 1000]), reset.clone())
    })
    .await;
    let session = session();
    let url = server.url("/reset");
    let response = session.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    go.set();
    let err = response.bytes().await.unwrap_err();
    assert_fault(&err, &ErrorKind::Protocol, &url);
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn close_in_the_middle_of_the_body() {
    let server = FaultServer::start(|_| {
        let head = "HTTP/1.1 200 OK\nContent-Length: 100000\n";
        Reply::SendAndClose(response(head, &[b'x'; 1000]))
    })
    .await;
    let session = session();
    let url = server.url("/short");
    let response = session.get(&url).send().await.unwrap();
    let err = response.bytes().await.unwrap_err();
    assert_fault(&err, &ErrorKind::Protocol, &url);
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn truncated_and_malformed_chunked_encoding() {
    let server = FaultServer::start(|path| {
        let head = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n";
        match path {
            // Cut inside the second chunk, no last chunk.
            "/cut" => Reply::SendAndClose(response(head, b"5\r\nhello\r\n6\r\nwor")),
            // Cut after a whole chunk, before the last (zero) chunk.
            "/nolast" => Reply::SendAndClose(response(head, b"5\r\nhello\r\n")),
            // A chunk size that is not hexadecimal.
            _ => Reply::SendAndHang(response(head, b"5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n")),
        }
    })
    .await;
    let session = session();
    for path in ["/cut", "/nolast", "/badsize"] {
        let url = server.url(path);
        let response = session.get(&url).send().await.unwrap();
        let err = response.bytes().await.unwrap_err();
        assert_fault(&err, &ErrorKind::Protocol, &url);
    }
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn malformed_status_lines() {
    let server = FaultServer::start(|path| {
        // The server then stays silent: the error must come from the bytes, not from a close.
        Reply::SendAndHang(match path {
            "/letters" => b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
            "/ssh" => b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(),
            _ => b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n".to_vec(),
        })
    })
    .await;
    let session = session();
    for path in ["/letters", "/ssh", "/header"] {
        let url = server.url(path);
        let err = session.get(&url).send().await.unwrap_err();
        assert_fault(&err, &ErrorKind::Protocol, &url);
    }
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn headers_over_the_limit() {
    let server = FaultServer::start(|path| {
        let mut head = String::from("HTTP/1.1 200 OK\n");
        if path == "/huge" {
            // One header of 1 MiB, far over hyper's 400 KiB read buffer.
            head.push_str(&format!("X-Huge: {}\n", "a".repeat(1 << 20)));
        } else {
            // 200 small headers, over hyper's 100.
            for i in 0..200 {
                head.push_str(&format!("X-Filler-{i}: {i}\n"));
            }
        }
        head.push_str("Content-Length: 2\n");
        Reply::SendAndHang(response(&head, b"ok"))
    })
    .await;
    let session = session();
    for path in ["/huge", "/many"] {
        let url = server.url(path);
        let err = session.get(&url).send().await.unwrap_err();
        assert_fault(&err, &ErrorKind::Protocol, &url);
    }
    assert_still_works(&session, &server).await;
}

#[test]
fn a_server_that_never_answers_runs_out_sock_read() {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async {
        let server = FaultServer::start(|path| match path {
            "/silent" => Reply::SendAndHang(Vec::new()),
            _ => Reply::SendAndHang(response("HTTP/1.1 200 OK\nContent-Length: 10\n", b"abc")),
        })
        .await;
        let read = Duration::from_secs(10);
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().sock_read(read))
            .build();
        let timed_out = ErrorKind::Timeout {
            kind: TimeoutKind::SockRead,
            after: read,
        };

        // No response head at all.
        let url = server.url("/silent");
        let start = Instant::now();
        let err = session.get(&url).send().await.unwrap_err();
        assert_fault(&err, &timed_out, &url);
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::SockRead));
        assert_eq!(start.elapsed(), read);

        // A head, then part of the body, then nothing.
        let url = server.url("/stalled");
        let response = session.get(&url).send().await.unwrap();
        let start = Instant::now();
        let err = response.bytes().await.unwrap_err();
        assert_fault(&err, &timed_out, &url);
        assert_eq!(start.elapsed(), read);

        assert_still_works(&session, &server).await;
    });
}

#[test]
fn a_server_that_never_answers_runs_out_total() {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async {
        let server = FaultServer::start(|_| Reply::SendAndHang(Vec::new())).await;
        let total = Duration::from_secs(300);
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().total(total))
            .build();
        let url = server.url("/silent");
        let start = Instant::now();
        let err = session.get(&url).send().await.unwrap_err();
        let want = ErrorKind::Timeout {
            kind: TimeoutKind::Total,
            after: total,
        };
        assert_fault(&err, &want, &url);
        assert_eq!(start.elapsed(), total);
        assert_still_works(&session, &server).await;
    });
}

#[tulip::test]
async fn a_redirect_loop_stops_at_the_limit() {
    let server = FaultServer::start(|_| {
        Reply::Send(response(
            "HTTP/1.1 302 Found\nLocation: /loop\nContent-Length: 4\n",
            b"away",
        ))
    })
    .await;
    let session = session();
    let url = server.url("/loop");
    let err = session.get(&url).send().await.unwrap_err();
    assert_fault(&err, &ErrorKind::TooManyRedirects { max: 10 }, &url);
    // The first request and ten redirects followed, all on one kept-alive connection.
    assert_eq!(server.hits.get(), 11);

    let err = session.get(&url).max_redirects(2).send().await.unwrap_err();
    assert_fault(&err, &ErrorKind::TooManyRedirects { max: 2 }, &url);
    assert_eq!(server.hits.get(), 11 + 3);
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn a_redirect_to_ftp_is_refused() {
    let server = FaultServer::start(|_| {
        Reply::Send(response(
            "HTTP/1.1 301 Moved Permanently\nLocation: ftp://127.0.0.1/file\nContent-Length: 0\n",
            b"",
        ))
    })
    .await;
    let session = session();
    let url = server.url("/ftp");
    let err = session.get(&url).send().await.unwrap_err();
    assert_fault(&err, &ErrorKind::InvalidRedirect, &url);
    assert_eq!(server.hits.get(), 1);
    assert_still_works(&session, &server).await;
}

/// A gzip member holding 1 GiB of zeros in 6.5 MB: one fixed-Huffman deflate block of a zero
/// literal and (length 258, distance 1) copies.
fn gzip_bomb() -> Vec<u8> {
    const GIB: u64 = 1 << 30;
    let mut bits = BitWriter::default();
    bits.put(1, 1); // the last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0b0011_0000, 8); // literal 0
    let mut left = GIB - 1;
    while left >= 258 {
        bits.code(0b1100_0101, 8); // length 258
        bits.code(0, 5); // distance 1
        left -= 258;
    }
    while left > 0 {
        bits.code(0b0011_0000, 8);
        left -= 1;
    }
    bits.code(0, 7); // end of block
    bits.put(0, 7); // pad to a byte

    let mut member = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    member.extend_from_slice(&bits.out);
    let mut mib = flate2::Crc::new();
    mib.update(&vec![0; 1 << 20]);
    let mut crc = flate2::Crc::new();
    for _ in 0..1024 {
        crc.combine(&mib);
    }
    member.extend_from_slice(&crc.sum().to_le_bytes());
    member.extend_from_slice(&(GIB as u32).to_le_bytes());
    member
}

/// Deflate's bit order: fields least significant bit first, Huffman codes most significant
/// bit first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, n: u32) {
        self.acc |= value << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn code(&mut self, code: u64, n: u32) {
        let reversed = (0..n).fold(0, |r, i| r | ((code >> i) & 1) << (n - 1 - i));
        self.put(reversed, n);
    }
}

#[tulip::test]
async fn a_gzip_bomb_stops_at_max_body_size() {
    let bomb = Rc::new(gzip_bomb());
    let body = bomb.clone();
    let server = FaultServer::start(move |path| {
        let head = format!(
            "HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Type: text/plain\nContent-Length: {}\n",
            body.len()
        );
        if path == "/small" {
            // The same coding on a body within the limit decodes fine.
            let small = gzip(b"small and fine");
            let head = format!(
                "HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: {}\n",
                small.len()
            );
            return Reply::Send(response(&head, &small));
        }
        Reply::SendAndClose(response(&head, &body))
    })
    .await;
    let limit = 1 << 20;
    let session = ClientSession::builder()
        .timeout(ClientTimeout::new().total(Duration::from_secs(60)))
        .max_body_size(limit)
        .build();

    let url = server.url("/bomb");
    let response = session.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let err = response.bytes().await.unwrap_err();
    assert_fault(&err, &ErrorKind::BodyTooLarge { limit }, &url);

    // Streaming it stops the same way, having handed out no more than the limit.
    let mut response = session.get(&url).send().await.unwrap();
    let mut received = 0;
    let err = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len() as u64,
            Ok(None) => panic!("the whole bomb was delivered"),
            Err(err) => break err,
        }
    };
    assert_fault(&err, &ErrorKind::BodyTooLarge { limit }, &url);
    assert!(received <= limit, "{received}");

    let small = session.get(server.url("/small")).send().await.unwrap();
    assert_eq!(small.text().await.unwrap(), "small and fine");
    assert_still_works(&session, &server).await;
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, data).unwrap();
    encoder.finish().unwrap()
}

#[tulip::test]
async fn invalid_json_is_a_json_error() {
    let server = FaultServer::start(|_| {
        Reply::Send(response(
            "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 9\n",
            b"{not json",
        ))
    })
    .await;
    let session = session();
    let url = server.url("/json");
    let response = session.get(&url).send().await.unwrap();
    let err = response.json::<serde_json::Value>().await.unwrap_err();
    assert_fault(&err, &ErrorKind::Json, &url);
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn a_refused_connection_is_a_connect_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed); // nobody listens there now
    let server = FaultServer::start(|_| Reply::Send(ok_response())).await;
    let session = session();
    let err = session.get(&url).send().await.unwrap_err();
    assert_fault(&err, &ErrorKind::Connect, &url);
    assert!(err.is_connect());
    assert_still_works(&session, &server).await;
}

#[tulip::test]
async fn an_unresolvable_host_is_a_dns_error() {
    let server = FaultServer::start(|_| Reply::Send(ok_response())).await;
    let session = session();
    // `.invalid` never resolves (RFC 6761).
    let url = "http://nohost.invalid/";
    let err = session.get(url).send().await.unwrap_err();
    assert_fault(&err, &ErrorKind::Dns, url);
    assert!(err.is_connect());
    assert_still_works(&session, &server).await;
}
