//! spawn_join: spawn a million trivial tasks, keep every handle, then await them all.
//!
//! Measures the cost of a task's whole life — allocation, scheduling, one poll, handing the
//! output to its handle — in ns per task, and the heap each task holds while its result waits
//! to be collected, in bytes per task.

use std::hint::black_box;
use std::time::Instant;

use smol::LocalExecutor;

use crate::Options;
use crate::alloc::Window;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const TASKS: usize = 1_000_000;

const METRICS: &[Metric] = &[
    Metric::new("ns/task", 1),
    Metric::new("heap B/task", 1),
    Metric::new("RSS B/task", 1),
];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(TASKS);
    let rows = rotate(options, |runtime| once(runtime, n));
    let title = format!("spawn_join: {n} tasks `async {{ i }}`, spawn all, then await all");
    vec![
        Table::new(title, METRICS, rows)
            .target(0, Target::RatioAtMost(0.6))
            .target(1, Target::AtMost(128.0)),
    ]
}

fn once(runtime: Runtime, n: usize) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(on_tulip(n)),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(on_tokio(n)),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(on_smol(&ex, n)))
        }
    }
}

/// The handle vector is allocated before the window opens: the figure is the runtime's own
/// cost per task, not the benchmark's vector.
async fn on_tulip(n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for i in 0..n {
        tasks.push(tulip::spawn(async move { i }));
    }
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("trivial task completes");
    }
    summary(start, window, n, sum)
}

async fn on_tokio(n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for i in 0..n {
        tasks.push(tokio::spawn(async move { i }));
    }
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("trivial task completes");
    }
    summary(start, window, n, sum)
}

async fn on_smol(ex: &LocalExecutor<'_>, n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for i in 0..n {
        tasks.push(ex.spawn(async move { i }));
    }
    let mut sum = 0;
    for task in tasks {
        sum += task.await;
    }
    summary(start, window, n, sum)
}

/// The metrics of one run; `sum` proves every output arrived.
fn summary(start: Instant, window: Window, n: usize, sum: usize) -> Vec<f64> {
    let elapsed = start.elapsed();
    let growth = window.close();
    assert_eq!(
        black_box(sum),
        n * n.saturating_sub(1) / 2,
        "a task output was lost"
    );
    let per_task = |bytes: usize| bytes as f64 / n as f64;
    vec![
        elapsed.as_nanos() as f64 / n as f64,
        per_task(growth.heap),
        growth.rss.map_or(f64::NAN, per_task),
    ]
}
