//! http_client: 100,000 GETs of a small static file (1 KiB) from nginx on 127.0.0.1, 64 in
//! flight over keep-alive connections, by each client in turn.
//!
//! nginx runs one worker pinned to CPU 0 for the whole scenario; each client run is a fresh
//! child process pinned to CPU 1 ([`super::clients`] for the Rust clients,
//! `python/http_client.py` for aiohttp), which first makes 2,000 warm-up GETs (opening its
//! connections), prints `START`, makes the measured GETs and prints `RESULT`. The bench reads
//! the child's CPU time (`utime` + `stime` from `/proc/<pid>/stat`, all its threads) and
//! nginx's at `START` and at `RESULT`, and the child's peak RSS (`VmHWM`) at `RESULT`, then
//! lets it exit. Reports requests/s, the client's CPU µs per request (user + kernel, and each),
//! its peak RSS, and how busy the client and nginx were: if nginx's core is the limit, req/s
//! tells clients apart less than CPU per request does.

use std::io::{self, BufRead, BufReader, ErrorKind};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Instant;

use super::nginx::Nginx;
use super::{CLIENTS, Subject, script, subjects};
use crate::Options;
use crate::net::proc::{CLIENT_CPU, CpuTimes, pin_current_thread, restore_affinity};
use crate::net::reps;
use crate::net::table::{Col, Table, Target, rotate};
use crate::report::Metric;

/// Requests in flight at once (and the tulip session's connection limit).
const CONCURRENCY: usize = 64;
/// GETs per measured run, unless `--requests` says otherwise.
const REQUESTS: usize = 100_000;
/// Unmeasured GETs before `START` (a tenth of that under `--quick`).
const WARMUP: usize = 2_000;
/// The static file's size.
const FILE_SIZE: usize = 1024;

const METRICS: &[Metric] = &[
    Metric::new("req/s", 0),
    Metric::new("CPU µs/req", 2),
    Metric::new("user µs/req", 2),
    Metric::new("kernel µs/req", 2),
    Metric::new("peak RSS MiB", 1),
    Metric::new("client CPU %", 0),
    Metric::new("nginx CPU %", 0),
    Metric::new("errors", 0),
];

const COLS: &[Col] = &[
    Col::Median(0),
    Col::Ratio(0, "reqwest-ct"),
    Col::Ratio(0, "aiohttp-uvloop"),
    Col::Range(0),
    Col::Median(1),
    Col::Ratio(1, "reqwest-ct"),
    Col::Median(2),
    Col::Median(3),
    Col::Median(4),
    Col::Ratio(4, "reqwest-ct"),
    Col::Median(5),
    Col::Median(6),
    Col::Median(7),
];

/// Measures every client against one nginx; one table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let clients = match subjects(
        &CLIENTS,
        &["aiohttp-asyncio", "aiohttp-uvloop"],
        &options.net.clients,
        &options.net.python,
    ) {
        Ok(clients) => clients,
        Err(e) => {
            eprintln!("http_client: {e}");
            return Vec::new();
        }
    };
    let requests = options.net.requests.unwrap_or(if options.quick {
        REQUESTS / 10
    } else {
        REQUESTS
    });
    let warmup = if options.quick { WARMUP / 10 } else { WARMUP };
    let nginx = match Nginx::start(FILE_SIZE) {
        Ok(nginx) => nginx,
        Err(e) => {
            eprintln!("http_client: {e}");
            return Vec::new();
        }
    };
    eprintln!("  nginx on {} (pid of its worker from /proc)", nginx.addr);
    let rows = rotate(&clients, reps(options), METRICS.len(), |client| {
        once(client, &nginx, requests, warmup)
    });
    let title = format!(
        "http_client: {requests} GETs of a {FILE_SIZE} B file from nginx (1 worker, CPU 0), \
         {CONCURRENCY} in flight over keep-alive, client on CPU 1"
    );
    vec![
        Table::new(title, METRICS, COLS, rows)
            .subject("client")
            .target(Target::AtLeast(0, 1.0, "reqwest-ct"))
            .target(Target::AtLeast(0, 5.0, "aiohttp-uvloop"))
            .target(Target::AtMost(1, 1.0, "reqwest-ct")),
    ]
}

