//! [`RedisFrontier`]: one frontier in Redis shared by any number of crawler processes
//! (`areq --redis URL --crawl-id NAME`), the tutorial's "use aioredis to keep track of crawled
//! URLs" made into scrapy-redis's shape. The design is in [`RedisFrontier`]'s docs.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Duration;

use tulip::task::Task;
use tulip::time::Instant;
use tulip_redis::{Client, Cmd, Script, Value};
use url::Url;

use super::{Claim, Completion, Counters, Frontier, FrontierConfig, FrontierError, Job};

/// The Lua script of one step: completions, new links, expired leases, claims.
const STEP: &str = include_str!("step.lua");
/// The Lua script that extends a worker's leases.
const RENEW: &str = include_str!("renew.lua");

/// URLs a crawler remembers having queued or marked seen, at most (about 100 MB); past this the
/// memory is cleared and starts again (the server's seen-set decides anyway).
const KNOWN_MAX: usize = 1_000_000;

/// How often a crawler whose claim found nothing, while other crawlers have pages in flight,
/// asks again (their pages may add links).
const POLL: Duration = Duration::from_millis(25);

/// Where the shared frontier is and how leases work.
///
/// # Examples
///
/// ```
/// let options = areq::frontier::RedisOptions::new("redis://127.0.0.1:6379/0", "news");
/// assert_eq!(options.lease, std::time::Duration::from_secs(30));
/// assert_eq!(options.prefix(), "areq:{news}:");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// The server: `redis://[[user]:password@]host[:port][/db]`.
    pub url: String,
    /// The crawl's name: every key of the crawl starts with `areq:{NAME}:`, so crawls with
    /// different names share a server without meeting.
    pub crawl_id: String,
    /// How long a claimed job stays a crawler's without news from it. A live crawler extends
    /// its leases every third of this; a dead one's jobs go back to the queue when it ends.
    pub lease: Duration,
}

impl RedisOptions {
    /// Options for the crawl `crawl_id` on the server at `url`, with a 30 s lease.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = areq::frontier::RedisOptions::new("redis://h/2", "c");
    /// assert_eq!((options.url.as_str(), options.crawl_id.as_str()), ("redis://h/2", "c"));
    /// ```
    pub fn new(url: impl Into<String>, crawl_id: impl Into<String>) -> RedisOptions {
        RedisOptions {
            url: url.into(),
            crawl_id: crawl_id.into(),
            lease: Duration::from_secs(30),
        }
    }

    /// The prefix of every key of this crawl: `areq:{NAME}:` (the braces make it a Redis
    /// Cluster hash tag, so all of a crawl's keys live on one node).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = areq::frontier::RedisOptions::new("redis://h/", "c");
    /// assert_eq!(options.prefix(), "areq:{c}:");
    /// ```
    pub fn prefix(&self) -> String {
        format!("areq:{{{}}}:", self.crawl_id)
    }

    /// The key of the stream that `--output redis` writes to: `areq:{NAME}:output`.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = areq::frontier::RedisOptions::new("redis://h/", "c");
    /// assert_eq!(options.output_key(), "areq:{c}:output");
    /// ```
    pub fn output_key(&self) -> String {
        format!("{}output", self.prefix())
    }
}

