//! Which character encoding a text body is in, and decoding it.
//!
//! aiohttp's `ClientResponse.text()` takes the `charset` of the Content-Type and otherwise
//! guesses (`get_encoding`, with charset-normalizer). tulip-http guesses the way browsers do
//! before they look at content, without statistics:
//!
//! 1. the `charset` parameter of the Content-Type (`text/html; charset="ISO-8859-1"`), any
//!    label the WHATWG Encoding Standard knows (`latin1`, `utf8`, `sjis`, ...);
//! 2. a byte order mark (UTF-8, UTF-16LE, UTF-16BE);
//! 3. `<meta charset="...">` or `<meta http-equiv="Content-Type" content="...; charset=...">` in
//!    the first 1024 bytes (a small version of the HTML prescan: comments are skipped, labels of
//!    UTF-16 mean UTF-8 as the HTML standard says, since a document read as ASCII this far is not
//!    UTF-16);
//! 4. else UTF-8.
//!
//! An unknown label is skipped, falling through to the next step. Decoding never fails:
//! malformed sequences become U+FFFD (encoding_rs, the decoder Firefox uses).

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};

/// How far into the body a `<meta>` charset is looked for (the HTML standard's prescan length).
const PRESCAN_LEN: usize = 1024;

/// The encoding of a body: the Content-Type's charset, else a BOM, else a `<meta charset>` /
/// `<meta http-equiv>` in the first 1024 bytes, else UTF-8.
pub(crate) fn detect(content_type: Option<&str>, body: &[u8]) -> &'static Encoding {
    if let Some(encoding) = content_type.and_then(charset_param).and_then(label) {
        return encoding;
    }
    if let Some((encoding, _bom_len)) = Encoding::for_bom(body) {
        return encoding;
    }
    if let Some(encoding) = prescan(&body[..body.len().min(PRESCAN_LEN)]) {
        return encoding;
    }
    UTF_8
}

/// The body as text in that encoding, malformed sequences replaced by U+FFFD, and a BOM of that
/// encoding removed.
pub(crate) fn decode_text(content_type: Option<&str>, body: &[u8]) -> String {
    let (text, _had_errors) = detect(content_type, body).decode_with_bom_removal(body);
    text.into_owned()
}

fn label(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.as_bytes())
}

/// The `charset` parameter of a media type, unquoted.
fn charset_param(content_type: &str) -> Option<&str> {
    // Parameters follow the type, separated by `;`. A quoted value may itself hold `;`, so the
    // string is walked rather than split.
    let mut rest = content_type.split_once(';')?.1;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return None;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim();
        rest = &rest[name_end..];
        let value = match rest.strip_prefix('=') {
            None => "",
            Some(after) => {
                let after = after.trim_start();
                if let Some(quoted) = after.strip_prefix('"') {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    rest = quoted.get(end + 1..).unwrap_or("");
                    &quoted[..end]
                } else {
                    let end = after.find(';').unwrap_or(after.len());
                    rest = &after[end..];
                    after[..end].trim()
                }
            }
        };
        if name.eq_ignore_ascii_case("charset") && !value.is_empty() {
            return Some(value);
        }
    }
}

