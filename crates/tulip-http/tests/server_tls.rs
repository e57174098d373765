//! HTTPS on the server: HTTP/2 when ALPN picks `h2` (several streams on one connection, each
//! request counted), HTTP/1.1 when the client offers only that, a client that is not
//! speaking TLS, and graceful shutdown of an HTTP/2 connection with a request in flight.

use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use tulip::net::{TcpStream, TlsAcceptor, TlsConnector, TlsStream};
use tulip::time::{Instant, sleep};
use tulip_http::Bytes;
use tulip_http::rt::{TulipExecutor, TulipIo};
use tulip_http::server::{Request, Router, Server, ServerHandle};

struct Cert {
    cert_pem: String,
    key_pem: String,
}

fn cert() -> Cert {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    Cert {
        cert_pem: cert.cert.pem(),
        key_pem: cert.signing_key.serialize_pem(),
    }
}

fn router() -> Router {
    Router::new()
        .get(
            "/",
            |req: Request| async move { format!("{:?}", req.version()) },
        )
        .get("/slow", |_req| async {
            sleep(Duration::from_secs(3)).await;
            "slow done"
        })
}

async fn serve(cert: &Cert) -> ServerHandle {
    let acceptor = TlsAcceptor::with_alpn(
        cert.cert_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        &[b"h2", b"http/1.1"],
    )
    .unwrap();
    Server::builder()
        .tls(acceptor)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
        .serve(router())
}

async fn tls_connect(cert: &Cert, addr: SocketAddr, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let connector = TlsConnector::builder()
        .without_builtin_roots()
        .add_root_certificates_pem(cert.cert_pem.as_bytes())
        .unwrap()
        .alpn_protocols(alpn)
        .build()
        .unwrap();
    let stream = TcpStream::connect(addr).await.unwrap();
    connector.connect("localhost", stream).await.unwrap()
}

fn get(path: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(format!("https://localhost{path}"))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tulip::test]
async fn alpn_h2_gets_http2_with_many_streams_on_one_connection() {
    let cert = cert();
    let server = serve(&cert).await;
    let tls = tls_connect(&cert, server.local_addr(), &[b"h2"]).await;
    assert_eq!(tls.alpn_protocol(), Some(&b"h2"[..]));

    let (sender, connection) =
        hyper::client::conn::http2::handshake(TulipExecutor, TulipIo::new(tls))
            .await
            .unwrap();
    tulip::spawn(connection).detach();
    let requests: Vec<_> = (0..4)
        .map(|_| {
            let mut sender = sender.clone();
            tulip::spawn(async move {
                let response = sender.send_request(get("/")).await.unwrap();
                assert_eq!(response.version(), http::Version::HTTP_2);
                response.into_body().collect().await.unwrap().to_bytes()
            })
        })
        .collect();
    for request in requests {
        assert_eq!(&request.await.unwrap()[..], b"HTTP/2.0");
    }
    let stats = server.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.requests_served, 4);
    server.shutdown().await;
}

#[tulip::test]
async fn a_client_offering_only_http11_gets_http11() {
    let cert = cert();
    let server = serve(&cert).await;
    let tls = tls_connect(&cert, server.local_addr(), &[b"http/1.1"]).await;
    assert_eq!(tls.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TulipIo::new(tls))
        .await
        .unwrap();
    tulip::spawn(connection).detach();
    for _ in 0..2 {
        sender.ready().await.unwrap();
        let request = http::Request::get("/")
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"HTTP/1.1");
    }
    assert_eq!(server.stats().connections_accepted, 1);
    server.shutdown().await;
}

#[tulip::test]
async fn plain_http_on_the_tls_port_is_dropped_and_the_server_goes_on() {
    let cert = cert();
    let server = serve(&cert).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    assert!(!buf.starts_with(b"HTTP/"), "no HTTP answer over plain text");
    assert_eq!(server.stats().requests_served, 0);

    // A TLS client still gets in.
    let tls = tls_connect(&cert, server.local_addr(), &[b"h2"]).await;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TulipExecutor, TulipIo::new(tls))
            .await
            .unwrap();
    tulip::spawn(connection).detach();
    let response = sender.send_request(get("/")).await.unwrap();
    assert_eq!(response.status(), 200);
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn an_http2_request_in_flight_finishes_during_shutdown() {
    let cert = cert();
    let server = serve(&cert).await;
    let tls = tls_connect(&cert, server.local_addr(), &[b"h2"]).await;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TulipExecutor, TulipIo::new(tls))
            .await
            .unwrap();
    let connection = tulip::spawn(connection);
    let start = Instant::now();
    let in_flight = tulip::spawn(async move {
        let response = sender.send_request(get("/slow")).await.unwrap();
        response.into_body().collect().await.unwrap().to_bytes()
    });
    sleep(Duration::from_secs(1)).await;

    server.clone().shutdown().await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(&in_flight.await.unwrap()[..], b"slow done");
    connection.await.unwrap().unwrap();
    assert_eq!(server.stats().connections_active, 0);
}
