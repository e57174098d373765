//! as_completed: 100,000 tasks, each `yield_now` once then return its index, consumed as a
//! stream in completion order: tulip's `as_completed(tasks)` against a `FuturesUnordered` of
//! the task handles (futures-util's, what tokio and smol users reach for).
//!
//! Reports ns per task (first spawn to last output) and the heap held per task at the peak.

use std::hint::black_box;
use std::time::Instant;

use futures_util::stream::FuturesUnordered;
use smol::LocalExecutor;
use tulip::combine::StreamExt as _;

use crate::Options;
use crate::alloc::Window;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const TASKS: usize = 100_000;

const METRICS: &[Metric] = &[Metric::new("ns/task", 1), Metric::new("heap B/task", 1)];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(TASKS);
    let rows = rotate(options, |runtime| once(runtime, n));
    let title = format!(
        "as_completed: {n} tasks (yield once, return), results in completion order (tokio, smol: FuturesUnordered)"
    );
    vec![Table::new(title, METRICS, rows).target(0, Target::RatioAtMost(1.0))]
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

async fn on_tulip(n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for i in 0..n {
        tasks.push(tulip::spawn(async move {
            tulip::task::yield_now().await;
            i
        }));
    }
    let mut results = tulip::as_completed(tasks);
    let mut sum = 0;
    while let Some(output) = results.next().await {
        sum += output.expect("task completes");
    }
    summary(start, window, n, sum)
}

async fn on_tokio(n: usize) -> Vec<f64> {
    let window = Window::open();
    let start = Instant::now();
    let mut results: FuturesUnordered<_> = (0..n)
        .map(|i| {
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                i
            })
        })
        .collect();
    let mut sum = 0;
    while let Some(output) = results.next().await {
        sum += output.expect("task completes");
    }
    summary(start, window, n, sum)
}

async fn on_smol(ex: &LocalExecutor<'_>, n: usize) -> Vec<f64> {
    let window = Window::open();
    let start = Instant::now();
    let mut results: FuturesUnordered<_> = (0..n)
        .map(|i| {
            ex.spawn(async move {
                smol::future::yield_now().await;
                i
            })
        })
        .collect();
    let mut sum = 0;
    while let Some(output) = results.next().await {
        sum += output;
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
        "an output was lost"
    );
    vec![
        elapsed.as_nanos() as f64 / n as f64,
        growth.heap as f64 / n as f64,
    ]
}