/// The Redis [`Frontier`]: one crawl's queue, seen-set, leases and counters in a Redis
/// server, shared by every crawler process given the same URL and crawl name, on any number of
/// machines. Clones share one connection pool.
///
/// # What is stored
///
/// Under the prefix `areq:{NAME}:` ([`RedisOptions::prefix`]):
///
/// - `seen`: a set of every URL ever queued or marked seen (the crawler whose step adds a URL
///   to it queues the URL; a Lua script runs alone, so that is one crawler);
/// - `q:HOST`: one list per host (`host:port`) of the jobs queued there, in order; a job is one
///   string, its entry (host, depth, URL, parent, and the redirects that led to it);
/// - `hosts`: a sorted set of the hosts that have queued jobs and room under the per-host
///   limit, scored by when each may next be claimed (the politeness delay), which also makes
///   them take turns;
/// - `busy`, `next`: per host, the jobs in flight and the end of its delay;
/// - `delay`: per host, the delay (ms) its jobs reported ([`Completion::host_delay`]), its
///   `robots.txt` `Crawl-delay`; a host in it has its delay known, for every crawler;
/// - `held:WORKER`: the entries each crawler claimed and has not completed, and `lease`, a
///   sorted set of the crawlers by when their lease ends (one lease per crawler covers all it
///   holds);
/// - `count`: queued, in flight, done, failed; `workers` and `w:WORKER`: each crawler's start,
///   last contact and pages, for `areq stats`;
/// - `output`: the stream of output lines with `--output redis`.
///
/// Each crawler also remembers the URLs it queued or marked seen (up to a million, then it
/// starts again) and does not send links to them: most links of a crawl point to pages already
/// seen, and this keeps them off the wire.
///
/// # One round trip per step
///
/// All the changes of one turn of the crawl — the pages it finished, the links they had, the
/// leases that ran out, the jobs it claims — are one Lua script run by the server atomically
/// ([`Frontier::finish_and_claim`]), so a crawler pays one round trip per turn however many
/// pages and links the turn holds. Times are the server's clock (`TIME`), so crawlers on
/// machines whose clocks differ agree on leases and delays.
///
/// # Leases and failures
///
/// The jobs a crawler claims are leased to it for [`RedisOptions::lease`]; every step and a
/// background task (every third of the lease) extend its lease. When a crawler dies, its lease
/// runs out and the next claim by any crawler puts the jobs it held back at the front of their
/// queues: the pages it was fetching are fetched again, once, by someone else — the only case
/// where a page is fetched twice. When the server goes away, calls are retried on a fresh
/// connection with backoff (30 s at most); every part of a step is idempotent (a completion of
/// a job the crawler no longer holds is skipped, a link already seen is not queued again), so a
/// step repeated after a lost reply changes nothing twice. The server must keep its data across
/// a restart (`appendonly yes`) for a restart to lose nothing. Redis 6.2 or later.
///
/// A crawler whose claim finds nothing while others have pages in flight asks again every
/// 25 ms (their pages may add links); the crawl ends for every crawler when nothing is queued
/// and nothing is in flight anywhere.
///
/// # Examples
///
/// ```no_run
/// use areq::frontier::{Frontier, FrontierConfig, Job, RedisFrontier, RedisOptions};
///
/// tulip::run(async {
///     let options = RedisOptions::new("redis://127.0.0.1:6379/0", "example");
///     let frontier = RedisFrontier::open(&options, FrontierConfig::default()).await.unwrap();
///     let seed = Job::seed(url::Url::parse("http://example.com/").unwrap());
///     frontier.push(vec![seed]).await.unwrap(); // 0 if another crawler queued it already
///     let claim = frontier.claim(10, tulip::time::Instant::now()).await.unwrap();
///     println!("{} jobs leased, {} round trips", claim.jobs.len(), frontier.round_trips());
/// });
/// ```
#[derive(Clone)]
pub struct RedisFrontier {
    inner: Rc<Inner>,
}

struct Inner {
    client: Client,
    options: RedisOptions,
    prefix: String,
    worker: String,
    config: FrontierConfig,
    step: Script,
    renew: Script,
    /// The URLs this crawler holds leases on.
    leased: RefCell<HashSet<String>>,
    /// URLs this crawler knows are in the seen-set (it queued or marked them): links to them
    /// are not sent again. Most links of a crawl point to pages already seen, so this keeps
    /// most of the seen-set's traffic off the wire.
    known: RefCell<HashSet<String>>,
    /// The counts the last step returned.
    counters: Cell<Option<Counters>>,
    heartbeat: RefCell<Option<Task<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.heartbeat.get_mut().take() {
            task.cancel();
        }
    }
}

impl fmt::Debug for RedisFrontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisFrontier")
            .field("server", &self.inner.client.addr())
            .field("prefix", &self.inner.prefix)
            .field("worker", &self.inner.worker)
            .finish_non_exhaustive()
    }
}

/// What one step sends.
#[derive(Default)]
struct Step {
    completions: Vec<Completion>,
    found: Vec<Job>,
    max: usize,
}

/// What one step answered.
struct StepReply {
    added: usize,
    wait: Option<Duration>,
    jobs: Vec<Job>,
}

