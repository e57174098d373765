//! The behaviour every frontier backend must have, as test bodies generic over the backend
//! (run on the test clock by frontier_memory.rs and frontier_disk.rs, on the real clock by
//! frontier_redis.rs).

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use areq::frontier::{Completion, Frontier, FrontierConfig, Job};
use tulip::time::Instant;
use url::Url;

pub fn jobs(urls: &[&str]) -> Vec<Job> {
    urls.iter()
        .map(|u| Job::seed(Url::parse(u).unwrap()))
        .collect()
}

pub fn urls(claimed: &[Job]) -> Vec<&str> {
    claimed.iter().map(|j| j.url.as_str()).collect()
}

pub async fn duplicates_are_dropped_across_batches_and_mark_seen<F: Frontier>(
    make: impl AsyncFn(FrontierConfig) -> F,
) {
    let frontier = make(FrontierConfig::default()).await;
    assert_eq!(
        frontier
            .push(jobs(&["http://a/1", "http://a/1", "http://a/2"]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        frontier
            .push(jobs(&["http://a/2", "http://a/3"]))
            .await
            .unwrap(),
        1
    );
    let fresh = frontier
        .mark_seen(&[
            Url::parse("http://a/3").unwrap(),
            Url::parse("http://a/4").unwrap(),
        ])
        .await
        .unwrap();
    assert_eq!(fresh, [false, true]);
    assert_eq!(frontier.push(jobs(&["http://a/4"])).await.unwrap(), 0);
    let c = frontier.counters().await.unwrap();
    assert_eq!((c.queued, c.seen), (3, 4));
}

pub async fn per_host_limit_and_round_robin<F: Frontier>(make: impl AsyncFn(FrontierConfig) -> F) {
    let config = FrontierConfig {
        per_host: 1,
        ..FrontierConfig::default()
    };
    let frontier = make(config).await;
    frontier
        .push(jobs(&[
            "http://a/1",
            "http://a/2",
            "http://b/1",
            "http://b/2",
            "http://c/1",
        ]))
        .await
        .unwrap();
    let now = Instant::now();
    let first = frontier.claim(10, now).await.unwrap();
    assert_eq!(
        urls(&first.jobs),
        ["http://a/1", "http://b/1", "http://c/1"]
    );
    let none = frontier.claim(10, now).await.unwrap();
    assert!(none.jobs.is_empty() && none.next_ready.is_none());
    frontier
        .complete(vec![Completion::ok(first.jobs[1].clone())])
        .await
        .unwrap();
    let next = frontier.claim(10, now).await.unwrap();
    assert_eq!(urls(&next.jobs), ["http://b/2"]);
    frontier
        .complete(vec![Completion::failed(first.jobs[0].clone())])
        .await
        .unwrap();
    assert_eq!(
        urls(&frontier.claim(10, now).await.unwrap().jobs),
        ["http://a/2"]
    );
    let c = frontier.counters().await.unwrap();
    assert_eq!((c.queued, c.in_flight, c.done, c.failed), (0, 3, 1, 1));
}

pub async fn politeness_delay_per_host<F: Frontier>(make: impl AsyncFn(FrontierConfig) -> F) {
    let delay = Duration::from_millis(250);
    let frontier = make(FrontierConfig {
        delay,
        ..FrontierConfig::default()
    })
    .await;
    frontier
        .push(jobs(&[
            "http://a/1",
            "http://a/2",
            "http://a/3",
            "http://b/1",
        ]))
        .await
        .unwrap();
    let start = Instant::now();
    let mut claimed_at = Vec::new();
    loop {
        let claim = frontier.claim(10, Instant::now()).await.unwrap();
        for job in &claim.jobs {
            claimed_at.push((job.url.to_string(), Instant::now() - start));
        }
        match claim.next_ready {
            Some(at) => tulip::time::sleep_until(at).await,
            None if claim.jobs.is_empty() => break,
            None => {}
        }
    }
    let at = |u: &str| claimed_at.iter().find(|(x, _)| x == u).unwrap().1;
    assert_eq!(at("http://a/1"), Duration::ZERO);
    assert_eq!(at("http://b/1"), Duration::ZERO);
    assert_eq!(at("http://a/2"), delay);
    assert_eq!(at("http://a/3"), delay * 2);
}

pub async fn finish_queues_links_and_completes<F: Frontier>(
    make: impl AsyncFn(FrontierConfig) -> F,
) {
    let frontier = make(FrontierConfig::default()).await;
    frontier.push(jobs(&["http://a/1"])).await.unwrap();
    let page = frontier
        .claim(1, Instant::now())
        .await
        .unwrap()
        .jobs
        .remove(0);
    let found = vec![
        page.child(Url::parse("http://a/2").unwrap()),
        page.child(Url::parse("http://a/1").unwrap()),
    ];
    let added = frontier
        .finish(vec![Completion::ok(page)], found)
        .await
        .unwrap();
    assert_eq!(added, 1);
    let c = frontier.counters().await.unwrap();
    assert_eq!((c.queued, c.in_flight, c.done, c.seen), (1, 0, 1, 2));
    let next = frontier.claim(5, Instant::now()).await.unwrap();
    assert_eq!(urls(&next.jobs), ["http://a/2"]);
    assert_eq!(next.jobs[0].depth, 1);
    assert_eq!(next.jobs[0].parent.as_ref().unwrap().as_str(), "http://a/1");
}

pub async fn round_robin_takes_turns_within_one_claim<F: Frontier>(
    make: impl AsyncFn(FrontierConfig) -> F,
) {
    let frontier = make(FrontierConfig::default()).await;
    frontier
        .push(jobs(&[
            "http://a/1",
            "http://a/2",
            "http://a/3",
            "http://b/1",
        ]))
        .await
        .unwrap();
    let claim = frontier.claim(3, Instant::now()).await.unwrap();
    assert_eq!(
        urls(&claim.jobs),
        ["http://a/1", "http://b/1", "http://a/2"]
    );
    let rest = frontier.claim(3, Instant::now()).await.unwrap();
    assert_eq!(urls(&rest.jobs), ["http://a/3"]);
    let c = frontier.counters().await.unwrap();
    assert_eq!((c.queued, c.in_flight), (0, 4));
}

/// With `learn_delays`, a host has one job in flight until a completion reports its delay;
/// the first report spaces the host's claims by it, counted from the claim before.
pub async fn a_reported_delay_gates_then_spaces_its_host<F: Frontier>(
    make: impl AsyncFn(FrontierConfig) -> F,
) {
    let config = FrontierConfig {
        learn_delays: true,
        ..FrontierConfig::default()
    };
    let frontier = make(config).await;
    frontier
        .push(jobs(&[
            "http://a/1",
            "http://a/2",
            "http://a/3",
            "http://b/1",
        ]))
        .await
        .unwrap();
    let start = Instant::now();
    let first = frontier.claim(10, start).await.unwrap();
    // Neither host's delay is known: one job each.
    assert_eq!(urls(&first.jobs), ["http://a/1", "http://b/1"]);
    assert!(first.next_ready.is_none());
    let asked = Duration::from_secs(3);
    let done = vec![
        Completion::ok(first.jobs[0].clone()).with_host_delay(asked),
        Completion::ok(first.jobs[1].clone()).with_host_delay(Duration::ZERO),
    ];
    frontier.complete(done).await.unwrap();
    let mut claimed_at = Vec::new();
    loop {
        let claim = frontier.claim(10, Instant::now()).await.unwrap();
        for job in &claim.jobs {
            claimed_at.push((job.url.to_string(), Instant::now() - start));
        }
        match claim.next_ready {
            Some(at) => tulip::time::sleep_until(at).await,
            None if claim.jobs.is_empty() => break,
            None => {}
        }
    }
    // Known now: a's delay is 3 s from its first claim, and no longer one at a time.
    assert_eq!(
        claimed_at,
        [
            ("http://a/2".to_owned(), asked),
            ("http://a/3".to_owned(), asked * 2)
        ]
    );
}

/// Without `learn_delays`, a reported delay still spaces the host, but nothing waits for it.
pub async fn a_reported_delay_longer_than_the_configured_one_wins<F: Frontier>(
    make: impl AsyncFn(FrontierConfig) -> F,
) {
    let delay = Duration::from_secs(1);
    let frontier = make(FrontierConfig {
        delay,
        ..FrontierConfig::default()
    })
    .await;
    frontier
        .push(jobs(&["http://a/1", "http://a/2", "http://a/3"]))
        .await
        .unwrap();
    let start = Instant::now();
    let first = frontier.claim(10, start).await.unwrap();
    assert_eq!(urls(&first.jobs), ["http://a/1"]);
    assert_eq!(first.next_ready, None);
    let shorter = Completion::ok(first.jobs[0].clone()).with_host_delay(delay / 2);
    frontier.complete(vec![shorter]).await.unwrap();
    let second = frontier.claim(10, start).await.unwrap();
    // Asked for less than --delay: --delay holds.
    assert_eq!(second.next_ready, Some(start + delay));
    tulip::time::sleep_until(start + delay).await;
    let second = frontier.claim(10, Instant::now()).await.unwrap();
    assert_eq!(urls(&second.jobs), ["http://a/2"]);
    let third = frontier.claim(10, Instant::now()).await.unwrap();
    assert_eq!(third.next_ready, Some(start + delay * 2));
}
