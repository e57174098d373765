//! ping_pong: two tasks hand a counter back and forth a million times.
//!
//! Measures the wake-to-run latency of the scheduler, in ns per round trip (two hops, so two
//! wakes and two polls). Two variants:
//!
//! - `oneshot per hop`: every hop is a fresh one-shot channel whose message carries the sender
//!   for the reply — tulip's `sync::oneshot`, tokio's `sync::oneshot`, and for smol (which has
//!   no one-shot of its own) `futures-channel`'s.
//! - `oneshot per hop, loop-local`: the same, with tulip's `sync::local_oneshot` — asyncio's own
//!   kind of future, bound to one loop, so no atomics — against the same peers as above
//!   (neither tokio nor smol has a loop-bound one-shot).
//! - `reused channels`: one `async-channel` `bounded(1)` each way, the same channel type on
//!   every runtime, so only the runtimes differ.

use std::time::Instant;

use smol::LocalExecutor;

use crate::Options;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const ROUND_TRIPS: usize = 1_000_000;

const METRICS: &[Metric] = &[Metric::new("ns/round trip", 1), Metric::new("total ms", 1)];

/// Measures both variants on every runtime and returns their tables.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(ROUND_TRIPS) as u64;
    let per_hop = rotate(options, |runtime| oneshot_once(runtime, n));
    let per_hop_local = rotate(options, |runtime| match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(oneshot_tulip_local(n)),
        _ => oneshot_once(runtime, n),
    });
    let reused = rotate(options, |runtime| channel_once(runtime, n));
    vec![
        Table::new(
            format!("ping_pong, oneshot per hop: {n} round trips"),
            METRICS,
            per_hop,
        )
        .target(0, Target::RatioAtMost(0.8)),
        Table::new(
            format!("ping_pong, oneshot per hop, tulip's loop-local future: {n} round trips"),
            METRICS,
            per_hop_local,
        )
        .target(0, Target::RatioAtMost(0.8)),
        Table::new(
            format!("ping_pong, reused async-channel bounded(1) each way: {n} round trips"),
            METRICS,
            reused,
        ),
    ]
}

/// The metrics of one run of `n` round trips that started at `start`.
fn summary(start: Instant, n: u64) -> Vec<f64> {
    let elapsed = start.elapsed();
    vec![
        elapsed.as_nanos() as f64 / n as f64,
        elapsed.as_secs_f64() * 1e3,
    ]
}

fn oneshot_once(runtime: Runtime, n: u64) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(oneshot_tulip(n)),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(oneshot_tokio(n)),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(oneshot_smol(&ex, n)))
        }
    }
}

/// The oneshot-per-hop round trips on tulip, for one of its two one-shot channels (both have
/// `channel()`, `Promise::set_result` and an awaitable `Receiver`): the thread-safe
/// `sync::oneshot` and the loop-bound `sync::local_oneshot`.
macro_rules! tulip_oneshot_ping_pong {
    ($name:ident, $channel:ident) => {
        async fn $name(n: u64) -> Vec<f64> {
            use tulip::sync::$channel::{Promise, channel};

            /// A hop: the counter and the sender for the answer.
            struct Hop {
                count: u64,
                reply: Promise<Hop>,
            }

            let (first, mut inbox) = channel::<Hop>();
            let start = Instant::now();
            let echo = tulip::spawn(async move {
                while let Ok(Hop { count, reply }) = inbox.await {
                    let (promise, next) = channel();
                    let hop = Hop {
                        count: count + 1,
                        reply: promise,
                    };
                    assert!(reply.set_result(hop).is_ok(), "driver gone mid-trip");
                    inbox = next;
                }
            });
            let driver = tulip::spawn(async move {
                let (mut to_echo, mut count) = (first, 0);
                for _ in 0..n {
                    let (promise, answer) = channel();
                    let hop = Hop {
                        count,
                        reply: promise,
                    };
                    assert!(to_echo.set_result(hop).is_ok(), "echo gone mid-trip");
                    let back = answer.await.expect("echo answers");
                    (to_echo, count) = (back.reply, back.count + 1);
                }
                count
            });
            assert_eq!(driver.await.expect("driver completes"), 2 * n);
            echo.await.expect("echo completes");
            summary(start, n)
        }
    };
}

tulip_oneshot_ping_pong!(oneshot_tulip, oneshot);
tulip_oneshot_ping_pong!(oneshot_tulip_local, local_oneshot);

