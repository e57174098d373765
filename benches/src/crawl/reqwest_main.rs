//! `crawl-reqwest`: the `crawl` scenario's plain peer of areq — the seed's non-recursive crawl
//! written the way a tokio user would, with reqwest on a tokio current_thread runtime.
//!
//! ```text
//! crawl-reqwest URLS_FILE OUTPUT [--limit N] [--links scraper|areq]
//! ```
//!
//! Reads the URLs (one a line), fetches them through one `reqwest::Client`, at most `--limit`
//! (default 100) at once (`buffer_unordered`), extracts each page's links and writes the seed's TSV (`source_url<TAB>parsed_url`, header first) through a
//! 128 KiB `BufWriter`.
//!
//! Links come from `scraper` by default — html5ever's tree and the CSS selector
//! `a[href], link[href], area[href]`, joined to the page's URL (or its `<base href>`) with the
//! `url` crate, fragments dropped, http(s) only, each link once per page: what a plain Rust
//! crawler does. `--links areq` uses areq's own [`areq::links::extract_links`] instead, so that
//! only the runtime, the HTTP client and the output differ from areq. A failed page is reported on stderr as `ERROR ...` and skipped. Exits
//! with 1 when the input or the output cannot be used.
//!
//! A binary of its own rather than a subcommand of `tulip-bench`, so that it runs on the
//! system allocator, as areq does, and not under `tulip-bench`'s counting one.

#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::LazyLock;

use areq::links::{extract_links, is_html_content_type, looks_binary};
use futures_util::StreamExt;
use reqwest::{Client, Url, header::CONTENT_TYPE};
use scraper::{Html, Selector};

/// The seed's header line.
const HEADER: &[u8] = b"source_url\tparsed_url\n";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        eprintln!("usage: crawl-reqwest URLS_FILE OUTPUT [--limit N] [--links scraper|areq]");
        return ExitCode::FAILURE;
    };
    let mut limit = 100;
    let mut extractor = Extractor::Scraper;
    let mut options = args[2..].iter();
    while let Some(option) = options.next() {
        let value = options.next().map(String::as_str);
        match (option.as_str(), value) {
            ("--limit", Some(n)) if n.parse::<usize>().is_ok_and(|n| n > 0) => {
                limit = n.parse().unwrap_or(limit);
            }
            ("--links", Some("scraper")) => extractor = Extractor::Scraper,
            ("--links", Some("areq")) => extractor = Extractor::Areq,
            ("--limit", _) => {
                eprintln!("crawl-reqwest: --limit takes a positive number");
                return ExitCode::FAILURE;
            }
            ("--links", _) => {
                eprintln!("crawl-reqwest: --links takes `scraper` or `areq`");
                return ExitCode::FAILURE;
            }
            (other, _) => {
                eprintln!("crawl-reqwest: unknown option `{other}`");
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("crawl-reqwest: cannot build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crawl(input, output, limit, extractor)) {
        Ok((pages, lines, failed)) => {
            eprintln!("crawl-reqwest: {pages} pages, {lines} links, {failed} failed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crawl-reqwest: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How links are taken out of a page.
#[derive(Debug, Clone, Copy)]
enum Extractor {
    /// `scraper`'s parsed tree and a CSS selector.
    Scraper,
    /// areq's tokenizer-based extractor.
    Areq,
}

/// The crawl: returns (pages fetched, lines written, pages failed).
async fn crawl(
    input: &str,
    output: &str,
    limit: usize,
    extractor: Extractor,
) -> io::Result<(u64, u64, u64)> {
    let text = std::fs::read_to_string(input)
        .map_err(|e| io::Error::new(e.kind(), format!("{input}: {e}")))?;
    let mut urls = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match Url::parse(line) {
            Ok(url) => urls.push(url),
            Err(e) => eprintln!("WARNING {input}:{}: not a URL ({e}): {line}", n + 1),
        }
    }
    let file =
        File::create(output).map_err(|e| io::Error::new(e.kind(), format!("{output}: {e}")))?;
    let mut out = BufWriter::with_capacity(128 * 1024, file);
    out.write_all(HEADER)?;
    let client = Client::builder()
        .build()
        .map_err(|e| io::Error::other(format!("cannot build the client: {e}")))?;
    let mut pages = futures_util::stream::iter(urls)
        .map(|url| fetch(&client, url, extractor))
        .buffer_unordered(limit);
    let (mut fetched, mut lines, mut failed) = (0, 0, 0);
    while let Some(page) = pages.next().await {
        match page {
            Ok((url, links)) => {
                fetched += 1;
                for link in &links {
                    out.write_all(url.as_str().as_bytes())?;
                    out.write_all(b"\t")?;
                    out.write_all(link.as_str().as_bytes())?;
                    out.write_all(b"\n")?;
                }
                lines += links.len() as u64;
            }
            Err(e) => {
                failed += 1;
                eprintln!("ERROR {e}");
            }
        }
    }
    out.flush()?;
    Ok((fetched, lines, failed))
}

/// One page: GET, status check, body, links (none unless the body is HTML).
async fn fetch(
    client: &Client,
    url: Url,
    extractor: Extractor,
) -> Result<(Url, Vec<Url>), reqwest::Error> {
    let response = client.get(url.clone()).send().await?.error_for_status()?;
    let html = is_html_content_type(
        response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let body = response.bytes().await?;
    let links = match extractor {
        _ if !html || looks_binary(&body) => Vec::new(),
        Extractor::Scraper => scrape_links(&body, &url),
        Extractor::Areq => extract_links(&body, &url),
    };
    Ok((url, links))
}

/// The selectors, parsed once.
static LINKS: LazyLock<Option<Selector>> =
    LazyLock::new(|| Selector::parse("a[href], link[href], area[href]").ok());
static BASE: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("base[href]").ok());

/// The `href`s of a page's `a`, `link` and `area` elements as absolute http(s) URLs without
/// fragments, each once, in document order; relative ones are joined to `<base href>` if the
/// page has one.
fn scrape_links(body: &[u8], url: &Url) -> Vec<Url> {
    let document = Html::parse_document(&String::from_utf8_lossy(body));
    let (Some(links), Some(base)) = (&*LINKS, &*BASE) else {
        return Vec::new();
    };
    let base = document
        .select(base)
        .next()
        .and_then(|b| url.join(b.value().attr("href")?.trim()).ok())
        .unwrap_or_else(|| url.clone());
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for element in document.select(links) {
        let Some(href) = element.value().attr("href") else {
            continue;
        };
        let Ok(mut link) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(link.scheme(), "http" | "https") {
            continue;
        }
        link.set_fragment(None);
        if seen.insert(link.clone()) {
            found.push(link);
        }
    }
    found
}
