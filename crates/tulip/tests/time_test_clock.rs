//! The test clock: it stands still while any task can run, jumps to the next timer when all
//! are idle, moves by hand with `time::advance`, keeps 100 000 timers exact and in order, and
//! is switched on for a whole process by `TULIP_TEST_CLOCK=1`.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use tulip::Runtime;
use tulip::task::yield_now;
use tulip::time::{Instant, advance, sleep};

fn test_clock() -> Runtime {
    Runtime::builder().test_clock().build().unwrap()
}

const SEC: Duration = Duration::from_secs(1);

#[test]
fn a_new_test_clock_stands_still_until_a_timer_needs_it() {
    let mut rt = test_clock();
    let start = rt.time();
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(rt.time(), start, "real time passing does not move it");
    rt.block_on(async {
        assert_eq!(Instant::now(), start, "Instant::now reads the loop's clock");
        sleep(Duration::from_secs(86_400)).await;
    });
    assert_eq!(
        rt.time() - start,
        Duration::from_secs(86_400),
        "jumped, not waited"
    );
}

#[test]
fn time_stands_still_while_a_task_busy_yields() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let sleeper = tulip::spawn(sleep(Duration::from_millis(1)));
        let spinner = tulip::spawn(async move {
            for _ in 0..1_000 {
                assert_eq!(Instant::now(), start);
                yield_now().await;
            }
            Instant::now()
        });
        let spun_until = spinner.await.unwrap();
        assert_eq!(spun_until, start, "1000 yields took no virtual time");
        assert!(
            !sleeper.is_finished(),
            "the 1 ms timer did not fire while a task could run"
        );
        sleeper.await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(1));
    });
}

#[test]
fn time_stands_still_while_a_task_blocks_the_thread() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let blocker = tulip::spawn(async {
            std::thread::sleep(Duration::from_millis(5)); // real time passes, loop time not
            Instant::now()
        });
        assert_eq!(blocker.await.unwrap(), start);
    });
}

#[test]
fn advance_moves_the_clock_by_hand_and_fires_what_came_due() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let woke_at = Rc::new(Cell::new(None));
        let record = woke_at.clone();
        let sleeper = tulip::spawn(async move {
            sleep(10 * SEC).await;
            record.set(Some(Instant::now() - start));
        });
        yield_now().await; // let it arm its timer

        advance(4 * SEC).await;
        assert_eq!(start.elapsed(), 4 * SEC);
        assert!(!sleeper.is_finished());
        advance(5 * SEC).await;
        assert_eq!(start.elapsed(), 9 * SEC);
        assert!(!sleeper.is_finished());
        advance(SEC).await;
        assert_eq!(start.elapsed(), 10 * SEC);
        assert!(
            sleeper.is_finished(),
            "the woken task ran before advance returned"
        );
        assert_eq!(woke_at.get(), Some(10 * SEC));
        sleeper.await.unwrap();

        advance(Duration::ZERO).await;
        assert_eq!(start.elapsed(), 10 * SEC);
    });
}

#[test]
fn advance_past_several_timers_wakes_them_all() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let order = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = [3u64, 1, 2]
            .into_iter()
            .map(|s| {
                let order = order.clone();
                tulip::spawn(async move {
                    sleep(Duration::from_secs(s)).await;
                    order.borrow_mut().push(s);
                })
            })
            .collect();
        yield_now().await;
        advance(5 * SEC).await;
        assert!(tasks.iter().all(|t| t.is_finished()));
        assert_eq!(*order.borrow(), [1, 2, 3], "woken in deadline order");
        assert_eq!(start.elapsed(), 5 * SEC);
    });
}

#[test]
fn advance_on_a_real_clock_panics() {
    let mut rt = Runtime::builder().real_clock().build().unwrap();
    let message = rt.block_on(async {
        let caught = catch_unwind(AssertUnwindSafe(|| {
            // Polling the advance future once runs its body.
            let mut fut = std::pin::pin!(advance(SEC));
            let waker = std::task::Waker::noop();
            let _ = fut
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker));
        }));
        let payload = caught.unwrap_err();
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap()
    });
    assert!(message.contains("test_clock"), "{message}");
}

#[test]
fn many_concurrent_sleeps_end_at_their_exact_deadlines_in_order() {
    const SLEEPS: usize = 100_000;
    let mut rt = test_clock();
    let mut rng = fastrand::Rng::with_seed(0x7411_7009);
    let durations: Vec<Duration> = (0..SLEEPS)
        .map(|_| Duration::from_micros(rng.u64(0..10_000_000)))
        .collect();
    let (start, done) = rt.block_on(async {
        let start = Instant::now();
        let done = Rc::new(RefCell::new(Vec::with_capacity(SLEEPS)));
        for (i, &d) in durations.iter().enumerate() {
            let done = done.clone();
            tulip::spawn(async move {
                sleep(d).await;
                done.borrow_mut().push((i, Instant::now()));
            })
            .detach();
        }
        let longest = durations.iter().max().copied().unwrap();
        sleep(longest + SEC).await;
        (start, Rc::try_unwrap(done).unwrap().into_inner())
    });
    assert_eq!(done.len(), SLEEPS, "every sleep completed");
    for &(i, at) in &done {
        assert_eq!(at - start, durations[i], "sleep {i} ended at its deadline");
    }
    assert!(
        done.windows(2).all(|w| w[0].1 <= w[1].1),
        "completions are in deadline order"
    );
}

/// Marks the child process of `the_env_var_puts_every_loop_on_the_test_clock`.
const CHILD_MARK: &str = "TULIP_TEST_CLOCK_CHILD";

#[test]
fn env_child_checks_runtime_new_uses_the_test_clock() {
    if std::env::var_os(CHILD_MARK).is_none() {
        return; // only meaningful in the child started below
    }
    let mut rt = Runtime::new().unwrap();
    let start = rt.time();
    rt.block_on(sleep(Duration::from_secs(3600)));
    assert_eq!(rt.time() - start, Duration::from_secs(3600));
    let real = Runtime::builder().real_clock().build().unwrap();
    let before = real.time();
    std::thread::sleep(Duration::from_millis(2));
    assert!(real.time() > before, ".real_clock() overrides the variable");
    println!("child: test clock confirmed");
}

#[test]
fn the_env_var_puts_every_loop_on_the_test_clock() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "env_child_checks_runtime_new_uses_the_test_clock",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MARK, "1")
        .env("TULIP_TEST_CLOCK", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("child: test clock confirmed"),
        "the child test did not run:\n{stdout}"
    );
}
