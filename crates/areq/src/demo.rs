//! The demo site of `areq --demo`: a generated web site served on 127.0.0.1 in the same
//! process, and the exact answer a crawl of it must give.
//!
//! The seed crawls eight real sites listed in `urls.txt`, one of them a 404. A crawler's demo
//! (and its tests) cannot depend on the Internet, so [`DemoSite`] generates a site from a seed
//! number: a few thousand pages linking to each other, with what a crawler meets in the wild —
//! links to pages that do not exist (404), a redirect, a slow page, a plain-text file, links to
//! another host, `mailto:` and `javascript:` links, a `robots.txt` that disallows a directory,
//! and every way of writing an `href` (quoted three ways, upper case, relative, root-relative,
//! absolute, with fragments, with `&amp;`, under a `<base href>`, on `<a>`, `<link>` and
//! `<area>`), plus "trap" links inside comments and scripts that a correct parser never sees
//! (they all lead to 404s, so following one shows up in the summary).
//!
//! The same model that renders the pages computes the expected crawl
//! ([`DemoSite::expected_crawl`]) without parsing any HTML, so tests compare areq's output with
//! an independent answer. [`serve`] runs the site with [`tulip_http::server`] and counts the
//! requests per path.
//!
//! # Examples
//!
//! ```
//! use areq::demo::{DemoConfig, DemoSite};
//! use url::Url;
//!
//! let site = DemoSite::new(DemoConfig { pages: 50, ..DemoConfig::default() });
//! let base = Url::parse("http://127.0.0.1:8080/").unwrap();
//! let expected = site.expected_crawl(&base, false);
//! assert!(expected.fetched.contains("/page/49")); // every page is reachable
//! assert!(!expected.fetched.iter().any(|p| p.starts_with("/trap/")));
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use tulip_http::StatusCode;
use tulip_http::server::{Request, Response, Router, Server, ServerHandle};
use url::Url;

/// The shape of a generated site.
///
/// # Examples
///
/// ```
/// let config = areq::demo::DemoConfig::default();
/// assert_eq!(config.pages, 3000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    /// The generator's seed: the same seed gives the same site.
    pub seed: u64,
    /// How many `/page/N` pages.
    pub pages: usize,
    /// How long `/slow` takes to answer.
    pub slow_delay: Duration,
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig {
            seed: 2018,
            pages: 3000,
            slow_delay: Duration::from_millis(1500),
        }
    }
}

/// Where a generated link points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Page(usize),
    /// `/missing/N`: 404.
    Missing(usize),
    /// `/old/N`: 301 to a page.
    Redirect(usize),
    /// `/slow`.
    Slow,
    /// `/data/N.txt?x=1&y=2`: text/plain.
    Data(usize),
    /// `/private/N`: disallowed by robots.txt.
    Private(usize),
    /// Another host.
    External(usize),
    Mailto,
    Javascript,
    /// `#top`: the page itself.
    SelfFragment,
}

/// How a link's `href` is written.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// 0 double quotes, 1 single quotes, 2 unquoted, 3 `HREF="…"`.
    quote: u8,
    /// 0 root-relative, 1 absolute, 2 relative to the page.
    form: u8,
    fragment: bool,
    /// 0 `<a>`, 1 `<area>` (inside a `<map>`).
    element: u8,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    target: Target,
    style: Style,
}

/// A small deterministic generator (SplitMix64): no dependency, same site everywhere.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A generated site. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use areq::demo::{DemoConfig, DemoSite};
///
/// let a = DemoSite::new(DemoConfig { pages: 20, ..DemoConfig::default() });
/// let b = DemoSite::new(DemoConfig { pages: 20, ..DemoConfig::default() });
/// let base = url::Url::parse("http://h/").unwrap();
/// assert_eq!(a.page_links(&base, "/page/3"), b.page_links(&base, "/page/3")); // deterministic
/// ```
#[derive(Debug)]
pub struct DemoSite {
    config: DemoConfig,
    /// The links of `/page/N`, by N.
    pages: Vec<Vec<Link>>,
}

