//! `Queue::task_done` and `Queue::join`: the unfinished count goes up with each put and down
//! with each `task_done`; one `task_done` too many is an error, not a panic; `join` returns
//! at once when nothing is unfinished, and otherwise exactly when the count reaches zero, on
//! the test clock — even if new items arrive before the joiner runs, as with asyncio's
//! `Event`.

use std::time::Duration;

use tulip::queue::{Queue, TaskDoneError};
use tulip::time::{Instant, sleep};

#[test]
fn task_done_too_many_times_is_an_error_and_the_count_stays_at_zero() {
    let q = Queue::new();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.get_nowait().unwrap();
    assert_eq!(q.task_done(), Ok(()));
    // The second item was never got, but asyncio counts puts, not gets: this is allowed.
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put_nowait(3).unwrap();
    assert_eq!(
        q.task_done(),
        Ok(()),
        "the count restarted from zero, not below it"
    );
}

#[tulip::test(test_clock)]
async fn join_returns_at_once_when_nothing_is_unfinished() {
    let q = Queue::<u8>::new();
    let start = Instant::now();
    q.join().await;
    q.put_nowait(1).unwrap();
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    q.join().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tulip::test(test_clock)]
async fn join_returns_exactly_when_the_last_item_is_marked_done() {
    let q = Queue::new();
    for n in 1..=3u64 {
        q.put_nowait(n).unwrap();
    }
    let start = Instant::now();
    let worker = tulip::spawn({
        let q = q.clone();
        async move {
            while let Ok(n) = q.get().await {
                sleep(Duration::from_secs(n)).await;
                q.task_done().unwrap();
            }
        }
    });
    let joiners: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            tulip::spawn(async move {
                q.join().await;
                Instant::now()
            })
        })
        .collect();
    q.join().await;
    assert_eq!(start.elapsed(), Duration::from_secs(1 + 2 + 3));
    for joiner in joiners {
        assert_eq!(joiner.await.unwrap() - start, Duration::from_secs(6));
    }
    q.shutdown(false);
    worker.await.unwrap();
}

#[tulip::test(test_clock)]
async fn join_does_not_return_while_items_are_unfinished() {
    let q = Queue::new();
    q.put_nowait("a").unwrap();
    let joiner = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    q.get_nowait().unwrap();
    sleep(Duration::from_secs(100)).await;
    assert!(!joiner.is_finished(), "got but not marked done");
    q.task_done().unwrap();
    tulip::task::yield_now().await;
    assert!(joiner.is_finished());
    joiner.await.unwrap();
}

#[tulip::test(test_clock)]
async fn a_joiner_woken_at_zero_returns_even_if_new_items_arrive_first() {
    let q = Queue::new();
    q.put_nowait(1).unwrap();
    let joiner = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    tulip::task::yield_now().await; // the joiner waits
    q.get_nowait().unwrap();
    q.task_done().unwrap(); // zero: the joiner is woken...
    q.put_nowait(2).unwrap(); // ...and a new item arrives before it runs
    tulip::task::yield_now().await;
    assert!(joiner.is_finished(), "join saw the count reach zero");
    joiner.await.unwrap();

    // A join that starts now waits for the new item.
    let late = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    sleep(Duration::from_secs(1)).await;
    assert!(!late.is_finished());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    late.await.unwrap();
}

#[tulip::test(test_clock)]
async fn a_cancelled_join_leaves_the_others_waiting_correctly() {
    let q = Queue::new();
    q.put_nowait(1).unwrap();
    let first = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    let second = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    tulip::task::yield_now().await;
    first.cancel();
    assert!(first.await.unwrap_err().is_cancelled());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    second.await.unwrap();
}

#[tulip::test(test_clock)]
async fn items_handed_to_getters_count_until_marked_done() {
    let q = Queue::new();
    let consumer = tulip::spawn({
        let q = q.clone();
        async move {
            let item = q.get().await.unwrap();
            sleep(Duration::from_secs(2)).await;
            q.task_done().unwrap();
            item
        }
    });
    tulip::task::yield_now().await;
    let start = Instant::now();
    q.put_nowait("x").unwrap(); // handed straight to the waiting consumer
    q.join().await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(consumer.await.unwrap(), "x");
}
