//! Link extraction: the `href`s of a page, made absolute.
//!
//! The seed's counterpart is `parse()` in `areq.py`, which runs the regular expression
//! `href="(.*?)"` over the page and `urllib.parse.urljoin`s each match. A regular expression
//! cannot tell markup from text, so here a real HTML tokenizer reads the page:
//! [html5gum](https://docs.rs/html5gum), a WHATWG-conformant tokenizer, driven through its
//! callback emitter so that no token is allocated — only the `href` values are copied out.
//! That gives, like a browser:
//!
//! - double-quoted, single-quoted and unquoted attribute values, any case (`HREF=`), the first
//!   of duplicate attributes;
//! - character references decoded (`&amp;`, `&#x2F;`, `&quot;`, and the legacy ones without `;`
//!   as the specification says for attribute values);
//! - nothing from comments, `<script>`, `<style>` or `<title>`/`<textarea>` text (the tokenizer
//!   switches to the raw-text states after those start tags);
//! - `href`s on `<a>`, `<link>` and `<area>` only; the first `<base href>` sets the base URL for
//!   every link of the document (also those before it, as the document's base URL does);
//! - joining with the [`url`] crate (WHATWG URL parsing, like browsers, not Python's RFC 3986
//!   `urljoin`); fragments removed; only `http` and `https` results kept; each link once, in
//!   order of first appearance (the seed collects a `set`).
//!
//! Speed, measured by `tests/links_speed.rs` in release mode on the demo site's link-dense pages
//! (about 6.6 KB and 20 links each) on the shared 2-core development machine: 37–64 MB/s for
//! the tokenizer alone and 22–48 MB/s with URL joining and de-duplication (the spread is the
//! machine's load). html5gum's `jetscii` feature did not help there.
//!
//! # Examples
//!
//! ```
//! use areq::links::extract_links;
//! use url::Url;
//!
//! let base = Url::parse("http://example.com/docs/index.html").unwrap();
//! let html = br#"<a href="intro.html#top">Intro</a> <!-- <a href="/hidden"> -->
//!                <a href='/a?x=1&amp;y=2'>A</a> <a href=mailto:me@example.com>mail</a>"#;
//! let links = extract_links(html, &base);
//! let links: Vec<&str> = links.iter().map(|u| u.as_str()).collect();
//! assert_eq!(links, ["http://example.com/docs/intro.html", "http://example.com/a?x=1&y=2"]);
//! ```

use std::collections::HashSet;
use std::convert::Infallible;

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::{Span, Tokenizer};
use url::Url;

/// Which kind of element an `href` was found on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    /// `<a>`, `<link>`, `<area>`: a link.
    Link,
    /// `<base>`: the document's base URL.
    Base,
}

/// What the tokenizer callback keeps between events: the element being read and the `href`
/// seen on it so far.
#[derive(Debug, Default)]
struct HrefCollector {
    /// The start tag being read, if it is one whose `href` matters.
    element: Option<Element>,
    /// The attribute being read is this element's first `href`.
    in_href: bool,
    /// This element already had an `href` (later duplicates are ignored, as in browsers).
    had_href: bool,
    /// The value of this element's `href`, once its name was seen (an empty value is a link
    /// to the document itself, and the tokenizer reports no value event for it).
    href: Option<Vec<u8>>,
    /// The raw `href` values of links, in document order.
    links: Vec<Vec<u8>>,
    /// The first `<base href>`.
    base: Option<Vec<u8>>,
}

impl HrefCollector {
    fn on_event(&mut self, event: CallbackEvent<'_>) {
        match event {
            CallbackEvent::OpenStartTag { name } => {
                self.element = match name {
                    b"a" | b"link" | b"area" => Some(Element::Link),
                    b"base" => Some(Element::Base),
                    _ => None,
                };
                self.in_href = false;
                self.had_href = false;
                self.href = None;
            }
            CallbackEvent::AttributeName { name } => {
                self.in_href = self.element.is_some() && name == b"href" && !self.had_href;
                if self.in_href {
                    self.had_href = true;
                    self.href = Some(Vec::new());
                }
            }
            CallbackEvent::AttributeValue { value } => {
                if self.in_href
                    && let Some(href) = &mut self.href
                {
                    href.extend_from_slice(value);
                }
            }
            CallbackEvent::CloseStartTag { .. } => self.close_tag(),
            CallbackEvent::EndTag { .. } => {
                // Attributes on end tags are a parse error and mean nothing.
                self.element = None;
                self.in_href = false;
            }
            _ => {}
        }
    }

    fn close_tag(&mut self) {
        let href = self.href.take();
        match (self.element.take(), href) {
            (Some(Element::Link), Some(href)) => self.links.push(href),
            (Some(Element::Base), Some(href)) if self.base.is_none() => self.base = Some(href),
            _ => {}
        }
        self.in_href = false;
    }
}

