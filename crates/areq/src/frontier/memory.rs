//! [`MemoryFrontier`]: the frontier of a crawl on one machine, in memory.
//!
//! Jobs wait in one FIFO queue per host, so a crawl is breadth-first within a host; hosts take
//! turns (round robin), so one large site does not starve the others. A host that reached its
//! in-flight limit leaves the rotation until one of its jobs completes; a host in its politeness
//! delay waits in a min-heap ordered by the time it becomes ready. A host's delay is the
//! configured one, or the longer one its jobs report (its `robots.txt` `Crawl-delay`); with
//! [`FrontierConfig::learn_delays`] a host whose delay is not known yet has one job in flight
//! at most. The on-disk backend schedules with the same code.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use tulip::time::Instant;
use url::Url;

use super::{Claim, Completion, Counters, Frontier, FrontierConfig, FrontierError, Job};

/// The in-memory [`Frontier`]: the default backend.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use areq::frontier::{Frontier, FrontierConfig, Job, MemoryFrontier};
/// use url::Url;
///
/// tulip::Runtime::builder().test_clock().build().unwrap().block_on(async {
///     let config = FrontierConfig { delay: Duration::from_secs(1), ..Default::default() };
///     let frontier = MemoryFrontier::new(config);
///     let jobs = ["http://h/1", "http://h/2"].map(|u| Job::seed(Url::parse(u).unwrap()));
///     frontier.push(jobs.to_vec()).await.unwrap();
///
///     let now = tulip::time::Instant::now();
///     let first = frontier.claim(10, now).await.unwrap();
///     assert_eq!(first.jobs.len(), 1); // the host must wait a second for the next one
///     let second = frontier.claim(10, now).await.unwrap();
///     assert!(second.jobs.is_empty());
///     assert_eq!(second.next_ready, Some(now + Duration::from_secs(1)));
/// });
/// ```
#[derive(Debug)]
pub struct MemoryFrontier {
    config: FrontierConfig,
    state: RefCell<State>,
}

/// The scheduler: seen-set, per-host queues, round robin and politeness. [`MemoryFrontier`] is
/// this alone; [`DiskFrontier`](super::DiskFrontier) schedules with it and records every change
/// on disk.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Every URL ever queued or marked seen.
    seen: HashSet<String>,
    hosts: HashMap<String, Host>,
    /// Hosts with queued jobs that may be claimable now, in turn order.
    ring: VecDeque<String>,
    /// Hosts in their politeness delay, by the time it ends.
    delayed: BinaryHeap<Reverse<(Instant, String)>>,
    counters: Counters,
}

#[derive(Debug, Default)]
struct Host {
    queue: VecDeque<Job>,
    in_flight: usize,
    next_allowed: Option<Instant>,
    /// When a job of this host was last claimed.
    last_claim: Option<Instant>,
    /// The delay the host asked for ([`Completion::host_delay`]), once a job reported it.
    asked: Option<Duration>,
    /// In `ring` or `delayed` (so not added twice).
    scheduled: bool,
}

impl Host {
    /// The time to leave between two claims of this host.
    fn delay(&self, config: &FrontierConfig) -> Duration {
        self.asked
            .map_or(config.delay, |asked| asked.max(config.delay))
    }

    /// Whether the host may have one more job in flight now.
    fn has_room(&self, config: &FrontierConfig) -> bool {
        let limit = if config.learn_delays && self.asked.is_none() {
            // Its delay is not known yet: one request until it is.
            1
        } else {
            config.per_host
        };
        limit == 0 || self.in_flight < limit
    }

    /// A job reported the host's delay: the first report also moves the next claim to the
    /// last claim plus the delay (that claim was made without it).
    fn learn(&mut self, config: &FrontierConfig, asked: Duration) {
        let first = self.asked.is_none();
        self.asked = Some(asked);
        if first && let Some(last) = self.last_claim {
            let at = last + self.delay(config);
            if self.next_allowed.is_none_or(|next| next < at) {
                self.next_allowed = Some(at);
            }
        }
    }
}

impl MemoryFrontier {
    /// An empty frontier with these politeness settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::frontier::{FrontierConfig, MemoryFrontier};
    ///
    /// let frontier = MemoryFrontier::new(FrontierConfig::default());
    /// # let _ = frontier;
    /// ```
    pub fn new(config: FrontierConfig) -> MemoryFrontier {
        MemoryFrontier {
            config,
            state: RefCell::new(State::default()),
        }
    }
}

impl State {
    /// A scheduler that already holds `seen` (URLs crawled or queued by an earlier run) and
    /// these counters; for the backends that keep their state elsewhere and schedule here.
    /// `queue` must be in the seen-set already; `counters` gives done and failed (the others
    /// are computed).
    pub(super) fn restore(seen: HashSet<String>, queue: Vec<Job>, counters: Counters) -> State {
        let mut state = State {
            counters: Counters {
                queued: queue.len() as u64,
                in_flight: 0,
                seen: seen.len() as u64,
                ..counters
            },
            seen,
            ..State::default()
        };
        for job in queue {
            let key = job.host_key();
            state
                .hosts
                .entry(key.clone())
                .or_default()
                .queue
                .push_back(job);
            state.schedule(&key);
        }
        state
    }

