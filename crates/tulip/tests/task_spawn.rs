//! Spawning tasks: outputs, `!Send` futures, names, ids, spawn locations, `task::current()`,
//! `task::all_tasks()`, detaching, and `add_done_callback`.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use tulip::Runtime;
use tulip::runtime::Handle;
use tulip::task::{self, Builder, yield_now};

fn test_clock() -> Runtime {
    Runtime::builder().test_clock().build().unwrap()
}

#[test]
fn spawned_tasks_give_their_outputs() {
    tulip::run(async {
        let number = tulip::spawn(async { 7u64 });
        let text = tulip::spawn(async { String::from("seven") });
        let list = tulip::spawn(async {
            yield_now().await;
            vec![1, 2, 3]
        });
        let unit = tulip::spawn(async {});
        // Awaited in another order than spawned.
        assert_eq!(list.await.unwrap(), [1, 2, 3]);
        assert_eq!(text.await.unwrap(), "seven");
        assert_eq!(number.await.unwrap(), 7);
        unit.await.unwrap();

        let many: Vec<_> = (0..100u32)
            .map(|i| tulip::spawn(async move { i * i }))
            .collect();
        let mut outputs = Vec::new();
        for task in many.into_iter().rev() {
            outputs.push(task.await.unwrap());
        }
        outputs.reverse();
        assert_eq!(outputs, (0..100u32).map(|i| i * i).collect::<Vec<_>>());
    });
}

#[test]
fn not_send_futures_run_as_tasks_and_interleave_round_robin() {
    let log = tulip::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let spawn_writer = |label: &'static str| {
            let log = log.clone();
            tulip::spawn(async move {
                for i in 0..3 {
                    log.borrow_mut().push(format!("{label}{i}"));
                    yield_now().await;
                }
                Rc::new(label) // a !Send output too
            })
        };
        let a = spawn_writer("a");
        let b = spawn_writer("b");
        assert_eq!(*a.await.unwrap(), "a");
        assert_eq!(*b.await.unwrap(), "b");
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(log, ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn names_are_kept_and_reported() {
    tulip::run(async {
        let named = Builder::new()
            .name("fetch example.com")
            .spawn(async { task::current().unwrap().name().map(str::to_owned) });
        let unnamed = tulip::spawn(async { task::current().unwrap().name().map(str::to_owned) });
        assert_eq!(named.name(), Some("fetch example.com"));
        assert_eq!(unnamed.name(), None);
        let listed: Vec<_> = task::all_tasks()
            .iter()
            .map(|info| info.name().map(str::to_owned))
            .collect();
        assert_eq!(listed, [Some("fetch example.com".to_owned()), None]);
        assert_eq!(
            named.await.unwrap().as_deref(),
            Some("fetch example.com"),
            "current() inside the task knows its name"
        );
        assert_eq!(unnamed.await.unwrap(), None);
    });
}

#[test]
fn ids_are_unique_increasing_and_displayed_as_task_n() {
    tulip::run(async {
        let tasks: Vec<_> = (0..1_000).map(|_| tulip::spawn(async {})).collect();
        let ids: Vec<_> = tasks.iter().map(|t| t.id()).collect();
        let unique: HashSet<_> = ids.iter().copied().collect();
        assert_eq!(unique.len(), 1_000);
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids grow in spawn order"
        );
        let first = ids[0];
        assert_eq!(first.to_string(), format!("Task-{}", first.as_u64()));
        for task in tasks {
            task.await.unwrap();
        }
        // Another loop in the same process never reuses an id.
        let elsewhere = std::thread::spawn(|| tulip::run(async { tulip::spawn(async {}).id() }))
            .join()
            .unwrap();
        assert!(!unique.contains(&elsewhere));
    });
}

#[test]
fn spawned_at_points_at_the_callers_line() {
    let here = file!();
    let mut rt = Runtime::new().unwrap();
    let before_run = rt.spawn(async {});
    let line_rt = line!() - 1;
    let handle = rt.handle().clone();
    let (from_thread, line_thread) = std::thread::spawn(move || {
        let task = handle.spawn(async {});
        let line = line!() - 1;
        let named = Builder::new().name("x").spawn_on(async {}, &handle);
        let named_line = line!() - 1;
        ((task, line), (named, named_line))
    })
    .join()
    .unwrap();
    let ((thread_task, line_handle), (spawn_on_task, line_spawn_on)) = (from_thread, line_thread);
    let checks = rt.block_on(async {
        let plain = tulip::spawn(async {});
        let line_plain = line!() - 1;
        let built = Builder::new().spawn(async {});
        let line_built = line!() - 1;
        let _callback = Handle::current().call_soon(|| {});
        let line_cb = line!() - 1;
        let callback_at = task::all_tasks().last().unwrap().spawned_at();
        let inner_at = plain.spawned_at();
        let in_task = tulip::spawn(async { task::current().unwrap().spawned_at() });
        let line_in_task = line!() - 1;
        let seen_inside = in_task.await.unwrap();
        vec![
            (plain.spawned_at(), line_plain),
            (built.spawned_at(), line_built),
            (callback_at, line_cb),
            (inner_at, line_plain),
            (seen_inside, line_in_task),
        ]
    });
    let all = [
        (before_run.spawned_at(), line_rt),
        (thread_task.spawned_at(), line_handle),
        (spawn_on_task.spawned_at(), line_spawn_on),
    ];
    for (i, (at, line)) in all.into_iter().chain(checks).enumerate() {
        assert_eq!(at.file(), here, "case {i}");
        assert_eq!(at.line(), line, "case {i}: {at}");
    }
}

