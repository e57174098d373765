//! The seed's `test3.py` (`004_…`): the three requests as tasks, awaited with
//! `asyncio.wait`, which hands back the tasks that are done and those still pending (none:
//! it waits for all by default). One second in all.
//!
//! ```text
//! $ cargo run -p tulip-http --example test3 -- [--url http://127.0.0.1:8000/]
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! response {'msg': 'ok'}
//! done: [task 0, task 1, task 2], pending: []
//! took 1.00 s
//! ```
//!
//! Python prints the two sets of `Task` objects; here `done` lists the finished tasks by
//! their place in the list given to `wait`. Without `--url` the service runs inside the
//! program on tulip's test clock (see `web.rs`).

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use tulip::combine::{ReturnWhen, wait};
use tulip::time::Instant;
use tulip_http::ClientSession;
use web::client::{py, secs};

async fn fetch(session: ClientSession, url: String) {
    let response = session.get(&url).send().await.expect("GET");
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    println!("response {}", py(&body));
}

async fn program(workers: usize, url: String) {
    let start = Instant::now();
    let session = ClientSession::new();
    let futures: Vec<_> = (0..workers)
        .map(|_| tulip::spawn(fetch(session.clone(), url.clone())))
        .collect();
    // `done, pending = await asyncio.wait(futures)`
    let (done, pending) = wait(futures, ReturnWhen::AllCompleted, None).await;
    let done: Vec<String> = done
        .iter()
        .map(|task| format!("task {}", task.index()))
        .collect();
    let pending: Vec<String> = pending
        .iter()
        .map(|task| format!("task {}", task.id()))
        .collect();
    println!(
        "done: [{}], pending: [{}]",
        done.join(", "),
        pending.join(", ")
    );
    session.close().await;
    println!("took {} s", secs(start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/", |url| program(3, url));
}

fn main() {
    web::client::main("test3", run, |url| program(3, url));
}
