//! `time::sleep` and `sleep_until` on the test clock (exact virtual durations), `Sleep::reset`
//! earlier and later, dropping a pending `Sleep`, and one sleep on the real clock.

mod support;

use support::watchdog;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tulip::Runtime;
use tulip::sync::oneshot;
use tulip::time::{Instant, Sleep, sleep, sleep_until};

fn test_clock() -> Runtime {
    Runtime::builder().test_clock().build().unwrap()
}

/// Polls `sleep` once (arming its timer) and says whether it completed.
async fn poll_once(sleep: &mut Sleep) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *sleep).poll(cx).is_ready())).await
}

const SEC: Duration = Duration::from_secs(1);

#[test]
fn concurrent_sleeps_overlap_and_sequential_ones_add_up() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..3).map(|_| tulip::spawn(sleep(SEC))).collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(start.elapsed(), SEC, "three 1 s sleeps at once take 1 s");

        let start = Instant::now();
        for _ in 0..3 {
            sleep(SEC).await;
        }
        assert_eq!(start.elapsed(), 3 * SEC, "one after another they take 3 s");
    });
}

#[test]
fn sleeps_are_exact_to_the_nanosecond() {
    let mut rt = test_clock();
    rt.block_on(async {
        for d in [
            Duration::from_nanos(1),
            Duration::from_micros(1_300),
            Duration::from_millis(1),
            Duration::new(86_400, 123_456_789),
        ] {
            let start = Instant::now();
            sleep(d).await;
            assert_eq!(start.elapsed(), d);
        }
    });
}

#[test]
fn a_zero_sleep_completes_without_moving_the_clock() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::ZERO).await;
        let mut past = sleep_until(start - SEC);
        assert!(past.is_elapsed());
        assert!(
            poll_once(&mut past).await,
            "a deadline in the past is ready at once"
        );
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn a_sleep_passed_to_block_on_counts_on_the_loops_clock() {
    let mut rt = test_clock();
    let start = rt.time();
    rt.block_on(sleep(Duration::from_secs(3600)));
    assert_eq!(rt.time() - start, Duration::from_secs(3600));
}

#[test]
fn sleep_until_wakes_at_the_deadline() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(2_500);
        let s = sleep_until(deadline);
        assert_eq!(s.deadline(), deadline);
        assert!(!s.is_elapsed());
        s.await;
        assert_eq!(Instant::now(), deadline);
        assert!(sleep_until(deadline).is_elapsed());

        // Several deadlines awaited out of order by tasks finish in deadline order.
        let base = Instant::now();
        let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let tasks: Vec<_> = [3u64, 1, 2]
            .into_iter()
            .map(|s| {
                let order = order.clone();
                tulip::spawn(async move {
                    sleep_until(base + Duration::from_secs(s)).await;
                    order.borrow_mut().push((s, Instant::now() - base));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.borrow(), [(1, SEC), (2, 2 * SEC), (3, 3 * SEC)]);
    });
}

#[test]
fn reset_to_an_earlier_deadline() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(10));
        assert!(!poll_once(&mut s).await, "armed for 10 s");
        s.reset(start + 2 * SEC);
        assert_eq!(s.deadline(), start + 2 * SEC);
        s.await;
        assert_eq!(start.elapsed(), 2 * SEC);
    });
}

#[test]
fn reset_to_a_later_deadline_ignores_the_old_timer() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut s = sleep(SEC);
        assert!(!poll_once(&mut s).await);
        s.reset(start + 5 * SEC);
        // The old 1 s timer must neither complete the sleep early nor be waited for.
        (&mut s).await;
        assert_eq!(start.elapsed(), 5 * SEC);

        // A completed sleep can be reset and awaited again.
        s.reset(Instant::now() + 2 * SEC);
        assert!(!s.is_elapsed());
        s.await;
        assert_eq!(start.elapsed(), 7 * SEC);
    });
}

#[test]
fn reset_while_another_task_watches() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let sleeper = tulip::spawn(async move {
            let mut s = sleep(SEC);
            assert!(!poll_once(&mut s).await);
            s.reset(start + 4 * SEC);
            s.await;
            Instant::now() - start
        });
        sleep(2 * SEC).await;
        assert!(
            !sleeper.is_finished(),
            "not woken by the discarded 1 s timer"
        );
        assert_eq!(sleeper.await.unwrap(), 4 * SEC);
    });
}

#[test]
fn a_dropped_pending_sleep_leaves_no_timer_behind() {
    let _watchdog = watchdog("a_dropped_pending_sleep_leaves_no_timer_behind");
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut s = sleep(5 * SEC);
        assert!(!poll_once(&mut s).await, "armed");
        drop(s);
        // A task suspended in a sleep and cancelled drops its timer too.
        let sleeper = tulip::spawn(sleep(7 * SEC));
        tulip::task::yield_now().await;
        sleeper.cancel();
        assert!(sleeper.await.unwrap_err().is_cancelled());

        // Now nothing is armed. Wait for another thread: the test clock jumps only to armed
        // timers, so if either timer were left behind the clock would move to it meanwhile.
        let (promise, rx) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            // Not needed for correctness: it only makes it likely that the loop is idle, the
            // moment a leftover timer would make the test clock jump, before the answer comes.
            std::thread::sleep(Duration::from_millis(20));
            promise.set_result("from the thread").unwrap();
        });
        assert_eq!(rx.await.unwrap(), "from the thread");
        thread.join().unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn a_real_clock_sleep_completes() {
    let mut rt = Runtime::builder().real_clock().build().unwrap();
    let start = rt.time();
    rt.block_on(sleep(Duration::from_millis(5)));
    assert!(rt.time() > start);
    rt.block_on(async {
        let s = sleep(Duration::from_millis(5));
        let deadline = s.deadline();
        s.await;
        assert!(Instant::now() >= deadline, "never wakes early");
    });
}
