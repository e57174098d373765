//! `tulip::run` and Ctrl+C, each rule checked in a child process (this test binary started
//! again on one scenario) that the test sends `SIGINT` to:
//!
//! - an unhandled Ctrl+C cancels the main future (its clean-up runs), then the tasks, and the
//!   process exits with status 130;
//! - a program that awaits `ctrl_c()` handles Ctrl+C itself: main is not cancelled and `run`
//!   returns normally — also when the task that awaited it has ended by the time `run` looks;
//! - a second Ctrl+C during the clean-up exits with 130 at once;
//! - once `run` has returned, Ctrl+C does what it does by default (the process dies of it);
//! - a process started with `SIGINT` ignored (`trap '' INT`) keeps ignoring it inside `run`;
//! - a signal listened for and then no longer takes its default action again (`SIGUSR1`
//!   ends the process).
//!
//! The scenarios print lines starting with `@`; the test waits for `@ready` before signalling.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, getpid, kill_process};

const SCENARIO: &str = "TULIP_CTRL_C_SCENARIO";

fn say(line: &str) {
    println!("@{line}");
}

/// Blocks the thread (not the loop's timers: the loop is blocked too) for long enough that a
/// test would notice, without ever ending the scenario on its own in time.
fn stall() {
    std::thread::sleep(Duration::from_secs(30));
}

