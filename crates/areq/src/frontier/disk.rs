//! [`DiskFrontier`]: the frontier kept in a directory (`areq --state DIR`), so a crawl stopped
//! by Ctrl+C or killed outright continues where it was (Scrapy's `JOBDIR`; the tutorial's
//! "keep track of crawled URLs" in a store). The design is in [`DiskFrontier`]'s docs.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use redb::{
    Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};
use tulip::sync::Lock;
use tulip::time::Instant;
use url::Url;

use super::memory::State;
use super::{Claim, Completion, Counters, Frontier, FrontierConfig, FrontierError, Job};

/// The database file inside the state directory.
pub const STATE_FILE: &str = "frontier.redb";

const JOBS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("jobs");
const SEEN: TableDefinition<'static, &'static str, u64> = TableDefinition::new("seen");
const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");

/// `meta` keys.
const FORMAT_KEY: &str = "areq-frontier-format";
const DONE_KEY: &str = "done";
const FAILED_KEY: &str = "failed";
const OUTPUT_KEY: &str = "output-len";
/// The layout version written in `meta`. Format 2 added the redirect chain to a job's row;
/// a format-1 state (whose rows have none) is read and upgraded when opened.
const FORMAT: u64 = 2;
/// The oldest layout this version reads.
const OLDEST_FORMAT: u64 = 1;
/// The `seen` value of a URL without a pending job.
const NO_JOB: u64 = u64::MAX;

/// The on-disk [`Frontier`]: the frontier kept in a directory (`areq --state DIR`), so a crawl
/// stopped by Ctrl+C or killed outright continues where it was. Clones share the same database.
///
/// The tutorial's "next steps" keep track of crawled URLs in a store (aioredis) so a URL is not
/// fetched twice; Scrapy's `JOBDIR` is the well-known shape of the same idea for one machine: a
/// directory that holds the queue and the seen-set of a crawl, given again to resume it. This
/// backend is that directory, with one file, `DIR/frontier.redb`, a [`redb`] database (pure
/// Rust, ACID, copy-on-write B-trees; no C library to build, unlike SQLite).
///
/// # What is stored
///
/// - `jobs`: every job queued or leased and not yet completed, by a sequence number (so the
///   queue keeps its order across runs), with its URL, depth and parent;
/// - `seen`: every URL ever queued or marked seen, with the sequence number of its job while
///   that job is pending;
/// - `meta`: the format version, the done and failed counts, and the length of the output
///   file that goes with the committed state (see below).
///
/// Scheduling — per-host queues, round robin, the per-host limit and the politeness delay — is
/// the in-memory frontier's own code, run on a copy of the queue loaded when the directory is
/// opened, so both backends behave identically. A lease is a job that left that in-memory queue
/// but still has its row in `jobs`: leases are not written (nothing else shares the directory —
/// redb locks the file), and a job leased when the process died is simply still pending when
/// the directory is opened again, so it goes back to the queue.
///
/// Every batch method is one write transaction ([`Frontier::finish`]: the links found and the
/// completions together), and [`claim`](Frontier::claim) and [`counters`](Frontier::counters)
/// touch no disk at all. The in-memory copy makes the memory use that of
/// [`MemoryFrontier`](super::MemoryFrontier) (the seen-set and the queue); the disk holds the
/// state for the next run.
///
/// # Exactly once in the output
///
/// The crawl writes a batch's output lines, flushes them to the file, then commits the batch's
/// completions with the file's new length ([`DiskFrontier::record_output_len`]). On the next
/// run the output is cut back to the committed length ([`DiskFrontier::output_len`]): lines of
/// pages whose completion never committed are removed, and those pages, still pending, are
/// fetched and written again. Lines of committed pages were flushed before the commit, so none
/// is lost.
///
/// A page whose request the server answered but whose completion was never committed (it was
/// in flight when the process was killed) is fetched again: "nothing fetched twice" holds for
/// completed pages; at most `--limit` pages can be in flight. After Ctrl+C the crawl lets the
/// pages in flight finish and commits them, so nothing at all is fetched twice.
///
/// # Durability and speed
///
/// Commits are written to the file (redb's `Durability::Eventual`) but not `fsync`ed: a killed
/// process loses nothing committed; a power cut may lose the last commits (the output file may
/// then be longer than the committed length, which the next run cuts back, or shorter, which is
/// reported as an error). [`DiskFrontier::set_fsync`] asks for an `fsync` per commit instead.
///
/// Each commit runs on a thread of tulip's pool ([`tulip::to_thread`]), one at a time and in
/// call order, so the pages in flight go on while it writes. Measured on the demo crawl (20,000
/// pages, release build, ext4 on a shared 2-core VM, noisy): commits on the loop thread took
/// about 1.6 ms each on average (8 ms at most, ~700 commits) and the crawl ran at 0.6× the
/// pages/s of the in-memory frontier; on the pool it runs at about 0.8×, with or without
/// `fsync` (the difference was within the noise there). The default stays without `fsync`:
/// covering a power cut would also need the output file synced before each commit.
///
/// # Examples
///
/// ```
/// use areq::frontier::{Completion, DiskFrontier, Frontier, FrontierConfig, Job};
/// use url::Url;
///
/// # let dir = std::env::temp_dir().join(format!("areq-doc-disk-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// tulip::run(async {
///     let frontier = DiskFrontier::open(&dir, FrontierConfig::default()).unwrap();
///     let jobs = ["http://h/1", "http://h/2"].map(|u| Job::seed(Url::parse(u).unwrap()));
///     frontier.push(jobs.to_vec()).await.unwrap();
///     let claim = frontier.claim(10, tulip::time::Instant::now()).await.unwrap();
///     frontier.complete(vec![Completion::ok(claim.jobs[0].clone())]).await.unwrap();
///     drop(frontier); // /2 is leased, not completed
///
///     let again = DiskFrontier::open(&dir, FrontierConfig::default()).unwrap();
///     let c = again.counters().await.unwrap();
///     assert_eq!((c.queued, c.in_flight, c.done, c.seen), (1, 0, 1, 2));
/// });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("areq-doc-diskf-{}", std::process::id()));
/// let frontier = areq::frontier::DiskFrontier::open(&dir, Default::default()).unwrap();
/// assert!(frontier.path().ends_with("frontier.redb"));
/// assert_eq!(frontier.output_len(), None);
/// # drop(frontier);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct DiskFrontier {
    inner: Rc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: Arc<Database>,
    /// Commits take turns, in call order.
    commit_turn: Lock,
    config: FrontierConfig,
    state: RefCell<State>,
    next_seq: Cell<u64>,
    /// Committed output length; the pending one is written by the next batch commit.
    output_len: Cell<Option<u64>>,
    pending_output_len: Cell<Option<u64>>,
    fsync: Cell<bool>,
}

