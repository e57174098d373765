//! Fetching one URL: one GET through the shared session, retries for transient failures, and
//! the links of the page.
//!
//! The seed's counterpart is `fetch_html()` and the first half of `parse()`: one
//! `ClientSession` for every request (its pool reuses connections), `raise_for_status()`, then
//! `resp.text()`; any `aiohttp.ClientError` is logged as `aiohttp exception for URL [status]:
//! message` and the page yields nothing. [`Fetcher::fetch`] does the same with
//! [`tulip_http::ClientSession`], and adds what a crawler meeting real servers needs:
//!
//! - a time limit and a body size limit per request (a stalled server, a 50 MB page or a gzip
//!   bomb fail that page alone, with the reason);
//! - retries with exponential backoff for transient failures only — connection refused or
//!   reset, a truncated response, a timeout, a 5xx status — never for a 4xx;
//! - redirects are not followed here but returned ([`Fetched::redirect`]), so that the crawler
//!   can check each target against the seen-set and the scope (see [`crate::crawler`]);
//! - only HTML is parsed (by `Content-Type`); a body claiming to be HTML but binary is a
//!   failure ([`FailureKind::NotHtml`]);
//! - the page is read in its own encoding: the `Content-Type`'s `charset` goes with the body
//!   to [`links::extract_links_with_content_type`] (see [`crate::charset`]).
//!
//! # Examples
//!
//! ```
//! use areq::fetch::{FailureKind, FetchConfig, Fetcher};
//!
//! let fetcher = Fetcher::new(&FetchConfig::default());
//! assert!(FailureKind::Status(503).is_transient());
//! assert!(!FailureKind::Status(404).is_transient());
//! # let _ = fetcher;
//! ```

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use tulip_http::http::header::{CONTENT_TYPE, LOCATION};
use tulip_http::{ClientSession, ClientTimeout, ErrorKind};
use url::Url;

use crate::{charset, links};

/// The `User-Agent` areq sends, and the agent name it looks for in `robots.txt`.
pub const USER_AGENT: &str = concat!("areq/", env!("CARGO_PKG_VERSION"));

/// How requests are made.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let config = areq::fetch::FetchConfig {
///     timeout: Duration::from_secs(10),
///     retries: 0,
///     ..Default::default()
/// };
/// assert_eq!(config.limit, 100);
/// ```
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Connections open at once, all hosts together (aiohttp's `limit`, default 100).
    pub limit: usize,
    /// Connections open at once to one host (0 = no limit).
    pub per_host: usize,
    /// Time limit for one request, connecting and reading the body included.
    pub timeout: Duration,
    /// Retries after a transient failure (so at most `retries + 1` attempts).
    pub retries: u32,
    /// The wait before the first retry; it doubles for each further one, up to 30 s.
    pub backoff: Duration,
    /// Largest body accepted, after content decoding, in bytes.
    pub max_body: u64,
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            limit: 100,
            per_host: 0,
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_body: 10 * 1024 * 1024,
        }
    }
}

/// Why a page failed, grouped as the summary counts them.
///
/// # Examples
///
/// ```
/// use areq::fetch::FailureKind;
///
/// assert_eq!(FailureKind::Status(404).to_string(), "HTTP 404");
/// assert_eq!(FailureKind::RedirectLoop.to_string(), "redirect loop");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FailureKind {
    /// A 4xx or 5xx status.
    Status(u16),
    /// The request ran past its time limit (a stalled or slow server).
    Timeout,
    /// No connection (refused, unreachable).
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// The server broke HTTP: reset mid-response, truncated body, malformed headers.
    Protocol,
    /// The body is over the size limit (after decoding: gzip bombs land here).
    TooLarge,
    /// The body's `Content-Encoding` could not be decoded.
    Decode,
    /// A redirect led back to a URL of its own chain.
    RedirectLoop,
    /// More redirects in a row than allowed.
    TooManyRedirects,
    /// A redirect without a usable `Location`, or to a non-http(s) URL.
    InvalidRedirect,
    /// The body is binary although the `Content-Type` says HTML.
    NotHtml,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// Whether a retry may succeed: connection failures, resets and truncations, timeouts and
    /// 5xx statuses. A 4xx is never retried.
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::fetch::FailureKind;
    ///
    /// assert!(FailureKind::Timeout.is_transient());
    /// assert!(!FailureKind::TooLarge.is_transient());
    /// ```
    pub fn is_transient(self) -> bool {
        match self {
            FailureKind::Status(status) => status >= 500,
            FailureKind::Timeout | FailureKind::Connect | FailureKind::Protocol => true,
            _ => false,
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Status(status) => write!(f, "HTTP {status}"),
            FailureKind::Timeout => f.write_str("timeout"),
            FailureKind::Connect => f.write_str("connection failed"),
            FailureKind::Dns => f.write_str("DNS"),
            FailureKind::Tls => f.write_str("TLS"),
            FailureKind::Protocol => f.write_str("reset or truncated"),
            FailureKind::TooLarge => f.write_str("body too large"),
            FailureKind::Decode => f.write_str("bad content encoding"),
            FailureKind::RedirectLoop => f.write_str("redirect loop"),
            FailureKind::TooManyRedirects => f.write_str("too many redirects"),
            FailureKind::InvalidRedirect => f.write_str("invalid redirect"),
            FailureKind::NotHtml => f.write_str("not HTML"),
            FailureKind::Other => f.write_str("other"),
        }
    }
}

