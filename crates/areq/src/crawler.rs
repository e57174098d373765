//! The crawl: input URLs in, pages fetched concurrently, links out.
//!
//! The seed's counterpart is `bulk_crawl_and_write()` with `write_one()`: one session, one task
//! per URL, `asyncio.gather` over them all. A recursive crawl cannot make all its tasks up
//! front, so here one coordinating loop ([`crawl_with`]) runs the crawl:
//!
//! 1. it [claims](Frontier::claim) ready jobs from the [`Frontier`] — as many as `--limit`
//!    leaves room for — and spawns one task per job; a task makes one request for its page
//!    and queues the outcome;
//! 2. it takes the outcomes in batches: hands each page's lines to the [`OutputWriter`],
//!    records the graph, and hands the frontier all the new in-scope links of the batch, and
//!    the targets of its redirects, with the batch's completions and the next claim in one call
//!    ([`Frontier::finish_and_claim`]);
//! 3. it waits for the next outcome, the end of a host's politeness delay, or Ctrl+C.
//!
//! # Redirects
//!
//! The session follows no redirect by itself. A redirect's target becomes a job of its own,
//! queued with the redirecting page's completion: same depth, that page as its parent, and the
//! chain so far ([`Job::redirect_to`]). So every request of a crawl — a page named by a link or
//! the input, or a hop of a redirect chain — is claimed from the frontier and obeys its host's
//! in-flight limit and politeness delay (`--per-host`, `--delay`, a `Crawl-delay`), whichever
//! backend keeps the frontier; the seen-set makes each target fetched once; and a crawler that
//! dies between two hops leaves the target queued, not lost. The chain carried in the job
//! catches a loop (a target already in its chain: [`FailureKind::RedirectLoop`]) and a chain
//! longer than 10 redirects ([`FailureKind::TooManyRedirects`]); a target out of scope or
//! already seen is not followed. Each hop counts as a page claimed against `--max-pages`.
//!
//! Ctrl+C (when [`Config::handle_ctrl_c`]) stops claiming, cancels the pages in flight (they
//! were not written, so `--resume` fetches them again), and then finishes as a normal end does:
//! the output is flushed and closed, the graph written, the summary returned with
//! [`Summary::interrupted`] set. With [`Config::state`] (`--state DIR`, the
//! [`DiskFrontier`]) or [`Config::redis`] (`--redis URL`, the [`RedisFrontier`] shared with
//! other crawlers), Ctrl+C lets the pages in flight finish and records them, so neither the next
//! run nor another crawler fetches them again; a second Ctrl+C cancels them as above.
//!
//! With `--state` or `--redis`, each batch's output lines are flushed before its completions
//! are recorded, so a page recorded as done never loses its lines. With `--state` the output's
//! length is recorded too (redirect targets are queued in the same commit): see
//! [`DiskFrontier`] for why a crawl killed at any point then resumes with every output line
//! exactly once.
//!
//! # Examples
//!
//! ```
//! use std::rc::Rc;
//! use areq::crawler::{Config, crawl};
//! use areq::demo::{DemoConfig, DemoSite, serve};
//!
//! # let dir = std::env::temp_dir().join(format!("areq-doc-crawl-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! tulip::run(async {
//!     let site = Rc::new(DemoSite::new(DemoConfig { pages: 20, ..Default::default() }));
//!     let server = serve(site, "127.0.0.1:0").await.unwrap();
//!     let mut config = Config::new(dir.join("found.tsv"));
//!     config.urls = vec![server.base_url().join("/page/0").unwrap()];
//!     config.depth = 1;
//!     config.same_host = true;
//!     let summary = crawl(&config).await.unwrap();
//!     assert!(summary.pages > 1);
//!     server.shutdown().await;
//! });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::HashMap;
use std::future::pending;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::future;
use tulip::queue::Queue;
use tulip::signal::CtrlC;
use tulip::task::Task;
use tulip::time::Instant;
use url::Url;

use crate::error::Error;
use crate::fetch::{FailureKind, FetchConfig, FetchError, Fetched, Fetcher};
use crate::frontier::{
    Completion, DiskFrontier, Frontier, FrontierConfig, Job, MemoryFrontier, RedisFrontier,
    RedisOptions,
};
use crate::graph::{GraphFormat, LinkGraph};
use crate::input;
use crate::output::{self, OutputWriter};
use crate::progress::{Progress, Summary};
use crate::robots::{MAX_CRAWL_DELAY, RobotsCache};
use crate::scope::Scope;

