//! Receiving signals in process: `signal(kind)` streams raised with `kill(getpid(), …)`, every
//! listener on two loops in two threads getting every signal, add/replace/remove of
//! `Handle::add_signal_handler` handlers, and typed errors naming forbidden or invalid signals.
//!
//! Each test uses its own signal (tests of one binary run in parallel threads, and every
//! listener in the process sees every signal). `SIGINT` is left to `signal_run_ctrl_c.rs`,
//! which raises it in child processes only.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;

use futures_lite::StreamExt;
use rustix::process::{Signal, getpid, kill_process};
use tulip::runtime::Handle;
use tulip::signal::{SignalKind, signal};

fn raise(signal: Signal) {
    kill_process(getpid(), signal).expect("a process may signal itself");
}

#[test]
fn a_stream_receives_each_signal_once() {
    let _watchdog = support::watchdog("a_stream_receives_each_signal_once");
    tulip::run(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        for _ in 0..3 {
            raise(Signal::USR1);
            usr1.recv().await;
        }
        // Nothing new: the stream is not ready.
        let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(usr1.poll_recv(cx))).await;
        assert!(polled.is_pending());
        raise(Signal::USR1);
        assert_eq!(usr1.next().await, Some(()));
    });
}

#[test]
fn two_listeners_on_one_loop_both_hear_it() {
    let _watchdog = support::watchdog("two_listeners_on_one_loop_both_hear_it");
    tulip::run(async {
        let mut a = signal(SignalKind::hangup()).unwrap();
        let mut b = signal(SignalKind::hangup()).unwrap();
        raise(Signal::HUP);
        a.recv().await;
        b.recv().await;
        assert_eq!(a.kind(), SignalKind::hangup());
    });
}

#[test]
fn every_loop_in_every_thread_gets_every_signal() {
    let _watchdog = support::watchdog("every_loop_in_every_thread_gets_every_signal");
    const ROUNDS: usize = 5;
    const THREADS: usize = 2;
    // Each round: both loops listen, then the signal is raised once, then both report it.
    let listening = Arc::new(Barrier::new(THREADS + 1));
    let (got_tx, got_rx) = mpsc::channel::<(usize, usize)>();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let listening = listening.clone();
            let got_tx = got_tx.clone();
            thread::spawn(move || {
                let mut rt = tulip::Runtime::new().unwrap();
                rt.block_on(async {
                    let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                    for round in 0..ROUNDS {
                        listening.wait();
                        usr2.recv().await;
                        got_tx.send((t, round)).unwrap();
                    }
                });
            })
        })
        .collect();
    for round in 0..ROUNDS {
        listening.wait();
        raise(Signal::USR2);
        let mut heard: Vec<usize> = (0..THREADS)
            .map(|_| {
                let (t, r) = got_rx.recv().unwrap();
                assert_eq!(r, round, "thread {t} heard round {r} during round {round}");
                t
            })
            .collect();
        heard.sort();
        assert_eq!(heard, vec![0, 1]);
    }
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_realtime_signal_by_number() {
    let _watchdog = support::watchdog("a_realtime_signal_by_number");
    let kind = SignalKind::realtime(3);
    assert_eq!(kind.to_string(), "SIGRTMIN+3");
    tulip::run(async move {
        let mut stream = signal(kind).unwrap();
        // rustix has no name for real-time signals: the shell's `kill` sends it by number.
        let status = tulip::process::Command::shell(format!(
            "kill -{} {}",
            kind.as_raw_value(),
            getpid().as_raw_nonzero()
        ))
        .status()
        .await
        .unwrap();
        assert!(status.success());
        stream.recv().await;
    });
}

#[test]
fn bad_signals_are_typed_errors_naming_them() {
    tulip::run(async {
        for (raw, name) in [
            (9, "SIGKILL"),
            (19, "SIGSTOP"),
            (11, "SIGSEGV"),
            (7, "SIGBUS"),
            (4, "SIGILL"),
            (8, "SIGFPE"),
        ] {
            let err = signal(SignalKind::from_raw(raw)).unwrap_err();
            assert!(err.is_forbidden(), "{raw}: {err}");
            assert!(err.to_string().contains(name), "{err}");
            assert_eq!(err.signal().as_raw_value(), raw);
            let io: std::io::Error = err.into();
            assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
        }
        for raw in [0, -1, 32, 33, 65, 1000] {
            let err = signal(SignalKind::from_raw(raw)).unwrap_err();
            assert!(err.is_invalid(), "{raw}: {err}");
            assert!(err.to_string().contains(&raw.to_string()), "{err}");
        }
        let handle = Handle::current();
        let err = handle
            .add_signal_handler(SignalKind::from_raw(9), || {})
            .unwrap_err();
        assert!(err.is_forbidden());
        assert!(!handle.remove_signal_handler(SignalKind::from_raw(9)));
    });
    let err = signal(SignalKind::terminate()).unwrap_err();
    assert!(err.is_no_loop(), "{err}");
    assert!(err.to_string().contains("SIGTERM"), "{err}");
}

