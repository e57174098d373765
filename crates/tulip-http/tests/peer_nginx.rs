//! tulip-http's client against a real nginx (Debian's, started by the test on its own port with
//! its own config) serving static files over keep-alive: pooled connection reuse, the `limit`
//! on open connections and large bodies, checked by nginx's own access log (`$connection`,
//! `$connection_requests`, `$connections_active`) as well as the session's pool counters.

mod peers;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use peers::{ConnectionUse, INDEX_HTML, LARGE_LEN, Nginx, SMALL_JSON};
use tulip_http::ClientSession;

/// Reads one response (status line, headers, a `Content-Length` body) off a raw connection.
fn read_raw_response(reader: &mut BufReader<TcpStream>) -> (u16, Vec<u8>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line[9..12].parse().unwrap();
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, body)
}

/// The yardstick first: five requests down one raw keep-alive connection show in nginx's log as
/// one `$connection` with `$connection_requests` 1 to 5, and a second connection as another.
#[test]
fn nginx_log_counts_requests_per_connection() {
    let Some(nginx) = Nginx::start() else { return };
    for _ in 0..2 {
        let stream = TcpStream::connect(nginx.addr()).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        for _ in 0..5 {
            let request = format!("GET /small.json HTTP/1.1\r\nHost: {}\r\n\r\n", nginx.addr());
            writer.write_all(request.as_bytes()).unwrap();
            let (status, body) = read_raw_response(&mut reader);
            assert_eq!(status, 200);
            assert_eq!(body, SMALL_JSON.as_bytes());
        }
    }
    let log = nginx.wait_for_log(10);
    assert_eq!(log.len(), 10, "{log:?}");
    let usage = ConnectionUse::of(&log);
    assert_eq!(usage.connections(), 2, "{log:?}");
    assert!(usage.per_connection.values().all(|&n| n == 5), "{log:?}");
    let first: Vec<u64> = log[..5].iter().map(|e| e.connection_requests).collect();
    assert_eq!(first, [1, 2, 3, 4, 5]);
    assert!(
        log.iter()
            .all(|e| e.uri == "/small.json" && e.status == 200)
    );
}

/// 200 requests one after the other travel on one connection.
#[test]
fn sequential_requests_reuse_one_connection() {
    let Some(nginx) = Nginx::start() else { return };
    let url = nginx.url("/small.json");
    let stats = peers::run(async {
        let session = ClientSession::new();
        for _ in 0..200 {
            let response = session.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.text().await.unwrap(), SMALL_JSON);
        }
        let stats = session.pool_stats();
        session.close().await;
        stats
    });
    let log = nginx.wait_for_log(200);
    assert_eq!(log.len(), 200);
    let usage = ConnectionUse::of(&log);
    assert_eq!(usage.connections(), 1, "{usage:?}");
    assert_eq!(usage.max_connection_requests, 200);
    assert_eq!((stats.opened, stats.reused), (1, 199), "{stats:?}");
}

