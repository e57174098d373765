//! Runs tulip-http's examples as child processes and checks their output: the seed's
//! `test1` … `test8` and `fetch_url_async` against the web service started in-process on the
//! test clock (exact seconds: 3, 1.1, 1, 1, 3, 1, 1, 2 and 3; the `/random` numbers are the
//! seeded generator's, checked against it worked out here), their usage errors, and the
//! `web` service itself as a server process: found on the port it prints, used over real
//! HTTP by `test1` and `test8 --url`, and stopped by Ctrl+C (SIGINT) with its counts.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `target/<profile>/`: the test binary lives in its `deps/`, the examples in `examples/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows where its binary is");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary sits in target/<profile>/deps/")
        .to_path_buf()
}

/// Builds the examples once, with the cargo running the tests, into the same target
/// directory and profile (a no-op when `cargo test` has just built them; needed after
/// `cargo test --test examples`, which builds only this file).
fn build_examples() -> &'static Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = profile_dir();
        let target_dir = dir.parent().expect("target/<profile>/ has a parent");
        let profile = match dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => "dev".to_owned(),
            Some(name) => name.to_owned(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "tulip-http", "--examples"])
            .arg("--profile")
            .arg(&profile)
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status();
        match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("cargo build --examples failed: {status}")),
            Err(err) => Err(format!("could not start cargo: {err}")),
        }
    })
}

fn example(name: &str) -> Command {
    let binary = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if let Err(err) = build_examples() {
        assert!(
            binary.exists(),
            "{err}, and {} is missing",
            binary.display()
        );
        eprintln!("warning: {err}; running the existing {}", binary.display());
    }
    let mut command = Command::new(binary);
    // The in-process runs pick the test clock themselves; nothing from outside changes them.
    command
        .env_remove("TULIP_TEST_CLOCK")
        .env_remove("TULIP_DEBUG");
    command
}

fn run_raw(name: &str, args: &[&str]) -> Output {
    example(name)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("could not run {name}: {err}"))
}

/// Runs `name`, checks it succeeded and wrote nothing on standard error, returns its output.
fn run(name: &str, args: &[&str]) -> String {
    let output = run_raw(name, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "example {name} failed ({}); stderr:\n{stderr}",
        output.status
    );
    assert!(
        stderr.is_empty(),
        "example {name} wrote to stderr:\n{stderr}"
    );
    String::from_utf8(output.stdout).expect("the examples print UTF-8")
}

/// Line by line, so a failure points at the first line that differs.
#[track_caller]
fn assert_output(name: &str, actual: &str, expected: &str) {
    for (number, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(
            a,
            e,
            "example {name}, line {}: full output:\n{actual}",
            number + 1
        );
    }
    assert_eq!(actual, expected, "example {name}: output differs in length");
}

const OK: &str = "response {'msg': 'ok'}";

#[test]
fn tour_prints_every_program_in_order_under_a_header() {
    // Each program's output is checked by its own test; this checks the tour chains them
    // exactly, so it cannot drift from its parts.
    let programs = [
        "test1",
        "test2",
        "test3",
        "test4",
        "test5",
        "test6",
        "test7",
        "test8",
        "fetch_url_async",
    ];
    let mut expected = String::new();
    for name in programs {
        expected.push_str(&format!("=== {name} ===\n"));
        expected.push_str(&run(name, &[]));
    }
    assert_output("tour", &run("tour", &[]), &expected);
}

#[test]
fn test1_makes_the_three_requests_one_after_another_in_three_seconds() {
    let expected = format!("{OK}\n{OK}\n{OK}\ntook 3.00 s\n");
    assert_output("test1", &run("test1", &[]), &expected);
}

#[test]
fn test2_runs_them_as_tasks_and_waits_its_clumsy_1_1_seconds() {
    let expected = format!("{OK}\n{OK}\n{OK}\ntook 1.10 s\n");
    assert_output("test2", &run("test2", &[]), &expected);
}

#[test]
fn test3_waits_for_the_tasks_with_wait_in_one_second() {
    let expected =
        format!("{OK}\n{OK}\n{OK}\ndone: [task 0, task 1, task 2], pending: []\ntook 1.00 s\n");
    assert_output("test3", &run("test3", &[]), &expected);
}

#[test]
fn test4_gathers_the_results_in_task_order_in_one_second() {
    let expected = format!("{OK}\n{OK}\n{OK}\n[0, 1, 2]\ntook 1.00 s\n");
    assert_output("test4", &run("test4", &[]), &expected);
}

