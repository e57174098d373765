//! The event loop's life cycle: `block_on` / `run_until_complete`, `run_forever` and `stop`,
//! `is_running`, `close` (cancelling what is left), dropping a `Runtime`, and `tulip::run`.

mod support;

use support::{DropCounter, watchdog};

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tulip::Runtime;
use tulip::runtime::Handle;
use tulip::sync::oneshot;
use tulip::task::yield_now;

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic>")
    }
}

#[test]
fn block_on_returns_the_output_and_may_borrow() {
    let mut rt = Runtime::new().unwrap();
    let text = String::from("borrowed");
    let mut log = Vec::new();
    let out = rt.block_on(async {
        log.push(text.len());
        yield_now().await;
        log.push(1);
        "output"
    });
    assert_eq!(out, "output");
    assert_eq!(log, [8, 1], "the future mutated a local of the caller");
}

#[test]
fn run_until_complete_is_block_on() {
    let mut rt = Runtime::new().unwrap();
    let task = rt.spawn(async { 21 * 2 });
    assert_eq!(rt.run_until_complete(task).unwrap(), 42);
    let mut n = 0;
    rt.run_until_complete(async { n += 1 });
    assert_eq!(n, 1);
}

#[test]
fn tasks_left_pending_by_block_on_resume_at_the_next_run() {
    let mut rt = Runtime::builder().test_clock().build().unwrap();
    let (promise, rx) = oneshot::channel::<u32>();
    let (waiter, started) = rt.block_on(async {
        let waiter = tulip::spawn(async move { rx.await.unwrap() + 1 });
        yield_now().await;
        let started = !tulip::task::all_tasks().is_empty();
        (waiter, started)
    });
    assert!(started, "the task ran up to its await during the first run");
    assert!(!waiter.is_finished(), "nothing resolved the promise yet");
    assert!(!rt.is_running());
    promise.set_result(9).unwrap();
    assert_eq!(rt.block_on(waiter).unwrap(), 10);
}

#[test]
fn run_forever_stops_when_a_task_calls_stop() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let steps = Arc::new(AtomicUsize::new(0));
    let seen = steps.clone();
    rt.spawn(async move {
        for _ in 0..5 {
            seen.fetch_add(1, Ordering::SeqCst);
            yield_now().await;
        }
        handle.stop();
    })
    .detach();
    rt.run_forever();
    assert_eq!(steps.load(Ordering::SeqCst), 5);
    assert!(!rt.is_running());

    // The stop request was consumed: the loop can run forever again and be stopped again.
    let handle = rt.handle().clone();
    let again = Arc::new(AtomicBool::new(false));
    let flag = again.clone();
    rt.spawn(async move {
        flag.store(true, Ordering::SeqCst);
        handle.stop();
    })
    .detach();
    rt.run_forever();
    assert!(again.load(Ordering::SeqCst));
}

#[test]
fn run_forever_stops_when_a_call_soon_callback_calls_stop() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let stopper = handle.clone();
    handle.call_soon(move || {
        flag.store(true, Ordering::SeqCst);
        stopper.stop();
    });
    rt.run_forever();
    assert!(ran.load(Ordering::SeqCst));
}

#[test]
fn run_forever_stops_when_another_thread_calls_stop() {
    let _watchdog = watchdog("run_forever_stops_when_another_thread_calls_stop");
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let stopper = std::thread::spawn(move || {
        while !handle.is_running() {
            std::thread::yield_now();
        }
        assert!(handle.is_running(), "seen from another thread");
        // The loop has nothing to do: it is parked in the OS wait and must be woken.
        handle.stop();
    });
    rt.run_forever();
    stopper.join().unwrap();
    assert!(!rt.is_running());
}

#[test]
fn stop_before_run_forever_runs_one_turn() {
    // Handle::stop documents asyncio's rule: stopping before running makes run_forever do
    // one turn, so callbacks that were already scheduled run.
    let mut rt = Runtime::new().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    rt.handle()
        .call_soon(move || flag.store(true, Ordering::SeqCst));
    rt.stop();
    rt.run_forever();
    assert!(
        ran.load(Ordering::SeqCst),
        "the callback scheduled before stop() should run in the one turn"
    );
}