/// Jobs claimed from the frontier in one call, at most.
const CLAIM_BATCH: usize = 256;

/// Redirects followed in a row, at most (aiohttp's default is 10).
const MAX_REDIRECTS: usize = 10;

/// Everything a crawl needs to know. [`Config::new`] gives the seed's behaviour: fetch the
/// listed URLs, write their links, follow nothing.
///
/// # Examples
///
/// ```
/// let config = areq::crawler::Config::new("foundurls.txt".into());
/// assert_eq!(config.depth, 0);
/// assert_eq!(config.fetch.limit, 100);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The file of input URLs (`urls.txt`), read if [`urls`](Config::urls) is empty.
    pub input: Option<PathBuf>,
    /// Input URLs given directly (used instead of the file when not empty).
    pub urls: Vec<Url>,
    /// The output file (`foundurls.txt`).
    pub output: PathBuf,
    /// How requests are made: limits, timeout, retries, body limit.
    pub fetch: FetchConfig,
    /// Follow links up to this many levels from the input URLs (0: the seed's behaviour).
    pub depth: u32,
    /// Follow only links to the input URLs' hosts (and allowed domains).
    pub same_host: bool,
    /// Follow links within these domains (and their subdomains).
    pub allow_domains: Vec<String>,
    /// Never fetch URLs matching these regular expressions.
    pub exclude: Vec<String>,
    /// Stop claiming new pages after this many (each hop of a redirect chain counts as one).
    pub max_pages: Option<u64>,
    /// Obey each origin's `robots.txt`, its `Crawl-delay` included (see
    /// [`max_crawl_delay`](Config::max_crawl_delay)).
    pub respect_robots: bool,
    /// At least this long between two requests to one host (longer for a host whose
    /// `robots.txt` asks for more, with [`respect_robots`](Config::respect_robots)).
    pub delay: Duration,
    /// The longest `Crawl-delay` obeyed; a `robots.txt` asking for more gets this, with a
    /// warning (default [`MAX_CRAWL_DELAY`], 30 s; zero ignores `Crawl-delay`).
    pub max_crawl_delay: Duration,
    /// Write the link graph here (`.dot` or `.graphml`).
    pub graph: Option<PathBuf>,
    /// Append to an existing output and skip the pages it lists as sources.
    pub resume: bool,
    /// Keep the crawl's frontier in this directory ([`DiskFrontier`]) and continue the crawl
    /// recorded there, if any (then the output is appended to, cut back to the length that
    /// goes with the recorded state). Takes the place of [`resume`](Config::resume). Give the
    /// same other options to the next run: the scope, depth and politeness are not stored. The
    /// graph and [`max_pages`](Config::max_pages) cover the pages of the current run only.
    pub state: Option<PathBuf>,
    /// Share the crawl with other crawlers through a Redis frontier ([`RedisFrontier`],
    /// `--redis URL --crawl-id NAME`). Excludes [`state`](Config::state) and
    /// [`resume`](Config::resume).
    pub redis: Option<RedisOptions>,
    /// With [`redis`](Config::redis): write the output lines to the crawl's Redis stream
    /// (`--output redis`, [`RedisOptions::output_key`]) instead of the output file.
    pub output_to_redis: bool,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// Stop cleanly on Ctrl+C (the program handles `SIGINT` while the crawl runs).
    pub handle_ctrl_c: bool,
}

impl Config {
    /// The seed's defaults, writing to `output`: input from `urls.txt`, depth 0, limit 100, no
    /// per-host limit, 30 s timeout, 2 retries, 10 MiB body limit, no progress bar, Ctrl+C not
    /// handled.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = areq::crawler::Config::new("out.tsv".into());
    /// assert_eq!(config.input.as_deref(), Some(std::path::Path::new("urls.txt")));
    /// ```
    pub fn new(output: PathBuf) -> Config {
        Config {
            input: Some(PathBuf::from("urls.txt")),
            urls: Vec::new(),
            output,
            fetch: FetchConfig::default(),
            depth: 0,
            same_host: false,
            allow_domains: Vec::new(),
            exclude: Vec::new(),
            max_pages: None,
            respect_robots: false,
            delay: Duration::ZERO,
            max_crawl_delay: MAX_CRAWL_DELAY,
            graph: None,
            resume: false,
            state: None,
            redis: None,
            output_to_redis: false,
            progress: false,
            handle_ctrl_c: false,
        }
    }
}