/// What a crawl of the demo site from `/` must give (same host, any depth).
///
/// # Examples
///
/// ```
/// let site = areq::demo::DemoSite::new(areq::demo::DemoConfig { pages: 10, ..Default::default() });
/// let expected = site.expected_crawl(&url::Url::parse("http://h/").unwrap(), true);
/// assert!(expected.fetched.contains("/robots.txt"));
/// assert!(expected.lines.iter().all(|(source, _)| source.starts_with("http://h/")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedCrawl {
    /// Every path (with its query) requested, each exactly once.
    pub fetched: BTreeSet<String>,
    /// Every `(source, link)` output line.
    pub lines: BTreeSet<(String, String)>,
    /// How many of the fetched paths answer with a 4xx.
    pub not_found: usize,
}

impl DemoSite {
    /// Generates the site.
    ///
    /// # Examples
    ///
    /// ```
    /// let site = areq::demo::DemoSite::new(Default::default());
    /// assert_eq!(site.config().pages, 3000);
    /// ```
    pub fn new(config: DemoConfig) -> DemoSite {
        let mut rng = SplitMix(config.seed);
        let n = config.pages.max(1);
        let mut pages = Vec::with_capacity(n);
        for i in 0..n {
            let mut targets = Vec::new();
            if i + 1 < n {
                targets.push(Target::Page(i + 1));
            }
            for _ in 0..3 + rng.below(20) {
                targets.push(Target::Page(rng.below(n)));
            }
            let extras = [
                (97, 3, Target::Missing(i)),
                (211, 5, Target::Redirect(i)),
                (50, 7, Target::Data(i)),
                (40, 11, Target::External(i)),
                (60, 13, Target::Private(i)),
                (30, 1, Target::Mailto),
                (30, 2, Target::Javascript),
                (5, 0, Target::SelfFragment),
            ];
            for (modulus, rest, target) in extras {
                if i % modulus == rest {
                    targets.push(target);
                }
            }
            if i == 1 {
                targets.push(Target::Slow);
            }
            let links = targets
                .into_iter()
                .map(|target| {
                    let bits = rng.next();
                    Link {
                        target,
                        style: Style {
                            quote: (bits & 3) as u8,
                            form: ((bits >> 2) % 3) as u8,
                            fragment: (bits >> 4) & 7 == 0,
                            element: u8::from((bits >> 7) & 15 == 0),
                        },
                    }
                })
                .collect();
            pages.push(links);
        }
        DemoSite { config, pages }
    }

    /// The site's configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let site = areq::demo::DemoSite::new(areq::demo::DemoConfig { seed: 7, ..Default::default() });
    /// assert_eq!(site.config().seed, 7);
    /// ```
    pub fn config(&self) -> &DemoConfig {
        &self.config
    }

    fn redirect_target(&self, i: usize) -> usize {
        (i * 7 + 3) % self.pages.len()
    }

    /// The path (and query) of a link target on this site, `None` for other hosts and schemes.
    fn target_path(&self, page: usize, target: Target) -> Option<String> {
        Some(match target {
            Target::Page(j) => format!("/page/{j}"),
            Target::Missing(j) => format!("/missing/{j}"),
            Target::Redirect(j) => format!("/old/{j}"),
            Target::Slow => "/slow".to_owned(),
            Target::Data(j) => format!("/data/{j}.txt?x=1&y=2"),
            Target::Private(j) => format!("/private/{j}"),
            // Under `<base href=".../page/">`, `#top` is the base itself, as in browsers.
            Target::SelfFragment if page % 25 == 0 => "/page/".to_owned(),
            Target::SelfFragment => format!("/page/{page}"),
            Target::External(_) | Target::Mailto | Target::Javascript => return None,
        })
    }

    /// The `href` as written in the HTML (before entity decoding).
    fn href(&self, base: &Url, page: usize, link: &Link) -> String {
        let mut href = match link.target {
            Target::External(j) => format!("http://external.invalid/page/{j}"),
            Target::Mailto => "mailto:webmaster@example.invalid".to_owned(),
            Target::Javascript => "javascript:void(0)".to_owned(),
            Target::SelfFragment => return "#top".to_owned(),
            target => {
                let path = self.target_path(page, target).unwrap_or_default();
                let path = path.replace('&', "&amp;");
                match link.style.form {
                    1 => format!("{}{}", origin(base), path),
                    2 => match path.strip_prefix("/page/") {
                        Some(rest) => rest.to_owned(),
                        None => format!("..{path}"),
                    },
                    _ => path,
                }
            }
        };
        if link.style.fragment {
            href.push_str("#section-2");
        }
        href
    }

