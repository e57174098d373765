//! A cookie jar for [`ClientSession`](crate::ClientSession): aiohttp's `CookieJar`.
//!
//! aiohttp's `ClientSession` keeps cookies in an `aiohttp.CookieJar` unless it is given a
//! `DummyCookieJar`, which stores nothing. A tulip-http session is the other way round: it keeps
//! no cookies (the `DummyCookieJar` choice) until it is given a [`CookieJar`] with
//! [`ClientSessionBuilder::cookie_jar`](crate::ClientSessionBuilder::cookie_jar). The session
//! then stores every `Set-Cookie` of every response, redirects included, and sends the matching
//! cookies with every request.
//!
//! The rules are RFC 6265's, from the [`cookie_store`] crate (which reqwest uses too): a cookie
//! without `Domain` goes back only to the host that set it, one with `Domain=example.com` to
//! that domain and its subdomains; `Path` limits it to a path prefix (by default the directory
//! of the URL that set it); `Secure` ones only go over https (or to localhost); `Max-Age` and
//! `Expires` end them (checked against the system clock, as cookie expiry dates are wall-clock
//! dates), and a server deletes one by sending it already expired.
//!
//! | aiohttp | tulip-http |
//! |---|---|
//! | `aiohttp.CookieJar()` | [`CookieJar::new`] |
//! | `ClientSession(cookie_jar=DummyCookieJar())` | the default: no jar |
//! | `jar.update_cookies({"k": "v"}, response_url=url)` | [`CookieJar::insert`] |
//! | `jar.filter_cookies(url)` | [`CookieJar::cookies`] |
//! | `jar.clear()`, `len(jar)` | [`CookieJar::clear`], [`CookieJar::len`] |
//!
//! Two differences from aiohttp's jar: cookies from IP-address hosts are kept (aiohttp needs
//! `CookieJar(unsafe=True)` for that), which local test servers need; and no public-suffix list
//! is shipped, so, like aiohttp, `Domain=co.uk` is not recognised as a public suffix, but a
//! single-label `Domain` (`Domain=com`) is refused, so one site cannot set a cookie for a whole
//! top-level domain.
//!
//! # Examples
//!
//! ```
//! use tulip_http::{CookieJar, Url};
//!
//! let jar = CookieJar::new();
//! let site = Url::parse("https://example.com/").unwrap();
//! jar.insert("theme", "dark", &site);
//!
//! // A clone is the same jar: give one to a session, keep one to look inside.
//! let shared = jar.clone();
//! assert_eq!(shared.cookies(&site), vec![("theme".to_string(), "dark".to_string())]);
//! assert!(jar.cookies(&Url::parse("https://example.org/").unwrap()).is_empty());
//! ```

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use cookie_store::{CookieStore, RawCookie};
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};
use url::Url;

/// Cookies received from servers, sent back to the URLs they match: aiohttp's `CookieJar`.
///
/// A `CookieJar` is a handle: clones share one jar (it lives on the loop thread, like the
/// session that uses it). See the [module docs](crate::cookie) for the rules.
///
/// # Examples
///
/// ```
/// use tulip_http::{CookieJar, Url};
///
/// let jar = CookieJar::new();
/// let login = Url::parse("http://127.0.0.1:8080/login").unwrap();
/// jar.insert("session", "1f2e3d", &login);
/// assert_eq!(jar.len(), 1);
/// // Sent to every path of that host.
/// let page = Url::parse("http://127.0.0.1:8080/account/settings").unwrap();
/// assert_eq!(jar.cookies(&page)[0].1, "1f2e3d");
/// ```
#[derive(Clone, Default)]
pub struct CookieJar {
    store: Rc<RefCell<CookieStore>>,
}

