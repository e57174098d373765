//! Cancel safety and fairness of `Queue::get` / `Queue::put`, driven by hand (a future polled
//! once, then dropped at a chosen moment) and through task cancellation: a getter dropped
//! after being handed an item passes it to the next getter or back to the front; a putter
//! dropped after being granted a slot passes the slot on and never inserts its item; waiters
//! are served in arrival order, and `*_nowait` calls cannot jump the line.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tulip::queue::{LifoQueue, PriorityQueue, Queue, TryGetError, TryPutError};
use tulip::time::sleep;

/// A waker that counts its wakes.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (count.clone(), Waker::from(count))
}

fn poll<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_dropped_getter_passes_its_item_to_the_next_getter() {
    let q = Queue::new();
    let (first_woken, first_waker) = counting_waker();
    let (second_woken, second_waker) = counting_waker();
    let mut first = Box::pin(q.get());
    let mut second = pin!(q.get());
    assert!(poll(first.as_mut(), &first_waker).is_pending());
    assert!(poll(second.as_mut(), &second_waker).is_pending());
    q.put_nowait("only").unwrap();
    assert_eq!(
        first_woken.0.load(Ordering::SeqCst),
        1,
        "handed to the first"
    );
    assert_eq!(second_woken.0.load(Ordering::SeqCst), 0);
    drop(first); // cancelled before it ran
    assert_eq!(second_woken.0.load(Ordering::SeqCst), 1, "passed on");
    assert_eq!(
        poll(second.as_mut(), &second_waker),
        Poll::Ready(Ok("only"))
    );
    assert!(q.is_empty());
}

#[test]
fn a_dropped_getter_with_no_one_behind_puts_its_item_back_at_the_front() {
    let q = Queue::new();
    let mut getter = Box::pin(q.get());
    assert!(poll(getter.as_mut(), Waker::noop()).is_pending());
    q.put_nowait(1).unwrap(); // handed to the getter
    q.put_nowait(2).unwrap(); // stored
    drop(getter);
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get_nowait(), Ok(1), "back at the front, ahead of 2");
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn a_returned_item_goes_where_get_takes_from_in_every_order() {
    let q = LifoQueue::new();
    let mut getter = Box::pin(q.get());
    assert!(poll(getter.as_mut(), Waker::noop()).is_pending());
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    drop(getter);
    assert_eq!(
        q.get_nowait(),
        Ok(1),
        "LIFO: the handed item is the next out"
    );

    let q = PriorityQueue::new();
    let mut getter = Box::pin(q.get());
    assert!(poll(getter.as_mut(), Waker::noop()).is_pending());
    q.put_nowait(5).unwrap();
    q.put_nowait(3).unwrap();
    drop(getter);
    assert_eq!(q.get_nowait(), Ok(3), "priority: back in rank");
    assert_eq!(q.get_nowait(), Ok(5));
}

#[test]
fn a_getter_dropped_before_being_served_loses_nothing_and_takes_nothing() {
    let q = Queue::new();
    let mut getter = Box::pin(q.get());
    assert!(poll(getter.as_mut(), Waker::noop()).is_pending());
    drop(getter);
    q.put_nowait(9).unwrap();
    assert_eq!(q.get_nowait(), Ok(9));
}

#[test]
fn a_dropped_putter_never_inserts_and_passes_its_slot_on() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(0).unwrap();
    let (first_woken, first_waker) = counting_waker();
    let (second_woken, second_waker) = counting_waker();
    let mut first = Box::pin(q.put(1));
    let mut second = pin!(q.put(2));
    assert!(poll(first.as_mut(), &first_waker).is_pending());
    assert!(poll(second.as_mut(), &second_waker).is_pending());
    assert_eq!(q.get_nowait(), Ok(0));
    assert_eq!(
        first_woken.0.load(Ordering::SeqCst),
        1,
        "slot granted to the first"
    );
    assert_eq!(
        q.put_nowait(99),
        Err(TryPutError::Full(99)),
        "the slot is promised"
    );
    drop(first);
    assert_eq!(second_woken.0.load(Ordering::SeqCst), 1, "slot passed on");
    assert_eq!(poll(second.as_mut(), &second_waker), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(
        q.get_nowait(),
        Err(TryGetError::Empty),
        "1 was never inserted"
    );
}

#[test]
fn a_dropped_putter_with_no_one_behind_frees_its_slot() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(0).unwrap();
    let mut putter = Box::pin(q.put(1));
    assert!(poll(putter.as_mut(), Waker::noop()).is_pending());
    assert_eq!(q.get_nowait(), Ok(0));
    assert!(q.is_full(), "the freed slot is promised to the putter");
    drop(putter);
    assert!(!q.is_full());
    q.put_nowait(2).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    assert!(q.is_empty());
}

#[test]
fn a_put_that_completed_inserted_exactly_once() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(0).unwrap();
    let mut putter = Box::pin(q.put(1));
    assert!(poll(putter.as_mut(), Waker::noop()).is_pending());
    assert_eq!(q.get_nowait(), Ok(0));
    assert_eq!(poll(putter.as_mut(), Waker::noop()), Poll::Ready(Ok(())));
    drop(putter);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(q.task_done().is_err(), "two items were put, not three");
}