struct Say(&'static str);

impl Drop for Say {
    fn drop(&mut self) {
        say(self.0);
    }
}

fn scenario(name: &str) {
    match name {
        "unhandled" => {
            tulip::run(async {
                let _clean_up = Say("main cleaned up");
                let task = tulip::spawn(async {
                    let _clean_up = Say("task cleaned up");
                    std::future::pending::<()>().await;
                });
                tulip::task::yield_now().await;
                say("ready");
                task.await.unwrap();
            });
            say("not reached");
        }
        "handled" => {
            let answer = tulip::run(async {
                let ctrl_c = tulip::signal::ctrl_c();
                say("ready");
                ctrl_c.await.unwrap();
                say("main saw ctrl_c");
                42
            });
            say(&format!("run returned {answer}"));
        }
        "handled_by_a_task" => {
            let answer = tulip::run(async {
                let done = std::rc::Rc::new(tulip::sync::Event::new());
                let set = done.clone();
                // The task ends (dropping its listener) before main looks again.
                tulip::spawn(async move {
                    tulip::signal::ctrl_c().await.unwrap();
                    say("task saw ctrl_c");
                    set.set();
                })
                .detach();
                tulip::task::yield_now().await;
                say("ready");
                done.wait().await;
                7
            });
            say(&format!("run returned {answer}"));
        }
        "second" => {
            tulip::run(async {
                struct SlowCleanUp;
                impl Drop for SlowCleanUp {
                    fn drop(&mut self) {
                        say("cleaning up");
                        stall();
                        say("clean-up finished");
                    }
                }
                let _clean_up = SlowCleanUp;
                say("ready");
                std::future::pending::<()>().await;
            });
        }
        "after_run" => {
            tulip::run(async {});
            say("ready");
            stall();
            say("not interrupted");
        }
        "ignored" => {
            tulip::run(async {
                let mut usr1 =
                    tulip::signal::signal(tulip::signal::SignalKind::user_defined1()).unwrap();
                say("ready");
                usr1.recv().await;
                say("main saw SIGUSR1");
            });
            say("run returned");
        }
        "default_restored" => {
            tulip::run(async {
                let mut usr1 =
                    tulip::signal::signal(tulip::signal::SignalKind::user_defined1()).unwrap();
                kill_process(getpid(), Signal::USR1).unwrap();
                usr1.recv().await;
                say("heard SIGUSR1 once");
            });
            kill_process(getpid(), Signal::USR1).unwrap();
            stall();
            say("still alive");
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// The entry point of the child processes: runs the scenario named in the environment, and
/// does nothing in an ordinary test run.
#[test]
fn child_process_entry() {
    if let Ok(name) = std::env::var(SCENARIO) {
        scenario(&name);
    }
}

struct Scenario {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    seen: Vec<String>,
}

impl Scenario {
    fn start(name: &str) -> Scenario {
        Scenario::start_with(name, Command::new(std::env::current_exe().unwrap()))
    }

    /// Starts the scenario with `command`, which must end in this test binary.
    fn start_with(name: &str, mut command: Command) -> Scenario {
        let mut child = command
            .args([
                "--exact",
                "child_process_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SCENARIO, name)
            .env_remove("TULIP_TEST_CLOCK")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Scenario {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads until `@line` (panics if the output ends first).
    fn expect(&mut self, line: &str) {
        let wanted = format!("@{line}");
        while let Some(got) = self.lines.by_ref().find_map(at_line) {
            self.seen.push(got.clone());
            if got == wanted {
                return;
            }
        }
        panic!("no `{wanted}` in the output; saw {:?}", self.seen);
    }

    fn signal(&self, signal: Signal) {
        kill_process(Pid::from_child(&self.child), signal).unwrap();
    }

    /// The rest of the `@` lines and the exit status.
    fn finish(&mut self) -> (Vec<String>, ExitStatus) {
        let rest: Vec<String> = self.lines.by_ref().filter_map(at_line).collect();
        (rest, self.child.wait().unwrap())
    }
}

/// The scenario's part of an output line: libtest may have printed `test … ` before it on
/// the same line.
fn at_line(line: std::io::Result<String>) -> Option<String> {
    let line = line.unwrap();
    line.find('@').map(|at| line[at..].to_owned())
}

impl Drop for Scenario {
    /// A failed check must not leave the child running (it may be stalled on purpose).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn unhandled_ctrl_c_cancels_main_then_tasks_and_exits_130() {
    let _watchdog = support::watchdog("unhandled_ctrl_c");
    let mut child = Scenario::start("unhandled");
    child.expect("ready");
    child.signal(Signal::INT);
    let (rest, status) = child.finish();
    assert_eq!(rest, ["@main cleaned up", "@task cleaned up"]);
    assert_eq!(status.code(), Some(130), "{status}");
}

#[test]
fn a_program_awaiting_ctrl_c_handles_it_itself() {
    let _watchdog = support::watchdog("a_program_awaiting_ctrl_c_handles_it_itself");
    let mut child = Scenario::start("handled");
    child.expect("ready");
    child.signal(Signal::INT);
    let (rest, status) = child.finish();
    assert_eq!(rest, ["@main saw ctrl_c", "@run returned 42"]);
    assert!(status.success(), "{status}");
}

#[test]
fn a_task_that_handled_ctrl_c_and_ended_still_counts_as_handling_it() {
    let _watchdog = support::watchdog("a_task_that_handled_ctrl_c");
    let mut child = Scenario::start("handled_by_a_task");
    child.expect("ready");
    child.signal(Signal::INT);
    let (rest, status) = child.finish();
    assert_eq!(rest, ["@task saw ctrl_c", "@run returned 7"]);
    assert!(status.success(), "{status}");
}

#[test]
fn a_second_ctrl_c_during_clean_up_exits_at_once() {
    let _watchdog = support::watchdog("a_second_ctrl_c_during_clean_up_exits_at_once");
    let mut child = Scenario::start("second");
    child.expect("ready");
    child.signal(Signal::INT);
    child.expect("cleaning up");
    child.signal(Signal::INT);
    let (rest, status) = child.finish();
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(status.code(), Some(130), "{status}");
}

#[test]
fn after_run_ctrl_c_kills_as_usual() {
    let _watchdog = support::watchdog("after_run_ctrl_c_kills_as_usual");
    let mut child = Scenario::start("after_run");
    child.expect("ready");
    child.signal(Signal::INT);
    let (rest, status) = child.finish();
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(status.signal(), Some(2), "{status}");
}

#[test]
fn an_ignored_sigint_stays_ignored() {
    let _watchdog = support::watchdog("an_ignored_sigint_stays_ignored");
    // The shell ignores SIGINT, and `exec` keeps it ignored in this binary.
    let mut shell = Command::new("/bin/sh");
    shell
        .arg("-c")
        .arg("trap '' INT; exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap());
    let mut child = Scenario::start_with("ignored", shell);
    child.expect("ready");
    // Signals pending together are delivered lowest number first: were SIGINT not ignored, it
    // would cancel main before SIGUSR1 could be seen.
    child.signal(Signal::INT);
    child.signal(Signal::USR1);
    let (rest, status) = child.finish();
    assert_eq!(rest, ["@main saw SIGUSR1", "@run returned"]);
    assert!(status.success(), "{status}");
}

#[test]
fn a_signal_no_longer_listened_for_takes_its_default_action() {
    let _watchdog = support::watchdog("a_signal_no_longer_listened_for");
    let mut child = Scenario::start("default_restored");
    let (rest, status) = child.finish();
    assert_eq!(rest, ["@heard SIGUSR1 once"]);
    assert_eq!(status.signal(), Some(10), "{status}");
}
