//! Plain callbacks on the loop: `call_soon` (FIFO), `call_later` / `call_at` (virtual deadlines
//! on the test clock, deadline order), `TimerHandle::cancel`, and `call_soon_threadsafe` from
//! many threads.

mod support;

use support::watchdog;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tulip::Runtime;
use tulip::runtime::Handle;
use tulip::time::Instant;

fn test_clock() -> Runtime {
    Runtime::builder().test_clock().build().unwrap()
}

#[test]
fn call_soon_runs_callbacks_in_fifo_order() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let log = Arc::new(Mutex::new(Vec::new()));
    // More callbacks than one batch of the loop, scheduled before it runs.
    for i in 0..200 {
        let log = log.clone();
        handle.call_soon(move || log.lock().unwrap().push(i));
    }
    let stopper = handle.clone();
    handle.call_soon(move || stopper.stop());
    rt.run_forever();
    assert_eq!(*log.lock().unwrap(), (0..200).collect::<Vec<_>>());
}

#[test]
fn call_soon_from_inside_the_loop_is_fifo_too() {
    let mut rt = Runtime::new().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    rt.block_on(async move {
        let handle = Handle::current();
        let mut last = None;
        for i in 0..100 {
            let sink = sink.clone();
            last = Some(handle.call_soon(move || sink.lock().unwrap().push(i)));
        }
        // Each callback gets its own id.
        let first = handle.call_soon(|| {});
        assert_ne!(first.id(), last.as_ref().unwrap().id());
        assert!(first.when().is_none(), "call_soon has no deadline");
        while sink.lock().unwrap().len() < 100 {
            tulip::task::yield_now().await;
        }
    });
    assert_eq!(*log.lock().unwrap(), (0..100).collect::<Vec<_>>());
}

#[test]
fn call_later_and_call_at_fire_at_their_virtual_deadlines_in_order() {
    let mut rt = test_clock();
    let handle = rt.handle().clone();
    let start = handle.time();
    let fired = Arc::new(Mutex::new(Vec::new()));
    let record = |label: &'static str| {
        let fired = fired.clone();
        let clock = handle.clone();
        move || fired.lock().unwrap().push((label, clock.time() - start))
    };
    // Scheduled out of order; they must fire in deadline order.
    let late = handle.call_later(Duration::from_secs(3), {
        let record = record("3 s");
        let stopper = handle.clone();
        move || {
            record();
            stopper.stop();
        }
    });
    let first = handle.call_at(start + Duration::from_secs(1), record("1 s"));
    handle.call_later(Duration::from_millis(2_500), record("2.5 s"));
    handle.call_at(start + Duration::from_millis(1_001), record("1.001 s"));
    handle.call_later(Duration::from_secs(2), record("2 s"));
    assert_eq!(first.when(), Some(start + Duration::from_secs(1)));
    assert_eq!(late.when(), Some(start + Duration::from_secs(3)));

    rt.run_forever();
    let ms = Duration::from_millis;
    assert_eq!(
        *fired.lock().unwrap(),
        [
            ("1 s", ms(1_000)),
            ("1.001 s", ms(1_001)),
            ("2 s", ms(2_000)),
            ("2.5 s", ms(2_500)),
            ("3 s", ms(3_000)),
        ]
    );
    assert_eq!(
        rt.time() - start,
        ms(3_000),
        "the clock stopped at the last timer"
    );
}

#[test]
fn call_later_counts_from_the_loop_time_when_called() {
    let mut rt = test_clock();
    let start = rt.time();
    let fired_at = rt.block_on(async {
        tulip::time::sleep(Duration::from_secs(10)).await;
        let (promise, rx) = tulip::sync::oneshot::channel();
        Handle::current().call_later(Duration::from_secs(5), move || {
            promise.set_result(Instant::now()).unwrap();
        });
        rx.await.unwrap()
    });
    assert_eq!(fired_at - start, Duration::from_secs(15));
}

#[test]
fn call_later_reads_the_loop_clock_inside_the_callback() {
    let mut rt = test_clock();
    let handle = rt.handle().clone();
    let start = handle.time();
    let seen = Arc::new(Mutex::new(None));
    let sink = seen.clone();
    let stopper = handle.clone();
    handle.call_later(Duration::from_millis(750), move || {
        *sink.lock().unwrap() = Some(Instant::now());
        stopper.stop();
    });
    rt.run_forever();
    assert_eq!(
        seen.lock().unwrap().unwrap() - start,
        Duration::from_millis(750)
    );
}

