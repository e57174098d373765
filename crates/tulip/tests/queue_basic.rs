//! `queue::{Queue, LifoQueue, PriorityQueue}`: the three orders, `maxsize` and the size
//! queries, the `*_nowait` calls and their errors (which hand the item back), `put` waiting
//! while full and `get` waiting while empty on the test clock, handles shared by cloning.

use std::cmp::Reverse;
use std::time::Duration;

use tulip::queue::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};
use tulip::time::{Instant, sleep};

fn drain<T, O: tulip::queue::Order<T>>(q: &tulip::queue::GenericQueue<T, O>) -> Vec<T> {
    std::iter::from_fn(|| q.get_nowait().ok()).collect()
}

#[test]
fn queue_serves_first_in_first_out() {
    let q = Queue::new();
    for n in [5, 1, 4, 2] {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(drain(&q), [5, 1, 4, 2]);
}

#[test]
fn lifo_queue_serves_last_in_first_out() {
    let q = LifoQueue::new();
    for n in [5, 1, 4, 2] {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(drain(&q), [2, 4, 1, 5]);
}

#[test]
fn priority_queue_serves_smallest_first_like_heapq() {
    let q = PriorityQueue::new();
    for n in [5, 1, 4, 2, 1] {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(drain(&q), [1, 1, 2, 4, 5]);

    let q = PriorityQueue::new();
    for (priority, job) in [(3, "c"), (1, "a"), (2, "b")] {
        q.put_nowait((priority, job)).unwrap();
    }
    assert_eq!(drain(&q), [(1, "a"), (2, "b"), (3, "c")]);

    let q = PriorityQueue::new();
    for n in [5, 1, 4] {
        q.put_nowait(Reverse(n)).unwrap();
    }
    assert_eq!(drain(&q), [Reverse(5), Reverse(4), Reverse(1)]);
}

#[test]
fn size_queries_follow_puts_and_gets() {
    let q = Queue::with_maxsize(2);
    assert_eq!(q.maxsize(), 2);
    assert_eq!(q.qsize(), 0);
    assert!(q.is_empty() && !q.is_full());
    q.put_nowait('a').unwrap();
    assert_eq!(q.qsize(), 1);
    assert!(!q.is_empty() && !q.is_full());
    q.put_nowait('b').unwrap();
    assert_eq!(q.qsize(), 2);
    assert!(q.is_full());
    q.get_nowait().unwrap();
    assert_eq!(q.qsize(), 1);
    assert!(!q.is_full());
}

#[test]
fn maxsize_zero_is_unbounded_as_in_asyncio() {
    let q = Queue::with_maxsize(0);
    for n in 0..10_000 {
        q.put_nowait(n).unwrap();
    }
    assert!(!q.is_full());
    assert_eq!(q.qsize(), 10_000);
    assert_eq!(Queue::<u8>::new().maxsize(), 0);
    assert_eq!(Queue::<u8>::default().maxsize(), 0);
}

#[test]
fn nowait_errors_hand_the_item_back() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(String::from("kept")).unwrap();
    let err = q.put_nowait(String::from("refused")).unwrap_err();
    assert!(err.is_full() && !err.is_shutdown());
    assert_eq!(err.to_string(), "the queue is full");
    assert_eq!(format!("{err:?}"), "Full(..)");
    assert_eq!(err.into_inner(), "refused");

    assert_eq!(q.get_nowait().as_deref(), Ok("kept"));
    let empty = q.get_nowait().unwrap_err();
    assert_eq!(empty, TryGetError::Empty);
    assert!(empty.is_empty() && !empty.is_shutdown());
    assert_eq!(empty.to_string(), "the queue is empty");

    q.shutdown(false);
    assert_eq!(
        q.put_nowait(String::from("late")),
        Err(TryPutError::ShutDown(String::from("late")))
    );
    assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    assert!(q.get_nowait().unwrap_err().is_shutdown());
}

#[test]
fn errors_are_std_errors_with_messages() {
    fn message(err: &dyn std::error::Error) -> String {
        err.to_string()
    }
    assert_eq!(
        message(&TaskDoneError),
        "task_done() called more times than there were items put in the queue"
    );
    assert_eq!(message(&QueueShutDown(())), "the queue is shut down");
    assert_eq!(format!("{:?}", QueueShutDown(vec![1])), "QueueShutDown(..)");
    assert_eq!(QueueShutDown(3).into_inner(), 3);
    assert_eq!(
        message(&TryPutError::ShutDown(())),
        "the queue is shut down"
    );
    assert_eq!(
        message(&TryGetError::ShutDown),
        "the queue is shut down and empty"
    );
}

#[test]
fn clones_are_handles_on_the_same_queue() {
    let q = Queue::new();
    let other = q.clone();
    q.put_nowait(1).unwrap();
    assert_eq!(other.qsize(), 1);
    assert_eq!(other.get_nowait(), Ok(1));
    assert!(q.is_empty());
}

#[tulip::test(test_clock)]
async fn put_waits_while_the_queue_is_full() {
    let q = Queue::with_maxsize(2);
    let start = Instant::now();
    let producer = tulip::spawn({
        let q = q.clone();
        async move {
            for n in 0..4 {
                q.put(n).await.unwrap();
            }
            Instant::now()
        }
    });
    sleep(Duration::from_secs(5)).await;
    assert!(!producer.is_finished(), "two items fit, the third waits");
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get().await, Ok(0));
    assert_eq!(q.get().await, Ok(1));
    let finished = producer.await.unwrap();
    assert_eq!(finished - start, Duration::from_secs(5));
    assert_eq!(drain(&q), [2, 3]);
}

#[tulip::test(test_clock)]
async fn get_waits_while_the_queue_is_empty() {
    let q = Queue::new();
    let start = Instant::now();
    let consumer = tulip::spawn({
        let q = q.clone();
        async move {
            let item = q.get().await.unwrap();
            (item, Instant::now())
        }
    });
    sleep(Duration::from_secs(3)).await;
    assert!(!consumer.is_finished());
    q.put("late").await.unwrap();
    let (item, at) = consumer.await.unwrap();
    assert_eq!(item, "late");
    assert_eq!(at - start, Duration::from_secs(3));
}

#[tulip::test(test_clock)]
async fn an_item_handed_to_a_waiting_getter_is_counted_but_promised() {
    let q = Queue::with_maxsize(1);
    let consumer = tulip::spawn({
        let q = q.clone();
        async move { q.get().await.unwrap() }
    });
    tulip::task::yield_now().await; // the consumer now waits
    q.put_nowait(7).unwrap();
    // asyncio counts the item until the woken getter takes it; so does tulip, and it keeps
    // the item for that getter.
    assert_eq!(q.qsize(), 1);
    assert!(q.is_full());
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    assert!(q.put_nowait(8).unwrap_err().is_full());
    assert_eq!(consumer.await.unwrap(), 7);
    assert!(q.is_empty());
}

#[tulip::test(test_clock)]
async fn lifo_and_priority_queues_wait_like_queue() {
    let q = PriorityQueue::with_maxsize(1);
    let waiter = tulip::spawn({
        let q = q.clone();
        async move { q.get().await.unwrap() }
    });
    sleep(Duration::from_secs(1)).await;
    q.put(3).await.unwrap();
    q.put(1).await.unwrap(); // fits once the waiter took 3
    assert_eq!(waiter.await.unwrap(), 3);
    assert_eq!(q.get().await, Ok(1));

    let q = LifoQueue::with_maxsize(1);
    q.put('a').await.unwrap();
    let putter = tulip::spawn({
        let q = q.clone();
        async move { q.put('b').await }
    });
    sleep(Duration::from_secs(1)).await;
    assert!(!putter.is_finished());
    assert_eq!(q.get().await, Ok('a'));
    putter.await.unwrap().unwrap();
    assert_eq!(q.get().await, Ok('b'));
}

#[test]
fn a_queue_works_without_any_runtime_through_nowait_calls() {
    let q = LifoQueue::with_maxsize(3);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    q.task_done().unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}