#[test]
fn current_is_the_running_task_and_none_in_the_main_future() {
    assert!(task::current().is_none(), "outside any loop");
    tulip::run(async {
        assert!(
            task::current().is_none(),
            "the block_on future is not a task"
        );
        let outer = Builder::new().name("outer").spawn(async {
            let me = task::current().unwrap();
            let inner = Builder::new()
                .name("inner")
                .spawn(async { task::current().unwrap().id() });
            let inner_id = inner.id();
            let seen_by_inner = inner.await.unwrap();
            assert_eq!(seen_by_inner, inner_id);
            // Back in the outer task after awaiting: current() is the outer task again.
            let again = task::current().unwrap();
            assert_eq!(again.id(), me.id());
            assert_eq!(again.name(), Some("outer"));
            me.id()
        });
        let outer_id = outer.id();
        assert_eq!(outer.await.unwrap(), outer_id);
        assert!(task::current().is_none());
    });
}

#[test]
fn all_tasks_lists_pending_tasks_and_not_finished_ones() {
    // On the test clock, so that the sleeper cannot finish behind the test's back on a slow
    // machine (or under valgrind) while the main future waits for its turn.
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async {
        assert!(task::all_tasks().is_empty());
        let sleeper = tulip::spawn(tulip::time::sleep(Duration::from_millis(1)));
        let waiter = tulip::spawn(std::future::pending::<()>());
        let quick = tulip::spawn(async {});
        let ids = |list: Vec<task::TaskInfo>| list.iter().map(|i| i.id()).collect::<Vec<_>>();
        assert_eq!(
            ids(task::all_tasks()),
            [sleeper.id(), waiter.id(), quick.id()],
            "spawned but not yet run still counts as pending"
        );
        yield_now().await;
        assert!(quick.is_finished());
        assert_eq!(ids(task::all_tasks()), [sleeper.id(), waiter.id()]);
        sleeper.await.unwrap();
        assert_eq!(ids(task::all_tasks()), [waiter.id()]);

        // A task sees itself in the list.
        let me = tulip::spawn(async {
            let me = task::current().unwrap().id();
            task::all_tasks().iter().any(|i| i.id() == me)
        });
        assert!(me.await.unwrap());

        waiter.cancel();
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert!(task::all_tasks().is_empty());
    });
}

