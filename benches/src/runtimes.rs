//! The runtimes compared, how each is built, and the rotation that measures them in turn.

use crate::Options;
use crate::report::Row;

/// One contender. Every measured run builds a fresh runtime of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// `tulip::Runtime`, one thread.
    Tulip,
    /// tokio's `current_thread` runtime, tasks spawned with `tokio::spawn`.
    TokioCt,
    /// tokio's `multi_thread` runtime with two workers.
    TokioMt,
    /// smol's `LocalExecutor`, driven by `smol::block_on` (async-io's reactor and timers).
    Smol,
}

impl Runtime {
    /// Every contender, in the order of a rotation and of the table rows.
    pub(crate) const ALL: [Runtime; 4] = [
        Runtime::Tulip,
        Runtime::TokioCt,
        Runtime::TokioMt,
        Runtime::Smol,
    ];

    /// The short name `--only` takes.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Runtime::Tulip => "tulip",
            Runtime::TokioCt => "tokio-ct",
            Runtime::TokioMt => "tokio-mt",
            Runtime::Smol => "smol",
        }
    }

    /// The runtime whose [`key`](Runtime::key) is `key`.
    pub(crate) fn from_key(key: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|r| r.key() == key)
    }

    /// The row label.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::Tulip => "tulip",
            Runtime::TokioCt => "tokio current_thread",
            Runtime::TokioMt => "tokio multi_thread (2)",
            Runtime::Smol => "smol LocalExecutor",
        }
    }

    /// A fresh tokio runtime of this kind.
    ///
    /// # Panics
    ///
    /// If `self` is not a tokio runtime, or the OS refuses the runtime's resources.
    pub(crate) fn tokio(self) -> tokio::runtime::Runtime {
        let mut builder = match self {
            Runtime::TokioCt => tokio::runtime::Builder::new_current_thread(),
            Runtime::TokioMt => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(2);
                builder
            }
            other => panic!("{} is not a tokio runtime", other.name()),
        };
        builder.enable_all().build().expect("build a tokio runtime")
    }
}

/// A fresh tulip runtime.
///
/// # Panics
///
/// If the OS refuses the loop's resources (the poller).
pub(crate) fn tulip() -> tulip::Runtime {
    tulip::Runtime::new().expect("build a tulip runtime")
}

/// Runs `once` for every chosen runtime in turn, `reps` rotations, so that machine noise
/// spreads over all runtimes alike; returns one row per runtime with its `reps` runs.
///
/// Each rotation starts one runtime further on (tulip, tokio-ct, tokio-mt, smol; then
/// tokio-ct, tokio-mt, smol, tulip; …), so no runtime always inherits the heap and caches the
/// same predecessor left behind.
pub(crate) fn rotate(options: &Options, mut once: impl FnMut(Runtime) -> Vec<f64>) -> Vec<Row> {
    let reps = options.reps;
    let mut rows: Vec<Row> = options
        .runtimes
        .iter()
        .map(|&runtime| Row {
            runtime,
            runs: Vec::with_capacity(reps),
        })
        .collect();
    let count = rows.len();
    for rep in 0..reps {
        for i in 0..count {
            let row = &mut rows[(rep + i) % count];
            row.runs.push(once(row.runtime));
        }
    }
    rows
}
