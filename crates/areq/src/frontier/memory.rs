//! [`MemoryFrontier`]: the frontier of a crawl on one machine, in memory.
//!
//! Jobs wait in one FIFO queue per host, so a crawl is breadth-first within a host; hosts take
//! turns (round robin), so one large site does not starve the others. A host that reached its
//! in-flight limit leaves the rotation until one of its jobs completes; a host in its politeness
//! delay waits in a min-heap ordered by the time it becomes ready.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

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
///     let config = FrontierConfig { per_host: 0, delay: Duration::from_secs(1) };
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

#[derive(Debug, Default)]
struct State {
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
    /// In `ring` or `delayed` (so not added twice).
    scheduled: bool,
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
    fn schedule(&mut self, key: &str) {
        if let Some(host) = self.hosts.get_mut(key)
            && !host.scheduled
            && !host.queue.is_empty()
        {
            host.scheduled = true;
            self.ring.push_back(key.to_owned());
        }
    }
}

impl Frontier for MemoryFrontier {
    async fn push(&self, jobs: Vec<Job>) -> Result<usize, FrontierError> {
        let mut state = self.state.borrow_mut();
        let mut added = 0;
        for job in jobs {
            if !state.seen.insert(job.url.as_str().to_owned()) {
                continue;
            }
            added += 1;
            let key = job.host_key();
            state
                .hosts
                .entry(key.clone())
                .or_default()
                .queue
                .push_back(job);
            state.schedule(&key);
        }
        state.counters.queued += added as u64;
        state.counters.seen = state.seen.len() as u64;
        Ok(added)
    }

    async fn mark_seen(&self, urls: &[Url]) -> Result<Vec<bool>, FrontierError> {
        let mut state = self.state.borrow_mut();
        let fresh = urls
            .iter()
            .map(|u| state.seen.insert(u.as_str().to_owned()))
            .collect();
        state.counters.seen = state.seen.len() as u64;
        Ok(fresh)
    }

    async fn claim(&self, max: usize, now: Instant) -> Result<Claim, FrontierError> {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        while let Some(Reverse((when, _))) = state.delayed.peek()
            && *when <= now
        {
            let Some(Reverse((_, key))) = state.delayed.pop() else {
                break;
            };
            state.ring.push_back(key);
        }
        let mut jobs = Vec::new();
        while jobs.len() < max {
            let Some(key) = state.ring.pop_front() else {
                break;
            };
            let Some(host) = state.hosts.get_mut(&key) else {
                continue;
            };
            if host.queue.is_empty()
                || (self.config.per_host > 0 && host.in_flight >= self.config.per_host)
            {
                // Back in turn when a job is pushed or one in flight completes.
                host.scheduled = false;
                continue;
            }
            if let Some(at) = host.next_allowed
                && at > now
            {
                state.delayed.push(Reverse((at, key)));
                continue;
            }
            let Some(job) = host.queue.pop_front() else {
                continue;
            };
            host.in_flight += 1;
            jobs.push(job);
            if self.config.delay.is_zero() {
                state.ring.push_back(key);
            } else {
                let at = now + self.config.delay;
                host.next_allowed = Some(at);
                state.delayed.push(Reverse((at, key)));
            }
        }
        state.counters.queued -= jobs.len() as u64;
        state.counters.in_flight += jobs.len() as u64;
        let next_ready = if jobs.is_empty() {
            state.delayed.peek().map(|Reverse((at, _))| *at)
        } else {
            None
        };
        Ok(Claim { jobs, next_ready })
    }

    async fn complete(&self, done: Vec<Completion>) -> Result<(), FrontierError> {
        let mut state = self.state.borrow_mut();
        for completion in done {
            let key = completion.job.host_key();
            if let Some(host) = state.hosts.get_mut(&key) {
                host.in_flight = host.in_flight.saturating_sub(1);
            }
            state.schedule(&key);
            state.counters.in_flight = state.counters.in_flight.saturating_sub(1);
            if completion.succeeded {
                state.counters.done += 1;
            } else {
                state.counters.failed += 1;
            }
        }
        Ok(())
    }

    async fn counters(&self) -> Result<Counters, FrontierError> {
        Ok(self.state.borrow().counters)
    }
}
