//! Reaching a loop from other threads: `Handle::spawn` from many threads, a promise resolved on
//! another thread waking a loop parked in the OS wait, ten thousand cross-thread wakes with
//! none lost, and two loops on two threads awaiting each other's tasks. A watchdog turns any
//! lost wake-up into an abort with a message instead of a hung CI job.

mod support;

use support::watchdog;

use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::time::Duration;

use tulip::Runtime;
use tulip::sync::oneshot;
use tulip::task::Builder;

#[test]
fn many_threads_spawn_many_tasks_and_every_output_arrives() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 200;
    let _watchdog = watchdog("many_threads_spawn_many_tasks_and_every_output_arrives");
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let mut outputs = rt.block_on(async move {
        // The threads run while the loop runs: their tasks are injected into a live loop.
        let receivers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (promise, rx) = oneshot::channel();
                let handle = handle.clone();
                std::thread::spawn(move || {
                    let tasks: Vec<_> = (0..PER_THREAD)
                        .map(|i| {
                            let task = handle.spawn(async move {
                                tulip::task::yield_now().await;
                                (t, i, std::thread::current().id())
                            });
                            if i % 2 == 0 {
                                task
                            } else {
                                // Named spawns from threads go the same way.
                                drop(task);
                                Builder::new().name(format!("t{t}-{i}")).spawn_on(
                                    async move { (t, i, std::thread::current().id()) },
                                    &handle,
                                )
                            }
                        })
                        .collect();
                    promise.set_result(tasks).unwrap();
                });
                rx
            })
            .collect();
        let loop_thread = std::thread::current().id();
        let mut outputs = Vec::new();
        for rx in receivers {
            for task in rx.await.unwrap() {
                let (t, i, ran_on) = task.await.unwrap();
                assert_eq!(ran_on, loop_thread, "tasks run on the loop's thread");
                outputs.push((t, i));
            }
        }
        outputs
    });
    outputs.sort();
    let expected: Vec<_> = (0..THREADS)
        .flat_map(|t| (0..PER_THREAD).map(move |i| (t, i)))
        .collect();
    assert_eq!(outputs, expected);
}

#[test]
fn a_promise_resolved_on_another_thread_wakes_a_parked_loop() {
    let _watchdog = watchdog("a_promise_resolved_on_another_thread_wakes_a_parked_loop");
    let mut rt = Runtime::new().unwrap();
    for round in 0..20 {
        let (promise, rx) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            // Only makes it likely that the loop is parked in the OS wait (nothing else to
            // do) when the value arrives; the test holds either way.
            std::thread::sleep(Duration::from_millis(2));
            promise.set_result(round).unwrap();
        });
        assert_eq!(rt.block_on(rx), Ok(round));
        thread.join().unwrap();
    }
}

#[test]
fn a_task_blocked_on_a_promise_is_woken_from_another_thread() {
    let _watchdog = watchdog("a_task_blocked_on_a_promise_is_woken_from_another_thread");
    let mut rt = Runtime::new().unwrap();
    let (promise, rx) = oneshot::channel::<String>();
    let task = rt.spawn(async move { rx.await.unwrap().len() });
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2));
        promise.set_result("eleven char".into()).unwrap();
    });
    assert_eq!(rt.block_on(task).unwrap(), 11);
    thread.join().unwrap();
}

/// State shared by a waiting future and the threads that wake it.
struct Signal {
    count: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    fn new() -> Arc<Signal> {
        Arc::new(Signal {
            count: AtomicUsize::new(0),
            waker: Mutex::new(None),
        })
    }

