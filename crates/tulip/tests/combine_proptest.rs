//! Property tests over random trees of sleeps, errors, panics, timeouts and cancellations,
//! composed with every combinator (`gather_all`, `try_gather_all`, `TaskGroup`, `wait`,
//! `as_completed` with a timeout, `wait_for`, `shield`, spawned tasks cancelled part-way), run
//! on the test clock. For every tree: each future built is dropped exactly once, having either
//! completed or been cut short; no task is left at the end; and where the outcome does not hinge
//! on the order of two things due at the same instant, the tree's result and the virtual time
//! it took match a model worked out without the runtime.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use tulip::combine::{CancelOnDrop, ReturnWhen, StreamExt, try_gather_all, wait};
use tulip::time::{Instant, sleep, wait_for};
use tulip::{TaskGroup, gather_all, shield};

/// How a leaf ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Ok(u64),
    Err,
    Panic,
}

#[derive(Debug, Clone)]
enum Node {
    /// Sleeps this many seconds, then ends so.
    Leaf(u64, Outcome),
    /// `gather_all`: the sum of the children's `Ok` values.
    Gather(Vec<Node>),
    /// `try_gather_all`: the sum, or the first error.
    TryGather(Vec<Node>),
    /// A `TaskGroup` of the children: the sum, or an error at the first failure.
    Group(Vec<Node>),
    /// The children spawned, then `wait(.., FirstCompleted)`: the first one's value; the
    /// others are cancelled.
    WaitFirst(Vec<Node>),
    /// `as_completed` over the children spawned (as `CancelOnDrop`s) with an overall timeout:
    /// the sum of the values received in time; the rest are cancelled.
    AsCompleted(Vec<Node>, u64),
    /// `wait_for(secs, child)`.
    WaitFor(u64, Box<Node>),
    /// `shield(child)`.
    Shield(Box<Node>),
    /// The child spawned as a task and awaited, cancelled after `secs` if given.
    Spawn(Box<Node>, Option<u64>),
}

type Out = Result<u64, ()>;
type BoxFuture = Pin<Box<dyn Future<Output = Out>>>;

/// Per future built: how many times it was dropped, and whether it had completed by then.
#[derive(Clone, Default)]
struct Ledger(Rc<RefCell<Vec<(u32, bool)>>>);

struct Entry {
    ledger: Ledger,
    index: usize,
    completed: bool,
}