impl RedisFrontier {
    /// Connects to the server of `options` and joins (or starts) the crawl it names, as a new
    /// crawler (a worker, named `HOST-PID-NONCE`) with these politeness settings. Every crawler
    /// of one crawl should be given the same settings.
    ///
    /// # Errors
    ///
    /// [`FrontierError`] naming the server when the URL is invalid or the server cannot be
    /// reached (the connection is tried for [`Client`]'s connect timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::frontier::{FrontierConfig, RedisFrontier, RedisOptions};
    ///
    /// let options = RedisOptions::new("http://not-redis/", "c");
    /// let err = tulip::run(RedisFrontier::open(&options, FrontierConfig::default())).unwrap_err();
    /// assert!(err.to_string().contains("redis"), "{err}");
    /// ```
    pub async fn open(
        options: &RedisOptions,
        config: FrontierConfig,
    ) -> Result<RedisFrontier, FrontierError> {
        if options.crawl_id.is_empty() {
            return Err(FrontierError::new(
                "the crawl id (--crawl-id) must not be empty",
            ));
        }
        if options.lease < Duration::from_secs(1) {
            return Err(FrontierError::new(format!(
                "a lease of {:?} is too short: leases are extended every third of it (use at \
                 least 1 s)",
                options.lease
            )));
        }
        let client = Client::open(&options.url).await.map_err(redis_error)?;
        let inner = Rc::new(Inner {
            client,
            prefix: options.prefix(),
            worker: worker_name(),
            options: options.clone(),
            config,
            step: Script::new(STEP),
            renew: Script::new(RENEW),
            leased: RefCell::new(HashSet::new()),
            known: RefCell::new(HashSet::new()),
            counters: Cell::new(None),
            heartbeat: RefCell::new(None),
        });
        let task = tulip::task::Builder::new()
            .name("areq-redis-heartbeat")
            .spawn(heartbeat(Rc::downgrade(&inner), options.lease / 3));
        *inner.heartbeat.borrow_mut() = Some(task);
        Ok(RedisFrontier { inner })
    }

    /// This crawler's name among the crawl's workers.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tulip::run(async {
    /// # let options = areq::frontier::RedisOptions::new("redis://127.0.0.1/", "c");
    /// # let frontier = areq::frontier::RedisFrontier::open(&options, Default::default()).await.unwrap();
    /// println!("I am {}", frontier.worker());
    /// # });
    /// ```
    pub fn worker(&self) -> &str {
        &self.inner.worker
    }

    /// The options this frontier was opened with.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tulip::run(async {
    /// # let options = areq::frontier::RedisOptions::new("redis://127.0.0.1/", "c");
    /// # let frontier = areq::frontier::RedisFrontier::open(&options, Default::default()).await.unwrap();
    /// assert_eq!(frontier.options().crawl_id, "c");
    /// # });
    /// ```
    pub fn options(&self) -> &RedisOptions {
        &self.inner.options
    }

