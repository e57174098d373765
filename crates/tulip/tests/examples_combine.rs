//! Runs the composition examples (`chained`, `wait_gather`, `gather_vs_as_completed`,
//! `wait_for`, `mygen`, `taskgroup`) as child processes on the test clock
//! (`TULIP_TEST_CLOCK=1`) and checks their whole output, timings included. `chained`'s expected
//! output is worked out here from `fastrand` with the same seed; its timings are also checked
//! against the sleeps it printed: each chain takes part1 + part2, the program its longest chain.

mod support;

use std::collections::BTreeMap;

use support::{assert_output, run_example, run_example_raw};

/// What `chained` prints for `args`, worked out without the runtime.
///
/// At time 0 the chains start in argument order, each drawing its part1 sleep before the next
/// starts. A chain whose part1 ends draws its part2 sleep then; the draws come from one shared
/// generator, so the order of wake-ups is the order of draws. Chains due at the same instant
/// resume in argument order, which is the runtime's order here: each chain keeps the timer slot
/// it took at time 0, and timers due together fire in slot order. (Zero sleeps, which yield
/// instead of sleeping, would change that; the runs checked here draw none, which this
/// asserts.)
fn expected_chained(args: &[u32]) -> String {
    let mut rng = fastrand::Rng::with_seed(444);
    let mut draw = || {
        let i = rng.u64(0..=10);
        assert_ne!(i, 0, "the simulation does not model zero sleeps");
        i
    };
    let mut out = String::new();
    // (wake time, arming order) -> the chain's state: its part1 sleep, and its part2 sleep once
    // drawn. Sleeps due at the same instant wake in the order they were armed, as on a real
    // clock, where the one armed earlier is due a little earlier.
    let mut due = BTreeMap::new();
    let mut armed = 0u32;
    for &n in args {
        let i = draw();
        out += &format!("part1({n}) sleeping for {i} seconds.\n");
        due.insert((i, armed), (n, i, None));
        armed += 1;
    }
    let mut longest = 0;
    while let Some(((now, _), (n, first, second))) = due.pop_first() {
        match second {
            None => {
                out += &format!("Returning part1({n}) == result{n}-1.\n");
                let i = draw();
                out += &format!("part2({n}, 'result{n}-1') sleeping for {i} seconds.\n");
                due.insert((now + i, armed), (n, first, Some(i)));
                armed += 1;
            }
            Some(second) => {
                let derived = format!("result{n}-2 derived from result{n}-1");
                out += &format!("Returning part2({n}, 'result{n}-1') == {derived}.\n");
                assert_eq!(now, first + second);
                out += &format!("-->Chained result{n} => {derived} (took {now}.00 seconds).\n");
                longest = longest.max(now);
            }
        }
    }
    out += &format!("Program finished in {longest}.00 seconds.\n");
    out
}

