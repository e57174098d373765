//! The command line: `areq [URLS_FILE] [-o OUTPUT] [options]`, and `areq --demo`.
//!
//! The seed takes no arguments: it reads `urls.txt` beside itself and writes `foundurls.txt`.
//! areq keeps those as the defaults, so `areq` alone does what `python3 areq.py` does; the
//! options add the tutorial's "next steps". [`Cli`] is the [`clap`] definition; [`run`] is what
//! `main` runs on the loop.
//!
//! Two ways to continue a crawl: `--resume` reads the output file of an earlier run and skips
//! the pages it lists (the in-memory frontier; it works with any output, but relearns the queue
//! from the output's links); `--state DIR` keeps the frontier itself on disk (like Scrapy's
//! `JOBDIR`) and continues from it, exactly, even after the process was killed. `--state`
//! implies continuing, so the two options exclude each other.
//!
//! One crawl on many machines: `--redis URL --crawl-id NAME` keeps the frontier in a Redis
//! server ([`RedisFrontier`](crate::frontier::RedisFrontier)), and every areq given the same URL
//! and name works from it, each writing its own output (or, with `-o redis`, all into one Redis
//! stream). `areq stats --redis URL --crawl-id NAME` shows how far the crawl is.
//!
//! # Examples
//!
//! ```
//! use clap::Parser;
//! use areq::cli::Cli;
//!
//! let cli = Cli::try_parse_from(["areq", "sites.txt", "-o", "out.tsv", "--depth", "2",
//!                                "--same-host", "--exclude", r"\.pdf$", "--delay", "0.5"]).unwrap();
//! let config = cli.to_config().unwrap();
//! assert_eq!(config.depth, 2);
//! assert_eq!(config.delay, std::time::Duration::from_millis(500));
//! assert_eq!(config.output, std::path::PathBuf::from("out.tsv"));
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::crawler::{Config, crawl};
use crate::demo::{self, DemoConfig, DemoSite};
use crate::error::Error;
use crate::fetch::FetchConfig;
use crate::frontier::{RedisOptions, crawl_stats};
use crate::logging::Verbosity;

/// Gets the links of web pages, concurrently: reads URLS_FILE, fetches each URL, writes
/// `source_url<TAB>parsed_url` lines to OUTPUT. With --depth, crawls recursively.
///
/// # Examples
///
/// ```
/// use clap::Parser;
///
/// let cli = areq::cli::Cli::try_parse_from(["areq"]).unwrap();
/// assert_eq!(cli.urls_file, std::path::PathBuf::from("urls.txt"));
/// assert_eq!(cli.output, std::path::PathBuf::from("foundurls.txt"));
/// ```
#[derive(Debug, Clone, Parser)]
#[command(
    name = "areq",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// `areq stats …` instead of a crawl.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// File of URLs to crawl, one a line (blank lines and `#` comments are skipped).
    #[arg(default_value = "urls.txt")]
    pub urls_file: PathBuf,

    /// Where to write the `source_url<TAB>parsed_url` lines (with --redis, `redis` means the
    /// crawl's Redis stream areq:{NAME}:output, one entry per line).
    #[arg(short, long, default_value = "foundurls.txt")]
    pub output: PathBuf,

    /// Log more: -v debug, -vv trace.
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Log warnings and errors only, and no progress bar.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Requests in flight at once, all hosts together.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,

    /// Requests in flight at once to one host (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub per_host: usize,

    /// Time limit for one request, in seconds.
    #[arg(long, default_value = "30", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Retries after a transient failure (connection, reset, timeout, 5xx); never after a 4xx.
    #[arg(long, default_value_t = 2)]
    pub retries: u32,

    /// Largest body accepted, in bytes (suffixes K, M, G allowed).
    #[arg(long, default_value = "10M", value_parser = parse_size)]
    pub max_body: u64,

    /// Follow links this many levels deep (default 0: only the listed URLs, like the seed;
    /// with --demo: unlimited).
    #[arg(long)]
    pub depth: Option<u32>,

    /// Follow only links to the hosts of the listed URLs.
    #[arg(long)]
    pub same_host: bool,

    /// Follow links within this domain and its subdomains (repeatable).
    #[arg(long = "allow-domain", value_name = "DOMAIN")]
    pub allow_domains: Vec<String>,

    /// Never fetch URLs matching this regular expression (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,

    /// Stop after fetching this many pages.
    #[arg(long)]
    pub max_pages: Option<u64>,

    /// Obey robots.txt, its Crawl-delay included (a host's delay is then the longer of
    /// --delay and its Crawl-delay).
    #[arg(long)]
    pub respect_robots: bool,

    /// At least this many seconds between two requests to one host.
    #[arg(long, default_value = "0", value_parser = parse_seconds)]
    pub delay: Duration,

    /// With --respect-robots: obey a robots.txt Crawl-delay up to this many seconds (a longer
    /// one is cut to this, with a warning; 0 ignores Crawl-delay).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub max_crawl_delay: Duration,

    /// Write the link graph: FILE.dot (Graphviz) or FILE.graphml.
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,

    /// Append to OUTPUT and skip the pages it already lists as sources.
    #[arg(long, conflicts_with = "state")]
    pub resume: bool,

    /// Keep the crawl's queue and seen-set in DIR (created if missing); run again with the same
    /// DIR and options to continue a crawl stopped by Ctrl+C or killed (implies resuming; OUTPUT
    /// is cut back to the last recorded page and appended to).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Share the crawl through this Redis server with every areq given the same URL and
    /// --crawl-id, on any machine (`redis://[:PASSWORD@]HOST[:PORT][/DB]`). `-o redis` writes the
    /// output lines to the crawl's Redis stream instead of a file.
    #[arg(long, value_name = "URL", conflicts_with_all = ["state", "resume"])]
    pub redis: Option<String>,

    /// The shared crawl's name: its keys start with areq:{NAME}:.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "default",
        requires = "redis"
    )]
    pub crawl_id: String,

    /// With --redis: seconds a claimed page stays this crawler's without news from it (if it
    /// dies, its pages go to the others after this long).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds, requires = "redis")]
    pub lease: Duration,

    /// Serve a generated site on 127.0.0.1 and crawl it (ignores URLS_FILE).
    #[arg(long)]
    pub demo: bool,

    /// Pages of the --demo site.
    #[arg(long, default_value_t = 3000, requires = "demo")]
    pub demo_pages: usize,

    /// Address of the --demo site (a fixed port lets a `--demo --resume` run continue).
    #[arg(long, default_value = "127.0.0.1:0", requires = "demo")]
    pub demo_addr: String,
}