    /// Called from other threads: bump the count, then wake whoever waits.
    fn bump(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        let waker = self.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Waits until the count reaches `target`.
    async fn reached(&self, target: usize) -> usize {
        let mut polls = 0;
        poll_fn(|cx| {
            polls += 1;
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.count.load(Ordering::SeqCst) >= target {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        polls
    }
}

#[test]
fn ten_thousand_cross_thread_wakes_in_lockstep_lose_none() {
    const WAKES: usize = 10_000;
    let _watchdog = watchdog("ten_thousand_cross_thread_wakes_in_lockstep_lose_none");
    let mut rt = Runtime::new().unwrap();
    let to_loop = Signal::new();
    let to_thread = Arc::new((Mutex::new(0usize), std::sync::Condvar::new()));
    let (signal, ack) = (to_loop.clone(), to_thread.clone());
    // Ping-pong: the thread wakes the task, the task answers, WAKES times. A single lost
    // wake-up stalls it for good (and the watchdog fires).
    let thread = std::thread::spawn(move || {
        for n in 1..=WAKES {
            signal.bump();
            let (lock, cvar) = &*ack;
            let mut seen = lock.lock().unwrap();
            while *seen < n {
                seen = cvar.wait(seen).unwrap();
            }
        }
    });
    let task = rt.spawn(async move {
        for n in 1..=WAKES {
            to_loop.reached(n).await;
            let (lock, cvar) = &*to_thread;
            *lock.lock().unwrap() = n;
            cvar.notify_one();
        }
        to_loop.count.load(Ordering::SeqCst)
    });
    assert_eq!(rt.block_on(task).unwrap(), WAKES);
    thread.join().unwrap();
}

#[test]
fn a_storm_of_wakes_from_several_threads_keeps_the_last_one() {
    const THREADS: usize = 4;
    const EACH: usize = 2_500;
    let _watchdog = watchdog("a_storm_of_wakes_from_several_threads_keeps_the_last_one");
    let mut rt = Runtime::new().unwrap();
    let signal = Signal::new();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let signal = signal.clone();
            std::thread::spawn(move || {
                for _ in 0..EACH {
                    signal.bump();
                }
            })
        })
        .collect();
    let waiting = signal.clone();
    let polls = rt.block_on(rt.spawn(async move { waiting.reached(THREADS * EACH).await }));
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(signal.count.load(Ordering::SeqCst), THREADS * EACH);
    // Coalescing is allowed: many wakes may lead to one poll, never more polls than wakes.
    assert!(polls.unwrap() <= THREADS * EACH + 1);
}

#[test]
fn a_loop_awaits_a_task_running_on_another_loops_thread() {
    let _watchdog = watchdog("a_loop_awaits_a_task_running_on_another_loops_thread");
    let (handle_tx, handle_rx) = mpsc::channel();
    let other = std::thread::spawn(move || {
        let mut rt = Runtime::new().unwrap();
        handle_tx.send(rt.handle().clone()).unwrap();
        rt.run_forever();
        std::thread::current().id()
    });
    let remote = handle_rx.recv().unwrap();
    let mut rt = Runtime::new().unwrap();
    let ran_on = rt.block_on(async {
        let tasks: Vec<_> = (0..50u64)
            .map(|i| {
                remote.spawn(async move {
                    tulip::time::sleep(Duration::from_micros(i)).await;
                    (i, std::thread::current().id())
                })
            })
            .collect();
        let mut threads = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (n, on) = task.await.unwrap();
            assert_eq!(n, i as u64);
            threads.push(on);
        }
        threads
    });
    remote.stop();
    let other_id = other.join().unwrap();
    assert!(ran_on.iter().all(|&id| id == other_id));
    assert_ne!(other_id, std::thread::current().id());
}

#[test]
fn handle_spawn_wakes_an_idle_run_forever() {
    let _watchdog = watchdog("handle_spawn_wakes_an_idle_run_forever");
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let thread = std::thread::spawn(move || {
        while !handle.is_running() {
            std::thread::yield_now();
        }
        let stopper = handle.clone();
        handle.spawn(async move {
            stopper.stop();
            "stopped from a task spawned by another thread"
        })
    });
    rt.run_forever();
    let task = thread.join().unwrap();
    assert!(task.is_finished());
    assert_eq!(
        rt.block_on(task).unwrap(),
        "stopped from a task spawned by another thread"
    );
}
