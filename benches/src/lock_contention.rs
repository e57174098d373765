//! lock_contention: 1,000 tasks each take one lock 1,000 times, yielding to the loop while
//! they hold it, so every acquisition waits behind the others and is a hand-over from the
//! previous holder.
//!
//! tulip's `sync::Lock` against `tokio::sync::Mutex` on the tokio rows and `async-lock`'s
//! `Mutex` on smol's. Reports ns per acquisition. Target: tulip at most the best peer's time.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use smol::LocalExecutor;

use crate::Options;
use crate::queue_pc::best_peer;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const TASKS: usize = 1_000;
const ROUNDS: usize = 1_000;

const METRICS: &[Metric] = &[Metric::new("ns/acquire", 1), Metric::new("total ms", 1)];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let rounds = options.size(ROUNDS);
    let rows = rotate(options, |runtime| once(runtime, rounds));
    let target = best_peer(&rows, 0);
    let title = format!(
        "lock_contention: {TASKS} tasks × {rounds} acquisitions around a yield \
         (tokio: sync::Mutex; smol: async-lock Mutex; target: ≤ best peer)"
    );
    let table = Table::new(title, METRICS, rows);
    vec![match target {
        Some(limit) => table.target(0, Target::AtMost(limit)),
        None => table,
    }]
}

fn summary(start: Instant, acquisitions: usize) -> Vec<f64> {
    let elapsed = start.elapsed();
    vec![
        elapsed.as_nanos() as f64 / acquisitions as f64,
        elapsed.as_secs_f64() * 1e3,
    ]
}

fn once(runtime: Runtime, rounds: usize) -> Vec<f64> {
    let total = TASKS * rounds;
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(async {
            let lock = Rc::new(tulip::sync::Lock::new());
            let start = Instant::now();
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let lock = lock.clone();
                    tulip::spawn(async move {
                        for _ in 0..rounds {
                            let _guard = lock.lock().await;
                            tulip::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task completes");
            }
            summary(start, total)
        }),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(async {
            let lock = Arc::new(tokio::sync::Mutex::new(()));
            let start = Instant::now();
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let lock = lock.clone();
                    tokio::spawn(async move {
                        for _ in 0..rounds {
                            let _guard = lock.lock().await;
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task completes");
            }
            summary(start, total)
        }),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(async {
                let lock = Rc::new(async_lock::Mutex::new(()));
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        ex.spawn(async move {
                            for _ in 0..rounds {
                                let _guard = lock.lock().await;
                                smol::future::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
                summary(start, total)
            }))
        }
    }
}
