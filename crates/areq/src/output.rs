//! The output file (`foundurls.txt`): one writer task, whole pages at a time.
//!
//! The seed writes the header `source_url\tparsed_url` once, then each task opens the file with
//! `aiofiles`, appends its lines one awaited write at a time, and logs `Wrote results for
//! source URL: …`. Here one task owns the file ([`OutputWriter`]): the crawl hands it a page's
//! lines as one block, so lines never tear or interleave, and [`tulip::fs::File`]'s 128 KiB
//! buffer turns them into a few large writes on the thread pool. [`OutputWriter::close`]
//! flushes everything, on a normal end and on Ctrl+C alike.
//!
//! `--resume` reads an existing output with [`load_existing`]: the pages listed as sources are
//! not fetched again, and a last line cut off by a crash is removed before appending.
//!
//! # Examples
//!
//! ```
//! use areq::output::{OutputWriter, load_existing};
//! use url::Url;
//!
//! # let path = std::env::temp_dir().join(format!("areq-doc-output-{}.tsv", std::process::id()));
//! tulip::run(async {
//!     let out = OutputWriter::create(&path).await.unwrap();
//!     let page = Url::parse("http://h/").unwrap();
//!     out.write_page(&page, &[Url::parse("http://h/a").unwrap()]);
//!     assert_eq!(out.close().await.unwrap(), 1);
//!
//!     let text = std::fs::read_to_string(&path).unwrap();
//!     assert_eq!(text, "source_url\tparsed_url\nhttp://h/\thttp://h/a\n");
//!     let state = load_existing(&path).await.unwrap().unwrap();
//!     assert!(state.sources.contains("http://h/"));
//! });
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use tulip::fs::{File, OpenOptions};
use tulip::queue::Queue;
use tulip::sync::local_oneshot;
use tulip::task::Task;
use url::Url;

use crate::error::Error;

/// The first line of every output file, as the seed writes it.
pub const HEADER: &str = "source_url\tparsed_url\n";

/// One page's lines, handed to the writer task.
#[derive(Debug)]
struct Block {
    source: String,
    text: String,
    lines: u64,
}

/// What the writer task is handed.
#[derive(Debug)]
enum Message {
    Page(Block),
    /// Flush, then send the file's length.
    Flush(local_oneshot::Promise<io::Result<u64>>),
}

/// The writer task of an output file. See the [module docs](self).
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("areq-doc-writer-{}.tsv", std::process::id()));
/// tulip::run(async {
///     let out = areq::output::OutputWriter::create(&path).await.unwrap();
///     assert_eq!(out.close().await.unwrap(), 0);
/// });
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), areq::output::HEADER);
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug)]
pub struct OutputWriter {
    path: PathBuf,
    queue: Queue<Message>,
    task: Task<io::Result<u64>>,
}