    /// The client this frontier talks through (for the output stream of `--output redis`,
    /// which shares its pool).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tulip::run(async {
    /// # let options = areq::frontier::RedisOptions::new("redis://127.0.0.1/", "c");
    /// # let frontier = areq::frontier::RedisFrontier::open(&options, Default::default()).await.unwrap();
    /// println!("{}", frontier.client().addr());
    /// # });
    /// ```
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Round trips to the server so far (by this process's client: the frontier, the
    /// heartbeat and the output stream).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # tulip::run(async {
    /// # let options = areq::frontier::RedisOptions::new("redis://127.0.0.1/", "c");
    /// # let frontier = areq::frontier::RedisFrontier::open(&options, Default::default()).await.unwrap();
    /// println!("{} round trips", frontier.round_trips());
    /// # });
    /// ```
    pub fn round_trips(&self) -> u64 {
        self.inner.client.stats().round_trips
    }

    async fn step(&self, mut step: Step) -> Result<StepReply, FrontierError> {
        let inner = &*self.inner;
        // Links already known, or twice in this step, are not sent.
        let keep: Vec<bool> = {
            let known = inner.known.borrow();
            let mut in_step = HashSet::with_capacity(step.found.len());
            step.found
                .iter()
                .map(|job| {
                    let url = job.url.as_str();
                    !known.contains(url) && in_step.insert(url)
                })
                .collect()
        };
        let mut keep = keep.into_iter();
        step.found.retain(|_| keep.next().unwrap_or(false));
        // The jobs this crawler still holds once the step's completions are in.
        let own_in_flight = {
            let leased = inner.leased.borrow();
            let finishing = step
                .completions
                .iter()
                .filter(|c| leased.contains(c.job.url.as_str()))
                .count();
            leased.len() - finishing
        };
        let mut call = inner
            .step
            .call()
            .arg(inner.prefix.as_str())
            .arg(inner.worker.as_str())
            .arg(inner.config.per_host)
            .arg(millis(inner.config.delay))
            .arg(millis(inner.options.lease))
            .arg(step.max)
            .arg(millis(POLL))
            .arg(own_in_flight)
            .arg(if inner.config.learn_delays { "1" } else { "0" })
            .arg(step.completions.len());
        for completion in &step.completions {
            call.push_arg(encode_job(&completion.job));
            call.push_arg(if completion.succeeded { "1" } else { "0" });
            // -1: the job did not learn its host's delay.
            match completion.host_delay {
                Some(delay) => call.push_arg(millis(delay)),
                None => call.push_arg("-1"),
            }
        }
        // The links by host and page (the same depth and parent), in their order; the URLs
        // were de-duplicated above, so none is twice in a group.
        // The script makes each entry as host, depth, URL, tail (the parent and any redirects).
        let mut groups: Vec<(String, u32, String, Vec<&str>)> = Vec::new();
        let mut index: HashMap<(String, u32, String), usize> = HashMap::new();
        for job in &step.found {
            let host = job.host_key();
            let tail = entry_tail(job);
            let key = (host.clone(), job.depth, tail.clone());
            let at = *index.entry(key).or_insert_with(|| {
                groups.push((host, job.depth, tail, Vec::new()));
                groups.len() - 1
            });
            groups[at].3.push(job.url.as_str());
        }
        call.push_arg(groups.len());
        for (host, depth, tail, urls) in &groups {
            call.push_arg(host.as_str());
            call.push_arg(*depth);
            call.push_arg(tail.as_str());
            call.push_arg(urls.len());
            for url in urls {
                call.push_arg(*url);
            }
        }
        let reply = inner.client.eval(&call).await.map_err(redis_error)?;
        {
            let mut leased = inner.leased.borrow_mut();
            for completion in &step.completions {
                leased.remove(completion.job.url.as_str());
            }
        }
        self.remember(step.found.iter().map(|job| job.url.as_str()));
        let items = reply
            .into_array()
            .filter(|items| items.len() >= 7)
            .ok_or_else(|| self.malformed("a step's reply"))?;
        let int = |i: usize| -> Result<i64, FrontierError> {
            items[i]
                .as_int()
                .ok_or_else(|| self.malformed("a count in a step's reply"))
        };
        let count = |i: usize| int(i).map(|n| n.max(0) as u64);
        let counters = Counters {
            queued: count(2)?,
            in_flight: count(3)?,
            done: count(4)?,
            failed: count(5)?,
            seen: count(6)?,
        };
        inner.counters.set(Some(counters));
        let added = count(0)? as usize;
        let wait = u64::try_from(int(1)?).ok().map(Duration::from_millis);
        let mut jobs = Vec::with_capacity(items.len() - 7);
        let mut leased = inner.leased.borrow_mut();
        for item in &items[7..] {
            let job = item
                .as_str()
                .and_then(decode_job)
                .ok_or_else(|| self.malformed("a claimed job"))?;
            leased.insert(job.url.as_str().to_owned());
            jobs.push(job);
        }
        Ok(StepReply { added, wait, jobs })
    }

    /// Adds URLs now in the seen-set to what this crawler knows.
    fn remember<'a>(&self, urls: impl Iterator<Item = &'a str>) {
        let mut known = self.inner.known.borrow_mut();
        for url in urls {
            if known.len() >= KNOWN_MAX {
                known.clear();
            }
            known.insert(url.to_owned());
        }
    }

