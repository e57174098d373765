//! `sync::Event`: `set` wakes every waiter, `clear` makes later waits wait, `is_set`; a
//! waiter woken by `set` returns even if the flag is cleared before it runs; a dropped waiter
//! leaves no trace; the seed's two-events program on the test clock.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tulip::sync::Event;
use tulip::time::{Instant, sleep};

fn poll<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn set_clear_and_is_set() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.set();
    assert!(event.is_set(), "setting twice is harmless");
    event.clear();
    assert!(!event.is_set());
    assert_eq!(format!("{event:?}"), "Event { set: false, waiters: 0 }");
    assert!(!Event::default().is_set());
}

#[tulip::test(test_clock)]
async fn set_wakes_every_waiter_at_that_moment() {
    let event = Rc::new(Event::new());
    let start = Instant::now();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let event = event.clone();
            tulip::spawn(async move {
                event.wait().await;
                start.elapsed()
            })
        })
        .collect();
    sleep(Duration::from_secs(2)).await;
    event.set();
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), Duration::from_secs(2));
    }
    event.wait().await; // already set: at once
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tulip::test(test_clock)]
async fn a_woken_waiter_returns_even_if_cleared_before_it_runs() {
    let event = Rc::new(Event::new());
    let waiter = tulip::spawn({
        let event = event.clone();
        async move { event.wait().await }
    });
    tulip::task::yield_now().await;
    event.set();
    event.clear();
    waiter.await.unwrap();

    let late = tulip::spawn({
        let event = event.clone();
        async move { event.wait().await }
    });
    sleep(Duration::from_secs(5)).await;
    assert!(!late.is_finished(), "cleared: a new wait waits");
    event.set();
    late.await.unwrap();
}

#[test]
fn a_dropped_waiter_leaves_no_trace() {
    let event = Event::new();
    let mut waiter = Box::pin(event.wait());
    assert!(poll(waiter.as_mut()).is_pending());
    assert!(format!("{event:?}").contains("waiters: 1"));
    drop(waiter);
    assert!(format!("{event:?}").contains("waiters: 0"));
    event.set();
    let mut after = Box::pin(event.wait());
    assert!(poll(after.as_mut()).is_ready());
}

/// The seed's `test6.py`: waiters on two events, set by the answers of three "requests".
#[tulip::test(test_clock)]
async fn the_seed_program_wakes_the_right_waiters() {
    let big = Rc::new(Event::new());
    let small = Rc::new(Event::new());
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let start = Instant::now();
    let spawn_waiter = |name: &'static str, event: &Rc<Event>| {
        let (event, log) = (event.clone(), log.clone());
        tulip::spawn(async move {
            event.wait().await;
            log.borrow_mut().push((start.elapsed().as_millis(), name));
        })
    };
    let waiters = [
        spawn_waiter("big waiter", &small),
        spawn_waiter("big waiter", &small),
        spawn_waiter("small waiter", &big),
        spawn_waiter("small waiter", &big),
    ];
    let answers = [0.98, 0.33, 0.41];
    let requests: Vec<_> = answers
        .into_iter()
        .enumerate()
        .map(|(i, answer)| {
            let (big, small, log) = (big.clone(), small.clone(), log.clone());
            tulip::spawn(async move {
                sleep(Duration::from_millis(1000 + 10 * i as u64)).await;
                log.borrow_mut()
                    .push((start.elapsed().as_millis(), "response"));
                if answer > 0.5 { big.set() } else { small.set() }
            })
        })
        .collect();
    for task in requests.into_iter().chain(waiters) {
        task.await.unwrap();
    }
    assert_eq!(
        *log.borrow(),
        [
            (1000, "response"),
            (1000, "small waiter"),
            (1000, "small waiter"),
            (1010, "response"),
            (1010, "big waiter"),
            (1010, "big waiter"),
            (1020, "response"),
        ]
    );
}
