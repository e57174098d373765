//! Link extraction: the `href`s of a page, made absolute.
//!
//! The seed's counterpart is `parse()` in `areq.py`, which runs the regular expression
//! `href="(.*?)"` over the page and `urllib.parse.urljoin`s each match. A regular expression
//! cannot tell markup from text, so here a real HTML tokenizer reads the page:
//! [html5gum](https://docs.rs/html5gum), a WHATWG-conformant tokenizer, driven through an
//! emitter of areq's own that ignores text, comments and parse errors and copies out only the
//! `href` values of the elements that matter — nothing else of the page is allocated.
//! That gives, like a browser:
//!
//! - double-quoted, single-quoted and unquoted attribute values, any case (`HREF=`), the first
//!   of duplicate attributes;
//! - character references decoded (`&amp;`, `&#x2F;`, `&quot;`, and the legacy ones without `;`
//!   as the specification says for attribute values);
//! - nothing from comments, nor from the text of `<script>`, `<style>`, `<title>`,
//!   `<textarea>`, `<noscript>`, `<iframe>` or `<xmp>` (after those start tags the tokenizer
//!   switches to the raw-text states, as a browser with scripting on does);
//! - `href`s on `<a>`, `<link>` and `<area>` only; the first `<base href>` sets the base URL for
//!   every link of the document (also those before it, as the document's base URL does);
//! - joining with the [`url`] crate (WHATWG URL parsing, like browsers, not Python's RFC 3986
//!   `urljoin`); fragments removed; only `http` and `https` results kept; each link once, in
//!   order of first appearance (the seed collects a `set`);
//! - the page read in its own encoding, found as [`crate::charset`] says (byte order mark,
//!   `Content-Type` charset, `<meta charset>`, else UTF-8 if valid, else windows-1252), and
//!   each `href` resolved as the URL standard says for a document in that encoding: the path
//!   percent-encoded as UTF-8, the query in the document's encoding — `/caf\xe9?q=\xe9` in a
//!   windows-1252 page is `/caf%C3%A9?q=%E9`, as a browser requests it
//!   ([`extract_links_with_content_type`], [`resolve_with_encoding`]).
//!
//! Decoding costs a copy of the page, so it is done only where it changes the result: a page
//! in UTF-8 (declared, or undeclared and valid), or one in another ASCII-compatible encoding
//! whose `href`s are all ASCII, is tokenized once, as bytes, as before (when the header names
//! no charset, the first 1024 bytes are also looked at for a `<meta>`); a page that declares
//! nothing is checked for UTF-8 validity only if one of its `href`s is not ASCII. Other pages
//! are decoded and tokenized again. The speeds below were measured before pages were read in
//! their encodings, and not measured again.
//!
//! Speed, measured by `tests/links_speed.rs` in release mode (MB per second of CPU time, best
//! runs on the shared 2-core development machine): about 180 MB/s for the tokenizer on the
//! demo site's link-dense pages (1.3 KB, 20 links each) and 300–400 MB/s on pages with text
//! (5.4 KB, same links); joining and de-duplication bring the first to about 100 MB/s. The
//! same run gave, for the same `href`s: html5gum's callback emitter (the first version here)
//! 92 and 167 MB/s, lol_html with pre-parsed selectors and `htmlize` for the character
//! references (which lol_html leaves in attribute values) 102 and 269 MB/s, html5ever's
//! tokenizer 56 and 104 MB/s. `tl` (183 and 349 MB/s) misreads unquoted and upper-case
//! attributes and finds links inside scripts, so it is no candidate. html5gum's `jetscii`
//! feature did not help.
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

use std::borrow::Cow;
use std::collections::HashSet;
use std::convert::Infallible;

use encoding_rs::{Encoding, UTF_8};
use html5gum::{Emitter, Error, State, Tokenizer, naive_next_state};
use url::Url;

use crate::charset;