    fn schedule(&mut self, key: &str) {
        if let Some(host) = self.hosts.get_mut(key)
            && !host.scheduled
            && !host.queue.is_empty()
        {
            host.scheduled = true;
            self.ring.push_back(key.to_owned());
        }
    }

    /// Queues the jobs never seen and returns how many; copies them (in order) to `added` if
    /// given.
    pub(super) fn push(&mut self, jobs: Vec<Job>, mut added: Option<&mut Vec<Job>>) -> usize {
        let mut count = 0;
        for job in jobs {
            if !self.seen.insert(job.url.as_str().to_owned()) {
                continue;
            }
            count += 1;
            if let Some(added) = added.as_deref_mut() {
                added.push(job.clone());
            }
            let key = job.host_key();
            self.hosts
                .entry(key.clone())
                .or_default()
                .queue
                .push_back(job);
            self.schedule(&key);
        }
        self.counters.queued += count as u64;
        self.counters.seen = self.seen.len() as u64;
        count
    }

    /// Adds URLs to the seen-set; for each, whether it was new.
    pub(super) fn mark_seen(&mut self, urls: &[Url]) -> Vec<bool> {
        let fresh = urls
            .iter()
            .map(|u| self.seen.insert(u.as_str().to_owned()))
            .collect();
        self.counters.seen = self.seen.len() as u64;
        fresh
    }

    /// Leases up to `max` ready jobs, obeying `config`'s politeness.
    pub(super) fn claim(&mut self, config: &FrontierConfig, max: usize, now: Instant) -> Claim {
        while let Some(Reverse((when, _))) = self.delayed.peek()
            && *when <= now
        {
            let Some(Reverse((_, key))) = self.delayed.pop() else {
                break;
            };
            self.ring.push_back(key);
        }
        let mut jobs = Vec::new();
        while jobs.len() < max {
            let Some(key) = self.ring.pop_front() else {
                break;
            };
            let Some(host) = self.hosts.get_mut(&key) else {
                continue;
            };
            if host.queue.is_empty() || !host.has_room(config) {
                // Back in turn when a job is pushed or one in flight completes.
                host.scheduled = false;
                continue;
            }
            if let Some(at) = host.next_allowed
                && at > now
            {
                self.delayed.push(Reverse((at, key)));
                continue;
            }
            let Some(job) = host.queue.pop_front() else {
                continue;
            };
            host.in_flight += 1;
            host.last_claim = Some(now);
            jobs.push(job);
            let delay = host.delay(config);
            if delay.is_zero() {
                self.ring.push_back(key);
            } else {
                let at = now + delay;
                host.next_allowed = Some(at);
                self.delayed.push(Reverse((at, key)));
            }
        }
        self.counters.queued -= jobs.len() as u64;
        self.counters.in_flight += jobs.len() as u64;
        let next_ready = if jobs.is_empty() {
            self.delayed.peek().map(|Reverse((at, _))| *at)
        } else {
            None
        };
        Claim { jobs, next_ready }
    }

    /// Frees the hosts' slots of finished jobs, takes the delays they report, and counts them.
    pub(super) fn complete(&mut self, config: &FrontierConfig, done: &[Completion]) {
        for completion in done {
            let key = completion.job.host_key();
            if let Some(host) = self.hosts.get_mut(&key) {
                host.in_flight = host.in_flight.saturating_sub(1);
                if let Some(asked) = completion.host_delay {
                    host.learn(config, asked);
                }
            }
            self.schedule(&key);
            self.counters.in_flight = self.counters.in_flight.saturating_sub(1);
            if completion.succeeded {
                self.counters.done += 1;
            } else {
                self.counters.failed += 1;
            }
        }
    }

    pub(super) fn counters(&self) -> Counters {
        self.counters
    }
}

impl Frontier for MemoryFrontier {
    async fn push(&self, jobs: Vec<Job>) -> Result<usize, FrontierError> {
        Ok(self.state.borrow_mut().push(jobs, None))
    }

    async fn mark_seen(&self, urls: &[Url]) -> Result<Vec<bool>, FrontierError> {
        Ok(self.state.borrow_mut().mark_seen(urls))
    }

    async fn claim(&self, max: usize, now: Instant) -> Result<Claim, FrontierError> {
        Ok(self.state.borrow_mut().claim(&self.config, max, now))
    }

    async fn complete(&self, done: Vec<Completion>) -> Result<(), FrontierError> {
        self.state.borrow_mut().complete(&self.config, &done);
        Ok(())
    }

    async fn counters(&self) -> Result<Counters, FrontierError> {
        Ok(self.state.borrow().counters())
    }
}
