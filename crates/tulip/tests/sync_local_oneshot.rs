//! `sync::local_oneshot`, the loop-bound future: values pass between tasks, a dropped promise
//! or receiver is reported, nothing is lost or dropped twice, and the waiting task wakes.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::DropCounter;
use tulip::sync::local_oneshot::{self, RecvError};
use tulip::task::yield_now;

#[test]
fn a_value_set_later_wakes_the_waiting_task() {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async {
        let (promise, future) = local_oneshot::channel::<&str>();
        let waiter = tulip::spawn(future);
        yield_now().await;
        assert!(!waiter.is_finished(), "nothing was sent yet");
        tulip::spawn(async move {
            tulip::time::sleep(Duration::from_secs(1)).await;
            promise.set_result("late").unwrap();
        })
        .detach();
        assert_eq!(waiter.await.unwrap(), Ok("late"));
    });
}

#[test]
fn a_dropped_promise_wakes_the_receiver_with_recv_error() {
    tulip::run(async {
        let (promise, future) = local_oneshot::channel::<u32>();
        let waiter = tulip::spawn(future);
        yield_now().await;
        drop(promise);
        assert_eq!(waiter.await.unwrap(), Err(RecvError));
    });
}

#[test]
fn a_dropped_receiver_hands_the_value_back() {
    let (promise, future) = local_oneshot::channel::<String>();
    drop(future);
    assert!(promise.is_closed());
    assert_eq!(
        promise.set_result("kept".to_owned()),
        Err("kept".to_owned())
    );
}

#[test]
fn try_recv_and_is_done_follow_the_value() {
    let (promise, mut future) = local_oneshot::channel::<u8>();
    assert!(!future.is_done());
    assert_eq!(future.try_recv(), Ok(None));
    promise.set_result(4).unwrap();
    assert!(future.is_done());
    assert_eq!(future.try_recv(), Ok(Some(4)));
    assert!(future.is_done(), "a taken value still counts as done");
    assert_eq!(
        future.try_recv(),
        Err(RecvError),
        "the value is handed out once"
    );
}

#[test]
fn values_are_dropped_exactly_once_whoever_goes_last() {
    let drops = Arc::new(AtomicUsize::new(0));
    // Received: dropped by the receiver's owner.
    let (promise, mut future) = local_oneshot::channel();
    promise.set_result(DropCounter(drops.clone())).unwrap();
    let value = future.try_recv().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(value);
    drop(future);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // Sent, never received: dropped with the receiver.
    let (promise, future) = local_oneshot::channel();
    promise.set_result(DropCounter(drops.clone())).unwrap();
    drop(future);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn a_receiver_moved_to_another_task_wakes_that_task() {
    tulip::run(async {
        let (promise, future) = local_oneshot::channel::<u32>();
        // First polled by one task, which then hands the receiver on.
        let mut future = Box::pin(future);
        let polled = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(future.as_mut().poll(cx).is_pending())
        })
        .await;
        assert!(polled);
        let second = tulip::spawn(future);
        yield_now().await;
        promise.set_result(11).unwrap();
        assert_eq!(second.await.unwrap(), Ok(11));
    });
}

#[test]
fn ten_thousand_hops_between_two_tasks_arrive_in_order() {
    tulip::run(async {
        let (first, mut inbox) = local_oneshot::channel::<(u64, local_oneshot::Promise<u64>)>();
        let echo = tulip::spawn(async move {
            let mut seen = 0;
            while let Ok((n, reply)) = inbox.await {
                assert_eq!(n, seen, "hops arrive in order");
                seen += 1;
                let (next_promise, next) = local_oneshot::channel();
                reply.set_result(n).unwrap();
                inbox = next;
                // The driver picks the next promise up through this side channel.
                NEXT.with(|slot| slot.set(Some(next_promise)));
            }
            seen
        });
        let mut to_echo = first;
        for n in 0..10_000u64 {
            let (reply, answer) = local_oneshot::channel();
            to_echo.set_result((n, reply)).unwrap();
            assert_eq!(answer.await, Ok(n));
            to_echo = NEXT
                .with(|slot| slot.take())
                .expect("the echo left its next promise");
        }
        drop(to_echo);
        assert_eq!(echo.await.unwrap(), 10_000);
    });
}

type NextPromise = local_oneshot::Promise<(u64, local_oneshot::Promise<u64>)>;

thread_local! {
    static NEXT: std::cell::Cell<Option<NextPromise>> = const { std::cell::Cell::new(None) };
}