/// 200 requests from 8 tasks at once: at most 8 connections, each carrying many requests.
#[test]
fn concurrent_requests_share_pooled_connections() {
    let Some(nginx) = Nginx::start() else { return };
    let url = nginx.url("/small.json");
    let stats = peers::run(async {
        let session = ClientSession::new();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let session = session.clone();
                let url = url.clone();
                tulip::spawn(async move {
                    for _ in 0..25 {
                        let response = session.get(&url).send().await.unwrap();
                        assert_eq!(response.bytes().await.unwrap(), SMALL_JSON.as_bytes());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let stats = session.pool_stats();
        session.close().await;
        stats
    });
    let log = nginx.wait_for_log(200);
    assert_eq!(log.len(), 200);
    let usage = ConnectionUse::of(&log);
    assert!(usage.connections() <= 8, "{usage:?}");
    assert!(usage.max_active <= 8, "{usage:?}");
    assert!(usage.max_connection_requests > 1, "{usage:?}");
    assert!(stats.opened <= 8, "{stats:?}");
    assert_eq!(stats.opened + stats.reused, 200, "{stats:?}");
    assert_eq!(
        stats.opened as usize,
        usage.connections(),
        "{stats:?} {usage:?}"
    );
}

/// With `limit(2)`, 8 tasks downloading at once never hold more than 2 connections open.
#[test]
fn limit_two_never_has_more_than_two_connections_open() {
    let Some(nginx) = Nginx::start() else { return };
    let small = nginx.url("/small.json");
    let large = nginx.url("/large.bin");
    let stats = peers::run(async {
        let session = ClientSession::builder().limit(2).build();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let session = session.clone();
                // Large bodies keep connections busy long enough for the others to queue.
                let url = if i % 2 == 0 {
                    small.clone()
                } else {
                    large.clone()
                };
                tulip::spawn(async move {
                    for _ in 0..5 {
                        let response = session.get(&url).send().await.unwrap();
                        assert_eq!(response.status(), 200);
                        response.bytes().await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let stats = session.pool_stats();
        session.close().await;
        stats
    });
    let log = nginx.wait_for_log(40);
    assert_eq!(log.len(), 40);
    let usage = ConnectionUse::of(&log);
    assert!(usage.max_active <= 2, "{usage:?}");
    assert!(usage.connections() <= 2, "{usage:?}");
    assert!(stats.opened <= 2, "{stats:?}");
    assert_eq!(stats.in_use, 0, "{stats:?}");
}

/// A 3 MiB file arrives byte for byte, read whole and read piece by piece, and its connection
/// is reused afterwards.
#[test]
fn large_static_file_bytes_match() {
    let Some(nginx) = Nginx::start() else { return };
    let url = nginx.url("/large.bin");
    let expected = peers::large_body();
    peers::run(async {
        let session = ClientSession::new();
        let response = session.get(&url).send().await.unwrap();
        let length = response.headers()["content-length"].to_str().unwrap();
        assert_eq!(length, LARGE_LEN.to_string());
        let body = response.bytes().await.unwrap();
        assert!(body == expected, "the body differs from the file");

        let mut response = session.get(&url).send().await.unwrap();
        let mut pieces = 0;
        let mut body = Vec::new();
        while let Some(piece) = response.chunk().await.unwrap() {
            pieces += 1;
            body.extend_from_slice(&piece);
        }
        assert!(pieces > 1, "a 3 MiB body came in one piece");
        assert!(
            body == expected,
            "the body read in pieces differs from the file"
        );
        assert_eq!(session.pool_stats().opened, 1);
        session.close().await;
    });
    let usage = ConnectionUse::of(&nginx.wait_for_log(2));
    assert_eq!(usage.connections(), 1, "{usage:?}");
    assert_eq!(usage.max_connection_requests, 2);
}

/// HEAD (headers announcing a body that never comes), a 404 with a body, and an unread body
/// dropped half-way: the first two leave the connection reusable.
#[test]
fn head_and_404_keep_the_connection_reusable() {
    let Some(nginx) = Nginx::start() else { return };
    peers::run(async {
        let session = ClientSession::new();
        let response = session.head(nginx.url("/large.bin")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-length"].to_str().unwrap(),
            LARGE_LEN.to_string()
        );
        assert!(response.bytes().await.unwrap().is_empty());

        let response = session.get(nginx.url("/missing")).send().await.unwrap();
        assert_eq!(response.status(), 404);
        assert!(response.text().await.unwrap().contains("404"));

        let response = session.get(nginx.url("/index.html")).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), INDEX_HTML);
        let stats = session.pool_stats();
        assert_eq!((stats.opened, stats.reused), (1, 2), "{stats:?}");

        // A body dropped unread cannot leave its connection in the pool mid-body: the next
        // request must still get the right answer.
        let response = session.get(nginx.url("/large.bin")).send().await.unwrap();
        drop(response);
        let response = session.get(nginx.url("/small.json")).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), SMALL_JSON);
        session.close().await;
    });
    let log = nginx.wait_for_log(5);
    let methods: Vec<(&str, &str, u16)> = log
        .iter()
        .map(|e| (e.method.as_str(), e.uri.as_str(), e.status))
        .collect();
    assert_eq!(
        methods[..3],
        [
            ("HEAD", "/large.bin", 200),
            ("GET", "/missing", 404),
            ("GET", "/index.html", 200)
        ]
    );
    assert!(log[..3].iter().all(|e| e.connection == log[0].connection));
}
