//! `--respect-robots`: one `robots.txt` per origin, fetched once, consulted before each page.
//!
//! The seed asks the crawler to be polite ("sending 1,000 concurrent requests to a small,
//! unsuspecting website is bad"); honouring `robots.txt` is the first rule of that. The file is
//! parsed by [`texting_robots`] (a parser tested against Google's reference test suite).
//! Rules: a 2xx file is obeyed for areq's agent name ([`USER_AGENT`](crate::fetch::USER_AGENT)'s
//! product token, `areq`); a 4xx (no file) or any failure allows everything, with a debug
//! line, so a site without `robots.txt` is crawled normally.
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

use texting_robots::Robot;
use tulip::sync::Event;
use tulip_http::ClientSession;
use url::Url;

/// The agent name matched against `User-agent:` lines.
pub const AGENT: &str = "areq";

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
        }
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
        let rules = entry.rules.borrow().clone();
        rules.is_none_or(|r| r.allows(url.as_str()))
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
                Rules::parse(&body)
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
