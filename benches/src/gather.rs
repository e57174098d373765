//! gather: 100,000 futures gathered into one `Vec` in input order, two ways.
//!
//! - *ready futures*: `async move { i }` futures, polled in place by the gathering task (no
//!   task spawned): tulip's `gather_all` against `futures::future::join_all`, the gather tokio
//!   and smol users reach for (it runs the same on each executor, so its rows differ only by
//!   the executor around it).
//! - *spawned tasks*: 100,000 tasks `async move { i }` spawned, then gathered: tulip's
//!   `gather_all(tasks)`, tokio's `JoinSet` (spawn into the set, then `join_next` until empty),
//!   smol's tasks under `join_all`.
//!
//! Reports ns per future (first spawn or first future built, to the last output collected) and
//! the heap held per future at the peak.

use std::hint::black_box;
use std::time::Instant;

use futures_util::future::join_all;
use smol::LocalExecutor;

use crate::Options;
use crate::alloc::Window;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const FUTURES: usize = 100_000;

const METRICS: &[Metric] = &[Metric::new("ns/future", 1), Metric::new("heap B/future", 1)];

/// Measures both tables on every runtime.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(FUTURES);
    let ready = rotate(options, |runtime| once(runtime, n, Kind::Ready));
    let spawned = rotate(options, |runtime| once(runtime, n, Kind::Spawned));
    vec![
        Table::new(
            format!("gather, ready futures: {n} × `async {{ i }}` gathered in place (tokio, smol: join_all)"),
            METRICS,
            ready,
        )
        .target(0, Target::RatioAtMost(1.0)),
        Table::new(
            format!("gather, spawned tasks: {n} tasks `async {{ i }}`, then gathered (tokio: JoinSet; smol: join_all)"),
            METRICS,
            spawned,
        )
        .target(0, Target::RatioAtMost(1.0)),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Ready,
    Spawned,
}

fn once(runtime: Runtime, n: usize, kind: Kind) -> Vec<f64> {
    match (runtime, kind) {
        (Runtime::Tulip, Kind::Ready) => runtimes::tulip().block_on(tulip_ready(n)),
        (Runtime::Tulip, Kind::Spawned) => runtimes::tulip().block_on(tulip_spawned(n)),
        (Runtime::TokioCt | Runtime::TokioMt, Kind::Ready) => {
            runtime.tokio().block_on(join_all_ready(n))
        }
        (Runtime::TokioCt | Runtime::TokioMt, Kind::Spawned) => {
            runtime.tokio().block_on(tokio_spawned(n))
        }
        (Runtime::Smol, Kind::Ready) => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(join_all_ready(n)))
        }
        (Runtime::Smol, Kind::Spawned) => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(smol_spawned(&ex, n)))
        }
    }
}

async fn tulip_ready(n: usize) -> Vec<f64> {
    let window = Window::open();
    let start = Instant::now();
    let outputs = tulip::gather_all((0..n).map(|i| async move { i })).await;
    summary(start, window, n, outputs.into_iter().sum())
}

async fn join_all_ready(n: usize) -> Vec<f64> {
    let window = Window::open();
    let start = Instant::now();
    let outputs = join_all((0..n).map(|i| async move { i })).await;
    summary(start, window, n, outputs.into_iter().sum())
}

async fn tulip_spawned(n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for i in 0..n {
        tasks.push(tulip::spawn(async move { i }));
    }
    let outputs = tulip::gather_all(tasks).await;
    let sum = outputs
        .into_iter()
        .map(|r| r.expect("task completes"))
        .sum();
    summary(start, window, n, sum)
}

async fn tokio_spawned(n: usize) -> Vec<f64> {
    let window = Window::open();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(async move { i });
    }
    let mut sum = 0;
    while let Some(output) = set.join_next().await {
        sum += output.expect("task completes");
    }
    summary(start, window, n, sum)
}

async fn smol_spawned(ex: &LocalExecutor<'_>, n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for i in 0..n {
        tasks.push(ex.spawn(async move { i }));
    }
    let sum = join_all(tasks).await.into_iter().sum();
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
