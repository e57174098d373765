//! Which character encoding a page is in, worked out the way browsers do before they look at
//! the text itself.
//!
//! The seed's `resp.text()` is aiohttp's guess (the `charset` of the `Content-Type`, else
//! charset-normalizer's statistics). areq follows the HTML standard's order instead
//! ("determining the character encoding"), without statistics:
//!
//! 1. a byte order mark: UTF-8, UTF-16LE or UTF-16BE, whatever else the page says;
//! 2. the `charset` parameter of the `Content-Type` header (`text/html; charset="Shift_JIS"`),
//!    any label of the [WHATWG Encoding Standard](https://encoding.spec.whatwg.org/#names-and-labels)
//!    (`latin1`, `sjis`, `utf8`, …; `iso-8859-1` and `us-ascii` mean windows-1252 there);
//! 3. `<meta charset="…">`, or `<meta http-equiv="Content-Type" content="…; charset=…">`, in
//!    the first 1024 bytes (see [`meta_charset`] for what of the standard's prescan is done);
//!    a UTF-16 label there means UTF-8 (a page read as ASCII this far is not UTF-16) and
//!    `x-user-defined` means windows-1252, as the standard says;
//! 4. otherwise UTF-8 if the whole page is valid UTF-8, else windows-1252 (browsers fall back
//!    to a locale's legacy encoding, or guess from the bytes; windows-1252 is the fallback of
//!    most locales, and a page that is valid UTF-8 is almost never anything else).
//!
//! A label the standard does not know, at step 2 or 3, is ignored and the next step decides.
//! The labels of encodings the standard deliberately leaves out (`iso-2022-kr`, `hz-gb-2312`,
//! …) mean its *replacement* encoding, which reads the whole page as one U+FFFD: such a page has
//! no links, as in a browser. The decoders are [encoding_rs](https://docs.rs/encoding_rs)',
//! the ones Firefox uses.
//!
//! # Examples
//!
//! ```
//! use areq::charset::{Source, detect};
//!
//! let page = b"<meta charset=shift_jis><a href=/x>\x83\x41</a>";
//! let found = detect(page, Some("text/html"));
//! assert_eq!((found.encoding.name(), found.source), ("Shift_JIS", Source::Meta));
//! // The header comes before the page's own declaration.
//! let found = detect(page, Some("text/html; charset=EUC-JP"));
//! assert_eq!((found.encoding.name(), found.source), ("EUC-JP", Source::ContentType));
//! ```

use std::borrow::Cow;
use std::fmt;

use encoding_rs::{
    EncoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED,
};

/// How far into a page a `<meta>` declaration is looked for (the HTML standard's prescan).
pub const PRESCAN_LEN: usize = 1024;

/// Where a page's encoding came from.
///
/// # Examples
///
/// ```
/// use areq::charset::{Source, detect};
///
/// assert_eq!(detect(b"\xef\xbb\xbf<p>", None).source, Source::Bom);
/// assert_eq!(Source::Bom.to_string(), "byte order mark");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// A byte order mark at the start of the body.
    Bom,
    /// The `charset` parameter of the `Content-Type` header.
    ContentType,
    /// A `<meta>` declaration in the first 1024 bytes.
    Meta,
    /// Nothing declared it: UTF-8 because the page is valid UTF-8, else windows-1252.
    Fallback,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Bom => "byte order mark",
            Source::ContentType => "Content-Type charset",
            Source::Meta => "<meta> charset",
            Source::Fallback => "fallback",
        })
    }
}

/// A page's encoding, where it came from, and how many bytes of byte order mark to skip.
///
/// # Examples
///
/// ```
/// use areq::charset::{Source, declared};
///
/// let found = declared(b"\xff\xfe<\0p\0>\0", None).unwrap();
/// assert_eq!((found.encoding, found.source, found.bom_len), (encoding_rs::UTF_16LE, Source::Bom, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The encoding to decode the page with.
    pub encoding: &'static Encoding,
    /// Which rule chose it.
    pub source: Source,
    /// The length of the byte order mark at the start of the body (0 unless `source` is
    /// [`Source::Bom`]); the text starts after it.
    pub bom_len: usize,
}

