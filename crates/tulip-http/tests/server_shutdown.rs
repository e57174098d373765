//! Graceful shutdown on the test clock: a request in flight finishes (and its connection then
//! closes), idle keep-alive connections close at once, new connections are refused from the
//! moment it begins, the shutdown timeout closes what is still busy, and `wait()` sees the
//! end from another clone.

use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use tulip::Task;
use tulip::net::TcpStream;
use tulip::time::{Instant, sleep};
use tulip_http::Bytes;
use tulip_http::rt::TulipIo;
use tulip_http::server::{Router, Server, ServerHandle};

fn router() -> Router {
    Router::new()
        .get("/", |_req| async { "hello" })
        .get("/slow", |_req| async {
            sleep(Duration::from_secs(5)).await;
            "slow done"
        })
        .get("/forever", |_req| async {
            sleep(Duration::from_secs(1000)).await;
            "never"
        })
}

async fn serve(builder: tulip_http::server::Builder) -> ServerHandle {
    builder.bind("127.0.0.1:0").await.unwrap().serve(router())
}

async fn connect(addr: SocketAddr) -> (SendRequest<Full<Bytes>>, Task<hyper::Result<()>>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TulipIo::new(stream))
        .await
        .unwrap();
    (sender, tulip::spawn(connection))
}

fn get(path: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(path)
        .header("host", "test")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tulip::test(test_clock)]
async fn a_request_in_flight_finishes_and_new_connections_are_refused() {
    let server = serve(Server::builder()).await;
    let addr = server.local_addr();
    let start = Instant::now();

    let (mut sender, connection) = connect(addr).await;
    let in_flight = tulip::spawn(async move {
        let response = sender.send_request(get("/slow")).await.unwrap();
        let closes = response.headers().get("connection").cloned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (body, closes, Instant::now())
    });
    sleep(Duration::from_secs(1)).await;

    let stopping = tulip::spawn(server.clone().shutdown());
    tulip::task::yield_now().await;
    assert!(server.is_shutting_down());
    // From now on nobody gets in.
    sleep(Duration::from_secs(1)).await;
    let refused = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(!stopping.is_finished(), "the slow request is still running");

    let (body, closes, answered_at) = in_flight.await.unwrap();
    assert_eq!(&body[..], b"slow done");
    assert_eq!(answered_at - start, Duration::from_secs(5));
    assert_eq!(closes.as_ref().map(|v| v.to_str().unwrap()), Some("close"));
    // Then its connection is closed by the server.
    connection.await.unwrap().unwrap();
    stopping.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(5));

    let stats = server.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.connections_active, 0);
    assert_eq!(stats.requests_served, 1);
}

#[tulip::test(test_clock)]
async fn idle_keep_alive_connections_close_at_once() {
    let server = serve(Server::builder()).await;
    let mut connections = Vec::new();
    for _ in 0..3 {
        let (mut sender, connection) = connect(server.local_addr()).await;
        let response = sender.send_request(get("/")).await.unwrap();
        response.into_body().collect().await.unwrap();
        connections.push((sender, connection));
    }
    assert_eq!(server.stats().connections_active, 3);

    let start = Instant::now();
    server.clone().shutdown().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(server.stats().connections_active, 0);
    for (sender, connection) in connections {
        connection.await.unwrap().unwrap();
        assert!(sender.is_closed());
    }
}

#[tulip::test(test_clock)]
async fn the_shutdown_timeout_closes_what_is_still_busy() {
    let server = serve(Server::builder().shutdown_timeout(Duration::from_secs(10))).await;
    let start = Instant::now();
    let (mut sender, connection) = connect(server.local_addr()).await;
    let in_flight = tulip::spawn(async move { sender.send_request(get("/forever")).await });
    sleep(Duration::from_secs(1)).await;

    server.clone().shutdown().await;
    assert_eq!(start.elapsed(), Duration::from_secs(11));
    assert!(in_flight.await.unwrap().is_err(), "no answer ever came");
    // The client's side of the connection ends too (hyper reports the early close to the
    // request, not the connection).
    let _ = connection.await.unwrap();
    assert_eq!(server.stats().connections_active, 0);
}

#[tulip::test(test_clock)]
async fn wait_returns_when_a_clone_has_shut_the_server_down() {
    let server = serve(Server::builder()).await;
    let (mut sender, _connection) = connect(server.local_addr()).await;
    let in_flight = tulip::spawn(async move { sender.send_request(get("/slow")).await });
    let start = Instant::now();

    let waiter = server.clone();
    let waiting = tulip::spawn(async move {
        waiter.wait().await;
        Instant::now()
    });
    sleep(Duration::from_secs(2)).await;
    assert!(!waiting.is_finished());

    // Two shutdowns at once both return when the server has stopped.
    let one = tulip::spawn(server.clone().shutdown());
    let two = tulip::spawn(server.clone().shutdown());
    one.await.unwrap();
    two.await.unwrap();
    assert_eq!(waiting.await.unwrap() - start, Duration::from_secs(5));
    assert!(in_flight.await.unwrap().is_ok());

    // After the end, waiting returns at once, and so does another shutdown.
    server.wait().await;
    server.shutdown().await;
}

#[tulip::test]
async fn a_connection_made_before_the_shutdown_and_still_silent_is_closed() {
    let server = serve(Server::builder()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    // Let the server accept it.
    while server.stats().connections_accepted == 0 {
        tulip::task::yield_now().await;
    }
    server.clone().shutdown().await;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.unwrap();
    assert!(buf.is_empty(), "closed without a word");
    // Writing to it now fails, or goes nowhere.
    let _ = stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await;
    assert_eq!(server.stats().requests_served, 0);
}
