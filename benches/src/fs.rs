//! fs: append a million short lines (`"line 123456\n"`) to a file with one `write_all` per
//! line, flush, then read the file back line by line — the crawler's aiofiles pattern.
//!
//! Each contender is used as its users write it: `tulip::fs::File::write_all` and `lines()`;
//! `tokio::fs::File::write_all` (one blocking-pool hop per call: tokio's `File` starts a
//! write job and the next call waits for it) and `tokio::io::BufReader::lines`; `async-fs`
//! (smol's, a pipe-buffered `Unblock` over the std file) with `futures-lite`'s `write_all` and
//! `BufReader::lines`. Metrics: the whole round in ms, and its two halves.
//!
//! Run only when named (`tulip-bench fs`): tokio's hop per line takes about a minute per run
//! on two cores, ten minutes for the whole table.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::Options;
use crate::report::{Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

const LINES: usize = 1_000_000;

const METRICS: &[Metric] = &[
    Metric::new("total ms", 1),
    Metric::new("write ms", 1),
    Metric::new("read ms", 1),
];

/// Measures every runtime and returns the table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let n = options.size(LINES);
    let rows = rotate(options, |runtime| once(runtime, n));
    let title = format!(
        "fs: append {n} lines of 12 bytes with one write_all each, flush, read them back by lines"
    );
    vec![Table::new(title, METRICS, rows).target(0, Target::RatioAtMost(0.5))]
}

fn scratch(runtime: Runtime) -> PathBuf {
    std::env::temp_dir().join(format!(
        "tulip-bench-fs-{}-{}.txt",
        std::process::id(),
        runtime.key()
    ))
}

fn once(runtime: Runtime, n: usize) -> Vec<f64> {
    let path = scratch(runtime);
    let _ = std::fs::remove_file(&path);
    let result = match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(on_tulip(&path, n)),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(on_tokio(&path, n)),
        Runtime::Smol => smol::block_on(on_smol(&path, n)),
    };
    let _ = std::fs::remove_file(&path);
    result
}

/// Line `i`, the same for every contender.
fn line(i: usize) -> String {
    format!("line {:06}\n", i % 1_000_000)
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Checks what was read back and returns the metrics.
fn summary(write_ms: f64, read_ms: f64, count: usize, bytes: usize, n: usize) -> Vec<f64> {
    assert_eq!(count, n, "lines lost or added");
    assert_eq!(bytes, n * 11, "line contents differ");
    vec![write_ms + read_ms, write_ms, read_ms]
}

async fn on_tulip(path: &Path, n: usize) -> Vec<f64> {
    use futures_lite::StreamExt;

    let start = Instant::now();
    let mut file = tulip::fs::File::options()
        .append(true)
        .create(true)
        .open(path)
        .await
        .expect("create the file");
    for i in 0..n {
        file.write_all(line(i).as_bytes()).await.expect("write");
    }
    file.close().await.expect("flush");
    let write_ms = ms(start);

    let start = Instant::now();
    let mut lines = tulip::fs::File::open(path).await.expect("open").lines();
    let (mut count, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.expect("read").len();
        count += 1;
    }
    summary(write_ms, ms(start), count, bytes, n)
}

async fn on_tokio(path: &Path, n: usize) -> Vec<f64> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let start = Instant::now();
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .await
        .expect("create the file");
    for i in 0..n {
        file.write_all(line(i).as_bytes()).await.expect("write");
    }
    file.flush().await.expect("flush");
    drop(file);
    let write_ms = ms(start);

    let start = Instant::now();
    let file = tokio::fs::File::open(path).await.expect("open");
    let mut lines = BufReader::new(file).lines();
    let (mut count, mut bytes) = (0, 0);
    while let Some(line) = lines.next_line().await.expect("read") {
        bytes += line.len();
        count += 1;
    }
    summary(write_ms, ms(start), count, bytes, n)
}

async fn on_smol(path: &Path, n: usize) -> Vec<f64> {
    use futures_lite::StreamExt;
    use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let start = Instant::now();
    let mut file = async_fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .await
        .expect("create the file");
    for i in 0..n {
        file.write_all(line(i).as_bytes()).await.expect("write");
    }
    file.flush().await.expect("flush");
    drop(file);
    let write_ms = ms(start);

    let start = Instant::now();
    let file = async_fs::File::open(path).await.expect("open");
    let mut lines = BufReader::new(file).lines();
    let (mut count, mut bytes) = (0, 0);
    while let Some(line) = lines.next().await {
        bytes += line.expect("read").len();
        count += 1;
    }
    summary(write_ms, ms(start), count, bytes, n)
}
