//! `time::wait_for` on the test clock: the output when the future is in time, `Elapsed`
//! exactly at the deadline with the future dropped there (a drop guard records when), a future
//! completing at the deadline itself winning, a zero timeout, task handles detached or, with
//! `CancelOnDrop`, cancelled, and the timer disarmed when the future wins.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tulip::combine::CancelOnDrop;
use tulip::time::{Elapsed, Instant, sleep, wait_for};

const SEC: Duration = Duration::from_secs(1);

/// Records the virtual time at which it is dropped.
struct DropAt {
    start: Instant,
    at: Rc<Cell<Option<Duration>>>,
}

impl Drop for DropAt {
    fn drop(&mut self) {
        self.at.set(Some(self.start.elapsed()));
    }
}

#[tulip::test(test_clock)]
async fn in_time_gives_the_output() {
    let start = Instant::now();
    let out = wait_for(5 * SEC, async {
        sleep(2 * SEC).await;
        "in time"
    })
    .await;
    assert_eq!(out, Ok("in time"));
    assert_eq!(start.elapsed(), 2 * SEC);
}

#[tulip::test(test_clock)]
async fn late_gives_elapsed_exactly_at_the_deadline_having_dropped_the_future() {
    let start = Instant::now();
    let dropped_at = Rc::new(Cell::new(None));
    let guard = DropAt {
        start,
        at: dropped_at.clone(),
    };
    let out = wait_for(5 * SEC, async move {
        let _guard = guard;
        sleep(10 * SEC).await;
        "too late"
    })
    .await;
    assert_eq!(out.unwrap_err().to_string(), "deadline has elapsed");
    assert_eq!(start.elapsed(), 5 * SEC);
    assert_eq!(
        dropped_at.get(),
        Some(5 * SEC),
        "dropped at the deadline, before returning"
    );
}

#[tulip::test(test_clock)]
async fn a_future_completing_at_the_deadline_itself_wins() {
    let out = wait_for(3 * SEC, sleep(3 * SEC)).await;
    assert_eq!(out, Ok(()));
}

#[tulip::test(test_clock)]
async fn a_zero_timeout_still_lets_a_ready_future_complete() {
    assert_eq!(wait_for(Duration::ZERO, async { 7 }).await, Ok(7));
    let start = Instant::now();
    assert!(wait_for(Duration::ZERO, sleep(SEC)).await.is_err());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tulip::test(test_clock)]
async fn a_task_handle_is_detached_on_timeout_unless_cancel_on_drop() {
    let finished = Rc::new(Cell::new(false));
    let flag = finished.clone();
    let task = tulip::spawn(async move {
        sleep(3 * SEC).await;
        flag.set(true);
    });
    assert!(wait_for(SEC, task).await.is_err());
    sleep(3 * SEC).await;
    assert!(finished.get(), "the detached task ran to its end");

    let dropped_at = Rc::new(Cell::new(None));
    let guard = DropAt {
        start: Instant::now(),
        at: dropped_at.clone(),
    };
    let task = tulip::spawn(async move {
        let _guard = guard;
        sleep(3 * SEC).await;
    });
    assert!(wait_for(SEC, CancelOnDrop::new(task)).await.is_err());
    tulip::task::yield_now().await;
    assert_eq!(dropped_at.get(), Some(SEC), "cancelled at the deadline");
    assert!(tulip::task::all_tasks().is_empty());

    // Borrowed, the task stays with the caller, who decides.
    let mut task = tulip::spawn(sleep(3 * SEC));
    assert!(wait_for(SEC, &mut task).await.is_err());
    assert!(wait_for(5 * SEC, &mut task).await.unwrap().is_ok());
}

#[tulip::test(test_clock)]
async fn a_won_race_leaves_no_timer_behind() {
    let start = Instant::now();
    for _ in 0..1000 {
        wait_for(3600 * SEC, tulip::task::yield_now())
            .await
            .unwrap();
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    // Any hour-long timer still armed would fire at 3600 s and wake this future early.
    let polls = Cell::new(0);
    let out: Result<(), Elapsed> = wait_for(
        7200 * SEC,
        std::future::poll_fn(|_| {
            polls.set(polls.get() + 1);
            std::task::Poll::Pending
        }),
    )
    .await;
    assert!(out.is_err());
    assert_eq!(start.elapsed(), 7200 * SEC);
    assert_eq!(
        polls.get(),
        2,
        "polled when armed and at its own deadline, never between"
    );
}

#[test]
fn armed_on_one_loop_then_awaited_on_another_keeps_its_deadline() {
    let mut first = tulip::Runtime::builder().test_clock().build().unwrap();
    let mut second = tulip::Runtime::builder().test_clock().build().unwrap();
    let mut waiting = Box::pin(wait_for(5 * SEC, std::future::pending::<()>()));
    first.block_on(async {
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(waiting.as_mut().poll(cx).is_ready()));
        assert!(!polled.await, "armed on the first loop");
    });
    assert!(waiting.deadline().is_some());
    second.block_on(async {
        let start = Instant::now();
        assert!(waiting.await.is_err());
        // The same instant, read on the second loop's clock (which started a little later).
        assert!(start.elapsed() <= 5 * SEC && start.elapsed() > 4 * SEC);
    });
}
