//! Log lines on stderr in the seed's format: `HH:MM:SS LEVEL:areq: message`.
//!
//! The seed configures Python's `logging` with `format="%(asctime)s %(levelname)s:%(name)s:
//! %(message)s"`, `datefmt="%H:%M:%S"`, on stderr. areq logs through [`tracing`]; [`init`]
//! installs a `tracing-subscriber` formatter that writes the same shape (local time, Python's
//! level names `DEBUG`/`INFO`/`WARNING`/`ERROR`, the logger name — the crate that logged — and
//! the message). While a progress bar is on screen, each line is written with the bar
//! suspended, so the two never garble each other.
//!
//! # Examples
//!
//! ```
//! use areq::logging::{Verbosity, init};
//!
//! init(Verbosity::Normal); // INFO and up, like the seed
//! tracing::info!("Got response [200] for URL: http://example.com/");
//! // stderr: 21:33:22 INFO:areq: Got response [200] for URL: http://example.com/
//! ```

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;

use indicatif::ProgressBar;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// How much to log: `-q`, nothing, `-v`, `-vv`.
///
/// # Examples
///
/// ```
/// use areq::logging::Verbosity;
///
/// assert_eq!(Verbosity::from_flags(0, true), Verbosity::Quiet);
/// assert_eq!(Verbosity::from_flags(1, false), Verbosity::Debug);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Warnings and errors only (`-q`).
    Quiet,
    /// INFO and up (the seed's lines).
    Normal,
    /// DEBUG and up (`-v`).
    Debug,
    /// Everything (`-vv`).
    Trace,
}

impl Verbosity {
    /// The level for `-v` given `verbose` times and `-q` given or not (`-q` wins).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(areq::logging::Verbosity::from_flags(2, false), areq::logging::Verbosity::Trace);
    /// ```
    pub fn from_flags(verbose: u8, quiet: bool) -> Verbosity {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Debug,
            (false, _) => Verbosity::Trace,
        }
    }

    fn level(self) -> Level {
        match self {
            Verbosity::Quiet => Level::WARN,
            Verbosity::Normal => Level::INFO,
            Verbosity::Debug => Level::DEBUG,
            Verbosity::Trace => Level::TRACE,
        }
    }
}

/// Installs the seed-format logger on stderr for the whole process. Does nothing if a global
/// subscriber is already installed (a test harness's, say).
///
/// # Examples
///
/// ```
/// areq::logging::init(areq::logging::Verbosity::Quiet);
/// areq::logging::init(areq::logging::Verbosity::Debug); // second call: no effect
/// ```
pub fn init(verbosity: Verbosity) {
    let _ = tracing_subscriber::fmt()
        .with_max_level(verbosity.level())
        .event_format(SeedFormat)
        .with_writer(StderrAroundBar)
        .try_init();
}

/// The progress bar on screen, if any: log lines are written with it suspended.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Registers (or, with `None`, removes) the progress bar that log lines must not garble.
pub(crate) fn set_bar(bar: Option<ProgressBar>) {
    if let Ok(mut slot) = BAR.lock() {
        *slot = bar;
    }
}

/// The seed's line format. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let subscriber = tracing_subscriber::fmt()
///     .event_format(areq::logging::SeedFormat)
///     .with_writer(std::io::sink)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || tracing::warn!("careful"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SeedFormat;

impl<S, N> FormatEvent<S, N> for SeedFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO => "INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "TRACE",
        };
        let name = meta.target().split("::").next().unwrap_or("areq");
        let time = chrono::Local::now().format("%H:%M:%S");
        write!(writer, "{time} {level}:{name}: ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// stderr, with the progress bar (if any) suspended while a line is written.
#[derive(Debug, Clone, Copy)]
struct StderrAroundBar;

/// One line's writer: the formatter writes the whole line at once.
#[derive(Debug)]
struct LineWriter;

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = BAR.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().write_all(buf))?,
            None => io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for StderrAroundBar {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter
    }
}
