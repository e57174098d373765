//! The server's header read timeout, on the test clock: what it cuts off (a head sent too
//! slowly, counted from the moment the server was ready for it; a silent TLS handshake; the
//! same over TLS) and what it leaves alone (a head completed in time, a slow handler, a slow
//! request body, a slow reader of a large response, any wait at all with the timeout off).
//! The idle keep-alive case is in `server_keepalive.rs`.

use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tulip::net::{TcpStream, TlsAcceptor, TlsConnector};
use tulip::time::{Instant, sleep, wait_for};
use tulip_http::server::{Request, Router, Server, ServerHandle};

const TIMEOUT: Duration = Duration::from_secs(7);

/// The size of `/large`'s body: more than the socket buffers of both ends hold.
const LARGE: usize = 16 << 20;

fn router() -> Router {
    Router::new()
        .get("/", |_req| async { "hello" })
        .get("/slow", |_req| async {
            sleep(Duration::from_secs(20)).await;
            "slow done"
        })
        .get("/large", |_req| async { vec![b'x'; LARGE] })
        .post("/echo", |req: Request| async move { req.body().await })
}

async fn serve(builder: tulip_http::server::Builder) -> ServerHandle {
    builder.bind("127.0.0.1:0").await.unwrap().serve(router())
}

/// Reads until the server closes the connection; what it sent, or `None` if it reset it.
async fn read_to_close(stream: &mut (impl AsyncRead + Unpin)) -> Option<String> {
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

/// A connection to the server that sends each write at once. (With Nagle's algorithm a
/// small write waits for the peer's acknowledgement of the one before, which the peer's
/// kernel may delay by 40 ms of real time; the test clock, seeing nothing to do, would
/// meanwhile jump to the server's next deadline.)
async fn connect(server: &ServerHandle) -> TcpStream {
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Writes `pieces` at the given offsets (from `start`) on the test clock.
async fn trickle(stream: &mut (impl AsyncWrite + Unpin), start: Instant, pieces: &[(u64, &str)]) {
    for (at, piece) in pieces {
        tulip::time::sleep_until(start + Duration::from_secs(*at)).await;
        stream.write_all(piece.as_bytes()).await.unwrap();
    }
}

#[tulip::test(test_clock)]
async fn a_head_sent_too_slowly_is_cut_off_at_the_timeout() {
    let server = serve(Server::builder().header_read_timeout(TIMEOUT)).await;
    let start = Instant::now();
    let mut stream = connect(&server).await;
    // Each piece comes well within the timeout of the one before: the clock still runs from
    // the moment the connection was accepted.
    trickle(
        &mut stream,
        start,
        &[
            (0, "GET / HTTP/1.1\r\n"),
            (3, "Host: t\r\n"),
            (6, "X-A: 1\r\n"),
        ],
    )
    .await;
    let answer = read_to_close(&mut stream).await;
    assert_eq!(start.elapsed(), TIMEOUT);
    assert!(matches!(answer.as_deref(), None | Some("")), "{answer:?}");
    assert_eq!(server.stats().requests_served, 0);
    assert_eq!(server.stats().connections_active, 0);
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn a_head_completed_in_time_is_served_and_the_clock_restarts_after_the_response() {
    let server = serve(Server::builder().header_read_timeout(TIMEOUT)).await;
    let start = Instant::now();
    let mut stream = connect(&server).await;
    trickle(
        &mut stream,
        start,
        &[(0, "GET / HTT"), (4, "P/1.1\r\nHost: t\r\n"), (6, "\r\n")],
    )
    .await;
    // The next head, half sent at once, never completes: the connection is closed a
    // timeout after the response, which went out at 6 s.
    stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let answer = read_to_close(&mut stream).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(6) + TIMEOUT);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    assert_eq!(server.stats().requests_served, 1);
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn a_slow_handler_and_a_slow_body_are_not_cut_off() {
    let server = serve(Server::builder().header_read_timeout(TIMEOUT)).await;
    let start = Instant::now();
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    // The body of the second request comes 10 s after its head.
    trickle(
        &mut stream,
        start,
        &[
            (
                25,
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\n",
            ),
            (35, "ping"),
        ],
    )
    .await;
    let answer = read_to_close(&mut stream).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(35));
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2, "{answer}");
    assert!(answer.contains("slow done"), "{answer}");
    assert!(answer.ends_with("ping"), "{answer}");
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn a_slow_reader_of_a_large_response_gets_all_of_it() {
    let server = serve(Server::builder().header_read_timeout(TIMEOUT)).await;
    let start = Instant::now();
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /large HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // The server's write blocks while nobody reads, for three timeouts.
    sleep(3 * TIMEOUT).await;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    assert_eq!(start.elapsed(), 3 * TIMEOUT);
    let body_at = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(answer.len() - body_at, LARGE);
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn without_a_timeout_a_silent_connection_stays_open() {
    let server = serve(Server::builder().header_read_timeout(None)).await;
    let mut stream = connect(&server).await;
    stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let waited = wait_for(Duration::from_secs(3600), stream.read(&mut buf)).await;
    assert!(waited.is_err(), "the server answered or closed: {waited:?}");
    assert_eq!(server.stats().connections_active, 1);
    // And it still takes the rest of the head.
    stream.write_all(b"Host: t\r\n\r\n").await.unwrap();
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    server.shutdown().await;
}

struct Tls {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
}

fn tls() -> Tls {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    Tls {
        acceptor: TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap(),
        connector: TlsConnector::builder()
            .without_builtin_roots()
            .add_root_certificates_pem(cert_pem.as_bytes())
            .unwrap()
            .build()
            .unwrap(),
    }
}

#[tulip::test(test_clock)]
async fn over_tls_a_silent_handshake_and_then_a_slow_head_are_cut_off() {
    let tls = tls();
    let server = serve(
        Server::builder()
            .tls(tls.acceptor.clone())
            .header_read_timeout(TIMEOUT),
    )
    .await;

    // Connected, but no handshake.
    let start = Instant::now();
    let mut silent = connect(&server).await;
    assert_eq!(read_to_close(&mut silent).await.as_deref(), Some(""));
    assert_eq!(start.elapsed(), TIMEOUT);

    // Handshake 3 s in, then half a head: cut off a timeout after the handshake.
    let stream = connect(&server).await;
    sleep(Duration::from_secs(3)).await;
    let mut stream = tls.connector.connect("localhost", stream).await.unwrap();
    let shaken = Instant::now();
    stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let answer = read_to_close(&mut stream).await;
    assert_eq!(shaken.elapsed(), TIMEOUT);
    assert!(matches!(answer.as_deref(), None | Some("")), "{answer:?}");

    // A head in time is served.
    let stream = connect(&server).await;
    let mut stream = tls.connector.connect("localhost", stream).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await.unwrap();
    assert!(answer.ends_with("hello"), "{answer}");
    assert_eq!(server.stats().requests_served, 1);
    server.shutdown().await;
}
