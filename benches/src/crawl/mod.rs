//! The `crawl` scenario (issue 8): areq against its peers on the seed's own job — fetch every URL
//! of `urls.txt` (the non-recursive mode, at most 100 requests at once), extract each page's
//! links, write the `source_url<TAB>parsed_url` TSV.
//!
//! It generates a static site ([`site`]: 10,000 pages of a few KB, 21 links each, deterministic)
//! in a temp dir, serves it with nginx pinned to CPU 0 ([`nginx`]), writes `urls.txt` with every
//! page's URL, and runs each crawler as a process of its own pinned to CPU 1, under GNU
//! `/usr/bin/time`, whose `wait4` gives the child's exact user and system CPU time and its peak
//! resident set (`ru_maxrss`, the kernel's `VmHWM` at exit):
//!
//! - `areq`: the release binary (`cargo build -p areq --bin areq` into this binary's own target
//!   dir first), `areq urls.txt -o OUT --limit 100 -q`;
//! - `reqwest`: `crawl-reqwest` ([`reqwest_main.rs`](../reqwest_main.rs)), the plain peer the
//!   issue names: reqwest on tokio current_thread with `buffer_unordered(100)`, links from
//!   `scraper` (html5ever and a CSS selector, the crate a Rust user reaches for) and a
//!   `BufWriter`; the targets are against it;
//! - `reqwest-areq-links`: the same crawler given areq's own link extractor, so that only the
//!   runtime, the HTTP client and the output differ (reported beside the targets);
//! - `areq.py`: the tutorial's program, taken out of the seed text at run time by
//!   `benches/python/crawl_seed.py` (never copied into the repository) and run verbatim with
//!   aiohttp and aiofiles; `areq.py-uvloop`: the same with uvloop's event loop policy installed.
//!
//! Every output must have exactly as many lines after its header as the generator put distinct
//! links on the pages (the site is made so that the seed's regular expression with `urljoin`
//! and areq's tokenizer with the `url` crate agree); the scenario fails loudly otherwise, and
//! also compares the link sets of the last run of each crawler.
//!
//! Runs only when named: `tulip-bench crawl [--pages N] [--crawlers KEY,...] [--reps N]
//! [--python PATH]`; `benches/python/crawl.sh` makes the Python venv and runs it.

mod nginx;
pub(crate) mod shared;
mod site;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Options;
use crate::net::proc::{CLIENT_CPU, pin_current_thread, restore_affinity};
use crate::net::table::{Col, Row, Subject, Table, rotate};
use crate::report::{Metric, median};

/// Pages of the site by default (a tenth under `--quick`).
const PAGES: usize = 10_000;
/// Requests in flight at once: the seed's connector limit, areq's default.
const LIMIT: &str = "100";
/// GNU time, for the child's rusage.
const TIME: &str = "/usr/bin/time";
/// Targets for areq: pages/s at least this many times reqwest's, peak RSS at most this.
const TARGET_SPEED: f64 = 1.2;
const TARGET_RSS_MIB: f64 = 20.0;
/// The seed's header line.
const HEADER: &str = "source_url\tparsed_url";

/// The crawlers: `(key, row label)`.
const CRAWLERS: [(&str, &str); 5] = [
    ("areq", "areq (tulip + tulip-http)"),
    ("reqwest", "reqwest on tokio current_thread, scraper"),
    (
        "reqwest-areq-links",
        "reqwest on tokio current_thread, areq's extractor",
    ),
    ("areq.py", "areq.py (aiohttp + aiofiles, asyncio)"),
    ("areq.py-uvloop", "areq.py on uvloop"),
];

const METRICS: [Metric; 9] = [
    Metric::new("pages/s", 0),
    Metric::new("wall s", 2),
    Metric::new("CPU s", 2),
    Metric::new("user s", 2),
    Metric::new("sys s", 2),
    Metric::new("peak RSS MiB", 1),
    Metric::new("lines", 0),
    Metric::new("nginx CPU s", 2),
    Metric::new("errors", 0),
];
const PAGES_S: usize = 0;
const CPU: usize = 2;
const RSS: usize = 5;
const LINES: usize = 6;

const COLS: [Col; 13] = [
    Col::Median(PAGES_S),
    Col::Ratio(PAGES_S, "reqwest"),
    Col::Ratio(PAGES_S, "areq.py"),
    Col::Range(PAGES_S),
    Col::Median(1),
    Col::Median(CPU),
    Col::Ratio(CPU, "reqwest"),
    Col::Median(3),
    Col::Median(4),
    Col::Median(RSS),
    Col::Ratio(RSS, "reqwest"),
    Col::Median(LINES),
    Col::Median(7),
];

