//! [`File`]: an open file whose small reads and writes are served from memory on the loop, and
//! whose system calls run on the thread pool in large chunks.

use std::any::Any;
use std::fmt;
use std::fs::{File as StdFile, Metadata};
use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

use super::error::{pool_gone, with_path};
use super::lines::Lines;
use super::open_options::OpenOptions;
use super::pool;
use crate::blocking::BlockingTask;

/// Writes collect in memory until this many bytes are waiting, then go to the pool in one job
/// while the next writes fill a second buffer. Measured writing 64 MiB in 12-byte writes
/// (best of 7, 2 cores): 16 KiB buffers 195 ms, 64 KiB 114 ms, 128 KiB 69 ms, 256 KiB 65 ms,
/// 1 MiB 67 ms; in 4 KiB writes, 77 / 34 / 22 / 30 / 20 ms. 128 KiB is where the gain stops,
/// and two such buffers per written file stay small.
pub(crate) const WRITE_BUFFER: usize = 128 * 1024;

/// A read fetches at least this much per pool job and serves smaller reads from memory.
/// Measured reading 64 MiB in 12-byte reads (best of 7): 16 KiB 98 ms, 32 KiB 70 ms, 64 KiB
/// 53 ms, 128 KiB 49 ms, 256 KiB 52 ms.
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// A single read into a larger slice fetches up to this much in one job.
const MAX_READ: usize = 8 * 1024 * 1024;

/// An open file on the loop: aiofiles' file object, asyncio's answer to `open()`.
///
/// Reads and writes are buffered so that a small call costs a copy, not a thread hop:
///
/// - a write copies into a 128 KiB buffer and returns at once; a full buffer goes to the
///   thread pool in one job while the next writes fill a second buffer; [`flush`](File::flush)
///   writes everything out and waits (errors of background writes are reported there, or by
///   the next write);
/// - a read fetches at least 64 KiB per job and serves the following reads from memory;
/// - switching between reading and writing, or seeking, keeps the position right: pending
///   writes go out first, and data read ahead but not consumed is dropped (the file position
///   is moved back over it before the next write).
///
/// The byte traits of the async ecosystem are implemented: [`AsyncRead`], [`AsyncBufRead`],
/// [`AsyncWrite`] and [`AsyncSeek`] (`futures-io`), so `futures-lite`'s or `futures`' extension
/// methods and copy helpers work on a `File`.
///
/// # Dropping a file with unwritten data
///
/// Like a Python file object, a `File` loses nothing when it goes away: if it is dropped with
/// buffered writes, they are handed to the loop's thread pool as a last, detached job, which
/// runs after any write still in flight, and closing the loop waits for it. Off a loop, the
/// drop writes them on the current thread. An error there can only be logged (to `tracing`
/// or stderr); call [`close`](File::close) (or [`flush`](File::flush)) to see it.
///
/// # Examples
///
/// ```
/// use tulip::fs::File;
///
/// # let path = std::env::temp_dir().join(format!("tulip-doc-file-{}.txt", std::process::id()));
/// tulip::run(async {
///     let mut file = File::create(&path).await?;
///     for i in 0..1000 {
///         file.write_all(format!("line {i}\n").as_bytes()).await?; // no thread hop each
///     }
///     file.close().await?; // flushes, reports any write error
///
///     let text = tulip::fs::read_to_string(&path).await?;
///     assert_eq!(text.lines().count(), 1000);
///     # tulip::fs::remove_file(&path).await?;
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct File {
    std: Arc<StdFile>,
    /// The path it was opened with, for error messages (`None` for [`File::from_std`]).
    path: Option<Arc<Path>>,
    /// The one job in flight, if any: jobs on a file run one at a time, in order.
    job: Option<Job>,
    /// Written by the user, not yet handed to the pool.
    wbuf: Vec<u8>,
    /// The other write buffer, back from the pool and empty.
    spare: Vec<u8>,
    /// Bytes to move the OS position back before the next job: read-ahead dropped for a write.
    rewind: u64,
    /// Read-ahead: `rbuf[rpos..rend]` was fetched and not yet read.
    rbuf: Vec<u8>,
    rpos: usize,
    rend: usize,
    /// A read job found the end of the file; the next read reports it.
    eof: bool,
    /// The error of a job nobody was waiting for (a background write), for the next call.
    error: Option<io::Error>,
    /// The result of the last finished operation job, with its ticket.
    finished: Option<(u64, io::Result<Box<dyn Any + Send + Sync>>)>,
    next_ticket: u64,
    /// The seek started by `poll_seek` and its target, so a repeated poll continues it.
    seeking: Option<(u64, SeekFrom)>,
}

