//! The frontier: what is left to crawl, what was already seen, and when each host may be asked
//! again.
//!
//! The seed has none: `areq.py` fetches the set of URLs read from `urls.txt` and stops. Its
//! "next steps" ask for a recursive crawler that records which URLs were already crawled (with
//! aioredis) so that none is requested twice, and that is polite to small sites. The
//! [`Frontier`] trait is that record:
//!
//! - a queue of [`Job`]s (URL, depth, the page that linked to it);
//! - the seen-set: a URL enters the queue at most once in a crawl ([`Frontier::push`] and
//!   [`Frontier::mark_seen`] de-duplicate atomically), so no URL is fetched twice;
//! - per-host politeness: [`Frontier::claim`] hands out only jobs whose host is under its
//!   concurrency limit and past its delay, and says when the next one will be;
//! - [`Counters`].
//!
//! Every method is batch-shaped — claim up to N jobs, push all the links of many pages, complete
//! many jobs — so that a backend over the network (Redis) or on disk (redb, SQLite) pays one
//! round trip or one transaction per batch, not per link. A claim is a lease: the job belongs
//! to the caller until it is [`complete`](Frontier::complete)d; a shared backend can hand a job
//! whose lease expired to another crawler. The methods are `async` for those backends; the
//! in-memory one, [`MemoryFrontier`], never waits. [`DiskFrontier`] keeps the same state in a
//! directory (`areq --state DIR`) so that a stopped or killed crawl continues where it was;
//! [`Frontier::finish`] lets such a backend record a batch's links and completions together.
//! [`RedisFrontier`] keeps it in a Redis server (`areq --redis URL --crawl-id NAME`, the
//! seed's aioredis idea, shaped like scrapy-redis), where any number of areq processes on any
//! machines share one crawl; [`Frontier::finish_and_claim`] lets it answer a whole turn of the
//! crawl — completions, links, claims — in one round trip.
//!
//! # Examples
//!
//! ```
//! use areq::frontier::{Completion, Frontier, FrontierConfig, Job, MemoryFrontier};
//! use url::Url;
//!
//! tulip::run(async {
//!     let frontier = MemoryFrontier::new(FrontierConfig::default());
//!     let a = Url::parse("http://example.com/a").unwrap();
//!     let added = frontier.push(vec![Job::seed(a.clone()), Job::seed(a.clone())]).await.unwrap();
//!     assert_eq!(added, 1); // de-duplicated
//!
//!     let now = tulip::time::Instant::now();
//!     let claim = frontier.claim(10, now).await.unwrap();
//!     assert_eq!(claim.jobs.len(), 1);
//!     frontier.complete(vec![Completion::ok(claim.jobs[0].clone())]).await.unwrap();
//!     let counters = frontier.counters().await.unwrap();
//!     assert_eq!((counters.queued, counters.in_flight, counters.done), (0, 0, 1));
//! });
//! ```

mod disk;
mod memory;
mod redis;

use std::fmt;
use std::time::Duration;

use tulip::time::Instant;
use url::Url;

pub use disk::{DiskFrontier, STATE_FILE};
pub use memory::MemoryFrontier;
pub use redis::{CrawlStats, RedisFrontier, RedisOptions, WorkerStats, crawl_stats};

/// One URL to fetch.
///
/// # Examples
///
/// ```
/// use areq::frontier::Job;
/// use url::Url;
///
/// let seed = Job::seed(Url::parse("http://example.com/").unwrap());
/// let child = seed.child(Url::parse("http://example.com/about").unwrap());
/// assert_eq!(child.depth, 1);
/// assert_eq!(child.parent.as_ref(), Some(&seed.url));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The URL (http or https, no fragment).
    pub url: Url,
    /// How many links away from an input URL it is (input URLs are 0).
    pub depth: u32,
    /// The page that linked to it (for a redirect's target: the page that redirected);
    /// `None` for input URLs.
    pub parent: Option<Url>,
    /// The redirects followed to reach this URL, oldest first: empty for a page named by a
    /// link or the input; for a redirect's target, every URL of the chain so far (the last is
    /// the [`parent`](Job::parent)). The crawler refuses a chain that loops back or grows too
    /// long from it.
    pub redirects: Vec<Url>,
}

impl Job {
    /// An input URL: depth 0, no parent.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = areq::frontier::Job::seed(url::Url::parse("http://h/").unwrap());
    /// assert_eq!((job.depth, job.parent), (0, None));
    /// ```
    pub fn seed(url: Url) -> Job {
        Job {
            url,
            depth: 0,
            parent: None,
            redirects: Vec::new(),
        }
    }

