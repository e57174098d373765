//! Reading the input URLs (`urls.txt`).
//!
//! The seed reads `urls.txt` with `set(map(str.strip, infile))`: one URL a line, whitespace
//! stripped, duplicates merged. Here blank lines and `#` comments are skipped too, and a line
//! that is not an http(s) URL gets a warning naming its line number while the rest goes on
//! (the seed would hand it to aiohttp and log an exception).
//!
//! # Examples
//!
//! ```
//! let text = "https://example.com/\n\n# a comment\nnot a url\nhttps://example.com/\nftp://x/\n";
//! let input = areq::input::parse_urls(text);
//! assert_eq!(input.urls.len(), 1); // duplicates merged
//! assert_eq!(input.rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [4, 6]);
//! ```

use std::collections::HashSet;
use std::path::Path;

use url::Url;

use crate::error::Error;

/// The URLs of an input file, and the lines that were not URLs.
///
/// # Examples
///
/// ```
/// let input = areq::input::parse_urls("http://a/\n");
/// assert_eq!(input.urls[0].as_str(), "http://a/");
/// assert!(input.rejected.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct InputUrls {
    /// The URLs, in file order, each once, fragments removed.
    pub urls: Vec<Url>,
    /// The lines that were skipped, with why.
    pub rejected: Vec<RejectedLine>,
}

/// An input line that is not an http(s) URL.
///
/// # Examples
///
/// ```
/// let input = areq::input::parse_urls("oops\n");
/// let bad = &input.rejected[0];
/// assert_eq!((bad.line, bad.text.as_str()), (1, "oops"));
/// assert!(bad.reason.contains("relative URL"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedLine {
    /// The line number, from 1.
    pub line: usize,
    /// The line, trimmed.
    pub text: String,
    /// Why it was rejected.
    pub reason: String,
}

/// Parses the text of an input file. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let input = areq::input::parse_urls("  https://example.com/a#x  \n");
/// assert_eq!(input.urls[0].as_str(), "https://example.com/a");
/// ```
pub fn parse_urls(text: &str) -> InputUrls {
    let mut input = InputUrls::default();
    let mut seen = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let reject = |reason: String| RejectedLine {
            line: index + 1,
            text: line.to_owned(),
            reason,
        };
        match Url::parse(line) {
            Ok(mut url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                url.set_fragment(None);
                if seen.insert(url.as_str().to_owned()) {
                    input.urls.push(url);
                }
            }
            Ok(url) => input.rejected.push(reject(format!(
                "only http and https URLs are crawled, not {}:",
                url.scheme()
            ))),
            Err(e) => input.rejected.push(reject(e.to_string())),
        }
    }
    input
}

/// Reads and parses the input file at `path`, logging a warning for each rejected line.
///
/// # Errors
///
/// [`Error::Input`] when the file cannot be read; it names the path.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("areq-doc-input-{}.txt", std::process::id()));
/// std::fs::write(&path, "http://a/\nnope\n").unwrap();
/// let input = tulip::run(areq::input::read_urls(&path)).unwrap();
/// assert_eq!(input.urls.len(), 1);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub async fn read_urls(path: &Path) -> Result<InputUrls, Error> {
    let text = tulip::fs::read_to_string(path)
        .await
        .map_err(|source| Error::Input {
            path: path.to_owned(),
            source,
        })?;
    let input = parse_urls(&text);
    for bad in &input.rejected {
        tracing::warn!(
            "{}:{}: skipping `{}`: not a URL to crawl ({})",
            path.display(),
            bad.line,
            bad.text,
            bad.reason
        );
    }
    Ok(input)
}