/// What [`HrefEmitter`] hands back: the raw `href`s of links, and the first `<base href>`.
#[derive(Debug, Default)]
struct Found {
    /// The raw `href` values of `<a>`, `<link>` and `<area>`, in document order.
    links: Vec<Vec<u8>>,
    /// The first `<base href>`.
    base: Option<Vec<u8>>,
}

/// How much of the current attribute's name is known to spell `href`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameMatch {
    /// This many bytes of the name so far equal the start of `href` (0..=4).
    Prefix(u8),
    /// The name is something else.
    Other,
    /// The name is complete and was acted on (or there is no attribute).
    Done,
}

/// An html5gum [`Emitter`] that keeps only what link extraction needs.
///
/// html5gum's tokenizer calls an emitter for every piece of every token; the general-purpose
/// emitters copy text, comments and attribute values into buffers and report parse errors.
/// This one ignores text, comments, doctypes and errors, tracks the current tag's name (for
/// the raw-text state switches and appropriate end tags) and copies out only the value of the
/// first `href` of `<a>`, `<link>`, `<area>` and `<base>` start tags — a few hundred bytes of a
/// page. Character references in attribute values arrive already decoded by the tokenizer.
#[derive(Debug)]
struct HrefEmitter<'a> {
    /// The current tag's name (lower case, as the tokenizer gives it).
    tag: Vec<u8>,
    /// The last start tag's name (for "appropriate end tag" in raw-text elements).
    last_start: Vec<u8>,
    /// The current tag is an end tag.
    is_end: bool,
    /// The current attribute's name, compared with `href` as it arrives.
    name: NameMatch,
    /// The current attribute is the tag's first `href`, on an element whose `href` counts.
    in_href: bool,
    /// The current tag already had an `href` (later duplicates are ignored, as in browsers).
    had_href: bool,
    /// The current tag's `href` value, once its name was complete (an empty value is a link
    /// to the document itself, and the tokenizer pushes no value bytes for it).
    href: Option<Vec<u8>>,
    /// Where finished tags' `href`s go.
    found: &'a mut Found,
}

impl<'a> HrefEmitter<'a> {
    fn new(found: &'a mut Found) -> HrefEmitter<'a> {
        HrefEmitter {
            tag: Vec::new(),
            last_start: Vec::new(),
            is_end: false,
            name: NameMatch::Done,
            in_href: false,
            had_href: false,
            href: None,
            found,
        }
    }

    /// The current attribute's name is complete: start collecting its value if it is the
    /// tag's first `href` on an element that has links.
    fn finish_name(&mut self) {
        if self.name == NameMatch::Prefix(4)
            && !self.is_end
            && !self.had_href
            && matches!(&self.tag[..], b"a" | b"link" | b"area" | b"base")
        {
            self.had_href = true;
            self.in_href = true;
            self.href = Some(Vec::new());
        }
        self.name = NameMatch::Done;
    }

    fn start_tag(&mut self, is_end: bool) {
        self.tag.clear();
        self.is_end = is_end;
        self.name = NameMatch::Done;
        self.in_href = false;
        self.had_href = false;
        self.href = None;
    }
}

impl Emitter for HrefEmitter<'_> {
    type Token = Infallible;

    fn set_last_start_tag(&mut self, last_start_tag: Option<&[u8]>) {
        self.last_start.clear();
        self.last_start
            .extend_from_slice(last_start_tag.unwrap_or_default());
    }

    fn emit_eof(&mut self) {}

    fn emit_error(&mut self, _error: Error) {}

    #[inline]
    fn should_emit_errors(&mut self) -> bool {
        false
    }

    fn pop_token(&mut self) -> Option<Infallible> {
        None
    }

    fn emit_string(&mut self, _text: &[u8]) {}

    fn init_start_tag(&mut self) {
        self.start_tag(false);
    }

    fn init_end_tag(&mut self) {
        self.start_tag(true);
    }

    fn init_comment(&mut self) {}

