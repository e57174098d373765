//! The seed's `coro(seq)`, which sleeps `max(seq)` seconds and returns `seq` reversed, run as
//! two tasks, `coro([3, 2, 1])` and `coro([10, 5, 0])`, three ways: awaiting one task; with
//! `gather`, which hands both results over together at 10 s, in argument order; and with
//! `as_completed`, which hands the first over at 3 s, as soon as it is ready.
//!
//! The seed prints wall-clock times (`time.strftime('%X')`); here times are seconds since the
//! program started, by the loop's clock (exact on the test clock, `TULIP_TEST_CLOCK=1`).
//!
//! ```text
//! $ cargo run -p tulip-rt --example gather_vs_as_completed
//! ```

use std::time::Duration;

use tulip::combine::StreamExt;
use tulip::time::{Instant, sleep};

/// "'IO' wait time is proportional to the max element."
async fn coro(mut seq: Vec<u64>) -> Vec<u64> {
    let longest = seq.iter().copied().max().unwrap_or(0);
    sleep(Duration::from_secs(longest)).await;
    seq.reverse();
    seq
}

/// Seconds since `start`, as the seed's `%X` timestamps.
fn at(start: Instant) -> String {
    format!("{:.2}", start.elapsed().as_secs_f64())
}

/// `t = asyncio.create_task(coro([3, 2, 1])); await t`, then `t.done()`. (The seed also prints
/// `type(t)`, which is `tulip::Task<Vec<u64>>` here, known when the program is compiled.)
async fn one_task() {
    let mut t = tulip::spawn(coro(vec![3, 2, 1]));
    (&mut t).await.expect("coro() completes");
    println!("t done: {}", t.is_finished());
}

/// `a = await asyncio.gather(t, t2)`: both results at once, in argument order.
async fn with_gather(start: Instant) -> Vec<Vec<u64>> {
    let mut t = tulip::spawn(coro(vec![3, 2, 1]));
    let mut t2 = tulip::spawn(coro(vec![10, 5, 0]));
    println!("Start: {}", at(start));
    // Gathering `&mut` handles leaves the tasks with us, to ask `done()` afterwards.
    let a = tulip::gather_all([&mut t, &mut t2]).await;
    println!("End: {}", at(start)); // Should be 10 seconds
    println!("Both tasks done: {}", t.is_finished() && t2.is_finished());
    a.into_iter()
        .map(|r| r.expect("coro() completes"))
        .collect()
}

/// `for res in asyncio.as_completed((t, t2))`: each result as soon as it is ready.
async fn with_as_completed(start: Instant) {
    let mut t = tulip::spawn(coro(vec![3, 2, 1]));
    let mut t2 = tulip::spawn(coro(vec![10, 5, 0]));
    println!("Start: {}", at(start));
    let mut results = tulip::as_completed([&mut t, &mut t2]);
    while let Some(res) = results.next().await {
        let compl = res.expect("coro() completes");
        println!("res: {compl:?} completed at {}", at(start));
    }
    drop(results);
    println!("End: {}", at(start));
    println!("Both tasks done: {}", t.is_finished() && t2.is_finished());
}

/// The program: each snippet under its own `asyncio.run`.
pub(crate) fn run() {
    tulip::run(one_task());
    let a = tulip::run(async { with_gather(Instant::now()).await });
    println!("a = {a:?}");
    tulip::run(async { with_as_completed(Instant::now()).await });
}

fn main() {
    run();
}
