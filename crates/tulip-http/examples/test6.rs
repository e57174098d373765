//! The seed's `test6.py` (`004_…`): two `asyncio.Event`s steered by the answers of
//! `GET /random`. Two "big" waiters wait for the small event and two "small" waiters for the
//! big one; each response over 0.5 sets the big event, the others the small one. Every
//! waiter of an event wakes when it is set — an event wakes all its waiters at once.
//!
//! ```text
//! $ cargo run -p tulip-http --example test6
//! response {'msg': 0.05170517024663812}
//! response {'msg': 0.1031693335634506}
//! response {'msg': 0.8800303809484459}
//! [1.00 s] big waiter got the event
//! [1.00 s] big waiter got the event
//! [1.00 s] small waiter got the event
//! [1.00 s] small waiter got the event
//! took 1.00 s
//! ```
//!
//! Without `--url` (as here) the service runs inside the program on tulip's test clock, its
//! random numbers from a fixed seed (see `web.rs`): the three answers come at the same
//! instant and are all printed before the waiters they woke get their turn. Against a real
//! service (`--url http://127.0.0.1:8000/random`) the answers may come a little apart, and
//! then each pair of waiters prints right after the answer that set its event, as in the
//! seed's run.
//! After the requests, an event still unset is set, so all four waiters always print. The
//! seed prints the time of day where this prints the seconds since the start.

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use std::rc::Rc;

use tulip::combine::{ReturnWhen, wait};
use tulip::sync::Event;
use tulip::time::Instant;
use tulip_http::ClientSession;
use web::client::{py, secs};

/// The seed's module-level `big_event` and `small_event`, and the start time for stamps.
struct Events {
    big: Event,
    small: Event,
    start: Instant,
}

async fn big_waiter(events: Rc<Events>) {
    events.small.wait().await;
    println!("[{} s] big waiter got the event", secs(events.start));
}

async fn small_waiter(events: Rc<Events>) {
    events.big.wait().await;
    println!("[{} s] small waiter got the event", secs(events.start));
}

/// `run(sess, url, id)`: one request; its number decides which event to set.
async fn fetch(session: ClientSession, url: String, events: Rc<Events>) -> f64 {
    let response = session.get(&url).send().await.expect("GET");
    let ret: serde_json::Value = response.json().await.expect("a JSON body");
    println!("response {}", py(&ret));
    let data = ret["msg"].as_f64().expect("a number in msg");
    if data > 0.5 {
        events.big.set();
    } else {
        events.small.set();
    }
    data
}

async fn program(workers: usize, url: String) {
    let events = Rc::new(Events {
        big: Event::new(),
        small: Event::new(),
        start: Instant::now(),
    });
    let waiters = [
        tulip::spawn(big_waiter(events.clone())),
        tulip::spawn(big_waiter(events.clone())),
        tulip::spawn(small_waiter(events.clone())),
        tulip::spawn(small_waiter(events.clone())),
    ];

    let session = ClientSession::new();
    let futures: Vec<_> = (0..workers)
        .map(|_| tulip::spawn(fetch(session.clone(), url.clone(), events.clone())))
        .collect();
    wait(futures, ReturnWhen::AllCompleted, None).await;
    session.close().await;

    if !events.big.is_set() {
        events.big.set();
    }
    if !events.small.is_set() {
        events.small.set();
    }
    // The seed's `await asyncio.sleep(0)` lets the waiters just woken print; awaiting them
    // says so outright.
    for waiter in waiters {
        waiter
            .await
            .expect("a waiter neither panics nor is cancelled");
    }
    println!("took {} s", secs(events.start));
}

/// The program against the service started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(web::client::seeded_router, "/random", |url| program(3, url));
}

fn main() {
    web::client::main("test6", run, |url| program(3, url));
}
