//! Thread pools: `to_thread` and `run_in_executor` results and panics, the pool size limit and
//! thread names, detached jobs still running with their results dropped, shutdown, threads
//! retiring when idle, the test clock holding still while a job runs, and closing a loop
//! waiting for its jobs.
#![allow(dead_code)]

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use support::{DropCounter, watchdog};
use tulip::blocking::ThreadPool;
use tulip::runtime::Handle;
use tulip::time::{Instant, wait_for};

#[tulip::test]
async fn to_thread_returns_the_result_from_another_thread() {
    let loop_thread = std::thread::current().id();
    let (value, thread) = tulip::to_thread(|| (6 * 7, std::thread::current().id()))
        .await
        .unwrap();
    assert_eq!(value, 42);
    assert_ne!(thread, loop_thread);
}

#[tulip::test]
async fn a_panicking_job_gives_a_join_error_and_the_loop_goes_on() {
    let err = tulip::to_thread(|| -> u32 { panic!("disk on fire") })
        .await
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("disk on fire"));
    assert!(err.to_string().contains("thread-pool job"), "{err}");
    assert_eq!(tulip::to_thread(|| 1).await.unwrap(), 1);
}

#[tulip::test]
async fn jobs_run_in_parallel_up_to_the_pool_size() {
    let _watch = watchdog("pool size");
    let pool = ThreadPool::builder().size(3).build();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    // Three jobs meet at a barrier, so they must be running at the same time.
    let barrier = Arc::new(Barrier::new(3));
    let jobs: Vec<_> = (0..9)
        .map(|i| {
            let (running, most, barrier) = (running.clone(), most.clone(), barrier.clone());
            pool.spawn(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if i < 3 {
                    barrier.wait();
                }
                std::thread::sleep(Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    let results: Vec<_> = tulip::gather_all(jobs).await;
    let values: Vec<usize> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(values, (0..9).collect::<Vec<_>>());
    assert_eq!(most.load(Ordering::SeqCst), 3);
    assert!(pool.threads() <= 3);
}

#[tulip::test]
async fn threads_are_named_after_the_pool() {
    let pool = ThreadPool::builder().size(1).name("scanner").build();
    let name = pool
        .spawn(|| std::thread::current().name().map(str::to_owned))
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("scanner-0"));
}

#[tulip::test]
async fn stack_size_is_applied() {
    // A deep recursion that needs more than the 2 MiB default stack.
    fn depth(n: u64) -> u64 {
        let pad = [n; 64];
        match n {
            0 => 0,
            _ => std::hint::black_box(pad)[63].min(1) + depth(n - 1),
        }
    }
    let pool = ThreadPool::builder()
        .size(1)
        .stack_size(64 * 1024 * 1024)
        .build();
    assert_eq!(pool.spawn(|| depth(20_000)).await.unwrap(), 20_000);
}

#[tulip::test]
async fn run_in_executor_uses_the_given_pool() {
    let pool = ThreadPool::builder().size(1).name("given").build();
    let handle = Handle::current();
    let name = handle
        .run_in_executor(&pool, || std::thread::current().name().map(str::to_owned))
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("given-0"));
}

#[tulip::test]
async fn a_dropped_job_still_runs_and_its_result_is_dropped() {
    let _watch = watchdog("detached job");
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let dropped = Arc::new(AtomicUsize::new(0));
    let result = DropCounter(dropped.clone());
    let job = tulip::to_thread(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        result
    });
    started_rx.recv().unwrap();
    drop(job);
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    go_tx.send(()).unwrap();
    // The result is dropped on the pool's thread once the job returns.
    while dropped.load(Ordering::SeqCst) == 0 {
        tulip::to_thread(|| ()).await.unwrap();
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[tulip::test(test_clock)]
async fn the_test_clock_waits_for_running_jobs() {
    let start = Instant::now();
    // On a test clock with nothing else to do, time would jump straight to the 10 s deadline;
    // the running job holds it still.
    let job = tulip::to_thread(|| {
        std::thread::sleep(Duration::from_millis(30));
        "finished"
    });
    assert_eq!(
        wait_for(Duration::from_secs(10), job)
            .await
            .unwrap()
            .unwrap(),
        "finished"
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tulip::test(test_clock)]
async fn the_test_clock_moves_once_jobs_are_done() {
    let start = Instant::now();
    tulip::to_thread(|| std::thread::sleep(Duration::from_millis(5)))
        .await
        .unwrap();
    tulip::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[test]
fn closing_the_loop_waits_for_running_jobs() {
    let _watch = watchdog("close waits");
    let finished = Arc::new(AtomicBool::new(false));
    let mut rt = tulip::Runtime::new().unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let flag = finished.clone();
    rt.block_on(async move {
        let job = tulip::to_thread(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            flag.store(true, Ordering::SeqCst);
        });
        drop(job);
    });
    started_rx.recv().unwrap();
    rt.close();
    assert!(finished.load(Ordering::SeqCst));
}

#[test]
fn run_waits_for_jobs_started_by_its_tasks() {
    let _watch = watchdog("run waits");
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    tulip::run(async move {
        let pool = ThreadPool::builder().size(1).build();
        let handle = Handle::current();
        let job = handle.run_in_executor(&pool, move || {
            std::thread::sleep(Duration::from_millis(30));
            flag.store(true, Ordering::SeqCst);
        });
        drop(job);
    });
    assert!(finished.load(Ordering::SeqCst));
}

#[test]
fn shutdown_runs_queued_jobs_and_refuses_new_ones() {
    let _watch = watchdog("shutdown");
    let pool = ThreadPool::builder().size(1).build();
    let ran = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let first = pool.spawn(move || go_rx.recv().unwrap());
    let queued: Vec<_> = (0..3)
        .map(|_| {
            let ran = ran.clone();
            pool.spawn(move || ran.fetch_add(1, Ordering::SeqCst))
        })
        .collect();
    pool.shutdown();
    go_tx.send(()).unwrap();
    assert!(pool.shutdown_and_wait(Duration::from_secs(60)));
    assert_eq!(ran.load(Ordering::SeqCst), 3);
    tulip::run(async move {
        first.await.unwrap();
        for job in queued {
            job.await.unwrap();
        }
        let refused = pool.spawn(|| ()).await.unwrap_err();
        assert!(refused.is_cancelled());
        assert!(refused.to_string().contains("never ran"), "{refused}");
    });
}

#[test]
fn idle_threads_retire() {
    let _watch = watchdog("retire");
    let pool = ThreadPool::builder()
        .size(4)
        .keep_alive(Duration::from_millis(10))
        .build();
    tulip::run({
        let pool = pool.clone();
        async move {
            let jobs: Vec<_> = (0..4)
                .map(|_| pool.spawn(|| std::thread::sleep(Duration::from_millis(5))))
                .collect();
            for job in tulip::gather_all(jobs).await {
                job.unwrap();
            }
        }
    });
    assert!(pool.threads() >= 1);
    while pool.threads() > 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    // A retired pool starts threads again on demand.
    let again = tulip::run(async move { pool.spawn(|| 5).await.unwrap() });
    assert_eq!(again, 5);
}

#[tulip::test]
async fn many_small_jobs_all_complete() {
    let _watch = watchdog("many jobs");
    let jobs: Vec<_> = (0..5_000u64)
        .map(|i| tulip::to_thread(move || i * 2))
        .collect();
    let total: u64 = tulip::gather_all(jobs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert_eq!(total, 2 * (0..5_000u64).sum::<u64>());
}

#[test]
fn jobs_from_another_thread_through_a_handle() {
    let _watch = watchdog("handle from thread");
    let mut rt = tulip::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let pool = ThreadPool::builder().size(2).build();
    let (tx, rx) = mpsc::channel();
    let helper = std::thread::spawn(move || {
        let job = handle.run_in_executor(&pool, || 99);
        // The job's awaiter is a task spawned on the loop from this thread.
        let task = handle.spawn(async move { job.await.unwrap() });
        tx.send(task).unwrap();
    });
    let task = rx.recv().unwrap();
    helper.join().unwrap();
    assert_eq!(rt.block_on(task).unwrap(), 99);
}

#[test]
fn default_sizes_follow_asyncio_and_the_cores() {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(ThreadPool::new().size(), (cpus + 4).min(32));
    assert_eq!(ThreadPool::cpu().size(), cpus);
    let pool = ThreadPool::builder().size(0).build();
    assert_eq!(pool.size(), 1, "a pool has at least one thread");
}

#[test]
fn the_runtime_builder_sets_the_default_pool_size() {
    let _watch = watchdog("builder pool size");
    let mut rt = tulip::Runtime::builder()
        .thread_pool_size(1)
        .build()
        .unwrap();
    let names = rt.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|_| tulip::to_thread(|| std::thread::current().name().map(str::to_owned)))
            .collect();
        tulip::gather_all(jobs).await
    });
    let names: std::collections::HashSet<_> =
        names.into_iter().map(|n| n.unwrap().unwrap()).collect();
    assert_eq!(names.len(), 1, "one thread ran every job: {names:?}");
}

#[test]
#[should_panic(expected = "must be called from a task running on a tulip loop")]
fn to_thread_outside_a_loop_panics_with_a_message() {
    drop(tulip::to_thread(|| ()));
}
