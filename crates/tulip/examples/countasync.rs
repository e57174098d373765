//! `countasync.py`, the tutorial's "Hello World" of async IO: three `count()` coroutines run
//! concurrently on one loop, so the three one-second sleeps overlap and the program takes one
//! second, not three.
//!
//! ```text
//! $ cargo run -p tulip-rt --example countasync
//! One
//! One
//! One
//! Two
//! Two
//! Two
//! countasync executed in 1.00 seconds.
//! ```

use std::time::Duration;

use tulip::time::{Instant, sleep};

async fn count() {
    println!("One");
    sleep(Duration::from_secs(1)).await;
    println!("Two");
}

/// The program: `asyncio.run(main())` with the timing around it.
pub(crate) fn run() {
    tulip::run(async {
        // The seed reads `time.perf_counter()` around `asyncio.run`; reading the loop's clock
        // inside it measures the same span, and on the test clock (`TULIP_TEST_CLOCK=1`) the
        // figure is exact.
        let start = Instant::now();
        // `asyncio.gather(count(), count(), count())`: spawn all three, then await them in
        // order. (`gather!` is on its way; for outputs-in-order this is what it does.)
        let tasks: Vec<_> = (0..3).map(|_| tulip::spawn(count())).collect();
        for task in tasks {
            task.await.expect("count() neither panics nor is cancelled");
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!("countasync executed in {elapsed:0.2} seconds.");
    });
}

fn main() {
    run();
}
