//! The Redis frontier (`--redis URL --crawl-id NAME`) against a real `redis-server` that each
//! test starts on 127.0.0.1: the behaviour every backend shares, leases that run out, steps
//! retried after a lost reply, a server restart; then the `areq` binary, three processes
//! crawling the demo site together (the union of their outputs is the single-process crawl and
//! the site counts no page twice), one of them killed with SIGKILL, one stopped with SIGINT and
//! another finishing its crawl, redis-server restarted mid-crawl, `--output redis`, and
//! `areq stats`.
//!
//! Without redis-server installed these tests say so and pass, except under CI (`CI` set),
//! where they fail: `.ci/run` installs it.

mod frontier_cases;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::rc::Rc;
use std::time::Duration;

use areq::demo::{DemoConfig, DemoSite, serve};
use areq::frontier::{
    Completion, Frontier, FrontierConfig, RedisFrontier, RedisOptions, crawl_stats,
};
use frontier_cases::{jobs, urls};
use support::{TempDir, line_set, read_tsv, recursive_crawl, run_until, wait_exit};
use tulip::time::Instant;
use tulip_redis::testing::RedisServer;

fn redis() -> Option<RedisServer> {
    RedisServer::start().expect("starting redis-server")
}

async fn open(server: &RedisServer, crawl: &str, config: FrontierConfig) -> RedisFrontier {
    RedisFrontier::open(&RedisOptions::new(server.url(), crawl), config)
        .await
        .unwrap()
}

#[tulip::test]
async fn duplicates_are_dropped_across_batches_and_mark_seen() {
    let Some(server) = redis() else { return };
    frontier_cases::duplicates_are_dropped_across_batches_and_mark_seen(async |c| {
        open(&server, "dedup", c).await
    })
    .await;
}

#[tulip::test]
async fn per_host_limit_and_round_robin() {
    let Some(server) = redis() else { return };
    frontier_cases::per_host_limit_and_round_robin(async |c| open(&server, "perhost", c).await)
        .await;
}

#[tulip::test]
async fn finish_queues_links_and_completes() {
    let Some(server) = redis() else { return };
    frontier_cases::finish_queues_links_and_completes(async |c| open(&server, "finish", c).await)
        .await;
}

#[tulip::test]
async fn round_robin_takes_turns_within_one_claim() {
    let Some(server) = redis() else { return };
    frontier_cases::round_robin_takes_turns_within_one_claim(async |c| {
        open(&server, "turns", c).await
    })
    .await;
}

/// The delay on the server's clock: the order of claims and a wait, not exact instants (the
/// memory and disk backends check those on the test clock).
#[tulip::test]
async fn politeness_delay_orders_claims_per_host() {
    let Some(server) = redis() else { return };
    let delay = Duration::from_millis(200);
    let frontier = open(
        &server,
        "delay",
        FrontierConfig {
            delay,
            ..FrontierConfig::default()
        },
    )
    .await;
    frontier
        .push(jobs(&["http://a/1", "http://a/2", "http://b/1"]))
        .await
        .unwrap();
    let first = frontier.claim(10, Instant::now()).await.unwrap();
    assert_eq!(urls(&first.jobs), ["http://a/1", "http://b/1"]);
    let now = Instant::now();
    let second = frontier.claim(10, now).await.unwrap();
    assert!(second.jobs.is_empty());
    let at = second.next_ready.expect("a/2 waits for its host's delay");
    assert!(at > now && at <= now + delay, "{:?}", at - now);
    tulip::time::sleep_until(at).await;
    let mut third = frontier.claim(10, Instant::now()).await.unwrap();
    while third.jobs.is_empty() {
        // The server's clock and ours tick apart by a millisecond at most.
        tulip::time::sleep_until(third.next_ready.unwrap()).await;
        third = frontier.claim(10, Instant::now()).await.unwrap();
    }
    assert_eq!(urls(&third.jobs), ["http://a/2"]);
}

