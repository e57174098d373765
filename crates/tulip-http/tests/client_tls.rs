//! HTTPS: HTTP/2 chosen through ALPN (one connection shared by concurrent requests, bodies
//! both ways, expiry when idle), HTTP/1.1 over TLS when the server offers only that, and an
//! untrusted certificate as `ErrorKind::Tls`. The servers are hyper's connection APIs over
//! tulip's TLS acceptor, with a self-signed certificate from rcgen.

mod client_support;

use std::cell::Cell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tulip::net::{TcpListener, TlsAcceptor, TlsConnector};
use tulip_http::rt::{TulipExecutor, TulipIo, TulipTimer};
use tulip_http::{ClientSession, ErrorKind};

struct TlsServer {
    addr: SocketAddr,
    cert_pem: String,
    accepted: Rc<Cell<usize>>,
}

impl TlsServer {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.addr.port(), path)
    }
}

/// Answers `<version> <method> <path> <body>`; `/slow` after 100 ms.
async fn handle(req: http::Request<Incoming>) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let head = format!("{:?} {} {}", req.version(), req.method(), req.uri().path());
    if req.uri().path() == "/slow" {
        tulip::time::sleep(Duration::from_millis(100)).await;
    }
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let text = format!("{head} {}", String::from_utf8_lossy(&body));
    Ok(http::Response::new(Full::new(Bytes::from(text))))
}

async fn start(alpn: &[&[u8]]) -> TlsServer {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = cert.cert.pem();
    let acceptor = TlsAcceptor::with_alpn(
        cert_pem.as_bytes(),
        cert.signing_key.serialize_pem().as_bytes(),
        alpn,
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Rc::new(Cell::new(0));
    let count = accepted.clone();
    tulip::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.set(count.get() + 1);
            // Without it Nagle holds back the second TLS record of a response until the
            // client's delayed ACK, 40 ms of real time the test clock would jump over.
            tcp.set_nodelay(true).unwrap();
            let acceptor = acceptor.clone();
            tulip::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if tls.alpn_protocol() == Some(b"h2") {
                    let _ = hyper::server::conn::http2::Builder::new(TulipExecutor)
                        .timer(TulipTimer)
                        .serve_connection(TulipIo::new(tls), service_fn(handle))
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TulipIo::new(tls), service_fn(handle))
                        .await;
                }
            })
            .detach();
        }
    })
    .detach();
    TlsServer {
        addr,
        cert_pem,
        accepted,
    }
}

fn session_trusting(server: &TlsServer) -> ClientSession {
    let connector = TlsConnector::builder()
        .add_root_certificates_pem(server.cert_pem.as_bytes())
        .unwrap()
        .alpn_protocols(&[b"h2", b"http/1.1"])
        .build()
        .unwrap();
    ClientSession::builder().tls_connector(connector).build()
}

#[test]
fn http2_shares_one_connection_between_concurrent_requests() {
    tulip::run(async {
        let server = start(&[b"h2", b"http/1.1"]).await;
        let session = session_trusting(&server);
        let r = session.get(server.url("/first")).send().await.unwrap();
        assert_eq!(r.version(), http::Version::HTTP_2);
        assert_eq!(r.text().await.unwrap(), "HTTP/2.0 GET /first ");
        assert_eq!(session.pool_stats().http2, 1);

        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let session = session.clone();
                let url = server.url("/slow");
                tulip::spawn(async move {
                    let body = format!("n={i}");
                    session
                        .post(url)
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), format!("HTTP/2.0 POST /slow n={i}"));
        }
        assert_eq!(server.accepted.get(), 1);
        let stats = session.pool_stats();
        assert_eq!((stats.opened, stats.reused, stats.http2), (1, 20, 1));
        assert_eq!(
            stats.idle, 0,
            "HTTP/2 connections are shared, not idle-listed"
        );
        session.close().await;
    });
}

#[test]
fn an_idle_http2_connection_expires() {
    tulip::Runtime::builder()
        .test_clock()
        .build()
        .unwrap()
        .block_on(async {
            let server = start(&[b"h2"]).await;
            let session = session_trusting(&server);
            let r = session.get(server.url("/")).send().await.unwrap();
            r.bytes().await.unwrap();
            tulip::time::sleep(Duration::from_secs(10)).await;
            assert_eq!(session.pool_stats().http2, 1);
            session
                .get(server.url("/"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            tulip::time::sleep(Duration::from_secs(16)).await;
            assert_eq!(session.pool_stats().http2, 0);
            assert_eq!(session.pool_stats().in_use, 0, "its slot is given back");
            let r = session.get(server.url("/again")).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "HTTP/2.0 GET /again ");
            assert_eq!(server.accepted.get(), 2);
        });
}

#[test]
fn http11_over_tls_when_the_server_offers_only_that() {
    tulip::run(async {
        let server = start(&[b"http/1.1"]).await;
        let session = session_trusting(&server);
        for _ in 0..3 {
            let r = session.get(server.url("/one")).send().await.unwrap();
            assert_eq!(r.version(), http::Version::HTTP_11);
            assert_eq!(r.text().await.unwrap(), "HTTP/1.1 GET /one ");
        }
        assert_eq!(server.accepted.get(), 1, "kept alive");
        assert_eq!(session.pool_stats().http2, 0);
    });
}

#[test]
fn an_untrusted_certificate_is_a_tls_error() {
    tulip::run(async {
        let server = start(&[b"h2", b"http/1.1"]).await;
        // The default session trusts Mozilla's roots, not this self-signed certificate.
        let session = ClientSession::new();
        let url = server.url("/");
        let err = session.get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Tls);
        assert!(err.is_connect());
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains(&url), "{err}");
        assert_eq!(session.pool_stats().in_use, 0);
        // One that trusts it gets through.
        let r = session_trusting(&server).get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
}