/// One run of one client.
fn once(client: &Subject, nginx: &Nginx, requests: usize, warmup: usize) -> io::Result<Vec<f64>> {
    let mut child = ClientProcess::spawn(client, nginx, requests, warmup)?;
    child.expect("START")?;
    let (me0, nginx0) = (CpuTimes::of(child.pid())?, nginx.cpu()?);
    let start = Instant::now();
    let result = child.expect("RESULT")?;
    let wall = start.elapsed().as_secs_f64();
    let (me1, nginx1) = (CpuTimes::of(child.pid())?, nginx.cpu()?);
    let hwm = peak_rss(child.pid())?;
    child.finish()?;

    let fields: Vec<f64> = result
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(f64::NAN))
        .collect();
    let [done, secs, errors] = fields[..] else {
        return Err(io::Error::other(format!("bad RESULT line `{result}`")));
    };
    let used = me1.since(me0);
    let served = nginx1.since(nginx0);
    let per_request = |t: std::time::Duration| t.as_secs_f64() * 1e6 / done;
    let percent = |t: CpuTimes| (t.user + t.system).as_secs_f64() / wall * 100.0;
    Ok(vec![
        done / secs,
        per_request(used.user + used.system),
        per_request(used.user),
        per_request(used.system),
        hwm as f64 / (1024.0 * 1024.0),
        percent(used),
        percent(served),
        errors,
    ])
}

/// A client run: the child process, its stdout, and its stdin (held open until
/// [`ClientProcess::finish`]).
struct ClientProcess {
    child: Child,
    stdout: BufReader<ChildStdout>,
    what: String,
}

impl ClientProcess {
    fn spawn(
        client: &Subject,
        nginx: &Nginx,
        requests: usize,
        warmup: usize,
    ) -> io::Result<ClientProcess> {
        let mut command = match &client.python {
            Some(python) => {
                let mut command = Command::new(python);
                let event_loop = client.key.trim_start_matches("aiohttp-");
                command
                    .arg(script("http_client.py"))
                    .args(["--loop", event_loop]);
                command
            }
            None => {
                let mut command = Command::new(std::env::current_exe()?);
                command.args(["--http-client", client.key]);
                command
            }
        };
        let numbers = [
            ("--requests", requests),
            ("--warmup", warmup),
            ("--concurrency", CONCURRENCY),
            ("--expect", FILE_SIZE),
            ("--cpu", CLIENT_CPU),
        ];
        command.arg("--url").arg(nginx.url());
        for (flag, n) in numbers {
            command.arg(flag).arg(n.to_string());
        }
        let what = format!("{command:?}");
        // Started from a thread on the client's CPU (and pinned there by `--cpu` itself).
        let old = pin_current_thread(CLIENT_CPU)?;
        let spawned = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        restore_affinity(&old);
        let mut child =
            spawned.map_err(|e| io::Error::new(e.kind(), format!("cannot start {what}: {e}")))?;
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(ClientProcess {
            child,
            stdout,
            what,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads lines until one starting with `word`; returns the rest of it.
    fn expect(&mut self, word: &str) -> io::Result<String> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line)? == 0 {
                let status = self.child.wait()?;
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("{} exited ({status}) before `{word}`", self.what),
                ));
            }
            if let Some(rest) = line.trim().strip_prefix(word) {
                return Ok(rest.trim().to_string());
            }
        }
    }

    /// Closes its stdin, which lets it exit, and waits for it.
    fn finish(mut self) -> io::Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("{} failed: {status}", self.what)))
        }
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Peak resident memory of process `pid` in bytes (`VmHWM` in `/proc/<pid>/status`).
fn peak_rss(pid: u32) -> io::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::other(format!("{path}: no VmHWM line")))
}
