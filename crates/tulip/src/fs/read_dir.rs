//! [`read_dir`]: a directory's entries as a stream, fetched in batches.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::error::with_path;
use super::pool;
use crate::blocking::BlockingTask;

/// Entries fetched per pool job: a directory of a few hundred entries costs a few hops, not
/// one per entry.
const BATCH: usize = 128;

/// A batch of entries and the directory handle to go on with (`None` once it is exhausted).
type Batch = (Option<std::fs::ReadDir>, VecDeque<io::Result<DirEntry>>);

/// The entries of directory `path` (without `.` and `..`), as a [`Stream`] of
/// [`DirEntry`]s, fetched from the OS in batches of 128 per pool job: `os.scandir` for async
/// code (aiofiles' `aiofiles.os.scandir`).
///
/// # Errors
///
/// Opening the directory fails with an error naming it (`NotFound`, `NotADirectory`,
/// `PermissionDenied`, …); an error while listing comes as an item of the stream.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// tulip::run(async {
///     let mut entries = tulip::fs::read_dir(".").await.unwrap();
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next().await {
///         names.push(entry.unwrap().file_name());
///     }
///     assert!(names.iter().any(|name| name == "Cargo.toml"));
/// });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let opened = {
        let path = path.clone();
        pool::run(move || {
            let dir =
                std::fs::read_dir(&path).map_err(|err| with_path("read directory", &path, err))?;
            Ok(next_batch(dir, &path))
        })
        .await
    };
    let (dir, entries) = opened.map_err(|err| with_path("read directory", &path, err))?;
    Ok(ReadDir {
        path,
        entries,
        state: State::Idle(dir),
    })
}

/// Reads up to [`BATCH`] entries on the pool thread, with their file types when the directory
/// listing gives them for free.
fn next_batch(mut dir: std::fs::ReadDir, path: &Path) -> Batch {
    let mut entries = VecDeque::with_capacity(BATCH);
    for _ in 0..BATCH {
        match dir.next() {
            Some(Ok(entry)) => entries.push_back(Ok(DirEntry::new(entry))),
            Some(Err(err)) => {
                entries.push_back(Err(with_path("read an entry of directory", path, err)))
            }
            None => return (None, entries),
        }
    }
    (Some(dir), entries)
}

/// The stream of a directory's entries, from [`read_dir`].
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let mut entries = tulip::fs::read_dir("src").await.unwrap();
///     let mut count = 0;
///     while let Some(entry) = entries.next_entry().await.unwrap() {
///         assert!(entry.path().starts_with("src"));
///         count += 1;
///     }
///     assert!(count > 0);
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct ReadDir {
    path: Arc<Path>,
    /// Entries fetched and not yet handed out.
    entries: VecDeque<io::Result<DirEntry>>,
    state: State,
}

enum State {
    /// The directory handle, or `None` when every entry has been fetched.
    Idle(Option<std::fs::ReadDir>),
    Busy(BlockingTask<io::Result<Batch>>),
}

impl ReadDir {
    /// The next entry, or `None` when there are no more: the stream's next item, without
    /// needing `StreamExt`.
    ///
    /// # Errors
    ///
    /// An error reading the directory, naming it.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a batch still being fetched is kept for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut entries = tulip::fs::read_dir(".").await.unwrap();
    ///     let first = entries.next_entry().await.unwrap();
    ///     assert!(first.is_some());
    /// });
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_entry(cx)).await.transpose()
    }

    fn poll_entry(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<DirEntry>>> {
        loop {
            if let Some(entry) = self.entries.pop_front() {
                return Poll::Ready(Some(entry));
            }
            match &mut self.state {
                State::Idle(dir) => {
                    let Some(dir) = dir.take() else {
                        return Poll::Ready(None);
                    };
                    let path = self.path.clone();
                    self.state = State::Busy(pool::spawn(move || Ok(next_batch(dir, &path))));
                }
                State::Busy(task) => {
                    let output = ready!(Pin::new(task).poll(cx));
                    match pool::output(output).and_then(|batch| batch) {
                        Ok((dir, entries)) => {
                            self.entries = entries;
                            self.state = State::Idle(dir);
                        }
                        Err(err) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Some(Err(with_path(
                                "read directory",
                                &self.path,
                                err,
                            ))));
                        }
                    }
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_entry(cx)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir")
            .field("path", &self.path)
            .field("fetched", &self.entries.len())
            .field("busy", &matches!(self.state, State::Busy(_)))
            .finish()
    }
}

/// One entry of a directory, from [`ReadDir`]: its name and path at once, its file type and
/// metadata with a pool job (the file type is usually known already, from the listing).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let mut entries = tulip::fs::read_dir(".").await.unwrap();
///     while let Some(entry) = entries.next_entry().await.unwrap() {
///         if entry.file_name() == "src" {
///             assert!(entry.file_type().await.unwrap().is_dir());
///             assert!(entry.metadata().await.unwrap().is_dir());
///         }
///     }
/// });
/// ```
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read on the pool thread with the entry: free when the listing carries it (`d_type`).
    file_type: Option<FileType>,
}

impl DirEntry {
    fn new(entry: std::fs::DirEntry) -> DirEntry {
        let file_type = entry.file_type().ok();
        DirEntry {
            std: Arc::new(entry),
            file_type,
        }
    }

    /// The directory's path joined with the entry's name.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut entries = tulip::fs::read_dir("src").await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert_eq!(entry.path().parent(), Some(std::path::Path::new("src")));
    /// });
    /// ```
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's bare name.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut entries = tulip::fs::read_dir("src").await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert_eq!(Some(entry.file_name().as_os_str()), entry.path().file_name());
    /// });
    /// ```
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number, from the listing.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut entries = tulip::fs::read_dir(".").await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert!(entry.ino() > 0);
    /// });
    /// ```
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symlink (`lstat`), on the thread pool.
    ///
    /// # Errors
    ///
    /// The entry may have gone since the listing (`NotFound`); the error names its path.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut entries = tulip::fs::read_dir(".").await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     let _len = entry.metadata().await.unwrap().len();
    /// });
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.std.clone();
        pool::run(move || entry.metadata())
            .await
            .map_err(|err| with_path("read metadata of", &self.path(), err))
    }

    /// The entry's type (file, directory, symlink, …), not following a symlink. Usually known
    /// from the listing, so it does not leave the loop.
    ///
    /// # Errors
    ///
    /// When the listing did not say and the entry has gone since; the error names its path.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut entries = tulip::fs::read_dir(".").await.unwrap();
    ///     while let Some(entry) = entries.next_entry().await.unwrap() {
    ///         if entry.file_name() == "Cargo.toml" {
    ///             assert!(entry.file_type().await.unwrap().is_file());
    ///         }
    ///     }
    /// });
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let entry = self.std.clone();
        pool::run(move || entry.file_type())
            .await
            .map_err(|err| with_path("read the type of", &self.path(), err))
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
