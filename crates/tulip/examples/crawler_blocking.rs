//! Seed `002_…`, stage 1 (§3.1): the crawler with blocking sockets. Each page is fetched one
//! after another — connect, send the request, `recv` until the server closes — and the
//! program waits at every step, so the ten waits add up.
//!
//! The pages come from a small local site (an HTTP/1.0 responder started inside the program)
//! instead of example.com. `crawler_callbacks` and `crawler_coroutines` fetch the same pages
//! the non-blocking ways.
//!
//! ```text
//! $ cargo run -p tulip-rt --example crawler_blocking
//! /   HTTP/1.0 200 OK, 85 bytes of body
//! /1  HTTP/1.0 200 OK, 100 bytes of body
//! ...
//! fetched 10 pages, one after another
//! ```
//!
//! `--timing` also prints how long it took (about ten times the site's latency).

mod local_site;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

/// The seed's `blocking_way()`: every call waits until it is done.
fn blocking_way(addr: SocketAddr, path: &str) -> io::Result<Vec<u8>> {
    let mut sock = TcpStream::connect(addr)?; // blocks until connected
    let request = format!("GET {path} HTTP/1.0\r\nHost: example.com\r\n\r\n");
    sock.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk)?; // blocks until data or end of stream
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
    }
    Ok(response)
}

/// The seed's `sync_way()`: the pages, one at a time.
fn program() -> io::Result<()> {
    let addr = local_site::start();
    let start = Instant::now();
    let paths = local_site::paths();
    for path in &paths {
        let response = blocking_way(addr, path)?;
        println!("{}", local_site::summary(path, &response));
    }
    println!("fetched {} pages, one after another", paths.len());
    if std::env::args().any(|arg| arg == "--timing") {
        println!("took {:.2} s", start.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The program; the tour runs it too. A failure is reported and ends the process with status 1.
pub(crate) fn run() {
    if let Err(err) = program() {
        eprintln!("crawler_blocking: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
