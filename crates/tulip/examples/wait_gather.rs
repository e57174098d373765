//! The `001_…` tutorial's concurrency programs: three `do_some_work(x)` coroutines turned into
//! tasks (`asyncio.ensure_future`), then collected with `asyncio.wait`, with `asyncio.gather`,
//! with `asyncio.as_completed`, or stopped half-way. Each takes as long as its longest sleep,
//! not the sum.
//!
//! ```text
//! $ cargo run -p tulip-rt --example wait_gather -- [wait|gather|gather_returned|wait_returned|as_completed|stop]
//! ```
//!
//! With no argument every variant runs, one after the other, each under a `--- name ---` line.
//! `asyncio.wait` hands back sets, whose order Python leaves open; tulip's `done` list is in
//! the order the tasks were given.

use std::time::Duration;

use tulip::combine::{CancelOnDrop, ReturnWhen, StreamExt, wait};
use tulip::time::{Instant, sleep};
use tulip::{Runtime, Task};

/// The variants, in the order the tutorial shows them.
pub(crate) const VARIANTS: [&str; 6] = [
    "wait",
    "gather",
    "gather_returned",
    "wait_returned",
    "as_completed",
    "stop",
];

async fn do_some_work(x: u64) -> String {
    println!("Waiting:  {x}");
    sleep(Duration::from_secs(x)).await;
    format!("Done after {x}s")
}

/// `[asyncio.ensure_future(do_some_work(x)) for x in xs]`
fn ensure_futures(xs: [u64; 3]) -> Vec<Task<String>> {
    xs.into_iter()
        .map(|x| tulip::spawn(do_some_work(x)))
        .collect()
}

fn print_time(start: Instant, now: Instant) {
    println!("TIME:  {:.2}", (now - start).as_secs_f64());
}

/// 协程嵌套: `dones, pendings = await asyncio.wait(tasks)` inside `main()`.
async fn nested_wait() {
    let tasks = ensure_futures([1, 2, 4]);
    let (dones, _pendings) = wait(tasks, ReturnWhen::AllCompleted, None).await;
    for task in dones {
        println!(
            "Task ret:  {}",
            task.into_result().expect("do_some_work completes")
        );
    }
}

/// `results = await asyncio.gather(*tasks)`: results in the order of the tasks.
async fn gather() {
    let tasks = ensure_futures([1, 2, 4]);
    for result in tulip::gather_all(tasks).await {
        println!("Task ret:  {}", result.expect("do_some_work completes"));
    }
}

/// `for task in asyncio.as_completed(tasks): result = await task`: in completion order.
async fn as_completed() {
    let tasks = ensure_futures([1, 2, 4]);
    let mut results = tulip::as_completed(tasks);
    while let Some(result) = results.next().await {
        println!("Task ret: {}", result.expect("do_some_work completes"));
    }
}

/// Runs `main` on a loop of its own, as the seed's `loop.run_until_complete(main())` does,
/// and prints the time it took.
fn run_until_complete<T>(main: impl Future<Output = T>) -> T {
    let mut rt = Runtime::new().expect("the OS gives us an event loop");
    let start = rt.time();
    let output = rt.run_until_complete(main);
    print_time(start, rt.time());
    output
}

/// 不在 main 协程函数里处理结果: `main()` returns `await asyncio.gather(*tasks)` and the
/// results are printed outside the loop.
fn gather_returned() {
    let results = run_until_complete(async { tulip::gather_all(ensure_futures([1, 2, 2])).await });
    for result in results {
        println!("Task ret:  {}", result.expect("do_some_work completes"));
    }
}

/// `main()` returns `await asyncio.wait(tasks)`; `done, pending = loop.run_until_complete(..)`.
fn wait_returned() {
    let (done, pending) = run_until_complete(async {
        wait(ensure_futures([1, 2, 4]), ReturnWhen::AllCompleted, None).await
    });
    for task in done {
        println!(
            "Task ret:  {}",
            task.into_result().expect("do_some_work completes")
        );
    }
    println!("pending: {}", pending.len());
}

/// 协程停止: the loop is interrupted half a second in (the seed presses Ctrl+C); every task
/// still pending is listed and cancelled, the loop is run once more so they unwind, then
/// closed. `main` holds its tasks as [`CancelOnDrop`]s, so cancelling `main` cancels them,
/// as cancelling the gathering task does in asyncio.
fn stop() {
    let mut rt = Runtime::new().expect("the OS gives us an event loop");
    let start = rt.time();
    let mut main = rt.spawn(async {
        // `tasks = [asyncio.ensure_future(do_some_work(x)) for x in (1, 2, 2)]`, held so that
        // dropping `main`'s future cancels them.
        let tasks = ensure_futures([1, 2, 2]).into_iter().map(CancelOnDrop::new);
        tulip::gather_all(tasks).await
    });
    // The "Ctrl+C": `run_until_complete` gives up on `main` after half a second.
    let interrupted = rt.block_on(tulip::time::wait_for(Duration::from_millis(500), &mut main));
    assert!(interrupted.is_err(), "main needs two seconds");
    let pending = rt.block_on(async { tulip::task::all_tasks() });
    println!("interrupted; tasks pending: {}", pending.len());
    // `for task in asyncio.Task.all_tasks(): print(task.cancel())`: cancelling `main` is
    // enough here, its tasks go with it.
    println!("main cancelled: {}", main.cancel());
    // `loop.stop(); loop.run_forever()`: one more turn lets the cancellations take effect.
    let left = rt.block_on(async {
        tulip::task::yield_now().await;
        tulip::task::yield_now().await;
        tulip::task::all_tasks().len()
    });
    println!("tasks pending after one more turn: {left}");
    print_time(start, rt.time());
    rt.close();
}

/// Runs `variant`.
///
/// # Panics
///
/// On a name not in [`VARIANTS`].
pub(crate) fn run(variant: &str) {
    match variant {
        "wait" => {
            run_until_complete(nested_wait());
        }
        "gather" => {
            run_until_complete(gather());
        }
        "gather_returned" => gather_returned(),
        "wait_returned" => wait_returned(),
        "as_completed" => {
            run_until_complete(as_completed());
        }
        "stop" => stop(),
        other => panic!("no variant {other:?}"),
    }
}

/// Every variant, each under a `--- name ---` line.
pub(crate) fn run_all() {
    for variant in VARIANTS {
        println!("--- {variant} ---");
        run(variant);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => run_all(),
        [variant] if VARIANTS.contains(&variant.as_str()) => run(variant),
        _ => {
            eprintln!("usage: wait_gather [{}]", VARIANTS.join("|"));
            std::process::exit(2);
        }
    }
}
