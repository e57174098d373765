//! A recursive crawl of the in-process demo site: the output is exactly the link set computed
//! from the generator, and no URL is requested twice (the server counts requests per path).

mod support;

use std::rc::Rc;
use std::time::Duration;

use areq::crawler::{Config, crawl};
use areq::demo::{DemoConfig, DemoSite, serve};
use areq::fetch::FailureKind;
use support::{TempDir, line_set, read_tsv};

fn site(pages: usize) -> Rc<DemoSite> {
    Rc::new(DemoSite::new(DemoConfig {
        pages,
        slow_delay: Duration::from_millis(20),
        ..DemoConfig::default()
    }))
}

fn check_crawl(respect_robots: bool, limit: usize, per_host: usize) {
    let dir = TempDir::new(&format!("demo-{respect_robots}-{limit}-{per_host}"));
    let output = dir.path("found.tsv");
    let site = site(600);
    let (summary, counts, expected) = tulip::run(async {
        let server = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let base = server.base_url().clone();
        let mut config = Config::new(output.clone());
        config.urls = vec![base.clone()];
        config.depth = u32::MAX;
        config.same_host = true;
        config.respect_robots = respect_robots;
        config.fetch.limit = limit;
        config.fetch.per_host = per_host;
        let summary = crawl(&config).await.unwrap();
        let counts = server.requests();
        server.shutdown().await;
        (summary, counts, site.expected_crawl(&base, respect_robots))
    });

    let lines = line_set(read_tsv(&output));
    assert_eq!(lines.len(), expected.lines.len());
    assert_eq!(lines, expected.lines);

    let fetched: std::collections::BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(fetched, expected.fetched);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "requested more than once: {twice:?}");
    assert!(!fetched.iter().any(|p| p.starts_with("/trap/")));

    assert_eq!(summary.failed as usize, expected.not_found);
    assert_eq!(summary.errors.len(), 1);
    assert_eq!(
        summary.errors[&FailureKind::Status(404)] as usize,
        expected.not_found
    );
    assert_eq!(summary.links as usize, expected.lines.len());
    assert!(!summary.interrupted);
    if respect_robots {
        assert!(summary.robots_skipped > 0);
    } else {
        assert_eq!(summary.robots_skipped, 0);
    }
}

#[test]
fn crawl_matches_generator() {
    check_crawl(false, 100, 0);
}

#[test]
fn crawl_with_robots_and_per_host_limit() {
    check_crawl(true, 50, 4);
}

#[test]
fn depth_and_max_pages_bound_the_crawl() {
    let dir = TempDir::new("bounds");
    let output = dir.path("found.tsv");
    let site = site(300);
    let (shallow, capped, counts) = tulip::run(async {
        let server = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let mut config = Config::new(output.clone());
        config.urls = vec![server.base_url().clone()];
        config.depth = 1;
        config.same_host = true;
        let shallow = crawl(&config).await.unwrap();
        config.depth = u32::MAX;
        config.max_pages = Some(25);
        let capped = crawl(&config).await.unwrap();
        let counts = server.requests();
        server.shutdown().await;
        (shallow, capped, counts)
    });
    // Depth 1: the index and the 11 pages it links to.
    assert_eq!(shallow.pages + shallow.failed, 12);
    assert_eq!(capped.pages + capped.failed, 25);
    assert!(capped.hit_max_pages);
    assert_eq!(counts.values().sum::<u32>(), 12 + 25);
}

#[test]
fn seed_mode_fetches_only_the_listed_urls() {
    let dir = TempDir::new("seedmode");
    let output = dir.path("found.tsv");
    let site = site(100);
    let (summary, counts, base) = tulip::run(async {
        let server = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let base = server.base_url().clone();
        let mut config = Config::new(output.clone());
        config.urls = ["/page/3", "/missing/1", "/page/4"]
            .iter()
            .map(|p| base.join(p).unwrap())
            .collect();
        let summary = crawl(&config).await.unwrap();
        let counts = server.requests();
        server.shutdown().await;
        (summary, counts, base)
    });
    assert_eq!(counts.len(), 3);
    assert_eq!((summary.pages, summary.failed), (2, 1));
    let lines = read_tsv(&output);
    let mut expected = Vec::new();
    for p in ["/page/3", "/page/4"] {
        let page = base.join(p).unwrap();
        for link in site.page_links(&base, p).unwrap() {
            expected.push((page.to_string(), link.to_string()));
        }
    }
    assert_eq!(line_set(lines), expected.into_iter().collect());
}
