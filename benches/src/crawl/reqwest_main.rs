//! `crawl-reqwest`: the `crawl` scenario's plain peer of areq — the seed's non-recursive crawl
//! written the way a tokio user would, with reqwest on a tokio current_thread runtime.
//!
//! ```text
//! crawl-reqwest URLS_FILE OUTPUT [--limit N]
//! ```
//!
//! Reads the URLs (one a line), fetches them through one `reqwest::Client`, at most `--limit`
//! (default 100) at once (`buffer_unordered`), extracts each page's links with areq's own
//! [`areq::links::extract_links`] (so only the runtime, the HTTP client and the output differ
//! from areq), and writes the seed's TSV (`source_url<TAB>parsed_url`, header first) through a
//! 128 KiB `BufWriter`. A failed page is reported on stderr as `ERROR ...` and skipped. Exits
//! with 1 when the input or the output cannot be used.
//!
//! A binary of its own rather than a subcommand of `tulip-bench`, so that it runs on the
//! system allocator, as areq does, and not under `tulip-bench`'s counting one.

#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use areq::links::{extract_links, is_html_content_type, looks_binary};
use futures_util::StreamExt;
use reqwest::{Client, Url, header::CONTENT_TYPE};

/// The seed's header line.
const HEADER: &[u8] = b"source_url\tparsed_url\n";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        eprintln!("usage: crawl-reqwest URLS_FILE OUTPUT [--limit N]");
        return ExitCode::FAILURE;
    };
    let limit = match args.get(2).map(String::as_str) {
        None => 100,
        Some("--limit") => match args.get(3).and_then(|n| n.parse().ok()).filter(|&n| n > 0) {
            Some(n) => n,
            None => {
                eprintln!("crawl-reqwest: --limit takes a positive number");
                return ExitCode::FAILURE;
            }
        },
        Some(other) => {
            eprintln!("crawl-reqwest: unknown option `{other}`");
            return ExitCode::FAILURE;
        }
    };
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
    match runtime.block_on(crawl(input, output, limit)) {
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

/// The crawl: returns (pages fetched, lines written, pages failed).
async fn crawl(input: &str, output: &str, limit: usize) -> io::Result<(u64, u64, u64)> {
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
        .map(|url| fetch(&client, url))
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
async fn fetch(client: &Client, url: Url) -> Result<(Url, Vec<Url>), reqwest::Error> {
    let response = client.get(url.clone()).send().await?.error_for_status()?;
    let html = is_html_content_type(
        response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let body = response.bytes().await?;
    let links = if html && !looks_binary(&body) {
        extract_links(&body, &url)
    } else {
        Vec::new()
    };
    Ok((url, links))
}