    fn malformed(&self, what: &str) -> FrontierError {
        FrontierError::new(format!(
            "redis {}: {what} is malformed (is another program using the keys {}*?)",
            self.inner.client.addr(),
            self.inner.prefix
        ))
    }
}

impl Frontier for RedisFrontier {
    async fn push(&self, jobs: Vec<Job>) -> Result<usize, FrontierError> {
        let step = Step {
            found: jobs,
            ..Step::default()
        };
        Ok(self.step(step).await?.added)
    }

    async fn mark_seen(&self, urls: &[Url]) -> Result<Vec<bool>, FrontierError> {
        if urls.is_empty() {
            return Ok(Vec::new());
        }
        let key = format!("{}seen", self.inner.prefix);
        let commands: Vec<Cmd> = urls
            .iter()
            .map(|url| Cmd::new("SADD").arg(key.as_str()).arg(url.as_str()))
            .collect();
        let replies = self
            .inner
            .client
            .pipeline(&commands)
            .await
            .map_err(redis_error)?;
        let fresh = replies
            .iter()
            .map(|reply| {
                reply
                    .as_int()
                    .map(|added| added == 1)
                    .ok_or_else(|| self.malformed("an SADD reply"))
            })
            .collect::<Result<Vec<bool>, _>>()?;
        self.remember(urls.iter().map(Url::as_str));
        Ok(fresh)
    }

    async fn claim(&self, max: usize, now: Instant) -> Result<Claim, FrontierError> {
        Ok(self
            .finish_and_claim(Vec::new(), Vec::new(), max, now)
            .await?
            .1)
    }

    async fn complete(&self, done: Vec<Completion>) -> Result<(), FrontierError> {
        self.finish(done, Vec::new()).await.map(drop)
    }

    async fn finish(
        &self,
        completions: Vec<Completion>,
        found: Vec<Job>,
    ) -> Result<usize, FrontierError> {
        Ok(self
            .finish_and_claim(completions, found, 0, Instant::now())
            .await?
            .0)
    }

    async fn finish_and_claim(
        &self,
        completions: Vec<Completion>,
        found: Vec<Job>,
        max: usize,
        now: Instant,
    ) -> Result<(usize, Claim), FrontierError> {
        if completions.is_empty() && found.is_empty() && max == 0 {
            return Ok((0, Claim::default()));
        }
        let reply = self
            .step(Step {
                completions,
                found,
                max,
            })
            .await?;
        let next_ready = if reply.jobs.is_empty() {
            reply.wait.map(|wait| now + wait)
        } else {
            None
        };
        Ok((
            reply.added,
            Claim {
                jobs: reply.jobs,
                next_ready,
            },
        ))
    }

    async fn counters(&self) -> Result<Counters, FrontierError> {
        let client = &self.inner.client;
        let replies = client
            .pipeline(&counter_commands(&self.inner.prefix))
            .await
            .map_err(redis_error)?;
        let [counts, seen] =
            <[Value; 2]>::try_from(replies).map_err(|_| malformed_counts(client))?;
        let counters = parse_counters(client, counts, &seen)?;
        self.inner.counters.set(Some(counters));
        Ok(counters)
    }

    fn recent_counters(&self) -> Option<Counters> {
        self.inner.counters.get()
    }
}

/// Extends the crawler's leases every `period` while the frontier lives.
async fn heartbeat(inner: Weak<Inner>, period: Duration) {
    loop {
        tulip::time::sleep(period).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let call = inner
            .renew
            .call()
            .arg(inner.prefix.as_str())
            .arg(inner.worker.as_str())
            .arg(millis(inner.options.lease));
        let client = inner.client.clone();
        drop(inner);
        if let Err(err) = client.eval(&call).await {
            tracing::warn!("Could not extend this crawler's leases: {err}");
        }
    }
}

/// A shared crawl's progress, as `areq stats` prints it.
///
/// # Examples
///
/// ```
/// let stats = areq::frontier::CrawlStats::default();
/// assert!(stats.workers.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrawlStats {
    /// The crawl's counts.
    pub counters: Counters,
    /// Every crawler that joined the crawl, by name.
    pub workers: Vec<WorkerStats>,
}