    /// The absolute links a correct parser finds on the HTML page at `path` (`/`, `/slow`,
    /// `/private/N` or `/page/N`), each once in order of appearance; `None` for other paths.
    ///
    /// # Examples
    ///
    /// ```
    /// let site = areq::demo::DemoSite::new(areq::demo::DemoConfig { pages: 5, ..Default::default() });
    /// let base = url::Url::parse("http://h/").unwrap();
    /// let links = site.page_links(&base, "/").unwrap();
    /// assert_eq!(links[0].as_str(), "http://h/page/0");
    /// assert!(site.page_links(&base, "/missing/1").is_none());
    /// ```
    pub fn page_links(&self, base: &Url, path: &str) -> Option<Vec<Url>> {
        let join = |p: &str| base.join(p).ok();
        let mut out: Vec<Url> = Vec::new();
        let mut seen = HashSet::new();
        let mut add = |url: Option<Url>| {
            if let Some(url) = url
                && seen.insert(url.to_string())
            {
                out.push(url);
            }
        };
        match path {
            "/" => {
                for j in 0..self.pages.len().min(10) {
                    add(join(&format!("/page/{j}")));
                }
                add(join("/slow"));
            }
            "/slow" => add(join("/page/1")),
            p if p.starts_with("/private/") => {}
            p => {
                let i = parse_page(p, self.pages.len())?;
                add(join(&format!("/page/{i}"))); // <link rel=canonical>
                for link in &self.pages[i] {
                    let url = match link.target {
                        Target::External(j) => {
                            Url::parse(&format!("http://external.invalid/page/{j}")).ok()
                        }
                        Target::Mailto | Target::Javascript => None,
                        target => self.target_path(i, target).and_then(|p| join(&p)),
                    };
                    add(url);
                }
            }
        }
        Some(out)
    }

    /// The response for `path` (with its query), as the server sends it; `base` is the site's
    /// own URL (absolute links use it).
    ///
    /// # Examples
    ///
    /// ```
    /// use areq::demo::{DemoPage, DemoSite};
    ///
    /// let site = DemoSite::new(areq::demo::DemoConfig { pages: 300, ..Default::default() });
    /// let base = url::Url::parse("http://h/").unwrap();
    /// assert!(matches!(site.render(&base, "/page/1"), DemoPage::Html(_)));
    /// assert!(matches!(site.render(&base, "/old/5"), DemoPage::Redirect(_)));
    /// assert!(matches!(site.render(&base, "/nope"), DemoPage::NotFound));
    /// ```
    pub fn render(&self, base: &Url, path: &str) -> DemoPage {
        match path {
            "/" => DemoPage::Html(self.render_index()),
            "/robots.txt" => DemoPage::Text("User-agent: *\nDisallow: /private/\n".to_owned()),
            "/slow" => DemoPage::Slow(
                "<!DOCTYPE html><title>Slow</title><p>Finally. <a href=\"/page/1\">on</a>"
                    .to_owned(),
            ),
            p if p.starts_with("/private/") => {
                DemoPage::Html("<!DOCTYPE html><title>Private</title><p>Nothing here.".into())
            }
            p if p.starts_with("/data/") => DemoPage::Text(format!(
                "Plain text, not parsed: <a href=\"/trap/text{}\">x</a>\n",
                p.len()
            )),
            p if p.starts_with("/old/") => match p["/old/".len()..].parse::<usize>() {
                Ok(i) if i < self.pages.len() => {
                    DemoPage::Redirect(format!("/page/{}", self.redirect_target(i)))
                }
                _ => DemoPage::NotFound,
            },
            p => match parse_page(p, self.pages.len()) {
                Some(i) => DemoPage::Html(self.render_page(base, i)),
                None => DemoPage::NotFound,
            },
        }
    }

