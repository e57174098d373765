//! to_thread: hand trivial jobs to the runtime's blocking pool and await their results.
//!
//! Two shapes: a round trip (await each job before sending the next: the latency of waking a
//! pool thread and being woken back), and a burst (send them all, then await them all: the
//! pool's throughput). Peers: tokio's `spawn_blocking`, smol's `unblock`.

use std::time::Instant;

use crate::Options;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const JOBS: usize = 100_000;

const METRICS: &[Metric] = &[
    Metric::new("round trip ns/job", 0),
    Metric::new("burst ns/job", 0),
];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(JOBS);
    let rows = rotate(options, |runtime| once(runtime, n));
    let title =
        format!("to_thread: {n} trivial jobs on the blocking pool, one by one / all at once");
    vec![
        Table::new(title, METRICS, rows)
            .target(0, Target::RatioAtMost(1.0))
            .target(1, Target::RatioAtMost(1.0)),
    ]
}

fn once(runtime: Runtime, n: usize) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(on_tulip(n)),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(on_tokio(n)),
        Runtime::Smol => smol::block_on(on_smol(n)),
    }
}

fn per_job(start: Instant, n: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / n as f64
}

async fn on_tulip(n: usize) -> Vec<f64> {
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..n {
        sum += tulip::to_thread(move || i).await.expect("trivial job");
    }
    let round_trip = per_job(start, n);
    let start = Instant::now();
    let jobs: Vec<_> = (0..n).map(|i| tulip::to_thread(move || i)).collect();
    for job in jobs {
        sum += job.await.expect("trivial job");
    }
    let burst = per_job(start, n);
    assert_eq!(sum, n * (n - 1));
    vec![round_trip, burst]
}

async fn on_tokio(n: usize) -> Vec<f64> {
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..n {
        sum += tokio::task::spawn_blocking(move || i)
            .await
            .expect("trivial job");
    }
    let round_trip = per_job(start, n);
    let start = Instant::now();
    let jobs: Vec<_> = (0..n)
        .map(|i| tokio::task::spawn_blocking(move || i))
        .collect();
    for job in jobs {
        sum += job.await.expect("trivial job");
    }
    let burst = per_job(start, n);
    assert_eq!(sum, n * (n - 1));
    vec![round_trip, burst]
}

async fn on_smol(n: usize) -> Vec<f64> {
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..n {
        sum += smol::unblock(move || i).await;
    }
    let round_trip = per_job(start, n);
    let start = Instant::now();
    let jobs: Vec<_> = (0..n).map(|i| smol::unblock(move || i)).collect();
    for job in jobs {
        sum += job.await;
    }
    let burst = per_job(start, n);
    assert_eq!(sum, n * (n - 1));
    vec![round_trip, burst]
}
