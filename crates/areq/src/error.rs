//! The errors that stop a crawl: [`Error`].
//!
//! A page that fails does not stop anything (the seed logs it and goes on; so does areq, see
//! [`crate::fetch::FetchError`]). What stops a crawl is an input file that cannot be read, an
//! output file that cannot be written, a bad option, or a frontier backend that failed.
//!
//! # Examples
//!
//! ```
//! let err = tulip::run(areq::input::read_urls("/no/such/urls.txt".as_ref())).unwrap_err();
//! assert!(err.to_string().contains("/no/such/urls.txt"));
//! ```

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::frontier::FrontierError;

/// Why a crawl could not run or finish. Each variant names what failed.
///
/// # Examples
///
/// ```
/// use areq::Error;
///
/// let err = Error::Config("--limit must be at least 1".into());
/// assert_eq!(err.to_string(), "bad option: --limit must be at least 1");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The input file could not be read.
    Input {
        /// The file.
        path: PathBuf,
        /// The error underneath.
        source: io::Error,
    },
    /// The output file could not be read (for `--resume`), created or written.
    Output {
        /// The file.
        path: PathBuf,
        /// The error underneath.
        source: io::Error,
    },
    /// The graph file could not be written.
    Graph {
        /// The file.
        path: PathBuf,
        /// The error underneath.
        source: io::Error,
    },
    /// An option is invalid (a bad `--exclude` pattern, a zero limit, ...).
    Config(String),
    /// The demo site's server could not start.
    Demo(io::Error),
    /// The frontier backend failed.
    Frontier(FrontierError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { path, source } => {
                write!(f, "cannot read the URL list {}: {source}", path.display())
            }
            Error::Output { path, source } => {
                write!(f, "cannot write the output {}: {source}", path.display())
            }
            Error::Graph { path, source } => {
                write!(f, "cannot write the graph {}: {source}", path.display())
            }
            Error::Config(message) => write!(f, "bad option: {message}"),
            Error::Demo(source) => write!(f, "cannot start the demo site: {source}"),
            Error::Frontier(source) => write!(f, "{source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Input { source, .. }
            | Error::Output { source, .. }
            | Error::Graph { source, .. }
            | Error::Demo(source) => Some(source),
            Error::Frontier(source) => Some(source),
            Error::Config(_) => None,
        }
    }
}

impl From<FrontierError> for Error {
    fn from(err: FrontierError) -> Error {
        Error::Frontier(err)
    }
}