/// The encoding a `<meta>` tag in `head` declares.
fn prescan(head: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while let Some(lt) = find(&head[pos..], b"<").map(|i| pos + i) {
        let tag = &head[lt..];
        if tag.starts_with(b"<!--") {
            // Skip the comment; one left open hides the rest.
            pos = lt + 4 + find(&tag[4..], b"-->")? + 3;
            continue;
        }
        pos = lt + 1;
        if tag.len() > 5
            && tag[1..5].eq_ignore_ascii_case(b"meta")
            && matches!(tag[5], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/')
        {
            let (encoding, end) = meta_encoding(&tag[5..]);
            if let Some(encoding) = encoding {
                // A page readable as ASCII up to here is not UTF-16, whatever it says.
                return Some(if encoding == UTF_16LE || encoding == UTF_16BE {
                    UTF_8
                } else if encoding == X_USER_DEFINED {
                    WINDOWS_1252
                } else {
                    encoding
                });
            }
            pos = (lt + 5 + end).min(head.len());
        }
    }
    None
}

/// The encoding declared by a meta tag's attributes (`attrs` starts after `<meta`), and where
/// the tag ends.
fn meta_encoding(attrs: &[u8]) -> (Option<&'static Encoding>, usize) {
    let mut charset = None;
    let mut http_equiv_content_type = false;
    let mut content_charset = None;
    let mut pos = 0;
    while let Some((name, value, next)) = attribute(attrs, pos) {
        pos = next;
        if name.eq_ignore_ascii_case(b"charset") && charset.is_none() {
            charset = Some(Encoding::for_label(value));
        } else if name.eq_ignore_ascii_case(b"http-equiv") {
            http_equiv_content_type |= value.eq_ignore_ascii_case(b"content-type");
        } else if name.eq_ignore_ascii_case(b"content") && content_charset.is_none() {
            content_charset = Some(charset_from_content(value));
        }
    }
    let encoding = match (charset, content_charset) {
        (Some(encoding), _) => encoding,
        (None, Some(encoding)) if http_equiv_content_type => encoding,
        _ => None,
    };
    (encoding, pos)
}

/// The next attribute of a tag from `pos`: name, value (empty if none) and the position after
/// it; None at the tag's end.
fn attribute(tag: &[u8], mut pos: usize) -> Option<(&[u8], &[u8], usize)> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    while pos < tag.len() && (is_space(tag[pos]) || tag[pos] == b'/') {
        pos += 1;
    }
    if pos >= tag.len() || tag[pos] == b'>' {
        return None;
    }
    let start = pos;
    while pos < tag.len() && !is_space(tag[pos]) && !matches!(tag[pos], b'=' | b'>' | b'/') {
        pos += 1;
    }
    let name = &tag[start..pos];
    while pos < tag.len() && is_space(tag[pos]) {
        pos += 1;
    }
    if tag.get(pos) != Some(&b'=') {
        return Some((name, &[], pos.max(start + 1)));
    }
    pos += 1;
    while pos < tag.len() && is_space(tag[pos]) {
        pos += 1;
    }
    match tag.get(pos) {
        Some(&quote @ (b'"' | b'\'')) => {
            let value_start = pos + 1;
            let len = find(&tag[value_start..], &[quote]).unwrap_or(tag.len() - value_start);
            Some((
                name,
                &tag[value_start..value_start + len],
                value_start + len + 1,
            ))
        }
        _ => {
            let value_start = pos;
            while pos < tag.len() && !is_space(tag[pos]) && tag[pos] != b'>' {
                pos += 1;
            }
            Some((name, &tag[value_start..pos], pos))
        }
    }
}

