//! Link extraction: quoting styles, entities, `<base href>`, comments and raw-text elements,
//! which elements count, URL joining, fragments, schemes, de-duplication, content types.

use areq::links::{extract_links, is_html_content_type, looks_binary, raw_hrefs};
use url::Url;

fn links(html: &str, page: &str) -> Vec<String> {
    let page = Url::parse(page).unwrap();
    extract_links(html.as_bytes(), &page)
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn double_single_and_unquoted_values() {
    let html = r#"<a href="/d">d</a><a href='/s'>s</a><a href=/u>u</a><a href=/v/>v</a>"#;
    assert_eq!(
        links(html, "http://h/"),
        ["http://h/d", "http://h/s", "http://h/u", "http://h/v/"]
    );
}

#[test]
fn attribute_names_and_tags_any_case_and_spacing() {
    let html = "<A HREF=\"/a\"></A><a\n  class=x\n  Href = '/b' ><LINK rel=x hReF=/c>";
    assert_eq!(
        links(html, "http://h/"),
        ["http://h/a", "http://h/b", "http://h/c"]
    );
}

#[test]
fn first_of_duplicate_attributes_wins() {
    assert_eq!(
        links(r#"<a href="/one" href="/two">"#, "http://h/"),
        ["http://h/one"]
    );
}

#[test]
fn entities_are_decoded() {
    let html = r#"<a href="/q?a=1&amp;b=2">x</a><a href='/&#x73;lash&#47;'>y</a><a href=/x?c=1&amp;d=&quot;>z</a><a href="/legacy?x=1&copy=2">w</a>"#;
    assert_eq!(
        links(html, "http://h/"),
        [
            "http://h/q?a=1&b=2",
            "http://h/slash/",
            "http://h/x?c=1&d=%22",
            // In attributes a legacy reference followed by `=` is left alone (the spec's rule).
            "http://h/legacy?x=1&copy=2",
        ]
    );
}

#[test]
fn nothing_from_comments_scripts_styles_or_titles() {
    let html = r#"<!-- <a href="/c1"> --><script>var a = '<a href="/s1">';</script>
        <style>a[href="/st"] {}</style><title><a href="/t1"></title>
        <textarea><a href="/ta"></textarea><!--[if IE]><a href="/ie"><![endif]-->
        <a href="/real">real</a>"#;
    assert_eq!(links(html, "http://h/"), ["http://h/real"]);
}

#[test]
fn script_end_tag_in_a_string_ends_the_script() {
    // As in browsers: the first `</script>` ends the element, whatever quotes are open.
    let html = r#"<script>var s = "</script><a href="/after">";</script>"#;
    assert_eq!(links(html, "http://h/"), ["http://h/after"]);
}

#[test]
fn only_a_link_and_area_count() {
    let html = r#"<a href=/a><link href=/l><area href=/ar><img src=/img><base2 href=/no>
        <div href=/div></div><iframe src=/if></iframe><form action=/f></form>"#;
    assert_eq!(
        links(html, "http://h/"),
        ["http://h/a", "http://h/l", "http://h/ar"]
    );
}

#[test]
fn base_href_applies_to_every_link() {
    let html = r#"<a href="before">b</a><base href="http://cdn.example/x/"><base href="/ignored/"><a href="after">a</a>"#;
    assert_eq!(
        links(html, "http://h/dir/page"),
        ["http://cdn.example/x/before", "http://cdn.example/x/after"]
    );
}

#[test]
fn relative_base_and_bad_base() {
    assert_eq!(
        links(r#"<base href="../b/"><a href=c>"#, "http://h/x/y/z"),
        ["http://h/x/b/c"]
    );
    // A base that does not parse is ignored.
    assert_eq!(
        links(r#"<base href="http://[::1"><a href=c>"#, "http://h/x/y"),
        ["http://h/x/c"]
    );
}

#[test]
fn joining_fragments_and_schemes() {
    let html = r##"<a href="#top"></a><a href="../up#frag"></a><a href="//other.example/p"></a>
        <a href="mailto:a@b"></a><a href="javascript:void(0)"></a><a href="ftp://f/x"></a>
        <a href="data:text/html,hi"></a><a href="  /spaced  "></a><a href="https://s/ok#x"></a>
        <a href="http://[bad"></a><a href=""></a>"##;
    assert_eq!(
        links(html, "http://h/a/b"),
        [
            "http://h/a/b",
            "http://h/up",
            "http://other.example/p",
            "http://h/spaced",
            "https://s/ok",
        ]
    );
}

#[test]
fn each_link_once_in_order() {
    let html = r#"<a href=/b></a><a href=/a></a><a href="/b#x"></a><a href="http://h/a"></a>"#;
    assert_eq!(links(html, "http://h/"), ["http://h/b", "http://h/a"]);
}

#[test]
fn tags_cut_off_at_the_end_yield_nothing() {
    assert!(links(r#"<a href="/ok"></a><a href="/cut"#, "http://h/").len() == 1);
    assert_eq!(links("<a href=", "http://h/"), Vec::<String>::new());
}

#[test]
fn invalid_utf8_does_not_stop_extraction() {
    let mut html = b"<p>\xff\xfe bytes</p><a href=\"/caf".to_vec();
    html.extend_from_slice(b"\xe9\">x</a><a href=/ok>");
    let page = Url::parse("http://h/").unwrap();
    let found = extract_links(&html, &page);
    // Not UTF-8 and nothing declared: read as windows-1252 (see links_charset.rs).
    assert_eq!(
        found.iter().map(Url::as_str).collect::<Vec<_>>(),
        ["http://h/caf%C3%A9", "http://h/ok"]
    );
}

#[test]
fn raw_hrefs_keep_duplicates_and_base() {
    let (hrefs, base) = raw_hrefs(b"<a href=x><a href=x><base href=b1><base href=b2>");
    assert_eq!(hrefs, ["x", "x"]);
    assert_eq!(base.as_deref(), Some("b1"));
}

#[test]
fn content_types() {
    assert!(is_html_content_type(Some("TEXT/HTML")));
    assert!(is_html_content_type(Some("text/html;charset=ISO-8859-1")));
    assert!(!is_html_content_type(Some("application/json")));
    assert!(!is_html_content_type(Some("image/png")));
    assert!(looks_binary(b"GIF89a\0\0"));
    assert!(!looks_binary(b""));
}

#[test]
fn only_the_attribute_named_href_counts() {
    let html = r#"<a hre="/1" hreff="/2" xhref="/3" data-href="/4" h-ref="/5" href="/ok">
        <a HREF_="/6"><a hrefhref=/7>"#;
    assert_eq!(links(html, "http://h/"), ["http://h/ok"]);
}

#[test]
fn href_without_value_is_the_page_itself() {
    assert_eq!(links("<a href>x</a>", "http://h/p?q"), ["http://h/p?q"]);
    assert_eq!(
        links("<a href class=x>x</a><a href=/b>", "http://h/p"),
        ["http://h/p", "http://h/b"]
    );
}

#[test]
fn attributes_on_end_tags_and_other_elements_mean_nothing() {
    let html = "</a href=/end><p href=/p></p><base2 href=/b2><a href=/ok>";
    assert_eq!(links(html, "http://h/"), ["http://h/ok"]);
}

#[test]
fn raw_text_elements_hide_markup_until_their_own_end_tag() {
    let html = r#"<xmp><a href="/x"></xmp><noscript><a href="/n"></noscript>
        <script><!--<script></script><a href=/esc></script>
        <style></styles><a href=/st></style><a href=/after>"#;
    assert_eq!(links(html, "http://h/"), ["http://h/after"]);
}
