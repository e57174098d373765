//! wait_for: one task runs 1,000,000 operations in a row, each under a 60 s timeout that
//! never fires: the common case, where a deadline is armed and disarmed without ever being
//! reached. Each operation is pending once (it wakes itself and returns `Pending`, then is
//! ready), so every runtime really arms its timer: tulip's `time::wait_for`,
//! `tokio::time::timeout`, and for smol, which has no timeout of its own, the operation raced
//! against an `async_io::Timer` with `or`.
//!
//! Reports ns per operation, and the same loop without any timeout, to show what the timeout
//! adds.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use smol::future::FutureExt as _;
use smol::{LocalExecutor, Timer};

use crate::Options;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const OPERATIONS: usize = 1_000_000;

/// Far longer than the whole run: it never fires.
const TIMEOUT: Duration = Duration::from_secs(60);

const METRICS: &[Metric] = &[Metric::new("ns/op", 1), Metric::new("ns/op, no timeout", 1)];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(OPERATIONS);
    let rows = rotate(options, |runtime| once(runtime, n));
    let title = format!(
        "wait_for: {n} operations, each pending once, under a 60 s timeout that never fires"
    );
    vec![Table::new(title, METRICS, rows).target(0, Target::RatioAtMost(1.0))]
}

/// Pending once (having woken itself), then ready: an operation that makes the timeout arm.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn op() -> PendingOnce {
    PendingOnce(false)
}

fn once(runtime: Runtime, n: usize) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => {
            let mut rt = runtimes::tulip();
            let task = rt.spawn(on_tulip(n));
            rt.block_on(task).expect("no panic")
        }
        Runtime::TokioCt | Runtime::TokioMt => {
            let rt = runtime.tokio();
            rt.block_on(async { tokio::spawn(on_tokio(n)).await.expect("no panic") })
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(ex.spawn(on_smol(n))))
        }
    }
}

async fn on_tulip(n: usize) -> Vec<f64> {
    let start = Instant::now();
    for _ in 0..n {
        tulip::time::wait_for(TIMEOUT, op())
            .await
            .expect("never fires");
    }
    let timed = start.elapsed();
    let start = Instant::now();
    for _ in 0..n {
        op().await;
    }
    summary(timed, start.elapsed(), n)
}

async fn on_tokio(n: usize) -> Vec<f64> {
    let start = Instant::now();
    for _ in 0..n {
        tokio::time::timeout(TIMEOUT, op())
            .await
            .expect("never fires");
    }
    let timed = start.elapsed();
    let start = Instant::now();
    for _ in 0..n {
        op().await;
    }
    summary(timed, start.elapsed(), n)
}

async fn on_smol(n: usize) -> Vec<f64> {
    let start = Instant::now();
    for _ in 0..n {
        let within = async {
            op().await;
            true
        };
        let timer = async {
            Timer::after(TIMEOUT).await;
            false
        };
        assert!(black_box(within.or(timer).await), "never fires");
    }
    let timed = start.elapsed();
    let start = Instant::now();
    for _ in 0..n {
        op().await;
    }
    summary(timed, start.elapsed(), n)
}

fn summary(timed: Duration, bare: Duration, n: usize) -> Vec<f64> {
    vec![
        timed.as_nanos() as f64 / n as f64,
        bare.as_nanos() as f64 / n as f64,
    ]
}