    fn emit_current_tag(&mut self) -> Option<State> {
        if self.is_end {
            // Attributes on end tags are a parse error and mean nothing.
            return None;
        }
        if self.name != NameMatch::Done {
            self.finish_name();
        }
        self.in_href = false;
        self.last_start.clear();
        self.last_start.extend_from_slice(&self.tag);
        if let Some(href) = self.href.take() {
            if self.tag == b"base" {
                if self.found.base.is_none() {
                    self.found.base = Some(href);
                }
            } else {
                self.found.links.push(href);
            }
        }
        // `<script>`, `<style>`, `<title>`, `<textarea>`, … switch to their raw-text states,
        // so that nothing inside them is read as markup.
        naive_next_state(&self.tag)
    }

    fn emit_current_comment(&mut self) {}

    fn emit_current_doctype(&mut self) {}

    fn set_self_closing(&mut self) {}

    fn set_force_quirks(&mut self) {}

    fn push_tag_name(&mut self, name: &[u8]) {
        self.tag.extend_from_slice(name);
    }

    fn push_comment(&mut self, _text: &[u8]) {}

    fn push_doctype_name(&mut self, _name: &[u8]) {}

    fn init_doctype(&mut self) {}

    fn init_attribute(&mut self) {
        if self.name != NameMatch::Done {
            self.finish_name();
        }
        self.in_href = false;
        self.name = NameMatch::Prefix(0);
    }

    fn init_attribute_value(&mut self) {
        if self.name != NameMatch::Done {
            self.finish_name();
        }
    }

    fn push_attribute_name(&mut self, name: &[u8]) {
        if let NameMatch::Prefix(len) = self.name {
            let len = usize::from(len);
            self.name = match b"href".get(len..len + name.len()) {
                // At most 4, so the cast is exact.
                Some(part) if part == name => NameMatch::Prefix((len + name.len()) as u8),
                _ => NameMatch::Other,
            };
        }
    }

    fn push_attribute_value(&mut self, value: &[u8]) {
        if self.in_href
            && let Some(href) = &mut self.href
        {
            href.extend_from_slice(value);
        }
    }

    fn set_doctype_public_identifier(&mut self, _value: &[u8]) {}

    fn set_doctype_system_identifier(&mut self, _value: &[u8]) {}

    fn push_doctype_public_identifier(&mut self, _value: &[u8]) {}

    fn push_doctype_system_identifier(&mut self, _value: &[u8]) {}

    fn current_is_appropriate_end_tag_token(&mut self) -> bool {
        self.is_end && !self.last_start.is_empty() && self.tag == self.last_start
    }
}

impl Found {
    /// Every `href` (and the base) is ASCII.
    fn is_ascii(&self) -> bool {
        self.links.iter().all(|href| href.is_ascii())
            && self.base.as_ref().is_none_or(|base| base.is_ascii())
    }

    /// The `href`s as text, bytes that are not UTF-8 replaced by U+FFFD.
    fn into_strings(self) -> (Vec<String>, Option<String>) {
        let to_string = |v: Vec<u8>| match String::from_utf8(v) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let links = self.links.into_iter().map(to_string).collect();
        (links, self.base.map(to_string))
    }
}

/// Runs the tokenizer over `html`, an ASCII-compatible byte string, and keeps the `href`s.
fn tokenize(html: &[u8]) -> Found {
    let mut found = Found::default();
    // Reading from a byte slice cannot fail, and the emitter yields no tokens: the loop only
    // drives the tokenizer to the end of the document.
    for _ in Tokenizer::new_with_emitter(html, HrefEmitter::new(&mut found)) {}
    // A start tag cut off by the end of the document is dropped by the tokenizer, as the
    // specification says, so an `href` left in the emitter is not a link.
    found
}

/// The raw `href` values of a page's `<a>`, `<link>` and `<area>` elements, in document order
/// (duplicates kept), with character references decoded, and its first `<base href>`.
///
/// The page is read as UTF-8, bytes that are not UTF-8 replaced by U+FFFD; it is the tokenizer
/// alone. [`extract_links_with_content_type`] works out the page's encoding first.
///
/// # Examples
///
/// ```
/// let (links, base) = areq::links::raw_hrefs(b"<base href=/b/><A HREF='x&amp;y'>x</A>");
/// assert_eq!(links, ["x&y"]);
/// assert_eq!(base.as_deref(), Some("/b/"));
/// ```
pub fn raw_hrefs(html: &[u8]) -> (Vec<String>, Option<String>) {
    tokenize(html).into_strings()
}