impl OutputWriter {
    /// Creates (or truncates) the file at `path`, writes the header and starts the writer task
    /// on the current loop.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the path when the file cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tulip::run(areq::output::OutputWriter::create("/no/such/dir/out.tsv".as_ref()))
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("/no/such/dir/out.tsv"));
    /// ```
    pub async fn create(path: &Path) -> Result<OutputWriter, Error> {
        let wrap = |source| Error::Output {
            path: path.to_owned(),
            source,
        };
        let mut file = File::create(path).await.map_err(wrap)?;
        file.write_all(HEADER.as_bytes()).await.map_err(wrap)?;
        Ok(OutputWriter::start(path, file, HEADER.len() as u64))
    }

    /// Opens the file at `path` for appending (`--resume`); creates it with the header if it
    /// does not exist or is empty.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the path when the file cannot be opened.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("areq-doc-append-{}.tsv", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// tulip::run(async {
    ///     let out = areq::output::OutputWriter::append(&path).await.unwrap();
    ///     out.close().await.unwrap();
    /// });
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), areq::output::HEADER);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn append(path: &Path) -> Result<OutputWriter, Error> {
        let wrap = |source| Error::Output {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .await
            .map_err(wrap)?;
        let mut len = file.metadata().await.map_err(wrap)?.len();
        if len == 0 {
            file.write_all(HEADER.as_bytes()).await.map_err(wrap)?;
            len = HEADER.len() as u64;
        }
        Ok(OutputWriter::start(path, file, len))
    }

    fn start(path: &Path, file: File, len: u64) -> OutputWriter {
        let queue = Queue::new();
        let task = tulip::task::Builder::new()
            .name("areq-writer")
            .spawn(write_loop(file, len, queue.clone()));
        OutputWriter {
            path: path.to_owned(),
            queue,
            task,
        }
    }

    /// Writes to the Redis stream `key` instead of a file (`--output redis`): one stream entry
    /// per line, with the field `line` holding `source<TAB>link`, so lines from many crawlers
    /// never mix within a line. The header is not written. The lines queued while the writer
    /// task is busy go in one pipelined round trip; [`flush`](OutputWriter::flush) returns the
    /// lines written so far instead of a file length.
    ///
    /// A batch of lines that was sent when the server went away is sent again once it is back
    /// (see [`tulip_redis::Client`]): if the server had taken it before going, its lines are in
    /// the stream twice.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// tulip::run(async {
    ///     let client = tulip_redis::Client::open("redis://127.0.0.1:6379/0").await.unwrap();
    ///     let out = areq::output::OutputWriter::redis(client, "areq:{c}:output");
    ///     out.write_page(&url::Url::parse("http://h/").unwrap(), &[url::Url::parse("http://h/a").unwrap()]);
    ///     assert_eq!(out.close().await.unwrap(), 1);
    /// });
    /// ```
    pub fn redis(client: tulip_redis::Client, key: &str) -> OutputWriter {
        let queue = Queue::new();
        let path = PathBuf::from(format!("redis://{}/ stream {key}", client.addr()));
        let task = tulip::task::Builder::new()
            .name("areq-writer")
            .spawn(stream_loop(client, key.to_owned(), queue.clone()));
        OutputWriter { path, queue, task }
    }

    /// Queues the lines `source<TAB>link` of one page; they reach the file together. A page
    /// without links writes nothing (as in the seed).
    ///
    /// Never waits: the lines are queued in memory for the writer task.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("areq-doc-page-{}.tsv", std::process::id()));
    /// tulip::run(async {
    ///     let out = areq::output::OutputWriter::create(&path).await.unwrap();
    ///     out.write_page(&url::Url::parse("http://h/").unwrap(), &[]);
    ///     assert_eq!(out.close().await.unwrap(), 0);
    /// });
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn write_page(&self, source: &Url, links: &[Url]) {
        if links.is_empty() {
            return;
        }
        let source_str = source.as_str();
        let mut text = String::with_capacity(links.len() * (source_str.len() + 48));
        for link in links {
            text.push_str(source_str);
            text.push('\t');
            text.push_str(link.as_str());
            text.push('\n');
        }
        let block = Block {
            source: source_str.to_owned(),
            text,
            lines: links.len() as u64,
        };
        // The queue is unbounded and only shut down by `close`, which consumes `self`.
        let _ = self.queue.put_nowait(Message::Page(block));
    }

    /// Waits until every line queued so far is written to the file (handed to the operating
    /// system: it survives the death of the process, not a power cut), and returns the file's
    /// length then.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the path when a write failed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("areq-doc-flush-{}.tsv", std::process::id()));
    /// tulip::run(async {
    ///     let out = areq::output::OutputWriter::create(&path).await.unwrap();
    ///     out.write_page(&url::Url::parse("http://h/").unwrap(), &[url::Url::parse("http://h/a").unwrap()]);
    ///     let len = out.flush().await.unwrap();
    ///     assert_eq!(len, std::fs::metadata(&path).unwrap().len());
    ///     out.close().await.unwrap();
    /// });
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn flush(&self) -> Result<u64, Error> {
        let wrap = |source| Error::Output {
            path: self.path.clone(),
            source,
        };
        let (promise, receiver) = local_oneshot::channel();
        if self.queue.put_nowait(Message::Flush(promise)).is_err() {
            return Err(wrap(io::Error::other("the writer is closed")));
        }
        match receiver.await {
            Ok(result) => result.map_err(wrap),
            Err(_) => Err(wrap(io::Error::other("the writer task ended"))),
        }
    }

    /// Lets the writer task write everything queued, flush and close the file. Returns how
    /// many lines (after the header) this writer wrote.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the path when a write or the flush failed.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if dropped half-way, the writer task goes on in the background and the
    /// file is still completed, but its error, if any, is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("areq-doc-close-{}.tsv", std::process::id()));
    /// tulip::run(async {
    ///     let out = areq::output::OutputWriter::create(&path).await.unwrap();
    ///     assert_eq!(out.close().await.unwrap(), 0);
    /// });
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn close(self) -> Result<u64, Error> {
        self.queue.shutdown(false);
        let path = self.path;
        match self.task.await {
            Ok(result) => result.map_err(|source| Error::Output { path, source }),
            Err(join) => Err(Error::Output {
                path,
                source: io::Error::other(format!("the writer task ended: {join}")),
            }),
        }
    }
}

/// The writer task: blocks in order, each in one piece.
async fn write_loop(mut file: File, mut len: u64, queue: Queue<Message>) -> io::Result<u64> {
    let mut lines = 0;
    while let Ok(message) = queue.get().await {
        match message {
            Message::Page(block) => {
                file.write_all(block.text.as_bytes()).await?;
                len += block.text.len() as u64;
                lines += block.lines;
                tracing::info!("Wrote results for source URL: {}", block.source);
            }
            Message::Flush(promise) => {
                answer_flush(promise, file.flush().await.map(|()| len))?;
            }
        }
    }
    file.close().await?;
    Ok(lines)
}