/// A hop: the counter and the sender for the answer.
struct TokioHop {
    count: u64,
    reply: tokio::sync::oneshot::Sender<TokioHop>,
}

async fn oneshot_tokio(n: u64) -> Vec<f64> {
    use tokio::sync::oneshot::channel;
    let (first, mut inbox) = channel::<TokioHop>();
    let start = Instant::now();
    let echo = tokio::spawn(async move {
        while let Ok(TokioHop { count, reply }) = inbox.await {
            let (sender, next) = channel();
            let hop = TokioHop {
                count: count + 1,
                reply: sender,
            };
            assert!(reply.send(hop).is_ok(), "driver gone mid-trip");
            inbox = next;
        }
    });
    let driver = tokio::spawn(async move {
        let (mut to_echo, mut count) = (first, 0);
        for _ in 0..n {
            let (sender, answer) = channel();
            let hop = TokioHop {
                count,
                reply: sender,
            };
            assert!(to_echo.send(hop).is_ok(), "echo gone mid-trip");
            let back = answer.await.expect("echo answers");
            (to_echo, count) = (back.reply, back.count + 1);
        }
        count
    });
    assert_eq!(driver.await.expect("driver completes"), 2 * n);
    echo.await.expect("echo completes");
    summary(start, n)
}

/// A hop: the counter and the sender for the answer.
struct SmolHop {
    count: u64,
    reply: futures_channel::oneshot::Sender<SmolHop>,
}

async fn oneshot_smol(ex: &LocalExecutor<'_>, n: u64) -> Vec<f64> {
    use futures_channel::oneshot::channel;
    let (first, mut inbox) = channel::<SmolHop>();
    let start = Instant::now();
    let echo = ex.spawn(async move {
        while let Ok(SmolHop { count, reply }) = inbox.await {
            let (sender, next) = channel();
            let hop = SmolHop {
                count: count + 1,
                reply: sender,
            };
            assert!(reply.send(hop).is_ok(), "driver gone mid-trip");
            inbox = next;
        }
    });
    let driver = ex.spawn(async move {
        let (mut to_echo, mut count) = (first, 0);
        for _ in 0..n {
            let (sender, answer) = channel();
            let hop = SmolHop {
                count,
                reply: sender,
            };
            assert!(to_echo.send(hop).is_ok(), "echo gone mid-trip");
            let back = answer.await.expect("echo answers");
            (to_echo, count) = (back.reply, back.count + 1);
        }
        count
    });
    assert_eq!(driver.await, 2 * n);
    echo.await;
    summary(start, n)
}

fn channel_once(runtime: Runtime, n: u64) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(async {
            let start = Instant::now();
            let (echo, driver) = channel_pair(n);
            let (echo, driver) = (tulip::spawn(echo), tulip::spawn(driver));
            assert_eq!(driver.await.expect("driver completes"), 2 * n);
            echo.await.expect("echo completes");
            summary(start, n)
        }),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(async {
            let start = Instant::now();
            let (echo, driver) = channel_pair(n);
            let (echo, driver) = (tokio::spawn(echo), tokio::spawn(driver));
            assert_eq!(driver.await.expect("driver completes"), 2 * n);
            echo.await.expect("echo completes");
            summary(start, n)
        }),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(async {
                let start = Instant::now();
                let (echo, driver) = channel_pair(n);
                let (echo, driver) = (ex.spawn(echo), ex.spawn(driver));
                assert_eq!(driver.await, 2 * n);
                echo.await;
                summary(start, n)
            }))
        }
    }
}

/// The two sides of the reused-channel variant: the echo adds one and sends the counter back
/// until the driver, after `n` round trips, drops its sender; the driver returns the counter.
fn channel_pair(
    n: u64,
) -> (
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = u64> + Send + 'static,
) {
    let (ping, ping_rx) = async_channel::bounded::<u64>(1);
    let (pong, pong_rx) = async_channel::bounded::<u64>(1);
    let echo = async move {
        while let Ok(count) = ping_rx.recv().await {
            pong.send(count + 1).await.expect("driver listens");
        }
    };
    let driver = async move {
        let mut count = 0;
        for _ in 0..n {
            ping.send(count).await.expect("echo listens");
            count = pong_rx.recv().await.expect("echo answers") + 1;
        }
        count
    };
    (echo, driver)
}
