//! gather_sleep: 10,000 tasks each `sleep(10 ms)`, spawned all at once, then all awaited.
//!
//! Measures what a runtime adds on top of the sleep: overhead = wall time − 10 ms, covering
//! spawning, arming 10,000 timers, firing them together and collecting the results.

use std::time::{Duration, Instant};

use smol::{LocalExecutor, Timer};

use crate::Options;
use crate::alloc::Window;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const TASKS: usize = 10_000;

const SLEEP: Duration = Duration::from_millis(10);

const METRICS: &[Metric] = &[
    Metric::new("overhead ms", 3),
    Metric::new("wall ms", 3),
    Metric::new("heap B/task", 1),
];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(TASKS);
    let rows = rotate(options, |runtime| once(runtime, n));
    let title = format!("gather_sleep: {n} tasks × sleep(10 ms), spawn all, then await all");
    vec![Table::new(title, METRICS, rows).target(0, Target::AtMost(2.5))]
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
    for _ in 0..n {
        tasks.push(tulip::spawn(tulip::time::sleep(SLEEP)));
    }
    for task in tasks {
        task.await.expect("sleeper completes");
    }
    summary(start, window, n)
}

async fn on_tokio(n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for _ in 0..n {
        tasks.push(tokio::spawn(tokio::time::sleep(SLEEP)));
    }
    for task in tasks {
        task.await.expect("sleeper completes");
    }
    summary(start, window, n)
}

async fn on_smol(ex: &LocalExecutor<'_>, n: usize) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(n);
    let window = Window::open();
    let start = Instant::now();
    for _ in 0..n {
        tasks.push(ex.spawn(async {
            Timer::after(SLEEP).await;
        }));
    }
    for task in tasks {
        task.await;
    }
    summary(start, window, n)
}

/// The metrics of one run.
fn summary(start: Instant, window: Window, n: usize) -> Vec<f64> {
    let wall = start.elapsed();
    let growth = window.close();
    vec![
        (wall.as_secs_f64() - SLEEP.as_secs_f64()) * 1e3,
        wall.as_secs_f64() * 1e3,
        growth.heap as f64 / n as f64,
    ]
}
