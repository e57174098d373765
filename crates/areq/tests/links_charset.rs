//! Pages in other encodings than UTF-8: which encoding is chosen (byte order mark, header,
//! `<meta>`, fallback), and links resolved in it — path in UTF-8, query in the page's encoding.

use areq::charset::{Source, declared, detect, meta_charset};
use areq::links::{extract_links, extract_links_with_content_type, resolve_with_encoding};
use encoding_rs::{
    EUC_JP, Encoding, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1251, WINDOWS_1252,
};
use proptest::prelude::*;
use url::Url;

fn links(html: &[u8], content_type: Option<&str>) -> Vec<String> {
    let page = Url::parse("http://h/dir/page").unwrap();
    extract_links_with_content_type(html, &page, content_type)
        .into_iter()
        .map(String::from)
        .collect()
}

const CAFE_1252: &[u8] = b"<p>caf\xe9</p><a href=\"/caf\xe9?q=\xe9\">x</a>";

#[test]
fn windows_1252_page_path_in_utf8_query_in_1252() {
    assert_eq!(
        links(CAFE_1252, Some("text/html; charset=windows-1252")),
        ["http://h/caf%C3%A9?q=%E9"]
    );
    // `latin1` and `iso-8859-1` are labels of windows-1252.
    assert_eq!(
        links(CAFE_1252, Some("text/html;charset=\"ISO-8859-1\"")),
        ["http://h/caf%C3%A9?q=%E9"]
    );
}

#[test]
fn character_references_in_a_legacy_page_are_encoded_in_it_too() {
    // The bytes are ASCII, the `href`s are not: the query is still windows-1252, and a
    // character windows-1252 lacks becomes its percent-encoded character reference.
    let html = b"<a href='/caf&eacute;?q=&eacute;&#x20AC;'><a href='/?q=&#x3042;'>";
    assert_eq!(
        links(html, Some("text/html; charset=windows-1252")),
        ["http://h/caf%C3%A9?q=%E9%80", "http://h/?q=%26%2312354%3B"]
    );
    // The same page in UTF-8: the query is UTF-8.
    assert_eq!(
        links(html, Some("text/html; charset=utf-8")),
        [
            "http://h/caf%C3%A9?q=%C3%A9%E2%82%AC",
            "http://h/?q=%E3%81%82"
        ]
    );
}

#[test]
fn shift_jis_declared_only_in_a_meta() {
    // 表 is 0x95 0x5C in Shift_JIS: read as bytes, its second half would be a backslash,
    // which the URL parser takes for a slash. あ is 0x82 0xA0.
    let html = b"<html><head><meta charset=\"Shift_JIS\"><title>\x95\x5c</title></head>\
                 <a href=\"/\x95\x5c/\x82\xa0?q=\x82\xa0\">x</a><a href=/ascii>y</a>";
    assert_eq!(meta_charset(html), Some(SHIFT_JIS));
    assert_eq!(
        links(html, Some("text/html")),
        ["http://h/%E8%A1%A8/%E3%81%82?q=%82%A0", "http://h/ascii"]
    );
    assert_eq!(links(html, None), links(html, Some("text/html")));
}

#[test]
fn http_equiv_meta_declares_too() {
    let html = b"<meta http-equiv=Content-Type content=\"text/html; charset=euc-jp\">\
                 <a href=\"/?q=\xa4\xa2\">";
    assert_eq!(links(html, None), ["http://h/?q=%A4%A2"]);
    // `content` without the pragma declares nothing: the page is not UTF-8, so windows-1252.
    let html = b"<meta content=\"text/html; charset=euc-jp\"><a href=\"/?q=\xa4\xa2\">";
    assert_eq!(links(html, None), ["http://h/?q=%A4%A2"]);
    assert_eq!(detect(html, None).encoding, WINDOWS_1252);
}