/// A host's reported delay on the server's clock: one job in flight until it is known, then
/// the next claim waits for it (counted from the claim before), for every crawler.
#[tulip::test]
async fn a_reported_delay_gates_then_spaces_its_host() {
    let Some(server) = redis() else { return };
    let config = FrontierConfig {
        learn_delays: true,
        ..FrontierConfig::default()
    };
    let frontier = open(&server, "learn", config).await;
    let other = open(&server, "learn", config).await;
    frontier
        .push(jobs(&["http://a/1", "http://a/2", "http://b/1"]))
        .await
        .unwrap();
    let first = frontier.claim(10, Instant::now()).await.unwrap();
    assert_eq!(urls(&first.jobs), ["http://a/1", "http://b/1"]);
    // The other crawler gets nothing of a host whose delay is not known.
    let none = other.claim(10, Instant::now()).await.unwrap();
    assert!(none.jobs.is_empty());
    let asked = Duration::from_secs(10);
    frontier
        .complete(vec![
            Completion::ok(first.jobs[0].clone()).with_host_delay(asked),
        ])
        .await
        .unwrap();
    let now = Instant::now();
    let wait = other.claim(10, now).await.unwrap();
    assert!(wait.jobs.is_empty());
    let at = wait.next_ready.expect("a/2 waits for a's delay");
    // From the first claim, a moment ago: most of the 10 s are left (not --delay's zero).
    assert!(at > now + asked / 2 && at <= now + asked, "{:?}", at - now);
    // A second report of the same host moves nothing.
    frontier
        .complete(vec![
            Completion::ok(first.jobs[1].clone()).with_host_delay(asked),
        ])
        .await
        .unwrap();
    let again = other.claim(10, now).await.unwrap().next_ready.unwrap();
    assert!(again <= at + Duration::from_millis(2), "{:?}", again - at);
}

#[tulip::test]
async fn crawls_with_different_ids_do_not_meet() {
    let Some(server) = redis() else { return };
    let one = open(&server, "one", FrontierConfig::default()).await;
    let two = open(&server, "two", FrontierConfig::default()).await;
    assert_eq!(one.push(jobs(&["http://a/1"])).await.unwrap(), 1);
    assert_eq!(two.push(jobs(&["http://a/1"])).await.unwrap(), 1);
    assert_eq!(two.counters().await.unwrap().queued, 1);
}

/// Two crawlers of one crawl: the second waits (polls) while the first holds the only job,
/// gets the links the first found, and both see the end.
#[tulip::test]
async fn crawlers_share_the_queue_and_see_the_end_together() {
    let Some(server) = redis() else { return };
    let a = open(&server, "share", FrontierConfig::default()).await;
    let b = open(&server, "share", FrontierConfig::default()).await;
    assert_ne!(a.worker(), b.worker());
    a.push(jobs(&["http://h/"])).await.unwrap();
    assert_eq!(b.push(jobs(&["http://h/"])).await.unwrap(), 0);
    let now = Instant::now();
    let page = a.claim(10, now).await.unwrap().jobs.remove(0);
    let waiting = b.claim(10, now).await.unwrap();
    assert!(waiting.jobs.is_empty());
    assert!(
        waiting.next_ready.is_some(),
        "b must look again while a's page may add links"
    );
    let links = vec![
        page.child(url::Url::parse("http://h/x").unwrap()),
        page.child(url::Url::parse("http://h/y").unwrap()),
    ];
    let (added, claim) = a
        .finish_and_claim(vec![Completion::ok(page)], links, 1, Instant::now())
        .await
        .unwrap();
    assert_eq!((added, urls(&claim.jobs)), (2, vec!["http://h/x"]));
    let theirs = b.claim(10, Instant::now()).await.unwrap();
    assert_eq!(urls(&theirs.jobs), ["http://h/y"]);
    assert_eq!(theirs.jobs[0].depth, 1);
    let done_a = vec![Completion::ok(claim.jobs[0].clone())];
    let (_, end_a) = a
        .finish_and_claim(done_a, vec![], 10, Instant::now())
        .await
        .unwrap();
    assert!(
        end_a.jobs.is_empty() && end_a.next_ready.is_some(),
        "b is busy"
    );
    let done_b = vec![Completion::failed(theirs.jobs[0].clone())];
    let (_, end_b) = b
        .finish_and_claim(done_b, vec![], 10, Instant::now())
        .await
        .unwrap();
    assert!(end_b.jobs.is_empty() && end_b.next_ready.is_none());
    let c = a.counters().await.unwrap();
    assert_eq!(
        (c.queued, c.in_flight, c.done, c.failed, c.seen),
        (0, 0, 2, 1, 3)
    );
    let stats = crawl_stats(a.client(), a.options()).await.unwrap();
    assert_eq!(stats.counters, c);
    let pages: BTreeMap<&str, u64> = stats
        .workers
        .iter()
        .map(|w| (w.name.as_str(), w.pages))
        .collect();
    assert_eq!(pages, BTreeMap::from([(a.worker(), 2), (b.worker(), 1)]));
}

