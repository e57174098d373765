//! The progress bar on a terminal, and the summary at the end.
//!
//! The seed prints only its log. A crawl of thousands of pages wants to show where it is: on a
//! TTY, an [`indicatif`] line under the log (pages done and queued, errors, pages/s); when
//! stderr is piped or `-q` is given, nothing. At the end, a [`Summary`].
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! let progress = areq::progress::Progress::new(false); // off: draws nothing
//! progress.update(10, 5, 1, Duration::from_secs(2));
//! progress.finish();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::fetch::FailureKind;

/// A progress line on stderr when it is a terminal. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let progress = areq::progress::Progress::new(true); // visible only on a TTY
/// progress.finish();
/// ```
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress line, shown if `enabled` and stderr is a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = areq::progress::Progress::new(false);
    /// assert!(!progress.is_visible());
    /// ```
    pub fn new(enabled: bool) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        crate::logging::set_bar(Some(bar.clone()));
        Progress { bar: Some(bar) }
    }

    /// Whether a bar is drawn.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!areq::progress::Progress::new(false).is_visible());
    /// ```
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Shows new counts.
    ///
    /// # Examples
    ///
    /// ```
    /// let progress = areq::progress::Progress::new(false);
    /// progress.update(1, 0, 0, std::time::Duration::from_millis(10));
    /// ```
    pub fn update(&self, done: u64, queued: u64, errors: u64, elapsed: Duration) {
        if let Some(bar) = &self.bar {
            let rate = rate(done, elapsed);
            bar.set_message(format!(
                "{done} pages done, {queued} queued, {errors} errors, {rate:.0} pages/s"
            ));
            bar.tick();
        }
    }

    /// Removes the bar.
    ///
    /// # Examples
    ///
    /// ```
    /// areq::progress::Progress::new(false).finish();
    /// ```
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            crate::logging::set_bar(None);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// What a crawl did.
///
/// # Examples
///
/// ```
/// let summary = areq::progress::Summary {
///     pages: 3,
///     elapsed: std::time::Duration::from_secs(2),
///     ..Default::default()
/// };
/// assert_eq!(summary.pages_per_sec(), 1.5);
/// assert!(summary.to_string().contains("3 pages"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Responses received with a 2xx or 3xx status (redirects included).
    pub pages: u64,
    /// Of those, HTML pages whose links were read.
    pub parsed: u64,
    /// Pages that failed (any [`FailureKind`]).
    pub failed: u64,
    /// Lines written to the output (one per link per page).
    pub links: u64,
    /// Failures by kind.
    pub errors: BTreeMap<FailureKind, u64>,
    /// URLs not fetched because `robots.txt` disallows them.
    pub robots_skipped: u64,
    /// Input lines that were not URLs.
    pub bad_input_lines: u64,
    /// Pages skipped because an earlier run (`--resume`) had crawled them.
    pub resumed: u64,
    /// Wall time of the crawl (on the loop's clock).
    pub elapsed: Duration,
    /// Whether Ctrl+C stopped the crawl.
    pub interrupted: bool,
    /// Whether `--max-pages` stopped the crawl with pages still queued.
    pub hit_max_pages: bool,
    /// The output file.
    pub output: PathBuf,
    /// The graph file, if one was written.
    pub graph: Option<PathBuf>,
    /// With a Redis frontier: this process's round trips to the server.
    pub redis_round_trips: Option<u64>,
}

impl Summary {
    /// Pages (successful or failed) per second of elapsed time.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(areq::progress::Summary::default().pages_per_sec(), 0.0);
    /// ```
    pub fn pages_per_sec(&self) -> f64 {
        rate(self.pages + self.failed, self.elapsed)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.interrupted {
            "Crawl interrupted (Ctrl+C)"
        } else if self.hit_max_pages {
            "Crawl stopped at --max-pages"
        } else {
            "Crawl finished"
        };
        writeln!(
            f,
            "{state}: {} pages ({} parsed), {} links, {} errors in {:.2} s ({:.0} pages/s)",
            self.pages,
            self.parsed,
            self.links,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.pages_per_sec()
        )?;
        for (kind, count) in &self.errors {
            writeln!(f, "  {kind}: {count}")?;
        }
        if self.robots_skipped > 0 {
            writeln!(f, "  disallowed by robots.txt: {}", self.robots_skipped)?;
        }
        if self.bad_input_lines > 0 {
            writeln!(f, "  input lines skipped: {}", self.bad_input_lines)?;
        }
        if self.resumed > 0 {
            writeln!(f, "  pages crawled by an earlier run: {}", self.resumed)?;
        }
        if let Some(trips) = self.redis_round_trips {
            let pages = (self.pages + self.failed).max(1);
            writeln!(
                f,
                "  {trips} Redis round trips ({:.2} per page)",
                trips as f64 / pages as f64
            )?;
        }
        write!(f, "Output: {}", self.output.display())?;
        if let Some(graph) = &self.graph {
            write!(f, "\nGraph: {}", graph.display())?;
        }
        Ok(())
    }
}