#[test]
fn content_type_charset_overrides_the_meta() {
    let html = b"<meta charset=shift_jis><a href=\"/caf\xe9?q=\xe9\">";
    let found = detect(html, Some("text/html; charset=windows-1252"));
    assert_eq!(
        (found.encoding, found.source),
        (WINDOWS_1252, Source::ContentType)
    );
    assert_eq!(
        links(html, Some("text/html; charset=windows-1252")),
        ["http://h/caf%C3%A9?q=%E9"]
    );
    // Read as its meta says, the same bytes are something else: 0xE9 followed by `?` or `"`
    // is no Shift_JIS character, so U+FFFD and the ASCII byte is kept; in the query, U+FFFD
    // (which Shift_JIS cannot encode) becomes its character reference.
    assert_eq!(
        links(html, Some("text/html")),
        ["http://h/caf%EF%BF%BD?q=%26%2365533%3B"]
    );
}

#[test]
fn byte_order_mark_overrides_everything() {
    // A UTF-8 BOM on a page whose header and meta say windows-1252.
    let html = b"\xef\xbb\xbf<meta charset=windows-1252><a href=\"/caf\xc3\xa9?q=\xc3\xa9\">";
    let found = declared(html, Some("text/html; charset=windows-1252")).unwrap();
    assert_eq!(
        (found.encoding, found.source, found.bom_len),
        (UTF_8, Source::Bom, 3)
    );
    assert_eq!(
        links(html, Some("text/html; charset=windows-1252")),
        ["http://h/caf%C3%A9?q=%C3%A9"]
    );
    // UTF-16 pages, both byte orders: the query is UTF-8, as for UTF-8 pages.
    let text = "<a href=\"/caf\u{e9}?q=\u{e9}\">caf\u{e9}</a>";
    let mut le = vec![0xff, 0xfe];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xfe, 0xff];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(declared(&le, None).unwrap().encoding, UTF_16LE);
    assert_eq!(declared(&be, None).unwrap().encoding, UTF_16BE);
    for page in [&le, &be] {
        assert_eq!(
            links(page, Some("text/html; charset=windows-1252")),
            ["http://h/caf%C3%A9?q=%C3%A9"]
        );
    }
}

#[test]
fn utf16_by_header_alone() {
    let text = "<a href=\"/\u{e9}\">";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(
        links(&le, Some("text/html; charset=utf-16le")),
        ["http://h/%C3%A9"]
    );
    // Without the header it is not read as UTF-16 (no BOM): NULs everywhere, no tag.
    assert_eq!(links(&le, None), Vec::<String>::new());
}

#[test]
fn unknown_labels_fall_through_to_the_next_rule() {
    // Header unknown: the meta decides.
    let html = b"<meta charset=windows-1251><a href=\"/?q=\xe6\">";
    let found = detect(html, Some("text/html; charset=no-such-encoding"));
    assert_eq!((found.encoding, found.source), (WINDOWS_1251, Source::Meta));
    assert_eq!(
        links(html, Some("text/html; charset=no-such-encoding")),
        ["http://h/?q=%E6"]
    );
    // Both unknown: not valid UTF-8, so windows-1252.
    let html = b"<meta charset=bogus><a href=\"/caf\xe9?q=\xe9\">";
    let found = detect(html, Some("text/html; charset=also-bogus"));
    assert_eq!(
        (found.encoding, found.source),
        (WINDOWS_1252, Source::Fallback)
    );
    assert_eq!(
        links(html, Some("text/html; charset=also-bogus")),
        ["http://h/caf%C3%A9?q=%E9"]
    );
    // Both unknown, valid UTF-8: UTF-8.
    let html = "<meta charset=bogus><a href=\"/caf\u{e9}?q=\u{e9}\">".as_bytes();
    assert_eq!(detect(html, Some("text/html; charset=x")).encoding, UTF_8);
    assert_eq!(links(html, None), ["http://h/caf%C3%A9?q=%C3%A9"]);
    // An empty or quoted-empty charset is no charset.
    assert_eq!(declared(b"<p>", Some("text/html; charset=")), None);
    assert_eq!(declared(b"<p>", Some("text/html; charset=\"\"")), None);
}