/// A crawler that stops answering loses its jobs when the lease runs out; another crawler
/// claims them, and the dead one's late completion counts nothing twice.
#[tulip::test]
async fn expired_leases_go_back_to_the_queue() {
    let Some(server) = redis() else { return };
    let mut options = RedisOptions::new(server.url(), "lease");
    options.lease = Duration::from_secs(1);
    let dead = RedisFrontier::open(&options, FrontierConfig::default())
        .await
        .unwrap();
    dead.push(jobs(&["http://h/1", "http://h/2"]))
        .await
        .unwrap();
    let lost = dead.claim(10, Instant::now()).await.unwrap().jobs;
    assert_eq!(lost.len(), 2);
    // Gone without completing: its heartbeat stops with it.
    drop(dead);
    let heir = RedisFrontier::open(&options, FrontierConfig::default())
        .await
        .unwrap();
    let mut claimed = Vec::new();
    while claimed.len() < 2 {
        let claim = heir.claim(10, Instant::now()).await.unwrap();
        claimed.extend(claim.jobs);
        if claimed.len() < 2 {
            let at = claim.next_ready.expect("leases in flight elsewhere");
            tulip::time::sleep_until(at).await;
        }
    }
    assert_eq!(urls(&claimed), ["http://h/1", "http://h/2"]);
    // The first crawler comes back and reports the pages: its leases are gone, nothing counts.
    let zombie = RedisFrontier::open(&options, FrontierConfig::default())
        .await
        .unwrap();
    zombie
        .complete(lost.into_iter().map(Completion::ok).collect())
        .await
        .unwrap();
    let c = zombie.counters().await.unwrap();
    assert_eq!((c.in_flight, c.done), (2, 0));
    heir.complete(claimed.into_iter().map(Completion::ok).collect())
        .await
        .unwrap();
    let c = heir.counters().await.unwrap();
    assert_eq!((c.queued, c.in_flight, c.done), (0, 0, 2));
}

/// A step repeated (its reply was lost) changes nothing twice: by the same crawler, or sent
/// again on behalf of a crawler that no longer remembers what it sent.
#[tulip::test]
async fn a_repeated_step_counts_once() {
    let Some(server) = redis() else { return };
    let frontier = open(&server, "retry", FrontierConfig::default()).await;
    let forgetful = open(&server, "retry", FrontierConfig::default()).await;
    frontier.push(jobs(&["http://h/"])).await.unwrap();
    let page = frontier
        .claim(1, Instant::now())
        .await
        .unwrap()
        .jobs
        .remove(0);
    let links = vec![page.child(url::Url::parse("http://h/a").unwrap())];
    for (who, expected) in [(&frontier, 1), (&frontier, 0), (&forgetful, 0)] {
        let added = who
            .finish(vec![Completion::ok(page.clone())], links.clone())
            .await
            .unwrap();
        assert_eq!(added, expected);
    }
    let c = frontier.counters().await.unwrap();
    assert_eq!((c.queued, c.in_flight, c.done, c.seen), (1, 0, 1, 2));
}