    /// A link found on this job's page: one level deeper, with this page as its parent.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = areq::frontier::Job::seed(url::Url::parse("http://h/").unwrap());
    /// assert_eq!(job.child(url::Url::parse("http://h/x").unwrap()).depth, 1);
    /// ```
    pub fn child(&self, url: Url) -> Job {
        Job {
            url,
            depth: self.depth + 1,
            parent: Some(self.url.clone()),
            redirects: Vec::new(),
        }
    }

    /// The target of a redirect answered for this job's URL: the same depth (a redirect is the
    /// page's own continuation, not a link), this page as its parent, and the chain so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use url::Url;
    ///
    /// let old = areq::frontier::Job::seed(Url::parse("http://h/old").unwrap());
    /// let new = old.redirect_to(Url::parse("http://h/new").unwrap());
    /// assert_eq!((new.depth, new.parent.as_ref()), (0, Some(&old.url)));
    /// assert_eq!(new.redirects, [old.url.clone()]);
    /// let newer = new.redirect_to(Url::parse("http://h/newer").unwrap());
    /// assert_eq!(newer.redirects, [old.url, new.url]);
    /// ```
    pub fn redirect_to(&self, target: Url) -> Job {
        let mut redirects = Vec::with_capacity(self.redirects.len() + 1);
        redirects.extend(self.redirects.iter().cloned());
        redirects.push(self.url.clone());
        Job {
            url: target,
            depth: self.depth,
            parent: Some(self.url.clone()),
            redirects,
        }
    }

    /// Rebuilds a stored job from its depth and its text fields, in the order the backends
    /// write them: the URL, the parent (empty for an input URL), then each redirect. `None`
    /// when a field is missing or not a URL.
    pub(crate) fn from_fields<'a>(
        depth: u32,
        mut fields: impl Iterator<Item = &'a str>,
    ) -> Option<Job> {
        let url = Url::parse(fields.next()?).ok()?;
        let parent = match fields.next()? {
            "" => None,
            parent => Some(Url::parse(parent).ok()?),
        };
        let redirects = fields
            .map(|r| Url::parse(r).ok())
            .collect::<Option<Vec<Url>>>()?;
        Some(Job {
            url,
            depth,
            parent,
            redirects,
        })
    }

    /// The politeness key of this job: `host:port`.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = areq::frontier::Job::seed(url::Url::parse("https://Example.com/x").unwrap());
    /// assert_eq!(job.host_key(), "example.com:443");
    /// ```
    pub fn host_key(&self) -> String {
        host_key(&self.url)
    }
}

/// The politeness key of a URL: `host:port` (the default port filled in).
///
/// # Examples
///
/// ```
/// let url = url::Url::parse("http://example.com:8080/").unwrap();
/// assert_eq!(areq::frontier::host_key(&url), "example.com:8080");
/// ```
pub fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// What [`Frontier::claim`] hands out.
///
/// # Examples
///
/// ```
/// let claim = areq::frontier::Claim::default();
/// assert!(claim.jobs.is_empty() && claim.next_ready.is_none());
/// ```
#[derive(Debug, Default)]
pub struct Claim {
    /// The jobs now leased to the caller, to be handed back with [`Frontier::complete`].
    pub jobs: Vec<Job>,
    /// When no job could be handed out although some are queued (their hosts are busy or in
    /// their politeness delay): the earliest time one may become ready, if known from delays.
    /// `None` with no jobs means: nothing claimable until a job in flight completes.
    pub next_ready: Option<Instant>,
}

/// How a claimed job ended, for [`Frontier::complete`].
///
/// # Examples
///
/// ```
/// use areq::frontier::{Completion, Job};
///
/// let job = Job::seed(url::Url::parse("http://h/").unwrap());
/// assert!(Completion::ok(job.clone()).succeeded);
/// assert!(!Completion::failed(job).succeeded);
/// ```
#[derive(Debug, Clone)]
pub struct Completion {
    /// The job, as claimed.
    pub job: Job,
    /// Whether the page was fetched (any status the crawl records as a page) or failed.
    pub succeeded: bool,
    /// The delay the job's host asks for between requests, when the job learned it (its
    /// `robots.txt` `Crawl-delay`, capped; zero when it gives none); `None` when the job did
    /// not look. From then on the host's delay is the larger of this and
    /// [`FrontierConfig::delay`]; the first report for a host also pushes the host's next
    /// claim back to its last claim plus that delay (the claim was made before the delay was
    /// known). Later reports change the delay without moving a claim.
    pub host_delay: Option<Duration>,
}

impl Completion {
    /// A job whose page was fetched.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = areq::frontier::Job::seed(url::Url::parse("http://h/").unwrap());
    /// assert!(areq::frontier::Completion::ok(job).succeeded);
    /// ```
    pub fn ok(job: Job) -> Completion {
        Completion {
            job,
            succeeded: true,
            host_delay: None,
        }
    }