/// Crawls with the in-memory frontier. See [`crawl_with`].
///
/// # Errors
///
/// As [`crawl_with`].
///
/// # Examples
///
/// See the [module docs](self).
pub async fn crawl(config: &Config) -> Result<Summary, Error> {
    let politeness = FrontierConfig {
        per_host: config.fetch.per_host,
        delay: config.delay,
        // A host's Crawl-delay is known once its first page read its robots.txt.
        learn_delays: config.respect_robots,
    };
    if let Some(options) = &config.redis {
        validate(config)?;
        let frontier = RedisFrontier::open(options, politeness).await?;
        let backend = Backend {
            redis: Some(frontier.clone()),
            ..Backend::default()
        };
        let mut summary = crawl_inner(config, frontier.clone(), backend).await?;
        summary.redis_round_trips = Some(frontier.round_trips());
        return Ok(summary);
    }
    match &config.state {
        Some(dir) => {
            validate(config)?;
            let frontier = DiskFrontier::open(dir, politeness)?;
            let backend = Backend {
                disk: Some(frontier.clone()),
                ..Backend::default()
            };
            crawl_inner(config, frontier, backend).await
        }
        None => crawl_with(config, MemoryFrontier::new(politeness)).await,
    }
}

/// The backend behind a crawl's frontier, when the crawl must know it.
#[derive(Default)]
struct Backend {
    /// `--state`: the output goes with the state on disk.
    disk: Option<DiskFrontier>,
    /// `--redis`: the output may go to the crawl's stream.
    redis: Option<RedisFrontier>,
}

/// What one page task hands back.
#[derive(Debug)]
struct Outcome {
    id: u64,
    job: Job,
    /// The response, if one came (a redirect's too, even when its target is refused).
    page: Option<Fetched>,
    error: Option<FetchError>,
    robots_blocked: bool,
    /// A redirect's target, to be queued as a job of its own.
    redirect: Option<Url>,
    /// The delay the host's `robots.txt` asks for, when it was read.
    host_delay: Option<Duration>,
}

/// What page tasks share.
struct Shared<F> {
    fetcher: Fetcher,
    frontier: F,
    scope: Scope,
    robots: Option<RobotsCache>,
}

/// Crawls as `config` says, with `frontier` as the record of what to fetch and what was seen
/// (it may already hold state from an earlier run). Must run on a tulip loop.
///
/// # Errors
///
/// [`Error`] when the input cannot be read, the output or graph cannot be written, an option
/// is invalid, or the frontier fails. Pages that fail are not errors: they are logged and
/// counted in the [`Summary`].
///
/// # Examples
///
/// ```
/// use areq::crawler::{Config, crawl_with};
/// use areq::frontier::{FrontierConfig, MemoryFrontier};
///
/// # let dir = std::env::temp_dir().join(format!("areq-doc-crawlwith-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// tulip::run(async {
///     let mut config = Config::new(dir.join("out.tsv"));
///     config.input = Some(dir.join("missing-urls.txt"));
///     let frontier = MemoryFrontier::new(FrontierConfig::default());
///     let err = crawl_with(&config, frontier).await.unwrap_err();
///     assert!(err.to_string().contains("missing-urls.txt"));
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub async fn crawl_with<F: Frontier + 'static>(
    config: &Config,
    frontier: F,
) -> Result<Summary, Error> {
    crawl_inner(config, frontier, Backend::default()).await
}