#[test]
fn test5_serialises_the_requests_with_a_lock_in_three_seconds() {
    let expected = format!("{OK}\n{OK}\n{OK}\n[0, 1, 2]\ntook 3.00 s\n");
    assert_output("test5", &run("test5", &[]), &expected);
}

/// The first `n` numbers of the in-process `/random` (`web.rs`: SplitMix64 seeded with
/// 20220711, 53 bits per float), worked out here independently.
fn seeded_randoms(n: usize) -> Vec<f64> {
    let mut state: u64 = 20_220_711;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// The number in a `... {'msg': 0.123}` line.
fn msg_value(line: &str) -> f64 {
    let number = line
        .split("{'msg': ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or_else(|| panic!("no {{'msg': number}} in {line:?}"));
    number
        .parse()
        .unwrap_or_else(|err| panic!("{number:?} in {line:?}: {err}"))
}

/// The values are the generator's first three, in some order (requests answered at the same
/// instant may be drawn for in any order), up to the last bit JSON's round trip may lose.
#[track_caller]
fn assert_seeded(values: &[f64]) {
    let mut expected = seeded_randoms(values.len());
    let mut values = values.to_vec();
    expected.sort_by(f64::total_cmp);
    values.sort_by(f64::total_cmp);
    for (got, want) in values.iter().zip(&expected) {
        assert!(
            (got - want).abs() < 1e-15,
            "got {values:?}, expected {expected:?}"
        );
    }
}

#[test]
fn test6_wakes_every_waiter_of_an_event_after_the_response_that_sets_it() {
    let out = run("test6", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8, "{out}");
    assert_eq!(lines[7], "took 1.00 s");

    let responses: Vec<(usize, f64)> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with("response {'msg': "))
        .map(|(i, line)| (i, msg_value(line)))
        .collect();
    assert_eq!(responses.len(), 3, "{out}");
    assert_seeded(&responses.iter().map(|&(_, v)| v).collect::<Vec<_>>());

    // Each pair of waiters prints after the response that set its event, or, if no response
    // did, after all of them (the program sets it then).
    let last_response = responses[2].0;
    let first = |pred: fn(f64) -> bool| {
        responses
            .iter()
            .find(|&&(_, v)| pred(v))
            .map_or(last_response, |&(i, _)| i)
    };
    let big_set_at = first(|v| v > 0.5);
    let small_set_at = first(|v| v <= 0.5);
    for (who, set_at) in [("small", big_set_at), ("big", small_set_at)] {
        let line = format!("[1.00 s] {who} waiter got the event");
        let at: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == line).collect();
        assert_eq!(at.len(), 2, "two {who} waiters in:\n{out}");
        assert!(
            at.iter().all(|&i| i > set_at),
            "{who} waiters too early:\n{out}"
        );
    }
}

#[test]
fn test7_notify_2_wakes_two_waiters_then_the_last_one() {
    let out = run("test7", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert_eq!(lines[6], "took 1.00 s");

    let responses: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("response {'msg': "))
        .collect();
    assert_eq!(responses.len(), 3, "{out}");
    assert_seeded(
        &responses
            .iter()
            .map(|&i| msg_value(lines[i]))
            .collect::<Vec<_>>(),
    );

    // The condition's waiters are served first come, first served: 0, 1, then 2; the first
    // two once the first response has notified, the last once the second has.
    let waiters: Vec<usize> = (0..3)
        .map(|id| {
            let line = format!("[1.00 s] waiter[{id}] done waiting");
            lines
                .iter()
                .position(|l| *l == line)
                .unwrap_or_else(|| panic!("no {line:?} in:\n{out}"))
        })
        .collect();
    assert!(waiters[0] < waiters[1] && waiters[1] < waiters[2], "{out}");
    assert!(waiters[0] > responses[0], "{out}");
    assert!(waiters[2] > responses[1], "{out}");
}

