//! areq: the concurrent crawler of the asyncio tutorial (`areq.py`), on tulip and tulip-http,
//! made into a real tool.
//!
//! The seed reads `urls.txt`, fetches every URL concurrently through one aiohttp
//! `ClientSession`, finds the `href`s of each page with a regular expression, and appends
//! `source_url<TAB>parsed_url` lines to `foundurls.txt`, logging each step. areq does the same
//! by default — same files, same TSV, same log lines — and adds what the tutorial's "next
//! steps" ask for: recursion with global de-duplication, politeness, the link graph, and a
//! clean stop on Ctrl+C that a later run resumes.
//!
//! | `areq.py` | areq |
//! |---|---|
//! | `fetch_html()`, `parse()` (fetching) | [`fetch`] |
//! | `HREF_RE.findall(html)`, `urljoin` | [`links`] (a real HTML tokenizer) |
//! | `resp.text()`'s choice of encoding | [`charset`] (the HTML standard's, no statistics) |
//! | `write_one()` with `aiofiles` | [`output`] (one buffered writer task) |
//! | `bulk_crawl_and_write()`, `asyncio.gather` | [`crawler`] |
//! | `set(map(str.strip, infile))` | [`input`] |
//! | `logging.basicConfig(format=…)` | [`logging`] |
//! | "next steps": aioredis seen-set | [`frontier`] |
//! | "next steps": networkx | [`graph`] |
//! | "next steps": a semaphore for politeness | [`frontier`] (per-host limit and delay), [`robots`], [`scope`] |
//! | the eight sites of `urls.txt` | [`demo`] (a generated site on 127.0.0.1) |
//!
//! The command line is in [`cli`]; `main` only calls it.
//!
//! # Examples
//!
//! Crawl a generated site two levels deep, in process:
//!
//! ```
//! use std::rc::Rc;
//! use areq::crawler::{Config, crawl};
//! use areq::demo::{DemoConfig, DemoSite, serve};
//!
//! # let dir = std::env::temp_dir().join(format!("areq-doc-lib-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! tulip::run(async {
//!     let site = Rc::new(DemoSite::new(DemoConfig { pages: 100, ..Default::default() }));
//!     let server = serve(site, "127.0.0.1:0").await.unwrap();
//!     let mut config = Config::new(dir.join("foundurls.txt"));
//!     config.urls = vec![server.base_url().join("/page/0").unwrap()];
//!     config.depth = 2;
//!     config.same_host = true;
//!     let summary = crawl(&config).await.unwrap();
//!     println!("{summary}");
//!     server.shutdown().await;
//! });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]

pub mod charset;
pub mod cli;
pub mod crawler;
pub mod demo;
pub mod error;
pub mod fetch;
pub mod frontier;
pub mod graph;
pub mod input;
pub mod links;
pub mod logging;
pub mod output;
pub mod progress;
pub mod robots;
pub mod scope;

pub use crawler::{Config, crawl, crawl_with};
pub use error::Error;
pub use progress::Summary;
