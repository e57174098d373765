//! Async files: the `aiofiles` part of the tutorials (`aiofiles.open`, `aiofiles.os`).
//!
//! Operating systems have no readiness events for regular files, so every file operation runs
//! on the loop's thread pool (as aiofiles runs them in asyncio's default executor). What makes
//! [`File`] fast is that it does not hop to a thread per call: writes collect in a memory
//! buffer that goes out 128 KiB at a time while the next writes fill a second buffer, and
//! reads fetch 64 KiB at a time and serve small reads from memory. The crawler's pattern —
//! thousands of short `await f.write(line)` calls — costs a copy per line.
//!
//! | aiofiles / Python | tulip |
//! |---|---|
//! | `async with aiofiles.open(p, "r") as f` | [`File::open(p)`](File::open) |
//! | `aiofiles.open(p, "w")`, `"a"`, `"x"`, `"r+"` | [`File::create`], [`OpenOptions`] |
//! | `await f.read()`, `f.read(n)`, `f.write(s)`, `f.flush()`, `f.seek(n)`, `f.truncate(n)` | [`File::read_to_end`], [`File::read`], [`File::write_all`], [`File::flush`], [`File::seek`], [`File::set_len`] |
//! | `async for line in f` | [`File::lines`] (a [`Stream`](futures_core::Stream)) |
//! | `await f.close()` / leaving `async with` | [`File::close`]; dropping a `File` also writes what is pending |
//! | `aiofiles.os.stat`, `mkdir`, `makedirs`, `remove`, `rmdir`, `rename`, `scandir`, `path.exists` | [`metadata`], [`create_dir`], [`create_dir_all`], [`remove_file`], [`remove_dir`], [`rename`], [`read_dir`], [`try_exists`] |
//! | `pathlib.Path.read_bytes / read_text / write_bytes` | [`read`], [`read_to_string`], [`write()`] |
//!
//! Every error names the operation and the path and keeps the OS error's
//! [`ErrorKind`](std::io::ErrorKind) — `failed to open `/nope/x.txt`: No such file or
//! directory (os error 2)` — so callers can match on the kind and show the message; the
//! details are in a [`PathError`] inside the `io::Error`.
//!
//! The thread-pool jobs only call `std::fs`; should one panic all the same, the panic is
//! resumed in the awaiting task (a bug to see, not an I/O error to handle).
//!
//! ```
//! use futures_lite::StreamExt;
//! use tulip::fs::{self, File};
//!
//! # let dir = std::env::temp_dir().join(format!("tulip-doc-fs-{}", std::process::id()));
//! tulip::run(async {
//!     fs::create_dir_all(&dir).await?;
//!     let path = dir.join("found.txt");
//!     // The crawler's pattern: append lines as they are found.
//!     let mut out = File::options().append(true).create(true).open(&path).await?;
//!     for i in 0..3 {
//!         out.write_all(format!("https://example.com/{i}\n").as_bytes()).await?;
//!     }
//!     out.close().await?;
//!
//!     let lines: Vec<String> = File::open(&path).await?.lines().try_collect().await?;
//!     assert_eq!(lines.len(), 3);
//!     fs::remove_dir_all(&dir).await?;
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod error;
mod file;
mod lines;
mod open_options;
mod pool;
mod read_dir;

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

pub use error::PathError;
pub use file::File;
pub use lines::Lines;
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir, read_dir};

use error::{with_path, with_paths};

/// Runs `f` with an owned copy of `path` on the thread pool; its error names `path`.
async fn on_path<T, F>(operation: &'static str, path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let owned = path.to_path_buf();
    pool::run(move || f(&owned))
        .await
        .map_err(|err| with_path(operation, path, err))
}

/// The whole contents of a file: Python's `Path.read_bytes()`, in one pool job.
///
/// # Errors
///
/// Any error opening or reading the file, naming it (`NotFound`, `PermissionDenied`,
/// `IsADirectory`, …).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let bytes = tulip::fs::read("Cargo.toml").await.unwrap();
///     assert!(bytes.starts_with(b"[package]"));
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path("read", path.as_ref(), |path| std::fs::read(path)).await
}

