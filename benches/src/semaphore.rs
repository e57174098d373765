//! semaphore: 10,000 tasks pass through one `Semaphore(100)`, each holding its permit across
//! a yield to the loop, so at most a hundred are inside at once and the rest queue up.
//!
//! tulip's `sync::Semaphore` against `tokio::sync::Semaphore` on the tokio rows and
//! `async-lock`'s `Semaphore` on smol's. Reports ns per task (spawn to the last task done),
//! over ten rounds of 10,000 tasks so the figure is not lost in timer noise.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use smol::LocalExecutor;

use crate::Options;
use crate::report::{Metric, Table};
use crate::runtimes::{self, Runtime, rotate};

const TASKS: usize = 10_000;
const PERMITS: usize = 100;
const ROUNDS: usize = 10;

const METRICS: &[Metric] = &[Metric::new("ns/task", 1), Metric::new("total ms", 2)];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let tasks = options.size(TASKS);
    let rows = rotate(options, |runtime| once(runtime, tasks));
    let title = format!(
        "semaphore: {ROUNDS} rounds of {tasks} tasks through Semaphore({PERMITS}), each holding \
         its permit across a yield (tokio: sync::Semaphore; smol: async-lock Semaphore)"
    );
    vec![Table::new(title, METRICS, rows)]
}

fn summary(start: Instant, tasks: usize) -> Vec<f64> {
    let elapsed = start.elapsed();
    vec![
        elapsed.as_nanos() as f64 / (tasks * ROUNDS) as f64,
        elapsed.as_secs_f64() * 1e3,
    ]
}

fn once(runtime: Runtime, tasks: usize) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(async {
            let sem = Rc::new(tulip::sync::Semaphore::new(PERMITS));
            let start = Instant::now();
            for _ in 0..ROUNDS {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        let sem = sem.clone();
                        tulip::spawn(async move {
                            let _permit = sem.acquire().await;
                            tulip::task::yield_now().await;
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.expect("task completes");
                }
            }
            assert_eq!(sem.permits(), PERMITS);
            summary(start, tasks)
        }),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(async {
            let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
            let start = Instant::now();
            for _ in 0..ROUNDS {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        let sem = sem.clone();
                        tokio::spawn(async move {
                            let _permit = sem.acquire().await.expect("never closed");
                            tokio::task::yield_now().await;
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.expect("task completes");
                }
            }
            assert_eq!(sem.available_permits(), PERMITS);
            summary(start, tasks)
        }),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(async {
                let sem = Rc::new(async_lock::Semaphore::new(PERMITS));
                let start = Instant::now();
                for _ in 0..ROUNDS {
                    let handles: Vec<_> = (0..tasks)
                        .map(|_| {
                            let sem = sem.clone();
                            ex.spawn(async move {
                                let _permit = sem.acquire().await;
                                smol::future::yield_now().await;
                            })
                        })
                        .collect();
                    for handle in handles {
                        handle.await;
                    }
                }
                summary(start, tasks)
            }))
        }
    }
}
