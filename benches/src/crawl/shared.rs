//! The `crawl_shared` scenario (issue 9): areq's Redis frontier against its in-memory one.
//!
//! The same 10,000-page site as `crawl` ([`super::site`], nginx pinned to CPU 0), crawled
//! recursively from its home page (`--depth 1000 --same-host`: every page, and the stylesheet,
//! is reached through links, so every link goes through the frontier's de-duplication):
//!
//! - `memory`: one areq process with the in-memory frontier;
//! - `disk`: one areq process with the on-disk frontier (`--state DIR`, a fresh DIR per run);
//! - `redis-1`, `redis-2`, `redis-4`: one, two or four areq processes started together, sharing
//!   one Redis frontier (`--redis`, a fresh `--crawl-id` per run), each writing its own output
//!   file. Debian's `redis-server` runs pinned to CPU 0 beside nginx, without persistence.
//!
//! Every crawler process runs pinned to CPU 1, so the rows compare the work each way costs on
//! one core, not how well more processes use more cores (this machine has two). Pages/s is the
//! pages fetched by all processes together over the time from the first start to the last exit.
//! Redis round trips per page come from each process's summary line. The union of a run's
//! outputs must hold exactly the in-memory crawl's lines, none twice; the scenario fails
//! otherwise.
//!
//! Target (issue 9): `redis-1` at least 0.85× `memory`'s pages/s (the Redis backend costs
//! ≤ 15 %), with its Redis traffic batched (round trips per page well under one).

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{HEADER, TIME, binaries, nginx, read_time, site};
use crate::Options;
use crate::net::proc::{CLIENT_CPU, SERVER_CPU, pin_current_thread, pin_process, restore_affinity};
use crate::net::table::{Col, Row, Subject, Table, rotate};
use crate::report::{Metric, median};

/// Where a variant keeps its frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Memory,
    Disk,
    /// Shared by this many processes.
    Redis(usize),
}

/// The variants: `(key, row label, backend)`.
const VARIANTS: [(&str, &str, Backend); 5] = [
    ("memory", "1 process, in-memory frontier", Backend::Memory),
    (
        "disk",
        "1 process, on-disk frontier (--state)",
        Backend::Disk,
    ),
    ("redis-1", "1 process, Redis frontier", Backend::Redis(1)),
    (
        "redis-2",
        "2 processes, one Redis frontier",
        Backend::Redis(2),
    ),
    (
        "redis-4",
        "4 processes, one Redis frontier",
        Backend::Redis(4),
    ),
];
/// Pages/s `redis-1` must keep of `memory`'s.
const TARGET: f64 = 0.85;

const METRICS: [Metric; 7] = [
    Metric::new("pages/s", 0),
    Metric::new("wall s", 2),
    Metric::new("CPU s (all)", 2),
    Metric::new("peak RSS MiB (max)", 1),
    Metric::new("pages", 0),
    Metric::new("Redis round trips/page", 3),
    Metric::new("redis-server CPU s", 2),
];
const PAGES_S: usize = 0;
const CPU: usize = 2;

const COLS: [Col; 9] = [
    Col::Median(PAGES_S),
    Col::Ratio(PAGES_S, "memory"),
    Col::Range(PAGES_S),
    Col::Median(1),
    Col::Median(CPU),
    Col::Ratio(CPU, "memory"),
    Col::Median(3),
    Col::Median(5),
    Col::Median(6),
];

struct Variant {
    key: &'static str,
    label: &'static str,
    backend: Backend,
}

impl Subject for Variant {
    fn key(&self) -> &str {
        self.key
    }

    fn label(&self) -> &str {
        self.label
    }
}

/// Runs the scenario; prints the table, or why it failed.
pub(crate) fn run(options: &Options) -> Vec<crate::report::Table> {
    if let Err(message) = measure(options) {
        eprintln!("crawl_shared: FAILED: {message}");
        std::process::exit(1);
    }
    Vec::new()
}

/// What every run shares.
struct Setup {
    dir: PathBuf,
    seeds: PathBuf,
    areq: PathBuf,
    redis: Redis,
    pages: usize,
    runs: std::cell::Cell<u32>,
}

