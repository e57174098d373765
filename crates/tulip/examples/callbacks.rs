//! The tutorial's "binding a callback" example (`001_…`): a task runs `do_some_work(2)`, a done
//! callback prints its result when it finishes, `run_until_complete` drives it, and afterwards
//! the finished task's state and result are read, with the time it all took.
//!
//! ```text
//! $ cargo run -p tulip-rt --example callbacks
//! Waiting:  2
//! Callback:  Done after 2s
//! Task done: true, cancelled: false
//! Task ret:  Done after 2s
//! TIME:  2.00
//! ```
//!
//! The seed's first `do_some_work` returns at once; its next example adds the
//! `asyncio.sleep(x)` that makes "Done after 2s" true, and that is the one ported here.

use std::time::Duration;

use tulip::time::sleep;
use tulip::{JoinError, Runtime};

async fn do_some_work(x: u64) -> String {
    println!("Waiting:  {x}");
    sleep(Duration::from_secs(x)).await;
    format!("Done after {x}s")
}

/// The seed's `callback(future)`: it receives the task's outcome, which in Rust says whether
/// the task returned, panicked or was cancelled.
fn callback(future: &Result<String, JoinError>) {
    match future {
        Ok(result) => println!("Callback:  {result}"),
        Err(err) => println!("Callback:  {err}"),
    }
}

/// The program, on a loop of its own as in the seed.
pub(crate) fn run() {
    let mut rt = Runtime::new().expect("the OS gives us an event loop");
    // The seed's `now = lambda: time.time()`; the loop's clock is the one the test clock drives.
    let start = rt.time();

    // `task = asyncio.ensure_future(coroutine)`
    let mut task = rt.spawn(do_some_work(2));
    // `task.add_done_callback(callback)`
    task.add_done_callback(callback);

    // `loop.run_until_complete(task)`: the callback runs as the task finishes.
    let result = rt.run_until_complete(&mut task);

    // The task keeps its state after finishing (`task.done()`, `task.cancelled()`); its result
    // was handed over by the await above (the seed's `task.result()`).
    println!(
        "Task done: {}, cancelled: {}",
        task.is_finished(),
        task.is_cancelled()
    );
    match result {
        Ok(ret) => println!("Task ret:  {ret}"),
        Err(err) => println!("Task failed:  {err}"),
    }
    println!("TIME:  {:.2}", (rt.time() - start).as_secs_f64());
    rt.close();
}

fn main() {
    run();
}
