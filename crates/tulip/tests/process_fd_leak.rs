//! No descriptor leaks and no zombies: 2,000 children spawned with all three streams piped and
//! awaited (twenty at a time), plus 200 dropped while still running, leave the number of open
//! descriptors in `/proc/self/fd` as it was, and none of them behind as a zombie.
//!
//! One test in its own binary: a test running beside it would open descriptors of its own.

mod support;

use std::collections::HashSet;

use tulip::process::{Command, Stdio};

fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let target = target.to_string_lossy();
            // The listing's own descriptor moves around.
            (!target.starts_with("/proc/"))
                .then(|| format!("{} -> {target}", entry.file_name().to_string_lossy()))
        })
        .collect();
    fds.sort();
    fds
}

/// Pids of zombie children of this process among `pids`.
fn zombies(pids: &HashSet<u32>) -> Vec<u32> {
    pids.iter()
        .copied()
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
            state == Some("Z") && ppid == Some(std::process::id())
        })
        .collect()
}

/// Waits until none of `pids` is a child of ours any more and the reaper closed their pidfds.
/// The orphan reaper works on its own thread, so there is nothing to await; the watchdog bounds
/// the wait.
fn wait_until_reaped(pids: &HashSet<u32>) {
    let is_ours = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let rest = stat.rsplit_once(')')?.1.to_owned();
                rest.split_whitespace().nth(1)?.parse::<u32>().ok()
            })
            == Some(std::process::id())
    };
    let pidfds = || {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().contains("pidfd"))
            .count()
    };
    while pids.iter().any(is_ours) || pidfds() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

async fn one_child(i: usize) -> u32 {
    let mut child = Command::shell("read x; echo \"$x\"; echo err >&2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let line = format!("{i}\n");
    let out = child.communicate(Some(line.as_bytes())).await.unwrap();
    assert_eq!(out.stdout, line.as_bytes());
    assert_eq!(out.stderr, b"err\n");
    assert!(out.status.success());
    pid
}

#[test]
fn two_thousand_children_leak_no_descriptor_and_leave_no_zombie() {
    let _watchdog = support::watchdog("two_thousand_children");
    tulip::run(async {
        // Warm up: the first child makes the process-wide pieces (signal eventfd and the like)
        // that live as long as the process.
        one_child(0).await;
        let mut orphan = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
        let (pid, stdin) = (orphan.id(), orphan.stdin.take());
        drop(orphan); // still running: adopted by the reaper
        drop(stdin);
        wait_until_reaped(&HashSet::from([pid]));
        let before = open_fds();
        let mut pids = HashSet::new();
        for batch in 0..100 {
            let tasks: Vec<_> = (0..20)
                .map(|i| tulip::spawn(one_child(batch * 20 + i)))
                .collect();
            for task in tasks {
                pids.insert(task.await.unwrap());
            }
        }
        assert_eq!(pids.len(), 2000);
        assert_eq!(open_fds(), before, "descriptors leaked");
        assert!(zombies(&pids).is_empty(), "zombies: {:?}", zombies(&pids));

        // Children dropped while running: the orphan reaper takes their pidfds and reaps them.
        let dropped: Vec<u32> = (0..200)
            .map(|_| {
                let child = Command::new("true").spawn().unwrap();
                child.id()
            })
            .collect();
        let dropped: HashSet<u32> = dropped.into_iter().collect();
        wait_until_reaped(&dropped);
        assert!(zombies(&dropped).is_empty());
        assert_eq!(open_fds(), before, "descriptors leaked by the reaper");
    });
}
