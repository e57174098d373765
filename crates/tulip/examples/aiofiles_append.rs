//! The crawler's append pattern (`areq.py`'s `write_one` in the `000_…` seed): many tasks find
//! links concurrently and append `source<TAB>link` lines to one results file, which is then
//! read back to check that no line tore.
//!
//! The seed opens the file in `"a"` mode once per page and awaits `f.write(line)` for each
//! link. Here the crawling tasks send their lines through a queue to one writer task that owns
//! the one `File` (opened in append mode, like the seed's): every line goes into the file's
//! 128 KiB buffer whole, and the file is written in a handful of large pool jobs rather than
//! one per line. A one-to-ten-millisecond sleep per link stands in for the network, so the
//! tasks' lines arrive interleaved.
//!
//! ```text
//! $ cargo run -p tulip-rt --example aiofiles_append
//! 100 pages crawled by 100 tasks, 5178 links found
//! writer: 5178 lines appended with 5178 write_all calls, 315858 bytes, closed
//! read back 5178 lines: 0 torn, 0 missing, 0 duplicated
//! lines per page: min 12, max 92, pages in file 100
//! interleaved: yes (the pages' lines are mixed in the file)
//! removed the results file
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::time::Duration;

use futures_lite::StreamExt;
use tulip::fs::{self, File};
use tulip::queue::Queue;

const PAGES: usize = 100;

fn page_url(page: usize) -> String {
    format!("https://site{page:03}.example/")
}

/// The links "found" on a page: how many, and the i-th one.
fn link_count(page: usize) -> usize {
    12 + (page * 37) % 81
}

fn link(page: usize, i: usize) -> String {
    format!("https://site{page:03}.example/article/{i:03}")
}

/// `write_one`: fetch and parse a page (a sleep per link), hand each line to the writer.
async fn crawl(page: usize, lines: Queue<String>) {
    let url = page_url(page);
    for i in 0..link_count(page) {
        let ms = 1 + ((page * 7 + i * 13) % 10) as u64;
        tulip::time::sleep(Duration::from_millis(ms)).await;
        let line = format!("{url}\t{}\n", link(page, i));
        lines
            .put(line)
            .await
            .expect("the writer outlives the crawlers");
    }
}

/// The one writer: appends every line it gets, then closes the file (reporting any error).
async fn writer(path: &Path, lines: Queue<String>) -> io::Result<(usize, u64)> {
    let mut file = File::options().append(true).create(true).open(path).await?;
    let (mut count, mut bytes) = (0, 0);
    while let Ok(line) = lines.get().await {
        file.write_all(line.as_bytes()).await?;
        count += 1;
        bytes += line.len() as u64;
        lines.task_done().expect("one task_done per line got");
    }
    file.close().await?;
    Ok((count, bytes))
}

/// Reads the file back: counts torn lines (not `source<TAB>link` of a known page and link),
/// missing and duplicated links, lines per page, and whether pages' lines are interleaved.
async fn check(path: &Path) -> io::Result<()> {
    let mut per_page: BTreeMap<usize, usize> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let (mut total, mut torn, mut duplicated, mut switches) = (0, 0, 0, 0);
    let mut previous_page = None;
    let mut lines = File::open(path).await?.lines();
    while let Some(line) = lines.next().await {
        let line = line?;
        total += 1;
        let parsed = line.split_once('\t').and_then(|(source, target)| {
            let page: usize = source
                .strip_prefix("https://site")?
                .get(..3)?
                .parse()
                .ok()?;
            let i: usize = target.rsplit('/').next()?.parse().ok()?;
            let whole = page < PAGES
                && source == page_url(page)
                && i < link_count(page)
                && target == link(page, i);
            whole.then_some((page, i))
        });
        let Some((page, i)) = parsed else {
            torn += 1;
            continue;
        };
        if !seen.insert((page, i)) {
            duplicated += 1;
        }
        *per_page.entry(page).or_default() += 1;
        if previous_page.is_some_and(|p| p != page) {
            switches += 1;
        }
        previous_page = Some(page);
    }
    let expected: usize = (0..PAGES).map(link_count).sum();
    let missing = expected - seen.len();
    println!("read back {total} lines: {torn} torn, {missing} missing, {duplicated} duplicated");
    let min = per_page.values().min().copied().unwrap_or(0);
    let max = per_page.values().max().copied().unwrap_or(0);
    println!(
        "lines per page: min {min}, max {max}, pages in file {}",
        per_page.len()
    );
    let interleaved = switches > PAGES;
    println!(
        "interleaved: {} (the pages' lines are mixed in the file)",
        if interleaved { "yes" } else { "no" }
    );
    Ok(())
}

async fn main_task() -> io::Result<()> {
    let path = std::env::temp_dir().join(format!(
        "tulip-aiofiles-append-{}-foundurls.txt",
        std::process::id()
    ));
    let lines = Queue::with_maxsize(1000);
    let writer_task = tulip::spawn({
        let (path, lines) = (path.clone(), lines.clone());
        async move { writer(&path, lines).await }
    });
    // `bulk_crawl_and_write`: one task per page, all at once.
    let crawlers: Vec<_> = (0..PAGES)
        .map(|page| tulip::spawn(crawl(page, lines.clone())))
        .collect();
    let found: usize = (0..PAGES).map(link_count).sum();
    for crawler in crawlers {
        crawler
            .await
            .expect("crawlers neither panic nor are cancelled");
    }
    println!("{PAGES} pages crawled by {PAGES} tasks, {found} links found");
    lines.join().await; // every line handed to the file
    lines.shutdown(false); // the writer's next get ends its loop
    let (count, bytes) = writer_task
        .await
        .expect("the writer neither panics nor is cancelled")?;
    println!("writer: {count} lines appended with {count} write_all calls, {bytes} bytes, closed");

    check(&path).await?;
    fs::remove_file(&path).await?;
    println!("removed the results file");
    Ok(())
}

/// The program.
pub(crate) fn run() {
    if let Err(err) = tulip::run(main_task()) {
        eprintln!("aiofiles_append: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