    /// A job that failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = areq::frontier::Job::seed(url::Url::parse("http://h/").unwrap());
    /// assert!(!areq::frontier::Completion::failed(job).succeeded);
    /// ```
    pub fn failed(job: Job) -> Completion {
        Completion {
            job,
            succeeded: false,
            host_delay: None,
        }
    }

    /// This completion, reporting the delay the job's host asks for (see
    /// [`host_delay`](Completion::host_delay)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let job = areq::frontier::Job::seed(url::Url::parse("http://h/").unwrap());
    /// let done = areq::frontier::Completion::ok(job).with_host_delay(Duration::from_secs(2));
    /// assert_eq!(done.host_delay, Some(Duration::from_secs(2)));
    /// ```
    pub fn with_host_delay(mut self, delay: Duration) -> Completion {
        self.host_delay = Some(delay);
        self
    }
}

/// The frontier's counts.
///
/// # Examples
///
/// ```
/// let c = areq::frontier::Counters::default();
/// assert_eq!(c.queued + c.in_flight + c.done + c.failed + c.seen, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Jobs waiting to be claimed.
    pub queued: u64,
    /// Jobs claimed and not yet completed.
    pub in_flight: u64,
    /// Jobs completed successfully.
    pub done: u64,
    /// Jobs completed with a failure.
    pub failed: u64,
    /// URLs in the seen-set.
    pub seen: u64,
}

/// Politeness settings of a frontier.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let config = areq::frontier::FrontierConfig {
///     per_host: 2,
///     delay: Duration::from_millis(500),
///     learn_delays: false,
/// };
/// assert_eq!(config.per_host, 2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrontierConfig {
    /// At most this many jobs of one host in flight at once (0 = no limit).
    pub per_host: usize,
    /// At least this long between two claims of the same host (zero = none); a host that
    /// asked for longer ([`Completion::host_delay`]) gets its own.
    pub delay: Duration,
    /// Each host's own delay is learned from its first job ([`Completion::host_delay`], from
    /// its `robots.txt`): until a completion reports it, the host has at most one job in
    /// flight, so no second request goes to it before its `Crawl-delay` is known. The crawler
    /// sets this with `--respect-robots`.
    pub learn_delays: bool,
}

/// A frontier backend failed (the in-memory one never does; on-disk and networked ones can).
///
/// # Examples
///
/// ```
/// let err = areq::frontier::FrontierError::new("redis connection lost");
/// assert_eq!(err.to_string(), "frontier: redis connection lost");
/// ```
#[derive(Debug)]
pub struct FrontierError {
    message: String,
}

impl FrontierError {
    /// An error with this message.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = areq::frontier::FrontierError::new("disk full");
    /// assert!(err.to_string().contains("disk full"));
    /// ```
    pub fn new(message: impl Into<String>) -> FrontierError {
        FrontierError {
            message: message.into(),
        }
    }
}

impl fmt::Display for FrontierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frontier: {}", self.message)
    }
}

impl std::error::Error for FrontierError {}

/// The crawl's shared state: queue, seen-set, politeness and counters. See the
/// [module docs](self).
///
/// Methods take `&self`: a crawl shares one frontier between its tasks (on one tulip loop, so
/// no `Send` is needed and the futures are not `Send`).
///
/// # Examples
///
/// ```
/// use areq::frontier::{Frontier, FrontierConfig, Job, MemoryFrontier};
///
/// async fn queue_all<F: Frontier>(frontier: &F, urls: Vec<url::Url>) -> usize {
///     frontier.push(urls.into_iter().map(Job::seed).collect()).await.unwrap()
/// }
/// tulip::run(async {
///     let frontier = MemoryFrontier::new(FrontierConfig::default());
///     let urls = vec![url::Url::parse("http://h/").unwrap()];
///     assert_eq!(queue_all(&frontier, urls).await, 1);
/// });
/// ```
// Single-threaded by design (tulip's tasks need not be Send), so the futures' Send-ness is
// deliberately left open.
#[allow(async_fn_in_trait)]
pub trait Frontier {
    /// Adds the jobs whose URL was never seen to the seen-set and the queue, atomically per
    /// URL; a URL repeated in `jobs` counts once. Returns how many were new.
    ///
    /// # Errors
    ///
    /// When the backend fails; then none or all of the batch may have been added.
    async fn push(&self, jobs: Vec<Job>) -> Result<usize, FrontierError>;

    /// Adds URLs to the seen-set without queueing them (pages already crawled in an earlier
    /// run). Returns, for each URL, whether it was new.
    ///
    /// # Errors
    ///
    /// When the backend fails.
    async fn mark_seen(&self, urls: &[Url]) -> Result<Vec<bool>, FrontierError>;

