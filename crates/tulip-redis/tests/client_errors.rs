//! Failures that are not the server's error replies: bad URLs, refused connections,
//! garbage on the wire, silence.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use tulip_redis::{Client, ErrorKind, cmd};

#[test]
fn invalid_urls() {
    tulip::run(async {
        for url in [
            "",
            "localhost:6379",
            "http://localhost:6379/0",
            "rediss://localhost/0",
            "redis://",
            "redis:///0",
            "redis://localhost/abc",
            "redis://localhost/0/1",
            "redis://localhost:99999/0",
            "redis://user@localhost/0",
        ] {
            let err = Client::open(url).await.expect_err(url);
            assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}: {err}");
            assert!(err.to_string().starts_with("redis "), "{err}");
        }
    });
}

#[test]
fn connection_refused_at_open() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    tulip::run(async move {
        let url = format!("redis://127.0.0.1:{port}/0");
        let err = Client::open(&url).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    });
}

/// A "server" that reads one command and answers with `reply` (or nothing), then holds the
/// connection open until the test ends.
fn fake_server(reply: Option<&'static [u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        if let Some(reply) = reply {
            let _ = stream.write_all(reply);
        }
        // Keep the socket open (no EOF) until the client drops it.
        let _ = stream.read(&mut buf);
    });
    format!("redis://{addr}/0")
}

#[test]
fn garbage_reply_is_a_protocol_error() {
    let url = fake_server(Some(b"!garbage\r\n"));
    tulip::run(async move {
        let client = Client::open(&url).await.unwrap();
        let err = client.query(&cmd!("PING")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        assert_eq!(
            client.stats().reconnects,
            0,
            "protocol errors are not retried"
        );
    });
}

#[test]
fn extra_reply_is_a_protocol_error() {
    let url = fake_server(Some(b"+PONG\r\n+PONG\r\n"));
    tulip::run(async move {
        let client = Client::open(&url).await.unwrap();
        let err = client.query(&cmd!("PING")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    });
}

#[test]
fn silent_server_times_out() {
    let url = fake_server(None);
    tulip::run(async move {
        let client = Client::builder(&url)
            .response_timeout(Some(Duration::from_millis(100)))
            .open()
            .await
            .unwrap();
        let err = client.query(&cmd!("PING")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert_eq!(client.stats().round_trips, 1, "timeouts are not retried");
    });
}
