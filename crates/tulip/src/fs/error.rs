//! Errors that name the path: every failure of `tulip::fs` is an [`io::Error`] whose message
//! says what was being done to which file, with the OS error's [`ErrorKind`](io::ErrorKind)
//! kept so callers can still `match` on it.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The error inside every [`io::Error`] that `tulip::fs` returns: the operation, the path (and
/// the second path of a rename or copy) and the OS error underneath.
///
/// The `io::Error` carries the OS error's [`ErrorKind`](io::ErrorKind) (`NotFound`,
/// `PermissionDenied`, `AlreadyExists`, `IsADirectory`, …), so most callers match on
/// [`io::Error::kind`] and print the message; those that want the path back downcast to this
/// type.
///
/// # Examples
///
/// ```
/// use std::io::ErrorKind;
/// use tulip::fs::{self, PathError};
///
/// tulip::run(async {
///     let err = fs::read("/nope/x.txt").await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::NotFound);
///     assert!(err.to_string().starts_with("failed to read `/nope/x.txt`: "));
///
///     let detail = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
///     assert_eq!(detail.path(), std::path::Path::new("/nope/x.txt"));
///     assert_eq!(detail.operation(), "read");
///     assert_eq!(detail.raw_os_error(), Some(2)); // ENOENT
/// });
/// ```
#[derive(Debug)]
pub struct PathError {
    operation: &'static str,
    path: PathBuf,
    to: Option<PathBuf>,
    source: io::Error,
}

impl PathError {
    /// What was being done: `"open"`, `"read"`, `"write to"`, `"rename"`, …
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::PathError;
    ///
    /// tulip::run(async {
    ///     let err = tulip::fs::remove_file("/nope/gone").await.unwrap_err();
    ///     let detail = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
    ///     assert_eq!(detail.operation(), "remove file");
    /// });
    /// ```
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The path the operation was applied to (the source of a rename or copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::PathError;
    ///
    /// tulip::run(async {
    ///     let err = tulip::fs::metadata("/nope/m").await.unwrap_err();
    ///     let detail = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
    ///     assert_eq!(detail.path(), std::path::Path::new("/nope/m"));
    /// });
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The destination of a rename or copy; `None` for operations on one path.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::PathError;
    ///
    /// tulip::run(async {
    ///     let err = tulip::fs::rename("/nope/a", "/nope/b").await.unwrap_err();
    ///     let detail = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
    ///     assert_eq!(detail.destination(), Some(std::path::Path::new("/nope/b")));
    /// });
    /// ```
    pub fn destination(&self) -> Option<&Path> {
        self.to.as_deref()
    }

    /// The OS error number underneath (`errno`), when the failure came from the OS.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::PathError;
    ///
    /// tulip::run(async {
    ///     let err = tulip::fs::File::open("/nope/x").await.unwrap_err();
    ///     let detail = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
    ///     assert_eq!(detail.raw_os_error(), Some(2));
    /// });
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }

    /// The OS error itself, as std reported it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::fs::PathError;
    ///
    /// tulip::run(async {
    ///     let err = tulip::fs::read_to_string("/nope/r").await.unwrap_err();
    ///     let detail = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
    ///     assert_eq!(detail.io_error().kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to {} `{}`", self.operation, self.path.display())?;
        if let Some(to) = &self.to {
            write!(f, " to `{}`", to.display())?;
        }
        write!(f, ": {}", self.source)
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// `err`, reworded to name `operation` and `path`, same kind. An error that already names a
/// path is returned unchanged.
pub(crate) fn with_path(operation: &'static str, path: &Path, err: io::Error) -> io::Error {
    wrap(operation, path, None, err)
}

/// Like [`with_path`] for the two-path operations (rename, copy).
pub(crate) fn with_paths(
    operation: &'static str,
    from: &Path,
    to: &Path,
    err: io::Error,
) -> io::Error {
    wrap(operation, from, Some(to), err)
}

fn wrap(operation: &'static str, path: &Path, to: Option<&Path>, err: io::Error) -> io::Error {
    if err.get_ref().is_some_and(|inner| inner.is::<PathError>()) {
        return err;
    }
    let kind = err.kind();
    io::Error::new(
        kind,
        PathError {
            operation,
            path: path.to_path_buf(),
            to: to.map(Path::to_path_buf),
            source: err,
        },
    )
}

/// The error for a job its thread pool dropped without running (the pool shut down).
pub(crate) fn pool_gone() -> io::Error {
    io::Error::other("the thread pool shut down before the file operation ran")
}
