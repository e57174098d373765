//! Timeouts (`003_…`): the seed's `wait_for(long_task(), timeout=5)`, where `long_task` sleeps
//! ten seconds, gives up at five and cancels it; then `shield`, which lets the work carry on
//! past the timeout and keeps its result; then asyncio 3.11's `timeout()`, a deadline moved
//! while the work runs.
//!
//! ```text
//! $ cargo run -p tulip-rt --example wait_for
//! ```

use std::time::Duration;

use tulip::time::{Instant, sleep, timeout, wait_for};

/// Prints when it is dropped before the work finished: how cancellation shows in Rust.
struct Announce {
    start: Instant,
    finished: bool,
}

impl Drop for Announce {
    fn drop(&mut self) {
        if !self.finished {
            let at = self.start.elapsed().as_secs_f64();
            println!("long_task cancelled at {at:.2} s");
        }
    }
}

async fn long_task(start: Instant) {
    let mut announce = Announce {
        start,
        finished: false,
    };
    sleep(Duration::from_secs(10)).await;
    println!("Task finished");
    announce.finished = true;
}

fn seconds(start: Instant) -> String {
    format!("{:.2}", start.elapsed().as_secs_f64())
}

/// `await asyncio.wait_for(long_task(), timeout=5)` / `except asyncio.TimeoutError`
async fn timed_out() {
    let start = Instant::now();
    match wait_for(Duration::from_secs(5), long_task(start)).await {
        Ok(()) => println!("Task done"),
        Err(_elapsed) => println!("Task timed out at {} s", seconds(start)),
    }
}

/// `await asyncio.wait_for(asyncio.shield(long_task()), timeout=5)`: the caller gives up at
/// five seconds; the task does not, and its result is collected at ten.
async fn shielded() {
    let start = Instant::now();
    let mut task = tulip::shield(long_task(start));
    if wait_for(Duration::from_secs(5), &mut task).await.is_err() {
        println!(
            "Gave up waiting at {} s; the shielded task runs on",
            seconds(start)
        );
    }
    task.await.expect("long_task completes");
    println!("Collected its result at {} s", seconds(start));
}

/// `async with asyncio.timeout(5) as cm: ... cm.reschedule(loop.time() + 12)`
async fn rescheduled() {
    let start = Instant::now();
    let deadline = timeout(Duration::from_secs(5));
    let result = deadline
        .run(async {
            sleep(Duration::from_secs(1)).await;
            // The work asks for more time before the first deadline comes.
            deadline.reschedule(Some(start + Duration::from_secs(12)));
            println!("Deadline moved to 12 s at {} s", seconds(start));
            long_task(start).await;
        })
        .await;
    println!(
        "Within the deadline: {}, at {} s",
        result.is_ok(),
        seconds(start)
    );
}

/// The program: the three under one loop, one after the other.
pub(crate) fn run() {
    tulip::run(async {
        timed_out().await;
        shielded().await;
        rescheduled().await;
    });
}

fn main() {
    run();
}
