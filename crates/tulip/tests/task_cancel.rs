//! Cancelling tasks: the future is dropped at its `.await` point, awaiting gives
//! `JoinError::is_cancelled`; before the first poll, from inside the task, after it finished,
//! from another thread, and while it awaits another task.

mod support;

use support::{DropCounter, watchdog};

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tulip::Runtime;
use tulip::sync::oneshot;
use tulip::task::yield_now;
use tulip::time::{Instant, sleep};

fn test_clock() -> Runtime {
    Runtime::builder().test_clock().build().unwrap()
}

#[test]
fn cancelling_a_sleeping_task_drops_it_at_its_await_point() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let drops = Arc::new(AtomicUsize::new(0));
        let stage = Rc::new(Cell::new(0));
        let guard = DropCounter(drops.clone());
        let progress = stage.clone();
        let task = tulip::spawn(async move {
            let _guard = guard;
            progress.set(1);
            sleep(Duration::from_secs(3600)).await;
            progress.set(2);
        });
        let id = task.id();
        yield_now().await;
        assert_eq!(stage.get(), 1, "the task is suspended in its sleep");
        assert_eq!(drops.load(Ordering::SeqCst), 0);

        assert!(task.cancel());
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert_eq!(err.id(), id);
        assert_eq!(err.panic_message(), None);
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the destructor ran");
        assert_eq!(stage.get(), 1, "nothing after the await point ran");
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "no need to wait for the sleep"
        );
    });
}

#[test]
fn cancelling_before_the_first_poll_never_runs_the_body() {
    tulip::run(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCounter(drops.clone());
        let started = Rc::new(Cell::new(false));
        let flag = started.clone();
        let task = tulip::spawn(async move {
            let _guard = guard;
            flag.set(true);
        });
        assert!(task.cancel());
        assert!(!task.is_finished(), "it ends when the loop next gets to it");
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!started.get());
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "captured values were dropped"
        );
    });
}

#[test]
fn a_task_can_cancel_itself() {
    tulip::run(async {
        let slot: Rc<RefCell<Option<tulip::Task<()>>>> = Rc::new(RefCell::new(None));
        let after = Rc::new(Cell::new(false));
        let (me, flag) = (slot.clone(), after.clone());
        let task = tulip::spawn(async move {
            yield_now().await; // let the spawner store our handle
            let accepted = me.borrow().as_ref().unwrap().cancel();
            assert!(accepted);
            yield_now().await; // the cancellation takes effect here
            flag.set(true);
        });
        *slot.borrow_mut() = Some(task);
        let task = loop {
            yield_now().await;
            let finished = slot.borrow().as_ref().unwrap().is_finished();
            if finished {
                break slot.borrow_mut().take().unwrap();
            }
        };
        assert!(task.is_cancelled());
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(!after.get());
    });
}

#[test]
fn cancelling_a_finished_task_returns_false_and_keeps_its_output() {
    tulip::run(async {
        let task = tulip::spawn(async { "kept" });
        yield_now().await;
        assert!(task.is_finished());
        assert!(!task.cancel());
        assert!(!task.cancel());
        assert!(!task.is_cancelled());
        assert_eq!(task.await.unwrap(), "kept");

        let panicked = tulip::spawn(async { panic!("already over") });
        yield_now().await;
        assert!(!panicked.cancel(), "a panicked task is finished too");
        assert!(panicked.await.unwrap_err().is_panic());
    });
}

