//! queue_pc: the seed's `asyncq.py` at scale — 5 producers put 200,000 items each into one
//! queue, 10 consumers take them out, and the program ends when every item is done.
//!
//! tulip runs the asyncq shape itself: `put`, `get` + `task_done`, `join`, then `shutdown` to
//! end the consumers. Its peers have no `join`, so they end the way their users do: producers
//! drop their senders, consumers `recv` until the channel is closed and drained. Peers:
//! async-channel on tokio (current_thread and multi_thread) and on smol; and, in the
//! single-consumer tables, tokio's own `mpsc` on the tokio rows.
//!
//! Tables, each with an unbounded queue and with `maxsize = 100` (which makes producers wait
//! for consumers every hundred items, so it measures task switches more than the queue):
//!
//! - *one loop*: everything on one thread (tokio multi_thread runs on its two workers);
//! - *single consumer*: the same with one consumer, against tokio `mpsc`;
//! - *cross-thread*: producers on one thread's loop, consumers on another's (tulip, tokio
//!   current_thread and smol each run two single-thread executors; tokio multi_thread runs as
//!   it always does).
//!
//! Reports ns per item (first spawn to the end of the last consumer) and millions of items per
//! second. Target: tulip's ns/item at most 0.8× the best peer's (≥ 1.25× its throughput) on
//! one loop.

use std::hint::black_box;
use std::thread;
use std::time::Instant;

use smol::LocalExecutor;

use crate::Options;
use crate::report::{Metric, Row, Table, Target, median};
use crate::runtimes::{self, Runtime, rotate};

const PRODUCERS: usize = 5;
const ITEMS_PER_PRODUCER: usize = 200_000;
const CONSUMERS: usize = 10;
const BOUND: usize = 100;

const METRICS: &[Metric] = &[Metric::new("ns/item", 1), Metric::new("M items/s", 2)];

#[derive(Debug, Clone, Copy)]
struct Shape {
    per_producer: usize,
    consumers: usize,
    /// 0 for unbounded.
    maxsize: usize,
}

impl Shape {
    fn items(self) -> usize {
        PRODUCERS * self.per_producer
    }

    fn describe(self) -> String {
        let size = match self.maxsize {
            0 => "unbounded".to_owned(),
            n => format!("maxsize {n}"),
        };
        format!(
            "{PRODUCERS} producers × {} items, {} consumer{}, {size}",
            self.per_producer,
            self.consumers,
            if self.consumers == 1 { "" } else { "s" }
        )
    }
}

/// The smallest median of metric `m` among the rows that are not tulip.
pub(crate) fn best_peer(rows: &[Row], m: usize) -> Option<f64> {
    rows.iter()
        .filter(|row| row.runtime != Runtime::Tulip)
        .map(|row| median(row.runs.iter().map(|run| run[m]).collect()))
        .filter(|value| !value.is_nan())
        .reduce(f64::min)
}

/// Measures every table on every runtime.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let per_producer = options.size(ITEMS_PER_PRODUCER);
    let mut tables = Vec::new();
    for maxsize in [0, BOUND] {
        let shape = Shape {
            per_producer,
            consumers: CONSUMERS,
            maxsize,
        };
        let rows = rotate(options, |runtime| one_loop(runtime, shape));
        // ≥ 1.25× the best peer's throughput is ≤ 0.8× its time per item.
        let target = best_peer(&rows, 0).map(|best| best * 0.8);
        let title = format!(
            "queue_pc, one loop: {} (target: ≤ 0.8 × best peer's ns/item)",
            shape.describe()
        );
        let table = Table::new(title, METRICS, rows);
        tables.push(match target {
            Some(limit) => table.target(0, Target::AtMost(limit)),
            None => table,
        });
    }
    for maxsize in [0, BOUND] {
        let shape = Shape {
            per_producer,
            consumers: 1,
            maxsize,
        };
        let rows = rotate(options, |runtime| single_consumer(runtime, shape));
        let title = format!(
            "queue_pc, single consumer: {} (tokio rows: tokio mpsc)",
            shape.describe()
        );
        tables.push(Table::new(title, METRICS, rows));
    }
    for maxsize in [0, BOUND] {
        let shape = Shape {
            per_producer,
            consumers: CONSUMERS,
            maxsize,
        };
        let rows = rotate(options, |runtime| cross_thread(runtime, shape));
        let title = format!(
            "queue_pc, cross-thread: {}, producers and consumers on two threads",
            shape.describe()
        );
        tables.push(Table::new(title, METRICS, rows));
    }
    tables
}

