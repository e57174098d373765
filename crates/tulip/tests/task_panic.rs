//! Panics in tasks: caught and returned as `JoinError::is_panic`, the loop keeps going, and a
//! panic nobody awaited reaches the loop's exception handler exactly once (asyncio's "Task
//! exception was never retrieved"), as do panicking destructors and done callbacks.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use tulip::Runtime;
use tulip::runtime::{ExceptionContext, Handle};
use tulip::task::{Builder, Id, yield_now};

/// What the exception handler was told, copied out of the context.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    message: String,
    task_id: Option<Id>,
    task_name: Option<String>,
    spawned_in: Option<String>,
    panic_message: Option<String>,
}

type Reports = Arc<Mutex<Vec<Report>>>;

/// Installs a handler on `handle` that records every report.
fn record_reports(handle: &Handle) -> Reports {
    let reports: Reports = Arc::default();
    let sink = reports.clone();
    handle.set_exception_handler(move |cx: &ExceptionContext| {
        sink.lock().unwrap().push(Report {
            message: cx.message().to_owned(),
            task_id: cx.task_id(),
            task_name: cx.task_name().map(str::to_owned),
            spawned_in: cx.spawned_at().map(|at| at.file().to_owned()),
            panic_message: cx.panic_message().map(str::to_owned),
        });
    });
    reports
}

async fn turns(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn a_panic_becomes_a_join_error_with_its_message() {
    tulip::run(async {
        let line = std::hint::black_box(3); // a formatted message: the payload is a String
        let task = tulip::spawn(async move {
            yield_now().await;
            panic!("parse failed at line {line}");
        });
        let id = task.id();
        let err = task.await.unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert_eq!(err.id(), id);
        assert_eq!(err.panic_message(), Some("parse failed at line 3"));
        assert_eq!(
            err.to_string(),
            format!("task {id} panicked: parse failed at line 3")
        );
        let payload = err.try_into_panic().ok().unwrap();
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("parse failed at line 3")
        );

        // A non-string payload: no message, but the payload comes back intact.
        let err = tulip::spawn(async { std::panic::panic_any(42u8) })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), None);
        assert_eq!(
            err.try_into_panic().ok().unwrap().downcast_ref::<u8>(),
            Some(&42)
        );

        // A cancellation is not a panic payload.
        let pending = tulip::spawn(std::future::pending::<()>());
        pending.cancel();
        assert!(pending.await.unwrap_err().try_into_panic().is_err());
    });
}

#[test]
fn the_loop_keeps_running_other_tasks_after_a_panic() {
    tulip::run(async {
        let steady: Vec<_> = (0..5)
            .map(|i| {
                tulip::spawn(async move {
                    turns(3).await;
                    i
                })
            })
            .collect();
        let failing = tulip::spawn(async {
            turns(1).await;
            panic!("one bad task");
        });
        let late = tulip::spawn(async {
            turns(5).await;
            "spawned beside a panicking task"
        });
        assert!(failing.await.unwrap_err().is_panic());
        for (i, task) in steady.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i);
        }
        assert_eq!(late.await.unwrap(), "spawned beside a panicking task");
        // The main future and new tasks still work.
        assert_eq!(tulip::spawn(async { 1 }).await.unwrap(), 1);
    });
}

#[test]
fn a_detached_panicking_task_is_reported_once_with_its_id_and_name() {
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    let id = rt.block_on(async {
        let task = Builder::new().name("doomed").spawn(async {
            yield_now().await;
            panic!("nobody is listening");
        });
        let id = task.id();
        task.detach();
        turns(5).await;
        id
    });
    rt.block_on(turns(5));
    let reports = reports.lock().unwrap();
    assert_eq!(
        *reports,
        [Report {
            message: "Task exception was never retrieved".into(),
            task_id: Some(id),
            task_name: Some("doomed".into()),
            spawned_in: Some(file!().into()),
            panic_message: Some("nobody is listening".into()),
        }]
    );
}

#[test]
fn a_handle_dropped_after_the_panic_reports_exactly_once() {
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    rt.block_on(async {
        let task = Builder::new()
            .name("dropped late")
            .spawn(async { panic!("seen by no one") });
        turns(3).await;
        assert!(task.is_panicked());
        assert!(
            reports.lock().unwrap().is_empty(),
            "the handle could still be awaited: not reported yet"
        );
        let id = task.id();
        drop(task);
        let got = reports.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].task_id, Some(id));
        assert_eq!(got[0].task_name.as_deref(), Some("dropped late"));
        assert_eq!(got[0].panic_message.as_deref(), Some("seen by no one"));
        turns(3).await;
    });
    drop(rt);
    assert_eq!(reports.lock().unwrap().len(), 1, "never reported twice");
}

#[test]
fn an_awaited_panic_is_not_reported() {
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    rt.block_on(async {
        let task = tulip::spawn(async { panic!("handled by the awaiter") });
        assert!(task.await.unwrap_err().is_panic());

        // Awaited through a reference, then dropped: still retrieved.
        let mut task = tulip::spawn(async { panic!("also handled") });
        assert!((&mut task).await.unwrap_err().is_panic());
        drop(task);
        turns(3).await;
    });
    rt.close();
    assert!(reports.lock().unwrap().is_empty(), "{:?}", reports.lock());
}

