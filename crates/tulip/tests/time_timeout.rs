//! `time::timeout` / `timeout_at` / `Timeout` (asyncio 3.11's `asyncio.timeout`) on the test
//! clock: the deadline ending a run exactly, rescheduled later and earlier from inside the run
//! and from another task, removed and set again, `expired()`, one `Timeout` reused for several
//! runs and shared by concurrent ones, and a timeout made outside a loop.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tulip::time::{Instant, Timeout, sleep, timeout, timeout_at};

const SEC: Duration = Duration::from_secs(1);

#[tulip::test(test_clock)]
async fn the_deadline_ends_the_run_exactly_and_drops_the_work() {
    let start = Instant::now();
    let deadline = timeout(3 * SEC);
    assert_eq!(deadline.when(), Some(start + 3 * SEC));
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let flag = Flag(dropped.clone());
    let result = deadline
        .run(async move {
            let _flag = flag;
            sleep(10 * SEC).await;
        })
        .await;
    assert!(result.is_err());
    assert!(dropped.get());
    assert!(deadline.expired());
    assert_eq!(start.elapsed(), 3 * SEC);
}

#[tulip::test(test_clock)]
async fn rescheduled_later_from_inside_the_run() {
    let start = Instant::now();
    let deadline = timeout(2 * SEC);
    let result = deadline
        .run(async {
            sleep(SEC).await;
            deadline.reschedule(Some(start + 10 * SEC));
            sleep(5 * SEC).await;
            "finished"
        })
        .await;
    assert_eq!(result, Ok("finished"));
    assert!(!deadline.expired());
    assert_eq!(start.elapsed(), 6 * SEC);
}

#[tulip::test(test_clock)]
async fn rescheduled_earlier_from_another_task() {
    let start = Instant::now();
    let deadline = Rc::new(timeout(100 * SEC));
    let other = deadline.clone();
    let _mover = tulip::spawn(async move {
        sleep(2 * SEC).await;
        other.reschedule(Some(Instant::now() + SEC));
    });
    let result = deadline.run(sleep(50 * SEC)).await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), 3 * SEC);
}

#[tulip::test(test_clock)]
async fn a_deadline_moved_into_the_past_ends_the_run_at_once() {
    let start = Instant::now();
    let deadline = timeout(100 * SEC);
    let result = deadline
        .run(async {
            sleep(SEC).await;
            deadline.reschedule(Some(start));
            sleep(SEC).await;
        })
        .await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), SEC);
}

#[tulip::test(test_clock)]
async fn never_then_set_while_running() {
    let start = Instant::now();
    let deadline = Timeout::never();
    let result = deadline
        .run(async {
            sleep(4 * SEC).await;
            deadline.reschedule(Some(Instant::now() + SEC));
            sleep(4 * SEC).await;
        })
        .await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), 5 * SEC);
    // And removed again: the run goes to its end.
    deadline.reschedule(None);
    assert!(!deadline.expired(), "a reschedule clears expired");
    assert_eq!(deadline.run(sleep(60 * SEC)).await, Ok(()));
}

#[tulip::test(test_clock)]
async fn one_deadline_for_several_runs_one_after_another_and_at_once() {
    let start = Instant::now();
    let deadline = timeout_at(start + 5 * SEC);
    assert_eq!(deadline.run(sleep(2 * SEC)).await, Ok(()));
    assert_eq!(deadline.run(sleep(2 * SEC)).await, Ok(()));
    // Both of these end at the shared deadline (5 s).
    let (a, b) = tulip::gather!(deadline.run(sleep(9 * SEC)), deadline.run(sleep(7 * SEC))).await;
    assert!(a.is_err() && b.is_err());
    assert_eq!(start.elapsed(), 5 * SEC);
}

#[test]
fn a_timeout_made_outside_a_loop_counts_from_its_first_run() {
    let deadline = timeout(3 * SEC);
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async {
        sleep(10 * SEC).await;
        let start = Instant::now();
        assert!(deadline.run(sleep(5 * SEC)).await.is_err());
        assert_eq!(start.elapsed(), 3 * SEC);
    });
}
