//! `Queue::shutdown` (asyncio 3.13): later puts fail with the item handed back, waiting
//! putters too; gets drain what is left and then fail, waiting getters too; `immediate`
//! discards (and returns) what is left, takes it off the unfinished count and releases
//! joiners; items already handed to a waiting getter still reach it.

use std::time::Duration;

use tulip::queue::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryPutError};
use tulip::time::sleep;

#[tulip::test(test_clock)]
async fn puts_fail_and_gets_drain_then_fail() {
    let q = Queue::new();
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(!q.is_shutdown());
    assert_eq!(q.shutdown(false), Vec::<i32>::new());
    assert!(q.is_shutdown());
    assert_eq!(q.put(3).await, Err(QueueShutDown(3)));
    assert_eq!(q.put_nowait(4), Err(TryPutError::ShutDown(4)));
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.get().await, Ok(2));
    assert_eq!(q.get().await, Err(QueueShutDown(())));
    assert_eq!(q.get().await, Err(QueueShutDown(())), "and stays so");
}

#[tulip::test(test_clock)]
async fn waiting_getters_fail() {
    let q = Queue::<u8>::new();
    let getters: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            tulip::spawn(async move { q.get().await })
        })
        .collect();
    sleep(Duration::from_secs(1)).await;
    q.shutdown(false);
    for getter in getters {
        assert_eq!(getter.await.unwrap(), Err(QueueShutDown(())));
    }
}

#[tulip::test(test_clock)]
async fn waiting_putters_fail_and_get_their_items_back() {
    let q = Queue::with_maxsize(1);
    q.put_nowait("in").unwrap();
    let putters: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|item| {
            let q = q.clone();
            tulip::spawn(async move { q.put(item).await })
        })
        .collect();
    sleep(Duration::from_secs(1)).await;
    q.shutdown(false);
    let back: Vec<_> = {
        let mut back = Vec::new();
        for putter in putters {
            back.push(putter.await.unwrap().unwrap_err().into_inner());
        }
        back
    };
    assert_eq!(back, ["a", "b"]);
    assert_eq!(q.get().await, Ok("in"));
}

#[tulip::test(test_clock)]
async fn a_putter_granted_a_slot_but_not_yet_run_fails_after_shutdown() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(0).unwrap();
    let putter = tulip::spawn({
        let q = q.clone();
        async move { q.put(1).await }
    });
    tulip::task::yield_now().await; // the putter waits
    assert_eq!(q.get_nowait(), Ok(0)); // its slot is granted...
    q.shutdown(false); // ...but the queue shuts down before it runs
    assert_eq!(putter.await.unwrap(), Err(QueueShutDown(1)));
    assert!(q.is_empty());
}

#[tulip::test(test_clock)]
async fn immediate_discards_returns_the_items_and_releases_joiners() {
    let q = Queue::new();
    for n in [1, 2, 3] {
        q.put_nowait(n).unwrap();
    }
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    let joiner = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    sleep(Duration::from_secs(1)).await;
    assert!(!joiner.is_finished());
    assert_eq!(q.shutdown(true), [2, 3]);
    assert!(q.is_empty());
    joiner.await.unwrap();
    assert!(q.get_nowait().unwrap_err().is_shutdown());
    assert!(
        q.task_done().is_err(),
        "the discarded items were taken off the count"
    );
}

#[tulip::test(test_clock)]
async fn immediate_keeps_the_count_of_items_already_got() {
    let q = Queue::new();
    q.put_nowait('a').unwrap();
    q.put_nowait('b').unwrap();
    let got = q.get_nowait().unwrap();
    assert_eq!(q.shutdown(true), ['b']);
    let joiner = tulip::spawn({
        let q = q.clone();
        async move { q.join().await }
    });
    sleep(Duration::from_secs(1)).await;
    assert!(!joiner.is_finished(), "'{got}' is still being processed");
    q.task_done().unwrap();
    joiner.await.unwrap();
}

#[tulip::test(test_clock)]
async fn immediate_returns_items_in_get_order() {
    let q = LifoQueue::new();
    for n in [1, 2, 3] {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(q.shutdown(true), [3, 2, 1]);
    let q = PriorityQueue::new();
    for n in [2, 3, 1] {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(q.shutdown(true), [1, 2, 3]);
}

#[tulip::test(test_clock)]
async fn an_item_handed_before_an_immediate_shutdown_still_reaches_its_getter() {
    let q = Queue::new();
    let getter = tulip::spawn({
        let q = q.clone();
        async move { q.get().await }
    });
    tulip::task::yield_now().await;
    q.put_nowait("handed").unwrap();
    assert_eq!(q.shutdown(true), Vec::<&str>::new());
    assert_eq!(getter.await.unwrap(), Ok("handed"));
}

#[tulip::test(test_clock)]
async fn a_second_shutdown_can_make_it_immediate() {
    let q = Queue::new();
    q.put_nowait(1).unwrap();
    assert!(q.shutdown(false).is_empty());
    assert_eq!(q.shutdown(true), [1]);
    assert_eq!(q.get().await, Err(QueueShutDown(())));
}

#[tulip::test(test_clock)]
async fn consumers_end_their_loop_on_shutdown_after_draining() {
    let q = Queue::new();
    let consumer = tulip::spawn({
        let q = q.clone();
        async move {
            let mut got = Vec::new();
            while let Ok(n) = q.get().await {
                got.push(n);
                sleep(Duration::from_secs(1)).await;
            }
            got
        }
    });
    for n in 0..3 {
        q.put(n).await.unwrap();
    }
    q.shutdown(false);
    assert_eq!(consumer.await.unwrap(), [0, 1, 2]);
}