fn measure(options: &Options) -> Result<(), String> {
    let pages = options.crawl.pages.unwrap_or(options.size(super::PAGES));
    let redis_bin = which("redis-server").ok_or(
        "redis-server is needed (Debian: apt-get install redis-server, or \
         bash scripts/peers/install.sh)",
    )?;
    if !Path::new(TIME).is_file() {
        return Err(format!(
            "{TIME} (GNU time) is needed (Debian: apt-get install time)"
        ));
    }
    let dir = std::env::temp_dir().join(format!("tulip-bench-shared-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let www = dir.join("www");
    eprintln!("  generating {pages} pages in {}", www.display());
    site::generate(&www, pages).map_err(|e| format!("generating the site: {e}"))?;
    let nginx = nginx::Nginx::start(&dir, &www).map_err(|e| format!("nginx: {e}"))?;
    let seeds = dir.join("seeds.txt");
    fs::write(
        &seeds,
        format!("http://{}{}\n", nginx.addr, site::page_path(0)),
    )
    .map_err(|e| format!("{}: {e}", seeds.display()))?;
    let (areq, _) = binaries(options.crawl.areq.clone())?;
    let redis = Redis::start(&redis_bin, &dir)?;
    let setup = Setup {
        dir: dir.clone(),
        seeds,
        areq,
        redis,
        pages,
        runs: std::cell::Cell::new(0),
    };

    let has_redis = Command::new(&setup.areq)
        .arg("--help")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("--redis"));
    if !has_redis {
        eprintln!("  skipping the Redis rows: this areq has no --redis");
    }
    let variants: Vec<Variant> = VARIANTS
        .iter()
        .filter(|(_, _, backend)| has_redis || !matches!(backend, Backend::Redis(_)))
        .map(|&(key, label, backend)| Variant {
            key,
            label,
            backend,
        })
        .collect();
    let reps = crate::net::reps(options);
    let mut expected: Option<BTreeSet<String>> = None;
    let mut problems = Vec::new();
    let rows = rotate(&variants, reps, METRICS.len(), |variant| {
        eprintln!("  {}…", variant.key);
        let (metrics, lines) = once(&setup, variant)?;
        match &expected {
            None if variant.backend == Backend::Memory => expected = Some(lines),
            Some(first) if *first != lines => problems.push(format!(
                "{}: its outputs hold {} lines, the in-memory crawl's {} ({} differ)",
                variant.key,
                lines.len(),
                first.len(),
                first.symmetric_difference(&lines).count()
            )),
            _ => {}
        }
        Ok::<_, String>(metrics)
    });
    let title = format!(
        "crawl_shared: {pages} pages from nginx, recursive from the home page, limit 100 per \
         process, crawlers on one core"
    );
    let verdict = target(&rows);
    Table::new(title, &METRICS, &COLS, rows)
        .subject("crawl")
        .print();
    println!("{verdict}");
    match &expected {
        Some(lines) if problems.is_empty() => println!(
            "- outputs: every run's union holds the in-memory crawl's {} lines, none twice",
            lines.len()
        ),
        _ => {}
    }
    println!();
    drop(setup);
    if options.crawl.keep {
        eprintln!("  kept {}", dir.display());
    } else {
        let _ = fs::remove_dir_all(&dir);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The target line under the table.
fn target(rows: &[Row]) -> String {
    let med = |key: &str| {
        rows.iter().find(|r| r.key == key).map_or(f64::NAN, |r| {
            median(r.runs.iter().map(|run| run[PAGES_S]).collect())
        })
    };
    let ratio = med("redis-1") / med("memory");
    let verdict = if ratio.is_nan() {
        "not measured"
    } else if ratio >= TARGET {
        "met"
    } else {
        "MISSED"
    };
    format!(
        "- disk pages/s: {:.2}× memory\n- target: redis-1 pages/s ≥ {TARGET:.2}× memory: \
         {ratio:.2}× — {verdict}",
        med("disk") / med("memory")
    )
}

/// One run of one variant: its metrics and the union of its output lines (an error if a line
/// is in two outputs, or twice in one).
fn once(setup: &Setup, variant: &Variant) -> Result<(Vec<f64>, BTreeSet<String>), String> {
    let run = setup.runs.get() + 1;
    setup.runs.set(run);
    let processes = match variant.backend {
        Backend::Redis(n) => n,
        Backend::Memory | Backend::Disk => 1,
    };
    let crawl_id = format!("bench{run}");
    let redis_before = setup.redis.cpu()?;
    let old = pin_current_thread(CLIENT_CPU).map_err(|e| format!("pinning: {e}"))?;
    let started = Instant::now();
    let mut children: Vec<(Child, PathBuf, PathBuf, PathBuf)> = Vec::new();
    for i in 0..processes {
        let out = setup.dir.join(format!("out-{}-{i}.tsv", variant.key));
        let stats = setup.dir.join(format!("time-{}-{i}.txt", variant.key));
        let log = setup.dir.join(format!("stderr-{}-{i}.log", variant.key));
        let _ = fs::remove_file(&out);
        let stderr = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new(TIME);
        command
            .args(["-f", "%e %U %S %M", "-o"])
            .arg(&stats)
            .arg("--")
            .arg(&setup.areq)
            .arg(&setup.seeds)
            .arg("-o")
            .arg(&out)
            .args(["--limit", "100", "--depth", "1000", "--same-host"])
            .current_dir(&setup.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        match variant.backend {
            Backend::Memory => {}
            Backend::Disk => {
                let state = setup.dir.join(format!("state-{run}"));
                command.arg("--state").arg(state);
            }
            Backend::Redis(_) => {
                command
                    .arg("--redis")
                    .arg(setup.redis.url())
                    .args(["--crawl-id", &crawl_id]);
            }
        }
        let child = command.spawn();
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                restore_affinity(&old);
                return Err(format!("cannot run {}: {e}", setup.areq.display()));
            }
        };
        children.push((child, out, stats, log));
    }
    restore_affinity(&old);
    let mut failures = Vec::new();
    for (child, _, _, log) in &mut children {
        let status = child.wait().map_err(|e| format!("waiting for areq: {e}"))?;
        if !status.success() {
            let text = fs::read_to_string(&*log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(8).collect();
            failures.push(format!("areq exited with {status}: {:?}", tail));
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let redis_cpu = setup.redis.cpu()? - redis_before;
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    let (mut cpu, mut rss, mut pages, mut trips) = (0.0, 0.0f64, 0u64, 0u64);
    let mut lines = BTreeSet::new();
    for (_, out, stats, log) in &children {
        let (user, sys, rss_kib) = read_time(stats)?;
        cpu += user + sys;
        rss = rss.max(rss_kib / 1024.0);
        let summary = read_summary(log)?;
        pages += summary.pages;
        trips += summary.round_trips;
        read_lines(out, &mut lines)?;
    }
    let per_page = match variant.backend {
        Backend::Redis(_) => trips as f64 / pages.max(1) as f64,
        Backend::Memory | Backend::Disk => f64::NAN,
    };
    if pages < setup.pages as u64 {
        return Err(format!(
            "the processes fetched {pages} pages together, fewer than the site's {}",
            setup.pages
        ));
    }
    let metrics = vec![
        pages as f64 / wall,
        wall,
        cpu,
        rss,
        pages as f64,
        per_page,
        redis_cpu,
    ];
    Ok((metrics, lines))
}

/// What a crawler's summary says.
struct Summary {
    pages: u64,
    round_trips: u64,
}

/// Reads the pages fetched (`Crawl finished: N pages`) and the Redis round trips
/// (`N Redis round trips`, when there are any) from a crawler's stderr.
fn read_summary(log: &Path) -> Result<Summary, String> {
    let text = fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let number_before = |line: &str, word: &str| -> Option<u64> {
        let at = line.find(word)?;
        line[..at].split_whitespace().last()?.parse().ok()
    };
    let mut summary = Summary {
        pages: 0,
        round_trips: 0,
    };
    let mut found = false;
    for line in text.lines() {
        if let Some(rest) = line.split("Crawl finished: ").nth(1) {
            summary.pages = number_before(rest, " pages").unwrap_or(0);
            found = true;
        }
        if let Some(n) = number_before(line, " Redis round trips") {
            summary.round_trips = n;
        }
    }
    if found {
        Ok(summary)
    } else {
        Err(format!("no `Crawl finished:` line in {}", log.display()))
    }
}

/// Adds an output's lines (after its header) to `lines`; an error for a line already there.
fn read_lines(path: &Path, lines: &mut BTreeSet<String>) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = BufReader::new(file).lines();
    match reader.next() {
        Some(Ok(header)) if header == HEADER => {}
        _ => return Err(format!("{}: no header line", path.display())),
    }
    for line in reader {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if !lines.insert(line.clone()) {
            return Err(format!("{}: `{line}` written twice", path.display()));
        }
    }
    Ok(())
}

/// A program's path, from `PATH` or `/usr/bin`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A `redis-server` of the scenario's own, pinned to the server CPU, without persistence.
struct Redis {
    child: Child,
    addr: SocketAddr,
}

impl Redis {
    fn start(bin: &Path, dir: &Path) -> Result<Redis, String> {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        let log = dir.join("redis.log");
        let child = Command::new(bin)
            .args(["--bind", "127.0.0.1", "--port", &addr.port().to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let mut redis = Redis { child, addr };
        pin_process(redis.child.id(), SERVER_CPU).map_err(|e| format!("pinning redis: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                let _ = redis.child.kill();
                return Err(format!("redis-server did not listen on {addr} within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(redis)
    }

    fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    /// Its CPU time so far, in seconds.
    fn cpu(&self) -> Result<f64, String> {
        crate::net::proc::CpuTimes::of(self.child.id())
            .map(|t| (t.user + t.system).as_secs_f64())
            .map_err(|e| format!("redis-server's CPU time: {e}"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
