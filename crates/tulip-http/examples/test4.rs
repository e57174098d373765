//! The seed's `test4.py` (`004_…`): the three requests as tasks, each returning its number,
//! collected with `asyncio.gather`, which gives the results in the order of the tasks (not
//! the order they finished). One second in all.
//!
//! ```text
//! $ cargo run -p tulip-http --example test4 -- [--url http://127.0.0.1:8000/]
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! [0, 1, 2]
//! took 1.00 s
//! ```
//!
//! Without `--url` the service runs inside the program on tulip's test clock (see `web.rs`).

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use tulip::time::Instant;
use tulip_http::ClientSession;
use web::client::{py, secs};

/// `run(sess, url, id)`: one request, its answer printed, `id` returned.
async fn fetch(session: ClientSession, url: String, id: usize) -> usize {
    let response = session.get(&url).send().await.expect("GET");
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    println!("response {}", py(&body));
    id
}

async fn program(workers: usize, url: String) {
    let start = Instant::now();
    let session = ClientSession::new();
    let futures: Vec<_> = (0..workers)
        .map(|id| tulip::spawn(fetch(session.clone(), url.clone(), id)))
        .collect();
    // `rets = await asyncio.gather(*futures)`
    let rets = tulip::combine::try_gather_all(futures)
        .await
        .expect("no request task fails");
    println!("{rets:?}");
    session.close().await;
    println!("took {} s", secs(start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/", |url| program(3, url));
}

fn main() {
    web::client::main("test4", run, |url| program(3, url));
}
