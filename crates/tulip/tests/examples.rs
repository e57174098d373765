//! Runs the ported seed programs (`crates/tulip/examples/`) as child processes on the test
//! clock (`TULIP_TEST_CLOCK=1`) and checks their whole output, line by line: the concurrent
//! and sequential counts with their exact timings, the seeded `rand` run (its expected output
//! is worked out here from `fastrand` with the same seed and draw order), the done callback,
//! the low-level loop calls, and the tour that chains them all.

mod support;

use std::collections::BTreeSet;

use support::{assert_output, run_example, run_example_raw};

const COUNTASYNC: &str = "\
One
One
One
Two
Two
Two
countasync executed in 1.00 seconds.
";

const COUNTSYNC: &str = "\
One
Two
One
Two
One
Two
countsync executed in 3.00 seconds.
";

const CALLBACKS: &str = "\
Waiting:  2
Callback:  Done after 2s
Task done: true, cancelled: false
Task ret:  Done after 2s
TIME:  2.00
";

const LOW_LEVEL: &str = "\
[0.00 s] Hello
[0.00 s] World
[0.00 s] Hello from another thread
[1.00 s] call_at: start + 1 s
[2.00 s] call_later: 2 s
[3.00 s] call_later: 3 s, calling stop()
run_forever() returned at 3.00 s
the 1.5 s timer was cancelled before it fired: true
cancelling the task still pending: true
after one more turn, task cancelled: true
closed: true
";

/// What `rand` prints for `seed`, worked out without the runtime.
///
/// The schedule on the test clock: at time 0 the three tasks start in spawn order, each
/// printing its first line and making its first draw before the next one starts. After that a
/// task `idx` that drew too low sleeps `idx + 1` seconds and draws again when it wakes. Each
/// draw comes from the one shared generator, so the order of wake-ups is the order of draws.
///
/// Tasks due at the same instant (with seed 444, tasks 0 and 1 at 2 s) wake in the order their
/// sleeps began: timers due together fire in the order they were armed (asyncio leaves the
/// order undefined). Should that rule change, this test fails at the first line drawn after a
/// tie.
fn expected_rand(seed: u64) -> String {
    const COLOUR: [&str; 3] = ["\x1b[36m", "\x1b[91m", "\x1b[35m"];
    const RESET: &str = "\x1b[0m";
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = String::new();
    let mut results = [0; 3];
    // (wake-up time in seconds, arming order, idx) of the tasks asleep, earliest first.
    let mut asleep = BTreeSet::new();
    let mut armed = 0u64;
    let mut draw =
        |idx: u64, now: u64, out: &mut String, asleep: &mut BTreeSet<(u64, u64, u64)>| {
            let c = COLOUR[idx as usize];
            let threshold = 10 - idx - 1;
            let i = u64::from(rng.u32(0..=10));
            if i <= threshold {
                out.push_str(&format!("{c}makerandom({idx}) == {i} too low; retrying.\n"));
                asleep.insert((now + idx + 1, armed, idx));
                armed += 1;
            } else {
                out.push_str(&format!(
                    "{c}---> Finished: makerandom({idx}) == {i}{RESET}\n"
                ));
                results[idx as usize] = i;
            }
        };
    for idx in 0..3 {
        out.push_str(&format!(
            "{}Initiated makerandom({idx}).\n",
            COLOUR[idx as usize]
        ));
        draw(idx, 0, &mut out, &mut asleep);
    }
    while let Some((now, _, idx)) = asleep.pop_first() {
        draw(idx, now, &mut out, &mut asleep);
    }
    let [r1, r2, r3] = results;
    out.push_str(&format!("\nr1: {r1}, r2: {r2}, r3: {r3}\n"));
    out
}

#[test]
fn countasync_runs_the_three_counts_concurrently_in_one_second() {
    assert_output("countasync", &run_example("countasync", &[]), COUNTASYNC);
}

#[test]
fn countsync_runs_the_three_counts_in_sequence_in_three_seconds() {
    assert_output("countsync", &run_example("countsync", &[]), COUNTSYNC);
}

#[test]
fn rand_with_the_seeds_444_matches_the_draws_worked_out_independently() {
    let expected = expected_rand(444);
    // Make sure the run is an interesting one: some task retries while others are asleep.
    assert!(expected.matches("too low; retrying.").count() >= 3);
    assert_output("rand", &run_example("rand", &[]), &expected);
    assert_output(
        "rand --seed 444",
        &run_example("rand", &["--seed", "444"]),
        &expected,
    );
}

#[test]
fn rand_takes_another_seed() {
    let expected = expected_rand(7);
    assert_ne!(expected, expected_rand(444));
    assert_output(
        "rand --seed 7",
        &run_example("rand", &["--seed", "7"]),
        &expected,
    );
    assert_output(
        "rand --seed=7",
        &run_example("rand", &["--seed=7"]),
        &expected,
    );
}

#[test]
fn rand_rejects_a_bad_seed_with_usage() {
    let output = run_example_raw("rand", &["--seed", "many"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("usage: rand [--seed N]"),
        "stderr: {stderr}"
    );
}

#[test]
fn callbacks_runs_the_done_callback_then_reads_the_finished_task() {
    assert_output("callbacks", &run_example("callbacks", &[]), CALLBACKS);
}

#[test]
fn low_level_callbacks_run_in_time_order_until_stop() {
    assert_output("low_level", &run_example("low_level", &[]), LOW_LEVEL);
}

#[test]
fn tour_prints_every_program_in_order_under_a_header() {
    // Each program's own output is checked exactly by its own test; this checks that the tour
    // is those programs, in order, each under its header, with the same arguments.
    let programs: &[(&str, &[&str])] = &[
        ("countasync", &[]),
        ("countsync", &[]),
        ("rand", &[]),
        ("callbacks", &[]),
        ("low_level", &[]),
        ("chained", &["9", "6", "3"]),
        ("wait_gather", &[]),
        ("gather_vs_as_completed", &[]),
        ("wait_for", &[]),
        ("mygen", &[]),
        ("taskgroup", &[]),
        ("asyncq", &[]),
        ("prodcons", &[]),
        ("sync_lock", &[]),
        ("sync_event", &[]),
        ("sync_condition", &[]),
        ("sync_semaphore", &[]),
        ("executors", &[]),
        ("file_copy", &[]),
        ("aiofiles_append", &[]),
        ("subprocess_pipeline", &[]),
        ("echo", &[]),
        ("chat", &[]),
        ("crawler_blocking", &[]),
        ("crawler_callbacks", &[]),
        ("crawler_coroutines", &[]),
    ];
    let expected = programs
        .iter()
        .map(|(name, args)| format!("=== {name} ===\n{}", run_example(name, args)))
        .collect::<String>();
    // The first five are also pinned here, so the tour cannot drift with its parts.
    assert!(expected.contains(COUNTASYNC) && expected.contains(COUNTSYNC));
    assert!(expected.contains(CALLBACKS) && expected.contains(LOW_LEVEL));
    assert!(expected.contains(&expected_rand(444)));
    assert_output("tour", &run_example("tour", &[]), &expected);
}

const EXECUTORS: &str = "\
threading(0): done
threading(1): done
threading(2): done
process(0): done, sum 333333283333335000000
process(1): done, sum 333333283333335000000
process(2): done, sum 333333283333335000000
all 6 jobs were running at the same moment: true
";

#[test]
fn executors_runs_blocking_and_cpu_jobs_all_at_once() {
    assert_output("executors", &run_example("executors", &[]), EXECUTORS);
}