impl CookieJar {
    /// An empty jar.
    ///
    /// # Examples
    ///
    /// ```
    /// let jar = tulip_http::CookieJar::new();
    /// assert!(jar.is_empty());
    /// ```
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// The `(name, value)` of every unexpired cookie a request to `url` would send, in the
    /// order of its `Cookie` header: longer paths first, then by name.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{CookieJar, Url};
    ///
    /// let jar = CookieJar::new();
    /// let url = Url::parse("https://shop.example/cart").unwrap();
    /// jar.insert("b", "2", &url);
    /// jar.insert("a", "1", &url);
    /// let names: Vec<String> = jar.cookies(&url).into_iter().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn cookies(&self, url: &Url) -> Vec<(String, String)> {
        let store = self.store.borrow();
        let mut matching = store.matches(url);
        matching.sort_by(|a, b| {
            b.path
                .len()
                .cmp(&a.path.len())
                .then_with(|| a.name().cmp(b.name()))
        });
        matching
            .into_iter()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect()
    }

    /// Stores the cookie `name=value` for the host of `url`, for every path, until the jar is
    /// cleared; aiohttp's `update_cookies({name: value}, response_url=url)`. Returns whether it
    /// was stored.
    ///
    /// A cookie with the same name for that host and path is replaced. Nothing is stored if
    /// `url` has no host, if `name` is empty or not an HTTP token, or if `value` holds a
    /// control character, a `;` or a non-ASCII character (percent-encode such values): those
    /// could not be sent in a `Cookie` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{CookieJar, Url};
    ///
    /// let jar = CookieJar::new();
    /// let url = Url::parse("http://localhost:8080/").unwrap();
    /// assert!(jar.insert("token", "abc123", &url));
    /// assert!(jar.insert("token", "def456", &url)); // replaces it
    /// assert_eq!(jar.len(), 1);
    /// assert!(!jar.insert("bad name", "x", &url));
    /// assert!(!jar.insert("name", "a;b", &url));
    /// ```
    pub fn insert(&self, name: &str, value: &str, url: &Url) -> bool {
        if !is_token(name) || !is_sendable_value(value) {
            tracing::debug!("not storing cookie {name:?}: not a valid cookie name and value");
            return false;
        }
        let mut cookie = RawCookie::new(name.to_owned(), value.to_owned());
        cookie.set_path("/");
        match self.store.borrow_mut().insert_raw(&cookie, url) {
            Ok(_) => true,
            Err(err) => {
                tracing::debug!("not storing cookie {name:?} for {url}: {err}");
                false
            }
        }
    }

    /// Removes every cookie.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{CookieJar, Url};
    ///
    /// let jar = CookieJar::new();
    /// jar.insert("a", "1", &Url::parse("http://example.com/").unwrap());
    /// jar.clear();
    /// assert!(jar.is_empty());
    /// ```
    pub fn clear(&self) {
        self.store.borrow_mut().clear();
    }

    /// How many unexpired cookies the jar holds, for every host.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_http::{CookieJar, Url};
    ///
    /// let jar = CookieJar::new();
    /// jar.insert("a", "1", &Url::parse("http://one.example/").unwrap());
    /// jar.insert("a", "1", &Url::parse("http://two.example/").unwrap());
    /// assert_eq!(jar.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.store.borrow().iter_unexpired().count()
    }

    /// Whether the jar holds no unexpired cookie.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tulip_http::CookieJar::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.store.borrow().iter_unexpired().next().is_none()
    }

    /// Stores the cookies of every `Set-Cookie` header of a response from `url`. A header that
    /// does not parse, or that the rules refuse (a `Domain` the host is not in), is skipped.
    pub(crate) fn store_response_cookies(&self, url: &Url, headers: &HeaderMap) {
        let mut store = self.store.borrow_mut();
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else {
                tracing::debug!("skipping a Set-Cookie from {url}: not visible ASCII");
                continue;
            };
            let cookie = match RawCookie::parse(text.to_owned()) {
                Ok(cookie) => cookie,
                Err(err) => {
                    tracing::debug!("skipping Set-Cookie {text:?} from {url}: {err}");
                    continue;
                }
            };
            if let Some(domain) = cookie.domain()
                && is_top_level(domain, url)
            {
                tracing::debug!("skipping Set-Cookie from {url}: Domain={domain} is too broad");
                continue;
            }
            if let Err(err) = store.insert_raw(&cookie, url) {
                tracing::debug!("skipping Set-Cookie {:?} from {url}: {err}", cookie.name());
            }
        }
    }

    /// The `Cookie` header for a request to `url` (`a=1; b=2`), None if no cookie matches.
    pub(crate) fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        let cookies = self.cookies(url);
        if cookies.is_empty() {
            return None;
        }
        let header = cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        match HeaderValue::from_str(&header) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::debug!("not sending cookies to {url}: they do not make a valid header");
                None
            }
        }
    }
}