/// Options only the `crawl` scenario takes.
#[derive(Debug, Clone, Default)]
pub(crate) struct CrawlOptions {
    /// `--pages N`: the site's size.
    pages: Option<usize>,
    /// `--crawlers KEY,...`: which crawlers, in order.
    crawlers: Option<Vec<String>>,
    /// `--seed PATH`: the seed text holding areq.py.
    seed: Option<PathBuf>,
    /// `--areq PATH`: an areq binary to use instead of building one.
    areq: Option<PathBuf>,
    /// `--crawl-prefix CMD`: a command line the Rust crawlers run under (a profiler).
    prefix: Vec<String>,
    /// `--keep`: leave the site, the outputs and the logs in the temp dir.
    keep: bool,
}

impl CrawlOptions {
    /// Whether `arg` is an option of the `crawl` scenario; all but `--keep` take a value.
    pub(crate) fn takes(arg: &str) -> bool {
        matches!(
            arg,
            "--pages" | "--crawlers" | "--seed" | "--areq" | "--crawl-prefix" | "--keep"
        )
    }

    /// Records option `arg`, taking its value from `next` when it has one.
    pub(crate) fn set(
        &mut self,
        arg: &str,
        next: &mut impl Iterator<Item = String>,
    ) -> Result<(), String> {
        if arg == "--keep" {
            self.keep = true;
            return Ok(());
        }
        let value = next.next().ok_or(format!("{arg} takes a value"))?;
        match arg {
            "--pages" => {
                let n = value.parse().ok().filter(|&n: &usize| n > 0);
                self.pages = Some(n.ok_or(format!("--pages takes a count, not `{value}`"))?);
            }
            "--crawlers" => {
                let keys: Vec<String> = value.split(',').map(String::from).collect();
                if let Some(bad) = keys.iter().find(|k| !CRAWLERS.iter().any(|(c, _)| c == k)) {
                    return Err(format!("unknown crawler `{bad}`"));
                }
                self.crawlers = Some(keys);
            }
            "--seed" => self.seed = Some(value.into()),
            "--areq" => self.areq = Some(value.into()),
            "--crawl-prefix" => self.prefix = value.split_whitespace().map(String::from).collect(),
            other => return Err(format!("unknown option `{other}`")),
        }
        Ok(())
    }

    /// Usage lines for these options.
    pub(crate) fn usage() -> String {
        let keys: Vec<&str> = CRAWLERS.iter().map(|(k, _)| *k).collect();
        format!(
            "crawl also takes --reps N, --python PATH (with aiohttp, aiofiles, uvloop), and:\n  \
             --pages N          pages of the generated site (10000; 1000 under --quick)\n  \
             --crawlers KEY,... (keys: {})\n  \
             --seed PATH        the seed text holding areq.py (../shared/seeds/000_*.txt)\n  \
             --areq PATH        use this areq binary instead of building one\n  \
             --crawl-prefix CMD run areq and crawl-reqwest under CMD (a profiler)\n  \
             --keep             keep the site, outputs and logs in the temp dir",
            keys.join(", ")
        )
    }
}

/// A crawler the scenario runs.
#[derive(Debug, Clone)]
struct Crawler {
    key: &'static str,
    label: &'static str,
}

impl Subject for Crawler {
    fn key(&self) -> &str {
        self.key
    }

    fn label(&self) -> &str {
        self.label
    }
}

/// What every run shares.
struct Setup {
    dir: PathBuf,
    urls: PathBuf,
    pages: usize,
    areq: PathBuf,
    reqwest: PathBuf,
    /// The interpreter and areq.py's directory, when the Python rows run.
    python: Option<(PathBuf, PathBuf)>,
    prefix: Vec<String>,
    nginx: nginx::Nginx,
}

/// The `crawl` scenario: prints its table; exits the process with status 1 when the outputs
/// disagree or the set-up fails.
pub(crate) fn run(options: &Options) -> Vec<crate::report::Table> {
    if let Err(message) = measure(options) {
        eprintln!("crawl: FAILED: {message}");
        std::process::exit(1);
    }
    Vec::new()
}