#[test]
fn is_running_inside_and_outside() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    assert!(!rt.is_running());
    assert!(!handle.is_running());
    assert!(Handle::try_current().is_none());
    let observed = rt.block_on(async {
        let current = Handle::current();
        let in_task = tulip::spawn(async { Handle::current().is_running() });
        (
            current.is_running(),
            handle.is_running(),
            in_task.await.unwrap(),
        )
    });
    assert_eq!(observed, (true, true, true));
    assert!(!rt.is_running());
    assert!(!handle.is_running());

    let seen = Arc::new(AtomicBool::new(false));
    let flag = seen.clone();
    let stopper = handle.clone();
    rt.spawn(async move {
        flag.store(Handle::current().is_running(), Ordering::SeqCst);
        stopper.stop();
    })
    .detach();
    rt.run_forever();
    assert!(seen.load(Ordering::SeqCst), "running inside run_forever");
    assert!(!handle.is_running());
}

#[test]
fn close_cancels_pending_tasks_and_runs_their_destructors() {
    let mut rt = Runtime::builder().test_clock().build().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let finished_bodies = Arc::new(AtomicUsize::new(0));

    // One task suspended in a sleep, one waiting forever, one never polled at all, and one
    // spawned from another thread that the loop has not seen yet.
    let (sleeping, forever) = rt.block_on(async {
        let guard = DropCounter(drops.clone());
        let done = finished_bodies.clone();
        let sleeping = tulip::spawn(async move {
            let _guard = guard;
            tulip::time::sleep(Duration::from_secs(3600)).await;
            done.fetch_add(1, Ordering::SeqCst);
        });
        let guard = DropCounter(drops.clone());
        let forever = tulip::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        (sleeping, forever)
    });
    let guard = DropCounter(drops.clone());
    let done = finished_bodies.clone();
    let unpolled = rt.spawn(async move {
        let _guard = guard;
        done.fetch_add(1, Ordering::SeqCst);
    });
    let handle = rt.handle().clone();
    let guard = DropCounter(drops.clone());
    let done = finished_bodies.clone();
    let from_thread = std::thread::spawn(move || {
        handle.spawn(async move {
            let _guard = guard;
            done.fetch_add(1, Ordering::SeqCst);
        })
    })
    .join()
    .unwrap();

    assert_eq!(drops.load(Ordering::SeqCst), 0);
    rt.close();
    assert!(rt.is_closed());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        4,
        "every task's future was dropped"
    );
    assert_eq!(
        finished_bodies.load(Ordering::SeqCst),
        0,
        "no task ran past its await point (or started) after close"
    );
    for task in [&sleeping, &forever, &unpolled, &from_thread] {
        assert!(task.is_finished());
        assert!(task.is_cancelled());
    }
    // The outcome is there for whoever awaits the handle later, on any loop.
    let mut other = Runtime::new().unwrap();
    assert!(other.block_on(sleeping).unwrap_err().is_cancelled());
    assert!(other.block_on(from_thread).unwrap_err().is_cancelled());
}

#[test]
fn close_also_cancels_tasks_spawned_by_destructors() {
    struct SpawnOnDrop(Arc<AtomicUsize>, Arc<AtomicBool>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let guard = DropCounter(self.0.clone());
            let body_ran = self.1.clone();
            tulip::spawn(async move {
                let _guard = guard;
                body_ran.store(true, Ordering::SeqCst);
            })
            .detach();
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let body_ran = Arc::new(AtomicBool::new(false));
    let mut rt = Runtime::new().unwrap();
    let spawner = SpawnOnDrop(drops.clone(), body_ran.clone());
    rt.spawn(async move {
        let _spawner = spawner;
        std::future::pending::<()>().await;
    })
    .detach();
    rt.block_on(yield_now());
    rt.close();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the late task was freed");
    assert!(
        !body_ran.load(Ordering::SeqCst),
        "a task spawned while closing is cancelled before its first poll"
    );
}

#[test]
fn close_is_idempotent() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(drops.clone());
    let task = rt.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    rt.close();
    rt.close();
    assert!(rt.is_closed());
    assert!(handle.is_closed());
    assert!(task.is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rt); // Drop closes again: still fine.
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn block_on_a_closed_loop_panics() {
    let mut rt = Runtime::new().unwrap();
    rt.close();
    let caught = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { 1 })));
    let message = panic_text(&*caught.unwrap_err());
    assert!(message.contains("closed"), "panic message: {message}");
}

