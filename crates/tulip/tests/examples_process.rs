//! Runs the subprocess and signal examples as child processes and checks what they print:
//! `subprocess_pipeline` (`ls | wc -l` three ways, 10 MiB through `cat` with matching
//! checksums, `head -c 10` stopping early without an error) line by line, and `stop` (the
//! `001_…` stop program), which the test interrupts with `SIGINT` once its three tasks run,
//! then checks that `main` and every task were cancelled and cleaned up, nothing else was
//! printed, and the exit status is 130.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use rustix::process::{Pid, Signal, kill_process};
use support::{assert_output, run_example};

/// The checksum `subprocess_pipeline` prints, worked out here from the same recipe.
fn expected_checksum() -> u64 {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for _ in 0..10 * 1024 * 1024 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let byte = (state >> 24) as u8;
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[test]
fn subprocess_pipeline() {
    let _watchdog = support::watchdog("subprocess_pipeline");
    let sum = expected_checksum();
    let expected = format!(
        "\
ls | wc -l, copied through tulip: 12 (96 bytes passed from ls to wc)
ls | wc -l, ls writing straight into wc: 12
ls | wc -l, in the shell: 12
cat: sent 10485760 bytes, got 10485760 back
cat: checksum in {sum:#018x}, out {sum:#018x}: same
head -c 10: got 10 bytes of the 10485760 sent, exit status 0
"
    );
    let output = run_example("subprocess_pipeline", &[]);
    assert_output("subprocess_pipeline", &output, &expected);
}

#[test]
fn stop_cancels_every_task_on_ctrl_c_and_exits_130() {
    let _watchdog = support::watchdog("stop_cancels_every_task_on_ctrl_c_and_exits_130");
    if let Err(err) = support::build_examples() {
        eprintln!("warning: {err}");
    }
    let binary = support::profile_dir().join("examples").join("stop");
    // The real clock: on the test clock the tasks' sleeps would take no time and flood the
    // output. Nothing below depends on how long anything takes.
    let mut child = Command::new(&binary)
        .env_remove("TULIP_TEST_CLOCK")
        .env_remove("TULIP_DEBUG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("could not run {}: {err}", binary.display()));
    let pid = Pid::from_child(&child);
    // Whatever happens below, the example must not be left running.
    struct KillOnDrop(Option<Pid>);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            if let Some(pid) = self.0 {
                let _ = kill_process(pid, Signal::KILL);
            }
        }
    }
    let mut guard = KillOnDrop(Some(pid));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut before = Vec::new();
    loop {
        let mut line = String::new();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "stop ended early");
        let done = line == "Press Ctrl+C to stop\n";
        before.push(line);
        if done {
            break;
        }
    }
    kill_process(pid, Signal::INT).unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    guard.0 = None; // reaped: the pid may be reused from here on

    let mut started: Vec<&str> = before[..3].iter().map(String::as_str).collect();
    started.sort();
    assert_eq!(started, ["Waiting:  1\n", "Waiting:  2\n", "Waiting:  2\n"]);
    // Whatever the tasks printed before the signal landed (if the machine is slow), then the
    // clean-up, in order: main first, then each task as `run` cancels it.
    let lines: Vec<&str> = rest
        .lines()
        .skip_while(|line| line.starts_with("Waiting:") || line.starts_with("Done after"))
        .collect();
    assert_eq!(
        lines.first().copied(),
        Some("main cancelled, 3 tasks pending: do_some_work(1), do_some_work(2), do_some_work(2)"),
        "full output:\n{rest}"
    );
    let mut tasks: Vec<&str> = lines[1..].to_vec();
    tasks.sort();
    assert_eq!(
        tasks,
        [
            "do_some_work(1) cancelled: cleaning up",
            "do_some_work(2) cancelled: cleaning up",
            "do_some_work(2) cancelled: cleaning up",
        ],
        "full output:\n{rest}"
    );
    assert!(stderr.is_empty(), "stop wrote to stderr:\n{stderr}");
    assert_eq!(status.code(), Some(130), "{status}");
}