struct Job {
    task: BlockingTask<Done>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Write,
    Read,
    /// Any other operation, with the words its errors use.
    Op(&'static str),
}

impl Kind {
    fn operation(self) -> &'static str {
        match self {
            Kind::Write => "write to",
            Kind::Read => "read from",
            Kind::Op(operation) => operation,
        }
    }
}

/// What a job hands back to the loop.
enum Done {
    /// The write buffer, emptied, and the outcome.
    Wrote(Vec<u8>, io::Result<()>),
    /// The read buffer, how many bytes of it are data, and the error that stopped the read.
    Read(Vec<u8>, usize, Option<io::Error>),
    /// An operation's ticket and result.
    Op(u64, io::Result<Box<dyn Any + Send + Sync>>),
}

/// What an operation does with data read ahead and not yet consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadAhead {
    /// Keep it: the operation neither moves the position nor changes data (metadata, sync).
    Keep,
    /// Drop it and move the OS position back over it first, so the OS position is the
    /// reader's (seek, set_len, into_std).
    Rewind,
}

impl File {
    pub(crate) fn from_parts(std: StdFile, path: Option<Arc<Path>>) -> File {
        File {
            std: Arc::new(std),
            path,
            job: None,
            wbuf: Vec::new(),
            spare: Vec::new(),
            rewind: 0,
            rbuf: Vec::new(),
            rpos: 0,
            rend: 0,
            eof: false,
            error: None,
            finished: None,
            next_ticket: 0,
            seeking: None,
        }
    }

