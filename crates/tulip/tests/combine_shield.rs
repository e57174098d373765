//! `shield` on the test clock: the inner work keeps running when the task awaiting it is
//! cancelled or a timeout gives up on it, and its result can still be collected; a panic or a
//! direct cancellation of the inner task shows as a `JoinError`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tulip::shield;
use tulip::time::{Instant, sleep, wait_for};

const SEC: Duration = Duration::from_secs(1);

#[tulip::test(test_clock)]
async fn the_inner_work_outlives_the_cancelled_outer_task() {
    let start = Instant::now();
    let finished_at = Rc::new(Cell::new(None));
    let record = finished_at.clone();
    let outer = tulip::spawn(async move {
        let result = shield(async move {
            sleep(5 * SEC).await;
            record.set(Some(start.elapsed()));
            "saved"
        })
        .await;
        unreachable!("the outer task is cancelled before the work ends: {result:?}");
    });
    sleep(2 * SEC).await;
    assert!(outer.cancel());
    assert!(outer.await.unwrap_err().is_cancelled());
    assert_eq!(start.elapsed(), 2 * SEC);
    assert_eq!(
        tulip::task::all_tasks().len(),
        1,
        "the shielded work runs on"
    );
    sleep(10 * SEC).await;
    assert_eq!(finished_at.get(), Some(5 * SEC));
    assert!(tulip::task::all_tasks().is_empty());
}

#[tulip::test(test_clock)]
async fn the_result_stays_retrievable_after_a_timeout() {
    let start = Instant::now();
    let mut work = shield(async {
        sleep(5 * SEC).await;
        42
    });
    assert!(wait_for(SEC, &mut work).await.is_err());
    assert!(wait_for(SEC, &mut work).await.is_err());
    assert!(!work.is_finished());
    assert_eq!(work.await.unwrap(), 42);
    assert_eq!(start.elapsed(), 5 * SEC);
}

#[tulip::test(test_clock)]
async fn a_shielded_task_that_already_exists() {
    let task = tulip::spawn(async {
        sleep(3 * SEC).await;
        "existing"
    });
    let mut shielded = tulip::combine::Shield::from(task);
    assert!(wait_for(SEC, &mut shielded).await.is_err());
    assert_eq!(shielded.await.unwrap(), "existing");
}

#[tulip::test(test_clock)]
async fn panics_and_direct_cancellation_come_back_as_join_errors() {
    let panicking = shield(async { panic!("inside") });
    assert_eq!(panicking.await.unwrap_err().panic_message(), Some("inside"));

    let cancelled = shield(sleep(5 * SEC));
    assert!(cancelled.task().cancel());
    assert!(cancelled.await.unwrap_err().is_cancelled());
}
