//! Seed `002_…`, stage 3 (§4–5): the crawler as coroutines on an event loop — tulip's
//! `open_connection` and tasks. `fetch` reads like the blocking version, top to bottom, yet
//! the ten downloads run at once on one thread: each `.await` hands the loop back while the
//! socket is not ready, exactly where the callback version had to split into `connected` and
//! `read_response`. The loop, the selector and the callbacks are tulip's business now.
//!
//! ```text
//! $ cargo run -p tulip-rt --example crawler_coroutines
//! /   HTTP/1.0 200 OK, 85 bytes of body
//! ...
//! fetched 10 pages as 10 tasks on one thread
//! ```
//!
//! `--timing` also prints how long it took (about one site latency, not ten).

mod local_site;

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use tulip::net::open_connection;

/// One download: connect, send the request, read until the server closes.
async fn fetch(addr: SocketAddr, path: String) -> io::Result<(String, Vec<u8>)> {
    let (mut reader, mut writer) = open_connection(addr).await?;
    writer.write(format!("GET {path} HTTP/1.0\r\nHost: example.com\r\n\r\n").as_bytes());
    writer.drain().await?;
    let response = reader.read_to_end().await?;
    Ok((path, response))
}

async fn program() -> io::Result<()> {
    let addr = local_site::start();
    // Wall-clock time: the site's latency is real, not the loop's (virtual, in tests) time.
    let start = Instant::now();
    let tasks = local_site::paths()
        .into_iter()
        .map(|path| tulip::spawn(fetch(addr, path)));
    // gather: the results come back in the order the tasks were given, whatever order they
    // finished in.
    let results = tulip::gather_all(tasks).await;
    let mut fetched = 0;
    for result in results {
        match result {
            Ok(Ok((path, response))) => {
                fetched += 1;
                println!("{}", local_site::summary(&path, &response));
            }
            Ok(Err(err)) => println!("fetch failed: {err}"),
            Err(err) => println!("task failed: {err}"),
        }
    }
    println!("fetched {fetched} pages as {fetched} tasks on one thread");
    if std::env::args().any(|arg| arg == "--timing") {
        println!("took {:.2} s", start.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The program; the tour runs it too. A failure is reported and ends the process with status 1.
pub(crate) fn run() {
    if let Err(err) = tulip::run(program()) {
        eprintln!("crawler_coroutines: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