/// One crawler of a shared crawl.
///
/// # Examples
///
/// ```
/// let w = areq::frontier::WorkerStats { pages: 30, seconds: 2.0, ..Default::default() };
/// assert_eq!(w.pages_per_second(), 15.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerStats {
    /// Its name (`HOST-PID-NONCE`).
    pub name: String,
    /// Pages it completed (fetched or failed).
    pub pages: u64,
    /// Of those, the failed ones.
    pub failed: u64,
    /// Seconds from its first to its last contact with the server.
    pub seconds: f64,
    /// Seconds since its last contact (a live crawler makes one at least every third of its
    /// lease).
    pub idle: f64,
}

impl WorkerStats {
    /// Its pages per second over its time in the crawl.
    ///
    /// # Examples
    ///
    /// ```
    /// let idle = areq::frontier::WorkerStats::default();
    /// assert_eq!(idle.pages_per_second(), 0.0);
    /// ```
    pub fn pages_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.pages as f64 / self.seconds
        } else {
            0.0
        }
    }
}

impl fmt::Display for CrawlStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counters;
        writeln!(
            f,
            "queued {}, in flight {}, done {}, errors {}, seen {}",
            c.queued, c.in_flight, c.done, c.failed, c.seen
        )?;
        writeln!(
            f,
            "{:<40} {:>9} {:>7} {:>9} {:>10}",
            "worker", "pages", "errors", "pages/s", "last seen"
        )?;
        for w in &self.workers {
            writeln!(
                f,
                "{:<40} {:>9} {:>7} {:>9.1} {:>8.1} s",
                w.name,
                w.pages,
                w.failed,
                w.pages_per_second(),
                w.idle
            )?;
        }
        Ok(())
    }
}

/// Reads a shared crawl's progress from the server (`areq stats --redis URL --crawl-id NAME`):
/// two round trips, whatever the crawl's size.
///
/// # Errors
///
/// [`FrontierError`] naming the server when it cannot be reached or answers nonsense.
///
/// # Examples
///
/// ```no_run
/// use areq::frontier::{RedisOptions, crawl_stats};
///
/// tulip::run(async {
///     let options = RedisOptions::new("redis://127.0.0.1:6379/0", "news");
///     let client = tulip_redis::Client::open(&options.url).await.unwrap();
///     print!("{}", crawl_stats(&client, &options).await.unwrap());
/// });
/// ```
pub async fn crawl_stats(
    client: &Client,
    options: &RedisOptions,
) -> Result<CrawlStats, FrontierError> {
    let prefix = options.prefix();
    let [count_cmd, seen_cmd] = counter_commands(&prefix);
    let first = client
        .pipeline(&[
            count_cmd,
            seen_cmd,
            Cmd::new("SMEMBERS").arg(format!("{prefix}workers")),
            Cmd::new("TIME"),
        ])
        .await
        .map_err(redis_error)?;
    let bad = || malformed_counts(client);
    let [counts, seen, workers, time] = <[Value; 4]>::try_from(first).map_err(|_| bad())?;
    let counters = parse_counters(client, counts, &seen)?;
    let time = time.into_array().ok_or_else(bad)?;
    let now_us = match time.as_slice() {
        [secs, micros] => {
            secs.as_int().ok_or_else(bad)? as f64 * 1e6 + micros.as_int().ok_or_else(bad)? as f64
        }
        _ => return Err(bad()),
    };
    let mut names: Vec<String> = workers
        .into_array()
        .ok_or_else(bad)?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    names.sort();
    let commands: Vec<Cmd> = names
        .iter()
        .map(|name| {
            Cmd::new("HMGET")
                .arg(format!("{prefix}w:{name}"))
                .arg("started")
                .arg("last")
                .arg("done")
                .arg("failed")
        })
        .collect();
    let replies = if commands.is_empty() {
        Vec::new()
    } else {
        client.pipeline(&commands).await.map_err(redis_error)?
    };
    let workers = names
        .into_iter()
        .zip(replies)
        .map(|(name, reply)| {
            let fields = reply.into_array().unwrap_or_default();
            let field = |i: usize| fields.get(i).and_then(Value::as_int).unwrap_or(0).max(0);
            let (started, last) = (field(0) as f64, field(1) as f64);
            let failed = field(3) as u64;
            WorkerStats {
                name,
                pages: field(2) as u64 + failed,
                failed,
                seconds: (last - started).max(0.0) / 1e6,
                idle: (now_us - last).max(0.0) / 1e6,
            }
        })
        .collect();
    Ok(CrawlStats { counters, workers })
}