#[test]
fn undeclared_pages_fall_back_to_utf8_or_windows_1252() {
    assert_eq!(links(CAFE_1252, None), ["http://h/caf%C3%A9?q=%E9"]);
    assert_eq!(
        extract_links(CAFE_1252, &Url::parse("http://h/").unwrap()).len(),
        1
    );
    let utf8 = "<p>caf\u{e9}</p><a href=\"/caf\u{e9}?q=\u{e9}\">".as_bytes();
    assert_eq!(links(utf8, None), ["http://h/caf%C3%A9?q=%C3%A9"]);
    // ASCII `href`s: the same whatever the fallback.
    assert_eq!(
        links(b"<p>\xe9</p><a href=/a?q=1>", None),
        ["http://h/a?q=1"]
    );
}

#[test]
fn replacement_encodings_give_no_links() {
    // `iso-2022-kr` is a label of the replacement encoding: the page reads as one U+FFFD.
    let html = b"<a href=/a>";
    assert_eq!(
        links(html, Some("text/html; charset=iso-2022-kr")),
        Vec::<String>::new()
    );
}

#[test]
fn iso_2022_jp_is_decoded_before_it_is_read() {
    // あ is ESC $ B `$"` ESC ( B: a `"` byte inside the character, which would end the
    // attribute if the bytes were tokenized as they are.
    let html = b"<a href=\"/\x1b$B$\"\x1b(B?q=\x1b$B$\"\x1b(B\">x</a>";
    assert_eq!(
        links(html, Some("text/html; charset=iso-2022-jp")),
        ["http://h/%E3%81%82?q=%1B$B$%22%1B(B"]
    );
}

#[test]
fn the_base_href_is_resolved_in_the_page_encoding() {
    let html = b"<base href=\"/b\xe9/?q=\xe9\"><a href=\"x\xe9\">";
    assert_eq!(
        links(html, Some("text/html; charset=windows-1252")),
        ["http://h/b%C3%A9/x%C3%A9"]
    );
}

