//! ClientTimeout on the test clock: `total` over the head and the body, `sock_read` between
//! reads (head and body), `connect` over the wait for a pool slot, `sock_connect` over the
//! TLS handshake; per-request timeouts replacing the session's; the session usable after.

mod client_support;

use std::time::Duration;

use client_support::{RawServer, Step, ok, test_clock};
use tulip::time::Instant;
use tulip_http::{ClientSession, ClientTimeout, ErrorKind, TimeoutKind};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn timeout_of(err: &tulip_http::Error) -> (TimeoutKind, Duration) {
    match err.kind() {
        ErrorKind::Timeout { kind, after } => (*kind, *after),
        other => panic!("not a timeout: {other:?} ({err})"),
    }
}

/// A server: `/slow/N` answers after N seconds; `/stall` sends its head, then half its body,
/// then nothing for 100 s; `/drip` sends a byte every 2 s five times, then waits 4 s for the
/// last one; anything else answers at once.
async fn server() -> RawServer {
    RawServer::start(|req| {
        let path = req.target.as_str();
        if let Some(n) = path.strip_prefix("/slow/") {
            vec![
                Step::Sleep(secs(n.parse().unwrap())),
                Step::Write(ok("slow")),
            ]
        } else if path == "/stall" {
            vec![
                Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello".to_vec()),
                Step::Sleep(secs(100)),
                Step::Write(b"world".to_vec()),
            ]
        } else if path == "/drip" {
            let mut steps = vec![Step::Write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n".to_vec(),
            )];
            for _ in 0..5 {
                steps.push(Step::Sleep(secs(2)));
                steps.push(Step::Write(b"d".to_vec()));
            }
            steps.push(Step::Sleep(secs(4)));
            steps.push(Step::Write(b"!".to_vec()));
            steps
        } else {
            vec![Step::Write(ok("fast"))]
        }
    })
    .await
}

#[test]
fn defaults_are_aiohttps() {
    let t = ClientTimeout::default();
    assert_eq!(t.get_total(), Some(secs(300)));
    assert_eq!(t.get_sock_connect(), Some(secs(30)));
    assert_eq!((t.get_connect(), t.get_sock_read()), (None, None));
    assert_eq!(ClientTimeout::new().get_total(), None);
}

#[test]
fn total_covers_waiting_for_the_head() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().total(secs(5)))
            .build();
        let start = Instant::now();
        let url = server.url("/slow/60");
        let err = session.get(&url).send().await.unwrap_err();
        assert_eq!(Instant::now() - start, secs(5));
        assert_eq!(timeout_of(&err), (TimeoutKind::Total, secs(5)));
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total));
        assert!(err.is_timeout());
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains("total timeout"), "{err}");
        // Still usable.
        let r = session.get(server.url("/")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "fast");
    });
}

#[test]
fn total_covers_reading_the_body() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().total(secs(5)))
            .build();
        let start = Instant::now();
        let mut r = session.get(server.url("/stall")).send().await.unwrap();
        assert_eq!(&r.chunk().await.unwrap().unwrap()[..], b"hello");
        tulip::time::sleep(secs(2)).await;
        let err = r.chunk().await.unwrap_err();
        assert_eq!(Instant::now() - start, secs(5));
        assert_eq!(timeout_of(&err), (TimeoutKind::Total, secs(5)));
        assert_eq!(
            r.chunk().await.unwrap(),
            None,
            "the body is over after an error"
        );
        drop(r);
        assert_eq!(session.pool_stats().in_use, 0);
        assert_eq!(session.pool_stats().idle, 0);
    });
}

#[test]
fn sock_read_times_the_head() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().sock_read(secs(3)))
            .build();
        let start = Instant::now();
        let err = session
            .get(server.url("/slow/10"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(Instant::now() - start, secs(3));
        assert_eq!(timeout_of(&err), (TimeoutKind::SockRead, secs(3)));
        let r = session.get(server.url("/slow/2")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "slow");
    });
}

