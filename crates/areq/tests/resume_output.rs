//! `--resume`: a crawl stopped part-way (here by `--max-pages`) and resumed ends with the same
//! output as one uninterrupted crawl, and no page written by the first run is fetched again;
//! a torn last line is removed; a file that is not an areq output is refused.

mod support;

use std::rc::Rc;

use areq::crawler::{Config, crawl};
use areq::demo::{DemoConfig, DemoSite, serve};
use support::{TempDir, line_set, read_tsv};

#[test]
fn resumed_crawl_completes_the_output() {
    let dir = TempDir::new("resume");
    let output = dir.path("found.tsv");
    let site = Rc::new(DemoSite::new(DemoConfig {
        pages: 400,
        ..Default::default()
    }));
    let (first, second, counts, expected) = tulip::run(async {
        let server = serve(site.clone(), "127.0.0.1:0").await.unwrap();
        let base = server.base_url().clone();
        let mut config = Config::new(output.clone());
        config.urls = vec![base.clone()];
        config.depth = u32::MAX;
        config.same_host = true;
        config.max_pages = Some(120);
        let first = crawl(&config).await.unwrap();
        let first_lines = read_tsv(&output);
        config.max_pages = None;
        config.resume = true;
        let second = crawl(&config).await.unwrap();
        let counts = server.requests();
        server.shutdown().await;
        (
            (first, first_lines),
            second,
            counts,
            site.expected_crawl(&base, false),
        )
    });
    let (first, first_lines) = first;
    assert!(first.hit_max_pages);
    assert!(second.resumed > 0);
    let lines = line_set(read_tsv(&output));
    assert_eq!(lines, expected.lines);
    // Pages whose lines the first run wrote were not fetched again.
    let base_len = "http://".len();
    for (source, _) in &first_lines {
        let path = &source[source[base_len..].find('/').unwrap() + base_len..];
        assert_eq!(counts[path], 1, "{path} fetched again");
    }
    assert_eq!(first.links + second.links, expected.lines.len() as u64);
}

#[test]
fn torn_last_line_is_removed_and_foreign_files_refused() {
    let dir = TempDir::new("torn");
    let output = dir.path("found.tsv");
    std::fs::write(
        &output,
        "source_url\tparsed_url\nhttp://h/\thttp://h/a\nhttp://h/\thttp://h/",
    )
    .unwrap();
    let state = tulip::run(areq::output::load_existing(&output))
        .unwrap()
        .unwrap();
    assert_eq!(state.edges.len(), 1);
    assert_eq!(state.truncated, "http://h/\thttp://h/".len() as u64);
    assert_eq!(read_tsv(&output).len(), 1);

    let foreign = dir.path("notes.txt");
    std::fs::write(&foreign, "my notes\n").unwrap();
    let err = tulip::run(areq::output::load_existing(&foreign)).unwrap_err();
    assert!(err.to_string().contains("notes.txt"));
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "my notes\n");
}
