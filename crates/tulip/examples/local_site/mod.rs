//! A tiny web site for the crawler examples: an HTTP/1.0 responder on 127.0.0.1 (a free port
//! the system picks), one thread per connection, serving `/` and `/1` … `/9` — the ten pages
//! seed `002_…`'s crawler downloads from example.com, here without touching the network.
//!
//! Each answer waits [`LATENCY`] first, standing in for a distant server, so the crawlers
//! show the difference the seed measures: one after another the waits add up, concurrently
//! they overlap.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// How long the site "thinks" before answering each request.
pub(crate) const LATENCY: Duration = Duration::from_millis(50);

/// The paths the crawlers fetch (the seed's `urls_todo`).
pub(crate) fn paths() -> Vec<String> {
    std::iter::once("/".to_owned())
        .chain((1..10).map(|i| format!("/{i}")))
        .collect()
}

/// The page at `path`: a little HTML whose length varies from page to page.
pub(crate) fn page(path: &str) -> Option<String> {
    let n: usize = match path {
        "/" => 0,
        _ => path
            .strip_prefix('/')?
            .parse()
            .ok()
            .filter(|n| (1..10).contains(n))?,
    };
    let items: String = (0..=n).map(|i| format!("<li>item {i}</li>")).collect();
    Some(format!(
        "<html><head><title>page {n}</title></head><body><ul>{items}</ul></body></html>\n"
    ))
}

/// Starts the site on a background thread and returns its address.
pub(crate) fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = respond(conn);
            });
        }
    });
    addr
}

/// Reads one request head and answers it, HTTP/1.0 style: then closes.
fn respond(conn: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    std::thread::sleep(LATENCY);
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = match page(path) {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", "not found\n".to_owned()),
    };
    let response = format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // One write: several small ones would meet Nagle's algorithm and the peer's delayed ACK.
    (&conn).write_all(response.as_bytes())
}

/// The one-line summary every crawler prints for a response.
pub(crate) fn summary(path: &str, response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    let status = text.lines().next().unwrap_or("<no response>");
    let body = text
        .split_once("\r\n\r\n")
        .map_or(0, |(_, body)| body.len());
    format!("{path:<3} {status}, {body} bytes of body")
}
