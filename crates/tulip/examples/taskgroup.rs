//! Structured concurrency with a `TaskGroup` (asyncio 3.11, trio's nursery): three fetches run
//! as children of one group. When all succeed, `join` hands back their results in spawn order.
//! When one fails, the group cancels its siblings at once, waits for them to unwind, and
//! reports the failure; no child outlives the group.
//!
//! ```text
//! $ cargo run -p tulip-rt --example taskgroup
//! ```

use std::time::Duration;

use tulip::TaskGroup;
use tulip::time::{Instant, sleep};

/// Prints when a fetch is dropped before it finished.
struct OnCancel(u64, bool);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if !self.1 {
            println!("fetch({}) cancelled", self.0);
        }
    }
}

/// Takes `n` seconds; `fetch(4)` fails when its time is up.
async fn fetch(n: u64) -> Result<u64, String> {
    println!("fetch({n}) started");
    let mut guard = OnCancel(n, false);
    sleep(Duration::from_secs(n)).await;
    guard.1 = true;
    if n == 4 {
        println!("fetch({n}) failed");
        return Err(format!("fetch({n}): server error"));
    }
    println!("fetch({n}) done");
    Ok(n * 10)
}

async fn group_of(ns: &[u64]) {
    let start = Instant::now();
    let mut group = TaskGroup::new();
    for &n in ns {
        group.spawn(fetch(n));
    }
    let outcome = group.join().await;
    let at = start.elapsed().as_secs_f64();
    match outcome {
        Ok(results) => println!("results at {at:.2} s: {results:?}"),
        Err(err) => println!("error at {at:.2} s: {err}"),
    }
    println!("tasks left: {}", tulip::task::all_tasks().len());
}

/// The program: a group that succeeds, then one where a child fails.
pub(crate) fn run() {
    tulip::run(async {
        println!("--- all succeed ---");
        group_of(&[1, 2, 3]).await;
        println!("--- one fails ---");
        group_of(&[1, 4, 9]).await;
    });
}

fn main() {
    run();
}