impl Cli {
    /// The logging level from `-v`/`-q`.
    ///
    /// # Examples
    ///
    /// ```
    /// use clap::Parser;
    ///
    /// let cli = areq::cli::Cli::try_parse_from(["areq", "-q"]).unwrap();
    /// assert_eq!(cli.verbosity(), areq::logging::Verbosity::Quiet);
    /// ```
    pub fn verbosity(&self) -> Verbosity {
        Verbosity::from_flags(self.verbose, self.quiet)
    }

    /// The crawl configuration these options describe (for `--demo`, before the demo's own
    /// settings are applied).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a zero `--limit`.
    ///
    /// # Examples
    ///
    /// ```
    /// use clap::Parser;
    ///
    /// let cli = areq::cli::Cli::try_parse_from(["areq", "--limit", "0"]).unwrap();
    /// assert!(cli.to_config().is_err());
    /// ```
    pub fn to_config(&self) -> Result<Config, Error> {
        if self.limit == 0 {
            return Err(Error::Config("--limit must be at least 1".into()));
        }
        let mut config = Config::new(self.output.clone());
        config.input = Some(self.urls_file.clone());
        config.fetch = FetchConfig {
            limit: self.limit,
            per_host: self.per_host,
            timeout: self.timeout,
            retries: self.retries,
            max_body: self.max_body,
            ..FetchConfig::default()
        };
        config.depth = self.depth.unwrap_or(0);
        config.same_host = self.same_host;
        config.allow_domains = self.allow_domains.clone();
        config.exclude = self.exclude.clone();
        config.max_pages = self.max_pages;
        config.respect_robots = self.respect_robots;
        config.delay = self.delay;
        config.max_crawl_delay = self.max_crawl_delay;
        config.graph = self.graph.clone();
        config.resume = self.resume;
        config.state = self.state.clone();
        if let Some(url) = &self.redis {
            let mut options = RedisOptions::new(url.clone(), self.crawl_id.clone());
            options.lease = self.lease;
            config.redis = Some(options);
            config.output_to_redis = self.output.as_os_str() == "redis";
        }
        config.progress = !self.quiet;
        config.handle_ctrl_c = true;
        Ok(config)
    }
}