#[test]
fn getters_are_served_in_arrival_order() {
    let q = Queue::new();
    let mut getters: Vec<_> = (0..5).map(|_| Box::pin(q.get())).collect();
    for getter in &mut getters {
        assert!(poll(getter.as_mut(), Waker::noop()).is_pending());
    }
    for n in 0..5 {
        q.put_nowait(n).unwrap();
    }
    // Polled in reverse: each still gets the item meant for its place in line.
    let got: Vec<_> = getters
        .iter_mut()
        .rev()
        .map(|getter| poll(getter.as_mut(), Waker::noop()))
        .collect();
    let expected: Vec<_> = (0..5).rev().map(|n| Poll::Ready(Ok(n))).collect();
    assert_eq!(got, expected);
}

#[test]
fn putters_are_served_in_arrival_order() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(0).unwrap();
    let mut putters: Vec<_> = (1..=4).map(|n| Some(Box::pin(q.put(n)))).collect();
    for putter in putters.iter_mut().flatten() {
        assert!(poll(putter.as_mut(), Waker::noop()).is_pending());
    }
    let mut order = Vec::new();
    for round in 0..4 {
        order.push(q.get_nowait().unwrap());
        // Only the putter whose turn it is gets in, however they are polled.
        let mut finished = Vec::new();
        for (index, slot) in putters.iter_mut().enumerate().rev() {
            if let Some(putter) = slot {
                if poll(putter.as_mut(), Waker::noop()).is_ready() {
                    finished.push(index);
                    *slot = None;
                }
            }
        }
        assert_eq!(finished, [round]);
    }
    order.push(q.get_nowait().unwrap());
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

#[test]
fn a_nowait_call_cannot_jump_the_line() {
    // A getter waiting: a put goes to it, not to a later get_nowait.
    let q = Queue::new();
    let mut getter = Box::pin(q.get());
    assert!(poll(getter.as_mut(), Waker::noop()).is_pending());
    q.put_nowait(1).unwrap();
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    assert_eq!(poll(getter.as_mut(), Waker::noop()), Poll::Ready(Ok(1)));

    // A putter waiting: a freed slot goes to it, not to a later put_nowait.
    let q = Queue::with_maxsize(1);
    q.put_nowait(1).unwrap();
    let mut putter = Box::pin(q.put(2));
    assert!(poll(putter.as_mut(), Waker::noop()).is_pending());
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(q.put_nowait(3).unwrap_err().is_full());
    assert_eq!(poll(putter.as_mut(), Waker::noop()), Poll::Ready(Ok(())));
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn a_waker_change_between_polls_is_honoured() {
    let q = Queue::new();
    let (old_woken, old) = counting_waker();
    let (new_woken, new) = counting_waker();
    let mut getter = Box::pin(q.get());
    assert!(poll(getter.as_mut(), &old).is_pending());
    assert!(poll(getter.as_mut(), &new).is_pending());
    q.put_nowait(()).unwrap();
    assert_eq!(old_woken.0.load(Ordering::SeqCst), 0);
    assert_eq!(new_woken.0.load(Ordering::SeqCst), 1);
}

#[tulip::test(test_clock)]
async fn a_cancelled_consumer_task_loses_no_item() {
    let q = Queue::new();
    let spawn_getter = |q: &Queue<u32>| {
        let q = q.clone();
        tulip::spawn(async move { q.get().await })
    };
    let first = spawn_getter(&q);
    let second = spawn_getter(&q);
    tulip::task::yield_now().await; // both wait, first in line
    q.put_nowait(42).unwrap(); // handed to the first...
    first.cancel(); // ...which is cancelled before it runs
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(second.await.unwrap(), Ok(42));
}

#[tulip::test(test_clock)]
async fn a_cancelled_producer_task_inserts_nothing() {
    let q = Queue::with_maxsize(1);
    q.put_nowait(0).unwrap();
    let producer = tulip::spawn({
        let q = q.clone();
        async move { q.put(1).await }
    });
    sleep(Duration::from_secs(1)).await;
    assert_eq!(q.get().await, Ok(0)); // grants the slot to the producer...
    producer.cancel(); // ...cancelled before it fills it
    assert!(producer.await.unwrap_err().is_cancelled());
    assert!(q.is_empty());
    q.put_nowait(2).unwrap();
    assert_eq!(q.get().await, Ok(2));
    assert!(q.is_empty());
}

#[tulip::test(test_clock)]
async fn tasks_waiting_on_get_are_served_in_the_order_they_arrived() {
    let q = Queue::new();
    let served = Arc::new(std::sync::Mutex::new(Vec::new()));
    let consumers: Vec<_> = (0..5)
        .map(|id| {
            let (q, served) = (q.clone(), served.clone());
            tulip::spawn(async move {
                // Staggered arrivals: consumer `id` starts waiting at `id` seconds.
                sleep(Duration::from_secs(id)).await;
                let item = q.get().await.unwrap();
                served.lock().unwrap().push((id, item));
            })
        })
        .collect();
    sleep(Duration::from_secs(10)).await;
    for item in ['a', 'b', 'c', 'd', 'e'] {
        q.put(item).await.unwrap();
    }
    for consumer in consumers {
        consumer.await.unwrap();
    }
    let served = served.lock().unwrap().clone();
    assert_eq!(served, [(0, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (4, 'e')]);
}
