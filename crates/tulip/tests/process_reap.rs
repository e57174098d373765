//! Reaping: 200 children running at once, each awaited by its own task; no zombie left
//! behind by awaited, killed or dropped children; a dropped child keeps running and is reaped
//! once it exits; `kill_on_drop` kills it, also when the waiting task is cancelled; a child
//! waited for on one loop while another loop runs.

mod support;

use std::time::Duration;

use tulip::process::{Command, Stdio};

/// The state letter (`R`, `S`, `Z`, …) of `pid` if it is a child of this process.
fn child_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid: u32 = fields.next()?.parse().ok()?;
    (ppid == std::process::id()).then_some(state)
}

/// Waits (on this thread) until `pid` is no longer a child of ours: reaped. The orphan reaper
/// works on its own thread, so there is nothing to await; the watchdog bounds the wait.
fn wait_until_reaped(pid: u32) {
    while child_state(pid).is_some() {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[tulip::test]
async fn two_hundred_children_at_once() {
    let _watchdog = support::watchdog("two_hundred_children_at_once");
    // Every child waits on its stdin, so all 200 are alive together until we let them go.
    let mut children: Vec<_> = (0..200)
        .map(|i| {
            Command::shell(format!("read line; exit {}", i % 50))
                .stdin(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    for &pid in &pids {
        assert!(child_state(pid).is_some(), "{pid} is not running");
    }
    let stdins: Vec<_> = children
        .iter_mut()
        .map(|c| c.stdin.take().unwrap())
        .collect();
    let waiters: Vec<_> = children
        .into_iter()
        .map(|mut child| tulip::spawn(async move { child.wait().await.unwrap().code() }))
        .collect();
    // Let them all go at once.
    for mut stdin in stdins {
        futures_lite::AsyncWriteExt::write_all(&mut stdin, b"go\n")
            .await
            .unwrap();
    }
    for (i, waiter) in waiters.into_iter().enumerate() {
        assert_eq!(waiter.await.unwrap(), Some(i as i32 % 50));
    }
    for pid in pids {
        assert_eq!(child_state(pid), None, "{pid} was not reaped");
    }
}

#[tulip::test]
async fn a_dropped_child_runs_on_and_is_reaped_when_it_exits() {
    let _watchdog = support::watchdog("a_dropped_child_runs_on_and_is_reaped_when_it_exits");
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdin = child.stdin.take().unwrap();
    drop(child);
    // Still running: `cat` waits for the end of its input, which we hold.
    assert!(matches!(child_state(pid), Some('S' | 'R')), "{pid}");
    drop(stdin);
    wait_until_reaped(pid);
}

#[tulip::test]
async fn kill_on_drop_kills_and_reaps() {
    let _watchdog = support::watchdog("kill_on_drop_kills_and_reaps");
    let child = Command::new("sleep")
        .arg("1000")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id();
    drop(child);
    wait_until_reaped(pid);
}

#[tulip::test]
async fn cancelling_the_waiting_task_kills_a_kill_on_drop_child() {
    let _watchdog = support::watchdog("cancelling_the_waiting_task_kills_a_kill_on_drop_child");
    let (tx, rx) = tulip::sync::oneshot::channel();
    let task = tulip::spawn(async move {
        let mut child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        tx.set_result(child.id()).unwrap();
        child.wait().await.unwrap()
    });
    let pid = rx.await.unwrap();
    assert!(task.cancel());
    assert!(task.await.unwrap_err().is_cancelled());
    wait_until_reaped(pid);
}

#[tulip::test]
async fn a_wait_that_times_out_leaves_the_child_to_be_waited_again() {
    let _watchdog = support::watchdog("a_wait_that_times_out");
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let first = tulip::time::wait_for(Duration::from_millis(5), child.wait()).await;
    assert!(first.is_err());
    drop(stdin);
    assert!(child.wait().await.unwrap().success());
}

#[test]
fn children_on_two_loops_in_two_threads() {
    let _watchdog = support::watchdog("children_on_two_loops_in_two_threads");
    let threads: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                tulip::run(async move {
                    for i in 0..20 {
                        let code = (t * 20 + i) % 100;
                        let status = Command::shell(format!("exit {code}"))
                            .status()
                            .await
                            .unwrap();
                        assert_eq!(status.code(), Some(code));
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