impl fmt::Debug for CookieJar {
    /// Shows the count only: cookie values are often secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieJar")
            .field("len", &self.len())
            .finish()
    }
}

/// Whether a `Domain` attribute names a single label (`com`, `local`) other than the host
/// itself: a domain every site under it would share.
fn is_top_level(domain: &str, url: &Url) -> bool {
    let domain = domain.trim_start_matches('.');
    !domain.contains('.')
        && !url
            .host_str()
            .is_some_and(|host| host.eq_ignore_ascii_case(domain))
}

/// An HTTP token (RFC 9110): what a cookie name must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A value that can go in a `Cookie` header without breaking it.
fn is_sendable_value(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// A jar that received `set_cookies` from `from`.
    fn jar_with(from: &str, set_cookies: &[&str]) -> CookieJar {
        let jar = CookieJar::new();
        jar.store_response_cookies(&url(from), &set_cookie_headers(set_cookies));
        jar
    }

    fn set_cookie_headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(SET_COOKIE, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn header(jar: &CookieJar, to: &str) -> Option<String> {
        jar.cookie_header(&url(to))
            .map(|v| v.to_str().unwrap().to_owned())
    }

    fn names(jar: &CookieJar, to: &str) -> Vec<String> {
        jar.cookies(&url(to)).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn every_set_cookie_is_stored_and_sent_back() {
        let jar = jar_with(
            "http://example.com/",
            &["a=1", "b=2; HttpOnly", "c=\"q u\""],
        );
        assert_eq!(jar.len(), 3);
        assert_eq!(
            header(&jar, "http://example.com/").as_deref(),
            Some("a=1; b=2; c=\"q u\"")
        );
        assert_eq!(header(&jar, "http://example.org/"), None);
        // A later value replaces the earlier one.
        jar.store_response_cookies(&url("http://example.com/"), &set_cookie_headers(&["a=9"]));
        assert_eq!(
            header(&jar, "http://example.com/").as_deref(),
            Some("a=9; b=2; c=\"q u\"")
        );
    }

    #[test]
    fn bad_set_cookies_are_skipped_and_the_rest_kept() {
        let mut headers = set_cookie_headers(&["=nameless", "good=1", "novalue"]);
        headers.append(
            SET_COOKIE,
            HeaderValue::from_bytes(b"utf8=\xc3\xa9").unwrap(),
        );
        let jar = CookieJar::new();
        jar.store_response_cookies(&url("http://example.com/"), &headers);
        assert_eq!(names(&jar, "http://example.com/"), ["good"]);
    }

    #[test]
    fn paths_match_by_prefix_at_a_slash() {
        let jar = jar_with(
            "http://example.com/",
            &["app=1; Path=/app", "root=1; Path=/"],
        );
        assert_eq!(names(&jar, "http://example.com/app"), ["app", "root"]);
        assert_eq!(
            names(&jar, "http://example.com/app/deep/page?q=1"),
            ["app", "root"]
        );
        assert_eq!(names(&jar, "http://example.com/"), ["root"]);
        assert_eq!(names(&jar, "http://example.com/application"), ["root"]);
        // Longer paths go first in the header.
        assert_eq!(
            header(&jar, "http://example.com/app/x").as_deref(),
            Some("app=1; root=1")
        );
    }

    #[test]
    fn without_a_path_the_directory_of_the_url_is_used() {
        let jar = jar_with("http://example.com/docs/page.html", &["d=1"]);
        assert_eq!(names(&jar, "http://example.com/docs/other"), ["d"]);
        assert!(names(&jar, "http://example.com/").is_empty());
        // But insert() is for every path.
        jar.insert("i", "1", &url("http://example.com/docs/page.html"));
        assert_eq!(names(&jar, "http://example.com/"), ["i"]);
    }

    #[test]
    fn host_only_and_domain_cookies() {
        let jar = jar_with(
            "http://www.example.com/",
            &[
                "host=1",
                "wide=1; Domain=example.com",
                "dotted=1; Domain=.example.com",
            ],
        );
        assert_eq!(
            names(&jar, "http://www.example.com/"),
            ["dotted", "host", "wide"]
        );
        assert_eq!(names(&jar, "http://example.com/"), ["dotted", "wide"]);
        assert_eq!(names(&jar, "http://a.b.example.com/"), ["dotted", "wide"]);
        assert!(names(&jar, "http://notexample.com/").is_empty());
        assert!(names(&jar, "http://example.org/").is_empty());
    }

    #[test]
    fn foreign_and_top_level_domains_are_refused() {
        let jar = jar_with(
            "http://www.example.com/",
            &[
                "other=1; Domain=other.com",
                "tld=1; Domain=com",
                "tld2=1; Domain=.com",
            ],
        );
        assert!(jar.is_empty());
        // A single-label host may still set a cookie for itself.
        let jar = jar_with("http://localhost:3000/", &["l=1; Domain=localhost"]);
        assert_eq!(names(&jar, "http://localhost:3000/"), ["l"]);
    }

    #[test]
    fn ip_hosts_keep_cookies_for_that_address_only() {
        let jar = jar_with("http://127.0.0.1:8080/", &["ip=1"]);
        assert_eq!(names(&jar, "http://127.0.0.1:9999/x"), ["ip"]);
        assert!(names(&jar, "http://127.0.0.2:8080/").is_empty());
    }

    #[test]
    fn secure_cookies_only_go_over_https() {
        let jar = jar_with("https://example.com/", &["s=1; Secure", "p=1"]);
        assert_eq!(names(&jar, "https://example.com/"), ["p", "s"]);
        assert_eq!(names(&jar, "http://example.com/"), ["p"]);
    }

    #[test]
    fn expiry() {
        let jar = jar_with(
            "http://example.com/",
            &[
                "old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
                "future=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
                "hour=1; Max-Age=3600",
                "gone=1; Max-Age=0",
                "del=1",
            ],
        );
        assert_eq!(
            names(&jar, "http://example.com/"),
            ["del", "future", "hour"]
        );
        assert_eq!(jar.len(), 3);
        // Max-Age wins over Expires, and a server deletes a cookie by expiring it.
        jar.store_response_cookies(
            &url("http://example.com/"),
            &set_cookie_headers(&[
                "del=; Max-Age=0",
                "hour=2; Max-Age=-1",
                "future=2; Max-Age=60; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
            ]),
        );
        assert_eq!(
            jar.cookies(&url("http://example.com/")),
            [("future".into(), "2".into())]
        );
        assert_eq!(jar.len(), 1);
    }

    #[test]
    fn clear_len_and_clones_share_one_jar() {
        let jar = CookieJar::new();
        let other = jar.clone();
        assert!(jar.is_empty());
        assert!(other.insert("a", "1", &url("http://one.example/")));
        assert!(other.insert("b", "2", &url("http://two.example/")));
        assert_eq!((jar.len(), jar.is_empty()), (2, false));
        assert_eq!(format!("{jar:?}"), "CookieJar { len: 2 }");
        jar.clear();
        assert!(other.is_empty());
        assert_eq!(header(&other, "http://one.example/"), None);
    }

    #[test]
    fn insert_refuses_what_cannot_be_sent() {
        let jar = CookieJar::new();
        let to = url("http://example.com/");
        for (name, value) in [
            ("", "x"),
            ("a b", "x"),
            ("a;b", "x"),
            ("ok", "x;y"),
            ("ok", "é"),
            ("ok", "a\nb"),
        ] {
            assert!(!jar.insert(name, value, &to), "{name:?}={value:?}");
        }
        assert!(!jar.insert("ok", "x", &url("data:text/plain,hi")));
        assert!(jar.is_empty());
        assert!(jar.insert("ok", "spaces, commas and \"quotes\"", &to));
        assert_eq!(
            header(&jar, "http://example.com/").as_deref(),
            Some("ok=spaces, commas and \"quotes\"")
        );
    }
}