/// Hands a flush's outcome to whoever asked; a failure also ends the writer task.
fn answer_flush(
    promise: local_oneshot::Promise<io::Result<u64>>,
    result: io::Result<u64>,
) -> io::Result<()> {
    let failed = result
        .as_ref()
        .err()
        .map(|e| io::Error::new(e.kind(), e.to_string()));
    let _ = promise.set_result(result);
    failed.map_or(Ok(()), Err)
}

/// Lines sent in one pipeline at most.
const STREAM_BATCH: usize = 1024;

/// The writer task of a Redis stream: whole pages, many per round trip.
async fn stream_loop(
    client: tulip_redis::Client,
    key: String,
    queue: Queue<Message>,
) -> io::Result<u64> {
    let mut lines = 0;
    let mut pending: Vec<tulip_redis::Cmd> = Vec::new();
    let send = |pending: &mut Vec<tulip_redis::Cmd>| {
        let batch = std::mem::take(pending);
        let client = client.clone();
        async move {
            if batch.is_empty() {
                return Ok(());
            }
            let replies = client.pipeline(&batch).await.map_err(io::Error::other)?;
            match replies.iter().find_map(|r| match r {
                tulip_redis::Value::Error(e) => Some(e.clone()),
                _ => None,
            }) {
                Some(e) => Err(io::Error::other(format!("XADD failed: {e}"))),
                None => Ok(()),
            }
        }
    };
    loop {
        let message = match queue.get_nowait() {
            Ok(message) => message,
            Err(_) => {
                send(&mut pending).await?;
                match queue.get().await {
                    Ok(message) => message,
                    Err(_) => break,
                }
            }
        };
        match message {
            Message::Page(block) => {
                for line in block.text.lines() {
                    pending.push(
                        tulip_redis::Cmd::new("XADD")
                            .arg(key.as_str())
                            .arg("*")
                            .arg("line")
                            .arg(line),
                    );
                }
                lines += block.lines;
                tracing::info!("Wrote results for source URL: {}", block.source);
                if pending.len() >= STREAM_BATCH {
                    send(&mut pending).await?;
                }
            }
            Message::Flush(promise) => {
                answer_flush(promise, send(&mut pending).await.map(|()| lines))?;
            }
        }
    }
    send(&mut pending).await?;
    Ok(lines)
}

/// What an existing output file holds, for `--resume`.
///
/// # Examples
///
/// ```
/// let state = areq::output::ResumeState::default();
/// assert!(state.sources.is_empty() && state.edges.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct ResumeState {
    /// The pages listed as sources: crawled already.
    pub sources: HashSet<String>,
    /// Every `(source, link)` line, in file order.
    pub edges: Vec<(String, String)>,
    /// Bytes removed from the end: a last line cut off mid-way.
    pub truncated: u64,
}

/// Reads the output file at `path` for `--resume`: `None` if it does not exist or is empty.
/// A last line without its newline (a crash mid-write) is cut off the file.
///
/// # Errors
///
/// [`Error::Output`] naming the path when it cannot be read, or does not start with the
/// [`HEADER`] (it is then not an areq output, and is left alone).
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("areq-doc-torn-{}.tsv", std::process::id()));
/// std::fs::write(&path, "source_url\tparsed_url\nhttp://h/\thttp://h/a\nhttp://h/\thttp://h/b").unwrap();
/// let state = tulip::run(areq::output::load_existing(&path)).unwrap().unwrap();
/// assert_eq!(state.edges.len(), 1);
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "source_url\tparsed_url\nhttp://h/\thttp://h/a\n");
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub async fn load_existing(path: &Path) -> Result<Option<ResumeState>, Error> {
    let wrap = |source| Error::Output {
        path: path.to_owned(),
        source,
    };
    let bytes = match tulip::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(wrap(e)),
    };
    if bytes.is_empty() {
        return Ok(None);
    }
    if !bytes.starts_with(HEADER.as_bytes()) {
        return Err(wrap(io::Error::new(
            io::ErrorKind::InvalidData,
            "it does not start with the header `source_url<TAB>parsed_url`; not resuming",
        )));
    }
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut state = ResumeState {
        truncated: (bytes.len() - complete) as u64,
        ..ResumeState::default()
    };
    if state.truncated > 0 {
        let file = OpenOptions::new().write(true).open(path).await;
        let mut file = file.map_err(wrap)?;
        file.set_len(complete as u64).await.map_err(wrap)?;
        file.close().await.map_err(wrap)?;
    }
    let text = String::from_utf8_lossy(&bytes[HEADER.len()..complete]);
    for line in text.lines() {
        if let Some((source, link)) = line.split_once('\t') {
            state.sources.insert(source.to_owned());
            state.edges.push((source.to_owned(), link.to_owned()));
        }
    }
    Ok(Some(state))
}