fn measure(options: &Options) -> Result<(), String> {
    let crawl = &options.crawl;
    let pages = crawl.pages.unwrap_or(options.size(PAGES));
    let keys: Vec<String> = crawl
        .crawlers
        .clone()
        .unwrap_or_else(|| CRAWLERS.iter().map(|(k, _)| k.to_string()).collect());
    let mut crawlers: Vec<Crawler> = CRAWLERS
        .iter()
        .filter(|(k, _)| keys.iter().any(|key| key == k))
        .map(|&(key, label)| Crawler { key, label })
        .collect();
    if !Path::new(TIME).is_file() {
        return Err(format!(
            "{TIME} (GNU time) is needed for the crawlers' CPU time and peak RSS (Debian: apt-get install time)"
        ));
    }

    let dir = std::env::temp_dir().join(format!("tulip-bench-crawl-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let www = dir.join("www");
    eprintln!("  generating {pages} pages in {}", www.display());
    let site = site::generate(&www, pages).map_err(|e| format!("generating the site: {e}"))?;
    let nginx = nginx::Nginx::start(&dir, &www).map_err(|e| format!("nginx: {e}"))?;
    let urls = dir.join("urls.txt");
    let list: String = (0..pages)
        .map(|i| format!("http://{}{}\n", nginx.addr, site::page_path(i)))
        .collect();
    fs::write(&urls, list).map_err(|e| format!("{}: {e}", urls.display()))?;

    let (areq, reqwest) = binaries(crawl.areq.clone())?;
    let wants_python = crawlers.iter().any(|c| c.key.starts_with("areq.py"));
    let python = if wants_python {
        match python_setup(options, &dir, &urls)? {
            Some(python) => Some(python),
            None => {
                crawlers.retain(|c| !c.key.starts_with("areq.py"));
                None
            }
        }
    } else {
        None
    };
    let setup = Setup {
        dir: dir.clone(),
        urls,
        pages,
        areq,
        reqwest,
        python,
        prefix: crawl.prefix.clone(),
        nginx,
    };

    let reps = crate::net::reps(options);
    let rows = rotate(&crawlers, reps, METRICS.len(), |crawler| {
        eprintln!("  {}…", crawler.key);
        once(&setup, crawler)
    });
    let verdicts = targets(&rows);
    let (counts, mut problems) = line_problems(&rows, site.links);
    let sets = compare_sets(&setup, &crawlers);
    let title = format!(
        "crawl: {pages} pages from nginx ({} links, {:.1} MB of HTML), urls.txt, limit 100",
        site.links,
        site.bytes as f64 / 1e6
    );
    Table::new(title, &METRICS, &COLS, rows)
        .subject("crawler")
        .print();
    for verdict in verdicts {
        println!("{verdict}");
    }
    println!("{counts}");
    match &sets {
        Ok(summary) => println!("- outputs: {summary}"),
        Err(diff) => problems.push(diff.clone()),
    }
    println!();
    drop(setup);
    if crawl.keep {
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

/// The areq and crawl-reqwest binaries, built (or found up to date) by cargo in this binary's
/// own target dir and profile; `--areq` replaces the first.
fn binaries(areq: Option<PathBuf>) -> Result<(PathBuf, PathBuf), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let profile_dir = exe.parent().ok_or("tulip-bench has no directory")?;
    let target_dir = profile_dir
        .parent()
        .ok_or("tulip-bench's directory has no parent")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(name) => name.to_string(),
        None => "release".to_string(),
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    eprintln!(
        "  cargo build --profile {profile} -p areq --bin areq -p tulip-benches --bin crawl-reqwest"
    );
    let status = Command::new(cargo)
        .current_dir(&workspace)
        .args(["build", "--quiet", "--profile", &profile])
        .args(["-p", "areq", "--bin", "areq"])
        .args(["-p", "tulip-benches", "--bin", "crawl-reqwest"])
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !status.success() {
        return Err(format!("building areq and crawl-reqwest: cargo {status}"));
    }
    let built = profile_dir.join("areq");
    Ok((areq.unwrap_or(built), profile_dir.join("crawl-reqwest")))
}

/// The Python interpreter and the directory holding the extracted areq.py (with urls.txt
/// beside it); `None`, after saying why, when no interpreter with aiohttp, aiofiles and uvloop
/// is at hand.
fn python_setup(
    options: &Options,
    dir: &Path,
    urls: &Path,
) -> Result<Option<(PathBuf, PathBuf)>, String> {
    let candidates: Vec<PathBuf> = match &options.net.python {
        Some(python) => vec![python.clone()],
        None => {
            let venv = std::env::var_os("TULIP_BENCH_VENV")
                .filter(|v| !v.is_empty())
                .map_or_else(|| PathBuf::from("/tmp/tulip-bench-venv"), PathBuf::from);
            vec![venv.join("bin/python")]
        }
    };
    let usable = |python: &Path| {
        Command::new(python)
            .args(["-c", "import aiohttp, aiofiles, uvloop"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let Some(python) = candidates.into_iter().find(|p| usable(p)) else {
        if options.net.python.is_some() {
            return Err(
                "--python: the interpreter cannot import aiohttp, aiofiles and uvloop".into(),
            );
        }
        eprintln!(
            "  skipping areq.py: no Python with aiohttp, aiofiles and uvloop \
             (run benches/python/crawl.sh, or pass --python PATH)"
        );
        return Ok(None);
    };
    let seed = match &options.crawl.seed {
        Some(seed) => seed.clone(),
        None => find_seed()?,
    };
    let py = dir.join("py");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/crawl_seed.py");
    let status = Command::new(&python)
        .arg(script)
        .arg("extract")
        .arg(&seed)
        .arg(&py)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !status.success() {
        return Err(format!(
            "extracting areq.py from {}: {status}",
            seed.display()
        ));
    }
    fs::copy(urls, py.join("urls.txt")).map_err(|e| format!("copying urls.txt: {e}"))?;
    Ok(Some((python, py)))
}

/// `../shared/seeds/000_*.txt` relative to the repository.
fn find_seed() -> Result<PathBuf, String> {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds");
    let entries = fs::read_dir(&seeds).map_err(|e| format!("{}: {e}", seeds.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("000_") && n.ends_with(".txt"))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .next()
        .ok_or_else(|| format!("no 000_*.txt seed in {} (use --seed PATH)", seeds.display()))
}

/// One run of one crawler: its metrics, in [`METRICS`] order.
fn once(setup: &Setup, crawler: &Crawler) -> Result<Vec<f64>, String> {
    let out = setup.dir.join(format!("out-{}.tsv", crawler.key));
    let _ = fs::remove_file(&out);
    let mut line: Vec<std::ffi::OsString> = Vec::new();
    let (cwd, produced) = match crawler.key {
        "areq" | "reqwest" | "reqwest-areq-links" => {
            line.extend(setup.prefix.iter().map(Into::into));
            if crawler.key == "areq" {
                line.push(setup.areq.clone().into());
                line.push(setup.urls.clone().into());
                line.extend(["-o".into(), out.clone().into()]);
                line.extend(["--limit", LIMIT, "-q"].map(Into::into));
            } else {
                line.push(setup.reqwest.clone().into());
                line.push(setup.urls.clone().into());
                line.push(out.clone().into());
                line.extend(["--limit", LIMIT].map(Into::into));
                let links = if crawler.key == "reqwest" {
                    "scraper"
                } else {
                    "areq"
                };
                line.extend(["--links", links].map(Into::into));
            }
            (setup.dir.clone(), out.clone())
        }
        _ => {
            let (python, py) = setup.python.as_ref().ok_or("no Python set up")?;
            let _ = fs::remove_file(py.join("foundurls.txt"));
            line.push(python.into());
            if crawler.key == "areq.py-uvloop" {
                line.push(concat!(env!("CARGO_MANIFEST_DIR"), "/python/crawl_seed.py").into());
                line.push("uvloop".into());
            }
            line.push(py.join("areq.py").into());
            (py.clone(), py.join("foundurls.txt"))
        }
    };
    let stats = setup.dir.join("time.txt");
    let log = setup.dir.join(format!("stderr-{}.log", crawler.key));
    let stderr = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut command = Command::new(TIME);
    command
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(&stats)
        .arg("--")
        .args(&line)
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);

    let nginx_before = setup.nginx.cpu().map_err(|e| format!("nginx: {e}"))?;
    let old = pin_current_thread(CLIENT_CPU).map_err(|e| format!("pinning: {e}"))?;
    let started = Instant::now();
    let child = command.spawn();
    restore_affinity(&old);
    let status = child
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("running {line:?}: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let nginx_cpu = setup
        .nginx
        .cpu()
        .map_err(|e| format!("nginx: {e}"))?
        .since(nginx_before);
    if !status.success() {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(10).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{line:?} exited with {status}:\n{}",
            tail.join("\n")
        ));
    }
    let (user, sys, rss_kib) = read_time(&stats)?;
    if produced != out {
        fs::rename(&produced, &out).map_err(|e| format!("{}: {e}", produced.display()))?;
    }
    let lines = count_lines(&out)?;
    let errors = BufReader::new(File::open(&log).map_err(|e| format!("{}: {e}", log.display()))?)
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.contains("ERROR"))
        .count();
    Ok(vec![
        setup.pages as f64 / wall,
        wall,
        user + sys,
        user,
        sys,
        rss_kib / 1024.0,
        lines as f64,
        (nginx_cpu.user + nginx_cpu.system).as_secs_f64(),
        errors as f64,
    ])
}

/// GNU time's `%e %U %S %M` line (the last line: a failed command's status line comes first):
/// user s, system s, peak RSS KiB.
fn read_time(path: &Path) -> Result<(f64, f64, f64), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let last = text.lines().last().unwrap_or("");
    let fields: Vec<f64> = last
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields[..] {
        [_, user, sys, rss] => Ok((user, sys, rss)),
        _ => Err(format!("{}: unexpected `{last}`", path.display())),
    }
}

/// Lines after the header of an output; an error when the header is not the seed's.
fn count_lines(path: &Path) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = BufReader::new(file).lines();
    match lines.next() {
        Some(Ok(header)) if header == HEADER => {}
        other => {
            return Err(format!(
                "{}: the first line is {other:?}, not the header",
                path.display()
            ));
        }
    }
    Ok(lines.count() as u64)
}

/// The target lines under the table.
fn targets(rows: &[Row]) -> Vec<String> {
    let med = |key: &str, m: usize| {
        rows.iter().find(|r| r.key == key).map_or(f64::NAN, |r| {
            median(r.runs.iter().map(|run| run[m]).collect())
        })
    };
    let verdict = |ok: bool, value: f64| match (value.is_nan(), ok) {
        (true, _) => "not measured",
        (false, true) => "met",
        (false, false) => "MISSED",
    };
    let speed = med("areq", PAGES_S) / med("reqwest", PAGES_S);
    let same_parser = med("areq", PAGES_S) / med("reqwest-areq-links", PAGES_S);
    let rss = med("areq", RSS);
    vec![
        format!(
            "- areq pages/s vs reqwest given areq's own extractor (runtime, HTTP and output \
             only): {same_parser:.2}×"
        ),
        format!(
            "- target: areq pages/s ≥ {TARGET_SPEED:.2}× reqwest: {speed:.2}× — {}",
            verdict(speed >= TARGET_SPEED, speed)
        ),
        format!(
            "- target: areq peak RSS ≤ {TARGET_RSS_MIB:.0} MiB: {rss:.1} MiB — {}",
            verdict(rss <= TARGET_RSS_MIB, rss)
        ),
    ]
}

/// Every run's line count against the generator's: a line listing them all, and one message
/// per run that differs.
fn line_problems(rows: &[Row], expected: u64) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let mut counts = Vec::new();
    for row in rows {
        let lines: Vec<String> = row
            .runs
            .iter()
            .map(|run| format!("{}", run[LINES]))
            .collect();
        counts.push(format!("{} {}", row.key, lines.join("/")));
        for (i, run) in row.runs.iter().enumerate() {
            if run[LINES] != expected as f64 {
                problems.push(format!(
                    "{} run {}: {} output lines after the header, expected {expected}",
                    row.key,
                    i + 1,
                    run[LINES]
                ));
            }
        }
    }
    let counts = format!(
        "- output lines after the header (every run): {}; expected {expected}",
        counts.join(", ")
    );
    (counts, problems)
}

/// Whether the last outputs of all crawlers hold the same lines (in any order).
fn compare_sets(setup: &Setup, crawlers: &[Crawler]) -> Result<String, String> {
    let read = |key: &str| -> Option<BTreeSet<String>> {
        let text = fs::read_to_string(setup.dir.join(format!("out-{key}.tsv"))).ok()?;
        Some(text.lines().skip(1).map(String::from).collect())
    };
    let mut sets = crawlers.iter().filter_map(|c| Some((c.key, read(c.key)?)));
    let Some((first_key, first)) = sets.next() else {
        return Ok("no output to compare".into());
    };
    let mut same = vec![first_key];
    for (key, set) in sets {
        if set != first {
            let only_first = first.difference(&set).count();
            let only_other = set.difference(&first).count();
            let example = first
                .symmetric_difference(&set)
                .next()
                .cloned()
                .unwrap_or_default();
            return Err(format!(
                "the outputs of {first_key} and {key} differ: {only_first} lines only in \
                 {first_key}'s, {only_other} only in {key}'s (e.g. `{example}`)"
            ));
        }
        same.push(key);
    }
    Ok(format!(
        "the same {} lines from {}",
        first.len(),
        same.join(", ")
    ))
}