    fn render_index(&self) -> String {
        let mut html = String::from("<!DOCTYPE html>\n<html><head><title>areq demo</title>");
        html.push_str("</head><body><h1>areq demo site</h1><ul>\n");
        for j in 0..self.pages.len().min(10) {
            let _ = writeln!(html, "<li><a href=\"/page/{j}\">Page {j}</a>");
        }
        html.push_str("<li><a href=\"/slow\">A slow page</a>\n</ul></body></html>\n");
        html
    }

    fn render_page(&self, base: &Url, i: usize) -> String {
        let mut html = String::with_capacity(4096);
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Page {i}</title>\n\
             <link rel=\"canonical\" href=\"/page/{i}\">\n"
        );
        if i % 25 == 0 {
            // Changes nothing for root-relative and absolute links; relative `N` and `../x`
            // resolve the same against /page/ as against /page/i.
            let _ = writeln!(html, "<base href=\"{}/page/\">", origin(base));
        }
        let _ = write!(
            html,
            "</head>\n<body id=top>\n<!-- old menu: <a href=\"/trap/comment{i}\">gone</a> -->\n\
             <script>var tpl = '<a href=\"/trap/script{i}\">' + \"</a>\";</script>\n\
             <style>a[href=\"/trap/style{i}\"] {{ color: red }}</style>\n\
             <h1>Page {i}</h1>\n<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit; \
             sed do eiusmod tempor &amp; incididunt ut labore.</p>\n<ul>\n"
        );
        let mut areas = String::new();
        for link in &self.pages[i] {
            let href = self.href(base, i, link);
            let attr = match link.style.quote {
                0 => format!("href=\"{href}\""),
                1 => format!("href='{href}'"),
                2 if !href.contains(['"', '\'', '=', '<', '>', '`', ' ']) => format!("href={href}"),
                2 => format!("href=\"{href}\""),
                _ => format!("HREF=\"{href}\""),
            };
            if link.style.element == 1 {
                let _ = write!(areas, "<area shape=rect coords=\"0,0,9,9\" {attr}>");
            } else {
                let _ = writeln!(html, "<li><a class=link {attr} title=\"go\">link</a>");
            }
        }
        html.push_str("</ul>\n");
        if !areas.is_empty() {
            let _ = writeln!(html, "<map name=m>{areas}</map>");
        }
        html.push_str("</body></html>\n");
        html
    }

    /// What a crawl from `/` with `--same-host` and unlimited depth fetches and writes, given
    /// `--respect-robots` or not. Computed from the model, without parsing HTML.
    ///
    /// # Examples
    ///
    /// ```
    /// let site = areq::demo::DemoSite::new(areq::demo::DemoConfig { pages: 30, ..Default::default() });
    /// let base = url::Url::parse("http://h/").unwrap();
    /// let with = site.expected_crawl(&base, true);
    /// let without = site.expected_crawl(&base, false);
    /// assert!(without.fetched.len() > with.fetched.len() - 1); // /private/ pages, no robots.txt
    /// ```
    pub fn expected_crawl(&self, base: &Url, respect_robots: bool) -> ExpectedCrawl {
        let mut expected = ExpectedCrawl::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut queue = VecDeque::new();
        let host = base.host_str().map(str::to_owned);
        seen.insert("/".to_owned());
        queue.push_back("/".to_owned());
        if respect_robots {
            expected.fetched.insert("/robots.txt".to_owned());
        }
        while let Some(path) = queue.pop_front() {
            if respect_robots && path.starts_with("/private/") {
                continue;
            }
            expected.fetched.insert(path.clone());
            let page_url = base.join(&path).ok();
            if let DemoPage::Redirect(to) = self.render(base, &path) {
                if seen.insert(to.clone()) {
                    queue.push_back(to);
                }
                continue;
            }
            if matches!(self.render(base, &path), DemoPage::NotFound) {
                expected.not_found += 1;
                continue;
            }
            let (Some(links), Some(page_url)) = (self.page_links(base, &path), page_url) else {
                continue;
            };
            for link in links {
                expected
                    .lines
                    .insert((page_url.to_string(), link.to_string()));
                if link.host_str().map(str::to_owned) == host {
                    let mut p = link.path().to_owned();
                    if let Some(q) = link.query() {
                        p.push('?');
                        p.push_str(q);
                    }
                    if seen.insert(p.clone()) {
                        queue.push_back(p);
                    }
                }
            }
        }
        expected
    }
}

