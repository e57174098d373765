//! Property tests: random interleavings of `put` / `put_nowait` / `get` / `get_nowait` /
//! `task_done` / `join`, some raced against a timeout (so dropped half-way), across up to
//! eight tasks on the test clock, with tasks cancelled and the queue shut down (immediately or
//! not) at random moments, for every order and several `maxsize`s. Checked against a model:
//!
//! - every item whose `put` succeeded is got exactly once, or returned by an immediate
//!   `shutdown`, or still in the queue at the end; no other item ever comes out;
//! - `task_done` fails exactly when the model's unfinished count is zero;
//! - `join` returns only once the count has been zero since it started, and a `join` still
//!   waiting (or timed out) never missed such a moment;
//! - a `get` still waiting at the end means no item was free, a `put` still waiting means the
//!   queue was full; nothing is left registered once every task is gone.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use proptest::prelude::*;
use tulip::queue::{
    Fifo, GenericQueue, Lifo, Order, Priority, QueueShutDown, TryGetError, TryPutError,
};
use tulip::task::yield_now;
use tulip::time::{Instant, sleep, sleep_until};

#[derive(Debug, Clone)]
enum Step {
    Sleep(u8),
    Yield,
    /// `put`, given up after that many ms if `Some`.
    Put(Option<u8>),
    PutNowait,
    Get(Option<u8>),
    GetNowait,
    TaskDone,
    Join(Option<u8>),
    /// Cancel another actor's task (by index, modulo their number), perhaps right after
    /// handing it an item or a slot.
    Cancel(usize),
}

#[derive(Debug, Clone)]
struct Scenario {
    maxsize: usize,
    actors: Vec<Vec<Step>>,
    /// (ms, actor) pairs: cancel that actor's task at that time.
    cancels: Vec<(u8, usize)>,
    /// (ms, immediate): shut the queue down then.
    shutdown: Option<(u8, bool)>,
}

fn limit(max: u8) -> impl Strategy<Value = Option<u8>> {
    proptest::option::of(0..max)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..5).prop_map(Step::Sleep),
        2 => Just(Step::Yield),
        4 => limit(5).prop_map(Step::Put),
        2 => Just(Step::PutNowait),
        4 => limit(5).prop_map(Step::Get),
        2 => Just(Step::GetNowait),
        4 => Just(Step::TaskDone),
        1 => limit(20).prop_map(Step::Join),
        2 => (0usize..8).prop_map(Step::Cancel),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        0usize..4,
        prop::collection::vec(prop::collection::vec(step(), 1..12), 1..8),
        prop::collection::vec((0u8..40, 0usize..8), 0..4),
        proptest::option::of((0u8..40, any::<bool>())),
    )
        .prop_map(|(maxsize, actors, cancels, shutdown)| Scenario {
            maxsize,
            actors,
            cancels,
            shutdown,
        })
}

#[derive(Default)]
struct Model {
    next_item: u32,
    put: Vec<u32>,
    got: Vec<u32>,
    discarded: Vec<u32>,
    unfinished: usize,
    /// How many times the unfinished count has come back to zero.
    zero_epoch: u64,
    shut: bool,
    /// Start epochs of the joins still waiting, by join id.
    joins: Vec<(u32, u64)>,
    next_join: u32,
    getters_waiting: usize,
    putters_waiting: usize,
}

type SharedModel = Rc<RefCell<Model>>;