    /// Opens a file for reading: aiofiles' `open(path)` / `open(path, "r")`.
    ///
    /// # Errors
    ///
    /// Any error of `open(2)`, naming the path: `NotFound`, `PermissionDenied`, …
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use tulip::fs::File;
    ///
    /// tulip::run(async {
    ///     let mut file = File::open("Cargo.toml").await.unwrap();
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).await.unwrap();
    ///     assert!(text.contains("[package]"));
    ///
    ///     let err = File::open("/nope/x.txt").await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::NotFound);
    ///     assert_eq!(
    ///         err.to_string(),
    ///         "failed to open `/nope/x.txt`: No such file or directory (os error 2)"
    ///     );
    /// });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates a file for writing, truncating it if it exists: aiofiles' `open(path, "w")`.
    ///
    /// # Errors
    ///
    /// Any error of `open(2)`, naming the path: `NotFound` for a missing parent directory,
    /// `PermissionDenied`, `IsADirectory`, …
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::File;
    ///
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-create-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = File::create(&path).await.unwrap();
    ///     file.write_all(b"hello").await.unwrap();
    ///     file.flush().await.unwrap();
    ///     assert_eq!(tulip::fs::read(&path).await.unwrap(), b"hello");
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Options for opening a file (read, write, append, create_new, mode, …); the same as
    /// [`OpenOptions::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::File;
    ///
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-options-{}.log", std::process::id()));
    /// tulip::run(async {
    ///     let mut log = File::options().append(true).create(true).open(&path).await.unwrap();
    ///     log.write_all(b"one line\n").await.unwrap();
    ///     log.close().await.unwrap();
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a file opened by `std`. Its error messages name the path the OS reports for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::File;
    ///
    /// tulip::run(async {
    ///     let std = std::fs::File::open("Cargo.toml").unwrap();
    ///     let mut file = File::from_std(std);
    ///     let mut start = [0; 9];
    ///     file.read_exact(&mut start).await.unwrap();
    ///     assert_eq!(&start, b"[package]");
    /// });
    /// ```
    pub fn from_std(file: StdFile) -> File {
        File::from_parts(file, None)
    }

    /// Flushes pending writes, puts the OS position where this `File`'s reader is, and returns
    /// the `std` file.
    ///
    /// # Errors
    ///
    /// The error of a pending write, or of moving the position back over read-ahead.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use tulip::fs::File;
    ///
    /// tulip::run(async {
    ///     let mut file = File::open("Cargo.toml").await.unwrap();
    ///     let mut first = [0; 1];
    ///     file.read_exact(&mut first).await.unwrap(); // reads ahead a whole chunk
    ///     let mut std = file.into_std().await.unwrap();
    ///     let mut next = [0; 8];
    ///     std.read_exact(&mut next).unwrap(); // continues right after the byte read
    ///     assert_eq!(&next, b"package]");
    /// });
    /// ```
    pub async fn into_std(mut self) -> io::Result<StdFile> {
        if self.rend > self.rpos || self.job.is_some() || !self.wbuf.is_empty() {
            self.op("seek in", ReadAhead::Rewind, |_| Ok(())).await?;
        }
        let shared = self.std.clone();
        drop(self);
        // No job holds the file any more (the last one finished above), so this is the only
        // reference; `try_clone` is a fallback that shares the same open file description.
        match Arc::try_unwrap(shared) {
            Ok(file) => Ok(file),
            Err(shared) => shared.try_clone(),
        }
    }

    /// Reads into `buf` and returns how many bytes were read; 0 at the end of the file (or for
    /// an empty `buf`). Served from the read-ahead when it holds data; otherwise one pool job
    /// fetches at least 64 KiB.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if it is dropped before completing, no data was read, and
    /// data that arrives afterwards is kept for the next read.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     let n = file.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], &b"[pac"[..n]);
    /// });
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_buf(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` (naming the path) if the file ends first; then the bytes that were
    /// there have been read into `buf`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if dropped half-way, the bytes read so far are in `buf` but the caller
    /// does not learn how many.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut head = [0; 9];
    ///     file.read_exact(&mut head).await.unwrap();
    ///     assert_eq!(&head, b"[package]");
    /// });
    /// ```
    pub async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => {
                    let eof = io::Error::new(ErrorKind::UnexpectedEof, "the file ended early");
                    return Err(with_path("read from", &self.name(), eof));
                }
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Reads everything up to the end of the file, appends it to `buf` and returns how many
    /// bytes that was. The rest of the file is read in one pool job.
    ///
    /// # Errors
    ///
    /// A read error, naming the path; the bytes read before it have been appended to `buf`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in the sense that no data is lost: what was appended to `buf` stays there,
    /// and what the job reads after the drop is kept for the next read.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut bytes = Vec::new();
    ///     let n = file.read_to_end(&mut bytes).await.unwrap();
    ///     assert_eq!(n, std::fs::metadata("Cargo.toml").unwrap().len() as usize);
    /// });
    /// ```
    pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let start = buf.len();
        poll_fn(|cx| self.poll_flush_all(cx)).await?;
        self.drain_read_ahead(buf);
        self.submit_read_to_end();
        poll_fn(|cx| self.poll_job(cx)).await;
        self.eof = false; // read_to_end has consumed the end of file
        self.drain_read_ahead(buf);
        if self.rbuf.capacity() > 2 * READ_BUFFER {
            self.rbuf = Vec::new();
        }
        match self.error.take() {
            Some(err) => Err(err),
            None => Ok(buf.len() - start),
        }
    }

    /// Reads everything up to the end of the file and appends it to `buf` as text.
    ///
    /// # Errors
    ///
    /// A read error, or `InvalidData` if the bytes are not UTF-8 (then `buf` is unchanged);
    /// both name the path.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: bytes read before the drop are lost to the caller.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).await.unwrap();
    ///     assert!(text.starts_with("[package]"));
    /// });
    /// ```
    pub async fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        self.read_to_end(&mut bytes).await?;
        match String::from_utf8(bytes) {
            Ok(text) => {
                buf.push_str(&text);
                Ok(text.len())
            }
            Err(err) => {
                let err = io::Error::new(ErrorKind::InvalidData, err.utf8_error());
                Err(with_path("read text from", &self.name(), err))
            }
        }
    }

    /// Writes some of `buf` and returns how many bytes that was. The bytes are copied into the
    /// write buffer; this waits only when both buffers are full.
    ///
    /// # Errors
    ///
    /// The error of an earlier background write, naming the path.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if it is dropped before completing, nothing was written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-write-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     assert_eq!(file.write(b"abc").await.unwrap(), 3);
    ///     file.close().await.unwrap();
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_buf(cx, buf)).await
    }

    /// Writes all of `buf` (into the write buffer; see [`File`]). aiofiles' `await f.write(s)`.
    ///
    /// # Errors
    ///
    /// The error of an earlier background write, naming the path.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if dropped half-way, a prefix of `buf` may have been written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-write-all-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"hello, ").await.unwrap();
    ///     file.write_all(b"world\n").await.unwrap();
    ///     file.flush().await.unwrap();
    ///     assert_eq!(tulip::fs::read_to_string(&path).await.unwrap(), "hello, world\n");
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Writes out everything buffered and waits until the OS has it (not the disk: see
    /// [`sync_all`](File::sync_all)).
    ///
    /// # Errors
    ///
    /// The first error of the writes since the last flush, naming the path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the writes go on; a later call waits for them.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-flush-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"data").await.unwrap();
    ///     assert_eq!(std::fs::read(&path).unwrap(), b""); // still in the buffer
    ///     file.flush().await.unwrap();
    ///     assert_eq!(std::fs::read(&path).unwrap(), b"data");
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_all(cx)).await
    }

    /// Flushes and closes the file, reporting any write error: aiofiles' `await f.close()`.
    /// Dropping the file also writes pending data, but can only log an error.
    ///
    /// # Errors
    ///
    /// The first error of the writes since the last flush, naming the path.
    ///
    /// # Cancel safety
    ///
    /// Nothing is lost if it is dropped: the file is dropped with it, which writes what is
    /// still pending (see [`File`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-close-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"kept").await.unwrap();
    ///     file.close().await.unwrap();
    ///     assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn close(mut self) -> io::Result<()> {
        self.flush().await
    }

    /// Flushes, then asks the OS to put data and metadata on the disk (`fsync`).
    ///
    /// # Errors
    ///
    /// The error of a pending write or of `fsync`, naming the path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call's job still runs, and the next call on the file waits
    /// for it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-sync-all-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"durable").await.unwrap();
    ///     file.sync_all().await.unwrap();
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.op("sync", ReadAhead::Keep, StdFile::sync_all).await
    }

    /// Like [`sync_all`](File::sync_all) without the metadata that reading the file back does
    /// not need (`fdatasync`).
    ///
    /// # Errors
    ///
    /// The error of a pending write or of `fdatasync`, naming the path.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call's job still runs, and the next call on the file waits
    /// for it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-sync-data-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"durable").await.unwrap();
    ///     file.sync_data().await.unwrap();
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.op("sync", ReadAhead::Keep, StdFile::sync_data).await
    }

    /// Moves the position (after writing out pending data) and returns the new position from
    /// the start of the file. `SeekFrom::Current` counts from where this `File`'s reader is,
    /// not from the end of its read-ahead.
    ///
    /// # Errors
    ///
    /// The error of a pending write or of `lseek` (`InvalidInput` before the start), naming
    /// the path.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped seek may still move the position.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::SeekFrom;
    ///
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     assert_eq!(file.seek(SeekFrom::Start(1)).await.unwrap(), 1);
    ///     let mut word = [0; 7];
    ///     file.read_exact(&mut word).await.unwrap();
    ///     assert_eq!(&word, b"package");
    ///     assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 8);
    /// });
    /// ```
    pub async fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        poll_fn(|cx| self.poll_seek_to(cx, pos)).await
    }

    /// The current position: `seek(SeekFrom::Current(0))`.
    ///
    /// # Errors
    ///
    /// As [`seek`](File::seek).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut two = [0; 2];
    ///     file.read_exact(&mut two).await.unwrap();
    ///     assert_eq!(file.stream_position().await.unwrap(), 2);
    /// });
    /// ```
    pub async fn stream_position(&mut self) -> io::Result<u64> {
        self.seek(SeekFrom::Current(0)).await
    }

    /// Truncates or extends the file to `size` bytes (after writing out pending data). The
    /// position does not move.
    ///
    /// # Errors
    ///
    /// The error of a pending write or of `ftruncate` (`InvalidInput` for a file not open for
    /// writing), naming the path.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may still change the length.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-set-len-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"0123456789").await.unwrap();
    ///     file.set_len(4).await.unwrap();
    ///     assert_eq!(file.metadata().await.unwrap().len(), 4);
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.op("set the length of", ReadAhead::Rewind, move |file| {
            file.set_len(size)
        })
        .await
    }

    /// The file's metadata, after writing out pending data (so the size counts them).
    ///
    /// # Errors
    ///
    /// The error of a pending write or of `fstat`, naming the path.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let meta = file.metadata().await.unwrap();
    ///     assert!(meta.is_file() && meta.len() > 0);
    /// });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        self.op("read metadata of", ReadAhead::Keep, StdFile::metadata)
            .await
    }

    /// The file's lines, as a [`Stream`](futures_core::Stream) of `String`s without their
    /// `\n` or `\r\n`: aiofiles' `async for line in f` (which keeps the `\n`). A last line
    /// without a newline is still a line.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let file = tulip::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut lines = file.lines();
    ///     let first = lines.next_line().await.unwrap();
    ///     assert_eq!(first.as_deref(), Some("[package]"));
    /// });
    /// ```
    pub fn lines(self) -> Lines {
        Lines::new(self)
    }

    // ----- the machinery -----------------------------------------------------------------

    /// The path for error messages: the one it was opened with, else what the OS says.
    pub(crate) fn name(&self) -> PathBuf {
        describe(self.path.as_deref(), self.std.as_raw_fd())
    }

    /// The read-ahead not yet consumed.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.rbuf[self.rpos..self.rend]
    }

    /// Marks `amt` bytes of the read-ahead as read.
    pub(crate) fn consume_buffered(&mut self, amt: usize) {
        self.rpos = (self.rpos + amt).min(self.rend);
    }

    /// Makes read-ahead available (at least `want` bytes fetched if a job is needed). Ready
    /// with an empty [`buffered`](File::buffered) at the end of the file.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<()>> {
        loop {
            if self.rpos < self.rend {
                return Poll::Ready(Ok(()));
            }
            if self.job.is_none() {
                if let Some(err) = self.error.take() {
                    return Poll::Ready(Err(err));
                }
                if mem::take(&mut self.eof) {
                    return Poll::Ready(Ok(()));
                }
                if self.wbuf.is_empty() {
                    self.submit_read(want);
                } else {
                    self.submit_write(); // pending writes go out before the read
                }
            }
            ready!(self.poll_job(cx));
        }
    }

    fn poll_read_buf(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(self.poll_fill(cx, dst.len()))?;
        let available = self.buffered();
        let n = available.len().min(dst.len());
        dst[..n].copy_from_slice(&available[..n]);
        self.rpos += n;
        Poll::Ready(Ok(n))
    }

    /// The write path. The fast case — room in the buffer, no job in the way — is a copy.
    fn poll_write_buf(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            let writable = self.job.as_ref().is_none_or(|job| job.kind == Kind::Write);
            if writable && self.wbuf.len() < WRITE_BUFFER {
                if self.job.is_none() {
                    if let Some(err) = self.error.take() {
                        return Poll::Ready(Err(err));
                    }
                    self.leave_read_mode();
                }
                if self.wbuf.capacity() == 0 {
                    self.wbuf.reserve_exact(WRITE_BUFFER);
                }
                let n = buf.len().min(WRITE_BUFFER - self.wbuf.len());
                self.wbuf.extend_from_slice(&buf[..n]);
                if self.wbuf.len() >= WRITE_BUFFER && self.job.is_none() {
                    self.submit_write();
                }
                return Poll::Ready(Ok(n));
            }
            // Both buffers are full, or a read or another operation is in flight: wait for it.
            ready!(self.poll_job(cx));
            if let Some(err) = self.error.take() {
                return Poll::Ready(Err(err));
            }
            if self.wbuf.len() >= WRITE_BUFFER {
                self.submit_write();
            }
        }
    }

    /// Finishes the job in flight and writes out everything buffered.
    fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_job(cx));
            if let Some(err) = self.error.take() {
                return Poll::Ready(Err(err));
            }
            if self.wbuf.is_empty() {
                return Poll::Ready(Ok(()));
            }
            self.submit_write();
        }
    }

    fn poll_seek_to(&mut self, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        loop {
            if let Some((ticket, target)) = self.seeking {
                if target == pos {
                    ready!(self.poll_job(cx));
                    self.seeking = None;
                    if let Some(result) = self.take_result(ticket, "seek in") {
                        return Poll::Ready(result);
                    }
                    if let Some(err) = self.error.take() {
                        return Poll::Ready(Err(err));
                    }
                }
                self.seeking = None; // another seek was abandoned: start this one afresh
            }
            ready!(self.poll_flush_all(cx))?;
            // Rewinding over the read-ahead first (even for an absolute target) leaves the
            // position where the reader is if the seek fails.
            let ticket =
                self.submit_op("seek in", ReadAhead::Rewind, move |mut file| file.seek(pos));
            self.seeking = Some((ticket, pos));
        }
    }

    /// Runs `f` on the file in a pool job, after the pending writes, in turn with the other
    /// jobs of this file.
    async fn op<T, F>(
        &mut self,
        operation: &'static str,
        read_ahead: ReadAhead,
        f: F,
    ) -> io::Result<T>
    where
        F: FnOnce(&StdFile) -> io::Result<T> + Send + 'static,
        T: Send + Sync + 'static,
    {
        poll_fn(|cx| self.poll_flush_all(cx)).await?;
        let ticket = self.submit_op(operation, read_ahead, f);
        poll_fn(|cx| self.poll_job(cx)).await;
        match self.take_result(ticket, operation) {
            Some(result) => result,
            None => Err(self.error.take().unwrap_or_else(pool_gone)),
        }
    }

    /// Waits for the job in flight and takes in what it hands back.
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(job) = &mut self.job else {
            return Poll::Ready(());
        };
        let output = ready!(Pin::new(&mut job.task).poll(cx));
        let kind = job.kind;
        self.job = None;
        match pool::output(output) {
            Ok(Done::Wrote(buf, result)) => {
                self.spare = buf;
                if let Err(err) = result {
                    self.fail(kind, err);
                }
            }
            Ok(Done::Read(buf, len, err)) => {
                self.rbuf = buf;
                self.rpos = 0;
                self.rend = len;
                match err {
                    Some(err) => self.fail(kind, err),
                    None => self.eof = len == 0,
                }
            }
            Ok(Done::Op(ticket, result)) => self.finished = Some((ticket, result)),
            Err(err) => self.fail(kind, err),
        }
        Poll::Ready(())
    }

    /// Keeps the first error for the next call.
    fn fail(&mut self, kind: Kind, err: io::Error) {
        if self.error.is_none() {
            self.error = Some(with_path(kind.operation(), &self.name(), err));
        }
    }

    fn take_result<T: 'static>(
        &mut self,
        ticket: u64,
        operation: &'static str,
    ) -> Option<io::Result<T>> {
        match self.finished.take() {
            Some((done, result)) if done == ticket => Some(match result {
                Ok(value) => value
                    .downcast::<T>()
                    .map(|value| *value)
                    .map_err(|_| io::Error::other("file operation result of the wrong type")),
                Err(err) => Err(with_path(operation, &self.name(), err)),
            }),
            other => {
                self.finished = other;
                None
            }
        }
    }

    /// A write is coming: data read ahead is dropped and the OS position will be moved back
    /// over it before the write.
    fn leave_read_mode(&mut self) {
        self.rewind += (self.rend - self.rpos) as u64;
        self.rpos = 0;
        self.rend = 0;
        self.eof = false;
    }

    fn drain_read_ahead(&mut self, into: &mut Vec<u8>) {
        if into.is_empty() && self.rpos == 0 && self.rend > 0 {
            // The whole read-ahead is the answer: hand the buffer over instead of copying it.
            self.rbuf.truncate(self.rend);
            mem::swap(into, &mut self.rbuf);
        } else {
            into.extend_from_slice(self.buffered());
        }
        self.rpos = 0;
        self.rend = 0;
    }

    fn start(&mut self, kind: Kind, job: impl FnOnce() -> Done + Send + 'static) {
        debug_assert!(self.job.is_none(), "one job at a time per file");
        self.job = Some(Job {
            task: pool::spawn(job),
            kind,
        });
    }

    fn submit_write(&mut self) {
        let mut next = mem::take(&mut self.spare);
        if next.capacity() == 0 {
            next.reserve_exact(WRITE_BUFFER);
        }
        let mut buf = mem::replace(&mut self.wbuf, next);
        let rewind = mem::take(&mut self.rewind);
        let file = self.std.clone();
        self.start(Kind::Write, move || {
            let result = move_back(&file, rewind).and_then(|()| (&*file).write_all(&buf));
            buf.clear();
            Done::Wrote(buf, result)
        });
    }

    fn submit_read(&mut self, want: usize) {
        let len = want.clamp(READ_BUFFER, MAX_READ);
        let mut buf = mem::take(&mut self.rbuf);
        let rewind = mem::take(&mut self.rewind);
        self.rpos = 0;
        self.rend = 0;
        let file = self.std.clone();
        self.start(Kind::Read, move || {
            if buf.len() < len {
                buf.resize(len, 0);
            }
            let read = move_back(&file, rewind).and_then(|()| {
                loop {
                    match (&*file).read(&mut buf[..len]) {
                        Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                }
            });
            match read {
                Ok(n) => Done::Read(buf, n, None),
                Err(err) => Done::Read(buf, 0, Some(err)),
            }
        });
    }

    fn submit_read_to_end(&mut self) {
        let mut buf = mem::take(&mut self.rbuf);
        let rewind = mem::take(&mut self.rewind);
        self.rpos = 0;
        self.rend = 0;
        let file = self.std.clone();
        self.start(Kind::Read, move || {
            buf.clear();
            let result = move_back(&file, rewind).and_then(|()| (&*file).read_to_end(&mut buf));
            let len = buf.len();
            Done::Read(buf, len, result.err())
        });
    }

    fn submit_op<T, F>(&mut self, operation: &'static str, read_ahead: ReadAhead, f: F) -> u64
    where
        F: FnOnce(&StdFile) -> io::Result<T> + Send + 'static,
        T: Send + Sync + 'static,
    {
        debug_assert!(
            self.wbuf.is_empty(),
            "writes are flushed before an operation"
        );
        let unread = (self.rend - self.rpos) as u64;
        let rewind = mem::take(&mut self.rewind)
            + match read_ahead {
                ReadAhead::Rewind => unread,
                ReadAhead::Keep => 0,
            };
        if read_ahead == ReadAhead::Rewind {
            self.rpos = 0;
            self.rend = 0;
            self.eof = false;
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let file = self.std.clone();
        self.start(Kind::Op(operation), move || {
            let result = move_back(&file, rewind).and_then(|()| f(&file));
            Done::Op(
                ticket,
                result.map(|value| Box::new(value) as Box<dyn Any + Send + Sync>),
            )
        });
        ticket
    }
}

/// Moves the OS position back `by` bytes (read-ahead that the reader never consumed). A file
/// that cannot seek (a pipe, a terminal) has no position to fix.
fn move_back(mut file: &StdFile, by: u64) -> io::Result<()> {
    if by == 0 {
        return Ok(());
    }
    let offset = i64::try_from(by).map_err(|_| io::Error::from(ErrorKind::InvalidInput))?;
    match file.seek(SeekFrom::Current(-offset)) {
        Err(err) if err.kind() == ErrorKind::NotSeekable => Ok(()),
        other => other.map(drop),
    }
}

/// The path for messages about a file: the one it was opened with, else the OS's name for the
/// descriptor, else the descriptor number.
fn describe(path: Option<&Path>, fd: RawFd) -> PathBuf {
    match path {
        Some(path) => path.to_path_buf(),
        None => std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .unwrap_or_else(|_| PathBuf::from(format!("file descriptor {fd}"))),
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if let Some(err) = self.error.take() {
            crate::log::error(&format!("{err} (noticed when the File was dropped)"));
        }
        let pending = mem::take(&mut self.wbuf);
        let previous = self.job.take();
        let writing = previous.as_ref().is_some_and(|job| job.kind == Kind::Write);
        if pending.is_empty() && !writing {
            return; // a read or an operation in flight finishes on its own
        }
        // Unwritten data: one last job writes it, after the write still in flight (if any), so
        // nothing is lost and the order holds. It reports errors to the log: nobody is left
        // to return them to.
        let file = self.std.clone();
        let path = self.path.clone();
        let rewind = self.rewind;
        let finish = move || {
            let report = |err: io::Error| {
                let name = describe(path.as_deref(), file.as_raw_fd());
                let err = with_path("write to", &name, err);
                crate::log::error(&format!("{err} (while the File was dropped)"));
            };
            if let Some(previous) = previous {
                if let Ok(Done::Wrote(_, Err(err))) = pool::wait(previous.task) {
                    report(err);
                }
            }
            if !pending.is_empty() {
                let written = move_back(&file, rewind).and_then(|()| (&*file).write_all(&pending));
                if let Err(err) = written {
                    report(err);
                }
            }
        };
        if pool::on_loop() {
            // Detached: the loop's close waits for it.
            drop(pool::spawn(finish));
        } else {
            finish();
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.name())
            .field("fd", &self.std.as_raw_fd())
            .field("buffered_writes", &self.wbuf.len())
            .field("read_ahead", &(self.rend - self.rpos))
            .field("busy", &self.job.as_ref().map(|job| job.kind))
            .finish()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl From<StdFile> for File {
    fn from(file: StdFile) -> File {
        File::from_std(file)
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_buf(cx, buf)
    }
}

impl AsyncBufRead for File {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        ready!(this.poll_fill(cx, READ_BUFFER))?;
        Poll::Ready(Ok(this.buffered()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume_buffered(amt);
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_buf(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    /// Flushes; the descriptor itself closes when the `File` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }
}

impl AsyncSeek for File {
    /// See [`File::seek`]. Polling again with the same target continues the seek already
    /// started; a different target starts a new one.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().poll_seek_to(cx, pos)
    }
}