/// A page that failed: what, why, and after how many attempts.
///
/// Its `Display` is the seed's error line: `HTTP exception for URL [404]: Not Found`, with
/// `[None]` when there was no status.
///
/// # Examples
///
/// ```
/// use areq::fetch::{FailureKind, FetchError};
///
/// let url = url::Url::parse("http://h/missing").unwrap();
/// let err = FetchError::new(FailureKind::Status(404), url, "Not Found");
/// assert_eq!(err.to_string(), "HTTP exception for http://h/missing [404]: Not Found");
/// ```
#[derive(Debug, Clone)]
pub struct FetchError {
    /// The kind, as counted in the summary.
    pub kind: FailureKind,
    /// The URL that failed.
    pub url: Url,
    /// The reason in words.
    pub message: String,
    /// How many attempts were made.
    pub attempts: u32,
}

impl FetchError {
    /// A failure of `kind` for `url` after one attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::fetch::{FailureKind, FetchError};
    ///
    /// let err = FetchError::new(FailureKind::Timeout, url::Url::parse("http://h/").unwrap(), "stalled");
    /// assert_eq!(err.attempts, 1);
    /// ```
    pub fn new(kind: FailureKind, url: Url, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            url,
            message: message.into(),
            attempts: 1,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP exception for {} [", self.url)?;
        match self.kind {
            FailureKind::Status(status) => write!(f, "{status}")?,
            _ => f.write_str("None")?,
        }
        write!(f, "]: {}", self.message)?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for FetchError {}

/// One response received.
///
/// # Examples
///
/// ```
/// let page = areq::fetch::Fetched {
///     url: url::Url::parse("http://h/").unwrap(),
///     status: 200,
///     links: vec![],
///     redirect: None,
///     parsed: true,
/// };
/// assert!(page.redirect.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL requested.
    pub url: Url,
    /// The status (2xx or 3xx: others are [`FetchError`]s).
    pub status: u16,
    /// The page's links (empty unless it was parsed).
    pub links: Vec<Url>,
    /// For a 3xx with a `Location`: where it points, made absolute (fragment removed; any
    /// scheme — the crawler refuses non-http(s) targets).
    pub redirect: Option<Url>,
    /// Whether the body was HTML and was parsed.
    pub parsed: bool,
}

/// Makes requests through one [`ClientSession`]. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let fetcher = areq::fetch::Fetcher::new(&areq::fetch::FetchConfig::default());
/// # let _ = fetcher;
/// ```
pub struct Fetcher {
    session: ClientSession,
    config: FetchConfig,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher with its own session, configured from `config`: the connection limits, the
    /// time limit (as the session's `total` timeout), the body limit, the `User-Agent`, and no
    /// automatic redirects.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = areq::fetch::FetchConfig { limit: 10, per_host: 2, ..Default::default() };
    /// let fetcher = areq::fetch::Fetcher::new(&config);
    /// assert_eq!(fetcher.config().per_host, 2);
    /// ```
    pub fn new(config: &FetchConfig) -> Fetcher {
        let session = ClientSession::builder()
            .limit(config.limit)
            .limit_per_host(config.per_host)
            .timeout(ClientTimeout::new().total(config.timeout))
            .max_body_size(config.max_body)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .build();
        Fetcher {
            session,
            config: config.clone(),
        }
    }

    /// The configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let fetcher = areq::fetch::Fetcher::new(&Default::default());
    /// assert_eq!(fetcher.config().retries, 2);
    /// ```
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The session, shared with whoever needs another request (the `robots.txt` cache).
    ///
    /// # Examples
    ///
    /// ```
    /// let fetcher = areq::fetch::Fetcher::new(&Default::default());
    /// let session: &tulip_http::ClientSession = fetcher.session();
    /// # let _ = session;
    /// ```
    pub fn session(&self) -> &ClientSession {
        &self.session
    }

    /// GETs `url` (retrying transient failures), logs the seed's lines, and reads the links
    /// of an HTML page.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] for a 4xx/5xx status or any failure to get the whole page; it is
    /// logged here at ERROR level.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it abandons the request (its connection is not reused).
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::fetch::{FailureKind, FetchConfig, Fetcher};
    ///
    /// tulip::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let url = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    ///     drop(listener); // nobody listens there now
    ///     let fetcher = Fetcher::new(&FetchConfig { retries: 0, ..Default::default() });
    ///     let err = fetcher.fetch(&url).await.unwrap_err();
    ///     assert_eq!(err.kind, FailureKind::Connect);
    /// });
    /// ```
    pub async fn fetch(&self, url: &Url) -> Result<Fetched, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(url).await {
                Ok(page) => return Ok(page),
                Err(mut err) => {
                    err.attempts = attempt;
                    if err.kind.is_transient() && attempt <= self.config.retries {
                        let wait = self.backoff(attempt);
                        tracing::warn!(
                            "Retrying {url} in {wait:?} (attempt {} of {}): {}",
                            attempt + 1,
                            self.config.retries + 1,
                            err.message
                        );
                        tulip::time::sleep(wait).await;
                        continue;
                    }
                    tracing::error!("{err}");
                    return Err(err);
                }
            }
        }
    }

