//! How failures reach the caller: a refused connection (`Connect`), an unknown host (`Dns`), a
//! server that closes without answering or breaks the framing (`Protocol`), `max_body_size`
//! on plain and on compressed bodies (`BodyTooLarge`, counted after decoding, per session and
//! per request), an unknown `Content-Encoding` (`Decode`, with the head still readable). Each
//! error names the URL, and the session keeps working.

mod client_support;

use std::io::Write;

use client_support::{RawServer, Step, ok, response};
use tulip_http::{ClientSession, ErrorKind};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `/big` is 100 000 plain bytes, `/gzip` the same gzipped (a few hundred bytes on the wire),
/// `/weird` is encoded with an unknown coding, `/vanish` closes without a word, `/garbage`
/// answers with something that is not HTTP; anything else answers "ok".
async fn server() -> RawServer {
    let big = vec![b'a'; 100_000];
    let zipped = gzip(&big);
    RawServer::start(move |req| match req.target.as_str() {
        "/big" => vec![Step::Write(response("200 OK", &[], &big))],
        "/gzip" => vec![Step::Write(response(
            "200 OK",
            &[("Content-Encoding", "gzip")],
            &zipped,
        ))],
        "/weird" => vec![Step::Write(response(
            "200 OK",
            &[("Content-Encoding", "zstd-ish")],
            b"????",
        ))],
        "/vanish" => vec![Step::Close],
        "/garbage" => vec![Step::Write(b"SMTP ready\r\n\r\n".to_vec()), Step::Close],
        _ => vec![Step::Write(ok("ok"))],
    })
    .await
}

async fn still_works(session: &ClientSession, server: &RawServer) {
    let r = session.get(server.url("/")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[test]
fn refused_connections_are_connect_errors() {
    tulip::run(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}/x");
        let session = ClientSession::new();
        let err = session.get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Connect);
        assert!(err.is_connect());
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains(&url), "{err}");
        assert!(err.to_string().contains("refused"), "{err}");
        assert_eq!(session.pool_stats().in_use, 0);
        still_works(&session, &server().await).await;
    });
}

#[test]
fn unknown_hosts_are_dns_errors() {
    tulip::run(async {
        let session = ClientSession::new();
        let url = "http://no-such-host.invalid/page";
        let err = session.get(url).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Dns);
        assert!(err.is_connect());
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
        still_works(&session, &server().await).await;
    });
}

#[test]
fn broken_answers_are_protocol_errors() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        for path in ["/vanish", "/garbage"] {
            let url = server.url(path);
            let err = session.get(&url).send().await.unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Protocol, "{path}");
            assert_eq!(err.url(), url);
            still_works(&session, &server).await;
        }
    });
}

#[test]
fn max_body_size_on_a_plain_body() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::builder().max_body_size(50_000).build();
        let url = server.url("/big");
        let err = session
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::BodyTooLarge { limit: 50_000 });
        assert_eq!(err.url(), url);
        // A request may allow more.
        let body = session
            .get(&url)
            .max_body_size(100_000)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len(), 100_000);
        still_works(&session, &server).await;
    });
}

#[test]
fn max_body_size_counts_decoded_bytes() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        // Small on the wire, 100 000 bytes once decoded.
        let url = server.url("/gzip");
        let err = session
            .get(&url)
            .max_body_size(10_000)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::BodyTooLarge { limit: 10_000 });
        let body = session
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len(), 100_000);
        assert!(body.iter().all(|&b| b == b'a'));
        // Read to its end: its connection was reused.
        still_works(&session, &server).await;
        assert!(session.pool_stats().reused >= 1);
    });
}

#[test]
fn unknown_encodings_fail_on_read_not_on_send() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        let url = server.url("/weird");
        let r = session.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "zstd-ish");
        let err = r.text().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Decode);
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains("zstd-ish"), "{err}");
        still_works(&session, &server).await;
    });
}
