//! One queue shared by two loops on two threads: producers on one, consumers on the other,
//! some consumers giving up their `get` half-way again and again. Every item arrives exactly
//! once, `join` on the producers' loop returns once the consumers' loop has marked everything
//! done, and `shutdown` from one loop ends the other's consumers. A watchdog aborts the
//! process instead of letting a lost wake-up hang CI.

mod support;

use support::watchdog;

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::thread;

use tulip::queue::{Queue, TryPutError};
use tulip::task::yield_now;

/// `future`, or `None` after it has been polled `polls` times without finishing; it is then
/// dropped, half-way, as a cancelled task's future would be.
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

const PRODUCERS: u64 = 4;
const PER_PRODUCER: u64 = 20_000;
const CONSUMERS: usize = 4;

fn stress(maxsize: usize) {
    let q = Queue::<u64>::with_maxsize(maxsize);
    let producers = thread::spawn({
        let q = q.clone();
        move || {
            tulip::run(async move {
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let q = q.clone();
                        tulip::spawn(async move {
                            for i in 0..PER_PRODUCER {
                                let item = p * PER_PRODUCER + i;
                                // Half the time try without waiting first.
                                let item = match q.put_nowait(item) {
                                    Ok(()) => continue,
                                    Err(TryPutError::Full(item)) => item,
                                    Err(TryPutError::ShutDown(_)) => panic!("shut down early"),
                                };
                                q.put(item).await.unwrap();
                                if i % 64 == 0 {
                                    yield_now().await;
                                }
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                q.join().await;
                assert!(q.is_empty(), "join returned with items left");
                q.shutdown(false);
            });
        }
    });
    let consumers = thread::spawn({
        let q = q.clone();
        move || {
            tulip::run(async move {
                let tasks: Vec<_> = (0..CONSUMERS)
                    .map(|c| {
                        let q = q.clone();
                        tulip::spawn(async move {
                            let mut got = Vec::new();
                            let mut round = 0usize;
                            loop {
                                round += 1;
                                // Consumers 0 and 1 give up after a few polls, often.
                                let outcome = if c < 2 {
                                    within_polls(round % 3, q.get()).await
                                } else {
                                    Some(q.get().await)
                                };
                                match outcome {
                                    Some(Ok(item)) => {
                                        got.push(item);
                                        q.task_done().unwrap();
                                    }
                                    Some(Err(_)) => return got,
                                    None => {}
                                }
                            }
                        })
                    })
                    .collect();
                let mut all = Vec::new();
                for task in tasks {
                    all.extend(task.await.unwrap());
                }
                all
            })
        }
    });
    producers.join().expect("the producers' loop panicked");
    let mut got = consumers.join().expect("the consumers' loop panicked");
    got.sort_unstable();
    let expected: Vec<u64> = (0..PRODUCERS * PER_PRODUCER).collect();
    assert!(got == expected, "items lost or duplicated across threads");
}

#[test]
fn two_loops_on_two_threads_conserve_items_through_a_bounded_queue() {
    let _watchdog = watchdog("two_loops_on_two_threads_conserve_items_through_a_bounded_queue");
    stress(16);
}

#[test]
fn two_loops_on_two_threads_conserve_items_through_an_unbounded_queue() {
    let _watchdog = watchdog("two_loops_on_two_threads_conserve_items_through_an_unbounded_queue");
    stress(0);
}

#[test]
fn a_getter_on_one_loop_is_woken_by_a_put_from_a_plain_thread() {
    let _watchdog = watchdog("a_getter_on_one_loop_is_woken_by_a_put_from_a_plain_thread");
    let q = Queue::new();
    let putter = thread::spawn({
        let q = q.clone();
        move || {
            for n in 0..100 {
                q.put_nowait(n).unwrap();
                thread::yield_now();
            }
        }
    });
    let total = tulip::run(async move {
        let mut total = 0;
        for _ in 0..100 {
            total += q.get().await.unwrap();
        }
        total
    });
    putter.join().unwrap();
    assert_eq!(total, (0..100).sum::<i32>());
}
