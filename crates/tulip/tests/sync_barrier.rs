//! `sync::Barrier`: tasks wait until `parties` have arrived and learn their arrival index;
//! the barrier is reusable round after round; `abort` breaks it for waiting and later tasks
//! until `reset`, which fails the tasks waiting then; a task dropped while waiting leaves.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tulip::sync::{Barrier, BrokenBarrier};
use tulip::time::{Instant, sleep};

fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[tulip::test(test_clock)]
async fn the_last_arrival_releases_everyone_with_arrival_indexes() {
    let barrier = Rc::new(Barrier::new(3));
    let start = Instant::now();
    let tasks: Vec<_> = [2u64, 0, 1]
        .into_iter()
        .map(|delay| {
            let barrier = barrier.clone();
            tulip::spawn(async move {
                sleep(Duration::from_secs(delay)).await;
                let index = barrier.wait().await.unwrap();
                (delay, index, start.elapsed())
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let two = Duration::from_secs(2);
    // Arrival order: delay 0, then 1, then 2 (the last, which does not wait).
    assert_eq!(results, [(2, 2, two), (0, 0, two), (1, 1, two)]);
    assert_eq!(barrier.n_waiting(), 0);
}

#[tulip::test(test_clock)]
async fn the_barrier_is_reusable() {
    let barrier = Rc::new(Barrier::new(2));
    let other = tulip::spawn({
        let barrier = barrier.clone();
        async move {
            let mut indexes = Vec::new();
            for _ in 0..3 {
                indexes.push(barrier.wait().await.unwrap());
                sleep(Duration::from_secs(1)).await;
            }
            indexes
        }
    });
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(barrier.wait().await.unwrap());
    }
    // This task arrives first each round: the other starts after it, then sleeps between
    // rounds.
    assert_eq!(mine, [0, 0, 0]);
    assert_eq!(other.await.unwrap(), [1, 1, 1]);
}

#[tulip::test(test_clock)]
async fn abort_breaks_waiting_and_later_tasks_until_reset() {
    let barrier = Rc::new(Barrier::new(3));
    let waiter = tulip::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await }
    });
    sleep(Duration::from_secs(1)).await;
    assert_eq!(barrier.n_waiting(), 1);
    barrier.abort();
    assert!(barrier.is_broken());
    assert_eq!(waiter.await.unwrap(), Err(BrokenBarrier));
    assert_eq!(barrier.wait().await, Err(BrokenBarrier), "still broken");
    barrier.reset();
    assert!(!barrier.is_broken());
    let a = tulip::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await }
    });
    let b = tulip::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await }
    });
    tulip::task::yield_now().await; // a and b arrive first
    assert_eq!(barrier.wait().await, Ok(2));
    assert_eq!(a.await.unwrap(), Ok(0));
    assert_eq!(b.await.unwrap(), Ok(1));
}

#[tulip::test(test_clock)]
async fn reset_fails_the_tasks_waiting_then_and_stays_usable() {
    let barrier = Rc::new(Barrier::new(2));
    let waiter = tulip::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await }
    });
    sleep(Duration::from_secs(1)).await;
    barrier.reset();
    assert_eq!(waiter.await.unwrap(), Err(BrokenBarrier));
    assert!(!barrier.is_broken());
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn a_task_dropped_while_waiting_leaves_the_barrier() {
    let barrier = Barrier::new(2);
    let mut leaver = Box::pin(barrier.wait());
    assert!(poll(leaver.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    drop(leaver);
    assert_eq!(barrier.n_waiting(), 0);
    let mut first = Box::pin(barrier.wait());
    assert!(poll(first.as_mut()).is_pending(), "one arrival is not two");
    let mut second = Box::pin(barrier.wait());
    assert_eq!(poll(second.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(poll(first.as_mut()), Poll::Ready(Ok(0)));
}

#[test]
fn a_task_dropped_after_its_round_filled_leaves_the_others_released() {
    let barrier = Barrier::new(3);
    let mut a = Box::pin(barrier.wait());
    let mut b = Box::pin(barrier.wait());
    assert!(poll(a.as_mut()).is_pending());
    assert!(poll(b.as_mut()).is_pending());
    let mut c = Box::pin(barrier.wait());
    assert_eq!(poll(c.as_mut()), Poll::Ready(Ok(2)));
    drop(a);
    assert_eq!(poll(b.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn parties_zero_counts_as_one_and_errors_read_well() {
    let barrier = Barrier::new(0);
    assert_eq!(barrier.parties(), 1);
    let mut alone = Box::pin(barrier.wait());
    assert_eq!(poll(alone.as_mut()), Poll::Ready(Ok(0)));
    assert_eq!(
        BrokenBarrier.to_string(),
        "the barrier is broken (aborted or reset)"
    );
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 1, n_waiting: 0, broken: false }"
    );
}