impl Ledger {
    fn entry(&self) -> Entry {
        let mut all = self.0.borrow_mut();
        all.push((0, false));
        Entry {
            ledger: self.clone(),
            index: all.len() - 1,
            completed: false,
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut all = self.ledger.0.borrow_mut();
        all[self.index].0 += 1;
        all[self.index].1 = self.completed;
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The future for `node`. Its ledger entry is made now and moved into the future, so a future
/// dropped before its first poll is accounted for too.
fn build(node: &Node, ledger: &Ledger) -> BoxFuture {
    let entry = ledger.entry();
    let body = body(node, ledger);
    Box::pin(async move {
        // The whole entry moves in (not just the field written below).
        let mut entry = entry;
        let out = body.await;
        entry.completed = true;
        out
    })
}

fn build_all(nodes: &[Node], ledger: &Ledger) -> Vec<BoxFuture> {
    nodes.iter().map(|n| build(n, ledger)).collect()
}

fn body(node: &Node, ledger: &Ledger) -> BoxFuture {
    match node.clone() {
        Node::Leaf(s, outcome) => Box::pin(async move {
            sleep(secs(s)).await;
            match outcome {
                Outcome::Ok(v) => Ok(v),
                Outcome::Err => Err(()),
                Outcome::Panic => panic!("leaf panics"),
            }
        }),
        Node::Gather(children) => {
            let all = gather_all(build_all(&children, ledger));
            Box::pin(async move { Ok(all.await.into_iter().flatten().sum()) })
        }
        Node::TryGather(children) => {
            let all = try_gather_all(build_all(&children, ledger));
            Box::pin(async move { all.await.map(|values| values.into_iter().sum()) })
        }
        Node::Group(children) => {
            let futures = build_all(&children, ledger);
            Box::pin(async move {
                let mut group = TaskGroup::new();
                for future in futures {
                    group.spawn(future);
                }
                group
                    .join()
                    .await
                    .map(|values| values.into_iter().sum())
                    .map_err(drop)
            })
        }
        Node::WaitFirst(children) => {
            let futures = build_all(&children, ledger);
            Box::pin(async move {
                if futures.is_empty() {
                    return Ok(0);
                }
                let tasks: Vec<_> = futures.into_iter().map(tulip::spawn).collect();
                let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, None).await;
                for task in pending {
                    task.cancel();
                    let _ = task.await;
                }
                let first = done.into_iter().next().expect("one is done");
                first.into_result().unwrap_or(Err(()))
            })
        }
        Node::AsCompleted(children, timeout) => {
            let futures = build_all(&children, ledger);
            Box::pin(async move {
                let tasks = futures
                    .into_iter()
                    .map(|f| CancelOnDrop::new(tulip::spawn(f)));
                let mut stream = tulip::as_completed(tasks).timeout(secs(timeout));
                let mut sum = 0;
                while let Some(Ok(outcome)) = stream.next().await {
                    if let Ok(Ok(v)) = outcome {
                        sum += v;
                    }
                }
                Ok(sum)
            })
        }
        Node::WaitFor(timeout, child) => {
            let inner = build(&child, ledger);
            Box::pin(async move { wait_for(secs(timeout), inner).await.unwrap_or(Err(())) })
        }
        Node::Shield(child) => {
            let inner = build(&child, ledger);
            Box::pin(async move { shield(inner).await.unwrap_or(Err(())) })
        }
        Node::Spawn(child, cancel_after) => {
            let inner = build(&child, ledger);
            Box::pin(async move {
                let mut task = tulip::spawn(inner);
                if let Some(after) = cancel_after {
                    if let Ok(outcome) = wait_for(secs(after), &mut task).await {
                        return outcome.unwrap_or(Err(()));
                    }
                    task.cancel();
                }
                task.await.unwrap_or(Err(()))
            })
        }
    }
}

/// What a tree does, worked out without the runtime: when it ends and how, and whether that
/// is certain (`exact`) or hinges on the order of two things due at the same instant.
#[derive(Debug, Clone, Copy)]
struct Model {
    time: u64,
    outcome: Outcome,
    exact: bool,
}

impl Model {
    fn new(time: u64, outcome: Outcome) -> Model {
        Model {
            time,
            outcome,
            exact: true,
        }
    }

    fn unless(mut self, tie: bool) -> Model {
        self.exact &= !tie;
        self
    }

    /// Seen through a task boundary: a panic comes back as an error.
    fn caught(mut self) -> Model {
        if self.outcome == Outcome::Panic {
            self.outcome = Outcome::Err;
        }
        self
    }
}

fn all_exact(models: &[Model]) -> bool {
    models.iter().all(|m| m.exact)
}

fn sum_ok(models: &[Model]) -> u64 {
    models
        .iter()
        .map(|m| match m.outcome {
            Outcome::Ok(v) => v,
            _ => 0,
        })
        .sum()
}

fn latest(models: &[Model]) -> u64 {
    models.iter().map(|m| m.time).max().unwrap_or(0)
}

/// The earliest of `models` that `fails`, and whether another ends at that instant with a
/// different outcome.
fn first_failure(models: &[Model], fails: impl Fn(&Model) -> bool) -> Option<(Model, bool)> {
    let failing: Vec<&Model> = models.iter().filter(|m| fails(m)).collect();
    let first = **failing.iter().min_by_key(|m| m.time)?;
    let mixed = failing
        .iter()
        .any(|m| m.time == first.time && m.outcome != first.outcome);
    Some((first, mixed))
}

fn model(node: &Node) -> Model {
    match node {
        Node::Leaf(s, outcome) => Model::new(*s, *outcome),
        Node::Gather(children) => {
            let ms: Vec<Model> = children.iter().map(model).collect();
            // A panic polled in place unwinds through the gather at once.
            let result = match first_failure(&ms, |m| m.outcome == Outcome::Panic) {
                Some((first, _)) => Model::new(first.time, Outcome::Panic),
                None => Model::new(latest(&ms), Outcome::Ok(sum_ok(&ms))),
            };
            result.unless(!all_exact(&ms))
        }
        Node::TryGather(children) => {
            let ms: Vec<Model> = children.iter().map(model).collect();
            let result = match first_failure(&ms, |m| !matches!(m.outcome, Outcome::Ok(_))) {
                Some((first, mixed)) => Model::new(first.time, first.outcome).unless(mixed),
                None => Model::new(latest(&ms), Outcome::Ok(sum_ok(&ms))),
            };
            result.unless(!all_exact(&ms))
        }
        Node::Group(children) => {
            let ms: Vec<Model> = children.iter().map(|c| model(c).caught()).collect();
            let result = match first_failure(&ms, |m| m.outcome == Outcome::Err) {
                Some((first, _)) => Model::new(first.time, Outcome::Err),
                None => Model::new(latest(&ms), Outcome::Ok(sum_ok(&ms))),
            };
            result.unless(!all_exact(&ms))
        }
        Node::WaitFirst(children) => {
            let ms: Vec<Model> = children.iter().map(|c| model(c).caught()).collect();
            let Some(first) = ms.iter().min_by_key(|m| m.time) else {
                return Model::new(0, Outcome::Ok(0));
            };
            let tie = ms.iter().filter(|m| m.time == first.time).count() > 1;
            Model::new(first.time, first.outcome).unless(tie || !all_exact(&ms))
        }
        Node::AsCompleted(children, timeout) => {
            let ms: Vec<Model> = children.iter().map(|c| model(c).caught()).collect();
            let in_time: Vec<Model> = ms.iter().copied().filter(|m| m.time < *timeout).collect();
            let tie = ms.iter().any(|m| m.time == *timeout);
            let time = if in_time.len() == ms.len() {
                latest(&ms)
            } else {
                *timeout
            };
            Model::new(time, Outcome::Ok(sum_ok(&in_time))).unless(tie || !all_exact(&ms))
        }
        Node::WaitFor(timeout, child) => {
            let m = model(child);
            let result = if m.time < *timeout {
                m
            } else {
                Model::new(*timeout, Outcome::Err)
            };
            result.unless(m.time == *timeout || !m.exact)
        }
        Node::Shield(child) => model(child).caught(),
        Node::Spawn(child, cancel_after) => {
            let m = model(child).caught();
            match cancel_after {
                Some(after) if m.time >= *after => {
                    Model::new(*after, Outcome::Err).unless(m.time == *after || !m.exact)
                }
                _ => m,
            }
        }
    }
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        6 => (1u64..100).prop_map(Outcome::Ok),
        2 => Just(Outcome::Err),
        1 => Just(Outcome::Panic),
    ]
}

fn tree() -> impl Strategy<Value = Node> {
    let leaf = (0u64..6, outcome()).prop_map(|(s, o)| Node::Leaf(s, o));
    leaf.prop_recursive(4, 32, 4, |inner| {
        let children = vec(inner.clone(), 0..4);
        prop_oneof![
            children.clone().prop_map(Node::Gather),
            children.clone().prop_map(Node::TryGather),
            children.clone().prop_map(Node::Group),
            children.clone().prop_map(Node::WaitFirst),
            (children, 0u64..8).prop_map(|(c, t)| Node::AsCompleted(c, t)),
            (0u64..8, inner.clone()).prop_map(|(t, c)| Node::WaitFor(t, Box::new(c))),
            inner.clone().prop_map(|c| Node::Shield(Box::new(c))),
            (inner, option::of(0u64..8)).prop_map(|(c, t)| Node::Spawn(Box::new(c), t)),
        ]
    })
}

fn run_tree(tree: &Node) -> Result<(), TestCaseError> {
    let ledger = Ledger::default();
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    let root = build(tree, &ledger);
    let (outcome, took, leftover) = rt.block_on(async {
        let start = Instant::now();
        // The root runs as a task, so that a panic ends it rather than the test.
        let outcome = tulip::spawn(root).await;
        let took = start.elapsed();
        // Shielded and detached work may still be running: let it finish.
        sleep(secs(1000)).await;
        (outcome, took, tulip::task::all_tasks().len())
    });
    rt.close();
    prop_assert_eq!(leftover, 0, "tasks left over");
    for (i, &(drops, _)) in ledger.0.borrow().iter().enumerate() {
        prop_assert_eq!(drops, 1, "future {} dropped {} times", i, drops);
    }
    let expected = model(tree);
    if expected.exact {
        let got = match outcome {
            Ok(Ok(v)) => Outcome::Ok(v),
            Ok(Err(())) => Outcome::Err,
            Err(err) if err.is_panic() => Outcome::Panic,
            Err(err) => return Err(TestCaseError::fail(format!("root {err}"))),
        };
        prop_assert_eq!(got, expected.outcome, "outcome; model {:?}", expected);
        prop_assert_eq!(took, secs(expected.time), "time; model {:?}", expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn every_future_ends_once_no_task_leaks_and_outcomes_match_the_model(tree in tree()) {
        silence_panics();
        run_tree(&tree)?;
    }
}

/// Leaves panic on purpose, hundreds of times: keep their messages out of the test output.
fn silence_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

#[test]
fn the_model_is_checked_on_most_trees() {
    // Guards against a model that calls everything inexact and so checks nothing.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = tree();
    let exact = (0..200)
        .filter(|_| {
            let tree = strategy.new_tree(&mut runner).unwrap().current();
            model(&tree).exact
        })
        .count();
    assert!(exact > 100, "only {exact} of 200 trees have an exact model");
}
