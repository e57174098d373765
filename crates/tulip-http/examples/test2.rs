//! The seed's `test2.py` (`004_…`): the three requests become tasks
//! (`asyncio.ensure_future`), so they run concurrently and all answer after one second. The
//! seed waits for them the clumsy way, sleeping 1.1 s so the session is not closed under
//! them; `test3` and `test4` wait properly.
//!
//! ```text
//! $ cargo run -p tulip-http --example test2 -- [--url http://127.0.0.1:8000/]
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! took 1.10 s
//! ```
//!
//! Without `--url` the service runs inside the program on tulip's test clock (see `web.rs`).

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use std::time::Duration;

use tulip::time::{Instant, sleep};
use tulip_http::ClientSession;
use web::client::{py, secs};

/// `run(sess, url)`: one request, its answer printed.
async fn fetch(session: ClientSession, url: String) {
    let response = session.get(&url).send().await.expect("GET");
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    println!("response {}", py(&body));
}

async fn program(workers: usize, url: String) {
    let start = Instant::now();
    let session = ClientSession::new();
    for _ in 0..workers {
        // `asyncio.ensure_future(run(sess, url))`, its task never looked at again.
        tulip::spawn(fetch(session.clone(), url.clone())).detach();
    }
    // The seed's "clumsy way" of waiting for them.
    sleep(Duration::from_millis(1100)).await;
    session.close().await;
    println!("took {} s", secs(start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/", |url| program(3, url));
}

fn main() {
    web::client::main("test2", run, |url| program(3, url));
}
