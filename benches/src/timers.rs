//! timers: 100,000 and 1,000,000 tasks, each sleeping a seeded random 0–1000 ms (the same
//! durations on every runtime), i.e. `sleep(d)` as a program writes it.
//!
//! Measures timer precision — each task's lateness, the `std::time::Instant` at which it woke
//! minus its own deadline (the instant it started sleeping plus `d`), as p50/p99/max — and the
//! heap a sleeping task holds (peak live heap growth over the scenario / N). Deadlines count
//! from each task's first poll, so the time a runtime takes to spawn and first poll N tasks is
//! not mistaken for timer lateness; it shows in the `spawn ms` column and in the wall time.

use std::time::{Duration, Instant};

use smol::{LocalExecutor, Timer};

use crate::Options;
use crate::alloc::Window;
use crate::report::{self, Metric, Table, Target};
use crate::runtimes::{self, Runtime, rotate};

/// The seed of the deadlines, so every runtime and every run sleeps the same durations.
const SEED: u64 = 0x5eed;

/// Longest sleep, in microseconds.
const MAX_SLEEP_US: u64 = 1_000_000;

const METRICS: &[Metric] = &[
    Metric::new("wall ms", 1),
    Metric::new("spawn ms", 1),
    Metric::new("late p50 ms", 3),
    Metric::new("late p99 ms", 3),
    Metric::new("late max ms", 1),
    Metric::new("early wakes", 0),
    Metric::new("heap B/task", 1),
    Metric::new("RSS B/task", 1),
];

/// Measures both sizes on every runtime and returns their tables.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    [100_000, 1_000_000]
        .into_iter()
        .enumerate()
        .map(|(i, full)| {
            let n = options.size(full);
            let sleeps = durations(n);
            let rows = rotate(options, |runtime| once(runtime, &sleeps));
            let title = format!("timers: {n} tasks each sleeping U(0, 1000 ms)");
            let table = Table::new(title, METRICS, rows).target(6, Target::AtMost(250.0));
            if i == 0 {
                // The latency targets are set for the 100k size.
                table
                    .target(2, Target::AtMost(0.05))
                    .target(3, Target::AtMost(3.0))
            } else {
                table
            }
        })
        .collect()
}

/// `n` seeded durations, uniform in 0–1000 ms at microsecond resolution.
fn durations(n: usize) -> Vec<Duration> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    (0..n)
        .map(|_| Duration::from_micros(rng.u64(0..=MAX_SLEEP_US)))
        .collect()
}

fn once(runtime: Runtime, sleeps: &[Duration]) -> Vec<f64> {
    match runtime {
        Runtime::Tulip => runtimes::tulip().block_on(on_tulip(sleeps)),
        Runtime::TokioCt | Runtime::TokioMt => runtime.tokio().block_on(on_tokio(sleeps)),
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            smol::block_on(ex.run(on_smol(&ex, sleeps)))
        }
    }
}

/// Milliseconds from `deadline` to `woke`; negative if the task woke early.
fn lateness_ms(woke: Instant, deadline: Instant) -> f64 {
    match woke.checked_duration_since(deadline) {
        Some(late) => late.as_secs_f64() * 1e3,
        None => -(deadline - woke).as_secs_f64() * 1e3,
    }
}

/// Everything a run records; vectors are sized before the memory window opens, so the heap
/// figure is the runtime's alone.
struct Run {
    late: Vec<f64>,
    window: Window,
    start: Instant,
    spawned: Duration,
}

impl Run {
    fn begin(n: usize) -> Run {
        let late = Vec::with_capacity(n);
        let window = Window::open();
        let start = Instant::now();
        Run {
            late,
            window,
            start,
            spawned: Duration::ZERO,
        }
    }

    fn summary(mut self) -> Vec<f64> {
        let wall = self.start.elapsed();
        let growth = self.window.close();
        let n = self.late.len() as f64;
        self.late.sort_by(f64::total_cmp);
        let early = self.late.iter().take_while(|&&l| l < 0.0).count();
        let per_task = |bytes: usize| bytes as f64 / n;
        vec![
            wall.as_secs_f64() * 1e3,
            self.spawned.as_secs_f64() * 1e3,
            report::percentile(&self.late, 50.0),
            report::percentile(&self.late, 99.0),
            report::percentile(&self.late, 100.0),
            early as f64,
            per_task(growth.heap),
            growth.rss.map_or(f64::NAN, per_task),
        ]
    }
}

async fn on_tulip(sleeps: &[Duration]) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(sleeps.len());
    let mut run = Run::begin(sleeps.len());
    for &sleep in sleeps {
        tasks.push(tulip::spawn(async move {
            let deadline = Instant::now() + sleep;
            tulip::time::sleep_until(tulip::time::Instant::from_std(deadline)).await;
            lateness_ms(Instant::now(), deadline)
        }));
    }
    run.spawned = run.start.elapsed();
    for task in tasks {
        run.late.push(task.await.expect("sleeper completes"));
    }
    run.summary()
}

async fn on_tokio(sleeps: &[Duration]) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(sleeps.len());
    let mut run = Run::begin(sleeps.len());
    for &sleep in sleeps {
        tasks.push(tokio::spawn(async move {
            let deadline = Instant::now() + sleep;
            tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
            lateness_ms(Instant::now(), deadline)
        }));
    }
    run.spawned = run.start.elapsed();
    for task in tasks {
        run.late.push(task.await.expect("sleeper completes"));
    }
    run.summary()
}

async fn on_smol(ex: &LocalExecutor<'_>, sleeps: &[Duration]) -> Vec<f64> {
    let mut tasks = Vec::with_capacity(sleeps.len());
    let mut run = Run::begin(sleeps.len());
    for &sleep in sleeps {
        tasks.push(ex.spawn(async move {
            let deadline = Instant::now() + sleep;
            Timer::at(deadline).await;
            lateness_ms(Instant::now(), deadline)
        }));
    }
    run.spawned = run.start.elapsed();
    for task in tasks {
        run.late.push(task.await);
    }
    run.summary()
}