/// `future`, or `None` if `ms` (when given) pass first; the future is then dropped mid-way.
async fn within<F: Future>(ms: Option<u8>, future: F) -> Option<F::Output> {
    let Some(ms) = ms else {
        return Some(future.await);
    };
    let mut future = pin!(future);
    let mut timer = pin!(sleep(Duration::from_millis(u64::from(ms))));
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

type Tasks = Rc<RefCell<Vec<tulip::Task<()>>>>;

async fn actor<O: Order<u32>>(
    q: GenericQueue<u32, O>,
    model: SharedModel,
    tasks: Tasks,
    steps: Vec<Step>,
) {
    for step in steps {
        match step {
            Step::Cancel(other) => {
                let tasks = tasks.borrow();
                tasks[other % tasks.len()].cancel();
            }
            Step::Sleep(ms) => sleep(Duration::from_millis(u64::from(ms))).await,
            Step::Yield => yield_now().await,
            Step::Put(ms) => {
                let item = new_item(&model);
                let waiting = Waiting::new(&model, |m| &mut m.putters_waiting);
                let outcome = within(ms, q.put(item)).await;
                drop(waiting);
                let mut m = model.borrow_mut();
                match outcome {
                    Some(Ok(())) => {
                        m.put.push(item);
                        m.unfinished += 1;
                    }
                    Some(Err(QueueShutDown(back))) => {
                        assert_eq!(back, item, "put hands its own item back");
                        assert!(m.shut, "put failed on a queue not shut down");
                    }
                    None => {} // gave up: the item was never put
                }
            }
            Step::PutNowait => {
                let item = new_item(&model);
                let mut m = model.borrow_mut();
                match q.put_nowait(item) {
                    Ok(()) => {
                        m.put.push(item);
                        m.unfinished += 1;
                    }
                    Err(TryPutError::Full(back)) => {
                        assert_eq!(back, item);
                        assert!(!m.shut, "a shut-down queue says so, not full");
                        assert!(q.maxsize() > 0, "an unbounded queue is never full");
                    }
                    Err(TryPutError::ShutDown(back)) => {
                        assert_eq!(back, item);
                        assert!(m.shut);
                    }
                }
            }
            Step::Get(ms) => {
                let waiting = Waiting::new(&model, |m| &mut m.getters_waiting);
                let outcome = within(ms, q.get()).await;
                drop(waiting);
                let mut m = model.borrow_mut();
                match outcome {
                    Some(Ok(item)) => m.got.push(item),
                    Some(Err(QueueShutDown(()))) => assert!(m.shut),
                    None => {}
                }
            }
            Step::GetNowait => {
                let mut m = model.borrow_mut();
                match q.get_nowait() {
                    Ok(item) => m.got.push(item),
                    Err(TryGetError::Empty) => assert!(!m.shut),
                    Err(TryGetError::ShutDown) => assert!(m.shut),
                }
            }
            Step::TaskDone => {
                let mut m = model.borrow_mut();
                let done = q.task_done();
                assert_eq!(done.is_ok(), m.unfinished > 0, "task_done vs the model");
                if done.is_ok() {
                    m.unfinished -= 1;
                    if m.unfinished == 0 {
                        m.zero_epoch += 1;
                    }
                }
            }
            Step::Join(ms) => {
                let (id, start_epoch, start_unfinished) = {
                    let mut m = model.borrow_mut();
                    let id = m.next_join;
                    m.next_join += 1;
                    let epoch = m.zero_epoch;
                    m.joins.push((id, epoch));
                    (id, epoch, m.unfinished)
                };
                let waiting = JoinWaiting {
                    model: model.clone(),
                    id,
                };
                let outcome = within(ms, q.join()).await;
                drop(waiting);
                let m = model.borrow();
                match outcome {
                    Some(()) => assert!(
                        start_unfinished == 0 || m.zero_epoch > start_epoch,
                        "join returned before the count reached zero"
                    ),
                    None => {
                        assert_ne!(start_unfinished, 0, "join with nothing unfinished waited");
                        assert_eq!(m.zero_epoch, start_epoch, "join missed the count's zero");
                    }
                }
            }
        }
    }
}

/// Counts a task as waiting until it is dropped: a task cancelled mid-wait stops counting.
struct Waiting {
    model: SharedModel,
    which: fn(&mut Model) -> &mut usize,
}

impl Waiting {
    fn new(model: &SharedModel, which: fn(&mut Model) -> &mut usize) -> Waiting {
        *which(&mut model.borrow_mut()) += 1;
        Waiting {
            model: model.clone(),
            which,
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        *(self.which)(&mut self.model.borrow_mut()) -= 1;
    }
}

/// Keeps a join registered as waiting until it is dropped.
struct JoinWaiting {
    model: SharedModel,
    id: u32,
}

impl Drop for JoinWaiting {
    fn drop(&mut self) {
        let id = self.id;
        self.model.borrow_mut().joins.retain(|&(j, _)| j != id);
    }
}

fn new_item(model: &SharedModel) -> u32 {
    let mut m = model.borrow_mut();
    m.next_item += 1;
    m.next_item
}

fn run_scenario<O: Order<u32> + 'static>(scenario: Scenario) {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async move {
        let q = GenericQueue::<u32, O>::with_maxsize(scenario.maxsize);
        let model = SharedModel::default();
        let start = Instant::now();
        let tasks = Tasks::default();
        for steps in &scenario.actors {
            let actor = actor(q.clone(), model.clone(), tasks.clone(), steps.clone());
            tasks.borrow_mut().push(tulip::spawn(actor));
        }
        let n = scenario.actors.len();

        // The timeline of outside events: cancellations and the shutdown.
        let mut events: Vec<(u8, Option<usize>)> = scenario
            .cancels
            .iter()
            .map(|&(ms, actor)| (ms, Some(actor % n)))
            .collect();
        if let Some((ms, _)) = scenario.shutdown {
            events.push((ms, None));
        }
        events.sort_by_key(|&(ms, _)| ms);
        for (ms, what) in events {
            sleep_until(start + Duration::from_millis(u64::from(ms))).await;
            match what {
                Some(actor) => {
                    tasks.borrow()[actor].cancel();
                }
                None => {
                    let immediate = scenario.shutdown.is_some_and(|(_, i)| i);
                    let discarded = q.shutdown(immediate);
                    let mut m = model.borrow_mut();
                    m.shut = true;
                    if immediate {
                        m.unfinished = m.unfinished.saturating_sub(discarded.len());
                        if m.unfinished == 0 {
                            m.zero_epoch += 1;
                        }
                    }
                    m.discarded.extend(discarded);
                }
            }
        }

        // Every script is over long before this; whoever still waits is blocked for good.
        sleep_until(start + Duration::from_secs(10)).await;
        {
            let m = model.borrow();
            for &(_, epoch) in &m.joins {
                assert_eq!(epoch, m.zero_epoch, "a join still waits after a zero");
            }
            // Everyone has run since the last change: nothing is handed or granted and
            // not yet collected, so waiting means truly empty, or truly full.
            if m.getters_waiting > 0 {
                assert!(!m.shut, "getters still wait after shutdown");
                assert_eq!(q.qsize(), 0, "getters wait beside free items");
            }
            if m.putters_waiting > 0 {
                assert!(!m.shut, "putters still wait after shutdown");
                assert_eq!(q.qsize(), q.maxsize(), "putters wait beside free slots");
            }
        }
        let tasks = std::mem::take(&mut *tasks.borrow_mut());
        for task in &tasks {
            task.cancel();
        }
        for task in tasks {
            let _ = task.await;
        }

        let mut m = model.borrow_mut();
        let remaining: Vec<u32> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
        let mut out: Vec<u32> = m.got.clone();
        out.extend(&m.discarded);
        out.extend(&remaining);
        out.sort_unstable();
        m.put.sort_unstable();
        assert_eq!(out, m.put, "every item put comes out exactly once");
        assert!(q.is_empty());
        let debug = format!("{q:?}");
        assert!(
            debug.contains("getters: 0, putters: 0"),
            "waiters left registered: {debug}"
        );
    });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fifo_queue_conserves_items_and_counts(scenario in scenario()) {
        run_scenario::<Fifo>(scenario);
    }

    #[test]
    fn lifo_queue_conserves_items_and_counts(scenario in scenario()) {
        run_scenario::<Lifo>(scenario);
    }

    #[test]
    fn priority_queue_conserves_items_and_counts(scenario in scenario()) {
        run_scenario::<Priority>(scenario);
    }
}