#[test]
fn test8_lets_two_workers_in_at_a_time_so_it_takes_two_seconds() {
    let out = run("test8", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    // Workers 0 and 1 answer together after a second, in the order they asked (timers due
    // together fire in arming order), worker 2 a second later.
    let first_two: Vec<&str> = lines[..2]
        .iter()
        .map(|line| {
            line.strip_prefix("[1.00 s] ")
                .and_then(|rest| rest.split(' ').next())
                .unwrap_or_else(|| panic!("{line:?} is not a one-second answer in:\n{out}"))
        })
        .collect();
    assert_eq!(first_two, ["worker[0]", "worker[1]"], "{out}");
    assert!(
        lines[2].starts_with("[2.00 s] worker[2] response {'msg': "),
        "{out}"
    );
    assert_eq!(lines[3], "took 2.00 s");
    assert_seeded(&lines[..3].iter().map(|l| msg_value(l)).collect::<Vec<_>>());
}

#[test]
fn fetch_url_async_overlaps_the_three_fetches_in_three_seconds() {
    let out = run("fetch_url_async", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "all tasks created, running them concurrently...",
            "start fetching /get",
            "start fetching /delay/1",
            "start fetching /headers",
        ],
        "{out}"
    );
    // /get and /headers are done together after their two-second "processing"; /delay/1
    // answered a second later, so it is done last.
    let mut together = lines[4..6].to_vec();
    together.sort_unstable();
    assert_eq!(
        together,
        ["done fetching /get", "done fetching /headers"],
        "{out}"
    );
    assert_eq!(
        lines[6..],
        [
            "done fetching /delay/1",
            "",
            "async version took 3.00 s",
            // {"args":{},"path":"/get"}
            "data from /get (length: 25)",
            // {"delay":1}
            "data from /delay/1 (length: 11)",
            // {"headers":{"User-Agent":"tulip-http/0.1"}}: the session's default User-Agent
            "data from /headers (length: 43)",
        ],
        "{out}"
    );
}

#[test]
fn the_client_programs_reject_unknown_arguments_with_usage() {
    for name in ["test1", "test6", "fetch_url_async"] {
        let output = run_raw(name, &["--bogus"]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("usage: {name} [--url URL]")),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("\"--bogus\""), "{name}: {stderr}");
    }
    let output = run_raw("test1", &["--url"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--url needs a value"));
}

#[test]
fn web_rejects_a_bad_port_and_a_port_in_use() {
    let output = run_raw("web", &["--port", "eighty"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--port \"eighty\""), "{stderr}");
    assert!(
        stderr.contains("usage: web [--host HOST] [--port N] [--seed N]"),
        "{stderr}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run_raw("web", &["--port", &port]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&port),
        "the error names the address: {stderr}"
    );
}

/// Waits for `child` to exit, killing it and failing if it takes longer than `limit`.
fn wait_with_limit(child: &mut Child, what: &str, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn web_serves_the_client_programs_over_real_http_and_stops_on_ctrl_c() {
    let mut web = example("web")
        .args(["--port", "0", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting web");
    let mut stdout = BufReader::new(web.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .strip_prefix("serving on http://")
        .and_then(|rest| rest.strip_suffix(" (press Ctrl+C to quit)\n"))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();

    // Both programs at once, on the real clock: check order and content, not durations.
    let test1 = example("test1")
        .arg("--url")
        .arg(format!("http://{addr}/"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let test8 = example("test8")
        .arg(format!("--url=http://{addr}/random"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let test1 = test1.wait_with_output().unwrap();
    let test8 = test8.wait_with_output().unwrap();
    assert!(test1.status.success() && test8.status.success());

    let out = String::from_utf8(test1.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], [OK, OK, OK], "{out}");
    assert!(lines[3].starts_with("took ") && lines.len() == 4, "{out}");

    let out = String::from_utf8(test8.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let mut workers: Vec<&str> = lines[..3]
        .iter()
        .map(|line| {
            let value = msg_value(line);
            assert!((0.0..1.0).contains(&value), "{line}");
            line.split(' ').nth(2).unwrap()
        })
        .collect();
    assert_eq!(
        workers.pop(),
        Some("worker[2]"),
        "worker 2 waits for a permit:\n{out}"
    );
    workers.sort_unstable();
    assert_eq!(workers, ["worker[0]", "worker[1]"], "{out}");

    // Ctrl+C: the service shuts down gracefully and says what it served. test1 reused one
    // connection for its three requests; test8's third request reused one of its two.
    let interrupted = Command::new("kill")
        .args(["-INT", &web.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = wait_with_limit(&mut web, "web after SIGINT", Duration::from_secs(30));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    web.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "web exited with {status}; stderr:\n{stderr}"
    );
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(rest, "shutting down\nserved 6 requests on 3 connections\n");
}
