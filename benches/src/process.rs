//! process: 1,000 subprocesses `true`, spawned and awaited 100 at a time.
//!
//! Measures what a runtime adds around fork/exec: registering the child and its exit watch
//! (a pidfd for tulip and recent tokio), noticing the exit, reaping. The fork and exec
//! themselves, the same for everyone, dominate. Peer: `tokio::process`; smol has no process
//! support of its own (it is the separate `async-process` crate), so it sits this one out.

use std::time::Instant;

use crate::Options;
use crate::report::{Metric, Table};
use crate::runtimes::{self, Runtime, rotate};

const CHILDREN: usize = 1_000;
const AT_A_TIME: usize = 100;

const METRICS: &[Metric] = &[Metric::new("µs/child", 1)];

/// Measures every runtime but smol and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(CHILDREN).max(AT_A_TIME);
    let mut options = options.clone();
    options.runtimes.retain(|&runtime| runtime != Runtime::Smol);
    let rows = rotate(&options, |runtime| once(runtime, n));
    let title = format!("process: {n} children `true`, spawned and awaited {AT_A_TIME} at a time");
    vec![Table::new(title, METRICS, rows)]
}

fn once(runtime: Runtime, n: usize) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(on_tulip(n)),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(on_tokio(n)),
        Runtime::Smol => unreachable!("smol is not measured here"),
    }
}

fn per_child(start: Instant, n: usize) -> Vec<f64> {
    vec![start.elapsed().as_nanos() as f64 / 1_000.0 / n as f64]
}

async fn on_tulip(n: usize) -> Vec<f64> {
    let start = Instant::now();
    for _ in 0..n / AT_A_TIME {
        let children: Vec<_> = (0..AT_A_TIME)
            .map(|_| {
                tulip::process::Command::new("true")
                    .spawn()
                    .expect("spawn true")
            })
            .collect();
        for mut child in children {
            assert!(child.wait().await.expect("wait").success());
        }
    }
    per_child(start, n)
}

async fn on_tokio(n: usize) -> Vec<f64> {
    let start = Instant::now();
    for _ in 0..n / AT_A_TIME {
        let children: Vec<_> = (0..AT_A_TIME)
            .map(|_| {
                tokio::process::Command::new("true")
                    .spawn()
                    .expect("spawn true")
            })
            .collect();
        for mut child in children {
            assert!(child.wait().await.expect("wait").success());
        }
    }
    per_child(start, n)
}
