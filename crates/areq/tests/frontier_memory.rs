//! The in-memory frontier on the test clock: global de-duplication, per-host in-flight limits,
//! per-host politeness delays (exact instants), round robin between hosts, counters.

use std::time::Duration;

use areq::frontier::{Completion, Frontier, FrontierConfig, Job, MemoryFrontier};
use tulip::time::Instant;
use url::Url;

fn jobs(urls: &[&str]) -> Vec<Job> {
    urls.iter()
        .map(|u| Job::seed(Url::parse(u).unwrap()))
        .collect()
}

fn urls(claimed: &[Job]) -> Vec<&str> {
    claimed.iter().map(|j| j.url.as_str()).collect()
}

#[tulip::test(test_clock)]
async fn duplicates_are_dropped_across_batches_and_mark_seen() {
    let frontier = MemoryFrontier::new(FrontierConfig::default());
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

#[tulip::test(test_clock)]
async fn per_host_limit_and_round_robin() {
    let config = FrontierConfig {
        per_host: 1,
        delay: Duration::ZERO,
    };
    let frontier = MemoryFrontier::new(config);
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

#[tulip::test(test_clock)]
async fn politeness_delay_per_host() {
    let delay = Duration::from_millis(250);
    let frontier = MemoryFrontier::new(FrontierConfig { per_host: 0, delay });
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
