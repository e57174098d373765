//! `gather!`, `try_gather!`, `gather_all` and `try_gather_all` on the test clock: outputs in
//! argument order whatever the completion order, concurrency (the longest, not the sum), the
//! first error winning and the others dropped at that instant, dropping a gather (its task
//! cancelled) dropping every child, task handles detached or, as `CancelOnDrop`, cancelled,
//! and a large gather polling each child only when it woke.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::time::Duration;

use tulip::combine::{CancelOnDrop, try_gather_all};
use tulip::time::{Instant, sleep};
use tulip::{gather, gather_all, try_gather};

const SEC: Duration = Duration::from_secs(1);

/// What happened to each probe, with the virtual time it happened at.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, line: String) {
        self.0.borrow_mut().push(line);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

/// Logs `name dropped at T` when dropped before it finished.
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
            self.log.push(format!("{} dropped at {at}", self.name));
        }
    }
}

/// Sleeps `secs`, logs its completion, returns `value`; logs a drop if cut short.
async fn probe<T>(log: Log, name: &'static str, secs: u64, value: T) -> T {
    let start = Instant::now();
    let mut guard = Guard {
        name,
        log: log.clone(),
        start,
        finished: false,
    };
    sleep(Duration::from_secs(secs)).await;
    guard.finished = true;
    log.push(format!("{name} done at {}", start.elapsed().as_secs()));
    value
}

#[tulip::test(test_clock)]
async fn gather_macro_keeps_argument_order_and_takes_the_longest() {
    let log = Log::default();
    let start = Instant::now();
    let (a, b, c) = gather!(
        probe(log.clone(), "a", 3, "three"),
        probe(log.clone(), "b", 1, 1u8),
        async { 'c' },
    )
    .await;
    assert_eq!((a, b, c), ("three", 1, 'c'));
    assert_eq!(start.elapsed(), 3 * SEC);
    assert_eq!(log.take(), ["b done at 1", "a done at 3"]);
}

#[tulip::test(test_clock)]
async fn gather_macro_of_one_and_of_task_handles() {
    assert_eq!(gather!(async { 1 }).await, (1,));
    let t = tulip::spawn(async { 2 });
    let (r,) = gather!(t).await;
    assert_eq!(r.unwrap(), 2);
}

#[tulip::test(test_clock)]
async fn try_gather_macro_returns_the_first_error_and_drops_the_rest_then() {
    let log = Log::default();
    let start = Instant::now();
    let failing = async {
        sleep(2 * SEC).await;
        Err::<u8, _>("boom")
    };
    let result = try_gather!(
        async { Ok(probe(log.clone(), "slow", 10, 1u32).await) },
        failing,
        async { Ok(probe(log.clone(), "quick", 1, 'q').await) },
    )
    .await;
    assert_eq!(result, Err("boom"));
    assert_eq!(
        start.elapsed(),
        2 * SEC,
        "the error is returned when it happens"
    );
    assert_eq!(log.take(), ["quick done at 1", "slow dropped at 2"]);

    let ok: Result<_, ()> = try_gather!(async { Ok(1) }, async { Ok("x") }).await;
    assert_eq!(ok, Ok((1, "x")));
}

#[tulip::test(test_clock)]
async fn gather_all_returns_outputs_in_input_order() {
    let log = Log::default();
    let start = Instant::now();
    let secs = [5, 1, 4, 2, 3];
    let futures = secs.map(|s| probe(log.clone(), "p", s, s * 100));
    assert_eq!(gather_all(futures).await, [500, 100, 400, 200, 300]);
    assert_eq!(start.elapsed(), 5 * SEC);
    assert_eq!(log.take().len(), 5);
    assert!(
        gather_all(Vec::<std::future::Ready<()>>::new())
            .await
            .is_empty()
    );
}

#[tulip::test(test_clock)]
async fn gather_all_of_tasks_gives_every_outcome_like_return_exceptions() {
    let tasks = vec![
        tulip::spawn(async { Ok::<_, String>(1) }),
        tulip::spawn(async { panic!("bad") }),
        tulip::spawn(async { Err("no".to_owned()) }),
    ];
    let results = gather_all(tasks).await;
    assert_eq!(results[0].as_ref().unwrap(), &Ok(1));
    assert_eq!(
        results[1].as_ref().unwrap_err().panic_message(),
        Some("bad")
    );
    assert_eq!(results[2].as_ref().unwrap(), &Err("no".to_owned()));
}

#[tulip::test(test_clock)]
async fn try_gather_all_cancels_the_rest_at_the_first_error() {
    let log = Log::default();
    let start = Instant::now();
    type Fetch = std::pin::Pin<Box<dyn Future<Output = Result<u64, String>>>>;
    let futures: Vec<Fetch> = vec![
        Box::pin({
            let log = log.clone();
            async move { Ok(probe(log, "a", 1, 1).await) }
        }),
        Box::pin(async {
            sleep(3 * SEC).await;
            Err("failed at 3".to_owned())
        }),
        Box::pin({
            let log = log.clone();
            async move { Ok(probe(log, "b", 7, 7).await) }
        }),
        Box::pin({
            let log = log.clone();
            async move { Ok(probe(log, "c", 8, 8).await) }
        }),
    ];
    assert_eq!(try_gather_all(futures).await, Err("failed at 3".to_owned()));
    assert_eq!(start.elapsed(), 3 * SEC);
    assert_eq!(
        log.take(),
        ["a done at 1", "b dropped at 3", "c dropped at 3"]
    );
}

