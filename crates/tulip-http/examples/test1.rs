//! The seed's `test1.py` (`004_…`): three requests to the test web service, one after the
//! other in one session. Each takes the service's one second, so the whole takes three:
//! coroutines alone do not make anything concurrent.
//!
//! ```text
//! $ cargo run -p tulip-http --example test1 -- [--url http://127.0.0.1:8000/]
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! took 3.00 s
//! ```
//!
//! Without `--url` the service runs inside the program on tulip's test clock (see `web.rs`).

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use tulip::time::Instant;
use tulip_http::ClientSession;
use web::client::{py, secs};

/// `main(workers, url)`: `async with sess.get(url) as resp` in a plain `for` loop.
async fn program(workers: usize, url: String) {
    let start = Instant::now();
    let session = ClientSession::new();
    for _ in 0..workers {
        let response = session.get(&url).send().await.expect("GET");
        let body: serde_json::Value = response.json().await.expect("a JSON body");
        println!("response {}", py(&body));
    }
    session.close().await;
    println!("took {} s", secs(start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/", |url| program(3, url));
}

fn main() {
    web::client::main("test1", run, |url| program(3, url));
}