/// The whole contents of a UTF-8 file: Python's `Path.read_text()`, in one pool job.
///
/// # Errors
///
/// Any error opening or reading the file, or `InvalidData` when it is not UTF-8, naming it.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let text = tulip::fs::read_to_string("Cargo.toml").await.unwrap();
///     assert!(text.contains("name = \"tulip-rt\""));
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path("read", path.as_ref(), |path| std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file, creating it or truncating it: Python's
/// `Path.write_bytes()` / `write_text()`, in one pool job.
///
/// # Errors
///
/// Any error creating or writing the file, naming it.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("tulip-doc-fs-write-{}.txt", std::process::id()));
/// tulip::run(async {
///     tulip::fs::write(&path, "hello\n").await.unwrap();
///     assert_eq!(tulip::fs::read_to_string(&path).await.unwrap(), "hello\n");
///     # tulip::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_path("write", path.as_ref(), move |path| {
        std::fs::write(path, contents)
    })
    .await
}

/// Appends `contents` to the end of a file, creating it if it is missing: `open(path, "a")`,
/// one write, close — in one pool job. The bytes go in with one `O_APPEND` write, so appends
/// of other processes do not land inside them.
///
/// # Errors
///
/// Any error opening or writing the file, naming it.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("tulip-doc-fs-append-{}.log", std::process::id()));
/// tulip::run(async {
///     tulip::fs::append(&path, "one\n").await.unwrap();
///     tulip::fs::append(&path, "two\n").await.unwrap();
///     assert_eq!(tulip::fs::read_to_string(&path).await.unwrap(), "one\ntwo\n");
///     # tulip::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn append(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_path("append to", path.as_ref(), move |path| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        file.write_all(&contents)
    })
    .await
}

/// The metadata of `path`, following symlinks: `os.stat`.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, …, naming the path.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let meta = tulip::fs::metadata("Cargo.toml").await.unwrap();
///     assert!(meta.is_file());
/// });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path("read metadata of", path.as_ref(), |path| {
        std::fs::metadata(path)
    })
    .await
}

/// The metadata of `path` itself, not following a symlink: `os.lstat`.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, …, naming the path.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let meta = tulip::fs::symlink_metadata("/proc/self").await.unwrap();
///     assert!(meta.file_type().is_symlink());
/// });
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path("read metadata of", path.as_ref(), |path| {
        std::fs::symlink_metadata(path)
    })
    .await
}

/// Creates a directory: `os.mkdir`.
///
/// # Errors
///
/// `AlreadyExists`, `NotFound` (a missing parent), `PermissionDenied`, …, naming the path.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tulip-doc-mkdir-{}", std::process::id()));
/// tulip::run(async {
///     tulip::fs::create_dir(&dir).await.unwrap();
///     let again = tulip::fs::create_dir(&dir).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
///     # tulip::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("create directory", path.as_ref(), |path| {
        std::fs::create_dir(path)
    })
    .await
}

/// Creates a directory and any missing parents; fine if it exists: `os.makedirs(exist_ok=True)`.
///
/// # Errors
///
/// `PermissionDenied`, `NotADirectory` (a parent is a file), …, naming the path.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tulip-doc-makedirs-{}", std::process::id()));
/// tulip::run(async {
///     tulip::fs::create_dir_all(dir.join("a/b/c")).await.unwrap();
///     tulip::fs::create_dir_all(dir.join("a/b/c")).await.unwrap(); // exists: fine
///     # tulip::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("create directory", path.as_ref(), |path| {
        std::fs::create_dir_all(path)
    })
    .await
}

/// Removes a file (or symlink): `os.remove`.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, `IsADirectory`, …, naming the path.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let err = tulip::fs::remove_file("/nope/file").await.unwrap_err();
///     assert_eq!(
///         err.to_string(),
///         "failed to remove file `/nope/file`: No such file or directory (os error 2)"
///     );
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove file", path.as_ref(), |path| {
        std::fs::remove_file(path)
    })
    .await
}