#[test]
fn a_destructor_panicking_during_cancellation_is_a_panic_outcome() {
    struct Explodes;
    impl Drop for Explodes {
        fn drop(&mut self) {
            panic!("clean-up failed");
        }
    }
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    rt.block_on(async {
        let task = tulip::spawn(async {
            let _explodes = Explodes;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        assert!(task.cancel());
        let err = task.await.unwrap_err();
        assert!(err.is_panic(), "the failed clean-up is not hidden");
        assert_eq!(err.panic_message(), Some("clean-up failed"));
        // The loop survived.
        assert_eq!(tulip::spawn(async { 2 }).await.unwrap(), 2);
    });
    assert!(reports.lock().unwrap().is_empty(), "it was awaited");
}

#[test]
fn a_detached_task_whose_destructor_panics_at_close_is_reported() {
    struct Explodes;
    impl Drop for Explodes {
        fn drop(&mut self) {
            panic!("clean-up failed at close");
        }
    }
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    let id = rt.block_on(async {
        let task = Builder::new().name("explodes").spawn(async {
            let _explodes = Explodes;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        let id = task.id();
        task.detach();
        id
    });
    rt.close(); // must not propagate the destructor's panic
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].task_id, Some(id));
    assert_eq!(
        reports[0].panic_message.as_deref(),
        Some("clean-up failed at close")
    );
}

#[test]
fn a_panicking_done_callback_is_reported_and_the_outcome_still_delivered() {
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    rt.block_on(async {
        let mut task = Builder::new().name("with callback").spawn(async { 8 });
        let id = task.id();
        task.add_done_callback(|_| panic!("callback broke"));
        let after = Arc::new(Mutex::new(false));
        let flag = after.clone();
        task.add_done_callback(move |_| *flag.lock().unwrap() = true);
        assert_eq!(task.await.unwrap(), 8, "the awaiter still gets the output");
        assert!(*after.lock().unwrap(), "later callbacks still run");
        let got = reports.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message, "Exception in a task's done callback");
        assert_eq!(got[0].task_id, Some(id));
        assert_eq!(got[0].task_name.as_deref(), Some("with callback"));
        assert_eq!(got[0].panic_message.as_deref(), Some("callback broke"));
    });
}

#[test]
fn a_panicking_done_callback_added_after_completion_is_reported_too() {
    // add_done_callback documents: "A panicking callback is reported to the loop's exception
    // handler." That must hold for a callback that runs at once on a finished task as well.
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    rt.block_on(async {
        let mut task = tulip::spawn(async { 8 });
        yield_now().await;
        assert!(task.is_finished());
        let caught = catch_unwind(AssertUnwindSafe(|| {
            task.add_done_callback(|_| panic!("late callback broke"));
        }));
        assert!(
            caught.is_ok(),
            "the callback's panic escaped add_done_callback instead of being reported"
        );
        let got = reports.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].panic_message.as_deref(), Some("late callback broke"));
    });
}

#[test]
fn a_done_callback_retrieves_a_panic_the_same_way_early_or_late() {
    // Whether a done callback that received the panic counts as retrieving it must not depend
    // on whether it was added before or after the task finished.
    fn reports_for(add_after_completion: bool) -> usize {
        let mut rt = Runtime::new().unwrap();
        let reports = record_reports(rt.handle());
        rt.block_on(async {
            let mut task = tulip::spawn(async {
                yield_now().await;
                panic!("seen by a callback");
            });
            if add_after_completion {
                turns(3).await;
                assert!(task.is_finished());
            }
            task.add_done_callback(|outcome| assert!(outcome.as_ref().unwrap_err().is_panic()));
            turns(3).await;
            drop(task);
            turns(3).await;
        });
        rt.close();
        reports.lock().unwrap().len()
    }
    let early = reports_for(false);
    let late = reports_for(true);
    assert_eq!(
        early, late,
        "callback added before completion: {early} report(s); after: {late}"
    );
}

#[test]
fn a_panicking_exception_handler_does_not_take_the_loop_down() {
    let mut rt = Runtime::new().unwrap();
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    rt.handle().set_exception_handler(move |_| {
        *counter.lock().unwrap() += 1;
        panic!("the handler itself is broken");
    });
    let out = rt.block_on(async {
        tulip::spawn(async { panic!("lost") }).detach();
        turns(3).await;
        tulip::spawn(async { "still alive" }).await.unwrap()
    });
    assert_eq!(out, "still alive");
    assert_eq!(*calls.lock().unwrap(), 1);
}

#[test]
fn reset_exception_handler_restores_the_default() {
    let mut rt = Runtime::new().unwrap();
    let reports = record_reports(rt.handle());
    rt.handle().reset_exception_handler();
    let (log, _guard) = capture_tracing();
    rt.block_on(async {
        Builder::new()
            .name("after reset")
            .spawn(async { panic!("to the default") })
            .detach();
        turns(3).await;
    });
    assert!(reports.lock().unwrap().is_empty());
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("Task exception was never retrieved"),
        "{text}"
    );
    assert!(text.contains("'after reset'"), "{text}");
    assert!(text.contains("to the default"), "{text}");
}

#[test]
fn the_default_handler_logs_through_tracing() {
    let (log, _guard) = capture_tracing();
    let mut rt = Runtime::new().unwrap();
    let id = rt.block_on(async {
        let task = Builder::new()
            .name("logged")
            .spawn(async { panic!("for the log") });
        let id = task.id();
        drop(task);
        turns(3).await;
        id
    });
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("Task exception was never retrieved"))
        .unwrap_or_else(|| panic!("no report in: {text}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains(&format!("{id} 'logged'")), "{line}");
    assert!(line.contains(file!()), "{line}");
    assert!(line.contains("for the log"), "{line}");
}

/// Routes this thread's `tracing` events into a buffer until the guard is dropped.
fn capture_tracing() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Sink(writer.clone()))
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (log, guard)
}