#[tulip::test(test_clock)]
async fn try_gather_all_of_cancel_on_drop_tasks_cancels_the_tasks() {
    let slow = tulip::spawn(async {
        sleep(100 * SEC).await;
        Ok::<u8, &str>(1)
    });
    let failing = tulip::spawn(async {
        sleep(SEC).await;
        Err::<u8, &str>("no")
    });
    let flatten = |task: tulip::Task<Result<u8, &'static str>>| {
        let task = CancelOnDrop::new(task);
        async move { task.await.unwrap() }
    };
    let result = try_gather_all([flatten(slow), flatten(failing)]).await;
    assert_eq!(result, Err("no"));
    tulip::task::yield_now().await;
    assert!(
        tulip::task::all_tasks().is_empty(),
        "the slow task was cancelled"
    );
}

#[tulip::test(test_clock)]
async fn cancelling_the_task_that_gathers_drops_every_child_then() {
    let log = Log::default();
    let children = log.clone();
    let gatherer = tulip::spawn(async move {
        let a = probe(children.clone(), "a", 1, ());
        let b = probe(children.clone(), "b", 5, ());
        let c = probe(children.clone(), "c", 9, ());
        let all = gather_all([
            probe(children.clone(), "d", 2, ()),
            probe(children, "e", 6, ()),
        ]);
        gather!(a, b, c, all).await
    });
    sleep(3 * SEC).await;
    assert!(gatherer.cancel());
    assert!(gatherer.await.unwrap_err().is_cancelled());
    let mut lines = log.take();
    lines.sort();
    assert_eq!(
        lines,
        [
            "a done at 1",
            "b dropped at 3",
            "c dropped at 3",
            "d done at 2",
            "e dropped at 3"
        ]
    );
    assert!(tulip::task::all_tasks().is_empty());
}

#[tulip::test(test_clock)]
async fn a_dropped_gather_detaches_plain_tasks_and_cancels_cancel_on_drop_ones() {
    let finished = Rc::new(Cell::new(false));
    let flag = finished.clone();
    let detached = tulip::spawn(async move {
        sleep(2 * SEC).await;
        flag.set(true);
    });
    let cancelled = CancelOnDrop::new(tulip::spawn(sleep(2 * SEC)));
    let cancelled_id = cancelled.task().id();
    let timed_out = tulip::time::wait_for(SEC, gather!(detached, cancelled)).await;
    assert!(timed_out.is_err());
    tulip::task::yield_now().await;
    let ids: Vec<_> = tulip::task::all_tasks().iter().map(|t| t.id()).collect();
    assert_eq!(ids.len(), 1, "the plain task runs on");
    assert!(!ids.contains(&cancelled_id));
    sleep(2 * SEC).await;
    assert!(finished.get());
}

#[tulip::test(test_clock)]
async fn a_big_gather_polls_each_child_only_when_it_woke() {
    const N: u64 = 10_000;
    let polls = Rc::new(Cell::new(0u64));
    let futures = (0..N).map(|i| {
        let polls = polls.clone();
        // Wakes at a different time each (in reverse order), polled twice: armed, then done.
        let mut sleep = Box::pin(sleep(Duration::from_millis(N - i)));
        poll_fn(move |cx| {
            polls.set(polls.get() + 1);
            sleep.as_mut().poll(cx).map(|()| i)
        })
    });
    let start = Instant::now();
    let out = gather_all(futures).await;
    assert_eq!(start.elapsed(), Duration::from_millis(N));
    assert!(out.iter().copied().eq(0..N));
    assert_eq!(polls.get(), 2 * N, "one poll to arm, one when woken");
}

#[tulip::test(test_clock)]
async fn a_child_that_keeps_waking_itself_does_not_starve_the_loop() {
    let ticks = Rc::new(Cell::new(0u32));
    let counter = ticks.clone();
    let other = tulip::spawn(async move {
        for _ in 0..3 {
            counter.set(counter.get() + 1);
            tulip::task::yield_now().await;
        }
    });
    let spinner = async {
        let mut turns = 0u32;
        while ticks.get() < 3 {
            turns += 1;
            assert!(turns < 1000, "the other task never ran");
            tulip::task::yield_now().await;
        }
        turns
    };
    // gather_all polls a child woken during its turn only at its next turn, after yielding.
    // Were it polled again within the same turn, it would spin until `turns` hit 1000.
    let turns = gather_all([spinner]).await;
    assert!(turns[0] >= 1);
    assert!(other.is_finished());
}
