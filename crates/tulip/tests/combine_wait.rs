//! `combine::wait` on the test clock: `FirstCompleted` returns at the first completion with the
//! right `done` and `pending`, pending tasks keep running and can be waited on again,
//! `FirstException` stops at a panic but not at an `Err` value or a cancellation,
//! `AllCompleted`, the timeout (nothing cancelled), tasks finishing together, no tasks.

use std::time::Duration;

use tulip::Task;
use tulip::combine::{ReturnWhen, wait};
use tulip::time::{Instant, sleep};

const SEC: Duration = Duration::from_secs(1);

fn after(secs: u64) -> Task<u64> {
    tulip::spawn(async move {
        sleep(Duration::from_secs(secs)).await;
        secs
    })
}

fn values(done: Vec<tulip::combine::Done<u64>>) -> Vec<u64> {
    done.into_iter().map(|d| d.into_result().unwrap()).collect()
}

#[tulip::test(test_clock)]
async fn first_completed_returns_at_the_first_completion_with_the_rest_pending() {
    let start = Instant::now();
    let tasks = vec![after(4), after(1), after(2)];
    let ids: Vec<_> = tasks.iter().map(Task::id).collect();
    let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
    assert_eq!(start.elapsed(), SEC);
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].index(), done[0].id()), (1, ids[1]));
    assert_eq!(done[0].result().ok(), Some(&1));
    let pending_ids: Vec<_> = pending.iter().map(Task::id).collect();
    assert_eq!(pending_ids, [ids[0], ids[2]], "input order");
    assert!(pending.iter().all(|t| !t.is_finished()));

    // The pending tasks kept running: the next one is done at 2 s, the last at 4 s.
    let (done, pending) = wait(pending, ReturnWhen::FirstCompleted, None).await;
    assert_eq!(start.elapsed(), 2 * SEC);
    assert_eq!(values(done), [2]);
    let [last] = <[Task<u64>; 1]>::try_from(pending).unwrap();
    assert_eq!(last.await.unwrap(), 4);
    assert_eq!(start.elapsed(), 4 * SEC);
}

#[tulip::test(test_clock)]
async fn all_completed_waits_for_every_task_and_lists_them_in_input_order() {
    let start = Instant::now();
    let (done, pending) = wait(
        [after(1), after(4), after(2)],
        ReturnWhen::AllCompleted,
        None,
    )
    .await;
    assert_eq!(start.elapsed(), 4 * SEC);
    assert!(pending.is_empty());
    assert_eq!(values(done), [1, 4, 2]);
}

#[tulip::test(test_clock)]
async fn tasks_finishing_in_the_same_instant_are_all_done() {
    let start = Instant::now();
    let (done, pending) = wait(
        [after(3), after(2), after(2), after(5)],
        ReturnWhen::FirstCompleted,
        None,
    )
    .await;
    assert_eq!(start.elapsed(), 2 * SEC);
    assert_eq!(values(done), [2, 2]);
    assert_eq!(pending.len(), 2);
    for task in pending {
        task.cancel();
    }
}

#[tulip::test(test_clock)]
async fn first_exception_stops_at_a_panic_only() {
    let start = Instant::now();
    let returns_err: Task<Result<(), &str>> = tulip::spawn(async {
        sleep(SEC).await;
        Err("a value, not a failure")
    });
    let cancelled: Task<Result<(), &str>> = tulip::spawn(std::future::pending());
    cancelled.cancel();
    let panics: Task<Result<(), &str>> = tulip::spawn(async {
        sleep(2 * SEC).await;
        panic!("boom")
    });
    let slow: Task<Result<(), &str>> = tulip::spawn(async {
        sleep(9 * SEC).await;
        Ok(())
    });
    let (done, pending) = wait(
        [returns_err, cancelled, panics, slow],
        ReturnWhen::FirstException,
        None,
    )
    .await;
    assert_eq!(start.elapsed(), 2 * SEC);
    let indices: Vec<_> = done.iter().map(|d| d.index()).collect();
    assert_eq!(indices, [0, 1, 2]);
    assert!(done[1].result().unwrap_err().is_cancelled());
    assert_eq!(done[2].result().unwrap_err().panic_message(), Some("boom"));
    assert_eq!(pending.len(), 1);

    // Without a panic, FirstException waits for all.
    let (done, pending) = wait(pending, ReturnWhen::FirstException, None).await;
    assert_eq!(start.elapsed(), 9 * SEC);
    assert_eq!((done.len(), pending.len()), (1, 0));
}

#[tulip::test(test_clock)]
async fn the_timeout_ends_the_wait_without_cancelling_anything() {
    let start = Instant::now();
    let (done, pending) = wait(
        [after(1), after(5), after(7)],
        ReturnWhen::AllCompleted,
        Some(3 * SEC),
    )
    .await;
    assert_eq!(start.elapsed(), 3 * SEC);
    assert_eq!(values(done), [1]);
    assert_eq!(pending.len(), 2);
    let (done, _) = wait(pending, ReturnWhen::AllCompleted, None).await;
    assert_eq!(values(done), [5, 7]);
    assert_eq!(start.elapsed(), 7 * SEC);

    // A zero timeout collects what has finished already and returns at once.
    let finished = after(0);
    tulip::task::yield_now().await;
    let (done, pending) = wait(
        [finished, after(1)],
        ReturnWhen::AllCompleted,
        Some(Duration::ZERO),
    )
    .await;
    assert_eq!((values(done), pending.len()), (vec![0], 1));
    assert_eq!(start.elapsed(), 7 * SEC);
    for task in pending {
        task.cancel();
    }
}

#[tulip::test(test_clock)]
async fn no_tasks_means_nothing_done_nothing_pending_at_once() {
    let (done, pending) = wait(Vec::<Task<()>>::new(), ReturnWhen::FirstCompleted, None).await;
    assert!(done.is_empty() && pending.is_empty());
}

#[tulip::test(test_clock)]
async fn a_dropped_wait_leaves_its_tasks_running() {
    let start = Instant::now();
    let t = after(5);
    let id = t.id();
    let gave_up = tulip::time::wait_for(SEC, wait([t], ReturnWhen::AllCompleted, None)).await;
    assert!(gave_up.is_err());
    assert_eq!(tulip::task::all_tasks()[0].id(), id);
    sleep(5 * SEC).await;
    assert!(tulip::task::all_tasks().is_empty());
    assert_eq!(start.elapsed(), 6 * SEC);
}