impl fmt::Debug for DiskFrontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskFrontier")
            .field("path", &self.inner.path)
            .field("config", &self.inner.config)
            .field("counters", &self.inner.state.borrow().counters())
            .finish()
    }
}

impl DiskFrontier {
    /// Opens the state directory `dir` (created if missing) with these politeness settings:
    /// the queue, the seen-set and the counts of an earlier run are loaded, and the jobs that
    /// run had leased are queued again.
    ///
    /// # Errors
    ///
    /// A [`FrontierError`] naming the path when `dir` cannot be created or is not a directory,
    /// the database cannot be created or opened (not writable, in use by another areq, corrupt),
    /// or it is not an areq state.
    ///
    /// Reads the whole state, blocking the calling thread meanwhile (once, at the start).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = areq::frontier::DiskFrontier::open("/proc/version".as_ref(), Default::default())
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("/proc/version"));
    /// ```
    pub fn open(dir: &Path, config: FrontierConfig) -> Result<DiskFrontier, FrontierError> {
        let path = dir.join(STATE_FILE);
        let fail = |what: &str, e: &dyn fmt::Display| {
            FrontierError::new(format!("state {}: {what}: {e}", path.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            FrontierError::new(format!(
                "state directory {}: cannot create it: {e}",
                dir.display()
            ))
        })?;
        if !dir.is_dir() {
            return Err(FrontierError::new(format!(
                "state directory {}: not a directory",
                dir.display()
            )));
        }
        let db = Database::create(&path).map_err(|e| fail("cannot open the database", &e))?;
        let Loaded {
            seen,
            queue,
            counters,
            next_seq,
            output_len,
        } = load(&db)
            .map_err(|e| fail("cannot read the database", &e))?
            .map_err(|e| fail("cannot use it", &e))?;
        Ok(DiskFrontier {
            inner: Rc::new(Inner {
                path: path.clone(),
                db: Arc::new(db),
                commit_turn: Lock::new(),
                config,
                state: RefCell::new(State::restore(seen, queue, counters)),
                next_seq: Cell::new(next_seq),
                output_len: Cell::new(output_len),
                pending_output_len: Cell::new(None),
                fsync: Cell::new(false),
            }),
        })
    }

    /// The database file.
    ///
    /// # Examples
    ///
    /// See [`DiskFrontier`].
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The output file's length committed with the last batch (`None` before the first).
    ///
    /// # Examples
    ///
    /// See [`DiskFrontier`].
    pub fn output_len(&self) -> Option<u64> {
        self.inner.output_len.get()
    }

    /// Records `len` as the output file's length, committed with the next batch call (the
    /// crawl calls it after flushing a batch's lines, before [`Frontier::finish`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::frontier::{DiskFrontier, Frontier};
    /// # let dir = std::env::temp_dir().join(format!("areq-doc-outlen-{}", std::process::id()));
    /// tulip::run(async {
    ///     let frontier = DiskFrontier::open(&dir, Default::default()).unwrap();
    ///     frontier.record_output_len(22);
    ///     frontier.finish(vec![], vec![]).await.unwrap();
    ///     assert_eq!(frontier.output_len(), Some(22));
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn record_output_len(&self, len: u64) {
        self.inner.pending_output_len.set(Some(len));
    }

    /// Whether each commit waits for `fsync` (survives a power cut; default `false`: a commit
    /// survives the death of the process only). See [`DiskFrontier`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("areq-doc-fsync-{}", std::process::id()));
    /// let frontier = areq::frontier::DiskFrontier::open(&dir, Default::default()).unwrap();
    /// frontier.set_fsync(true);
    /// # drop(frontier);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn set_fsync(&self, fsync: bool) {
        self.inner.fsync.set(fsync);
    }

    fn error(&self, e: impl fmt::Display) -> FrontierError {
        FrontierError::new(format!("state {}: {e}", self.inner.path.display()))
    }

    /// One write transaction, on a thread of the pool: queue `added`, complete `done`, note
    /// `seen_only`, record the pending output length. Transactions commit in call order.
    async fn commit(
        &self,
        added: &[Job],
        done: &[Completion],
        seen_only: &[&str],
    ) -> Result<(), FrontierError> {
        let inner = &self.inner;
        if added.is_empty()
            && done.is_empty()
            && seen_only.is_empty()
            && inner.pending_output_len.get().is_none()
        {
            return Ok(());
        }
        let first_seq = inner.next_seq.get();
        inner.next_seq.set(first_seq + added.len() as u64);
        let batch = Batch {
            added: added
                .iter()
                .map(|job| (job.url.as_str().to_owned(), encode(job)))
                .collect(),
            done: done
                .iter()
                .map(|c| (c.job.url.as_str().to_owned(), c.succeeded))
                .collect(),
            seen_only: seen_only.iter().map(|u| (*u).to_owned()).collect(),
            first_seq,
            output_len: inner.pending_output_len.take(),
            durability: if inner.fsync.get() {
                Durability::Immediate
            } else {
                Durability::Eventual
            },
        };
        let output_len = batch.output_len;
        let _turn = inner.commit_turn.lock().await;
        let db = inner.db.clone();
        match tulip::to_thread(move || batch.write(&db)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.error(e)),
            Err(join) => return Err(self.error(format!("the commit failed: {join}"))),
        }
        if output_len.is_some() {
            inner.output_len.set(output_len);
        }
        Ok(())
    }
}