/// Runs the command: the crawl (or the demo), the summary on stderr, and the exit status —
/// 0 when the crawl ran to its end (pages may have failed), 130 after Ctrl+C, 1 when it could
/// not run.
///
/// # Examples
///
/// ```
/// use clap::Parser;
///
/// let cli = areq::cli::Cli::try_parse_from(["areq", "/no/such/urls.txt", "-q"]).unwrap();
/// let code = tulip::run(areq::cli::run(cli));
/// assert_eq!(code, std::process::ExitCode::FAILURE);
/// ```
pub async fn run(cli: Cli) -> ExitCode {
    if let Some(Command::Stats(args)) = &cli.command {
        return run_stats(args).await;
    }
    let result = if cli.demo {
        run_demo(&cli).await
    } else {
        match cli.to_config() {
            Ok(config) => crawl(&config).await,
            Err(err) => Err(err),
        }
    };
    match result {
        Ok(summary) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{summary}");
            if summary.interrupted {
                ExitCode::from(130)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            tracing::error!("{err}");
            let _ = writeln!(std::io::stderr(), "areq: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Subcommands.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use areq::cli::{Cli, Command};
///
/// let cli = Cli::try_parse_from(["areq", "stats", "--redis", "redis://h/", "--crawl-id", "c"])
///     .unwrap();
/// let Some(Command::Stats(stats)) = cli.command else { panic!() };
/// assert_eq!((stats.redis.as_str(), stats.crawl_id.as_str()), ("redis://h/", "c"));
/// ```
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print a shared crawl's progress: queued, in flight, done, errors, and pages/s of each
    /// crawler.
    Stats(StatsArgs),
}

/// `areq stats`'s options.
///
/// # Examples
///
/// ```
/// use clap::Parser;
///
/// let cli = areq::cli::Cli::try_parse_from(["areq", "stats", "--redis", "redis://h/"]).unwrap();
/// let Some(areq::cli::Command::Stats(stats)) = cli.command else { panic!() };
/// assert_eq!(stats.crawl_id, "default");
/// ```
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// The Redis server the crawl shares.
    #[arg(long, value_name = "URL")]
    pub redis: String,

    /// The shared crawl's name.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub crawl_id: String,
}

/// `areq stats`: the shared crawl's counts and workers, on stdout.
async fn run_stats(args: &StatsArgs) -> ExitCode {
    let options = RedisOptions::new(args.redis.clone(), args.crawl_id.clone());
    let result = async {
        let client = tulip_redis::Client::open(&options.url)
            .await
            .map_err(|e| Error::Frontier(crate::frontier::FrontierError::new(e.to_string())))?;
        let stats = crawl_stats(&client, &options).await?;
        client.close().await;
        Ok::<_, Error>(stats)
    }
    .await;
    match result {
        Ok(stats) => {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(
                stdout,
                "crawl {} at {}: {stats}",
                options.crawl_id, options.url
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "areq: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `--demo`: serve a generated site, crawl all of it, report.
async fn run_demo(cli: &Cli) -> Result<crate::Summary, Error> {
    let mut config = cli.to_config()?;
    let site = Rc::new(DemoSite::new(DemoConfig {
        pages: cli.demo_pages,
        ..DemoConfig::default()
    }));
    let server = demo::serve(site.clone(), &cli.demo_addr)
        .await
        .map_err(Error::Demo)?;
    let base = server.base_url().clone();
    tracing::info!(
        "Demo site: {} pages at {base} (with 404s, a redirect, a slow page, robots.txt)",
        site.config().pages
    );
    config.urls = vec![base.clone()];
    config.input = None;
    config.depth = cli.depth.unwrap_or(u32::MAX);
    config.same_host = true;
    config.respect_robots = true;
    if config.graph.is_none() {
        config.graph = Some(config.output.with_extension("graphml"));
    }
    let result = crawl(&config).await;
    let requests: u32 = server.requests().values().sum();
    server.shutdown().await;
    let summary = result?;
    let _ = writeln!(
        std::io::stderr(),
        "Demo site {base} answered {requests} requests."
    );
    Ok(summary)
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|e| format!("`{s}` is not a number of seconds: {e}"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|e| format!("`{s}` is not a size: {e}"))?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().trim_end_matches("IB") {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        other => return Err(format!("`{s}`: unknown unit `{other}` (use K, M or G)")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{s}` is too large"))
}
