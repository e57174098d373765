//! `--respect-robots`: one `robots.txt` per origin, fetched once, consulted before each page.
//!
//! The seed asks the crawler to be polite ("sending 1,000 concurrent requests to a small,
//! unsuspecting website is bad"); honouring `robots.txt` is the first rule of that. The file is
//! parsed by [`texting_robots`] (a parser tested against Google's reference test suite).
//! Rules: a 2xx file is obeyed for areq's agent name ([`USER_AGENT`](crate::fetch::USER_AGENT)'s
//! product token, `areq`); a 4xx (no file) or any failure allows everything, with a debug
//! line, so a site without `robots.txt` is crawled normally.
//!
//! A `Crawl-delay` for areq's agent (or for `*` when no group names areq) is the time the site
//! asks between two requests: [`RobotsCache::crawl_delay`] gives it to the crawler, which makes
//! it its host's politeness delay when it is longer than `--delay` (see
//! [`Completion::host_delay`](crate::frontier::Completion::host_delay)). A file may ask for
//! anything, hours included, and a crawl must not stall on one host for that long, so the
//! delay used is capped at [`MAX_CRAWL_DELAY`] (30 s; `--max-crawl-delay` sets another cap,
//! 0 ignores `Crawl-delay`), with a warning naming the file when the cap applies.
//!
//! # Examples
//!
//! ```
//! let rules = areq::robots::Rules::parse(b"User-agent: *\nDisallow: /private/\n");
//! assert!(rules.allows("http://h/public/page"));
//! assert!(!rules.allows("http://h/private/page"));
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use texting_robots::Robot;
use tulip::sync::Event;
use tulip_http::ClientSession;
use url::Url;

/// The agent name matched against `User-agent:` lines.
pub const AGENT: &str = "areq";

/// The longest `Crawl-delay` obeyed by default: a longer one is cut to this (30 seconds, so a
/// host of a thousand pages still takes hours, not weeks). Heritrix caps at 300 s by default;
/// areq's crawls are shorter and interactive, hence a tenth of that.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

/// The rules of one `robots.txt`.
///
/// # Examples
///
/// ```
/// let rules = areq::robots::Rules::allow_all();
/// assert!(rules.allows("http://h/anything"));
/// ```
pub struct Rules {
    robot: Option<Robot>,
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("allow_all", &self.robot.is_none())
            .finish()
    }
}

impl Rules {
    /// Rules that allow every URL (no `robots.txt`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(areq::robots::Rules::allow_all().allows("http://h/x"));
    /// ```
    pub fn allow_all() -> Rules {
        Rules { robot: None }
    }

    /// Parses the body of a `robots.txt` for areq's agent; a file that does not parse allows
    /// everything.
    ///
    /// # Examples
    ///
    /// ```
    /// let rules = areq::robots::Rules::parse(b"User-agent: areq\nDisallow: /\n");
    /// assert!(!rules.allows("http://h/"));
    /// ```
    pub fn parse(body: &[u8]) -> Rules {
        Rules {
            robot: Robot::new(AGENT, body).ok(),
        }
    }

    /// Whether `url` may be fetched.
    ///
    /// # Examples
    ///
    /// ```
    /// let rules = areq::robots::Rules::parse(b"User-agent: other\nDisallow: /\n");
    /// assert!(rules.allows("http://h/"));
    /// ```
    pub fn allows(&self, url: &str) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url))
    }

    /// The `Crawl-delay` of the group that applies to areq, as written (not capped); `None`
    /// when there is none, or it is not a finite positive number of seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use areq::robots::Rules;
    ///
    /// let rules = Rules::parse(b"User-agent: *\nCrawl-delay: 2.5\n");
    /// assert_eq!(rules.crawl_delay(), Some(Duration::from_millis(2500)));
    /// assert_eq!(Rules::parse(b"User-agent: *\nCrawl-delay: -1\n").crawl_delay(), None);
    /// assert_eq!(Rules::allow_all().crawl_delay(), None);
    /// ```
    pub fn crawl_delay(&self) -> Option<Duration> {
        let seconds = self.robot.as_ref()?.delay?;
        // A huge value is still a duration (capped later); NaN, infinities and <= 0 are not.
        (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds.into()))
    }
}

/// An origin's rules, or the wait for them while the first task fetches them.
struct Entry {
    ready: Event,
    rules: RefCell<Option<Rc<Rules>>>,
}

/// The `robots.txt` of every origin met, each fetched once (concurrent askers wait for the
/// first fetch).
///
/// # Examples
///
/// ```
/// use areq::robots::RobotsCache;
///
/// tulip::run(async {
///     let cache = RobotsCache::new(tulip_http::ClientSession::new());
///     // A host where nothing listens: no file, so everything is allowed.
///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
///     let url = url::Url::parse(&format!("http://{}/x", listener.local_addr().unwrap())).unwrap();
///     drop(listener);
///     assert!(cache.allows(&url).await);
/// });
/// ```
pub struct RobotsCache {
    session: ClientSession,
    entries: RefCell<HashMap<String, Rc<Entry>>>,
    max_crawl_delay: Duration,
}

