//! The seed's `test8.py` (`004_…`): `Semaphore(2)` lets two of three workers fetch at once,
//! so the third starts when the first two are done: two seconds in all, not one (no limit)
//! or three (a lock).
//!
//! A one-second `sleep` stands in for the HTTP request; the "server" replays the three answers
//! the seed's run recorded.
//!
//! ```text
//! $ cargo run -p tulip-rt --example sync_semaphore
//! [1.00 s] worker[0] response {'msg': 0.21337652123021056}
//! [1.00 s] worker[1] response {'msg': 0.7591980200967501}
//! [2.00 s] worker[2] response {'msg': 0.8282581038608438}
//! took 2.00 s
//! ```

use std::time::Duration;

use tulip::sync::Semaphore;
use tulip::time::{Instant, sleep};

/// The seed's module-level `semp = asyncio.Semaphore(2)`.
static SEMP: Semaphore = Semaphore::new(2);

/// What the seed's `/random` endpoint answered, in order.
const ANSWERS: [f64; 3] = [0.21337652123021056, 0.7591980200967501, 0.8282581038608438];

/// `GET /random`: a second later, the `id`-th recorded answer.
async fn fetch_random(id: usize) -> f64 {
    sleep(Duration::from_secs(1)).await;
    ANSWERS[id]
}

async fn run_worker(id: usize, start: Instant) -> f64 {
    // `async with semp:` around the request.
    let _permit = SEMP.acquire().await;
    let data = fetch_random(id).await;
    let at = start.elapsed().as_secs_f64();
    println!("[{at:.2} s] worker[{id}] response {{'msg': {data}}}");
    data
}

/// The program.
pub(crate) fn run() {
    tulip::run(async {
        let start = Instant::now();
        let workers: Vec<_> = (0..3)
            .map(|id| tulip::spawn(run_worker(id, start)))
            .collect();
        for worker in workers {
            worker
                .await
                .expect("workers neither panic nor are cancelled");
        }
        println!("took {:.2} s", start.elapsed().as_secs_f64());
    });
}

fn main() {
    run();
}