/// The `href`s of a page as text, and the encoding their queries are written in.
#[derive(Debug)]
struct Hrefs {
    links: Vec<String>,
    base: Option<String>,
    encoding: &'static Encoding,
}

impl Hrefs {
    fn new(found: Found, encoding: &'static Encoding) -> Hrefs {
        let (links, base) = found.into_strings();
        Hrefs {
            links,
            base,
            encoding,
        }
    }
}

/// The `href`s of a page, decoded from its encoding.
///
/// This is where the common case stays one pass over the page: a page that is (or says it is)
/// UTF-8 is tokenized as it is, as is a page in an ASCII-compatible encoding whose `href`s turn
/// out to be ASCII (the tokenizer only acts on ASCII bytes, which mean the same in every such
/// encoding, and an `href` that came out ASCII reads the same in all of them). Only a page with
/// a non-ASCII `href` in another encoding, or in one that is not ASCII-compatible (UTF-16,
/// ISO-2022-JP), is decoded to UTF-8 and tokenized again.
fn decoded_hrefs(html: &[u8], content_type: Option<&str>) -> Hrefs {
    let declared = charset::declared(html, content_type);
    let body = &html[declared.map_or(0, |d| d.bom_len)..];
    let declared = declared.map(|d| d.encoding);
    let encoding = match declared {
        Some(encoding) if !encoding.is_ascii_compatible() => encoding,
        _ => {
            let found = tokenize(body);
            let encoding = match declared {
                Some(encoding) => encoding,
                // Nothing declared: whether the page is valid UTF-8 decides, which is only
                // worth reading the page again for when an `href` is not ASCII.
                None if found.is_ascii() => UTF_8,
                None => charset::fallback(body),
            };
            if encoding == UTF_8 || found.is_ascii() {
                return Hrefs::new(found, encoding);
            }
            encoding
        }
    };
    let (text, _malformed) = encoding.decode_without_bom_handling(body);
    Hrefs::new(tokenize(text.as_bytes()), encoding)
}

/// The absolute http(s) links of the page `html` fetched from `page_url`, read as UTF-8 unless
/// it declares another encoding (a byte order mark, a `<meta charset>`) or is not valid UTF-8:
/// [`extract_links_with_content_type`] without a `Content-Type`.
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
    extract_links_with_content_type(html, page_url, None)
}

/// The absolute http(s) links of the page `html` fetched from `page_url` with the
/// `Content-Type` header `content_type`: each once, in order of first appearance, fragments
/// removed. The page's encoding is worked out as [`crate::charset`] says, and each `href` is
/// resolved in it (see [`resolve_with_encoding`]). See the [module docs](self) for the rules.
///
/// # Examples
///
/// ```
/// use url::Url;
/// use areq::links::extract_links_with_content_type;
///
/// let page = Url::parse("http://example.com/").unwrap();
/// let html = b"<a href=\"/caf\xe9?q=\xe9\">caf\xe9</a>"; // windows-1252 bytes
/// let links = extract_links_with_content_type(html, &page, Some("text/html; charset=windows-1252"));
/// assert_eq!(links[0].as_str(), "http://example.com/caf%C3%A9?q=%E9");
/// ```
pub fn extract_links_with_content_type(
    html: &[u8],
    page_url: &Url,
    content_type: Option<&str>,
) -> Vec<Url> {
    let Hrefs {
        links: hrefs,
        base,
        encoding,
    } = decoded_hrefs(html, content_type);
    // A base that does not parse (or is not http(s)-joinable) is ignored, as browsers do.
    let base = base
        .and_then(|b| parse(page_url, &b, encoding))
        .filter(|b| !b.cannot_be_a_base())
        .unwrap_or_else(|| page_url.clone());
    let mut links: Vec<Url> = hrefs
        .iter()
        .filter_map(|href| resolve_with_encoding(&base, href, encoding))
        .collect();
    // Each link once, the first time it appears; the set borrows the links' own strings.
    let mut seen = HashSet::with_capacity(links.len());
    let first: Vec<bool> = links.iter().map(|url| seen.insert(url.as_str())).collect();
    drop(seen);
    let mut first = first.into_iter();
    links.retain(|_| first.next().unwrap_or(false));
    links
}