#[test]
fn spawning_onto_a_closed_loop_gives_a_cancelled_task() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    rt.close();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(drops.clone());
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let task = std::thread::spawn(move || {
        handle.spawn(async move {
            let _guard = guard;
            flag.store(true, Ordering::SeqCst);
        })
    })
    .join()
    .unwrap();
    assert!(task.is_cancelled());
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the future was not leaked");
}

#[test]
fn dropping_the_runtime_closes_it() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(drops.clone());
    let task = rt.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    let mut rt = rt;
    rt.block_on(yield_now());
    assert!(!task.is_finished());
    drop(rt);
    assert!(handle.is_closed());
    assert!(task.is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn run_returns_the_output_and_cancels_leftover_tasks() {
    let drops = Arc::new(AtomicUsize::new(0));
    let after_await = Arc::new(AtomicBool::new(false));
    let guard = DropCounter(drops.clone());
    let flag = after_await.clone();
    let (out, handle, leftover) = tulip::run(async move {
        let leftover = tulip::spawn(async move {
            let _guard = guard;
            tulip::time::sleep(Duration::from_secs(3600)).await;
            flag.store(true, Ordering::SeqCst);
        });
        yield_now().await;
        ("main's output", Handle::current(), leftover)
    });
    assert_eq!(out, "main's output");
    assert!(handle.is_closed());
    assert!(leftover.is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the leftover unwound");
    assert!(!after_await.load(Ordering::SeqCst));
}

#[test]
fn block_on_inside_a_running_loop_panics() {
    let mut rt = Runtime::new().unwrap();
    let messages = rt.block_on(async {
        let mut inner = Runtime::new().unwrap();
        let nested = catch_unwind(AssertUnwindSafe(|| inner.block_on(async { 1 })));
        let nested_run = catch_unwind(|| tulip::run(async { 2 }));
        drop(inner);
        // The outer loop is unharmed.
        let still_works = tulip::spawn(async { 3 }).await.unwrap();
        assert_eq!(still_works, 3);
        [
            panic_text(&*nested.unwrap_err()),
            panic_text(&*nested_run.unwrap_err()),
        ]
    });
    for message in messages {
        assert!(
            message.contains("inside a running loop"),
            "panic message: {message}"
        );
    }
}

#[test]
fn tasks_spawned_before_running_start_when_the_loop_runs() {
    let mut rt = Runtime::new().unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let order = order.clone();
            rt.spawn(async move { order.lock().unwrap().push(i) })
        })
        .collect();
    assert!(
        order.lock().unwrap().is_empty(),
        "nothing runs before the loop"
    );
    assert!(tasks.iter().all(|t| !t.is_finished()));
    rt.block_on(async {
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(
        *order.lock().unwrap(),
        [0, 1, 2, 3, 4],
        "they start in spawn order"
    );
}

#[test]
fn a_promise_resolved_between_runs_is_seen_by_the_next_run() {
    let _watchdog = watchdog("a_promise_resolved_between_runs_is_seen_by_the_next_run");
    let mut rt = Runtime::new().unwrap();
    let (promise, rx) = oneshot::channel();
    let task = rt.spawn(async move { rx.await.unwrap() * 2 });
    rt.block_on(yield_now());
    std::thread::spawn(move || promise.set_result(4).unwrap())
        .join()
        .unwrap();
    assert_eq!(rt.block_on(task).unwrap(), 8);
}