    /// Leases up to `max` ready jobs (see [`Claim`]); `now` is the crawl's clock.
    ///
    /// # Errors
    ///
    /// When the backend fails; no job is leased then.
    async fn claim(&self, max: usize, now: Instant) -> Result<Claim, FrontierError>;

    /// Hands leased jobs back as finished, freeing their hosts' slots.
    ///
    /// # Errors
    ///
    /// When the backend fails.
    async fn complete(&self, done: Vec<Completion>) -> Result<(), FrontierError>;

    /// Pushes the links `found` on finished pages and completes those pages, as one step: a
    /// backend with transactions does both in one, so a crash never leaves a page completed
    /// without its links queued (or the links queued with the page still leased). Returns how
    /// many of `found` were new, as [`push`](Frontier::push).
    ///
    /// The default calls [`push`](Frontier::push) then [`complete`](Frontier::complete).
    ///
    /// # Errors
    ///
    /// When the backend fails; then, with the default, the links may be queued and the pages
    /// not completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::frontier::{Completion, Frontier, FrontierConfig, Job, MemoryFrontier};
    /// use url::Url;
    ///
    /// tulip::run(async {
    ///     let frontier = MemoryFrontier::new(FrontierConfig::default());
    ///     frontier.push(vec![Job::seed(Url::parse("http://h/").unwrap())]).await.unwrap();
    ///     let page = frontier.claim(1, tulip::time::Instant::now()).await.unwrap().jobs.remove(0);
    ///     let link = page.child(Url::parse("http://h/a").unwrap());
    ///     let added = frontier.finish(vec![Completion::ok(page)], vec![link]).await.unwrap();
    ///     assert_eq!(added, 1);
    ///     let c = frontier.counters().await.unwrap();
    ///     assert_eq!((c.queued, c.in_flight, c.done), (1, 0, 1));
    /// });
    /// ```
    async fn finish(
        &self,
        completions: Vec<Completion>,
        found: Vec<Job>,
    ) -> Result<usize, FrontierError> {
        let added = if found.is_empty() {
            0
        } else {
            self.push(found).await?
        };
        self.complete(completions).await?;
        Ok(added)
    }

    /// [`finish`](Frontier::finish)es a batch and [claims](Frontier::claim) up to `max` jobs,
    /// as one step: the crawl's coordinating loop does both on every turn, and a backend over
    /// the network answers both in one round trip. With `max` 0 nothing is claimed (an empty
    /// [`Claim`]); with nothing to finish, nothing is finished. Returns how many of `found`
    /// were new, and the claim.
    ///
    /// The default calls [`finish`](Frontier::finish) then [`claim`](Frontier::claim).
    ///
    /// # Errors
    ///
    /// When the backend fails; as for [`finish`](Frontier::finish), then no job is leased.
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::frontier::{Completion, Frontier, FrontierConfig, Job, MemoryFrontier};
    /// use url::Url;
    ///
    /// tulip::run(async {
    ///     let frontier = MemoryFrontier::new(FrontierConfig::default());
    ///     let now = tulip::time::Instant::now();
    ///     let seed = Job::seed(Url::parse("http://h/").unwrap());
    ///     let (added, claim) = frontier.finish_and_claim(vec![], vec![seed], 5, now).await.unwrap();
    ///     assert_eq!((added, claim.jobs.len()), (1, 1));
    ///     let done = vec![Completion::ok(claim.jobs[0].clone())];
    ///     let (_, claim) = frontier.finish_and_claim(done, vec![], 5, now).await.unwrap();
    ///     assert!(claim.jobs.is_empty() && claim.next_ready.is_none()); // the crawl is over
    /// });
    /// ```
    async fn finish_and_claim(
        &self,
        completions: Vec<Completion>,
        found: Vec<Job>,
        max: usize,
        now: Instant,
    ) -> Result<(usize, Claim), FrontierError> {
        let added = if completions.is_empty() && found.is_empty() {
            0
        } else {
            self.finish(completions, found).await?
        };
        let claim = if max == 0 {
            Claim::default()
        } else {
            self.claim(max, now).await?
        };
        Ok((added, claim))
    }

    /// The current counts.
    ///
    /// # Errors
    ///
    /// When the backend fails.
    async fn counters(&self) -> Result<Counters, FrontierError>;

    /// The counts as of this frontier's last exchange with its backend, if it keeps them
    /// (a networked backend learns them with every step, so a progress display need not ask
    /// again); `None` means: ask [`counters`](Frontier::counters). The default is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::frontier::{Frontier, FrontierConfig, MemoryFrontier};
    ///
    /// let frontier = MemoryFrontier::new(FrontierConfig::default());
    /// assert_eq!(frontier.recent_counters(), None);
    /// ```
    fn recent_counters(&self) -> Option<Counters> {
        None
    }
}