/// What one commit writes, owned so that it can go to a thread of the pool.
struct Batch {
    /// URL and encoded job of each job queued.
    added: Vec<(String, Vec<u8>)>,
    /// URL and success of each job completed.
    done: Vec<(String, bool)>,
    seen_only: Vec<String>,
    /// The sequence number of the first job of `added`.
    first_seq: u64,
    output_len: Option<u64>,
    durability: Durability,
}

impl Batch {
    fn write(self, db: &Database) -> Result<(), DbError> {
        let mut txn = db.begin_write()?;
        txn.set_durability(self.durability);
        {
            let mut jobs = txn.open_table(JOBS)?;
            let mut seen = txn.open_table(SEEN)?;
            let mut meta = txn.open_table(META)?;
            for (seq, (url, job)) in (self.first_seq..).zip(&self.added) {
                jobs.insert(seq, job.as_slice())?;
                seen.insert(url.as_str(), seq)?;
            }
            for url in &self.seen_only {
                seen.insert(url.as_str(), NO_JOB)?;
            }
            let (mut ok, mut failed) = (0, 0);
            for (url, succeeded) in &self.done {
                let row = seen.insert(url.as_str(), NO_JOB)?.map(|v| v.value());
                if let Some(row) = row
                    && row != NO_JOB
                {
                    jobs.remove(row)?;
                }
                if *succeeded {
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
            for (key, n) in [(DONE_KEY, ok), (FAILED_KEY, failed)] {
                if n > 0 {
                    let old = meta.get(key)?.map_or(0, |v| v.value());
                    meta.insert(key, old + n)?;
                }
            }
            if let Some(len) = self.output_len {
                meta.insert(OUTPUT_KEY, len)?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// A database error, as its message (redb's error type is large to move around).
#[derive(Debug)]
struct DbError(String);

impl<E: Into<redb::Error>> From<E> for DbError {
    fn from(err: E) -> DbError {
        DbError(err.into().to_string())
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Loaded {
    seen: HashSet<String>,
    queue: Vec<Job>,
    counters: Counters,
    next_seq: u64,
    output_len: Option<u64>,
}

/// Reads the whole state (creating the tables in a new database). The outer error is the
/// database's, the inner one a database that is not an areq state.
fn load(db: &Database) -> Result<Result<Loaded, String>, DbError> {
    let txn = db.begin_write()?;
    let foreign: Vec<String> = txn
        .list_tables()?
        .map(|t| t.name().to_owned())
        .filter(|n| !matches!(n.as_str(), "jobs" | "seen" | "meta"))
        .collect();
    if !foreign.is_empty() {
        return Ok(Err(format!(
            "not an areq state (it holds the table {:?})",
            foreign[0]
        )));
    }
    let loaded = {
        let jobs = txn.open_table(JOBS)?;
        let seen_table = txn.open_table(SEEN)?;
        let mut meta = txn.open_table(META)?;
        let format = meta.get(FORMAT_KEY)?.map(|v| v.value());
        match format {
            Some(FORMAT) => {}
            Some(old) if (OLDEST_FORMAT..FORMAT).contains(&old) => {
                meta.insert(FORMAT_KEY, FORMAT)?;
            }
            None if jobs.is_empty()? && seen_table.is_empty()? => {
                meta.insert(FORMAT_KEY, FORMAT)?;
            }
            other => {
                return Ok(Err(format!(
                    "not an areq state of this version (format {other:?}, expected {FORMAT})"
                )));
            }
        }
        let mut seen = HashSet::with_capacity(seen_table.len()? as usize);
        for row in seen_table.iter()? {
            let (url, _) = row?;
            seen.insert(url.value().to_owned());
        }
        let mut queue = Vec::with_capacity(jobs.len()? as usize);
        let mut next_seq = 0;
        for row in jobs.iter()? {
            let (seq, bytes) = row?;
            next_seq = seq.value() + 1;
            match decode(bytes.value()) {
                Some(job) => queue.push(job),
                None => {
                    return Ok(Err(format!("job {} is not readable", seq.value())));
                }
            }
        }
        let get = |key| -> Result<Option<u64>, DbError> { Ok(meta.get(key)?.map(|v| v.value())) };
        Loaded {
            counters: Counters {
                done: get(DONE_KEY)?.unwrap_or(0),
                failed: get(FAILED_KEY)?.unwrap_or(0),
                ..Counters::default()
            },
            output_len: get(OUTPUT_KEY)?,
            seen,
            queue,
            next_seq,
        }
    };
    txn.commit()?;
    Ok(Ok(loaded))
}

/// A job as stored: depth (4 bytes, little endian), URL, `\n`, parent URL (or nothing), then
/// `\n` and a URL for each redirect that led to it (format 2; a format-1 job has none). A
/// parsed URL holds no newline, so `\n` separates them unambiguously.
fn encode(job: &Job) -> Vec<u8> {
    let parent = job.parent.as_ref().map_or("", Url::as_str);
    let chain: usize = job.redirects.iter().map(|r| r.as_str().len() + 1).sum();
    let mut bytes = Vec::with_capacity(5 + job.url.as_str().len() + parent.len() + chain);
    bytes.extend_from_slice(&job.depth.to_le_bytes());
    bytes.extend_from_slice(job.url.as_str().as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(parent.as_bytes());
    for redirect in &job.redirects {
        bytes.push(b'\n');
        bytes.extend_from_slice(redirect.as_str().as_bytes());
    }
    bytes
}

fn decode(bytes: &[u8]) -> Option<Job> {
    let depth = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    let text = std::str::from_utf8(bytes.get(4..)?).ok()?;
    Job::from_fields(depth, text.split('\n'))
}

impl Frontier for DiskFrontier {
    async fn push(&self, jobs: Vec<Job>) -> Result<usize, FrontierError> {
        let mut added = Vec::new();
        self.inner.state.borrow_mut().push(jobs, Some(&mut added));
        self.commit(&added, &[], &[]).await?;
        Ok(added.len())
    }

    async fn mark_seen(&self, urls: &[Url]) -> Result<Vec<bool>, FrontierError> {
        let fresh = self.inner.state.borrow_mut().mark_seen(urls);
        let new: Vec<&str> = urls
            .iter()
            .zip(&fresh)
            .filter(|(_, f)| **f)
            .map(|(u, _)| u.as_str())
            .collect();
        self.commit(&[], &[], &new).await?;
        Ok(fresh)
    }

    async fn claim(&self, max: usize, now: Instant) -> Result<Claim, FrontierError> {
        Ok(self
            .inner
            .state
            .borrow_mut()
            .claim(&self.inner.config, max, now))
    }

    async fn complete(&self, done: Vec<Completion>) -> Result<(), FrontierError> {
        self.finish(done, Vec::new()).await.map(drop)
    }

    async fn finish(
        &self,
        completions: Vec<Completion>,
        found: Vec<Job>,
    ) -> Result<usize, FrontierError> {
        let added = {
            let mut state = self.inner.state.borrow_mut();
            let mut added = Vec::new();
            state.push(found, Some(&mut added));
            state.complete(&self.inner.config, &completions);
            added
        };
        self.commit(&added, &completions, &[]).await?;
        Ok(added.len())
    }

    async fn counters(&self) -> Result<Counters, FrontierError> {
        Ok(self.inner.state.borrow().counters())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_their_rows() {
        let seed = Job::seed(Url::parse("http://h/a").unwrap());
        let child = seed.child(Url::parse("http://h/b?x=1").unwrap());
        let moved = child.redirect_to(Url::parse("https://h/b").unwrap());
        let again = moved.redirect_to(Url::parse("https://h/c").unwrap());
        for job in [seed, child, moved, again] {
            assert_eq!(decode(&encode(&job)), Some(job));
        }
    }

    #[test]
    fn format_one_rows_still_read() {
        // Format 1: depth, URL, `\n`, parent; no redirects.
        let mut row = 3u32.to_le_bytes().to_vec();
        row.extend_from_slice(b"http://h/x\nhttp://h/");
        let job = decode(&row).unwrap();
        assert_eq!((job.depth, job.url.as_str()), (3, "http://h/x"));
        assert_eq!(job.parent.unwrap().as_str(), "http://h/");
        assert!(job.redirects.is_empty());
    }

    #[test]
    fn malformed_rows_are_refused() {
        let row = |text: &str| {
            let mut bytes = 1u32.to_le_bytes().to_vec();
            bytes.extend_from_slice(text.as_bytes());
            bytes
        };
        for bad in [
            row("http://h/x"),
            row("not a url\n"),
            row("http://h/x\nnot a url"),
            row("http://h/x\nhttp://h/\nnot a url"),
            vec![1, 2],
        ] {
            assert_eq!(decode(&bad), None, "{bad:?}");
        }
    }
}
