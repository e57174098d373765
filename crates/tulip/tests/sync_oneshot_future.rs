//! `sync::oneshot` as asyncio's `Future`: cloned promises where the first to set wins and
//! the others get their value back (asyncio's `InvalidStateError`), `set_exception` on a
//! channel of `Result`, `Promise::is_done`, and `Receiver::add_done_callback` — called with
//! the result before anyone can take it, at once when already done, with `RecvError` when
//! every promise is dropped, never when the receiver is dropped first; a panicking callback.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use tulip::sync::oneshot::{self, RecvError};

type Log = Arc<Mutex<Vec<String>>>;

fn logger(log: &Log, name: &'static str) -> impl FnOnce(Result<&u32, RecvError>) + Send + 'static {
    let log = log.clone();
    move |result| {
        let line = match result {
            Ok(value) => format!("{name}: {value}"),
            Err(err) => format!("{name}: {err}"),
        };
        log.lock().unwrap().push(line);
    }
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[test]
fn the_first_clone_to_set_wins_the_others_get_their_value_back() {
    let (promise, mut rx) = oneshot::channel();
    let twin = promise.clone();
    assert!(!promise.is_done() && !twin.is_done());
    assert_eq!(twin.set_result("first"), Ok(()));
    assert!(promise.is_done());
    assert_eq!(promise.set_result("second"), Err("second"));
    assert_eq!(rx.try_recv(), Ok(Some("first")));
}

#[test]
fn the_receiver_fails_only_once_every_promise_is_gone() {
    let (promise, mut rx) = oneshot::channel::<u8>();
    let twin = promise.clone();
    drop(promise);
    assert_eq!(rx.try_recv(), Ok(None), "a clone is still alive");
    assert!(!rx.is_done());
    drop(twin);
    assert!(rx.is_done());
    assert_eq!(rx.try_recv(), Err(RecvError));
}

#[test]
fn set_exception_resolves_a_result_channel_with_an_error() {
    let (promise, mut rx) = oneshot::channel::<Result<u32, String>>();
    let twin = promise.clone();
    assert_eq!(promise.set_exception("boom".to_string()), Ok(()));
    assert_eq!(
        twin.set_exception("again".to_string()),
        Err("again".to_string()),
        "set twice: the error comes back"
    );
    assert_eq!(rx.try_recv(), Ok(Some(Err("boom".to_string()))));

    let (promise, rx) = oneshot::channel::<Result<u32, String>>();
    drop(rx);
    assert_eq!(
        promise.set_exception("late".into()),
        Err("late".to_string())
    );
}

#[test]
fn callbacks_see_the_value_before_the_receiver_takes_it() {
    let log = Log::default();
    let (promise, mut rx) = oneshot::channel::<u32>();
    rx.add_done_callback(logger(&log, "first"));
    rx.add_done_callback(logger(&log, "second"));
    assert!(lines(&log).is_empty(), "not done yet");
    promise.set_result(7).unwrap();
    assert_eq!(lines(&log), ["first: 7", "second: 7"]);
    assert_eq!(rx.try_recv(), Ok(Some(7)), "the value is still there");
}

#[test]
fn a_callback_added_once_done_runs_at_once() {
    let log = Log::default();
    let (promise, mut rx) = oneshot::channel::<u32>();
    promise.set_result(3).unwrap();
    rx.add_done_callback(logger(&log, "late"));
    assert_eq!(lines(&log), ["late: 3"]);
    assert_eq!(rx.try_recv(), Ok(Some(3)));
    rx.add_done_callback(logger(&log, "after take"));
    assert_eq!(
        lines(&log)[1],
        "after take: no result: the promise was dropped without one, or it was already taken"
    );
}

#[test]
fn callbacks_get_recv_error_when_every_promise_is_dropped() {
    let log = Log::default();
    let (promise, mut rx) = oneshot::channel::<u32>();
    let twin = promise.clone();
    rx.add_done_callback(logger(&log, "cb"));
    drop(promise);
    assert!(lines(&log).is_empty());
    drop(twin);
    assert_eq!(lines(&log).len(), 1);
    assert!(lines(&log)[0].starts_with("cb: no result"));
    rx.add_done_callback(logger(&log, "late"));
    assert!(lines(&log)[1].starts_with("late: no result"));
}

#[test]
fn callbacks_of_a_dropped_receiver_are_never_called() {
    let log = Log::default();
    let (promise, mut rx) = oneshot::channel::<u32>();
    rx.add_done_callback(logger(&log, "cb"));
    drop(rx);
    assert_eq!(promise.set_result(1), Err(1));
    assert!(lines(&log).is_empty());
}

#[test]
fn a_panicking_callback_surfaces_in_set_result_after_the_value_is_delivered() {
    let log = Log::default();
    let (promise, mut rx) = oneshot::channel::<u32>();
    rx.add_done_callback(|_| panic!("callback failed"));
    rx.add_done_callback(logger(&log, "after"));
    let outcome = catch_unwind(AssertUnwindSafe(|| promise.set_result(5)));
    assert!(outcome.is_err(), "the panic reached the caller");
    assert_eq!(lines(&log), ["after: 5"], "the other callbacks still ran");
    assert_eq!(rx.try_recv(), Ok(Some(5)), "and the value was delivered");
}

#[test]
fn a_callback_added_from_another_thread_while_resolving_still_runs() {
    // A receiver moved to another thread adds callbacks while the promise resolves here:
    // whichever wins the race, every callback runs exactly once.
    for _ in 0..200 {
        let log = Log::default();
        let (promise, mut rx) = oneshot::channel::<u32>();
        let adder = std::thread::spawn({
            let log = log.clone();
            move || {
                for _ in 0..3 {
                    rx.add_done_callback(logger(&log, "cb"));
                }
                rx
            }
        });
        promise.set_result(9).unwrap();
        let mut rx = adder.join().unwrap();
        assert_eq!(lines(&log), ["cb: 9", "cb: 9", "cb: 9"]);
        assert_eq!(rx.try_recv(), Ok(Some(9)));
    }
}

#[tulip::test]
async fn an_awaiting_task_gets_the_value_after_the_callbacks() {
    let log = Log::default();
    let (promise, mut rx) = oneshot::channel::<u32>();
    rx.add_done_callback(logger(&log, "cb"));
    let waiter = tulip::spawn(rx);
    tulip::task::yield_now().await;
    promise.set_result(11).unwrap();
    assert_eq!(waiter.await.unwrap(), Ok(11));
    assert_eq!(lines(&log), ["cb: 11"]);
}
