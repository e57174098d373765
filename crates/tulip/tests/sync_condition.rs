//! `sync::Condition`: `notify(n)` wakes exactly `min(n, waiting)` tasks (a property test over
//! both), in the order they started waiting; `notify_all`; `wait` gives the lock up while
//! waiting and takes it back before returning; `wait_for`; a waiter cancelled after being
//! notified passes the notification on; the seed's `notify(2)` program on the test clock.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use proptest::prelude::*;
use tulip::sync::Condition;
use tulip::task::yield_now;
use tulip::time::{Instant, sleep};

fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Spawns `count` tasks that each wait on `cond` once and then record their id in `woken`.
fn spawn_waiters(
    cond: &Rc<Condition>,
    woken: &Rc<RefCell<Vec<usize>>>,
    count: usize,
) -> Vec<tulip::Task<()>> {
    (0..count)
        .map(|id| {
            let (cond, woken) = (cond.clone(), woken.clone());
            tulip::spawn(async move {
                let guard = cond.lock().await;
                let _guard = guard.wait().await;
                woken.borrow_mut().push(id);
            })
        })
        .collect()
}

fn notify_wakes_exactly_n(waiting: usize, n: usize) {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async move {
        let cond = Rc::new(Condition::new());
        let woken = Rc::new(RefCell::new(Vec::new()));
        let waiters = spawn_waiters(&cond, &woken, waiting);
        sleep(Duration::from_secs(1)).await; // all of them are waiting now
        assert_eq!(cond.lock().await.notify(n), n.min(waiting));
        sleep(Duration::from_secs(1)).await;
        let expected: Vec<usize> = (0..n.min(waiting)).collect();
        assert_eq!(*woken.borrow(), expected, "exactly the first n woke");
        assert_eq!(cond.lock().await.notify_all(), waiting - n.min(waiting));
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(woken.borrow().len(), waiting);
    });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn notify_n_wakes_exactly_min_of_n_and_the_waiters(waiting in 0usize..10, n in 0usize..12) {
        notify_wakes_exactly_n(waiting, n);
    }
}

#[test]
fn the_seed_notify_two_of_three() {
    notify_wakes_exactly_n(3, 2);
}

#[tulip::test(test_clock)]
async fn wait_gives_the_lock_up_and_takes_it_back() {
    let cond = Rc::new(Condition::new());
    let waiter = tulip::spawn({
        let cond = cond.clone();
        async move {
            let guard = cond.lock().await;
            let guard = guard.wait().await;
            let holding = cond.locked();
            drop(guard);
            holding
        }
    });
    yield_now().await;
    assert!(!cond.locked(), "the waiter gave the lock up while waiting");
    let guard = cond.lock().await;
    assert_eq!(guard.notify(1), 1);
    sleep(Duration::from_secs(1)).await;
    assert!(
        !waiter.is_finished(),
        "notified, but the lock is still ours"
    );
    drop(guard);
    assert!(
        waiter.await.unwrap(),
        "it held the lock again when wait returned"
    );
    assert!(!cond.locked());
}

#[tulip::test(test_clock)]
async fn wait_for_checks_the_predicate_with_the_lock_held() {
    let cond = Rc::new(Condition::new());
    let value = Rc::new(Cell::new(0));
    let start = Instant::now();
    let waiter = tulip::spawn({
        let (cond, value) = (cond.clone(), value.clone());
        async move {
            let guard = cond.lock().await;
            let _guard = guard.wait_for(|| value.get() >= 3).await;
            (value.get(), start.elapsed())
        }
    });
    for _ in 0..5 {
        sleep(Duration::from_secs(1)).await;
        let guard = cond.lock().await;
        value.set(value.get() + 1);
        guard.notify_all();
    }
    // Woken at 1 s and 2 s, the predicate was false; at 3 s it held.
    assert_eq!(waiter.await.unwrap(), (3, Duration::from_secs(3)));

    // True from the start: no wait at all.
    let guard = cond.lock().await;
    let _guard = guard.wait_for(|| true).await;
}

#[test]
fn a_waiter_cancelled_after_being_notified_passes_it_on() {
    let cond = Condition::new();
    let mut first = Box::pin(async {
        let guard = cond.lock().await;
        drop(guard.wait().await);
    });
    assert!(poll(first.as_mut()).is_pending());
    let mut second = Box::pin(async {
        let guard = cond.lock().await;
        drop(guard.wait().await);
    });
    assert!(poll(second.as_mut()).is_pending());
    assert_eq!(cond.try_lock().unwrap().notify(1), 1); // notifies `first`...
    drop(first); // ...cancelled before it ran
    assert!(poll(second.as_mut()).is_ready(), "the notification went on");
    assert!(!cond.locked());
}

#[test]
fn a_waiter_cancelled_while_waiting_leaves_the_lock_free() {
    let cond = Condition::new();
    let mut waiter = Box::pin(async {
        let guard = cond.lock().await;
        drop(guard.wait().await);
    });
    assert!(poll(waiter.as_mut()).is_pending());
    assert!(!cond.locked());
    assert!(format!("{cond:?}").contains("waiters: 1"));
    drop(waiter);
    assert_eq!(
        format!("{cond:?}"),
        "Condition { locked: false, waiters: 0 }"
    );
    assert_eq!(cond.try_lock().unwrap().notify_all(), 0);
}

#[test]
fn a_notified_waiter_cancelled_while_retaking_the_lock_leaves_it_free() {
    let cond = Condition::new();
    let mut waiter = Box::pin(async {
        let guard = cond.lock().await;
        drop(guard.wait().await);
    });
    assert!(poll(waiter.as_mut()).is_pending());
    let guard = cond.try_lock().unwrap();
    guard.notify(1);
    assert!(poll(waiter.as_mut()).is_pending(), "waits for the lock now");
    drop(guard); // the lock goes to the waiter...
    drop(waiter); // ...which is cancelled before it runs
    assert!(!cond.locked());
}

#[tulip::test(test_clock)]
async fn notify_wakes_in_the_order_waiting_started() {
    let cond = Rc::new(Condition::new());
    let woken = Rc::new(RefCell::new(Vec::new()));
    let waiters = spawn_waiters(&cond, &woken, 4);
    yield_now().await;
    for _ in 0..4 {
        assert_eq!(cond.lock().await.notify(1), 1);
        sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(*woken.borrow(), [0, 1, 2, 3]);
    for waiter in waiters {
        waiter.await.unwrap();
    }
}

#[test]
fn a_static_condition_and_its_debug_output() {
    static COND: Condition = Condition::new();
    let guard = COND.try_lock().unwrap();
    assert!(COND.locked());
    assert!(COND.try_lock().is_none());
    assert_eq!(format!("{guard:?}"), "ConditionGuard { .. }");
    drop(guard);
    assert!(!Condition::default().locked());
}
