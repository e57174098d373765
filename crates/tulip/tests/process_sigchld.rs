//! The `SIGCHLD` fallback for kernels without pidfds, forced with `TULIP_NO_PIDFD=1` in a
//! child process (this test binary started again): no pidfd is opened, and children are still
//! awaited (200 at once, on two loops in two threads), killed, fed through `communicate`, and
//! reaped when dropped while running, with no zombie and no descriptor left behind. The same
//! scenario runs with pidfds too, where it must see one pidfd per running child.

mod support;

use std::process::Command as StdCommand;
use std::time::Duration;

use tulip::process::{Command, Stdio};

const SCENARIO: &str = "TULIP_SIGCHLD_SCENARIO";

/// How many pidfds this process has open.
fn pidfds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("pidfd"))
        .count()
}

fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some(format!(
                "{} -> {}",
                entry.file_name().to_string_lossy(),
                target.display()
            ))
        })
        .collect();
    fds.sort();
    fds
}

fn is_our_child(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = stat.rsplit_once(')')?.1.to_owned();
            rest.split_whitespace().nth(1)?.parse::<u32>().ok()
        })
        == Some(std::process::id())
}

/// Waits until the reaper thread has reaped `pid` and closed its pidfd, if it had one. It works
/// on its own thread, so there is nothing to await; the watchdog bounds the wait.
fn wait_until_reaped(pid: u32) {
    while is_our_child(pid) || pidfds() > 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
}

async fn scenario(expect_pidfds: bool) {
    // Warm up the process-wide pieces (signal eventfd, reaper eventfd).
    Command::new("true").status().await.unwrap();
    let mut warm = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
    let (pid, stdin) = (warm.id(), warm.stdin.take());
    drop(warm);
    drop(stdin);
    wait_until_reaped(pid);
    let before = open_fds();

    // 200 at once, all alive together until released.
    let mut children: Vec<_> = (0..200)
        .map(|i| {
            Command::shell(format!("read line; exit {}", i % 50))
                .stdin(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let expected = if expect_pidfds { 200 } else { 0 };
    assert_eq!(pidfds(), expected, "pidfds while 200 children run");
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    let stdins: Vec<_> = children
        .iter_mut()
        .map(|c| c.stdin.take().unwrap())
        .collect();
    let waiters: Vec<_> = children
        .into_iter()
        .map(|mut child| tulip::spawn(async move { child.wait().await.unwrap().code() }))
        .collect();
    drop(stdins); // `read` fails at end of input: each child exits with its code
    for (i, waiter) in waiters.into_iter().enumerate() {
        assert_eq!(waiter.await.unwrap(), Some(i as i32 % 50));
    }
    assert!(pids.iter().all(|&pid| !is_our_child(pid)), "zombies left");

    // Killed, and its returncode.
    let mut sleeper = Command::new("sleep").arg("100").spawn().unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().await.unwrap();
    assert_eq!(sleeper.returncode(), Some(-9));

    // communicate, both ways.
    let input = vec![7u8; 1024 * 1024];
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = cat.communicate(Some(&input)).await.unwrap();
    assert!(out.stdout == input);
    drop((sleeper, cat));

    // Dropped while running, then released: the reaper reaps it.
    let mut orphan = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
    let (pid, stdin) = (orphan.id(), orphan.stdin.take());
    drop(orphan);
    assert!(is_our_child(pid));
    drop(stdin);
    wait_until_reaped(pid);
    assert_eq!(open_fds(), before, "descriptors leaked");
    println!("@scenario passed");
}

/// The entry point of the child processes; does nothing in an ordinary test run.
#[test]
fn child_process_entry() {
    if let Ok(mode) = std::env::var(SCENARIO) {
        let expect_pidfds = mode == "pidfd";
        tulip::run(scenario(expect_pidfds));
        // A second loop in another thread, at the same time as this one.
        let other = std::thread::spawn(|| {
            tulip::run(async {
                for code in 0..20 {
                    let status = Command::shell(format!("exit {code}"))
                        .status()
                        .await
                        .unwrap();
                    assert_eq!(status.code(), Some(code));
                }
            })
        });
        tulip::run(async {
            for code in 20..40 {
                let status = Command::shell(format!("exit {code}"))
                    .status()
                    .await
                    .unwrap();
                assert_eq!(status.code(), Some(code));
            }
        });
        other.join().unwrap();
        println!("@two loops passed");
    }
}

fn run_scenario(mode: &str, no_pidfd: bool) {
    let mut command = StdCommand::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO, mode);
    if no_pidfd {
        command.env("TULIP_NO_PIDFD", "1");
    } else {
        command.env_remove("TULIP_NO_PIDFD");
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(stdout.contains("@scenario passed"), "{stdout}");
    assert!(stdout.contains("@two loops passed"), "{stdout}");
}

#[test]
fn children_are_reaped_through_sigchld_without_pidfds() {
    let _watchdog = support::watchdog("children_are_reaped_through_sigchld_without_pidfds");
    run_scenario("sigchld", true);
}

#[test]
fn the_same_with_pidfds() {
    let _watchdog = support::watchdog("the_same_with_pidfds");
    run_scenario("pidfd", false);
}
