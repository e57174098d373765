//! The `crawl` scenario's static site: `pages` HTML pages of a few KB each under `pages/`,
//! generated deterministically (a seeded `fastrand`), each with 21 distinct links — a
//! stylesheet, the home/next/previous navigation, eleven other pages of the site (twelve on the
//! last page, whose Next is Home; relative and root-relative) and six external URLs — and nothing a link extractor could disagree on: every
//! `href` double-quoted (the seed's regular expression sees only those), no fragments, no
//! character references, no dot segments, no links in comments or scripts, each link once per
//! page. So Python's `urljoin` and the `url` crate give the same absolute URLs, and every
//! crawler's output has exactly [`Site::links`] lines after the header.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// Links on every page (when the site has enough pages for them to be distinct).
pub(crate) const LINKS_PER_PAGE: usize = 21;

/// Words the page text is made of (a few with non-ASCII letters, as real pages have).
const WORDS: [&str; 48] = [
    "event",
    "loop",
    "task",
    "future",
    "coroutine",
    "await",
    "socket",
    "buffer",
    "request",
    "response",
    "header",
    "crawler",
    "link",
    "page",
    "queue",
    "timer",
    "signal",
    "thread",
    "process",
    "stream",
    "protocol",
    "transport",
    "handle",
    "callback",
    "schedule",
    "ready",
    "pending",
    "done",
    "cancel",
    "result",
    "exception",
    "gather",
    "shield",
    "timeout",
    "semaphore",
    "lock",
    "barrier",
    "café",
    "naïve",
    "déjà",
    "über",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "with",
];

/// External hosts the pages link to (never fetched: the crawl is not recursive).
const EXTERNAL: [&str; 6] = [
    "https://docs.python.org/3/library/asyncio-task.html",
    "https://www.example.org/articles/",
    "http://news.example.com/item?id=",
    "https://ext.example.net/blog/",
    "https://cdn.example.com/assets/",
    "http://wiki.example.org/wiki/Page_",
];

/// What was generated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    /// Distinct links over all pages: the line count every crawler's output must have after its
    /// header.
    pub(crate) links: u64,
    /// Bytes of HTML written.
    pub(crate) bytes: u64,
}

/// The path of page `i` on the server.
pub(crate) fn page_path(i: usize) -> String {
    format!("/pages/{i}.html")
}

/// Writes `pages` pages into `root/pages/` and the stylesheet into `root/static/`.
pub(crate) fn generate(root: &Path, pages: usize) -> io::Result<Site> {
    fs::create_dir_all(root.join("pages"))?;
    fs::create_dir_all(root.join("static"))?;
    fs::write(
        root.join("static/site.css"),
        "body { font-family: sans-serif; max-width: 40em; margin: auto; }\n",
    )?;
    let mut rng = fastrand::Rng::with_seed(0x00C0_FFEE);
    let mut site = Site { links: 0, bytes: 0 };
    let mut html = String::with_capacity(8192);
    for i in 0..pages {
        html.clear();
        let links = page(&mut html, &mut rng, i, pages);
        site.links += links as u64;
        site.bytes += html.len() as u64;
        fs::write(root.join(format!("pages/{i}.html")), &html)?;
    }
    Ok(site)
}

/// Writes page `i` of `pages` into `html`; returns how many distinct links it has.
fn page(html: &mut String, rng: &mut fastrand::Rng, i: usize, pages: usize) -> usize {
    // Page numbers already linked, so that every link of the page is distinct once resolved
    // (`7.html` and `/pages/7.html` are the same URL).
    let mut linked: HashSet<usize> = HashSet::new();
    let mut links = 1; // the stylesheet
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Page {i} of the crawl bench</title>\n\
         <link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n<header><nav>"
    );
    let nav = [
        ("Home", 0),
        ("Next", (i + 1) % pages),
        ("Previous", (i + pages - 1) % pages),
    ];
    for (name, j) in nav {
        if linked.insert(j) {
            let _ = write!(html, "<a href=\"{}\">{name}</a> ", page_path(j));
            links += 1;
        }
    }
    let _ = write!(html, "</nav></header>\n<main>\n<h1>Page {i}</h1>\n");
    // Links to other pages (eleven, or twelve on the last page, whose Next is Home), spread over
    // the paragraphs, then six external ones.
    let internal_target = LINKS_PER_PAGE - EXTERNAL.len() - links;
    let mut internal = 0;
    let mut external = 0;
    let mut tries = 0;
    while internal + external < internal_target + EXTERNAL.len() {
        html.push_str("<p>");
        for _ in 0..rng.usize(25..45) {
            html.push_str(WORDS[rng.usize(..WORDS.len())]);
            html.push(' ');
        }
        for _ in 0..3 {
            if internal < internal_target {
                let j = rng.usize(..pages);
                tries += 1;
                if linked.insert(j) {
                    // Relative or root-relative, as sites mix them.
                    if rng.bool() {
                        let _ = write!(html, "<a href=\"{j}.html\">page {j}</a> ");
                    } else {
                        let _ = write!(html, "<a href=\"{}\">page {j}</a> ", page_path(j));
                    }
                    links += 1;
                    internal += 1;
                } else if tries > 1000 {
                    // A site too small for that many distinct pages: stop looking.
                    internal = internal_target;
                }
            } else if external < EXTERNAL.len() {
                let base = EXTERNAL[external];
                if base.ends_with(".html") {
                    let _ = write!(html, "<a href=\"{base}\">docs</a> ");
                } else {
                    let n = rng.u32(1..100_000);
                    let _ = write!(html, "<a class=\"ext\" href=\"{base}{n}\">more</a> ");
                }
                links += 1;
                external += 1;
            }
            for _ in 0..rng.usize(5..15) {
                html.push_str(WORDS[rng.usize(..WORDS.len())]);
                html.push(' ');
            }
        }
        html.push_str("</p>\n");
    }
    let _ = write!(
        html,
        "</main>\n<footer><p>Generated page {i} of {pages}. \
         Nothing here is a link: href= in text, &lt;a&gt; in text.</p></footer>\n\
         </body>\n</html>\n"
    );
    links
}

#[cfg(test)]
mod tests {
    //! The generator's counts agree with what areq's extractor finds.

    use super::*;

    #[test]
    fn counted_links_are_the_extracted_ones() {
        let mut rng = fastrand::Rng::with_seed(1);
        for (i, pages) in [(0, 10_000), (5, 10_000), (9_999, 10_000), (0, 3), (1, 1)] {
            let mut html = String::new();
            let n = page(&mut html, &mut rng, i, pages);
            let base =
                reqwest::Url::parse(&format!("http://127.0.0.1:8080/pages/{i}.html")).unwrap();
            let found = areq::links::extract_links(html.as_bytes(), &base);
            assert_eq!(found.len(), n, "page {i} of {pages}: {html}");
            if pages >= 100 {
                assert_eq!(n, LINKS_PER_PAGE);
            }
        }
    }
}