#[test]
fn tasks_spawned_from_other_threads_appear_once_polled() {
    let mut rt = Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let task = std::thread::spawn(move || handle.spawn(std::future::pending::<()>()))
        .join()
        .unwrap();
    let id = task.id();
    let listed = rt.block_on(async {
        // The loop drains the injection queue while it turns.
        for _ in 0..3 {
            yield_now().await;
        }
        task::all_tasks().iter().map(|i| i.id()).collect::<Vec<_>>()
    });
    assert_eq!(listed, [id]);
    task.cancel();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn detached_tasks_keep_running() {
    let mut rt = test_clock();
    let done = Rc::new(Cell::new(0));
    let flag = done.clone();
    rt.block_on(async move {
        let a = flag.clone();
        tulip::spawn(async move {
            tulip::time::sleep(Duration::from_secs(1)).await;
            a.set(a.get() + 1);
        })
        .detach();
        let b = flag.clone();
        drop(tulip::spawn(async move {
            tulip::time::sleep(Duration::from_secs(2)).await;
            b.set(b.get() + 10);
        }));
        tulip::time::sleep(Duration::from_secs(3)).await;
    });
    assert_eq!(done.get(), 11, "both detached tasks ran to completion");
}

#[test]
fn done_callbacks_receive_each_kind_of_outcome() {
    tulip::run(async {
        let seen = Rc::new(RefCell::new(Vec::new()));

        let mut ok = tulip::spawn(async { 5 });
        let sink = seen.clone();
        ok.add_done_callback(move |outcome| {
            sink.borrow_mut()
                .push(format!("ok={:?}", outcome.as_ref().ok()));
        });

        let mut cancelled = tulip::spawn(std::future::pending::<u8>());
        let sink = seen.clone();
        cancelled.add_done_callback(move |outcome| {
            let err = outcome.as_ref().unwrap_err();
            sink.borrow_mut()
                .push(format!("cancelled={}", err.is_cancelled()));
        });

        let mut panicked = tulip::spawn(async { panic!("bad input") });
        let sink = seen.clone();
        panicked.add_done_callback(move |outcome: &Result<(), tulip::JoinError>| {
            let err = outcome.as_ref().unwrap_err();
            sink.borrow_mut()
                .push(format!("panic={:?}", err.panic_message()));
        });

        assert_eq!(ok.await.unwrap(), 5);
        cancelled.cancel();
        assert!(cancelled.await.unwrap_err().is_cancelled());
        assert!(panicked.await.unwrap_err().is_panic());
        // The panicking task ended before the cancel was requested; order by kind.
        let mut seen = seen.borrow().clone();
        seen.sort();
        assert_eq!(
            seen,
            ["cancelled=true", "ok=Some(5)", "panic=Some(\"bad input\")"]
        );
    });
}

#[test]
fn done_callbacks_run_in_order_before_the_awaiter_resumes() {
    tulip::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut task = tulip::spawn({
            let log = log.clone();
            async move {
                yield_now().await;
                log.borrow_mut().push("task body");
                "value"
            }
        });
        for n in 1..=3 {
            let log = log.clone();
            task.add_done_callback(move |_| log.borrow_mut().push(["cb1", "cb2", "cb3"][n - 1]));
        }
        let awaiter = tulip::spawn({
            let log = log.clone();
            async move {
                let value = task.await.unwrap();
                log.borrow_mut().push("awaiter resumed");
                value
            }
        });
        assert_eq!(awaiter.await.unwrap(), "value");
        assert_eq!(
            *log.borrow(),
            ["task body", "cb1", "cb2", "cb3", "awaiter resumed"]
        );
    });
}

#[test]
fn done_callbacks_run_even_when_the_handle_is_dropped() {
    tulip::run(async {
        let hits = Rc::new(Cell::new(0));
        let mut task = tulip::spawn(async { yield_now().await });
        let counter = hits.clone();
        task.add_done_callback(move |outcome| {
            assert!(outcome.is_ok());
            counter.set(counter.get() + 1);
        });
        drop(task);
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(hits.get(), 1);
    });
}

#[test]
fn a_done_callback_added_after_completion_runs_at_once() {
    tulip::run(async {
        let mut task = tulip::spawn(async { String::from("finished") });
        yield_now().await;
        assert!(task.is_finished());
        let seen = Rc::new(RefCell::new(None));
        let sink = seen.clone();
        task.add_done_callback(move |outcome| {
            *sink.borrow_mut() = Some(outcome.as_ref().unwrap().clone());
        });
        assert_eq!(
            seen.borrow().as_deref(),
            Some("finished"),
            "ran inside add_done_callback"
        );
        // A second late callback sees the same outcome, and awaiting still gives it.
        let again = Rc::new(Cell::new(false));
        let flag = again.clone();
        task.add_done_callback(move |outcome| flag.set(outcome.is_ok()));
        assert!(again.get());
        assert_eq!(task.await.unwrap(), "finished");
    });
}

#[test]
fn add_done_callback_off_the_loop_thread_panics() {
    let mut rt = Runtime::new().unwrap();
    let task = rt.spawn(std::future::pending::<()>());
    let task = std::thread::spawn(move || {
        let mut task = task;
        let caught = catch_unwind(AssertUnwindSafe(|| task.add_done_callback(|_| {})));
        let payload = caught.unwrap_err();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(
            message.contains("add_done_callback must be called on the thread"),
            "panic message: {message}"
        );
        task
    })
    .join()
    .unwrap();
    task.cancel();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn done_callbacks_may_be_added_between_runs_on_the_owning_thread() {
    let mut rt = Runtime::new().unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut before_run = rt.spawn(async { 1 });
    let sink = seen.clone();
    before_run.add_done_callback(move |outcome| sink.borrow_mut().push(*outcome.as_ref().unwrap()));
    assert!(seen.borrow().is_empty(), "not run yet");
    assert_eq!(rt.block_on(before_run).unwrap(), 1);
    assert_eq!(*seen.borrow(), [1]);

    // Finished during an earlier run, callback added between runs: it runs at once.
    let mut finished = rt.spawn(async { 2 });
    rt.block_on(yield_now());
    assert!(finished.is_finished());
    let sink = seen.clone();
    finished.add_done_callback(move |outcome| sink.borrow_mut().push(*outcome.as_ref().unwrap()));
    assert_eq!(*seen.borrow(), [1, 2]);
    assert_eq!(rt.block_on(finished).unwrap(), 2);
}
