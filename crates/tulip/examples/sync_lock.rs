//! The seed's `test5.py` (`004_…`): three workers fetch a URL, each holding one `Lock` for the
//! whole request, so the three one-second requests run one after another: three seconds in
//! all, where `test4.py` without the lock took one.
//!
//! A one-second `sleep` stands in for the HTTP request (until tulip has an HTTP client); the
//! "server" answers `{'msg': 'ok'}` like the seed's.
//!
//! ```text
//! $ cargo run -p tulip-rt --example sync_lock
//! [1.00 s] worker 0 response {'msg': 'ok'}
//! [2.00 s] worker 1 response {'msg': 'ok'}
//! [3.00 s] worker 2 response {'msg': 'ok'}
//! [0, 1, 2]
//! took 3.00 s
//! ```

use std::time::Duration;

use tulip::sync::Lock;
use tulip::time::{Instant, sleep};

/// The seed's module-level `lock = asyncio.Lock()`.
static LOCK: Lock = Lock::new();

/// `GET /`: the seed's web service sleeps a second, then answers.
async fn fetch() -> &'static str {
    sleep(Duration::from_secs(1)).await;
    "{'msg': 'ok'}"
}

async fn run_worker(id: usize, start: Instant) -> usize {
    // `async with lock:` around the whole request.
    let _guard = LOCK.lock().await;
    let response = fetch().await;
    println!(
        "[{:.2} s] worker {id} response {response}",
        start.elapsed().as_secs_f64()
    );
    id
}

/// The program.
pub(crate) fn run() {
    tulip::run(async {
        let start = Instant::now();
        let workers: Vec<_> = (0..3)
            .map(|id| tulip::spawn(run_worker(id, start)))
            .collect();
        // `asyncio.gather(*futures)`: results in the order the workers were started.
        let mut rets = Vec::new();
        for worker in workers {
            rets.push(
                worker
                    .await
                    .expect("workers neither panic nor are cancelled"),
            );
        }
        println!("{rets:?}");
        println!("took {:.2} s", start.elapsed().as_secs_f64());
    });
}

fn main() {
    run();
}
