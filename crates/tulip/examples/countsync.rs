//! `countsync.py`, the synchronous counterpart of `countasync`: `count()` runs three times, one
//! after the other, so the three one-second sleeps add up to three seconds.
//!
//! ```text
//! $ cargo run -p tulip-rt --example countsync
//! One
//! Two
//! One
//! Two
//! One
//! Two
//! countsync executed in 3.00 seconds.
//! ```

use std::time::Duration;

use tulip::time::{Instant, sleep};

// The seed's `count()` calls `time.sleep(1)`, which blocks the whole thread. Inside a loop,
// `std::thread::sleep` would do the same: every other task would stall behind it (and
// `TULIP_DEBUG=1` would report the slow poll). Awaiting tulip's sleep one call after another
// keeps the sequential shape the seed shows, without blocking the loop, and lets the test clock
// measure it exactly.
async fn count() {
    println!("One");
    sleep(Duration::from_secs(1)).await;
    println!("Two");
}

/// The program: three `count()` calls in sequence, then the elapsed time.
pub(crate) fn run() {
    tulip::run(async {
        let start = Instant::now();
        for _ in 0..3 {
            count().await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!("countsync executed in {elapsed:0.2} seconds.");
    });
}

fn main() {
    run();
}
