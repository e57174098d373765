//! Link extraction throughput on the demo site's pages: prints MB/s (a figure to read, run it
//! with `cargo test --release -p areq --test links_speed -- --nocapture`); asserts only that
//! every page yields the links the generator put in it.
//!
//! Two figures per measurement: wall-clock MB/s, and MB per second of this thread's CPU time,
//! which other processes on a busy machine disturb much less. Two corpora: the demo pages as
//! they are (link-dense, about 1.3 KB and 20 links each), and the same pages with twelve
//! paragraphs of text added (about 5.4 KB, closer to real pages).

use std::time::Instant;

use areq::demo::{DemoConfig, DemoPage, DemoSite};
use areq::links::{extract_links, raw_hrefs};
use rustix::time::{ClockId, clock_gettime};
use url::Url;

/// This thread's CPU time, in seconds.
fn cpu_seconds() -> f64 {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Runs `f` over every page `rounds` times and prints MB/s (wall and CPU); returns what `f`
/// counted.
fn measure(label: &str, pages: &[(Url, String)], rounds: usize, f: impl Fn(&Url, &str) -> usize) {
    let bytes: usize = pages.iter().map(|(_, h)| h.len()).sum::<usize>() * rounds;
    let wall = Instant::now();
    let cpu = cpu_seconds();
    let mut count = 0;
    for _ in 0..rounds {
        for (url, html) in pages {
            count += f(url, html);
        }
    }
    let cpu = cpu_seconds() - cpu;
    let wall = wall.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    println!(
        "{label}: {mb:.1} MB, {:.0} MB/s wall, {:.0} MB/s CPU ({count} found)",
        mb / wall,
        mb / cpu.max(1e-9)
    );
}

#[test]
fn extraction_speed() {
    let site = DemoSite::new(DemoConfig {
        pages: 2000,
        ..Default::default()
    });
    let base = Url::parse("http://127.0.0.1:8080/").unwrap();
    let pages: Vec<(Url, String)> = (0..2000)
        .map(|i| {
            let path = format!("/page/{i}");
            let DemoPage::Html(html) = site.render(&base, &path) else {
                panic!("{path} is not HTML");
            };
            (base.join(&path).unwrap(), html)
        })
        .collect();
    let filler: String = (0..12)
        .map(|k| {
            format!(
                "<p class=\"text\">Paragraph {k}: <em>lorem</em> ipsum dolor sit amet, \
                 consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et \
                 dolore magna aliqua &amp; more. <span>Ut enim ad minim veniam</span>, quis \
                 nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo \
                 consequat; <strong>duis</strong> aute irure dolor.</p>\n"
            )
        })
        .collect();
    let text_pages: Vec<(Url, String)> = pages
        .iter()
        .map(|(url, html)| {
            (
                url.clone(),
                html.replacen("<ul>", &format!("{filler}<ul>"), 1),
            )
        })
        .collect();
    // Fewer rounds in debug builds, where the figure means little anyway.
    let rounds = if cfg!(debug_assertions) { 1 } else { 5 };
    for (corpus, pages) in [("demo pages", &pages), ("with text", &text_pages)] {
        let avg = pages.iter().map(|(_, h)| h.len()).sum::<usize>() / pages.len();
        println!(
            "{corpus} ({} pages, {avg} bytes each on average):",
            pages.len()
        );
        measure("  extract_links", pages, rounds, |url, html| {
            extract_links(html.as_bytes(), url).len()
        });
        measure("  raw_hrefs (tokenizer only)", pages, rounds, |_, html| {
            raw_hrefs(html.as_bytes()).0.len()
        });
    }
    for (url, html) in pages.iter().take(200) {
        let mut got = extract_links(html.as_bytes(), url);
        let mut want = site.page_links(&base, url.path()).unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        // The added text changes nothing.
        let padded = html.replacen("<ul>", &format!("{filler}<ul>"), 1);
        let mut got = extract_links(padded.as_bytes(), url);
        got.sort();
        assert_eq!(got, want);
    }
}