/// Removes an empty directory: `os.rmdir`.
///
/// # Errors
///
/// `NotFound`, `DirectoryNotEmpty`, `NotADirectory`, …, naming the path.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tulip-doc-rmdir-{}", std::process::id()));
/// tulip::run(async {
///     tulip::fs::create_dir(&dir).await.unwrap();
///     tulip::fs::remove_dir(&dir).await.unwrap();
///     assert!(!tulip::fs::try_exists(&dir).await.unwrap());
/// });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove directory", path.as_ref(), |path| {
        std::fs::remove_dir(path)
    })
    .await
}

/// Removes a directory and everything in it: `shutil.rmtree`, in one pool job.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, …, naming the directory.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tulip-doc-rmtree-{}", std::process::id()));
/// tulip::run(async {
///     tulip::fs::create_dir_all(dir.join("x/y")).await.unwrap();
///     tulip::fs::write(dir.join("x/y/z.txt"), "z").await.unwrap();
///     tulip::fs::remove_dir_all(&dir).await.unwrap();
///     assert!(!tulip::fs::try_exists(&dir).await.unwrap());
/// });
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove directory", path.as_ref(), |path| {
        std::fs::remove_dir_all(path)
    })
    .await
}

/// Renames `from` to `to`, replacing `to` if it is a file: `os.replace`.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, `CrossesDevices`, …, naming both paths.
///
/// # Examples
///
/// ```
/// # let a = std::env::temp_dir().join(format!("tulip-doc-rename-a-{}", std::process::id()));
/// # let b = std::env::temp_dir().join(format!("tulip-doc-rename-b-{}", std::process::id()));
/// tulip::run(async {
///     tulip::fs::write(&a, "moved").await.unwrap();
///     tulip::fs::rename(&a, &b).await.unwrap();
///     assert_eq!(tulip::fs::read_to_string(&b).await.unwrap(), "moved");
///     # tulip::fs::remove_file(&b).await.unwrap();
/// });
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    two_paths("rename", from.as_ref(), to.as_ref(), |from, to| {
        std::fs::rename(from, to)
    })
    .await
}

/// Copies the contents and permissions of file `from` to `to` (created or truncated) and
/// returns the number of bytes copied: `shutil.copyfile` + `copymode`, in one pool job (the
/// kernel copies: `copy_file_range` where it can).
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, `InvalidInput` (`from` is not a file), …, naming both
/// paths.
///
/// # Examples
///
/// ```
/// # let to = std::env::temp_dir().join(format!("tulip-doc-copy-{}", std::process::id()));
/// tulip::run(async {
///     let n = tulip::fs::copy("Cargo.toml", &to).await.unwrap();
///     assert_eq!(n, tulip::fs::metadata(&to).await.unwrap().len());
///     # tulip::fs::remove_file(&to).await.unwrap();
/// });
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    two_paths("copy", from.as_ref(), to.as_ref(), |from, to| {
        std::fs::copy(from, to)
    })
    .await
}

async fn two_paths<T, F>(operation: &'static str, from: &Path, to: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (owned_from, owned_to) = (from.to_path_buf(), to.to_path_buf());
    pool::run(move || f(&owned_from, &owned_to))
        .await
        .map_err(|err| with_paths(operation, from, to, err))
}

/// The absolute path with every symlink, `.` and `..` resolved: `os.path.realpath` (strict:
/// the path must exist).
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, …, naming the path.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let path = tulip::fs::canonicalize("src/../Cargo.toml").await.unwrap();
///     assert!(path.is_absolute() && path.ends_with("Cargo.toml"));
/// });
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("canonicalize", path.as_ref(), |path| {
        std::fs::canonicalize(path)
    })
    .await
}

/// Whether `path` exists (following symlinks): `os.path.exists`, except that a failure to
/// find out (a permission error on a parent) is an error rather than `false`.
///
/// # Errors
///
/// When existence cannot be decided, naming the path.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     assert!(tulip::fs::try_exists("Cargo.toml").await.unwrap());
///     assert!(!tulip::fs::try_exists("/nope/not-here").await.unwrap());
/// });
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path("check the existence of", path.as_ref(), |path| {
        path.try_exists()
    })
    .await
}