#[test]
fn handlers_run_on_the_loop_and_can_be_replaced_and_removed() {
    let _watchdog = support::watchdog("handlers_run_on_the_loop_and_can_be_replaced_and_removed");
    tulip::run(async {
        let handle = Handle::current();
        let loop_thread = thread::current().id();
        let first = Arc::new(AtomicUsize::new(0));
        let second = Arc::new(AtomicUsize::new(0));
        // Something else listens too, so removing the handler does not restore the default
        // (which would end this test process).
        let mut witness = signal(SignalKind::quit()).unwrap();

        let count = first.clone();
        handle
            .add_signal_handler(SignalKind::quit(), move || {
                assert_eq!(thread::current().id(), loop_thread);
                count.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        raise(Signal::QUIT);
        witness.recv().await;
        while first.load(Ordering::SeqCst) == 0 {
            tulip::task::yield_now().await;
        }
        let names: Vec<_> = tulip::task::all_tasks()
            .iter()
            .filter_map(|t| t.name().map(str::to_owned))
            .collect();
        assert!(
            names.iter().any(|n| n == "signal handler SIGQUIT"),
            "{names:?}"
        );

        // Replacing: only the new one runs.
        let count = second.clone();
        handle
            .add_signal_handler(SignalKind::quit(), move || {
                count.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        raise(Signal::QUIT);
        witness.recv().await;
        while second.load(Ordering::SeqCst) == 0 {
            tulip::task::yield_now().await;
        }
        assert_eq!(first.load(Ordering::SeqCst), 1);

        // Removing: neither runs.
        assert!(handle.remove_signal_handler(SignalKind::quit()));
        assert!(!handle.remove_signal_handler(SignalKind::quit()));
        raise(Signal::QUIT);
        witness.recv().await;
        for _ in 0..10 {
            tulip::task::yield_now().await;
        }
        assert_eq!(first.load(Ordering::SeqCst), 1);
        assert_eq!(second.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_handler_added_from_another_thread_runs_on_the_loop() {
    let _watchdog = support::watchdog("a_handler_added_from_another_thread_runs_on_the_loop");
    let mut rt = tulip::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let remote = handle.clone();
    thread::spawn(move || {
        remote
            .add_signal_handler(SignalKind::alarm(), move || {
                let _ = tx.send(thread::current().id());
            })
            .unwrap();
    })
    .join()
    .unwrap();
    let loop_thread = thread::current().id();
    let ran_on = rt.block_on(async move {
        raise(Signal::ALARM);
        loop {
            if let Ok(id) = rx.try_recv() {
                return id;
            }
            tulip::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    });
    assert_eq!(ran_on, loop_thread);
    // Closing the loop removes its handlers.
    rt.close();
    assert!(!handle.remove_signal_handler(SignalKind::alarm()));
}

#[test]
fn a_panicking_handler_is_reported_and_stays() {
    let _watchdog = support::watchdog("a_panicking_handler_is_reported_and_stays");
    tulip::run(async {
        let handle = Handle::current();
        let reported = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = reported.clone();
        handle.set_exception_handler(move |cx| {
            sink.lock().unwrap().push(format!(
                "{} / {}",
                cx.message(),
                cx.panic_message().unwrap_or("")
            ));
        });
        let calls = Arc::new(AtomicUsize::new(0));
        let count = calls.clone();
        handle
            .add_signal_handler(SignalKind::window_change(), move || {
                count.fetch_add(1, Ordering::SeqCst);
                panic!("handler failed");
            })
            .unwrap();
        let mut witness = signal(SignalKind::window_change()).unwrap();
        for round in 1..=2 {
            raise(Signal::WINCH);
            witness.recv().await;
            while calls.load(Ordering::SeqCst) < round {
                tulip::task::yield_now().await;
            }
        }
        let reported = reported.lock().unwrap();
        assert_eq!(reported.len(), 2, "{reported:?}");
        assert_eq!(
            reported[0],
            "Exception in signal handler for SIGWINCH / handler failed"
        );
        assert!(handle.remove_signal_handler(SignalKind::window_change()));
    });
}
