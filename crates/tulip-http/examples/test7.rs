//! The seed's `test7.py` (`004_…`): an `asyncio.Condition` wakes a chosen number of waiters.
//! Three waiters wait on the condition; after each `GET /random` answer the worker calls
//! `notify(2)`: the first answer wakes waiters 0 and 1, the second wakes waiter 2, the third
//! finds nobody left. An event would have woken all three at once.
//!
//! ```text
//! $ cargo run -p tulip-http --example test7
//! response {'msg': 0.05170517024663812}
//! response {'msg': 0.1031693335634506}
//! response {'msg': 0.8800303809484459}
//! [1.00 s] waiter[0] done waiting
//! [1.00 s] waiter[1] done waiting
//! [1.00 s] waiter[2] done waiting
//! took 1.00 s
//! ```
//!
//! Without `--url` (as here) the service runs inside the program on tulip's test clock, its
//! random numbers from a fixed seed (see `web.rs`): the three answers come at the same
//! instant and are all printed before the waiters get their turn. Against a real service
//! (`--url http://127.0.0.1:8000/random`) the answers may come a little apart, and then
//! waiters 0 and 1 print right after the first, as in the seed's run. The seed prints the time of day
//! where this prints the seconds since the start.

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use std::rc::Rc;

use tulip::combine::{ReturnWhen, wait};
use tulip::sync::Condition;
use tulip::time::Instant;
use tulip_http::ClientSession;
use web::client::{py, secs};

/// `async with cond: await cond.wait()`.
async fn waiter(cond: Rc<Condition>, id: usize, start: Instant) {
    let guard = cond.lock().await;
    let _guard = guard.wait().await;
    println!("[{} s] waiter[{id}] done waiting", secs(start));
}

async fn fetch(session: ClientSession, url: String, cond: Rc<Condition>) -> f64 {
    let response = session.get(&url).send().await.expect("GET");
    let ret: serde_json::Value = response.json().await.expect("a JSON body");
    println!("response {}", py(&ret));
    // `async with cond: cond.notify(2)` (the seed's alternatives: `notify()`, `notify_all()`).
    cond.lock().await.notify(2);
    ret["msg"].as_f64().expect("a number in msg")
}

async fn program(workers: usize, url: String) {
    let start = Instant::now();
    let cond = Rc::new(Condition::new());
    let waiters: Vec<_> = (0..workers)
        .map(|id| tulip::spawn(waiter(cond.clone(), id, start)))
        .collect();

    let session = ClientSession::new();
    let futures: Vec<_> = (0..workers)
        .map(|_| tulip::spawn(fetch(session.clone(), url.clone(), cond.clone())))
        .collect();
    wait(futures, ReturnWhen::AllCompleted, None).await;
    session.close().await;

    // The seed's `await asyncio.sleep(0)`: let the waiters woken last print.
    for waiter in waiters {
        waiter
            .await
            .expect("a waiter neither panics nor is cancelled");
    }
    println!("took {} s", secs(start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/random", |url| program(3, url));
}

fn main() {
    web::client::main("test7", run, |url| program(3, url));
}
