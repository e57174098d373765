//! The seed's `test8.py` (`004_…`): an `asyncio.Semaphore(2)` lets two of the three workers
//! make their request at a time. Workers 0 and 1 get their answers after one second, worker
//! 2 only then starts and gets its answer a second later: two seconds in all.
//!
//! ```text
//! $ cargo run -p tulip-http --example test8
//! [1.00 s] worker[1] response {'msg': 0.05170517024663812}
//! [1.00 s] worker[0] response {'msg': 0.1031693335634506}
//! [2.00 s] worker[2] response {'msg': 0.8800303809484459}
//! took 2.00 s
//! ```
//!
//! Without `--url` (as here) the service runs inside the program on tulip's test clock, its
//! random numbers from a fixed seed (see `web.rs`); workers 0 and 1 are answered at the same
//! instant, in either order. With `--url http://127.0.0.1:8000/random` it uses a service
//! already running. The seed prints the time of day where this prints the seconds since
//! the start.

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use std::rc::Rc;

use tulip::combine::{ReturnWhen, wait};
use tulip::sync::Semaphore;
use tulip::time::Instant;
use tulip_http::ClientSession;
use web::client::{py, secs};

async fn fetch(
    session: ClientSession,
    url: String,
    semp: Rc<Semaphore>,
    id: usize,
    start: Instant,
) -> f64 {
    // `async with semp:` around the request.
    let _permit = semp.acquire().await;
    let response = session.get(&url).send().await.expect("GET");
    let ret: serde_json::Value = response.json().await.expect("a JSON body");
    println!("[{} s] worker[{id}] response {}", secs(start), py(&ret));
    ret["msg"].as_f64().expect("a number in msg")
}

async fn program(workers: usize, url: String) {
    let start = Instant::now();
    // The seed's module-level `semp = asyncio.Semaphore(2)`.
    let semp = Rc::new(Semaphore::new(2));
    let session = ClientSession::new();
    let futures: Vec<_> = (0..workers)
        .map(|id| tulip::spawn(fetch(session.clone(), url.clone(), semp.clone(), id, start)))
        .collect();
    wait(futures, ReturnWhen::AllCompleted, None).await;
    session.close().await;
    println!("took {} s", secs(start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/random", |url| program(3, url));
}

fn main() {
    web::client::main("test8", run, |url| program(3, url));
}
