//! The seed's `test7.py` (`004_…`): three waiters wait on one `Condition`; three workers each
//! fetch a random number and then, holding the condition's lock, call `notify(2)`. The first
//! notify releases exactly two waiters, the second the one left, the third nobody.
//!
//! A one-second `sleep` stands in for the HTTP request; the "server" replays the three answers
//! the seed's run recorded. `notify` returns how many waiters it woke, which the program
//! prints.
//!
//! ```text
//! $ cargo run -p tulip-rt --example sync_condition
//! [1.00 s] response {'msg': 0.587516452693613}
//! [1.00 s] notify(2) woke 2 waiters
//! ...
//! took 1.00 s
//! ```

use std::rc::Rc;
use std::time::Duration;

use tulip::sync::Condition;
use tulip::time::{Instant, sleep};

/// What the seed's `/random` endpoint answered, in order.
const ANSWERS: [f64; 3] = [0.587516452693613, 0.3391774763719556, 0.2653464378663153];

/// `GET /random`: a second later, the `id`-th recorded answer.
async fn fetch_random(id: usize) -> f64 {
    sleep(Duration::from_secs(1)).await;
    ANSWERS[id]
}

fn stamp(start: Instant) -> String {
    format!("[{:.2} s]", start.elapsed().as_secs_f64())
}

async fn waiter(cond: Rc<Condition>, id: usize, start: Instant) {
    // `async with cond: await cond.wait()`
    let guard = cond.lock().await;
    let _guard = guard.wait().await;
    println!("{} waiter[{id}] done waiting", stamp(start));
}

async fn run_worker(cond: Rc<Condition>, id: usize, start: Instant) -> f64 {
    let data = fetch_random(id).await;
    println!("{} response {{'msg': {data}}}", stamp(start));
    // `async with cond: cond.notify(2)`
    let woken = cond.lock().await.notify(2);
    let plural = if woken == 1 { "" } else { "s" };
    println!("{} notify(2) woke {woken} waiter{plural}", stamp(start));
    data
}

/// The program.
pub(crate) fn run() {
    tulip::run(async {
        let start = Instant::now();
        let cond = Rc::new(Condition::new());
        let waiters: Vec<_> = (0..3)
            .map(|id| tulip::spawn(waiter(cond.clone(), id, start)))
            .collect();
        let workers: Vec<_> = (0..3)
            .map(|id| tulip::spawn(run_worker(cond.clone(), id, start)))
            .collect();
        for worker in workers {
            worker
                .await
                .expect("workers neither panic nor are cancelled");
        }
        // Every waiter was notified: they all finish (the seed's `sleep(0)` lets them).
        for waiter in waiters {
            waiter
                .await
                .expect("waiters neither panic nor are cancelled");
        }
        println!("took {:.2} s", start.elapsed().as_secs_f64());
    });
}

fn main() {
    run();
}
