//! Politeness reaches every request of a crawl: a redirect's hop waits for its host's delay
//! and slot like any page (memory, disk and Redis frontiers), and a robots.txt `Crawl-delay`
//! sets its host's delay (capped). The in-process crawls run on the test clock, so the gaps
//! between requests are exact; the Redis ones run on the real clock (the server's), so they
//! check what can be counted: requests at once, their order, and the waits Redis hands out.

mod support;

use std::time::Duration;

use areq::crawler::{Config, crawl};
use areq::frontier::RedisOptions;
use support::site::{Hit, Reply, Site};
use support::{TempDir, on_test_clock, read_tsv};
use tulip_redis::testing::RedisServer;

fn html_links(paths: &[&str]) -> Reply {
    Reply::Html(
        paths
            .iter()
            .map(|p| format!("<a href=\"{p}\">{p}</a>\n"))
            .collect(),
    )
}

fn config(dir: &TempDir, seeds: Vec<url::Url>) -> Config {
    let mut config = Config::new(dir.path("found.tsv"));
    config.urls = seeds;
    config.depth = 5;
    config
}

/// The gaps between the starts of consecutive requests.
fn gaps(hits: &[Hit]) -> Vec<Duration> {
    hits.windows(2).map(|w| w[1].start - w[0].start).collect()
}

fn paths(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.path.as_str()).collect()
}

/// `/` links to `/a` (a redirect to `/b`) and `/c`: three pages and one hop, all one host.
fn redirecting_site() -> Vec<(&'static str, Reply)> {
    vec![
        ("/", html_links(&["/a", "/c"])),
        ("/a", Reply::Redirect("/b".into())),
        ("/b", html_links(&["/"])),
        ("/c", html_links(&["/b"])),
    ]
}

/// Every request to the host, the redirect's hop included, is `delay` after the one before.
fn redirect_hop_waits_for_the_delay(state: bool) {
    let dir = TempDir::new(&format!("polite-redirect-delay-{state}"));
    let delay = Duration::from_secs(2);
    let hits = on_test_clock(async {
        let site = Site::serve(redirecting_site()).await;
        let mut config = config(&dir, vec![site.base.clone()]);
        config.delay = delay;
        if state {
            config.state = Some(dir.path("state"));
        }
        let summary = crawl(&config).await.unwrap();
        assert_eq!((summary.pages, summary.failed), (4, 0), "{summary}");
        let hits = site.hits();
        site.shutdown().await;
        hits
    });
    assert_eq!(paths(&hits), ["/", "/a", "/c", "/b"]);
    assert_eq!(gaps(&hits), [delay; 3]);
    // The hop's target is a page like any other: its links are in the output, once.
    let lines = read_tsv(&dir.path("found.tsv"));
    let from_b: Vec<_> = lines.iter().filter(|(s, _)| s.ends_with("/b")).collect();
    assert_eq!(from_b.len(), 1, "{lines:?}");
}

#[test]
fn a_redirect_hop_waits_for_the_hosts_delay() {
    redirect_hop_waits_for_the_delay(false);
}

#[test]
fn a_redirect_hop_waits_for_the_hosts_delay_with_state() {
    redirect_hop_waits_for_the_delay(true);
}

/// Host A redirects to host B while B's one slot (`--per-host 1`) is busy with a slow page.
fn cross_host_routes(b: &Site) -> Vec<(&'static str, Reply)> {
    vec![("/r", Reply::Redirect(b.url("/x").to_string()))]
}

fn b_routes() -> Vec<(&'static str, Reply)> {
    vec![
        (
            "/slow",
            Reply::SlowHtml(String::new(), Duration::from_millis(300)),
        ),
        ("/x", Reply::Html(String::new())),
    ]
}

/// B answered `/slow`, then `/x` once `/slow` was done, never two at once.
fn check_cross_host(b_hits: &[Hit], most_at_once: usize) {
    assert_eq!(paths(b_hits), ["/slow", "/x"]);
    assert_eq!(most_at_once, 1);
    assert!(b_hits[1].start >= b_hits[0].end, "{b_hits:?}");
}