/// The commands that read a crawl's counts: its `count` hash and the size of its seen-set.
fn counter_commands(prefix: &str) -> [Cmd; 2] {
    [
        Cmd::new("HMGET")
            .arg(format!("{prefix}count"))
            .arg("queued")
            .arg("in_flight")
            .arg("done")
            .arg("failed"),
        Cmd::new("SCARD").arg(format!("{prefix}seen")),
    ]
}

/// The replies to [`counter_commands`] as counts.
fn parse_counters(client: &Client, counts: Value, seen: &Value) -> Result<Counters, FrontierError> {
    let counts = counts
        .into_array()
        .ok_or_else(|| malformed_counts(client))?;
    let count = |i: usize| counts.get(i).and_then(Value::as_int).unwrap_or(0).max(0) as u64;
    Ok(Counters {
        queued: count(0),
        in_flight: count(1),
        done: count(2),
        failed: count(3),
        seen: seen
            .as_int()
            .ok_or_else(|| malformed_counts(client))?
            .max(0) as u64,
    })
}

fn malformed_counts(client: &Client) -> FrontierError {
    FrontierError::new(format!(
        "redis {}: the crawl's counts are malformed",
        client.addr()
    ))
}

fn redis_error(err: tulip_redis::Error) -> FrontierError {
    FrontierError::new(err.to_string())
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// `HOST-PID-NONCE`: unique among the crawlers of a crawl, and says where each runs.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ (d.as_secs() as u32));
    format!("{host}-{}-{:06x}", std::process::id(), nonce & 0xff_ffff)
}

/// A job as stored, its entry: `host<TAB>depth<TAB>url<TAB>tail`, where the tail is the
/// parent (empty for an input URL) followed by `<TAB>url` for each redirect that led to the job
/// (a parsed URL holds no tab). The same job always makes the same entry, so a crawler names a
/// job it completes by the entry it claimed.
fn encode_job(job: &Job) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        job.host_key(),
        job.depth,
        job.url.as_str(),
        entry_tail(job)
    )
}

/// The part of a job's entry after its URL: the parent, then the redirects.
fn entry_tail(job: &Job) -> String {
    let mut tail = job.parent.as_ref().map_or("", Url::as_str).to_owned();
    for redirect in &job.redirects {
        tail.push('\t');
        tail.push_str(redirect.as_str());
    }
    tail
}

fn decode_job(entry: &str) -> Option<Job> {
    let mut parts = entry.split('\t');
    let _host = parts.next()?;
    let depth = parts.next()?.parse().ok()?;
    Job::from_fields(depth, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_their_entries() {
        let seed = Job::seed(Url::parse("http://h:8080/a").unwrap());
        let child = seed.child(Url::parse("http://h:8080/b?x=1").unwrap());
        let moved = child.redirect_to(Url::parse("http://h:8080/c").unwrap());
        let again = moved.redirect_to(Url::parse("http://h:8080/d").unwrap());
        for job in [seed, child, moved, again] {
            let entry = encode_job(&job);
            assert!(entry.starts_with("h:8080\t"));
            assert_eq!(decode_job(&entry), Some(job));
        }
    }

    #[test]
    fn malformed_entries_are_refused() {
        for entry in [
            "",
            "h:80",
            "h:80\tx\thttp://h/\t",
            "h:80\t1\thttp://h/",
            "h:80\t1\tnot a url\t",
            "h:80\t1\thttp://h/\tnot a url",
            "h:80\t1\thttp://h/\thttp://h/a\tnot a url",
        ] {
            assert_eq!(decode_job(entry), None, "{entry:?}");
        }
    }

    #[test]
    fn worker_names_carry_the_pid() {
        let name = worker_name();
        assert!(
            name.contains(&format!("-{}-", std::process::id())),
            "{name}"
        );
    }
}