/// Checks the timing rule on the output itself: each chain took the sum of its two sleeps,
/// the program the longest chain.
fn check_chain_sums(output: &str) {
    let mut sleeps: BTreeMap<String, u64> = BTreeMap::new();
    let mut longest = 0.0f64;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("part") {
            let n: String = rest[2..].chars().take_while(char::is_ascii_digit).collect();
            let secs: u64 = line
                .split("sleeping for ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .expect("a sleeping line names its seconds");
            *sleeps.entry(n).or_default() += secs;
        } else if let Some(rest) = line.strip_prefix("-->Chained result") {
            let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let took: f64 = line
                .split("(took ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .expect("a chained line says how long it took");
            assert_eq!(took, sleeps[&n] as f64, "chain {n}: {output}");
            longest = longest.max(took);
        } else if let Some(rest) = line.strip_prefix("Program finished in ") {
            let total: f64 = rest.trim_end_matches(" seconds.").parse().unwrap();
            assert_eq!(total, longest, "{output}");
            return;
        }
    }
    panic!("no closing line:\n{output}");
}

#[test]
fn chained_9_6_3_takes_part1_plus_part2_per_chain_and_the_longest_chain_in_all() {
    let output = run_example("chained", &["9", "6", "3"]);
    assert_output("chained 9 6 3", &output, &expected_chained(&[9, 6, 3]));
    check_chain_sums(&output);
    // The run is an interesting one: the chains finish in another order than they started.
    let finished: Vec<&str> = output
        .lines()
        .filter_map(|l| l.strip_prefix("-->Chained result"))
        .map(|rest| &rest[..1])
        .collect();
    assert_eq!(finished.len(), 3);
    assert_ne!(finished, ["9", "6", "3"], "{output}");
}

#[test]
fn chained_defaults_to_chains_1_2_3() {
    let output = run_example("chained", &[]);
    assert_output("chained", &output, &expected_chained(&[1, 2, 3]));
    check_chain_sums(&output);
}

#[test]
fn chained_rejects_a_bad_argument_with_usage() {
    let output = run_example_raw("chained", &["nine"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("usage: chained [N...]"), "stderr: {stderr}");
}

const WAIT: &str = "\
Waiting:  1
Waiting:  2
Waiting:  4
Task ret:  Done after 1s
Task ret:  Done after 2s
Task ret:  Done after 4s
TIME:  4.00
";

const GATHER: &str = WAIT;

const GATHER_RETURNED: &str = "\
Waiting:  1
Waiting:  2
Waiting:  2
TIME:  2.00
Task ret:  Done after 1s
Task ret:  Done after 2s
Task ret:  Done after 2s
";

const WAIT_RETURNED: &str = "\
Waiting:  1
Waiting:  2
Waiting:  4
TIME:  4.00
Task ret:  Done after 1s
Task ret:  Done after 2s
Task ret:  Done after 4s
pending: 0
";

const AS_COMPLETED: &str = "\
Waiting:  1
Waiting:  2
Waiting:  4
Task ret: Done after 1s
Task ret: Done after 2s
Task ret: Done after 4s
TIME:  4.00
";

const STOP: &str = "\
Waiting:  1
Waiting:  2
Waiting:  2
interrupted; tasks pending: 4
main cancelled: true
tasks pending after one more turn: 0
TIME:  0.50
";

const WAIT_GATHER: [(&str, &str); 6] = [
    ("wait", WAIT),
    ("gather", GATHER),
    ("gather_returned", GATHER_RETURNED),
    ("wait_returned", WAIT_RETURNED),
    ("as_completed", AS_COMPLETED),
    ("stop", STOP),
];

#[test]
fn wait_gather_variants_each_take_the_longest_sleep() {
    for (variant, expected) in WAIT_GATHER {
        let output = run_example("wait_gather", &[variant]);
        assert_output(&format!("wait_gather {variant}"), &output, expected);
    }
}

#[test]
fn wait_gather_without_arguments_runs_every_variant_in_turn() {
    let expected: String = WAIT_GATHER
        .iter()
        .map(|(variant, output)| format!("--- {variant} ---\n{output}"))
        .collect();
    assert_output("wait_gather", &run_example("wait_gather", &[]), &expected);
}

#[test]
fn wait_gather_rejects_an_unknown_variant() {
    let output = run_example_raw("wait_gather", &["waitt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: wait_gather"));
}

const GATHER_VS_AS_COMPLETED: &str = "\
t done: true
Start: 0.00
End: 10.00
Both tasks done: true
a = [[1, 2, 3], [0, 5, 10]]
Start: 0.00
res: [1, 2, 3] completed at 3.00
res: [0, 5, 10] completed at 10.00
End: 10.00
Both tasks done: true
";

#[test]
fn as_completed_hands_over_the_first_result_at_3_s_and_gather_both_at_10_s() {
    assert_output(
        "gather_vs_as_completed",
        &run_example("gather_vs_as_completed", &[]),
        GATHER_VS_AS_COMPLETED,
    );
}

const WAIT_FOR: &str = "\
long_task cancelled at 5.00 s
Task timed out at 5.00 s
Gave up waiting at 5.00 s; the shielded task runs on
Task finished
Collected its result at 10.00 s
Deadline moved to 12 s at 1.00 s
Task finished
Within the deadline: true, at 11.00 s
";

#[test]
fn wait_for_cancels_at_the_deadline_shield_carries_on_and_timeout_moves() {
    assert_output("wait_for", &run_example("wait_for", &[]), WAIT_FOR);
}

const MYGEN: &str = "\
g = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
f = [1, 2, 16, 32, 256, 512]
took 2.00 seconds
";

#[test]
fn mygen_comprehensions_match_the_seed_and_run_one_after_the_other() {
    assert_output("mygen", &run_example("mygen", &[]), MYGEN);
}

const TASKGROUP: &str = "\
--- all succeed ---
fetch(1) started
fetch(2) started
fetch(3) started
fetch(1) done
fetch(2) done
fetch(3) done
results at 3.00 s: [10, 20, 30]
tasks left: 0
--- one fails ---
fetch(1) started
fetch(4) started
fetch(9) started
fetch(1) done
fetch(4) failed
fetch(9) cancelled
error at 4.00 s: 1 task of the group failed: child 1 failed: fetch(4): server error
tasks left: 0
";

#[test]
fn taskgroup_returns_results_in_order_or_cancels_siblings_at_the_failure() {
    assert_output("taskgroup", &run_example("taskgroup", &[]), TASKGROUP);
}