#[test]
fn a_cancelled_timer_never_runs_its_callback() {
    let mut rt = test_clock();
    let handle = rt.handle().clone();
    let start = handle.time();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let timer = handle.call_later(Duration::from_secs(1), move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    assert!(!timer.is_cancelled());
    assert!(timer.cancel(), "cancelled before it ran");
    let counter = calls.clone();
    let soon = handle.call_soon(move || {
        counter.fetch_add(100, Ordering::SeqCst);
    });
    assert!(soon.cancel());
    rt.block_on(tulip::time::sleep(Duration::from_secs(5)));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(timer.is_cancelled());
    assert!(soon.is_cancelled());
    assert_eq!(rt.time() - start, Duration::from_secs(5));
    assert!(
        !timer.cancel(),
        "a callback already cancelled cannot be cancelled again"
    );
}

#[test]
fn cancel_returns_false_after_the_callback_ran() {
    let mut rt = test_clock();
    let handle = rt.handle().clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let timer = handle.call_later(Duration::from_secs(1), move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    rt.block_on(tulip::time::sleep(Duration::from_secs(2)));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(!timer.cancel(), "too late to cancel");
    assert!(!timer.is_cancelled());
    rt.block_on(tulip::time::sleep(Duration::from_secs(2)));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "ran exactly once");
}

#[test]
fn cancelling_one_timer_leaves_the_others() {
    let mut rt = test_clock();
    let handle = rt.handle().clone();
    let start = handle.time();
    let fired = Arc::new(Mutex::new(Vec::new()));
    let timers: Vec<_> = (1..=5u64)
        .map(|s| {
            let fired = fired.clone();
            let clock = handle.clone();
            handle.call_later(Duration::from_secs(s), move || {
                fired.lock().unwrap().push(clock.time() - start);
            })
        })
        .collect();
    assert!(timers[1].cancel());
    assert!(timers[3].cancel());
    rt.block_on(tulip::time::sleep(Duration::from_secs(10)));
    let secs = Duration::from_secs;
    assert_eq!(*fired.lock().unwrap(), [secs(1), secs(3), secs(5)]);
}

#[test]
fn call_soon_threadsafe_from_many_threads_runs_each_callback_once() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 250;
    const TOTAL: usize = THREADS * PER_THREAD;
    let _watchdog = watchdog("call_soon_threadsafe_from_many_threads_runs_each_callback_once");

    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..TOTAL).map(|_| AtomicUsize::new(0)).collect());
    let order = Arc::new(Mutex::new(Vec::with_capacity(TOTAL)));
    let total = Arc::new(AtomicUsize::new(0));

    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = handle.clone();
            let (runs, order, total) = (runs.clone(), order.clone(), total.clone());
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let (runs, order, total) = (runs.clone(), order.clone(), total.clone());
                    let stopper = handle.clone();
                    handle.call_soon_threadsafe(move || {
                        runs[t * PER_THREAD + i].fetch_add(1, Ordering::SeqCst);
                        order.lock().unwrap().push((t, i));
                        if total.fetch_add(1, Ordering::SeqCst) + 1 == TOTAL {
                            stopper.stop();
                        }
                    });
                }
            })
        })
        .collect();
    rt.run_forever();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(total.load(Ordering::SeqCst), TOTAL);
    assert!(runs.iter().all(|n| n.load(Ordering::SeqCst) == 1));
    // Callbacks from one thread run in the order that thread scheduled them.
    let order = order.lock().unwrap();
    for t in 0..THREADS {
        let mine: Vec<usize> = order
            .iter()
            .filter(|(from, _)| *from == t)
            .map(|&(_, i)| i)
            .collect();
        assert_eq!(mine, (0..PER_THREAD).collect::<Vec<_>>(), "thread {t}");
    }
}

#[test]
fn call_soon_threadsafe_wakes_an_idle_loop() {
    let _watchdog = watchdog("call_soon_threadsafe_wakes_an_idle_loop");
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let ran_on = Arc::new(Mutex::new(None));
    let sink = ran_on.clone();
    let remote = std::thread::spawn(move || {
        while !handle.is_running() {
            std::thread::yield_now();
        }
        let stopper = handle.clone();
        handle.call_soon_threadsafe(move || {
            *sink.lock().unwrap() = Some(std::thread::current().id());
            stopper.stop();
        });
    });
    rt.run_forever();
    remote.join().unwrap();
    assert_eq!(
        *ran_on.lock().unwrap(),
        Some(std::thread::current().id()),
        "the callback ran on the loop's thread"
    );
}