/// In one process the session's per-host connection limit would hold the hop back too; the
/// frontier's slot is what holds it across processes (the Redis test below).
#[test]
fn a_redirect_hop_waits_for_a_slot_on_its_host() {
    let dir = TempDir::new("polite-redirect-slot");
    let (hits, most) = on_test_clock(async {
        let b = Site::serve(b_routes()).await;
        let a = Site::serve(cross_host_routes(&b)).await;
        let mut config = config(&dir, vec![a.url("/r"), b.url("/slow")]);
        config.fetch.per_host = 1;
        let summary = crawl(&config).await.unwrap();
        assert_eq!((summary.pages, summary.failed), (3, 0), "{summary}");
        let result = (b.hits(), b.most_at_once());
        a.shutdown().await;
        b.shutdown().await;
        result
    });
    check_cross_host(&hits, most);
}

fn redis() -> Option<RedisServer> {
    RedisServer::start().expect("starting redis-server")
}

/// Two crawlers share one Redis crawl, one page at a time each (`--limit 1`): one takes A's
/// redirect while the other holds B's only slot with the slow page. The hop to B is queued
/// and waits for that slot; it is not fetched at once beside the slow page.
#[test]
fn a_redirect_hop_waits_for_a_slot_held_by_another_crawler() {
    let Some(server) = redis() else { return };
    let dir = TempDir::new("polite-redirect-slot-redis");
    let (hits, most) = tulip::run(async {
        let b = Site::serve(b_routes()).await;
        let a = Site::serve(cross_host_routes(&b)).await;
        let crawler = |name: &str| {
            let mut config = Config::new(dir.path(name));
            config.urls = vec![a.url("/r"), b.url("/slow")];
            config.depth = 1;
            config.fetch.per_host = 1;
            config.fetch.limit = 1;
            config.redis = Some(RedisOptions::new(server.url(), "redirect-slot"));
            config
        };
        let (one, two) = (crawler("one.tsv"), crawler("two.tsv"));
        let (s1, s2) = futures_lite::future::zip(crawl(&one), crawl(&two)).await;
        let (s1, s2) = (s1.unwrap(), s2.unwrap());
        assert_eq!((s1.pages + s2.pages, s1.failed + s2.failed), (3, 0));
        let result = (b.hits(), b.most_at_once());
        a.shutdown().await;
        b.shutdown().await;
        result
    });
    check_cross_host(&hits, most);
}

/// The Redis frontier keeps the delay on the server's clock: the hop comes after the page
/// before it and no two requests to the host are closer than the delay by the server's
/// reckoning, which is checked here as order (the exact gaps are the test-clock tests' job).
#[test]
fn a_redirect_hop_is_queued_behind_the_delay_with_redis() {
    let Some(server) = redis() else { return };
    let dir = TempDir::new("polite-redirect-delay-redis");
    let hits = tulip::run(async {
        let site = Site::serve(redirecting_site()).await;
        let mut config = config(&dir, vec![site.base.clone()]);
        config.delay = Duration::from_millis(200);
        config.redis = Some(RedisOptions::new(server.url(), "redirect-delay"));
        let summary = crawl(&config).await.unwrap();
        assert_eq!((summary.pages, summary.failed), (4, 0), "{summary}");
        let hits = site.hits();
        site.shutdown().await;
        hits
    });
    assert_eq!(paths(&hits), ["/", "/a", "/c", "/b"]);
}

/// Three input pages (slow, so that requests made together overlap at the server) on a host
/// whose robots.txt asks for `crawl_delay` seconds.
fn crawl_delay_site(crawl_delay: &str) -> Vec<(&'static str, Reply)> {
    let slow = || Reply::SlowHtml(String::new(), Duration::from_millis(100));
    vec![
        (
            "/robots.txt",
            Reply::Text(format!("User-agent: *\nCrawl-delay: {crawl_delay}\n")),
        ),
        ("/1", slow()),
        ("/2", slow()),
        ("/3", slow()),
    ]
}

/// Crawls the three pages of `crawl_delay_site` with `--respect-robots` on the test clock;
/// the pages' requests, robots.txt left out.
fn crawl_with_crawl_delay(
    name: &str,
    crawl_delay: &str,
    state: bool,
    edit: impl FnOnce(&mut Config),
) -> (Vec<Hit>, usize) {
    let dir = TempDir::new(name);
    on_test_clock(async {
        let site = Site::serve(crawl_delay_site(crawl_delay)).await;
        let seeds = ["/1", "/2", "/3"].map(|p| site.url(p)).to_vec();
        let mut config = config(&dir, seeds);
        config.respect_robots = true;
        if state {
            config.state = Some(dir.path("state"));
        }
        edit(&mut config);
        let summary = crawl(&config).await.unwrap();
        assert_eq!((summary.pages, summary.failed), (3, 0), "{summary}");
        let hits: Vec<Hit> = site
            .hits()
            .into_iter()
            .filter(|h| h.path != "/robots.txt")
            .collect();
        let most = site.most_at_once();
        site.shutdown().await;
        (hits, most)
    })
}