#[test]
fn cancelling_twice_is_one_cancellation() {
    tulip::run(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCounter(drops.clone());
        let task = tulip::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        assert!(task.cancel());
        assert!(task.cancel(), "still pending: the request stands");
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_busy_task_is_cancelled_at_its_next_yield() {
    tulip::run(async {
        let laps = Rc::new(Cell::new(0u32));
        let counter = laps.clone();
        let spinner = tulip::spawn(async move {
            loop {
                counter.set(counter.get() + 1);
                yield_now().await;
            }
        });
        for _ in 0..10 {
            yield_now().await;
        }
        let before = laps.get();
        assert!(before > 0);
        spinner.cancel();
        assert!(spinner.await.unwrap_err().is_cancelled());
        let after = laps.get();
        for _ in 0..10 {
            yield_now().await;
        }
        assert_eq!(laps.get(), after, "it never ran again");
    });
}

#[test]
fn cancelling_from_another_thread_wakes_the_task() {
    let _watchdog = watchdog("cancelling_from_another_thread_wakes_the_task");
    let mut rt = Runtime::new().unwrap();
    rt.block_on(async {
        /// Resolves a promise from its destructor: the task's clean-up tells main it ran.
        struct Notify(Option<oneshot::Promise<std::thread::ThreadId>>);
        impl Drop for Notify {
            fn drop(&mut self) {
                let promise = self.0.take().unwrap();
                promise.set_result(std::thread::current().id()).unwrap();
            }
        }
        let (promise, unwound) = oneshot::channel();
        let notify = Notify(Some(promise));
        let task = tulip::spawn(async move {
            let _notify = notify;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        let canceller = std::thread::spawn(move || {
            assert!(task.cancel());
            task
        });
        // The loop parks in the OS wait; the cross-thread cancel must wake it.
        let dropped_on = unwound.await.unwrap();
        assert_eq!(
            dropped_on,
            std::thread::current().id(),
            "the future was dropped on the loop thread"
        );
        let task = canceller.join().unwrap();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn cancelling_a_remote_task_before_the_loop_polled_it() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let task = std::thread::spawn(move || {
        let task = handle.spawn(async move { flag.store(true, Ordering::SeqCst) });
        assert!(task.cancel());
        task
    })
    .join()
    .unwrap();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
    assert!(!started.load(Ordering::SeqCst));
}

#[test]
fn remote_spawn_and_cancel_racing_the_running_loop_always_cancel() {
    const ROUNDS: usize = 300;
    let _watchdog = watchdog("remote_spawn_and_cancel_racing_the_running_loop_always_cancel");
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let drops = Arc::new(AtomicUsize::new(0));
    let guards = drops.clone();
    rt.block_on(async move {
        let (promise, handles) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let tasks: Vec<_> = (0..ROUNDS)
                .map(|i| {
                    let guard = DropCounter(guards.clone());
                    let task = handle.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                    if i % 3 != 0 {
                        std::thread::yield_now(); // sometimes let the loop poll it first
                    }
                    assert!(task.cancel());
                    task
                })
                .collect::<Vec<_>>();
            promise.set_result(tasks).unwrap();
        });
        let tasks = handles.await.unwrap();
        thread.join().unwrap();
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn cancelling_a_task_that_awaits_another_task_detaches_the_inner_one() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let inner_done = Rc::new(Cell::new(None));
        let flag = inner_done.clone();
        let outer = tulip::spawn(async move {
            let inner = tulip::spawn(async move {
                sleep(Duration::from_secs(10)).await;
                flag.set(Some(Instant::now()));
                5
            });
            inner.await.unwrap()
        });
        sleep(Duration::from_secs(1)).await;
        assert!(outer.cancel());
        assert!(outer.await.unwrap_err().is_cancelled());
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // Dropping the inner handle with the outer future detached it: it still finishes.
        sleep(Duration::from_secs(20)).await;
        assert_eq!(
            inner_done.get().map(|at| at - start),
            Some(Duration::from_secs(10))
        );
    });
}

#[test]
fn a_task_awaiting_a_cancelled_task_sees_the_cancellation() {
    let mut rt = test_clock();
    rt.block_on(async {
        // The inner handle is shared so that main can cancel it while the outer awaits it.
        let inner = Rc::new(RefCell::new(tulip::spawn(sleep(Duration::from_secs(3600)))));
        let awaited = inner.clone();
        let outer = tulip::spawn(async move {
            let outcome = poll_fn(|cx| Pin::new(&mut *awaited.borrow_mut()).poll(cx)).await;
            match outcome {
                Ok(()) => "inner finished",
                Err(err) if err.is_cancelled() => "inner was cancelled",
                Err(_) => "inner panicked",
            }
        });
        yield_now().await;
        assert!(
            !outer.is_finished(),
            "the outer task is suspended on the inner one"
        );
        assert!(inner.borrow().cancel());
        assert_eq!(
            outer.await.unwrap(),
            "inner was cancelled",
            "the awaiter is woken with the cancellation and may handle it"
        );
        assert!(inner.borrow().is_cancelled());
    });
}

#[test]
fn state_predicates_follow_the_task_life() {
    tulip::run(async {
        let task = tulip::spawn(std::future::pending::<()>());
        assert!(!task.is_finished());
        assert!(!task.is_cancelled());
        assert!(!task.is_panicked());
        yield_now().await;
        assert!(!task.is_finished(), "pending, not finished");
        assert!(task.cancel());
        assert!(
            !task.is_finished() && !task.is_cancelled(),
            "requested, not yet ended"
        );
        yield_now().await;
        assert!(task.is_finished());
        assert!(task.is_cancelled());
        assert!(!task.is_panicked());
        assert!(task.await.unwrap_err().is_cancelled());

        let ok = tulip::spawn(async { 1 });
        yield_now().await;
        assert!(ok.is_finished() && !ok.is_cancelled() && !ok.is_panicked());
        assert_eq!(ok.await.unwrap(), 1);
    });
}
