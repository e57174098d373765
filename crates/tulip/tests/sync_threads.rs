//! The synchronisation primitives shared by two loops on two threads: a `Lock` keeps a
//! non-atomic read-modify-write exclusive, a `Semaphore` never lets more than its permits in,
//! an `Event` set on one loop wakes waiters on the other, and a `Barrier` gathers tasks from
//! both loops, with waiters giving up half-way now and then. A watchdog aborts the process
//! instead of letting a lost wake-up hang CI.

mod support;

use support::watchdog;

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;

use tulip::sync::{Barrier, Event, Lock, Semaphore};
use tulip::task::yield_now;

/// `future`, or `None` after `polls` polls without finishing (then dropped half-way).
async fn within_polls<F: Future>(polls: usize, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut left = polls;
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending if left == 0 => Poll::Ready(None),
        Poll::Pending => {
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Runs `make(thread, task)` as `tasks` tasks on each of two loops, on two threads.
fn on_two_loops<F, Fut>(tasks: usize, make: F)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let make = Arc::new(make);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let make = make.clone();
            thread::spawn(move || {
                tulip::run(async move {
                    let handles: Vec<_> = (0..tasks).map(|i| tulip::spawn(make(t, i))).collect();
                    for handle in handles {
                        handle.await.unwrap();
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a loop panicked");
    }
}

#[test]
fn a_lock_is_exclusive_across_two_loops() {
    let _watchdog = watchdog("a_lock_is_exclusive_across_two_loops");
    const ROUNDS: usize = 2_000;
    let lock = Arc::new(Lock::new());
    let counter = Arc::new(AtomicUsize::new(0));
    let (lock2, counter2) = (lock.clone(), counter.clone());
    on_two_loops(4, move |_, i| {
        let (lock, counter) = (lock2.clone(), counter2.clone());
        async move {
            let mut done = 0;
            let mut round = 0;
            while done < ROUNDS {
                round += 1;
                let guard = if i == 0 {
                    // One task per loop gives up waiting now and then.
                    match within_polls(round % 3, lock.lock()).await {
                        Some(guard) => guard,
                        None => continue,
                    }
                } else {
                    lock.lock().await
                };
                // Load, yield, store: only exclusion keeps increments from being lost.
                let seen = counter.load(Ordering::Relaxed);
                if round % 7 == 0 {
                    yield_now().await;
                }
                counter.store(seen + 1, Ordering::Relaxed);
                drop(guard);
                done += 1;
            }
        }
    });
    assert_eq!(counter.load(Ordering::SeqCst), 2 * 4 * ROUNDS);
    assert!(!lock.locked());
}

#[test]
fn a_semaphore_admits_at_most_its_permits_across_two_loops() {
    let _watchdog = watchdog("a_semaphore_admits_at_most_its_permits_across_two_loops");
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (sem2, inside2, most2) = (sem.clone(), inside.clone(), most.clone());
    on_two_loops(8, move |_, i| {
        let (sem, inside, most) = (sem2.clone(), inside2.clone(), most2.clone());
        async move {
            for round in 0..1_000 {
                let permit = if i % 4 == 0 {
                    match within_polls(round % 3, sem.acquire()).await {
                        Some(permit) => permit,
                        None => continue,
                    }
                } else {
                    sem.acquire().await
                };
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
            }
        }
    });
    assert!(most.load(Ordering::SeqCst) <= 3);
    assert_eq!(sem.permits(), 3, "every permit came back");
}

#[test]
fn an_event_set_on_one_loop_wakes_waiters_on_another() {
    let _watchdog = watchdog("an_event_set_on_one_loop_wakes_waiters_on_another");
    let event = Arc::new(Event::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let (event2, woken2) = (event.clone(), woken.clone());
    let waiters = thread::spawn(move || {
        tulip::run(async move {
            let tasks: Vec<_> = (0..10)
                .map(|_| {
                    let (event, woken) = (event2.clone(), woken2.clone());
                    tulip::spawn(async move {
                        event.wait().await;
                        woken.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
    tulip::run(async move {
        while !format!("{event:?}").contains("waiters: 10") {
            yield_now().await;
        }
        event.set();
    });
    waiters.join().unwrap();
    assert_eq!(woken.load(Ordering::SeqCst), 10);
}

#[test]
fn a_barrier_gathers_tasks_from_two_loops_round_after_round() {
    let _watchdog = watchdog("a_barrier_gathers_tasks_from_two_loops_round_after_round");
    let barrier = Arc::new(Barrier::new(6));
    let indexes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (barrier2, indexes2) = (barrier.clone(), indexes.clone());
    on_two_loops(3, move |_, _| {
        let (barrier, indexes) = (barrier2.clone(), indexes2.clone());
        async move {
            for _ in 0..200 {
                let index = barrier.wait().await.unwrap();
                indexes.lock().unwrap().push(index);
            }
        }
    });
    let mut indexes = indexes.lock().unwrap().clone();
    indexes.sort_unstable();
    let expected: Vec<usize> = (0..6).flat_map(|i| std::iter::repeat_n(i, 200)).collect();
    assert_eq!(
        indexes, expected,
        "each round numbers its six arrivals 0 to 5"
    );
}