fn summary(start: Instant, shape: Shape, received: usize) -> Vec<f64> {
    let elapsed = start.elapsed();
    assert_eq!(received, shape.items(), "items lost or duplicated");
    let ns = elapsed.as_nanos() as f64 / shape.items() as f64;
    vec![ns, 1e3 / ns]
}

fn one_loop(runtime: Runtime, shape: Shape) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(async {
            let start = Instant::now();
            let q = tulip_queue(shape);
            let producers = tulip_producers(&q, shape);
            let consumers = tulip_consumers(&q, shape);
            tulip_finish(&q, producers).await;
            let received = tulip_collect(consumers).await;
            summary(start, shape, received)
        }),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(async {
            let start = Instant::now();
            let (tx, rx) = channel(shape);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| tokio::spawn(produce(tx.clone(), p, shape)))
                .collect();
            let consumers: Vec<_> = (0..shape.consumers)
                .map(|_| tokio::spawn(consume(rx.clone())))
                .collect();
            drop((tx, rx));
            for producer in producers {
                producer.await.expect("producer completes");
            }
            let mut received = 0;
            for consumer in consumers {
                received += consumer.await.expect("consumer completes");
            }
            summary(start, shape, received)
        }),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(async {
                let start = Instant::now();
                let (tx, rx) = channel(shape);
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| ex.spawn(produce(tx.clone(), p, shape)))
                    .collect();
                let consumers: Vec<_> = (0..shape.consumers)
                    .map(|_| ex.spawn(consume(rx.clone())))
                    .collect();
                drop((tx, rx));
                for producer in producers {
                    producer.await;
                }
                let mut received = 0;
                for consumer in consumers {
                    received += consumer.await;
                }
                summary(start, shape, received)
            }))
        }
    }
}

// ----- tulip: the asyncq shape -----

fn tulip_queue(shape: Shape) -> tulip::queue::Queue<u64> {
    tulip::queue::Queue::with_maxsize(shape.maxsize)
}

fn tulip_producers(q: &tulip::queue::Queue<u64>, shape: Shape) -> Vec<tulip::Task<()>> {
    (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            tulip::spawn(async move {
                for i in 0..shape.per_producer {
                    q.put(item(p, i, shape)).await.expect("not shut down yet");
                }
            })
        })
        .collect()
}

fn tulip_consumers(q: &tulip::queue::Queue<u64>, shape: Shape) -> Vec<tulip::Task<usize>> {
    (0..shape.consumers)
        .map(|_| {
            let q = q.clone();
            tulip::spawn(async move {
                let mut received = 0;
                while let Ok(item) = q.get().await {
                    black_box(item);
                    received += 1;
                    q.task_done().expect("one task_done per item");
                }
                received
            })
        })
        .collect()
}

/// `gather(*producers)`, `q.join()`, then shut the queue down so the consumers' loops end.
async fn tulip_finish(q: &tulip::queue::Queue<u64>, producers: Vec<tulip::Task<()>>) {
    for producer in producers {
        producer.await.expect("producer completes");
    }
    q.join().await;
    q.shutdown(false);
}

async fn tulip_collect(consumers: Vec<tulip::Task<usize>>) -> usize {
    let mut received = 0;
    for consumer in consumers {
        received += consumer.await.expect("consumer completes");
    }
    received
}

// ----- peers: async-channel -----

fn item(producer: usize, i: usize, shape: Shape) -> u64 {
    (producer * shape.per_producer + i) as u64
}

fn channel(shape: Shape) -> (async_channel::Sender<u64>, async_channel::Receiver<u64>) {
    match shape.maxsize {
        0 => async_channel::unbounded(),
        n => async_channel::bounded(n),
    }
}

async fn produce(tx: async_channel::Sender<u64>, p: usize, shape: Shape) {
    for i in 0..shape.per_producer {
        tx.send(item(p, i, shape)).await.expect("consumers listen");
    }
}

