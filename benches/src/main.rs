//! `tulip-bench`: tulip side by side with tokio (current_thread and multi_thread) and smol, in
//! one process, each scenario's runtimes measured in rotation and summarised by medians.
//!
//! ```text
//! tulip-bench [scenario...] [--quick] [--only tulip,tokio-ct,tokio-mt,smol] [--reps N]
//! ```
//!
//! No scenario named runs them all; `--quick` runs every scenario at a tenth of its size;
//! `--only` and `--reps` narrow a run down for profiling one runtime.
//! The network scenarios (`echo`, `c10k`, `connect_rate`, in `src/net/`) run only when named;
//! `tulip-bench --serve KIND` is the echo server they start.
//! The HTTP scenarios (`http_client`, `http_server`, in `src/http/`) run only when named too;
//! `tulip-bench --http-client KIND` and `tulip-bench --serve-http KIND` are the client and
//! server processes they start.
//! The `crawl` scenario (`src/crawl/`, issue 8) runs only when named: areq against reqwest and
//! the seed's areq.py, each crawling a generated site from nginx; `crawl_shared` (issue 9)
//! areq's Redis frontier shared by 1, 2 and 4 processes against its in-memory one.

#![deny(unsafe_code)]

// The counting allocator implements `GlobalAlloc`, an unsafe trait; nothing else may use unsafe.
#[allow(unsafe_code)]
mod alloc;
mod as_completed;
mod crawl;
mod fs;
mod gather;
mod gather_sleep;
mod http;
mod lock_contention;
mod net;
mod ping_pong;
mod process;
mod queue_pc;
mod report;
mod runtimes;
mod semaphore;
mod spawn_join;
mod timers;
mod to_thread;
mod wait_for;

use std::process::ExitCode;

use report::Table;
use runtimes::Runtime;

/// Runs per runtime in every scenario; tables show the median.
const REPS: usize = 5;

/// Settings shared by every scenario.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Smoke-test mode: sizes divided by ten.
    pub(crate) quick: bool,
    /// Runs per runtime.
    pub(crate) reps: usize,
    /// The runtimes measured, in rotation order.
    pub(crate) runtimes: Vec<Runtime>,
    /// Options of the network scenarios.
    pub(crate) net: net::NetOptions,
    /// Options of the `crawl` scenario.
    pub(crate) crawl: crawl::CrawlOptions,
}

impl Options {
    /// `full` scaled for this run: a tenth of it under `--quick`.
    pub(crate) fn size(&self, full: usize) -> usize {
        if self.quick { full / 10 } else { full }
    }
}

/// A scenario: its command-line name and the function that measures it.
type Scenario = (&'static str, fn(&Options) -> Vec<Table>);

const SCENARIOS: [Scenario; 12] = [
    ("spawn_join", spawn_join::run),
    ("ping_pong", ping_pong::run),
    ("timers", timers::run),
    ("gather_sleep", gather_sleep::run),
    ("gather", gather::run),
    ("as_completed", as_completed::run),
    ("wait_for", wait_for::run),
    ("queue_pc", queue_pc::run),
    ("lock_contention", lock_contention::run),
    ("semaphore", semaphore::run),
    ("to_thread", to_thread::run),
    ("process", process::run),
];

/// Scenarios run only when named: they take minutes and start server processes (`src/net/`).
const ON_REQUEST: [Scenario; 8] = [
    ("echo", net::echo),
    ("c10k", net::c10k),
    ("connect_rate", net::connect_rate),
    // tokio::fs takes about a minute per run here (a pool hop per line).
    ("fs", fs::run),
    // Start nginx, wrk and client/server processes (`src/http/`).
    ("http_client", http::client),
    ("http_server", http::server),
    // Starts nginx and crawler processes (`src/crawl/`).
    ("crawl", crawl::run),
    // Starts nginx, redis-server and areq processes sharing a Redis frontier (issue 9).
    ("crawl_shared", crawl::shared::run),
];

fn usage() -> String {
    let names: Vec<_> = SCENARIOS.iter().map(|(name, _)| *name).collect();
    let on_request: Vec<_> = ON_REQUEST.iter().map(|(name, _)| *name).collect();
    let runtimes: Vec<_> = Runtime::ALL.iter().map(|r| r.key()).collect();
    format!(
        "usage: tulip-bench [scenario...] [--quick] [--only RUNTIME,...] [--reps N]\n\
         scenarios: {}\nonly when named: {}\nruntimes: {}\n{}",
        names.join(", "),
        on_request.join(", "),
        runtimes.join(", "),
        net::NetOptions::usage()
    ) + "\n"
        + &crawl::CrawlOptions::usage()
}

/// The scenarios to run and their options, from the command line.
fn parse(mut args: impl Iterator<Item = String>) -> Result<(Vec<Scenario>, Options), String> {
    let mut options = Options {
        quick: false,
        reps: REPS,
        runtimes: Runtime::ALL.to_vec(),
        net: net::NetOptions::default(),
        crawl: crawl::CrawlOptions::default(),
    };
    let mut chosen = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--reps" => {
                let n = args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0);
                options.reps = n.ok_or("--reps takes a positive number")?;
                options.net.reps = Some(options.reps);
            }
            "--only" => {
                let list = args.next().ok_or("--only takes a list of runtimes")?;
                options.runtimes = list
                    .split(',')
                    .map(|key| Runtime::from_key(key).ok_or(format!("unknown runtime `{key}`")))
                    .collect::<Result<_, _>>()?;
            }
            net if net::NetOptions::takes(net) => options.net.set(net, args.next())?,
            crawl if crawl::CrawlOptions::takes(crawl) => options.crawl.set(crawl, &mut args)?,
            name => match SCENARIOS
                .iter()
                .chain(&ON_REQUEST)
                .find(|(n, _)| *n == name)
            {
                Some(scenario) => chosen.push(*scenario),
                None => return Err(format!("unknown scenario or option `{name}`")),
            },
        }
    }
    if chosen.is_empty() {
        chosen = SCENARIOS.to_vec();
    }
    Ok((chosen, options))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--serve") {
        return net::serve::main(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "--serve-http") {
        return http::serve::main(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "--http-client") {
        return http::clients::main(&args[1..]);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let (chosen, options) = match parse(args.into_iter()) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}\n{}", usage());
            return ExitCode::FAILURE;
        }
    };
    for (name, run) in chosen {
        eprintln!("running {name}…");
        for table in run(&options) {
            table.print();
        }
    }
    ExitCode::SUCCESS
}
