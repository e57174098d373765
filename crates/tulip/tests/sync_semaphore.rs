//! `sync::Semaphore` and `BoundedSemaphore`: permits, `locked`, `release` and `forget`; the
//! seed's `Semaphore(2)` with three workers taking two seconds; a property test that random
//! workloads never exceed the permits and are served in arrival order; a waiter cancelled
//! after being granted a permit passing it on; a bounded semaphore refusing a release too
//! many.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use proptest::prelude::*;
use tulip::sync::{BoundedSemaphore, Semaphore, TooManyReleases};
use tulip::time::{Instant, sleep};

fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn permits_locked_release_and_forget() {
    let sem = Semaphore::new(2);
    assert_eq!(sem.permits(), 2);
    assert!(!sem.locked());
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert_eq!(sem.permits(), 0);
    assert!(sem.locked());
    assert!(sem.try_acquire().is_none());
    drop(a);
    assert_eq!(sem.permits(), 1);
    b.forget();
    assert_eq!(sem.permits(), 1, "a forgotten permit stays taken");
    sem.release();
    sem.release();
    assert_eq!(
        sem.permits(),
        3,
        "an unbounded semaphore may grow, as in asyncio"
    );
    assert_eq!(format!("{sem:?}"), "Semaphore { permits: 3, waiters: 0 }");
    assert!(Semaphore::new(0).locked());
}

#[tulip::test(test_clock)]
async fn two_permits_three_workers_take_two_seconds() {
    static SEMP: Semaphore = Semaphore::new(2);
    let start = Instant::now();
    let workers: Vec<_> = (0..3)
        .map(|id| {
            tulip::spawn(async move {
                let _permit = SEMP.acquire().await;
                sleep(Duration::from_secs(1)).await;
                (id, start.elapsed())
            })
        })
        .collect();
    let mut done = Vec::new();
    for worker in workers {
        done.push(worker.await.unwrap());
    }
    let secs = Duration::from_secs;
    assert_eq!(done, [(0, secs(1)), (1, secs(1)), (2, secs(2))]);
    assert_eq!(SEMP.permits(), 2);
}

/// Tasks arrive one per millisecond, each holds a permit for its own time; returns the most
/// that ever held one at once and when each got its permit (in ms, by arrival).
fn run_workload(permits: usize, holds: Vec<u8>) -> (usize, Vec<u128>) {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async move {
        let sem = Rc::new(Semaphore::new(permits));
        let (inside, most) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let start = Instant::now();
        let got_at = Rc::new(RefCell::new(vec![0; holds.len()]));
        let tasks: Vec<_> = holds
            .iter()
            .enumerate()
            .map(|(id, &hold)| {
                let (sem, inside, most, got_at) =
                    (sem.clone(), inside.clone(), most.clone(), got_at.clone());
                tulip::spawn(async move {
                    sleep(Duration::from_millis(id as u64)).await;
                    let _permit = sem.acquire().await;
                    got_at.borrow_mut()[id] = start.elapsed().as_millis();
                    inside.set(inside.get() + 1);
                    most.set(most.get().max(inside.get()));
                    sleep(Duration::from_millis(u64::from(hold))).await;
                    inside.set(inside.get() - 1);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(sem.permits(), permits, "every permit came back");
        let got_at = got_at.borrow().clone();
        (most.get(), got_at)
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_more_than_the_permits_and_first_come_first_served(
        permits in 1usize..5,
        holds in prop::collection::vec(0u8..20, 1..20),
    ) {
        let (most, got_at) = run_workload(permits, holds);
        prop_assert!(most <= permits);
        // Nobody who arrived later got a permit strictly earlier. (Two permits freed at the
        // same instant may be collected in either order by tasks woken in that instant.)
        prop_assert!(got_at.windows(2).all(|w| w[0] <= w[1]), "unfair: {:?}", got_at);
    }
}

#[test]
fn a_waiter_cancelled_after_its_grant_passes_the_permit_on() {
    let sem = Semaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert!(poll(first.as_mut()).is_pending());
    assert!(poll(second.as_mut()).is_pending());
    drop(permit); // granted to `first`...
    assert_eq!(sem.permits(), 0, "a granted permit is not free");
    assert!(sem.try_acquire().is_none());
    drop(first); // ...cancelled before it ran
    assert!(poll(second.as_mut()).is_ready(), "passed on");
    drop(second);
    assert_eq!(sem.permits(), 1);
}

#[tulip::test(test_clock)]
async fn a_cancelled_task_granted_a_permit_passes_it_on() {
    let sem = Rc::new(Semaphore::new(1));
    let permit = sem.acquire().await;
    let spawn_waiter = |id: u32| {
        let sem = sem.clone();
        tulip::spawn(async move {
            let _permit = sem.acquire().await;
            id
        })
    };
    let first = spawn_waiter(1);
    let second = spawn_waiter(2);
    tulip::task::yield_now().await;
    drop(permit);
    first.cancel();
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(second.await.unwrap(), 2);
    assert_eq!(sem.permits(), 1);
}

#[test]
fn release_wakes_the_first_waiter() {
    let sem = Semaphore::new(0);
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(waiter.as_mut()).is_pending());
    assert!(sem.locked());
    sem.release();
    assert_eq!(sem.permits(), 0, "handed straight to the waiter");
    let Poll::Ready(permit) = poll(waiter.as_mut()) else {
        panic!("the release went to the waiter");
    };
    drop(permit);
    assert_eq!(sem.permits(), 1);
}

#[test]
fn a_bounded_semaphore_refuses_a_release_too_many() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.bound(), 2);
    assert_eq!(sem.release(), Err(TooManyReleases));
    assert_eq!(sem.permits(), 2, "the refused release changed nothing");
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.permits(), 1);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Err(TooManyReleases));
    assert_eq!(
        TooManyReleases.to_string(),
        "BoundedSemaphore released more times than it was acquired"
    );
    assert_eq!(
        format!("{sem:?}"),
        "BoundedSemaphore { permits: 2, bound: 2, waiters: 0 }"
    );
}

#[test]
fn a_bounded_semaphore_counts_a_permit_in_flight_to_a_waiter() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(waiter.as_mut()).is_pending());
    drop(permit); // granted to the waiter, not yet taken
    assert_eq!(
        sem.release(),
        Err(TooManyReleases),
        "the only permit is on its way to the waiter"
    );
    assert!(poll(waiter.as_mut()).is_ready());
}

#[tulip::test(test_clock)]
async fn a_bounded_semaphore_limits_like_a_semaphore() {
    let sem = Rc::new(BoundedSemaphore::new(1));
    let start = Instant::now();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let sem = sem.clone();
            tulip::spawn(async move {
                let _permit = sem.acquire().await;
                sleep(Duration::from_secs(1)).await;
                start.elapsed()
            })
        })
        .collect();
    let mut ends = Vec::new();
    for worker in workers {
        ends.push(worker.await.unwrap().as_secs());
    }
    assert_eq!(ends, [1, 2, 3]);
    assert!(!sem.locked());
    assert_eq!(sem.release(), Err(TooManyReleases));
}

#[test]
fn a_permit_dropped_after_an_extra_release_stays_within_the_bound() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    sem.release().unwrap(); // a release the permit did not know about
    drop(permit);
    assert_eq!(sem.permits(), 1, "never above the bound");
}