/// `/page/N` with N in range.
fn parse_page(path: &str, pages: usize) -> Option<usize> {
    let n: usize = path.strip_prefix("/page/")?.parse().ok()?;
    (n < pages).then_some(n)
}

/// `http://host:port` without the trailing slash.
fn origin(base: &Url) -> String {
    base.origin().ascii_serialization()
}

/// One response of the demo site.
///
/// # Examples
///
/// ```
/// let page = areq::demo::DemoPage::Text("hi".into());
/// assert!(matches!(page, areq::demo::DemoPage::Text(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoPage {
    /// 200, `text/html`.
    Html(String),
    /// 200, `text/html`, after the configured delay.
    Slow(String),
    /// 200, `text/plain`.
    Text(String),
    /// 301 to this path.
    Redirect(String),
    /// 404.
    NotFound,
}

/// The running demo server.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use areq::demo::{DemoConfig, DemoSite, serve};
///
/// tulip::run(async {
///     let site = Rc::new(DemoSite::new(DemoConfig { pages: 10, ..Default::default() }));
///     let server = serve(site, "127.0.0.1:0").await.unwrap();
///     let body = tulip_http::ClientSession::new()
///         .get(server.base_url().join("/page/1").unwrap())
///         .send().await.unwrap().text().await.unwrap();
///     assert!(body.contains("Page 1"));
///     assert_eq!(server.requests()["/page/1"], 1);
///     server.shutdown().await;
/// });
/// ```
#[derive(Debug)]
pub struct DemoServer {
    handle: ServerHandle,
    base: Url,
    counts: Rc<RefCell<BTreeMap<String, u32>>>,
}

impl DemoServer {
    /// `http://127.0.0.1:PORT/`.
    ///
    /// # Examples
    ///
    /// See [`DemoServer`].
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// How many requests each path (with its query) received so far.
    ///
    /// # Examples
    ///
    /// See [`DemoServer`].
    pub fn requests(&self) -> BTreeMap<String, u32> {
        self.counts.borrow().clone()
    }

    /// Stops the server gracefully.
    ///
    /// # Examples
    ///
    /// See [`DemoServer`].
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// Serves `site` on `addr` (e.g. `127.0.0.1:0` for any free port) on the current loop.
///
/// # Errors
///
/// When the address cannot be bound.
///
/// # Examples
///
/// See [`DemoServer`].
pub async fn serve(site: Rc<DemoSite>, addr: &str) -> io::Result<DemoServer> {
    let server = Server::bind(addr).await?;
    let base = Url::parse(&format!("http://{}/", server.local_addr()))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let counts = Rc::new(RefCell::new(BTreeMap::new()));
    let handler = {
        let (site, base, counts) = (site.clone(), base.clone(), counts.clone());
        move |request: Request| {
            let (site, base, counts) = (site.clone(), base.clone(), counts.clone());
            async move { respond(&site, &base, &counts, &request).await }
        }
    };
    let handle = server.serve(Router::new().fallback(handler));
    Ok(DemoServer {
        handle,
        base,
        counts,
    })
}

async fn respond(
    site: &DemoSite,
    base: &Url,
    counts: &RefCell<BTreeMap<String, u32>>,
    request: &Request,
) -> Response {
    let path = match request.uri().query() {
        Some(q) => format!("{}?{q}", request.path()),
        None => request.path().to_owned(),
    };
    *counts.borrow_mut().entry(path.clone()).or_default() += 1;
    let lookup = if path.starts_with("/data/") {
        path.as_str()
    } else {
        request.path()
    };
    match site.render(base, lookup) {
        DemoPage::Html(html) => Response::html(html),
        DemoPage::Slow(html) => {
            tulip::time::sleep(site.config.slow_delay).await;
            Response::html(html)
        }
        DemoPage::Text(text) => Response::text(text),
        DemoPage::Redirect(to) => Response::redirect(StatusCode::MOVED_PERMANENTLY, &to),
        DemoPage::NotFound => Response::not_found(),
    }
}