/// `charset=...` inside a meta `content` value (`text/html; charset=utf-8`).
fn charset_from_content(content: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while pos + 7 <= content.len() {
        if !content[pos..pos + 7].eq_ignore_ascii_case(b"charset") {
            pos += 1;
            continue;
        }
        let rest = content[pos + 7..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            pos += 7;
            continue;
        };
        let rest = rest.trim_ascii_start();
        let value = match rest.first() {
            Some(&quote @ (b'"' | b'\'')) => {
                let inner = &rest[1..];
                &inner[..find(inner, &[quote])?]
            }
            _ => {
                let end = rest
                    .iter()
                    .position(|&b| b == b';' || b.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                &rest[..end]
            }
        };
        return Encoding::for_label(value);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use encoding_rs::{EUC_JP, ISO_8859_2, SHIFT_JIS, WINDOWS_1251};

    use super::*;

    #[test]
    fn the_content_type_charset_comes_first() {
        for ct in [
            "text/html; charset=windows-1251",
            "text/html;charset=WINDOWS-1251",
            "text/html; CharSet=\"cp1251\"",
            "text/html; foo=\"a;charset=utf-8\"; charset=windows-1251",
            "text/plain; format=flowed; charset = cp1251 ",
        ] {
            assert_eq!(
                detect(Some(ct), b"<meta charset=utf-8>"),
                WINDOWS_1251,
                "{ct}"
            );
        }
        // ISO-8859-1 is windows-1252 in the Encoding Standard, as browsers read it.
        assert_eq!(
            detect(Some("text/html; charset=iso-8859-1"), b""),
            WINDOWS_1252
        );
        // Even over a BOM (this order is the spec's choice for this crate).
        assert_eq!(
            detect(Some("text/plain; charset=latin2"), b"\xEF\xBB\xBFx"),
            ISO_8859_2
        );
    }

    #[test]
    fn an_unknown_or_missing_charset_falls_through() {
        let body = b"<meta charset=shift_jis>";
        assert_eq!(detect(Some("text/html; charset=klingon"), body), SHIFT_JIS);
        assert_eq!(detect(Some("text/html; charset="), body), SHIFT_JIS);
        assert_eq!(detect(Some("text/html"), body), SHIFT_JIS);
        assert_eq!(detect(None, body), SHIFT_JIS);
        assert_eq!(detect(Some("text/html; charset=klingon"), b"plain"), UTF_8);
    }

    #[test]
    fn a_bom_comes_second() {
        assert_eq!(detect(None, b"\xEF\xBB\xBFhello"), UTF_8);
        assert_eq!(detect(None, b"\xFF\xFEh\0i\0"), UTF_16LE);
        assert_eq!(detect(Some("text/plain"), b"\xFE\xFF\0h\0i"), UTF_16BE);
        // Over a meta tag.
        assert_eq!(detect(None, b"\xFF\xFE<\0m\0"), UTF_16LE);
    }

    #[test]
    fn meta_tags_are_found_in_the_first_1024_bytes() {
        let cases: &[(&[u8], &'static Encoding)] = &[
            (b"<html><head><meta charset=\"windows-1251\">", WINDOWS_1251),
            (b"<META CHARSET='EUC-JP'>", EUC_JP),
            (b"<meta charset=shift_jis />", SHIFT_JIS),
            (b"<meta\ncharset = latin2 >", ISO_8859_2),
            (
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">",
                WINDOWS_1251,
            ),
            (
                b"<meta content='text/html;CHARSET=\"euc-jp\"' HTTP-EQUIV='content-type'>",
                EUC_JP,
            ),
            // The first meta that declares something wins.
            (
                b"<meta name=x><meta charset=latin2><meta charset=euc-jp>",
                ISO_8859_2,
            ),
            // UTF-16 in a meta means UTF-8; x-user-defined means windows-1252.
            (b"<meta charset=utf-16le>", UTF_8),
            (b"<meta charset=x-user-defined>", WINDOWS_1252),
        ];
        for &(body, want) in cases {
            assert_eq!(
                detect(None, body),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn what_the_prescan_ignores() {
        let cases: &[&[u8]] = &[
            // content without http-equiv
            b"<meta content=\"text/html; charset=windows-1251\">",
            // http-equiv of another kind
            b"<meta http-equiv=refresh content=\"5; charset=windows-1251\">",
            // inside a comment
            b"<!-- <meta charset=windows-1251> -->",
            // not a meta tag
            b"<metadata charset=windows-1251>",
            b"<p charset=windows-1251>",
            // an unknown label
            b"<meta charset=klingon>",
        ];
        for &body in cases {
            assert_eq!(
                detect(None, body),
                UTF_8,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Past 1024 bytes.
        let mut late = vec![b' '; 1020];
        late.extend_from_slice(b"<meta charset=windows-1251>");
        assert_eq!(detect(None, &late), UTF_8);
        // But a comment closed before it does not hide it.
        assert_eq!(detect(None, b"<!-- x --><meta charset=latin2>"), ISO_8859_2);
    }

    #[test]
    fn no_prefix_of_odd_markup_panics() {
        let odd: &[&[u8]] = &[
            b"<meta charset=\"windows-1251",
            b"<meta content='text/html; charset=\"latin2' http-equiv=content-type>",
            b"<meta = charset= / / =>",
            b"<!-- <!-->x<meta charset=latin2>",
            b"<meta\x0ccharset\x0c=\x0clatin2",
            b"<<<meta/charset/=/latin2>",
        ];
        for body in odd {
            for end in 0..=body.len() {
                let _ = detect(None, &body[..end]);
                let _ = decode_text(Some("text/html; charset=\""), &body[..end]);
            }
        }
        assert_eq!(
            detect(None, b"<meta\x0ccharset\x0c=\x0clatin2>"),
            ISO_8859_2
        );
    }

    #[test]
    fn decode_text_uses_the_detected_encoding() {
        assert_eq!(
            decode_text(Some("text/plain; charset=windows-1251"), b"\xcf\xf0\xe8"),
            "При"
        );
        assert_eq!(
            decode_text(None, b"<meta charset=latin1>caf\xe9"),
            "<meta charset=latin1>café"
        );
        assert_eq!(decode_text(None, "naïve".as_bytes()), "naïve");
    }

    #[test]
    fn decode_text_strips_the_bom() {
        assert_eq!(decode_text(None, b"\xEF\xBB\xBFhi"), "hi");
        assert_eq!(decode_text(None, b"\xFF\xFEh\0i\0"), "hi");
        assert_eq!(decode_text(None, b"\xFE\xFF\0h\0i"), "hi");
        assert_eq!(
            decode_text(Some("text/plain; charset=utf-8"), b"\xEF\xBB\xBFhi"),
            "hi"
        );
    }

    #[test]
    fn malformed_input_is_replaced_not_an_error() {
        assert_eq!(
            decode_text(None, b"ok \xff\xfe\xfd end"),
            "ok \u{FFFD}\u{FFFD}\u{FFFD} end"
        );
        assert_eq!(
            decode_text(Some("text/plain; charset=utf-8"), b"\xe2\x82"),
            "\u{FFFD}"
        );
        assert_eq!(decode_text(None, b""), "");
        // An odd byte count in UTF-16.
        assert_eq!(
            decode_text(Some("text/plain; charset=utf-16le"), b"h\0i"),
            "h\u{FFFD}"
        );
    }
}
