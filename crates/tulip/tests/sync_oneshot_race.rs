//! `sync::oneshot` under races between two threads: the resolving side on one thread, the
//! receiving side on another, each step of one racing each step of the other — thousands of
//! channels, so the orders the lock-free state word must handle all come up. Every value is
//! delivered or handed back exactly once, every callback runs exactly once, every waiting
//! receiver is woken. (Run under valgrind memcheck as well: see the closing notes of issue 2.)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use tulip::sync::oneshot::{self, Promise, Receiver, RecvError};

const ROUNDS: usize = 4_000;

/// Wakes by unparking the thread that polls.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `receiver` to completion on this thread, parking between polls: a receiver that
/// is never woken hangs the test (and the harness reports it).
fn wait<T>(mut receiver: Receiver<T>) -> Result<T, RecvError> {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(outcome) = Pin::new(&mut receiver).poll(&mut cx) {
            return outcome;
        }
        thread::park();
    }
}

/// Counts how many of its values were dropped.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `resolve` on a second thread for each promise `make` hands it, while this thread runs
/// `receive` on the receivers, in lockstep rounds that start together.
fn race<T: Send + 'static>(
    make: impl Fn(usize) -> (Promise<T>, Receiver<T>),
    resolve: impl Fn(usize, Promise<T>) + Send + 'static,
    receive: impl Fn(usize, Receiver<T>),
) {
    let (to_resolver, promises) = mpsc::channel::<(usize, Promise<T>, Arc<Barrier>)>();
    let resolver = thread::spawn(move || {
        for (round, promise, start) in promises {
            start.wait();
            resolve(round, promise);
        }
    });
    for round in 0..ROUNDS {
        let (promise, receiver) = make(round);
        let start = Arc::new(Barrier::new(2));
        to_resolver.send((round, promise, start.clone())).unwrap();
        start.wait();
        receive(round, receiver);
    }
    drop(to_resolver);
    resolver.join().unwrap();
}

/// Sets the round's value after spinning a little, so that it lands at varying points
/// relative to the receiver's first poll.
fn set_after_a_varying_spin(round: usize, promise: Promise<usize>) {
    for _ in 0..round % 7 {
        std::hint::spin_loop();
    }
    promise.set_result(round).unwrap();
}

#[test]
fn every_value_reaches_a_receiver_that_waits_while_it_is_set() {
    race(
        |_| oneshot::channel(),
        set_after_a_varying_spin,
        |round, receiver| assert_eq!(wait(receiver), Ok(round)),
    );
}

#[test]
fn a_receiver_dropped_while_the_value_is_set_loses_nothing() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let handed_back = Arc::new(AtomicUsize::new(0));
    let counter = dropped.clone();
    let back = handed_back.clone();
    race(
        move |_| oneshot::channel::<Counted>(),
        move |round, promise| {
            for _ in 0..round % 5 {
                std::hint::spin_loop();
            }
            if let Err(value) = promise.set_result(Counted(counter.clone())) {
                back.fetch_add(1, Ordering::SeqCst);
                drop(value);
            }
        },
        |round, mut receiver| {
            if round % 3 == 0 {
                // Sometimes look first, so a waker is stored when the value comes.
                let _ = receiver.try_recv();
            }
            drop(receiver);
        },
    );
    // Every value was dropped exactly once: by the channel, or by the resolver when handed back.
    assert_eq!(dropped.load(Ordering::SeqCst), ROUNDS);
    assert!(handed_back.load(Ordering::SeqCst) <= ROUNDS);
}

#[test]
fn callbacks_added_while_the_value_is_set_each_run_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    race(
        |_| oneshot::channel::<usize>(),
        |round, promise| {
            for _ in 0..round % 11 {
                std::hint::spin_loop();
            }
            promise.set_result(round).unwrap();
        },
        move |round, mut receiver| {
            let seen = seen.clone();
            receiver.add_done_callback(move |outcome| {
                assert_eq!(outcome, Ok(&round));
                seen.fetch_add(1, Ordering::SeqCst);
            });
            // Callbacks run before the receiver can take the value.
            assert_eq!(wait(receiver), Ok(round));
        },
    );
    assert_eq!(calls.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn of_two_clones_racing_exactly_one_sets_the_value() {
    let losers = Arc::new(AtomicUsize::new(0));
    let lost = losers.clone();
    race(
        |_| oneshot::channel::<usize>(),
        move |round, promise| {
            let twin = promise.clone();
            let other = thread::scope(|scope| {
                let other = scope.spawn(move || twin.set_result(round + 1).is_err());
                let mine = promise.set_result(round).is_err();
                usize::from(mine) + usize::from(other.join().unwrap())
            });
            lost.fetch_add(other, Ordering::SeqCst);
        },
        |round, receiver| {
            let value = wait(receiver).unwrap();
            assert!(
                value == round || value == round + 1,
                "{value} in round {round}"
            );
        },
    );
    assert_eq!(losers.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn the_last_promise_dropped_while_waiting_wakes_with_recv_error() {
    race(
        |_| oneshot::channel::<usize>(),
        |round, promise| {
            let twin = promise.clone();
            for _ in 0..round % 5 {
                std::hint::spin_loop();
            }
            drop(promise);
            drop(twin);
        },
        |_, receiver| assert_eq!(wait(receiver), Err(RecvError)),
    );
}

/// A waker of its own for this thread, told apart from the others by its address.
fn own_waker() -> (Arc<Unpark>, Waker) {
    let unpark = Arc::new(Unpark(thread::current()));
    (unpark.clone(), Waker::from(unpark))
}

#[test]
fn a_waker_replaced_while_the_value_is_set_is_woken_and_dropped_once() {
    let wakers = std::sync::Mutex::new(Vec::new());
    race(
        |_| oneshot::channel(),
        set_after_a_varying_spin,
        |round, mut receiver| {
            // Wait with one waker, then go on waiting with another: the channel must swap
            // them while the value may be landing, and wake (and drop) the right one.
            let (first, first_waker) = own_waker();
            let (second, second_waker) = own_waker();
            let outcome = match Pin::new(&mut receiver).poll(&mut Context::from_waker(&first_waker))
            {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => loop {
                    let mut cx = Context::from_waker(&second_waker);
                    if let Poll::Ready(outcome) = Pin::new(&mut receiver).poll(&mut cx) {
                        break outcome;
                    }
                    thread::park();
                },
            };
            assert_eq!(outcome, Ok(round));
            wakers.lock().unwrap().extend([first, second]);
        },
    );
    // The promise woke (and dropped) what it took, the receiver dropped what it took back.
    for waker in wakers.into_inner().unwrap() {
        assert_eq!(Arc::strong_count(&waker), 1, "a waker clone leaked");
    }
}

#[test]
fn a_waiting_receiver_and_its_promise_dropped_at_once_drop_the_waker_once() {
    let wakers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = wakers.clone();
    race(
        |_| oneshot::channel::<usize>(),
        |round, promise| {
            for _ in 0..round % 5 {
                std::hint::spin_loop();
            }
            drop(promise);
        },
        move |_, mut receiver| {
            let (unpark, waker) = own_waker();
            let _ = Pin::new(&mut receiver).poll(&mut Context::from_waker(&waker));
            drop(receiver);
            kept.lock().unwrap().push(unpark);
        },
    );
    for waker in wakers.lock().unwrap().iter() {
        assert_eq!(Arc::strong_count(waker), 1, "a waker clone leaked");
    }
}