/// The encoding a page declares (steps 1 to 3 of the [module docs](self)): its byte order mark,
/// else the `Content-Type`'s `charset`, else a `<meta>` in its first 1024 bytes. `None` when
/// nothing (known) is declared. Only the first 1024 bytes are read.
///
/// # Examples
///
/// ```
/// use areq::charset::declared;
///
/// let found = declared(b"<p>caf\xe9", Some("text/html; charset=latin1")).unwrap();
/// assert_eq!(found.encoding, encoding_rs::WINDOWS_1252);
/// assert_eq!(declared(b"<p>caf\xe9", Some("text/html; charset=no-such-thing")), None);
/// ```
pub fn declared(body: &[u8], content_type: Option<&str>) -> Option<Detected> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        return Some(Detected {
            encoding,
            source: Source::Bom,
            bom_len,
        });
    }
    let from = |encoding, source| Detected {
        encoding,
        source,
        bom_len: 0,
    };
    if let Some(encoding) = content_type
        .and_then(content_type_charset)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
    {
        return Some(from(encoding, Source::ContentType));
    }
    meta_charset(body).map(|encoding| from(encoding, Source::Meta))
}

/// A page's encoding, by every rule of the [module docs](self): what it [`declared`], else UTF-8
/// if the whole body is valid UTF-8, else windows-1252.
///
/// The last step reads the whole body; link extraction avoids it when it can (see
/// [`crate::links`]).
///
/// # Examples
///
/// ```
/// use areq::charset::{Source, detect};
///
/// let utf8 = detect("<p>café".as_bytes(), None);
/// assert_eq!((utf8.encoding, utf8.source), (encoding_rs::UTF_8, Source::Fallback));
/// let legacy = detect(b"<p>caf\xe9", None);
/// assert_eq!((legacy.encoding, legacy.source), (encoding_rs::WINDOWS_1252, Source::Fallback));
/// ```
pub fn detect(body: &[u8], content_type: Option<&str>) -> Detected {
    declared(body, content_type).unwrap_or_else(|| Detected {
        encoding: fallback(body),
        source: Source::Fallback,
        bom_len: 0,
    })
}

/// The fallback for a page that declares nothing: UTF-8 if it is valid UTF-8, else
/// windows-1252.
pub(crate) fn fallback(body: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(body).is_ok() {
        UTF_8
    } else {
        WINDOWS_1252
    }
}

/// The `charset` parameter of a `Content-Type` value, without quotes; `None` if it has none.
///
/// Parameters are read as the MIME Sniffing standard reads them: `;`-separated, names in any
/// case, a quoted value may hold `;`, the first `charset` counts. The value is a label, not
/// checked here.
///
/// # Examples
///
/// ```
/// use areq::charset::content_type_charset;
///
/// assert_eq!(content_type_charset("text/html; Charset=\"ISO-8859-1\""), Some("ISO-8859-1"));
/// assert_eq!(content_type_charset("text/html;q=\"a;b\";charset=utf-8"), Some("utf-8"));
/// assert_eq!(content_type_charset("text/html"), None);
/// ```
pub fn content_type_charset(content_type: &str) -> Option<&str> {
    let (_, mut rest) = content_type.split_once(';')?;
    while !rest.is_empty() {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n', ';']);
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim();
        rest = &rest[name_end..];
        let Some(after) = rest.strip_prefix('=') else {
            continue; // a parameter without a value
        };
        let value;
        if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            value = &quoted[..end];
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = after.find(';').unwrap_or(after.len());
            value = after[..end].trim();
            rest = &after[end..];
        }
        if name.eq_ignore_ascii_case("charset") && !value.is_empty() {
            return Some(value);
        }
    }
    None
}