    /// The wait before retry number `attempt` (1 for the first): `backoff × 2^(attempt-1)`,
    /// at most 30 s. Deterministic, so crawls on the test clock are reproducible.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << (attempt - 1).min(16);
        self.config
            .backoff
            .saturating_mul(factor)
            .min(Duration::from_secs(30))
    }

    async fn attempt(&self, url: &Url) -> Result<Fetched, FetchError> {
        let response = self
            .session
            .get(url.as_str())
            .allow_redirects(false)
            .send()
            .await
            .map_err(|e| from_http(url, &e))?;
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            let reason = status.canonical_reason().unwrap_or("");
            let reason = if reason.is_empty() {
                response.reason().to_owned()
            } else {
                reason.to_owned()
            };
            return Err(FetchError::new(
                FailureKind::Status(status.as_u16()),
                url.clone(),
                reason,
            ));
        }
        tracing::info!("Got response [{}] for URL: {}", status.as_u16(), url);
        let mut page = Fetched {
            url: url.clone(),
            status: status.as_u16(),
            links: Vec::new(),
            redirect: None,
            parsed: false,
        };
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok());
            let Some(location) = location else {
                return Err(FetchError::new(
                    FailureKind::InvalidRedirect,
                    url.clone(),
                    format!("{} without a usable Location header", status.as_u16()),
                ));
            };
            let mut target = url.join(location.trim()).map_err(|e| {
                FetchError::new(
                    FailureKind::InvalidRedirect,
                    url.clone(),
                    format!("bad Location `{location}`: {e}"),
                )
            })?;
            target.set_fragment(None);
            tracing::debug!("{url} redirects to {target}");
            page.redirect = Some(target);
            return Ok(page);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !links::is_html_content_type(content_type.as_deref()) {
            tracing::debug!(
                "Not parsing {url}: Content-Type {}",
                content_type.as_deref().unwrap_or("")
            );
            tracing::info!("Found 0 links for {url}");
            return Ok(page);
        }
        let body = response.bytes().await.map_err(|e| from_http(url, &e))?;
        if links::looks_binary(&body) && !declares_utf16(content_type.as_deref()) {
            return Err(FetchError::new(
                FailureKind::NotHtml,
                url.clone(),
                format!(
                    "binary body although Content-Type is {}",
                    content_type.as_deref().unwrap_or("missing")
                ),
            ));
        }
        page.links = links::extract_links_with_content_type(&body, url, content_type.as_deref());
        page.parsed = true;
        tracing::info!("Found {} links for {}", page.links.len(), url);
        Ok(page)
    }
}

/// Whether a `Content-Type` says the body is UTF-16 (whose text is full of NUL bytes).
fn declares_utf16(content_type: Option<&str>) -> bool {
    content_type
        .and_then(charset::content_type_charset)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .is_some_and(|encoding| {
            encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE
        })
}

/// A tulip-http error as a [`FetchError`]: its kind, and the reason with what lies underneath.
fn from_http(url: &Url, err: &tulip_http::Error) -> FetchError {
    let (kind, what) = match err.kind() {
        ErrorKind::Dns => (FailureKind::Dns, "could not resolve the host".to_owned()),
        ErrorKind::Connect => (FailureKind::Connect, "could not connect".to_owned()),
        ErrorKind::Tls => (FailureKind::Tls, "TLS handshake failed".to_owned()),
        ErrorKind::Timeout { kind, after } => (
            FailureKind::Timeout,
            format!("{kind} timeout ({after:?}) ran out"),
        ),
        ErrorKind::BodyTooLarge { limit } => (
            FailureKind::TooLarge,
            format!("body over the limit of {limit} bytes"),
        ),
        ErrorKind::Protocol => (
            FailureKind::Protocol,
            "connection reset or response broken off".to_owned(),
        ),
        ErrorKind::Decode => (FailureKind::Decode, "body could not be decoded".to_owned()),
        ErrorKind::TooManyRedirects { max } => (
            FailureKind::TooManyRedirects,
            format!("more than {max} redirects"),
        ),
        ErrorKind::InvalidRedirect => (FailureKind::InvalidRedirect, "bad redirect".to_owned()),
        ErrorKind::Status { status } => (
            FailureKind::Status(status.as_u16()),
            status.canonical_reason().unwrap_or("").to_owned(),
        ),
        _ => (FailureKind::Other, err.to_string()),
    };
    let message = match err.source() {
        Some(source) => format!("{what}: {source}"),
        None => what,
    };
    FetchError::new(kind, url.clone(), message)
}