#[test]
fn meta_prescan_rules() {
    let at = |pad: usize| {
        let mut html = vec![b' '; pad];
        html.extend_from_slice(b"<meta charset=koi8-r>");
        meta_charset(&html)
    };
    // Only the first 1024 bytes count, and the tag must end inside them.
    assert_eq!(at(1024 - 21), Some(encoding_rs::KOI8_R));
    assert_eq!(at(1024 - 20), None);
    let cases: &[(&[u8], Option<&'static Encoding>)] = &[
        (
            b"<!-- <meta charset=koi8-r> --><meta charset=euc-jp>",
            Some(EUC_JP),
        ),
        (b"<!--><meta charset=euc-jp>", Some(EUC_JP)),
        (b"<!-- never closed <meta charset=euc-jp>", None),
        (
            b"<p title=\"<meta charset=koi8-r>\"><meta charset=euc-jp>",
            Some(EUC_JP),
        ),
        (
            b"<?php <meta charset=koi8-r> ?><meta charset=euc-jp>",
            Some(EUC_JP),
        ),
        (
            b"<metadata charset=koi8-r><META CHARSET='EUC-JP'>",
            Some(EUC_JP),
        ),
        (b"<meta/charset=euc-jp>", Some(EUC_JP)),
        (b"<meta charset=euc-jp charset=koi8-r>", Some(EUC_JP)),
        (b"<meta charset=utf-16>", Some(UTF_8)),
        (b"<meta charset=x-user-defined>", Some(WINDOWS_1252)),
        (b"<meta charset=bogus><meta charset=euc-jp>", Some(EUC_JP)),
        (
            b"<meta content='text/html; charset = \"euc-jp\"' http-equiv='content-type'>",
            Some(EUC_JP),
        ),
        (
            b"<meta http-equiv=content-type content=\"charsetx charset=euc-jp;x\">",
            Some(EUC_JP),
        ),
        // A bad `charset` attribute is not replaced by a `content`.
        (
            b"<meta charset=bogus http-equiv=content-type content=\"charset=euc-jp\">",
            None,
        ),
        (
            b"<meta http-equiv=content-type content=\"charset='euc-jp\">",
            None,
        ),
        (b"<meta name=x>", None),
        (b"<meta charset=euc-jp", None),
    ];
    for &(html, expected) in cases {
        assert_eq!(
            meta_charset(html),
            expected,
            "{}",
            String::from_utf8_lossy(html)
        );
    }
}

#[test]
fn resolving_in_an_encoding_touches_only_the_query() {
    let base = Url::parse("http://h/").unwrap();
    let url = resolve_with_encoding(&base, "/\u{e9}?\u{e9}#\u{e9}", WINDOWS_1252).unwrap();
    assert_eq!(url.as_str(), "http://h/%C3%A9?%E9");
    // Non-special schemes are not http(s), and dropped as before.
    assert_eq!(
        resolve_with_encoding(&base, "foo://x/?\u{e9}", WINDOWS_1252),
        None
    );
    // A host in the page's encoding is still IDNA.
    let url = resolve_with_encoding(&base, "http://caf\u{e9}.example/", SHIFT_JIS).unwrap();
    assert_eq!(url.host_str(), Some("xn--caf-dma.example"));
}

/// What link extraction must give, done the slow way: decode the whole page, tokenize the
/// text, resolve every `href` in the page's encoding.
fn reference(html: &[u8], content_type: Option<&str>) -> Vec<String> {
    let found = detect(html, content_type);
    let (text, _) = found
        .encoding
        .decode_without_bom_handling(&html[found.bom_len..]);
    let page = Url::parse("http://h/dir/page").unwrap();
    // The generated pages have no `<base>`.
    let (hrefs, _) = areq::links::raw_hrefs(text.as_bytes());
    let mut out: Vec<String> = Vec::new();
    for href in hrefs {
        if let Some(url) = resolve_with_encoding(&page, &href, found.encoding) {
            if !out.contains(&url.to_string()) {
                out.push(url.into());
            }
        }
    }
    out
}

/// Pieces of pages: markup, character references, and bytes that are not ASCII (whole
/// characters in some encodings, halves or garbage in others).
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"<a href=\"".to_vec()),
        Just(b"<a href='".to_vec()),
        Just(b"<a href=".to_vec()),
        Just(b"\">".to_vec()),
        Just(b"'>".to_vec()),
        Just(b">".to_vec()),
        Just(b"/x".to_vec()),
        Just(b"?q=".to_vec()),
        Just(b"&eacute;".to_vec()),
        Just(b"&#x3042;".to_vec()),
        Just(b"<script>".to_vec()),
        Just(b"</script>".to_vec()),
        Just(b"<!--".to_vec()),
        Just(b"-->".to_vec()),
        Just(b" ".to_vec()),
        Just(b"<a ".to_vec()),
        Just(b"href=/y ".to_vec()),
        Just(b"1".to_vec()),
        Just(b"\x95\\".to_vec()),
        Just(b"\x82\xa0".to_vec()),
        Just(b"\xa4\xa2".to_vec()),
        Just("\u{e9}".as_bytes().to_vec()),
        any::<u8>().prop_map(|b| vec![b | 0x80]),
    ]
}

fn page() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    /// The shortcuts (tokenizing the bytes as they are when that gives the same result) never
    /// change the result, for each kind of declaration and encoding.
    #[test]
    fn shortcuts_agree_with_decoding_everything(
        body in page(),
        label in prop::sample::select(vec!["", "utf-8", "windows-1252", "shift_jis", "euc-jp", "gbk", "big5"]),
    ) {
        let content_type = (!label.is_empty()).then(|| format!("text/html; charset={label}"));
        prop_assert_eq!(
            links(&body, content_type.as_deref()),
            reference(&body, content_type.as_deref())
        );
    }

    /// Any bytes: the prescan and the detection never panic, and a declared encoding is one a
    /// page can be read as (never UTF-16 from a `<meta>`).
    #[test]
    fn any_bytes_are_handled(body in prop::collection::vec(any::<u8>(), 0..1200), meta in any::<bool>()) {
        let mut html = if meta { b"<meta charset=".to_vec() } else { Vec::new() };
        html.extend_from_slice(&body);
        if let Some(encoding) = meta_charset(&html) {
            prop_assert!(encoding != UTF_16LE && encoding != UTF_16BE);
        }
        let _ = detect(&html, Some("text/html"));
        let _ = links(&html, None);
    }
}
