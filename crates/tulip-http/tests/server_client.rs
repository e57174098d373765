//! The server against tulip-http's own `ClientSession`: connection reuse as the server counts
//! it (sequential requests on one connection, concurrent ones on several and then reused),
//! keep-alive off, JSON both ways with path and query parameters, HEAD, 404/405/413 statuses,
//! HTTPS with HTTP/2 through ALPN, and a session whose server has gone away.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tulip::net::{TlsAcceptor, TlsConnector};
use tulip_http::server::{Json, Request, RequestError, Router, Server, ServerHandle};
use tulip_http::{ClientSession, Method, StatusCode};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Note {
    id: u32,
    text: String,
}

fn router() -> Router {
    Router::new()
        .get("/", |_req| async { "hello" })
        .get("/version", |req: Request| async move {
            format!("{:?}", req.version())
        })
        .get("/slow", |_req| async {
            tulip::time::sleep(Duration::from_secs(1)).await;
            "slow"
        })
        .post("/notes/{id}", |req: Request| async move {
            let id: u32 = req.param("id").unwrap().parse().unwrap();
            let mut note: Note = req.json().await?;
            note.id = id;
            if let Some(suffix) = req.query_param("suffix") {
                note.text.push_str(&suffix);
            }
            Ok::<_, RequestError>((StatusCode::CREATED, Json(note)))
        })
}

async fn serve(builder: tulip_http::server::Builder) -> ServerHandle {
    builder.bind("127.0.0.1:0").await.unwrap().serve(router())
}

#[tulip::test]
async fn sequential_requests_reuse_one_connection() {
    let server = serve(Server::builder()).await;
    let url = format!("http://{}/", server.local_addr());
    let session = ClientSession::new();
    for _ in 0..10 {
        let response = session.get(&url).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "hello");
    }
    let stats = server.stats();
    assert_eq!(stats.requests_served, 10);
    assert_eq!(stats.connections_accepted, 1);
    session.close().await;
    server.shutdown().await;
}

#[tulip::test(test_clock)]
async fn concurrent_requests_open_connections_that_are_then_reused() {
    let server = serve(Server::builder()).await;
    let url = format!("http://{}/slow", server.local_addr());
    let session = ClientSession::new();
    let requests: Vec<_> = (0..5)
        .map(|_| {
            let session = session.clone();
            let url = url.clone();
            tulip::spawn(async move { session.get(&url).send().await?.text().await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap(), "slow");
    }
    assert_eq!(server.stats().connections_accepted, 5);
    for _ in 0..5 {
        session
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.requests_served, 10);
    assert_eq!(
        stats.connections_accepted, 5,
        "the idle connections were reused"
    );
    session.close().await;
    server.shutdown().await;
}

#[tulip::test]
async fn without_keep_alive_every_request_is_a_new_connection() {
    let server = serve(Server::builder().keep_alive(false)).await;
    let url = format!("http://{}/", server.local_addr());
    let session = ClientSession::new();
    for _ in 0..3 {
        let response = session.get(&url).send().await.unwrap();
        assert_eq!(response.headers()["connection"], "close");
        assert_eq!(response.text().await.unwrap(), "hello");
    }
    assert_eq!(server.stats().connections_accepted, 3);
    session.close().await;
    server.shutdown().await;
}

#[tulip::test]
async fn json_goes_both_ways_with_path_and_query_parameters() {
    let server = serve(Server::builder()).await;
    let url = format!("http://{}/notes/7", server.local_addr());
    let session = ClientSession::new();
    let response = session
        .post(&url)
        .query(&[("suffix", "!")])
        .json(&Note {
            id: 0,
            text: "hi".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["content-type"], "application/json");
    let note: Note = response.json().await.unwrap();
    assert_eq!(
        note,
        Note {
            id: 7,
            text: "hi!".into()
        }
    );

    let response = session
        .post(&url)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let err = response.raise_for_status().unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    session.close().await;
    server.shutdown().await;
}

#[tulip::test]
async fn head_404_405_and_413_come_back_as_statuses() {
    let server = serve(Server::builder().max_body_size(10)).await;
    let base = format!("http://{}", server.local_addr());
    let session = ClientSession::new();

    let response = session.head(format!("{base}/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "5");
    assert!(response.bytes().await.unwrap().is_empty());

    let response = session.get(format!("{base}/missing")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = session
        .request(Method::DELETE, format!("{base}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");

    let response = session
        .post(format!("{base}/notes/1"))
        .body(vec![b'x'; 20])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.text().await.unwrap(),
        "the request body is over the limit of 10 bytes"
    );

    session.close().await;
    server.shutdown().await;
}

#[tulip::test]
async fn https_with_alpn_h2_speaks_http2_to_the_session() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let acceptor = TlsAcceptor::with_alpn(
        cert.cert.pem().as_bytes(),
        cert.signing_key.serialize_pem().as_bytes(),
        &[b"h2", b"http/1.1"],
    )
    .unwrap();
    let server = serve(Server::builder().tls(acceptor)).await;
    let connector = TlsConnector::builder()
        .without_builtin_roots()
        .add_root_certificates_pem(cert.cert.pem().as_bytes())
        .unwrap()
        .alpn_protocols(&[b"h2", b"http/1.1"])
        .build()
        .unwrap();
    let session = ClientSession::builder().tls_connector(connector).build();
    let url = format!("https://localhost:{}/version", server.local_addr().port());
    for _ in 0..3 {
        let response = session.get(&url).send().await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_2);
        assert_eq!(response.text().await.unwrap(), "HTTP/2.0");
    }
    let stats = server.stats();
    assert_eq!(stats.requests_served, 3);
    assert_eq!(stats.connections_accepted, 1);
    session.close().await;
    server.shutdown().await;
}

#[tulip::test]
async fn after_shutdown_the_session_gets_a_connect_error() {
    let server = serve(Server::builder()).await;
    let url = format!("http://{}/", server.local_addr());
    let session = ClientSession::new();
    assert_eq!(
        session
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "hello"
    );
    server.shutdown().await;
    // The pooled connection was closed by the server, and nobody listens any more.
    let err = session.get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    session.close().await;
}