async fn consume(rx: async_channel::Receiver<u64>) -> usize {
    let mut received = 0;
    while let Ok(item) = rx.recv().await {
        black_box(item);
        received += 1;
    }
    received
}

// ----- single consumer: tokio rows use tokio's mpsc -----

fn single_consumer(runtime: Runtime, shape: Shape) -> Vec<f64> {
    match runtime {
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(async {
            let start = Instant::now();
            let received = match shape.maxsize {
                0 => tokio_mpsc_unbounded(shape).await,
                n => tokio_mpsc_bounded(shape, n).await,
            };
            summary(start, shape, received)
        }),
        // The others run the same code as with ten consumers.
        other => one_loop(other, shape),
    }
}

async fn tokio_mpsc_unbounded(shape: Shape) -> usize {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..shape.per_producer {
                    tx.send(item(p, i, shape)).expect("the consumer listens");
                }
            })
        })
        .collect();
    drop(tx);
    let consumer = tokio::spawn(async move {
        let mut received = 0;
        while let Some(item) = rx.recv().await {
            black_box(item);
            received += 1;
        }
        received
    });
    for producer in producers {
        producer.await.expect("producer completes");
    }
    consumer.await.expect("consumer completes")
}

async fn tokio_mpsc_bounded(shape: Shape, bound: usize) -> usize {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(bound);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..shape.per_producer {
                    tx.send(item(p, i, shape))
                        .await
                        .expect("the consumer listens");
                }
            })
        })
        .collect();
    drop(tx);
    let consumer = tokio::spawn(async move {
        let mut received = 0;
        while let Some(item) = rx.recv().await {
            black_box(item);
            received += 1;
        }
        received
    });
    for producer in producers {
        producer.await.expect("producer completes");
    }
    consumer.await.expect("consumer completes")
}

// ----- cross-thread: producers on this thread's loop, consumers on another's -----

fn cross_thread(runtime: Runtime, shape: Shape) -> Vec<f64> {
    let start = Instant::now();
    let received = match runtime {
        Runtime::Tulip => {
            let q = tulip_queue(shape);
            let consumers = thread::spawn({
                let q = q.clone();
                move || {
                    runtimes::tulip()
                        .block_on(async move { tulip_collect(tulip_consumers(&q, shape)).await })
                }
            });
            runtimes::tulip().block_on(async {
                let producers = tulip_producers(&q, shape);
                tulip_finish(&q, producers).await;
            });
            consumers.join().expect("the consumers' loop completes")
        }
        Runtime::TokioCt => {
            let (tx, rx) = channel(shape);
            let consumers = thread::spawn(move || {
                Runtime::TokioCt.tokio().block_on(async move {
                    let consumers: Vec<_> = (0..shape.consumers)
                        .map(|_| tokio::spawn(consume(rx.clone())))
                        .collect();
                    let mut received = 0;
                    for consumer in consumers {
                        received += consumer.await.expect("consumer completes");
                    }
                    received
                })
            });
            Runtime::TokioCt.tokio().block_on(async move {
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| tokio::spawn(produce(tx.clone(), p, shape)))
                    .collect();
                for producer in producers {
                    producer.await.expect("producer completes");
                }
            });
            consumers.join().expect("the consumers' runtime completes")
        }
        // Two workers already: the same program as on one loop.
        Runtime::TokioMt => return one_loop(runtime, shape),
        Runtime::Smol => {
            let (tx, rx) = channel(shape);
            let consumers = thread::spawn(move || {
                let ex = LocalExecutor::new();
                smol::block_on(ex.run(async {
                    let consumers: Vec<_> = (0..shape.consumers)
                        .map(|_| ex.spawn(consume(rx.clone())))
                        .collect();
                    let mut received = 0;
                    for consumer in consumers {
                        received += consumer.await;
                    }
                    received
                }))
            });
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(async {
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| ex.spawn(produce(tx.clone(), p, shape)))
                    .collect();
                drop(tx);
                for producer in producers {
                    producer.await;
                }
            }));
            consumers.join().expect("the consumers' executor completes")
        }
    };
    summary(start, shape, received)
}