#[test]
fn sock_read_times_each_gap_in_the_body() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().sock_read(secs(3)))
            .build();
        let start = Instant::now();
        let mut r = session.get(server.url("/drip")).send().await.unwrap();
        let mut got = Vec::new();
        let err = loop {
            match r.chunk().await {
                Ok(Some(piece)) => got.extend_from_slice(&piece),
                Ok(None) => panic!("the 4 s gap should have timed out"),
                Err(err) => break err,
            }
        };
        // Five 2 s gaps pass; the 4 s one fails after 3 s.
        assert_eq!(got, b"ddddd");
        assert_eq!(Instant::now() - start, secs(13));
        assert_eq!(timeout_of(&err), (TimeoutKind::SockRead, secs(3)));
    });
}

#[test]
fn sock_read_counts_only_time_spent_waiting() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().sock_read(secs(3)))
            .build();
        let r = session.get(server.url("/")).send().await.unwrap();
        // Holding the response while doing something else is not a slow read.
        tulip::time::sleep(secs(10)).await;
        assert_eq!(r.text().await.unwrap(), "fast");
    });
}

#[test]
fn connect_covers_the_wait_for_a_pool_slot() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .limit(1)
            .timeout(ClientTimeout::new().connect(secs(2)))
            .build();
        // Holds the only connection (its body is not read).
        let held = session.get(server.url("/")).send().await.unwrap();
        let start = Instant::now();
        let err = session.get(server.url("/")).send().await.unwrap_err();
        assert_eq!(Instant::now() - start, secs(2));
        assert_eq!(timeout_of(&err), (TimeoutKind::Connect, secs(2)));
        assert_eq!(session.pool_stats().waiting, 0);
        held.bytes().await.unwrap();
        let r = session.get(server.url("/")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "fast");
        assert_eq!(server.accepted(), 1);
    });
}

#[test]
fn sock_connect_covers_the_tls_handshake() {
    test_clock().block_on(async {
        // It accepts TCP and never answers the TLS ClientHello.
        let silent = RawServer::start(|_| vec![Step::Hang]).await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().sock_connect(secs(4)).total(secs(60)))
            .build();
        let url = format!("https://{}/", silent.addr);
        let start = Instant::now();
        let err = session.get(&url).send().await.unwrap_err();
        assert_eq!(Instant::now() - start, secs(4));
        assert_eq!(timeout_of(&err), (TimeoutKind::SockConnect, secs(4)));
        assert_eq!(err.url(), url);
        assert_eq!(session.pool_stats().in_use, 0);
    });
}

#[test]
fn connect_bounds_a_hanging_handshake_too() {
    test_clock().block_on(async {
        let silent = RawServer::start(|_| vec![Step::Hang]).await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().connect(secs(2)).sock_connect(secs(4)))
            .build();
        let start = Instant::now();
        let err = session
            .get(format!("https://{}/", silent.addr))
            .send()
            .await
            .unwrap_err();
        assert_eq!(Instant::now() - start, secs(2));
        assert_eq!(timeout_of(&err), (TimeoutKind::Connect, secs(2)));
    });
}

#[test]
fn a_request_timeout_replaces_the_sessions() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().total(secs(1)))
            .build();
        let err = session.get(server.url("/slow/5")).send().await.unwrap_err();
        assert_eq!(timeout_of(&err), (TimeoutKind::Total, secs(1)));

        let r = session
            .get(server.url("/slow/5"))
            .timeout(ClientTimeout::new().total(secs(10)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "slow");

        // Replaced whole: this one has no total, only sock_read.
        let start = Instant::now();
        let err = session
            .get(server.url("/slow/30"))
            .timeout(ClientTimeout::new().sock_read(secs(7)))
            .send()
            .await
            .unwrap_err();
        assert_eq!(Instant::now() - start, secs(7));
        assert_eq!(timeout_of(&err), (TimeoutKind::SockRead, secs(7)));
    });
}

#[test]
fn no_timeout_waits_as_long_as_it_takes() {
    test_clock().block_on(async {
        let server = server().await;
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new())
            .build();
        let start = Instant::now();
        let r = session.get(server.url("/slow/1000")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "slow");
        assert_eq!(Instant::now() - start, secs(1000));
    });
}