/// The encoding a `<meta>` element declares in the first 1024 bytes of `body`, as the HTML
/// standard's prescan finds it.
///
/// Supported, as the standard says: `<!-- … -->` comments skipped (`<!-->` closes one), other
/// tags skipped with their attributes (so a `<meta>` inside an attribute value or a comment
/// counts for nothing), `<!…>`, `</…>` and `<?…>` skipped to their `>`; in `<meta>`, the first
/// of duplicate attributes, quoted or unquoted values in any case, `charset`, or `http-equiv`
/// set to `content-type` with a `content` whose `charset=` is read as the standard extracts it
/// (quotes, `;`, spaces around `=`). A `<meta>` whose label is unknown is passed over and the
/// prescan goes on. UTF-16 labels mean UTF-8 and `x-user-defined` windows-1252. Not done: the
/// XML declaration (`<?xml encoding=…?>`), which the HTML standard ignores too; a tag cut off
/// by the 1024th byte ends the prescan.
///
/// # Examples
///
/// ```
/// use areq::charset::meta_charset;
///
/// let head = br#"<!-- <meta charset=koi8-r> --><meta http-equiv="Content-Type"
///     content="text/html; charset='EUC-KR'">"#;
/// assert_eq!(meta_charset(head), Some(encoding_rs::EUC_KR));
/// assert_eq!(meta_charset(b"<p title='<meta charset=koi8-r>'>"), None);
/// assert_eq!(meta_charset(b"<meta charset=utf-16le>"), Some(encoding_rs::UTF_8));
/// ```
pub fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(PRESCAN_LEN)];
    let mut pos = 0;
    while pos < head.len() {
        let rest = &head[pos..];
        if rest.starts_with(b"<!--") {
            // The `-->` may share its dashes with the `<!--`.
            pos += 2 + find(&rest[2..], b"-->")? + 3;
            continue;
        }
        if rest.len() > 5
            && rest[0] == b'<'
            && rest[1..5].eq_ignore_ascii_case(b"meta")
            && (is_space(rest[5]) || rest[5] == b'/')
        {
            let (encoding, end) = meta_element(head, pos + 5)?;
            if let Some(encoding) = encoding {
                return Some(if encoding == UTF_16LE || encoding == UTF_16BE {
                    UTF_8
                } else if encoding == X_USER_DEFINED {
                    WINDOWS_1252
                } else {
                    encoding
                });
            }
            pos = end + 1;
            continue;
        }
        match rest {
            [b'<', b'/', letter, ..] | [b'<', letter, ..] if letter.is_ascii_alphabetic() => {
                // Another tag: skip its name, then its attributes, so that markup-looking text
                // in their values is not read as a tag.
                let mut at = pos + 1;
                while at < head.len() && !is_space(head[at]) && head[at] != b'>' {
                    at += 1;
                }
                loop {
                    match attribute(head, at)? {
                        Attribute::Pair(_, _, next) => at = next,
                        Attribute::End(end) => {
                            pos = end + 1;
                            break;
                        }
                    }
                }
            }
            [b'<', b'!' | b'/' | b'?', ..] => pos += find(rest, b">")? + 1,
            _ => pos += 1,
        }
    }
    None
}

/// The encoding a `<meta>` element declares, its attributes starting at `pos` in `head`, and
/// where it ends (its `>`); `None` if the element is cut off.
fn meta_element(head: &[u8], mut pos: usize) -> Option<(Option<&'static Encoding>, usize)> {
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut got_pragma = false;
    // `None`: no declaration yet; `Some(true)`: it came from `content`, which counts only with
    // `http-equiv="content-type"`.
    let mut need_pragma = None;
    let mut charset = None;
    let end = loop {
        let (name, value, next) = match attribute(head, pos)? {
            Attribute::Pair(name, value, next) => (name, value, next),
            Attribute::End(end) => break end,
        };
        pos = next;
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        seen.push(name);
        if name.eq_ignore_ascii_case(b"http-equiv") {
            got_pragma |= value.eq_ignore_ascii_case(b"content-type");
        } else if name.eq_ignore_ascii_case(b"content") {
            // Only if no `charset` or `content` declared one before (even a bad one).
            if need_pragma.is_none()
                && let Some(encoding) = charset_in_content(value).and_then(Encoding::for_label)
            {
                charset = Some(encoding);
                need_pragma = Some(true);
            }
        } else if name.eq_ignore_ascii_case(b"charset") {
            charset = Encoding::for_label(value);
            need_pragma = Some(false);
        }
    };
    let encoding = match need_pragma {
        Some(true) if !got_pragma => None,
        Some(_) => charset,
        None => None,
    };
    Some((encoding, end))
}

