//! The tutorial's "stopping coroutines" example (`001_…`, 协程停止): three tasks work for ever
//! under a `main` that waits for them all, until Ctrl+C.
//!
//! In the seed (Python 3.6) Ctrl+C raises `KeyboardInterrupt` out of `run_until_complete`, and
//! the program cancels every task by hand, runs the loop once more so they unwind, and closes
//! it. `tulip::run` does all of that itself, as `asyncio.run` does since 3.11: the first Ctrl+C
//! cancels `main` (its clean-up runs), then every task still pending is cancelled and unwound,
//! the loop closes, and the program exits with status 130.
//!
//! ```text
//! $ cargo run -p tulip-rt --example stop
//! Waiting:  1
//! Waiting:  2
//! Waiting:  2
//! Press Ctrl+C to stop
//! Done after 1s
//! Waiting:  1
//! ^Cmain cancelled, 3 tasks pending: do_some_work(1), do_some_work(2), do_some_work(2)
//! do_some_work(1) cancelled: cleaning up
//! do_some_work(2) cancelled: cleaning up
//! do_some_work(2) cancelled: cleaning up
//! $ echo $?
//! 130
//! ```
//!
//! The seed's tasks stop after one sleep; here they loop, so that there is always something to
//! cancel however late the Ctrl+C comes.

use std::time::Duration;

use tulip::combine::ReturnWhen;
use tulip::task::Builder;
use tulip::time::sleep;

/// Prints `message` when dropped: a task's or `main`'s clean-up, which runs when it is
/// cancelled (Rust's destructors play the part of `except CancelledError` / `finally`).
struct CleanUp(String);

impl Drop for CleanUp {
    fn drop(&mut self) {
        println!("{}", self.0);
    }
}

async fn do_some_work(x: u64) {
    let _clean_up = CleanUp(format!("do_some_work({x}) cancelled: cleaning up"));
    loop {
        println!("Waiting:  {x}");
        sleep(Duration::from_secs(x)).await;
        println!("Done after {x}s");
    }
}

/// What `main` prints when Ctrl+C cancels it: the tasks still pending, as the seed prints
/// `asyncio.Task.all_tasks()` before cancelling them.
struct MainCleanUp;

impl Drop for MainCleanUp {
    fn drop(&mut self) {
        let mut names: Vec<String> = tulip::task::all_tasks()
            .iter()
            .map(|task| task.name().unwrap_or("unnamed").to_owned())
            .collect();
        names.sort();
        println!(
            "main cancelled, {} tasks pending: {}",
            names.len(),
            names.join(", ")
        );
    }
}

async fn main_task() {
    let clean_up = MainCleanUp;
    let tasks: Vec<_> = [1, 2, 2]
        .into_iter()
        .map(|x| {
            Builder::new()
                .name(format!("do_some_work({x})"))
                .spawn(do_some_work(x))
        })
        .collect();
    // Let the tasks start before saying we are ready.
    tulip::task::yield_now().await;
    println!("Press Ctrl+C to stop");
    // `done, pending = await asyncio.wait(tasks)`: never returns, the tasks loop for ever.
    let (done, _pending) = tulip::wait(tasks, ReturnWhen::AllCompleted, None).await;
    std::mem::forget(clean_up);
    println!("all {} tasks done", done.len());
}

fn main() {
    tulip::run(main_task());
}
