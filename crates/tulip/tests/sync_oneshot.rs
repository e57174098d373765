//! `sync::oneshot`: a value passes from `Promise` to `Receiver`; a dropped promise gives
//! `RecvError`; a dropped receiver hands the value back; `try_recv` and `is_done` states; use
//! across threads and across loops.

mod support;

use support::{DropCounter, watchdog};

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use tulip::Runtime;
use tulip::sync::oneshot::{self, RecvError};
use tulip::task::yield_now;

/// Counts its own drops.
/// Polls `rx` once with a no-op waker.
fn poll_now<T>(rx: &mut oneshot::Receiver<T>) -> Poll<Result<T, RecvError>> {
    Pin::new(rx).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_value_passes_between_tasks() {
    tulip::run(async {
        let (promise, rx) = oneshot::channel::<Vec<u8>>();
        let waiter = tulip::spawn(rx);
        yield_now().await;
        assert!(!waiter.is_finished(), "waits for the value");
        let resolver = tulip::spawn(async move {
            yield_now().await;
            promise.set_result(vec![1, 2, 3]).unwrap();
        });
        assert_eq!(waiter.await.unwrap(), Ok(vec![1, 2, 3]));
        resolver.await.unwrap();
    });
}

#[test]
fn a_value_set_before_awaiting_is_ready_at_once() {
    tulip::run(async {
        let (promise, rx) = oneshot::channel();
        assert!(!rx.is_done());
        assert!(!promise.is_closed());
        promise.set_result("early").unwrap();
        assert!(rx.is_done());
        assert_eq!(rx.await, Ok("early"));
    });
}

#[test]
fn a_dropped_promise_wakes_the_receiver_with_recv_error() {
    tulip::run(async {
        let (promise, rx) = oneshot::channel::<u32>();
        let waiter = tulip::spawn(rx);
        yield_now().await;
        drop(promise);
        assert_eq!(waiter.await.unwrap(), Err(RecvError));
        assert_eq!(
            RecvError.to_string(),
            "no result: the promise was dropped without one, or it was already taken"
        );
    });
}

#[test]
fn a_dropped_receiver_gives_the_value_back() {
    let (promise, rx) = oneshot::channel::<String>();
    drop(rx);
    assert!(promise.is_closed());
    assert_eq!(
        promise.set_result("unwanted".into()),
        Err("unwanted".to_string())
    );
}

#[test]
fn try_recv_and_is_done_follow_the_channel() {
    let (promise, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Ok(None), "pending");
    assert!(!rx.is_done());
    promise.set_result(9).unwrap();
    assert!(rx.is_done());
    assert_eq!(rx.try_recv(), Ok(Some(9)));

    let (promise, mut rx) = oneshot::channel::<u8>();
    drop(promise);
    assert!(rx.is_done());
    assert_eq!(rx.try_recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(RecvError), "stays closed");
}

#[test]
fn a_receiver_whose_value_was_taken_is_done_not_pending() {
    // Once the value has been taken (try_recv or await), the promise is gone for good; the
    // receiver must not look pending again, or awaiting it would hang for ever.
    let (promise, mut rx) = oneshot::channel();
    promise.set_result(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(Some(1)));
    assert!(rx.is_done(), "a result was set: the future is done");
    assert_eq!(rx.try_recv(), Err(RecvError));
    assert_eq!(poll_now(&mut rx), Poll::Ready(Err(RecvError)));

    let (promise, mut rx) = oneshot::channel();
    promise.set_result(2).unwrap();
    assert_eq!(poll_now(&mut rx), Poll::Ready(Ok(2)));
    assert_eq!(
        poll_now(&mut rx),
        Poll::Ready(Err(RecvError)),
        "polled again after completing"
    );
}

#[test]
fn values_are_dropped_exactly_once_whoever_goes_last() {
    let drops = Arc::new(AtomicUsize::new(0));
    // Set, never received: dropped with the receiver.
    let (promise, rx) = oneshot::channel();
    promise.set_result(DropCounter(drops.clone())).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Refused because the receiver is gone: handed back, dropped by the caller.
    let (promise, rx) = oneshot::channel();
    drop(rx);
    let back = promise.set_result(DropCounter(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // Received: dropped by whoever took it.
    let (promise, mut rx) = oneshot::channel();
    promise.set_result(DropCounter(drops.clone())).unwrap();
    let value = rx.try_recv().unwrap().unwrap();
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(value);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn a_promise_resolved_on_another_thread_wakes_the_loop() {
    let _watchdog = watchdog("a_promise_resolved_on_another_thread_wakes_the_loop");
    let mut rt = Runtime::new().unwrap();
    let (promise, rx) = oneshot::channel::<(String, std::thread::ThreadId)>();
    let thread = std::thread::spawn(move || {
        let id = std::thread::current().id();
        promise.set_result(("from a thread".into(), id)).unwrap();
        id
    });
    let (text, from) = rt.block_on(rx).unwrap();
    assert_eq!(text, "from a thread");
    assert_eq!(from, thread.join().unwrap());
}

#[test]
fn a_promise_dropped_on_another_thread_wakes_the_loop() {
    let _watchdog = watchdog("a_promise_dropped_on_another_thread_wakes_the_loop");
    let mut rt = Runtime::new().unwrap();
    let (promise, rx) = oneshot::channel::<u8>();
    let thread = std::thread::spawn(move || drop(promise));
    assert_eq!(rt.block_on(rx), Err(RecvError));
    thread.join().unwrap();
}

#[test]
fn two_loops_on_two_threads_talk_through_oneshots() {
    let _watchdog = watchdog("two_loops_on_two_threads_talk_through_oneshots");
    let (to_other, other_rx) = oneshot::channel::<u32>();
    let (to_main, main_rx) = oneshot::channel::<u32>();
    let other = std::thread::spawn(move || {
        tulip::run(async move {
            let n = other_rx.await.unwrap();
            to_main.set_result(n * 10).unwrap();
        });
    });
    let answer = tulip::run(async move {
        let sender = tulip::spawn(async move {
            yield_now().await;
            to_other.set_result(4).unwrap();
        });
        let answer = main_rx.await.unwrap();
        sender.await.unwrap();
        answer
    });
    other.join().unwrap();
    assert_eq!(answer, 40);
}

#[test]
fn a_receiver_awaited_through_poll_fn_keeps_the_latest_waker() {
    tulip::run(async {
        let (promise, mut rx) = oneshot::channel();
        // Poll once from one task's context, then wait from another: the second must be woken.
        assert_eq!(poll_now(&mut rx), Poll::Pending);
        let waiter = tulip::spawn(async move { poll_fn(|cx| Pin::new(&mut rx).poll(cx)).await });
        yield_now().await;
        promise.set_result('w').unwrap();
        assert_eq!(waiter.await.unwrap(), Ok('w'));
    });
}

#[test]
fn debug_output_says_whether_it_is_done() {
    let (promise, rx) = oneshot::channel::<()>();
    assert_eq!(format!("{rx:?}"), "Receiver { done: false }");
    assert!(format!("{promise:?}").starts_with("Promise"));
    promise.set_result(()).unwrap();
    assert_eq!(format!("{rx:?}"), "Receiver { done: true }");
}
