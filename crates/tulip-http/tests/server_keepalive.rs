//! Connections on the server: keep-alive reuse through hyper's client connection API over
//! `rt::TulipIo` (several requests on one connection, as the server's counters show),
//! pipelined requests, keep-alive turned off, idle connections closed by the header read
//! timeout on the test clock, and `max_connections` holding a caller back until a connection
//! closes.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use tulip::Task;
use tulip::net::TcpStream;
use tulip::time::{Instant, sleep};
use tulip_http::Bytes;
use tulip_http::rt::TulipIo;
use tulip_http::server::{Request, Router, Server, ServerHandle};

fn router() -> Router {
    Router::new()
        .get("/", |_req| async { "hello" })
        .get("/n/{n}", |req: Request| async move {
            format!("n={}", req.param("n").unwrap())
        })
        .post("/echo", |req: Request| async move { req.body().await })
}

async fn serve(server: tulip_http::server::Builder) -> ServerHandle {
    server.bind("127.0.0.1:0").await.unwrap().serve(router())
}

/// A hyper HTTP/1 client connection to `addr`, and the task driving it (it ends when the
/// connection closes).
async fn connect(addr: SocketAddr) -> (SendRequest<Full<Bytes>>, Task<hyper::Result<()>>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TulipIo::new(stream))
        .await
        .unwrap();
    (sender, tulip::spawn(connection))
}

async fn get(sender: &mut SendRequest<Full<Bytes>>, path: &str) -> (u16, String) {
    sender.ready().await.unwrap();
    let request = http::Request::get(path)
        .header("host", "test")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tulip::test]
async fn several_requests_share_one_kept_alive_connection() {
    let server = serve(Server::builder()).await;
    let (mut sender, connection) = connect(server.local_addr()).await;

    for n in 0..5 {
        let (status, body) = get(&mut sender, &format!("/n/{n}")).await;
        assert_eq!((status, body), (200, format!("n={n}")));
    }
    sender.ready().await.unwrap();
    let request = http::Request::post("/echo")
        .header("host", "test")
        .body(Full::new(Bytes::from_static(b"ping")))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ping");

    let stats = server.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.connections_active, 1);
    assert_eq!(stats.requests_served, 6);

    // A second client is a second connection.
    let (mut other, _other_connection) = connect(server.local_addr()).await;
    assert_eq!(get(&mut other, "/").await.1, "hello");
    assert_eq!(server.stats().connections_accepted, 2);
    assert_eq!(server.stats().requests_served, 7);

    server.shutdown().await;
    // The shutdown closed the idle connection: the client sees it go.
    connection.await.unwrap().unwrap();
    assert!(sender.is_closed());
}

#[tulip::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = serve(Server::builder()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(
            b"GET /n/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /n/2 HTTP/1.1\r\nHost: t\r\n\r\nGET /n/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let bodies: Vec<&str> = answer
        .split("HTTP/1.1 200 OK")
        .skip(1)
        .map(|response| response.rsplit("\r\n\r\n").next().unwrap())
        .collect();
    assert_eq!(bodies, ["n=1", "n=2", "n=3"]);
    assert_eq!(server.stats().connections_accepted, 1);
    assert_eq!(server.stats().requests_served, 3);
    server.shutdown().await;
}

#[tulip::test]
async fn hundreds_of_pipelined_requests_in_one_write_are_all_answered_in_order() {
    // More than the server starts in one poll of the connection: it yields between batches
    // and must pick up where it stopped.
    let server = serve(Server::builder()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut requests = String::new();
    for n in 1..=300 {
        requests.push_str(&format!("GET /n/{n} HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    requests.push_str("GET /n/last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = String::new();
    // Bounded only to turn a server that stops after a batch into a failure, not a hang.
    tulip::time::wait_for(
        std::time::Duration::from_secs(30),
        stream.read_to_string(&mut answer),
    )
    .await
    .expect("every answer within 30 s")
    .unwrap();
    let bodies: Vec<&str> = answer
        .split("HTTP/1.1 200 OK")
        .skip(1)
        .map(|response| response.rsplit("\r\n\r\n").next().unwrap())
        .collect();
    let mut expected: Vec<String> = (1..=300).map(|n| format!("n={n}")).collect();
    expected.push("n=last".to_owned());
    assert_eq!(bodies, expected);
    assert_eq!(server.stats().requests_served, 301);
    server.shutdown().await;
}

#[tulip::test]
async fn without_keep_alive_each_connection_carries_one_request() {
    let server = serve(Server::builder().keep_alive(false)).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(b"GET /n/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /n/2 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 1, "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.ends_with("n=1"), "{answer}");
    assert_eq!(server.stats().requests_served, 1);
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn a_silent_connection_is_closed_after_the_header_read_timeout() {
    let server = serve(Server::builder().header_read_timeout(Duration::from_secs(7))).await;
    let start = Instant::now();
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut buf = [0u8; 64];
    let read = stream.read(&mut buf).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(7));
    assert_eq!(server.stats().requests_served, 0);

    // An idle kept-alive connection goes the same way, counted from its last response.
    let (mut sender, connection) = connect(server.local_addr()).await;
    sleep(Duration::from_secs(5)).await;
    assert_eq!(get(&mut sender, "/").await.1, "hello");
    let answered = Instant::now();
    connection.await.unwrap().unwrap();
    assert_eq!(answered.elapsed(), Duration::from_secs(7));
    assert_eq!(server.stats().connections_active, 0);

    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn at_max_connections_a_caller_waits_until_a_connection_closes() {
    let server = serve(Server::builder().max_connections(1)).await;
    let addr = server.local_addr();

    let (mut first, first_connection) = connect(addr).await;
    assert_eq!(get(&mut first, "/").await.1, "hello");

    let answered = Rc::new(Cell::new(false));
    let waiting = tulip::spawn({
        let answered = answered.clone();
        async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(b"GET /n/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answered.set(true);
            answer
        }
    });

    sleep(Duration::from_secs(10)).await;
    assert!(!answered.get(), "the second caller is held back");
    assert_eq!(server.stats().connections_accepted, 1);

    drop(first); // closes the first connection
    first_connection.await.unwrap().unwrap();
    let answer = waiting.await.unwrap();
    assert!(answer.ends_with("n=2"), "{answer}");
    assert_eq!(server.stats().connections_accepted, 2);

    server.shutdown().await;
}

#[tulip::test]
async fn a_request_with_an_empty_body_type_works_too() {
    // hyper's `Empty` body: the server sees no body at all.
    let server = serve(Server::builder()).await;
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TulipIo::new(stream))
        .await
        .unwrap();
    tulip::spawn(connection).detach();
    let request = http::Request::post("/echo")
        .header("host", "test")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
    server.shutdown().await;
}