/// The raw `href` values of a page's `<a>`, `<link>` and `<area>` elements, in document order
/// (duplicates kept), with character references decoded, and its first `<base href>`.
///
/// Bytes that are not UTF-8 are replaced (URLs are ASCII on the wire; a page in a legacy
/// encoding with non-ASCII `href`s gets U+FFFD there).
///
/// # Examples
///
/// ```
/// let (links, base) = areq::links::raw_hrefs(b"<base href=/b/><A HREF='x&amp;y'>x</A>");
/// assert_eq!(links, ["x&y"]);
/// assert_eq!(base.as_deref(), Some("/b/"));
/// ```
pub fn raw_hrefs(html: &[u8]) -> (Vec<String>, Option<String>) {
    let mut collector = HrefCollector::default();
    {
        let mut emitter = CallbackEmitter::new(
            |event: CallbackEvent<'_>, _span: Span<()>| -> Option<Infallible> {
                collector.on_event(event);
                None
            },
        );
        emitter.naively_switch_states(true);
        let tokenizer = Tokenizer::new_with_emitter(html, emitter);
        // Reading from a byte slice cannot fail, and the callback yields no tokens.
        for _ in tokenizer {}
    }
    // A start tag cut off by the end of the document is dropped by the tokenizer, as the
    // specification says, so `collector.href` left over is not a link.
    let to_string = |v: Vec<u8>| match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let links = collector.links.into_iter().map(to_string).collect();
    (links, collector.base.map(to_string))
}

/// The absolute http(s) links of the page `html` fetched from `page_url`: each once, in order
/// of first appearance, fragments removed. See the [module docs](self) for the rules.
///
/// # Examples
///
/// ```
/// use url::Url;
///
/// let page = Url::parse("https://example.com/a/b.html").unwrap();
/// let html = br#"<base href="https://cdn.example.com/x/"><link href=style.css rel=stylesheet>
///                <script>var s = '<a href="/not-a-link">';</script><area href="../map#n">"#;
/// let links = areq::links::extract_links(html, &page);
/// assert_eq!(
///     links.iter().map(Url::as_str).collect::<Vec<_>>(),
///     ["https://cdn.example.com/x/style.css", "https://cdn.example.com/map"]
/// );
/// ```
pub fn extract_links(html: &[u8], page_url: &Url) -> Vec<Url> {
    let (hrefs, base) = raw_hrefs(html);
    // A base that does not parse (or is not http(s)-joinable) is ignored, as browsers do.
    let base = base
        .and_then(|b| page_url.join(b.trim()).ok())
        .filter(|b| !b.cannot_be_a_base())
        .unwrap_or_else(|| page_url.clone());
    let mut seen = HashSet::with_capacity(hrefs.len());
    let mut links = Vec::with_capacity(hrefs.len());
    for href in hrefs {
        if let Some(url) = resolve(&base, &href)
            && seen.insert(url.as_str().to_owned())
        {
            links.push(url);
        }
    }
    links
}

/// `href` made absolute against `base`, without its fragment; `None` unless it is http(s).
///
/// Leading and trailing ASCII whitespace is ignored (as in browsers); a value that does not
/// parse as a URL is dropped.
///
/// # Examples
///
/// ```
/// use url::Url;
///
/// let base = Url::parse("http://h/dir/page").unwrap();
/// assert_eq!(areq::links::resolve(&base, " ../x#frag ").unwrap().as_str(), "http://h/x");
/// assert_eq!(areq::links::resolve(&base, "javascript:void(0)"), None);
/// assert_eq!(areq::links::resolve(&base, "http://[bad"), None);
/// ```
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let mut url = base.join(href.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// Whether a `Content-Type` header value names a document whose links are read: HTML or XHTML.
/// A missing header counts as HTML (the body is then sniffed by [`looks_binary`]).
///
/// # Examples
///
/// ```
/// use areq::links::is_html_content_type;
///
/// assert!(is_html_content_type(Some("text/html; charset=utf-8")));
/// assert!(is_html_content_type(Some("application/xhtml+xml")));
/// assert!(is_html_content_type(None));
/// assert!(!is_html_content_type(Some("text/plain")));
/// ```
pub fn is_html_content_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("text/html") || mime.eq_ignore_ascii_case("application/xhtml+xml")
}

/// Whether a body said to be HTML is in fact binary: a NUL byte in its first kilobyte (what
/// browsers' sniffing treats as binary). Such a page is a lie about its `Content-Type` and is
/// reported as a failure instead of being parsed.
///
/// # Examples
///
/// ```
/// assert!(areq::links::looks_binary(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
/// assert!(!areq::links::looks_binary(b"<!doctype html><p>hi"));
/// ```
pub fn looks_binary(body: &[u8]) -> bool {
    body[..body.len().min(1024)].contains(&0)
}