/// What [`attribute`] found.
enum Attribute<'a> {
    /// A name, its value (empty if none), and where to go on from.
    Pair(&'a [u8], &'a [u8], usize),
    /// No more attributes: the tag's `>` is here.
    End(usize),
}

/// The next attribute of a tag from `pos`, as the prescan's "get an attribute" reads it;
/// `None` if the tag is cut off. Names and values are returned as written: every comparison
/// made on them ignores case.
fn attribute(head: &[u8], mut pos: usize) -> Option<Attribute<'_>> {
    while is_space(*head.get(pos)?) || head[pos] == b'/' {
        pos += 1;
    }
    if head[pos] == b'>' {
        return Some(Attribute::End(pos));
    }
    // The name: a first `=` belongs to it, then up to `=`, a space, `/` or `>`.
    let start = pos;
    pos += 1;
    loop {
        match *head.get(pos)? {
            b'=' => break,
            b'/' | b'>' => return Some(Attribute::Pair(&head[start..pos], b"", pos)),
            b if is_space(b) => break,
            _ => pos += 1,
        }
    }
    let name = &head[start..pos];
    while is_space(*head.get(pos)?) {
        pos += 1;
    }
    if head[pos] != b'=' {
        return Some(Attribute::Pair(name, b"", pos));
    }
    pos += 1;
    while is_space(*head.get(pos)?) {
        pos += 1;
    }
    match head[pos] {
        quote @ (b'"' | b'\'') => {
            let len = head[pos + 1..].iter().position(|&b| b == quote)?;
            let value = &head[pos + 1..pos + 1 + len];
            Some(Attribute::Pair(name, value, pos + len + 2))
        }
        b'>' => Some(Attribute::Pair(name, b"", pos)),
        _ => {
            let start = pos;
            while !is_space(*head.get(pos)?) && head[pos] != b'>' {
                pos += 1;
            }
            Some(Attribute::Pair(name, &head[start..pos], pos))
        }
    }
}

/// The label in a `<meta content="text/html; charset=…">`, as the HTML standard extracts it.
fn charset_in_content(content: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    loop {
        pos += content[pos..]
            .windows(7)
            .position(|w| w.eq_ignore_ascii_case(b"charset"))?
            + 7;
        while content.get(pos).is_some_and(|&b| is_space(b)) {
            pos += 1;
        }
        if content.get(pos) == Some(&b'=') {
            break;
        }
        // `charset` not followed by `=`: look for the next one from here.
    }
    pos += 1;
    while content.get(pos).is_some_and(|&b| is_space(b)) {
        pos += 1;
    }
    let rest = &content[pos..];
    match rest.first()? {
        &quote @ (b'"' | b'\'') => {
            let len = rest[1..].iter().position(|&b| b == quote)?;
            Some(&rest[1..1 + len])
        }
        _ => {
            let len = rest
                .iter()
                .position(|&b| is_space(b) || b == b';')
                .unwrap_or(rest.len());
            Some(&rest[..len])
        }
    }
}

/// The query of a URL in a document in `encoding`, as bytes to percent-encode: the WHATWG URL
/// standard's "percent-encode after encoding". Characters `encoding` cannot represent become
/// `%26%23` + their decimal code point + `%3B` (an HTML character reference, percent-encoded),
/// which the URL parser leaves alone since `%` is not in the query's percent-encode set.
///
/// `encoding` must be an output encoding (not UTF-16 nor *replacement*: those use UTF-8).
pub(crate) fn encode_query<'a>(encoding: &'static Encoding, query: &'a str) -> Cow<'a, [u8]> {
    if encoding == UTF_8 || query.is_ascii() {
        return Cow::Borrowed(query.as_bytes());
    }
    let mut encoder = encoding.new_encoder();
    let mut out = Vec::with_capacity(query.len() + 8);
    let mut rest = query;
    loop {
        let needed = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len());
        out.reserve(needed);
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => return Cow::Owned(out),
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(c) => {
                out.extend_from_slice(format!("%26%23{}%3B", u32::from(c)).as_bytes());
            }
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
