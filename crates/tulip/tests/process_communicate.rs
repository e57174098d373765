//! `Child::communicate`: 10 MiB in and out through `cat` without deadlock, large output on
//! stdout and stderr at once, a child that stops reading early (`head -c 10` fed 10 MiB: no
//! error, no hang, no zombie), input without a piped stdin (an error), `None` closing stdin,
//! and several communicating children at once.

mod support;

use std::io::ErrorKind;

use tulip::process::{Command, Stdio};

const MIB: usize = 1024 * 1024;

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn piped(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tulip::test]
async fn ten_mib_through_cat_both_ways() {
    let _watchdog = support::watchdog("ten_mib_through_cat_both_ways");
    let input = data(10 * MIB, 1);
    let mut cat = piped("cat").spawn().unwrap();
    let out = cat.communicate(Some(&input)).await.unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), input.len());
    assert!(out.stdout == input, "cat gave back different bytes");
    assert!(out.stderr.is_empty());
    assert!(cat.stdin.is_none() && cat.stdout.is_none() && cat.stderr.is_none());
}

#[tulip::test]
async fn big_output_on_stdout_and_stderr_at_once() {
    let _watchdog = support::watchdog("big_output_on_stdout_and_stderr_at_once");
    // The child alternates between its two outputs: reading one to its end before the other
    // would deadlock once the other pipe fills.
    let script = "i=0; while [ $i -lt 40 ]; do head -c 100000 /dev/zero; head -c 100000 /dev/zero >&2; i=$((i+1)); done; cat";
    let input = data(3 * MIB, 2);
    let mut child = Command::shell(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.communicate(Some(&input)).await.unwrap();
    assert!(out.status.success());
    assert_eq!(out.stderr.len(), 4_000_000);
    assert_eq!(out.stdout.len(), 4_000_000 + input.len());
    assert!(out.stdout[4_000_000..] == input[..]);
}

#[tulip::test]
async fn a_child_that_stops_reading_is_not_an_error() {
    let _watchdog = support::watchdog("a_child_that_stops_reading_is_not_an_error");
    let input = data(10 * MIB, 3);
    let mut head = Command::new("head")
        .args(["-c", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = head.id();
    let out = head.communicate(Some(&input)).await.unwrap();
    assert_eq!(out.stdout, &input[..10]);
    assert!(out.status.success());
    assert!(!is_zombie_child(pid), "{pid} is a zombie");
}

#[tulip::test]
async fn a_child_that_dies_mid_write_reports_its_death() {
    let _watchdog = support::watchdog("a_child_that_dies_mid_write_reports_its_death");
    let input = data(4 * MIB, 4);
    // Reads a little, then is killed by a signal while we still write.
    let mut child = Command::shell("head -c 1000 >/dev/null; kill -9 $$")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.communicate(Some(&input)).await.unwrap();
    assert_eq!(child.returncode(), Some(-9));
    assert!(!out.status.success());
}

#[tulip::test]
async fn input_without_a_piped_stdin_is_an_error() {
    let mut child = Command::new("true").stdout(Stdio::piped()).spawn().unwrap();
    let err = child.communicate(Some(b"lost")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not piped"), "{err}");
    // The child is untouched and can still be collected.
    let out = child.communicate(None).await.unwrap();
    assert!(out.status.success());
}

#[tulip::test]
async fn no_input_closes_stdin() {
    let _watchdog = support::watchdog("no_input_closes_stdin");
    let mut cat = piped("cat").spawn().unwrap();
    let out = cat.communicate(None).await.unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    // Only what is piped is collected.
    let mut quiet = Command::shell("echo out; echo err >&2")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = quiet.communicate(None).await.unwrap();
    assert_eq!(out.stdout, b"out\n");
    assert!(out.stderr.is_empty());
}

#[tulip::test]
async fn many_children_communicate_at_once() {
    let _watchdog = support::watchdog("many_children_communicate_at_once");
    let tasks: Vec<_> = (0..16u64)
        .map(|i| {
            tulip::spawn(async move {
                let input = data(256 * 1024 + i as usize, i + 10);
                let mut cat = piped("cat").spawn().unwrap();
                let out = cat.communicate(Some(&input)).await.unwrap();
                out.stdout == input
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap());
    }
}

/// Whether `pid` is a zombie child of this process.
fn is_zombie_child(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return false;
    };
    let mut fields = after.split_whitespace();
    let state = fields.next();
    let ppid: Option<u32> = fields.next().and_then(|p| p.parse().ok());
    state == Some("Z") && ppid == Some(std::process::id())
}