fn starts(hits: &[Hit]) -> Vec<Duration> {
    hits.iter().map(|h| h.start).collect()
}

/// robots.txt's `Crawl-delay: 3` outweighs `--delay 1`: the host's pages are 3 s apart, the
/// first two included (the second waits for the first page's robots.txt to be read).
#[test]
fn crawl_delay_spaces_the_hosts_requests() {
    for state in [false, true] {
        let (hits, most) =
            crawl_with_crawl_delay(&format!("polite-crawl-delay-{state}"), "3", state, |c| {
                c.delay = Duration::from_secs(1)
            });
        assert_eq!(paths(&hits), ["/1", "/2", "/3"], "state: {state}");
        assert_eq!(
            starts(&hits),
            [0, 3, 6].map(Duration::from_secs),
            "state: {state}"
        );
        assert_eq!(most, 1);
    }
}

/// A shorter `Crawl-delay` than `--delay` changes nothing.
#[test]
fn delay_outweighs_a_shorter_crawl_delay() {
    let (hits, _) = crawl_with_crawl_delay("polite-crawl-delay-short", "1", false, |c| {
        c.delay = Duration::from_secs(2)
    });
    assert_eq!(starts(&hits), [0, 2, 4].map(Duration::from_secs));
}

/// A hostile `Crawl-delay: 86400` is cut to the cap: 30 s by default, or `--max-crawl-delay`;
/// 0 ignores it (then the pages go out together).
#[test]
fn crawl_delay_is_capped() {
    let (hits, _) = crawl_with_crawl_delay("polite-crawl-delay-cap", "86400", false, |_| {});
    assert_eq!(starts(&hits), [0, 30, 60].map(Duration::from_secs));
    let (hits, _) = crawl_with_crawl_delay("polite-crawl-delay-cap5", "86400", false, |c| {
        c.max_crawl_delay = Duration::from_secs(5)
    });
    assert_eq!(starts(&hits), [0, 5, 10].map(Duration::from_secs));
    let (hits, most) = crawl_with_crawl_delay("polite-crawl-delay-cap0", "86400", false, |c| {
        c.max_crawl_delay = Duration::ZERO
    });
    // The first page still goes alone (robots.txt is read with it); then the other two.
    assert_eq!(starts(&hits)[1], starts(&hits)[2]);
    assert_eq!(most, 2);
}

/// Without `--respect-robots` the file is not read and its `Crawl-delay` means nothing.
#[test]
fn crawl_delay_needs_respect_robots() {
    let (hits, most) = crawl_with_crawl_delay("polite-crawl-delay-off", "3", false, |c| {
        c.respect_robots = false
    });
    assert_eq!(starts(&hits), [Duration::ZERO; 3]);
    assert_eq!(most, 3);
}

/// The Redis frontier keeps each host's delay on the server: two crawlers sharing a crawl
/// never have two of the host's slow pages out at once, and take them in turn (the spacing
/// itself is on the server's clock; the Redis frontier tests check its waits).
#[test]
fn crawl_delay_holds_across_crawlers_with_redis() {
    let Some(server) = redis() else { return };
    let dir = TempDir::new("polite-crawl-delay-redis");
    let (hits, most) = tulip::run(async {
        let site = Site::serve(crawl_delay_site("0.2")).await;
        let crawler = |name: &str| {
            let mut config = Config::new(dir.path(name));
            config.urls = ["/1", "/2", "/3"].map(|p| site.url(p)).to_vec();
            config.respect_robots = true;
            config.redis = Some(RedisOptions::new(server.url(), "crawl-delay"));
            config
        };
        let (one, two) = (crawler("one.tsv"), crawler("two.tsv"));
        let (s1, s2) = futures_lite::future::zip(crawl(&one), crawl(&two)).await;
        let (s1, s2) = (s1.unwrap(), s2.unwrap());
        assert_eq!((s1.pages + s2.pages, s1.failed + s2.failed), (3, 0));
        let hits: Vec<Hit> = site
            .hits()
            .into_iter()
            .filter(|h| h.path != "/robots.txt")
            .collect();
        let most = site.most_at_once();
        site.shutdown().await;
        (hits, most)
    });
    assert_eq!(hits.len(), 3);
    assert_eq!(most, 1);
    for pair in hits.windows(2) {
        assert!(pair[1].start >= pair[0].end, "{hits:?}");
    }
}
