//! `sync::Lock`: the guard holds it and releases it on drop, `try_lock` and `locked`, the
//! seed's three serialised workers taking three seconds on the test clock, first come first
//! served, and a waiter cancelled after the lock was handed to it passing the lock on.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tulip::sync::Lock;
use tulip::time::{Instant, sleep};

fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn the_guard_holds_the_lock_until_dropped() {
    let lock = Lock::new();
    assert!(!lock.locked());
    let guard = lock.try_lock().expect("free");
    assert!(lock.locked());
    assert!(lock.try_lock().is_none());
    assert!(
        lock.locked(),
        "a failed try_lock leaves the lock to its holder"
    );
    assert!(lock.try_lock().is_none());
    drop(guard);
    assert!(!lock.locked());
    assert!(lock.try_lock().is_some());
    assert_eq!(format!("{lock:?}"), "Lock { locked: false, waiters: 0 }");
    assert!(!Lock::default().locked());
}

#[tulip::test(test_clock)]
async fn three_workers_behind_one_lock_take_three_seconds() {
    static LOCK: Lock = Lock::new();
    let start = Instant::now();
    let workers: Vec<_> = (0..3)
        .map(|id| {
            tulip::spawn(async move {
                let _guard = LOCK.lock().await;
                sleep(Duration::from_secs(1)).await;
                (id, start.elapsed())
            })
        })
        .collect();
    let mut done = Vec::new();
    for worker in workers {
        done.push(worker.await.unwrap());
    }
    let secs = |s| Duration::from_secs(s);
    assert_eq!(done, [(0, secs(1)), (1, secs(2)), (2, secs(3))]);
    assert!(!LOCK.locked());
}

#[tulip::test(test_clock)]
async fn waiters_get_the_lock_in_arrival_order() {
    let lock = Rc::new(Lock::new());
    let order = Rc::new(RefCell::new(Vec::new()));
    let guard = lock.lock().await;
    let tasks: Vec<_> = [3u64, 1, 4, 0, 2]
        .into_iter()
        .map(|delay| {
            let (lock, order) = (lock.clone(), order.clone());
            tulip::spawn(async move {
                // Arrive at `delay` seconds; the lock is held until 10 s.
                sleep(Duration::from_secs(delay)).await;
                let _guard = lock.lock().await;
                order.borrow_mut().push(delay);
                tulip::task::yield_now().await;
            })
        })
        .collect();
    sleep(Duration::from_secs(10)).await;
    drop(guard);
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
}

#[test]
fn try_lock_does_not_jump_ahead_of_waiters() {
    let lock = Lock::new();
    let guard = lock.try_lock().unwrap();
    let mut waiter = Box::pin(lock.lock());
    assert!(poll(waiter.as_mut()).is_pending());
    drop(guard); // handed to the waiter
    assert!(lock.locked(), "held for the waiter");
    assert!(lock.try_lock().is_none());
    let Poll::Ready(held) = poll(waiter.as_mut()) else {
        panic!("the waiter was handed the lock");
    };
    drop(held);
    assert!(!lock.locked());
}

#[test]
fn a_waiter_dropped_after_the_handover_passes_the_lock_on() {
    let lock = Lock::new();
    let guard = lock.try_lock().unwrap();
    let mut first = Box::pin(lock.lock());
    let mut second = Box::pin(lock.lock());
    assert!(poll(first.as_mut()).is_pending());
    assert!(poll(second.as_mut()).is_pending());
    drop(guard); // handed to `first`...
    drop(first); // ...which is cancelled before it runs
    assert!(
        matches!(poll(second.as_mut()), Poll::Ready(_)),
        "the lock went to the next in line"
    );
    drop(second);
    assert!(!lock.locked());
}

#[test]
fn a_last_waiter_dropped_after_the_handover_releases_the_lock() {
    let lock = Lock::new();
    let guard = lock.try_lock().unwrap();
    let mut waiter = Box::pin(lock.lock());
    assert!(poll(waiter.as_mut()).is_pending());
    drop(guard);
    drop(waiter);
    assert!(!lock.locked(), "not lost with the dropped waiter");
    assert!(lock.try_lock().is_some());
}

#[test]
fn a_waiter_dropped_before_its_turn_just_leaves_the_line() {
    let lock = Lock::new();
    let guard = lock.try_lock().unwrap();
    let mut first = Box::pin(lock.lock());
    let mut second = Box::pin(lock.lock());
    assert!(poll(first.as_mut()).is_pending());
    assert!(poll(second.as_mut()).is_pending());
    drop(first);
    assert!(format!("{lock:?}").contains("waiters: 1"));
    drop(guard);
    assert!(matches!(poll(second.as_mut()), Poll::Ready(_)));
}

#[tulip::test(test_clock)]
async fn a_cancelled_task_handed_the_lock_passes_it_on() {
    let lock = Rc::new(Lock::new());
    let guard = lock.lock().await;
    let spawn_waiter = |id: u32| {
        let lock = lock.clone();
        tulip::spawn(async move {
            let _guard = lock.lock().await;
            id
        })
    };
    let first = spawn_waiter(1);
    let second = spawn_waiter(2);
    tulip::task::yield_now().await;
    drop(guard);
    first.cancel();
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(second.await.unwrap(), 2);
    assert!(!lock.locked());
}
