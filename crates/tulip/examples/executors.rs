//! `test9.py` from the tutorials: blocking I/O on a thread pool and CPU-heavy sums on a second
//! pool, all started at once from one loop and gathered; everything runs at the same time, so
//! the program takes about one second, not three plus the sums.
//!
//! Where asyncio needs a `ProcessPoolExecutor` to get around the GIL, tulip uses threads: Rust
//! threads compute in parallel. (`ThreadPool::cpu()` is the ready-made pool sized to the
//! cores; the seed sizes its pool to the number of jobs, and so does this port.)
//!
//! ```text
//! $ cargo run -p tulip-rt --example executors
//! threading(0): done
//! threading(1): done
//! threading(2): done
//! process(0): done, sum 333333283333335000000
//! process(1): done, sum 333333283333335000000
//! process(2): done, sum 333333283333335000000
//! all 6 jobs were running at the same moment: true
//! ```

use std::time::{Duration, Instant};

use tulip::blocking::ThreadPool;
use tulip::runtime::Handle;

/// When a job ran, by the wall clock (the jobs run on other threads, outside the loop's time).
struct Span {
    start: Instant,
    end: Instant,
}

fn wait_io(id: usize) -> (String, Span) {
    let start = Instant::now();
    // As the seed does: a sleep stands in for blocking I/O.
    std::thread::sleep(Duration::from_secs(1));
    let span = Span {
        start,
        end: Instant::now(),
    };
    (format!("threading({id}): done"), span)
}

fn more_cpu(id: usize) -> (String, Span) {
    let start = Instant::now();
    // sum(i * i for i in range(10 ** 7))
    let sum: u128 = (0..10_000_000u128)
        .map(|i| std::hint::black_box(i * i))
        .sum();
    let span = Span {
        start,
        end: Instant::now(),
    };
    (format!("process({id}): done, sum {sum}"), span)
}

async fn main_async(workers: usize) {
    let handle = Handle::current();
    let thread_pool = ThreadPool::builder().size(workers + 1).build();
    let cpu_pool = ThreadPool::builder().size(workers).name("cpu").build();
    let mut jobs = Vec::new();
    for i in 0..workers {
        jobs.push(handle.run_in_executor(&thread_pool, move || wait_io(i)));
    }
    for i in 0..workers {
        jobs.push(handle.run_in_executor(&cpu_pool, move || more_cpu(i)));
    }
    let results = tulip::gather_all(jobs).await;
    let mut spans = Vec::new();
    for result in results {
        let (line, span) = result.expect("the jobs do not panic");
        println!("{line}");
        spans.push(span);
    }
    // Ran together: some instant lies inside every job's span.
    let latest_start = spans.iter().map(|s| s.start).max();
    let earliest_end = spans.iter().map(|s| s.end).min();
    let overlapped = matches!((latest_start, earliest_end), (Some(s), Some(e)) if s < e);
    println!(
        "all {} jobs were running at the same moment: {overlapped}",
        spans.len()
    );
}

/// The program, with the seed's three workers of each kind.
pub(crate) fn run() {
    tulip::run(main_async(3));
}

fn main() {
    run();
}