impl fmt::Debug for RobotsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RobotsCache")
            .field("origins", &self.entries.borrow().len())
            .finish()
    }
}

impl RobotsCache {
    /// An empty cache fetching through `session`.
    ///
    /// # Examples
    ///
    /// ```
    /// # tulip::run(async {
    /// let cache = areq::robots::RobotsCache::new(tulip_http::ClientSession::new());
    /// # let _ = cache;
    /// # });
    /// ```
    pub fn new(session: ClientSession) -> RobotsCache {
        RobotsCache {
            session,
            entries: RefCell::new(HashMap::new()),
            max_crawl_delay: MAX_CRAWL_DELAY,
        }
    }

    /// Caps the `Crawl-delay`s this cache hands out at `max` instead of [`MAX_CRAWL_DELAY`]
    /// (zero: every `Crawl-delay` is ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # tulip::run(async {
    /// let cache = areq::robots::RobotsCache::new(tulip_http::ClientSession::new())
    ///     .max_crawl_delay(Duration::from_secs(5));
    /// # let _ = cache;
    /// # });
    /// ```
    pub fn max_crawl_delay(mut self, max: Duration) -> RobotsCache {
        self.max_crawl_delay = max;
        self
    }

    /// Whether `url` may be fetched under its origin's `robots.txt`, fetching that file first
    /// if no task did yet.
    ///
    /// # Cancel safety
    ///
    /// If the task fetching an origin's file is cancelled, the origin is treated as having no
    /// `robots.txt` (everything allowed) and waiting tasks go on.
    ///
    /// # Examples
    ///
    /// See [`RobotsCache`].
    pub async fn allows(&self, url: &Url) -> bool {
        let rules = self.rules(url).await;
        rules.is_none_or(|r| r.allows(url.as_str()))
    }

    /// The delay `url`'s origin asks for between requests: its `Crawl-delay`, capped (see the
    /// [module docs](self)); zero when it gives none. Fetches the origin's `robots.txt` first
    /// if no task did yet.
    ///
    /// # Cancel safety
    ///
    /// As [`allows`](RobotsCache::allows).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let cache = areq::robots::RobotsCache::new(tulip_http::ClientSession::new());
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let url = url::Url::parse(&format!("http://{}/x", listener.local_addr().unwrap())).unwrap();
    ///     drop(listener); // no robots.txt there: no delay
    ///     assert!(cache.crawl_delay(&url).await.is_zero());
    /// });
    /// ```
    pub async fn crawl_delay(&self, url: &Url) -> Duration {
        let rules = self.rules(url).await;
        rules
            .and_then(|r| r.crawl_delay())
            .map_or(Duration::ZERO, |d| d.min(self.max_crawl_delay))
    }

    /// The rules of `url`'s origin, fetched by the first task that asks; `None` when that
    /// task was cancelled.
    async fn rules(&self, url: &Url) -> Option<Rc<Rules>> {
        let origin = url.origin().ascii_serialization();
        let existing = self.entries.borrow().get(&origin).cloned();
        let entry = match existing {
            Some(entry) => {
                entry.ready.wait().await;
                entry
            }
            None => {
                let entry = Rc::new(Entry {
                    ready: Event::new(),
                    rules: RefCell::new(None),
                });
                self.entries
                    .borrow_mut()
                    .insert(origin.clone(), entry.clone());
                let guard = SetOnDrop(entry.clone());
                let rules = self.fetch(&origin).await;
                *entry.rules.borrow_mut() = Some(Rc::new(rules));
                drop(guard);
                entry
            }
        };
        entry.rules.borrow().clone()
    }

    async fn fetch(&self, origin: &str) -> Rules {
        let robots_url = format!("{origin}/robots.txt");
        let response = match self.session.get(&robots_url).send().await {
            Ok(response) => response,
            Err(err) => {
                tracing::debug!("No robots.txt for {origin} ({err}); allowing everything");
                return Rules::allow_all();
            }
        };
        if !response.status().is_success() {
            tracing::debug!(
                "No robots.txt for {origin} (status {}); allowing everything",
                response.status().as_u16()
            );
            return Rules::allow_all();
        }
        match response.bytes().await {
            Ok(body) => {
                tracing::debug!("Read {robots_url} ({} bytes)", body.len());
                let rules = Rules::parse(&body);
                if let Some(delay) = rules.crawl_delay() {
                    if delay > self.max_crawl_delay {
                        tracing::warn!(
                            "{robots_url} asks for a Crawl-delay of {delay:?}; using the maximum, \
                             {:?}",
                            self.max_crawl_delay
                        );
                    } else {
                        tracing::info!("{robots_url} asks for a Crawl-delay of {delay:?}");
                    }
                }
                rules
            }
            Err(err) => {
                tracing::debug!("Could not read {robots_url} ({err}); allowing everything");
                Rules::allow_all()
            }
        }
    }
}

/// Sets the entry's event when the fetching task is done or cancelled, so waiters never hang.
struct SetOnDrop(Rc<Entry>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.ready.set();
    }
}
