//! Misbehaving servers: a reset, a truncated body, a stall past the timeout, a redirect loop,
//! a non-http redirect, 50 MB, a gzip bomb and a lying Content-Type each fail their own page,
//! with the reason in the summary, while the rest of the crawl completes with valid output.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use areq::crawler::{Config, crawl};
use areq::fetch::FailureKind;
use support::{TempDir, read_tsv};

fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    Some(text.split_whitespace().nth(1)?.to_owned())
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn handle(mut stream: TcpStream, bomb: &[u8]) {
    let Some(path) = read_request(&mut stream) else {
        return;
    };
    let html = |s: &str| {
        vec![
            ("Content-Type", "text/html".to_owned()),
            ("Content-Length", s.len().to_string()),
        ]
    };
    match path.as_str() {
        "/" => {
            let body = [
                "/reset",
                "/truncated",
                "/stall",
                "/loop/a",
                "/ftp",
                "/big",
                "/bomb",
                "/liar",
                "/fine",
            ]
            .iter()
            .map(|p| format!("<a href=\"{p}\">{p}</a>\n"))
            .collect::<String>();
            respond(&mut stream, "200 OK", &html(&body), body.as_bytes());
        }
        "/fine" => {
            let body = "<a href=\"/\">home</a>";
            respond(&mut stream, "200 OK", &html(body), body.as_bytes());
        }
        "/reset" => {
            // Unread request bytes make the close a TCP reset.
            let _ = stream.set_nodelay(true);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        "/truncated" => {
            let headers = [
                ("Content-Type", "text/html".to_owned()),
                ("Content-Length", "1000".to_owned()),
            ];
            respond(&mut stream, "200 OK", &headers, b"<a href=/never>");
        }
        "/stall" => {
            let headers = [
                ("Content-Type", "text/html".to_owned()),
                ("Content-Length", "100".to_owned()),
            ];
            respond(&mut stream, "200 OK", &headers, b"<a href=");
            std::thread::sleep(Duration::from_secs(20));
        }
        "/loop/a" => respond(
            &mut stream,
            "302 Found",
            &[
                ("Location", "/loop/b".into()),
                ("Content-Length", "0".into()),
            ],
            b"",
        ),
        "/loop/b" => respond(
            &mut stream,
            "302 Found",
            &[
                ("Location", "/loop/a".into()),
                ("Content-Length", "0".into()),
            ],
            b"",
        ),
        "/ftp" => respond(
            &mut stream,
            "301 Moved",
            &[
                ("Location", "ftp://127.0.0.1/file".into()),
                ("Content-Length", "0".into()),
            ],
            b"",
        ),
        "/big" => {
            let size = 50 * 1024 * 1024;
            let headers = [
                ("Content-Type", "text/html".to_owned()),
                ("Content-Length", size.to_string()),
            ];
            respond(&mut stream, "200 OK", &headers, b"");
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..size / chunk.len() {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
        "/bomb" => {
            let headers = [
                ("Content-Type", "text/html".to_owned()),
                ("Content-Encoding", "gzip".to_owned()),
                ("Content-Length", bomb.len().to_string()),
            ];
            respond(&mut stream, "200 OK", &headers, bomb);
        }
        "/liar" => {
            let body = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
            let headers = [
                ("Content-Type", "text/html; charset=utf-8".to_owned()),
                ("Content-Length", body.len().to_string()),
            ];
            respond(&mut stream, "200 OK", &headers, body);
        }
        _ => respond(
            &mut stream,
            "404 Not Found",
            &[("Content-Length", "0".into())],
            b"",
        ),
    }
}

fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..20 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

#[test]
fn each_fault_fails_its_own_page() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let bomb: &'static [u8] = Box::leak(gzip_bomb().into_boxed_slice());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream, bomb));
        }
    });

    let dir = TempDir::new("faults");
    let output = dir.path("found.tsv");
    let mut config = Config::new(output.clone());
    config.urls = vec![base.clone()];
    config.depth = 1;
    config.same_host = true;
    config.fetch.timeout = Duration::from_millis(800);
    config.fetch.retries = 1;
    config.fetch.backoff = Duration::from_millis(50);
    config.fetch.max_body = 1024 * 1024;
    let summary = tulip::run(crawl(&config)).unwrap();

    let count = |kind| summary.errors.get(&kind).copied().unwrap_or(0);
    assert_eq!(count(FailureKind::Protocol), 2, "{summary}");
    assert_eq!(count(FailureKind::Timeout), 1, "{summary}");
    assert_eq!(count(FailureKind::RedirectLoop), 1, "{summary}");
    assert_eq!(count(FailureKind::InvalidRedirect), 1, "{summary}");
    assert_eq!(count(FailureKind::TooLarge), 2, "{summary}");
    assert_eq!(count(FailureKind::NotHtml), 1, "{summary}");
    assert_eq!(summary.failed, 8, "{summary}");

    let lines = read_tsv(&output);
    let sources: std::collections::BTreeSet<&str> = lines.iter().map(|(s, _)| s.as_str()).collect();
    let fine = base.join("/fine").unwrap();
    assert_eq!(
        sources,
        [base.as_str(), fine.as_str()].into_iter().collect()
    );
    assert_eq!(lines.len(), 9 + 1);
}