/// `href` made absolute against `base`, without its fragment; `None` unless it is http(s).
/// Its query is percent-encoded as UTF-8: [`resolve_with_encoding`] for a UTF-8 page.
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
    resolve_with_encoding(base, href, UTF_8)
}

/// `href`, from a document in `encoding`, made absolute against `base` the way the WHATWG URL
/// standard parses it for that document: the path (and host, and fragment) percent-encoded as
/// UTF-8, the query in the document's encoding (UTF-8 for UTF-8 and UTF-16 documents), a
/// character the encoding cannot represent as its HTML character reference, percent-encoded
/// (`%26%23` code point `%3B`). Otherwise as [`resolve`]: no fragment, http(s) only.
///
/// # Examples
///
/// ```
/// use url::Url;
/// use areq::links::resolve_with_encoding;
///
/// let base = Url::parse("http://h/").unwrap();
/// let url = resolve_with_encoding(&base, "/caf\u{e9}?q=\u{e9}", encoding_rs::WINDOWS_1252).unwrap();
/// assert_eq!(url.as_str(), "http://h/caf%C3%A9?q=%E9");
/// let url = resolve_with_encoding(&base, "/?q=\u{3042}", encoding_rs::WINDOWS_1252).unwrap();
/// assert_eq!(url.as_str(), "http://h/?q=%26%2312354%3B");
/// let url = resolve_with_encoding(&base, "/?q=\u{e9}", encoding_rs::UTF_16LE).unwrap();
/// assert_eq!(url.as_str(), "http://h/?q=%C3%A9");
/// ```
pub fn resolve_with_encoding(base: &Url, href: &str, encoding: &'static Encoding) -> Option<Url> {
    let mut url = parse(base, href, encoding)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// `input` (ASCII whitespace around it ignored) parsed against `base`, queries in `encoding`.
fn parse(base: &Url, input: &str, encoding: &'static Encoding) -> Option<Url> {
    let input = input.trim_matches(|c: char| c.is_ascii_whitespace());
    let encoding = encoding.output_encoding();
    let options = Url::options().base_url(Some(base));
    if encoding == UTF_8 {
        return options.parse(input).ok();
    }
    let query = query_encoder(move |query| charset::encode_query(encoding, query));
    options.encoding_override(Some(&query)).parse(input).ok()
}

/// Gives a closure the signature the URL parser's encoding override needs (its result
/// borrows from its argument, which closures do not infer on their own).
fn query_encoder<F: Fn(&str) -> Cow<'_, [u8]>>(f: F) -> F {
    f
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
/// browsers' sniffing treats as binary), unless it starts with a UTF-16 byte order mark (text
/// in UTF-16 is full of NULs; the MIME Sniffing standard checks for those marks first). Such a
/// page is a lie about its `Content-Type` and is reported as a failure instead of being parsed.
/// A page in UTF-16 without a byte order mark is only known by its `Content-Type` charset, so
/// [`crate::fetch`] looks at that too.
///
/// # Examples
///
/// ```
/// assert!(areq::links::looks_binary(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
/// assert!(!areq::links::looks_binary(b"<!doctype html><p>hi"));
/// assert!(!areq::links::looks_binary(b"\xff\xfe<\0p\0>\0"));
/// ```
pub fn looks_binary(body: &[u8]) -> bool {
    let utf16_bom = body.starts_with(b"\xff\xfe") || body.starts_with(b"\xfe\xff");
    !utf16_bom && body[..body.len().min(1024)].contains(&0)
}