/// The crawl. `backend` names the frontier behind `frontier` when the crawl must know it: with
/// `disk`, the output goes with the state on disk (cut back to its recorded length at the
/// start, its length recorded with each batch); with `redis`, `-o redis` writes to its stream.
async fn crawl_inner<F: Frontier + 'static>(
    config: &Config,
    frontier: F,
    backend: Backend,
) -> Result<Summary, Error> {
    let Backend { disk, redis } = backend;
    let started = Instant::now();
    validate(config)?;
    let mut summary = Summary {
        output: config.output.clone(),
        graph: config.graph.clone(),
        ..Summary::default()
    };
    let seeds = if config.urls.is_empty() {
        let path = config.input.clone().unwrap_or_else(|| "urls.txt".into());
        let input = input::read_urls(&path).await?;
        summary.bad_input_lines = input.rejected.len() as u64;
        input.urls
    } else {
        config.urls.clone()
    };
    let scope = build_scope(config, &seeds)?;
    let mut graph = config.graph.as_ref().map(|_| LinkGraph::default());

    let resumed = if config.resume {
        output::load_existing(&config.output).await?
    } else {
        None
    };
    let recorded = disk.as_ref().and_then(DiskFrontier::output_len);
    if let Some(len) = recorded {
        restore_output(&config.output, len).await?;
        let counters = frontier.counters().await?;
        summary.resumed = counters.done + counters.failed;
        tracing::info!(
            "Resuming the crawl in {}: {} pages done, {} to go",
            disk.as_ref()
                .map_or_else(String::new, |d| d.path().display().to_string()),
            summary.resumed,
            counters.queued
        );
    }
    let writer = if let (Some(redis), true) = (&redis, config.output_to_redis) {
        OutputWriter::redis(redis.client().clone(), &redis.options().output_key())
    } else if config.resume || recorded.is_some() {
        OutputWriter::append(&config.output).await?
    } else {
        OutputWriter::create(&config.output).await?
    };
    let mut jobs: Vec<Job> = Vec::new();
    match &resumed {
        Some(state) => {
            summary.resumed = state.sources.len() as u64;
            if state.truncated > 0 {
                tracing::warn!(
                    "Removed a cut-off last line ({} bytes) from {}",
                    state.truncated,
                    config.output.display()
                );
            }
            tracing::info!(
                "Resuming: {} pages already crawled in {}",
                state.sources.len(),
                config.output.display()
            );
            let done: Vec<Url> = state
                .sources
                .iter()
                .filter_map(|s| Url::parse(s).ok())
                .collect();
            frontier.mark_seen(&done).await?;
            if let Some(graph) = &mut graph {
                for (source, link) in &state.edges {
                    if let (Ok(s), Ok(l)) = (Url::parse(source), Url::parse(link)) {
                        graph.add_links(&s, &[l]);
                    }
                }
            }
            jobs.extend(seeds.iter().cloned().map(Job::seed));
            jobs.extend(resume_jobs(config, &scope, &seeds, state));
        }
        None => jobs.extend(seeds.iter().cloned().map(Job::seed)),
    }
    frontier.push(jobs).await?;

    let fetcher = Fetcher::new(&config.fetch);
    let shared = Rc::new(Shared {
        robots: config.respect_robots.then(|| {
            RobotsCache::new(fetcher.session().clone()).max_crawl_delay(config.max_crawl_delay)
        }),
        fetcher,
        frontier,
        scope,
    });
    let progress = Progress::new(config.progress);
    let mut run = Run {
        config,
        shared: shared.clone(),
        writer: &writer,
        graph: graph.as_mut(),
        summary: &mut summary,
        progress: &progress,
        started,
        graceful_stop: disk.is_some() || redis.is_some(),
        disk,
        pending: None,
    };
    let result = run.drive().await;
    progress.finish();
    shared.fetcher.session().close().await;
    summary.links = writer.close().await?;
    result?;
    if let (Some(graph), Some(path)) = (&graph, &config.graph) {
        graph.write(path).await?;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The options that can be wrong, checked before anything is fetched or written.
fn validate(config: &Config) -> Result<(), Error> {
    if config.fetch.limit == 0 {
        return Err(Error::Config("--limit must be at least 1".into()));
    }
    if let Some(path) = &config.graph
        && GraphFormat::from_path(path).is_none()
    {
        return Err(Error::Config(format!(
            "--graph {}: the file name must end in .dot, .gv or .graphml",
            path.display()
        )));
    }
    if config.redis.is_some() && (config.state.is_some() || config.resume) {
        return Err(Error::Config(
            "--redis keeps the crawl's state in Redis: it cannot be combined with --state or \
             --resume"
                .into(),
        ));
    }
    if config.output_to_redis && config.redis.is_none() {
        return Err(Error::Config(
            "--output redis writes to the crawl's Redis stream: give --redis URL too".into(),
        ));
    }
    Ok(())
}

fn build_scope(config: &Config, seeds: &[Url]) -> Result<Scope, Error> {
    let mut builder = Scope::builder();
    if config.same_host {
        builder = builder.same_host(seeds);
    }
    for domain in &config.allow_domains {
        builder = builder.allow_domain(domain);
    }
    for pattern in &config.exclude {
        builder = builder
            .exclude(pattern)
            .map_err(|e| Error::Config(format!("--exclude {pattern:?}: {e}")))?;
    }
    Ok(builder.build())
}

/// The links found by an earlier run that are still to be crawled: the depth of each crawled
/// page is its distance from an input URL over the recorded links.
fn resume_jobs(
    config: &Config,
    scope: &Scope,
    seeds: &[Url],
    state: &output::ResumeState,
) -> Vec<Job> {
    if config.depth == 0 {
        return Vec::new();
    }
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for (source, link) in &state.edges {
        children.entry(source).or_default().push(link);
    }
    let mut depth: HashMap<&str, u32> = HashMap::new();
    let mut queue: std::collections::VecDeque<&str> = seeds.iter().map(Url::as_str).collect();
    for seed in seeds {
        depth.insert(seed.as_str(), 0);
    }
    let mut jobs = Vec::new();
    while let Some(page) = queue.pop_front() {
        let d = depth[page];
        if !state.sources.contains(page) || d >= config.depth {
            continue;
        }
        for &link in children.get(page).map(Vec::as_slice).unwrap_or(&[]) {
            if depth.contains_key(link) {
                continue;
            }
            depth.insert(link, d + 1);
            queue.push_back(link);
            if let (Ok(url), Ok(parent)) = (Url::parse(link), Url::parse(page))
                && scope.allows(&url)
            {
                jobs.push(Job {
                    url,
                    depth: d + 1,
                    parent: Some(parent),
                    redirects: Vec::new(),
                });
            }
        }
    }
    jobs
}

/// What woke the coordinating loop.
enum Wake {
    Outcome(Box<Outcome>),
    Timer,
    Interrupted,
}

/// The coordinating loop's state.
struct Run<'a, F> {
    config: &'a Config,
    shared: Rc<Shared<F>>,
    writer: &'a OutputWriter,
    graph: Option<&'a mut LinkGraph>,
    summary: &'a mut Summary,
    progress: &'a Progress,
    started: Instant,
    /// With `--state`: where the output's length is recorded.
    disk: Option<DiskFrontier>,
    /// The frontier outlives the process (`--state`, `--redis`): Ctrl+C lets the pages in
    /// flight finish (their completions are recorded, so no other run or crawler fetches them
    /// again), and each batch's output is flushed before its completions are recorded.
    graceful_stop: bool,
    /// A batch's completions and links, handed to the frontier with the next claim.
    pending: Option<(Vec<Completion>, Vec<Job>)>,
}

impl<F: Frontier + 'static> Run<'_, F> {
    async fn drive(&mut self) -> Result<(), Error> {
        let results: Queue<Outcome> = Queue::new();
        let mut tasks: HashMap<u64, Task<()>> = HashMap::new();
        let mut next_id = 0u64;
        let mut claimed = 0u64;
        let mut ctrl_c: Option<Pin<Box<CtrlC>>> = self
            .config
            .handle_ctrl_c
            .then(|| Box::pin(tulip::signal::ctrl_c()));
        let limit = self.config.fetch.limit;
        // With `--state`, Ctrl+C lets the pages in flight finish (and be recorded).
        let mut stopping = false;
        loop {
            let budget = self
                .config
                .max_pages
                .map_or(u64::MAX, |max| max.saturating_sub(claimed));
            let room = (limit - tasks.len()).min(CLAIM_BATCH) as u64;
            let max = if stopping {
                0
            } else {
                room.min(budget) as usize
            };
            let (completions, found) = self.pending.take().unwrap_or_default();
            let finishing = !completions.is_empty();
            let (_, claim) = self
                .shared
                .frontier
                .finish_and_claim(completions, found, max, Instant::now())
                .await?;
            if finishing {
                self.show_progress().await?;
            }
            let next_ready = claim.next_ready;
            for job in claim.jobs {
                claimed += 1;
                let id = next_id;
                next_id += 1;
                let shared = self.shared.clone();
                let results = results.clone();
                let task = tulip::spawn(async move {
                    let outcome = crawl_page(&shared, id, job).await;
                    let _ = results.put_nowait(outcome);
                });
                tasks.insert(id, task);
            }
            if tasks.is_empty() && next_ready.is_none() {
                if stopping {
                    self.summary.interrupted = true;
                    return Ok(());
                }
                if budget == 0 {
                    self.summary.hit_max_pages = self.shared.frontier.counters().await?.queued > 0;
                }
                return Ok(());
            }
            let wake = {
                let outcome = async {
                    results
                        .get()
                        .await
                        .map_or(Wake::Timer, |o| Wake::Outcome(Box::new(o)))
                };
                let timer = async {
                    match next_ready {
                        Some(at) => tulip::time::sleep_until(at).await,
                        None => pending::<()>().await,
                    }
                    Wake::Timer
                };
                let interrupt = async {
                    match &mut ctrl_c {
                        Some(c) => {
                            let _ = c.as_mut().await;
                        }
                        None => pending::<()>().await,
                    }
                    Wake::Interrupted
                };
                future::or(interrupt, future::or(outcome, timer)).await
            };
            match wake {
                Wake::Outcome(first) => {
                    let mut batch = vec![*first];
                    while let Ok(more) = results.get_nowait() {
                        batch.push(more);
                    }
                    for outcome in &batch {
                        tasks.remove(&outcome.id);
                    }
                    self.absorb(batch).await?;
                }
                Wake::Timer => {}
                Wake::Interrupted if self.graceful_stop && !stopping => {
                    tracing::warn!(
                        "Interrupted: stopping after the {} pages in flight (Ctrl+C again to \
                         stop now; they are then fetched again by the next run)",
                        tasks.len()
                    );
                    ctrl_c = Some(Box::pin(tulip::signal::ctrl_c()));
                    stopping = true;
                }
                Wake::Interrupted => {
                    tracing::warn!(
                        "Interrupted: stopping; {} pages in flight are left for --resume",
                        tasks.len()
                    );
                    for task in tasks.values() {
                        task.cancel();
                    }
                    for (_, task) in tasks.drain() {
                        let _ = task.await;
                    }
                    // Outcomes that arrived before the cancellations took effect are kept.
                    let mut batch = Vec::new();
                    while let Ok(more) = results.get_nowait() {
                        batch.push(more);
                    }
                    self.absorb(batch).await?;
                    if let Some((completions, found)) = self.pending.take() {
                        self.shared.frontier.finish(completions, found).await?;
                    }
                    self.summary.interrupted = true;
                    return Ok(());
                }
            }
        }
    }

    /// Takes a batch of finished pages into the output, the graph and the summary, and leaves
    /// its links and completions for the frontier's next step (one
    /// [`Frontier::finish_and_claim`] with the next claim).
    async fn absorb(&mut self, batch: Vec<Outcome>) -> Result<(), Error> {
        let mut new_jobs = Vec::new();
        let mut completions = Vec::with_capacity(batch.len());
        for outcome in batch {
            if let Some(hop) = &outcome.page {
                self.summary.pages += 1;
                self.summary.parsed += u64::from(hop.parsed);
                if let Some(graph) = self.graph.as_deref_mut() {
                    graph.set_status(&hop.url, hop.status);
                    match &hop.redirect {
                        Some(target) => graph.add_links(&hop.url, std::slice::from_ref(target)),
                        None => graph.add_links(&hop.url, &hop.links),
                    }
                }
                self.writer.write_page(&hop.url, &hop.links);
                if outcome.job.depth < self.config.depth {
                    new_jobs.extend(
                        hop.links
                            .iter()
                            .filter(|link| self.shared.scope.allows(link))
                            .map(|link| outcome.job.child(link.clone())),
                    );
                }
            }
            if let Some(err) = &outcome.error {
                self.summary.failed += 1;
                *self.summary.errors.entry(err.kind).or_default() += 1;
                if let Some(graph) = self.graph.as_deref_mut() {
                    if let FailureKind::Status(status) = err.kind {
                        graph.set_status(&err.url, status);
                    }
                    graph.set_error(&err.url, &err.message);
                }
            }
            self.summary.robots_skipped += u64::from(outcome.robots_blocked);
            if let Some(target) = outcome.redirect {
                // Queued with this page's completion: the target's request goes through the
                // frontier's politeness for its host like any other, and is made once.
                new_jobs.push(outcome.job.redirect_to(target));
            }
            completions.push(Completion {
                job: outcome.job,
                succeeded: outcome.error.is_none(),
                host_delay: outcome.host_delay,
            });
        }
        // A backend that outlives the process records completions for good: the batch's lines
        // must be out of the process first (a crawler killed now loses no line of a page
        // recorded as done).
        if let Some(disk) = &self.disk {
            disk.record_output_len(self.writer.flush().await?);
        } else if self.graceful_stop {
            self.writer.flush().await?;
        }
        let (pending_completions, pending_found) = self.pending.get_or_insert_default();
        pending_completions.extend(completions);
        pending_found.extend(new_jobs);
        Ok(())
    }

    /// Shows the frontier's counts on the progress bar.
    async fn show_progress(&self) -> Result<(), Error> {
        let counters = match self.shared.frontier.recent_counters() {
            Some(counters) => counters,
            None => self.shared.frontier.counters().await?,
        };
        self.progress.update(
            counters.done + counters.failed,
            counters.queued,
            self.summary.failed,
            self.started.elapsed(),
        );
        Ok(())
    }
}

/// One job: robots check, then one request. A redirect is not followed here: its target, if
/// it may be crawled, is handed back to be queued as a job of its own (see [`Outcome`]).
async fn crawl_page<F: Frontier>(shared: &Shared<F>, id: u64, job: Job) -> Outcome {
    let mut outcome = Outcome {
        id,
        job,
        page: None,
        error: None,
        robots_blocked: false,
        redirect: None,
        host_delay: None,
    };
    let url = &outcome.job.url;
    if let Some(robots) = &shared.robots {
        let allowed = robots.allows(url).await;
        outcome.host_delay = Some(robots.crawl_delay(url).await);
        if !allowed {
            tracing::info!("Skipping {url}: disallowed by robots.txt");
            outcome.robots_blocked = true;
            return outcome;
        }
    }
    let page = match shared.fetcher.fetch(url).await {
        Ok(page) => page,
        Err(err) => {
            outcome.error = Some(err);
            return outcome;
        }
    };
    if let Some(target) = &page.redirect {
        let mut chain = outcome.job.redirects.clone();
        chain.push(url.clone());
        match check_hop(url, target, &chain) {
            Ok(()) if shared.scope.allows(target) => outcome.redirect = Some(target.clone()),
            Ok(()) => {
                tracing::debug!("Not following the redirect from {url} to {target}: out of scope");
            }
            Err(err) => {
                tracing::error!("{err}");
                outcome.error = Some(err);
            }
        }
    }
    outcome.page = Some(page);
    outcome
}

/// A redirect from `from` to `target` after `chain`: an error for a loop, a chain too long, or
/// a non-http(s) target.
fn check_hop(from: &Url, target: &Url, chain: &[Url]) -> Result<(), FetchError> {
    let fail = |kind, message: String| Err(FetchError::new(kind, from.clone(), message));
    if !matches!(target.scheme(), "http" | "https") {
        return fail(
            FailureKind::InvalidRedirect,
            format!("redirect to a non-http(s) URL: {target}"),
        );
    }
    if chain.contains(target) {
        return fail(
            FailureKind::RedirectLoop,
            format!("redirect loop back to {target}"),
        );
    }
    if chain.len() > MAX_REDIRECTS {
        return fail(
            FailureKind::TooManyRedirects,
            format!("more than {MAX_REDIRECTS} redirects in a row"),
        );
    }
    Ok(())
}

/// Cuts the output at `path` back to `len`, the length recorded with the crawl's state: the
/// lines after it belong to pages whose completion was never recorded, fetched again now.
async fn restore_output(path: &std::path::Path, len: u64) -> Result<(), Error> {
    let wrap = |source| Error::Output {
        path: path.to_owned(),
        source,
    };
    let mut file = tulip::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .await
        .map_err(wrap)?;
    let actual = file.metadata().await.map_err(wrap)?.len();
    if actual < len {
        return Err(wrap(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is {actual} bytes long, shorter than the {len} bytes the crawl state records; \
                 it was changed since, so the crawl cannot continue into it"
            ),
        )));
    }
    if actual > len {
        tracing::info!(
            "Removing {} bytes of unrecorded pages from the end of {}",
            actual - len,
            path.display()
        );
        file.set_len(len).await.map_err(wrap)?;
    }
    file.close().await.map_err(wrap)
}
