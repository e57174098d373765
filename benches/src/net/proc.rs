//! The server as a separate process: spawning it pinned to its own CPU, learning its address,
//! and reading its CPU time and memory from `/proc`; CPU affinity and descriptor limits for the
//! load generator's side too.

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Resource, Rlimit, Signal, getrlimit, kill_process_group, setrlimit};
use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

/// The CPU every server runs on.
pub(crate) const SERVER_CPU: usize = 0;
/// The CPU the load generator runs on.
pub(crate) const CLIENT_CPU: usize = 1;

/// What a server prints on stdout, followed by its address, once it accepts connections.
pub(crate) const READY: &str = "LISTENING";

/// CPU time a process has used, user space and kernel, since it started.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuTimes {
    /// Time in user space (`utime`).
    pub(crate) user: Duration,
    /// Time in the kernel on the process's behalf (`stime`).
    pub(crate) system: Duration,
}

impl CpuTimes {
    /// CPU time of process `pid`: fields 14 and 15 of `/proc/<pid>/stat`, in clock ticks,
    /// summed over all its threads by the kernel.
    pub(crate) fn of(pid: u32) -> io::Result<CpuTimes> {
        CpuTimes::from_stat(&format!("/proc/{pid}/stat"), 14, 15)
    }

    /// CPU time of this process's children that have ended and been waited for (a load
    /// generator run with `Command::output`): fields 16 and 17 (`cutime`, `cstime`) of
    /// `/proc/self/stat`.
    pub(crate) fn of_waited_children() -> io::Result<CpuTimes> {
        CpuTimes::from_stat("/proc/self/stat", 16, 17)
    }

    /// Fields `user` and `system` of a `stat` file, in clock ticks.
    fn from_stat(path: &str, user: usize, system: usize) -> io::Result<CpuTimes> {
        let stat = fs::read_to_string(path)?;
        // The command name (field 2) is in parentheses and may hold spaces: count from the
        // last `)`, after which field 3 comes first.
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> io::Result<u64> {
            fields
                .get(n - 3)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| io::Error::other(format!("{path}: no field {n} in `{stat}`")))
        };
        let tick = 1.0 / rustix::param::clock_ticks_per_second() as f64;
        Ok(CpuTimes {
            user: Duration::from_secs_f64(field(user)? as f64 * tick),
            system: Duration::from_secs_f64(field(system)? as f64 * tick),
        })
    }

    /// The time used between `earlier` and `self`.
    pub(crate) fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// Resident memory of process `pid` in bytes (`VmRSS` in `/proc/<pid>/status`).
pub(crate) fn rss_bytes(pid: u32) -> io::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path)?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::other(format!("{path}: no VmRSS line")))
}

/// Pins the calling thread to `cpu`, when the machine has it; returns the affinity it had, for
/// [`restore_affinity`].
pub(crate) fn pin_current_thread(cpu: usize) -> io::Result<CpuSet> {
    let old = sched_getaffinity(None)?;
    if cpu < CpuSet::MAX_CPU && old.is_set(cpu) {
        let mut set = CpuSet::new();
        set.set(cpu);
        sched_setaffinity(None, &set)?;
    }
    Ok(old)
}

/// Gives the calling thread back the affinity [`pin_current_thread`] returned.
pub(crate) fn restore_affinity(old: &CpuSet) {
    // The bench goes on correctly (if less evenly) when the old set cannot be restored.
    let _ = sched_setaffinity(None, old);
}

/// Pins every thread process `pid` has now to `cpu`.
pub(crate) fn pin_process(pid: u32, cpu: usize) -> io::Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu);
    for entry in fs::read_dir(format!("/proc/{pid}/task"))? {
        let tid = entry?.file_name().to_string_lossy().parse::<i32>().ok();
        if let Some(tid) = tid.and_then(Pid::from_raw) {
            sched_setaffinity(Some(tid), &set)?;
        }
    }
    Ok(())
}

/// Raises this process's soft limit on open descriptors to its hard limit; returns the limit
/// now in force.
pub(crate) fn raise_nofile() -> io::Result<u64> {
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised)?;
    Ok(limit.maximum.unwrap_or(u64::MAX))
}

/// A running server process, killed when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    // Kept open so that a server writing to stdout later does not die of SIGPIPE.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `command`, waits for its `LISTENING <addr>` line and pins all its threads to
    /// [`SERVER_CPU`].
    pub(crate) fn spawn(mut command: Command) -> io::Result<Server> {
        let what = format!("{command:?}");
        // Its own process group, so that stopping it reaches a profiler's or tracer's child too.
        let mut child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {what}: {e}")))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let addr = match read_address(&mut stdout) {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
            }
        };
        let server = Server {
            child,
            addr,
            _stdout: stdout,
        };
        pin_process(server.pid(), SERVER_CPU)?;
        Ok(server)
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its CPU time so far.
    pub(crate) fn cpu(&self) -> io::Result<CpuTimes> {
        CpuTimes::of(self.pid())
    }

    /// Its resident memory now, in bytes.
    pub(crate) fn rss(&self) -> io::Result<u64> {
        rss_bytes(self.pid())
    }
}

impl Drop for Server {
    /// SIGTERM to its process group first, so that a server run under a profiler
    /// (`--server-prefix 'valgrind --tool=callgrind'`) writes its profile, and one run under
    /// `strace` stops with it; SIGKILL if it is still there after 10 s.
    fn drop(&mut self) {
        let pid = i32::try_from(self.pid()).ok().and_then(Pid::from_raw);
        if let Some(pid) = pid
            && kill_process_group(pid, Signal::TERM).is_ok()
        {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if let Some(pid) = pid {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads lines until `LISTENING <addr>`.
fn read_address(stdout: &mut impl BufRead) -> io::Result<SocketAddr> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::other(format!(
                "exited before printing `{READY} <addr>`"
            )));
        }
        if let Some(addr) = line.trim().strip_prefix(READY) {
            return addr.trim().parse().map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad address `{addr}`: {e}"),
                )
            });
        }
    }
}
