//! `TaskGroup` on the test clock: values in spawn order, the first failure cancelling every
//! sibling at that instant (observed by drop guards), every failure reported (errors and
//! panics, several at once), siblings cancelled by the group not counted, dropping the group
//! or the `join` future cancelling the children, and no task left over.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tulip::TaskGroup;
use tulip::combine::Failure;
use tulip::time::{Instant, sleep};

const SEC: Duration = Duration::from_secs(1);

#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, line: String) {
        self.0.borrow_mut().push(line);
    }

    fn sorted(&self) -> Vec<String> {
        let mut lines = self.0.borrow().clone();
        lines.sort();
        lines
    }
}

struct Guard {
    name: &'static str,
    log: Log,
    start: Instant,
    finished: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.finished {
            let at = self.start.elapsed().as_secs();
            self.log.push(format!("{} cancelled at {at}", self.name));
        }
    }
}

/// Sleeps `secs` then returns `outcome`; logs a cancellation if dropped first.
async fn child<T>(
    log: Log,
    name: &'static str,
    secs: u64,
    outcome: Result<T, String>,
) -> Result<T, String> {
    let start = Instant::now();
    let mut guard = Guard {
        name,
        log,
        start,
        finished: false,
    };
    sleep(Duration::from_secs(secs)).await;
    guard.finished = true;
    outcome
}

#[tulip::test(test_clock)]
async fn values_come_back_in_spawn_order() {
    let log = Log::default();
    let start = Instant::now();
    let mut group = TaskGroup::new();
    for (i, secs) in [3, 1, 2].into_iter().enumerate() {
        group.spawn(child(log.clone(), "c", secs, Ok(i)));
    }
    assert_eq!(group.len(), 3);
    assert_eq!(group.join().await.unwrap(), [0, 1, 2]);
    assert_eq!(start.elapsed(), 3 * SEC);
    assert!(log.sorted().is_empty());
    assert!(TaskGroup::<(), ()>::new().join().await.unwrap().is_empty());
}

#[tulip::test(test_clock)]
async fn the_first_failure_cancels_every_sibling_at_once() {
    let log = Log::default();
    let start = Instant::now();
    let mut group = TaskGroup::<u8, String>::new();
    group.spawn(child(log.clone(), "quick", 1, Ok(1)));
    group.spawn(child(log.clone(), "failing", 2, Err("disk full".into())));
    group.spawn(child(log.clone(), "slow", 10, Ok(3)));
    group.spawn(child(log.clone(), "slower", 20, Ok(4)));
    let err = group.join().await.unwrap_err();
    assert_eq!(start.elapsed(), 2 * SEC);
    assert_eq!(
        log.sorted(),
        ["slow cancelled at 2", "slower cancelled at 2"]
    );
    assert_eq!(
        err.failures().len(),
        1,
        "siblings cancelled by the group are no failures"
    );
    match &err.failures()[0] {
        Failure::Error { child, error, .. } => {
            assert_eq!((*child, error.as_str()), (1, "disk full"))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        tulip::task::all_tasks().is_empty(),
        "join returned after they unwound"
    );
}

#[tulip::test(test_clock)]
async fn every_failure_is_reported_errors_and_panics_alike() {
    let log = Log::default();
    let mut group = TaskGroup::<(), String>::new();
    group.spawn(child(log.clone(), "a", 2, Err("a failed".into())));
    let panicker = group.spawn(async {
        sleep(2 * SEC).await;
        panic!("b panicked")
    });
    group.spawn(child(log.clone(), "c", 2, Err("c failed".into())));
    group.spawn(child(log.clone(), "d", 3, Ok(())));
    let err = group.join().await.unwrap_err();
    let children: Vec<usize> = err.failures().iter().map(Failure::child).collect();
    assert_eq!(
        children,
        [0, 1, 2],
        "the three that failed at 2 s, in the order they did"
    );
    assert_eq!(
        err.failures()[0].error().map(String::as_str),
        Some("a failed")
    );
    assert!(err.failures()[1].is_panic());
    assert_eq!(err.failures()[1].id(), panicker);
    assert_eq!(log.sorted(), ["d cancelled at 2"]);
    assert_eq!(
        err.to_string(),
        format!(
            "3 tasks of the group failed: child 0 failed: a failed; child 1: task {panicker} panicked: b panicked; child 2 failed: c failed"
        )
    );
}

#[test]
fn a_child_cancelled_by_the_loop_closing_counts_as_a_failure() {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    // The join future is made on the loop (spawning needs one) and polled after it closed.
    #[allow(clippy::async_yields_async)]
    let mut join = rt.block_on(async {
        let mut group = TaskGroup::<(), ()>::new();
        group.spawn(std::future::pending());
        group.join()
    });
    // Closing the loop cancels the child: the one canceller outside the group.
    rt.close();
    let polled = Pin::new(&mut join).poll(&mut Context::from_waker(Waker::noop()));
    let Poll::Ready(Err(err)) = polled else {
        panic!("the child was cancelled, the join is over: {polled:?}");
    };
    assert!(matches!(&err.failures()[0], Failure::Join { error, .. } if error.is_cancelled()));
}

#[tulip::test(test_clock)]
async fn dropping_the_group_cancels_its_children() {
    let log = Log::default();
    let mut group = TaskGroup::<(), String>::new();
    group.spawn(child(log.clone(), "a", 5, Ok(())));
    group.spawn(child(log.clone(), "b", 6, Ok(())));
    sleep(SEC).await;
    drop(group);
    tulip::task::yield_now().await;
    assert_eq!(log.sorted(), ["a cancelled at 1", "b cancelled at 1"]);
    assert!(tulip::task::all_tasks().is_empty());
}

#[tulip::test(test_clock)]
async fn cancelling_the_joining_task_cancels_the_children() {
    let log = Log::default();
    let children = log.clone();
    let joiner = tulip::spawn(async move {
        let mut group = TaskGroup::<(), String>::new();
        group.spawn(child(children.clone(), "a", 5, Ok(())));
        group.spawn(child(children, "b", 1, Ok(())));
        group.join().await
    });
    sleep(2 * SEC).await;
    joiner.cancel();
    assert!(joiner.await.unwrap_err().is_cancelled());
    tulip::task::yield_now().await;
    assert_eq!(log.sorted(), ["a cancelled at 2"]);
    assert!(tulip::task::all_tasks().is_empty());
}

#[tulip::test(test_clock)]
async fn a_timeout_on_join_cancels_the_children_too() {
    let log = Log::default();
    let mut group = TaskGroup::<(), String>::new();
    group.spawn(child(log.clone(), "a", 5, Ok(())));
    let result = tulip::time::wait_for(2 * SEC, group.join()).await;
    assert!(result.is_err());
    tulip::task::yield_now().await;
    assert_eq!(log.sorted(), ["a cancelled at 2"]);
    assert!(tulip::task::all_tasks().is_empty());
}
