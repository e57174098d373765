//! http_server: `wrk -t1 -c64 -d10s --latency` against each server's hello route
//! (`GET /` → `Hello, World!`), the server pinned to CPU 0, wrk to CPU 1.
//!
//! Every run starts a fresh server process ([`super::serve`] for the Rust ones,
//! `python/http_server_app.py` for uvicorn), warms it up with a 1 s wrk run, then measures one
//! wrk run. Reports wrk's requests/s and its median and 99th percentile latency, and the
//! server's user-space and kernel CPU µs per request: the `utime` and `stime` deltas of its
//! `/proc/<pid>/stat` over the measured run, divided by the requests wrk completed; and wrk's
//! own CPU % (its `cutime` + `cstime` once waited for), which says whether wrk's core, not the
//! server, capped the rate.

use std::io;
use std::process::Command;
use std::time::Duration;

use super::{SERVERS, Subject, script, subjects, wrk};
use crate::Options;
use crate::net::proc::{CpuTimes, SERVER_CPU, Server};
use crate::net::table::{Col, Table, Target, rotate};
use crate::net::{ClientPin, reps};
use crate::report::Metric;

/// wrk's connections.
const CONNECTIONS: usize = 64;

const METRICS: &[Metric] = &[
    Metric::new("req/s", 0),
    Metric::new("p50 ms", 3),
    Metric::new("p99 ms", 3),
    Metric::new("user µs/req", 3),
    Metric::new("kernel µs/req", 3),
    Metric::new("server CPU %", 0),
    Metric::new("errors", 0),
    Metric::new("wrk CPU %", 0),
];

const COLS: &[Col] = &[
    Col::Median(0),
    Col::Ratio(0, "hyper-ct"),
    Col::Ratio(0, "uvicorn"),
    Col::Range(0),
    Col::Median(1),
    Col::Median(2),
    Col::Ratio(2, "hyper-ct"),
    Col::Median(3),
    Col::Ratio(3, "hyper-ct"),
    Col::Median(4),
    Col::Median(5),
    Col::Median(7),
    Col::Median(6),
];

/// Measures every server; one table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let servers = match subjects(
        &SERVERS,
        &["uvicorn"],
        &options.net.servers,
        &options.net.python,
    ) {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("http_server: {e}");
            return Vec::new();
        }
    };
    let default = Duration::from_secs(if options.quick { 2 } else { 10 });
    let window = options.net.duration.unwrap_or(default);
    let _pin = ClientPin::new();
    let rows = rotate(&servers, reps(options), METRICS.len(), |server| {
        once(server, &options.net.prefix, window)
    });
    let title = format!(
        "http_server: wrk -t1 -c{CONNECTIONS} -d{}s --latency, hello route, server on CPU 0, \
         wrk on CPU 1",
        window.as_secs().max(1)
    );
    vec![
        Table::new(title, METRICS, COLS, rows)
            .target(Target::AtLeast(0, 1.0, "hyper-ct"))
            .target(Target::AtMost(3, 1.0, "hyper-ct"))
            .target(Target::AtLeast(0, 3.0, "uvicorn")),
    ]
}

/// One run: a fresh server, 1 s of warm-up, the measured wrk run.
fn once(spec: &Subject, prefix: &[String], window: Duration) -> io::Result<Vec<f64>> {
    let server = start(spec, prefix)?;
    let warmup = wrk::run(server.addr, CONNECTIONS, Duration::from_secs(1))?;
    let before = server.cpu()?;
    let wrk_before = CpuTimes::of_waited_children()?;
    let report = wrk::run(server.addr, CONNECTIONS, window)?;
    let used = server.cpu()?.since(before);
    // wrk's own CPU: at ~100 % the load generator, not the server, caps requests/s.
    let wrk_used = CpuTimes::of_waited_children()?.since(wrk_before);
    // For a server run under a profiler, whose counts cover start-up and warm-up too.
    eprintln!(
        "    {}: {} requests in all (warm-up included)",
        spec.key,
        warmup.requests + report.requests
    );
    let requests = report.requests as f64;
    let secs = window.as_secs().max(1) as f64;
    Ok(vec![
        report.per_sec,
        report.p50_ms,
        report.p99_ms,
        used.user.as_secs_f64() * 1e6 / requests,
        used.system.as_secs_f64() * 1e6 / requests,
        (used.user + used.system).as_secs_f64() / secs * 100.0,
        report.errors as f64,
        (wrk_used.user + wrk_used.system).as_secs_f64() / secs * 100.0,
    ])
}

/// Starts the server, pinned to [`SERVER_CPU`], under `prefix` (a profiler) if given.
fn start(spec: &Subject, prefix: &[String]) -> io::Result<Server> {
    let cpu = SERVER_CPU.to_string();
    let mut line: Vec<std::ffi::OsString> = prefix.iter().map(Into::into).collect();
    match &spec.python {
        Some(python) => {
            line.push(python.into());
            line.push(script("http_server_app.py").into());
        }
        None => {
            line.push(std::env::current_exe()?.into());
            line.extend(["--serve-http".into(), spec.key.into()]);
        }
    }
    line.extend(["--cpu".into(), cpu.into()]);
    let mut command = Command::new(&line[0]);
    command.args(&line[1..]);
    Server::spawn(command)
}