/// The frontier lives through a restart of the server (which keeps an append-only file), and
/// the client reconnects by itself.
#[tulip::test]
async fn state_survives_a_server_restart() {
    let Some(mut server) = redis() else { return };
    let frontier = open(&server, "restart", FrontierConfig::default()).await;
    frontier
        .push(jobs(&["http://h/1", "http://h/2"]))
        .await
        .unwrap();
    let first = frontier.claim(1, Instant::now()).await.unwrap().jobs;
    server.restart().unwrap();
    let (_, claim) = frontier
        .finish_and_claim(
            first.into_iter().map(Completion::ok).collect(),
            vec![],
            5,
            Instant::now(),
        )
        .await
        .unwrap();
    assert_eq!(urls(&claim.jobs), ["http://h/2"]);
    let c = frontier.counters().await.unwrap();
    assert_eq!((c.queued, c.in_flight, c.done, c.seen), (0, 1, 1, 2));
    assert!(frontier.client().stats().reconnects >= 1);
}

#[tulip::test]
async fn an_unreachable_server_is_an_error_naming_it() {
    // A port nothing listens on: connection refused, reported with the address.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let options = RedisOptions::new(format!("redis://{addr}/0"), "c");
    let err = RedisFrontier::open(&options, FrontierConfig::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    let options = RedisOptions::new("redis://127.0.0.1/0", "");
    let err = RedisFrontier::open(&options, FrontierConfig::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--crawl-id"), "{err}");
}

// ----- the binary -----

/// The demo site as these tests use it.
fn site() -> Rc<DemoSite> {
    Rc::new(DemoSite::new(DemoConfig {
        pages: 500,
        slow_delay: Duration::from_millis(20),
        ..DemoConfig::default()
    }))
}

const LIMIT: usize = 6;

fn areq(urls_file: &Path, output: &Path, url: &str, crawl: &str) -> Command {
    let mut cmd = recursive_crawl(urls_file, output, LIMIT, "0.002");
    cmd.args(["--redis", url, "--crawl-id", crawl, "--lease", "1"]);
    cmd
}

/// What happens to the crawl while it runs, once the server has answered this many requests.
enum Event {
    Nothing,
    /// SIGKILL the first crawler.
    KillOne,
    /// Restart redis-server.
    RestartRedis,
}

struct SharedCrawl {
    /// Requests per path, all crawlers together.
    counts: BTreeMap<String, u32>,
    expected: areq::demo::ExpectedCrawl,
    /// The outputs' lines, all files together.
    lines: BTreeSet<(String, String)>,
    /// The surviving crawlers' stderr.
    stderr: Vec<String>,
}

/// Runs `n` crawlers of one crawl on the demo site, with `event` after 120 requests.
fn shared_crawl(name: &str, n: usize, event: Event, output_to_redis: bool) -> Option<SharedCrawl> {
    let mut server = redis()?;
    let dir = TempDir::new(name);
    let site = site();
    let urls_file = dir.path("urls.txt");
    let url = server.url();
    let outputs: Vec<_> = (0..n)
        .map(|i| {
            if output_to_redis {
                "redis".into()
            } else {
                dir.path(&format!("found-{i}.tsv"))
            }
        })
        .collect();
    let (counts, expected, stderr) = tulip::run(async {
        let demo = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let base = demo.base_url().clone();
        std::fs::write(&urls_file, format!("{base}\n")).unwrap();
        let mut children: Vec<Option<Child>> = outputs
            .iter()
            .map(|out| Some(areq(&urls_file, out, &url, name).spawn().unwrap()))
            .collect();
        let give_up = std::time::Instant::now() + Duration::from_secs(120);
        let mut fired = matches!(event, Event::Nothing);
        let mut stderr = Vec::new();
        while children.iter().any(Option::is_some) {
            assert!(std::time::Instant::now() < give_up, "the crawl hangs");
            if !fired && demo.requests().values().sum::<u32>() >= 120 {
                fired = true;
                match event {
                    Event::KillOne => {
                        let mut child = children[0].take().unwrap();
                        support::signal(&child, rustix::process::Signal::KILL);
                        child.wait().unwrap();
                    }
                    Event::RestartRedis => server.restart().unwrap(),
                    Event::Nothing => {}
                }
            }
            for slot in &mut children {
                if let Some(child) = slot
                    && child.try_wait().unwrap().is_some()
                {
                    let (status, text) = wait_exit(child, give_up).await;
                    assert_eq!(status.code(), Some(0), "stderr:\n{text}");
                    stderr.push(text);
                    *slot = None;
                }
            }
            tulip::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(fired, "the crawl ended before the event");
        let counts = demo.requests();
        demo.shutdown().await;
        (counts, site.expected_crawl(&base, false), stderr)
    });
    let lines = if output_to_redis {
        read_stream(&server, name)
    } else {
        let mut lines = BTreeSet::new();
        for (i, out) in outputs.iter().enumerate() {
            if i == 0 && matches!(event, Event::KillOne) {
                lines.extend(read_killed(out));
            } else {
                lines.extend(read_tsv(out));
            }
        }
        lines
    };
    Some(SharedCrawl {
        counts,
        expected,
        lines,
        stderr,
    })
}

/// The whole lines of the output of a crawler killed with SIGKILL: what it had flushed, maybe
/// without even the header, maybe cut mid-line.
fn read_killed(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let body = text.strip_prefix(areq::output::HEADER).unwrap_or(&text);
    let whole = &body[..body.rfind('\n').map_or(0, |i| i + 1)];
    whole
        .lines()
        .map(|line| {
            let (source, link) = line.split_once('\t').unwrap();
            (source.to_owned(), link.to_owned())
        })
        .collect()
}

/// The lines of the crawl's output stream; each line once.
fn read_stream(server: &RedisServer, crawl: &str) -> BTreeSet<(String, String)> {
    let url = server.url();
    let key = RedisOptions::new(url.clone(), crawl).output_key();
    let entries = tulip::run(async {
        let client = tulip_redis::Client::open(&url).await.unwrap();
        let reply = client
            .query(&tulip_redis::cmd!("XRANGE", key.as_str(), "-", "+"))
            .await
            .unwrap();
        reply.into_array().unwrap()
    });
    let mut lines = BTreeSet::new();
    for entry in entries {
        let fields = entry.into_array().unwrap().remove(1).into_array().unwrap();
        assert_eq!(fields[0].as_str(), Some("line"));
        let line = fields[1].as_str().unwrap();
        let (source, link) = line.split_once('\t').unwrap();
        assert!(
            lines.insert((source.to_owned(), link.to_owned())),
            "{line} is in the stream twice"
        );
    }
    lines
}

impl SharedCrawl {
    /// The crawlers' outputs together hold the expected lines, and every expected page was
    /// requested. Returns the pages requested more than once.
    fn assert_complete(&self) -> Vec<(&String, &u32)> {
        assert_eq!(
            self.lines,
            line_set(self.expected.lines.iter().cloned().collect())
        );
        let fetched: BTreeSet<String> = self.counts.keys().cloned().collect();
        assert_eq!(fetched, self.expected.fetched, "pages missed");
        self.counts.iter().filter(|(_, n)| **n > 1).collect()
    }
}

#[test]
fn three_crawlers_share_one_crawl_and_fetch_nothing_twice() {
    let Some(crawl) = shared_crawl("redis-three", 3, Event::Nothing, false) else {
        return;
    };
    let twice = crawl.assert_complete();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    // Each crawler reports its round trips.
    assert_eq!(crawl.stderr.len(), 3);
    for text in &crawl.stderr {
        assert!(text.contains(" Redis round trips ("), "stderr:\n{text}");
    }
}

#[test]
fn a_killed_crawler_leaves_its_pages_to_the_others() {
    let Some(crawl) = shared_crawl("redis-kill", 3, Event::KillOne, false) else {
        return;
    };
    let twice = crawl.assert_complete();
    assert!(
        crawl.counts.values().all(|n| *n <= 2),
        "fetched more than twice: {twice:?}"
    );
    assert!(
        twice.len() <= LIMIT,
        "more pages fetched twice than the killed crawler had in flight ({LIMIT}): {twice:?}"
    );
}

#[test]
fn a_redis_restart_mid_crawl_loses_nothing() {
    let Some(crawl) = shared_crawl("redis-restart", 2, Event::RestartRedis, false) else {
        return;
    };
    let twice = crawl.assert_complete();
    assert!(
        twice.len() <= 2 * LIMIT,
        "more pages fetched twice than were in flight: {twice:?}"
    );
}

#[test]
fn output_redis_writes_every_line_once_to_the_stream() {
    let Some(crawl) = shared_crawl("redis-stream", 2, Event::Nothing, true) else {
        return;
    };
    let twice = crawl.assert_complete();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
}

#[test]
fn stats_prints_the_shared_crawls_progress() {
    let Some(server) = redis() else { return };
    let url = server.url();
    let worker = tulip::run(async {
        let frontier = open(&server, "stats", FrontierConfig::default()).await;
        frontier
            .push(jobs(&["http://h/1", "http://h/2", "http://h/3"]))
            .await
            .unwrap();
        let claim = frontier.claim(2, Instant::now()).await.unwrap();
        frontier
            .complete(vec![Completion::ok(claim.jobs[0].clone())])
            .await
            .unwrap();
        frontier.worker().to_owned()
    });
    let out = Command::new(env!("CARGO_BIN_EXE_areq"))
        .args(["stats", "--redis", &url, "--crawl-id", "stats"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("queued 1, in flight 1, done 1, errors 0, seen 3"),
        "{stdout}"
    );
    let row = stdout.lines().find(|l| l.starts_with(&worker)).unwrap();
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(columns[1..3], ["1", "0"], "{row}");

    // A server that is not there: an error naming it, exit code 1.
    drop(server);
    let out = Command::new(env!("CARGO_BIN_EXE_areq"))
        .args(["stats", "--redis", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
}

#[test]
fn bad_redis_options_are_refused() {
    use clap::Parser;
    for args in [
        vec!["areq", "--redis", "redis://h/", "--state", "d"],
        vec!["areq", "--redis", "redis://h/", "--resume"],
        vec!["areq", "--crawl-id", "c"],
        vec!["areq", "--lease", "5"],
    ] {
        assert!(areq::cli::Cli::try_parse_from(&args).is_err(), "{args:?}");
    }
    let mut config = areq::crawler::Config::new("out.tsv".into());
    config.output_to_redis = true;
    let err = tulip::run(areq::crawl(&config)).unwrap_err();
    assert!(err.to_string().contains("--redis"), "{err}");
}

/// Ctrl+C with a shared frontier lets the pages in flight finish and records them: the crawler
/// leaves nothing leased, and another crawler finishes the crawl fetching nothing twice.
#[test]
fn sigint_hands_the_pages_in_flight_back_finished() {
    let Some(server) = redis() else { return };
    let dir = TempDir::new("redis-int");
    let site = site();
    let urls_file = dir.path("urls.txt");
    let url = server.url();
    let (first, second) = (dir.path("first.tsv"), dir.path("second.tsv"));
    let (counts, expected) = tulip::run(async {
        let demo = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let base = demo.base_url().clone();
        std::fs::write(&urls_file, format!("{base}\n")).unwrap();
        let mut child = areq(&urls_file, &first, &url, "int").spawn().unwrap();
        let give_up = std::time::Instant::now() + Duration::from_secs(60);
        run_until(&mut child, give_up, || {
            demo.requests().values().sum::<u32>() >= 120
        })
        .await;
        support::signal(&child, rustix::process::Signal::INT);
        let (status, stderr) = wait_exit(&mut child, give_up).await;
        assert_eq!(status.code(), Some(130), "stderr:\n{stderr}");
        let client = tulip_redis::Client::open(&url).await.unwrap();
        let stats = crawl_stats(&client, &RedisOptions::new(url.clone(), "int"))
            .await
            .unwrap();
        assert_eq!(stats.counters.in_flight, 0, "{stats}");
        assert!(stats.counters.queued > 0, "the crawl was not over: {stats}");

        let mut again = areq(&urls_file, &second, &url, "int").spawn().unwrap();
        let (status, stderr) = wait_exit(&mut again, give_up).await;
        assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
        let counts = demo.requests();
        demo.shutdown().await;
        (counts, site.expected_crawl(&base, false))
    });
    let mut lines = read_tsv(&first);
    lines.extend(read_tsv(&second));
    assert_eq!(
        line_set(lines),
        line_set(expected.lines.iter().cloned().collect())
    );
    let fetched: BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(fetched, expected.fetched);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
}
