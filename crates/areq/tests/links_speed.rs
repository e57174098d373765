//! Link extraction throughput on the demo site's pages: prints MB/s (a figure to read, run it
//! with `cargo test --release -p areq --test links_speed -- --nocapture`); asserts only that
//! every page yields the links the generator put in it.

use std::time::Instant;

use areq::demo::{DemoConfig, DemoPage, DemoSite};
use areq::links::extract_links;

#[test]
fn extraction_speed() {
    let site = DemoSite::new(DemoConfig {
        pages: 2000,
        ..Default::default()
    });
    let base = url::Url::parse("http://127.0.0.1:8080/").unwrap();
    let pages: Vec<(url::Url, String)> = (0..2000)
        .map(|i| {
            let path = format!("/page/{i}");
            let DemoPage::Html(html) = site.render(&base, &path) else {
                panic!("{path} is not HTML");
            };
            (base.join(&path).unwrap(), html)
        })
        .collect();
    let bytes: usize = pages.iter().map(|(_, h)| h.len()).sum();
    // Fewer rounds in debug builds, where the figure means little anyway.
    let rounds = if cfg!(debug_assertions) { 1 } else { 5 };
    let start = Instant::now();
    let mut found = 0;
    for _ in 0..rounds {
        for (url, html) in &pages {
            found += extract_links(html.as_bytes(), url).len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "extract_links: {:.1} MB in {secs:.3} s = {:.0} MB/s ({} links)",
        (bytes * rounds) as f64 / 1e6,
        (bytes * rounds) as f64 / 1e6 / secs,
        found
    );
    let start = Instant::now();
    let mut hrefs = 0;
    for _ in 0..rounds {
        for (_, html) in &pages {
            hrefs += areq::links::raw_hrefs(html.as_bytes()).0.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "raw_hrefs (tokenizer only): {:.0} MB/s ({hrefs} hrefs)",
        (bytes * rounds) as f64 / 1e6 / secs
    );
    for (url, html) in pages.iter().take(200) {
        let mut got = extract_links(html.as_bytes(), url);
        let mut want = site.page_links(&base, url.path()).unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
}
