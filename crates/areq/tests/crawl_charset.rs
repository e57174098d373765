//! A crawl through pages in legacy encodings requests their non-ASCII links as a browser
//! would: path in UTF-8, query in the linking page's encoding, whether the encoding comes from
//! the `Content-Type` header or a `<meta>`.

mod support;

use areq::crawler::{Config, crawl};
use support::site::{Reply, Site};
use support::{TempDir, on_test_clock, read_tsv};

/// `/` (windows-1252 by its header) links to café with an é in the query; that page
/// (Shift_JIS by its `<meta>` only, served as plain `text/html`) links to あ with an あ in the
/// query; that one (UTF-8 by its header) links back to `/` and on to two UTF-16 pages.
fn routes() -> Vec<(&'static str, Reply)> {
    vec![
        (
            "/",
            Reply::Bytes(
                "text/html; charset=windows-1252",
                b"<p>Caf\xe9</p><a href=\"/caf\xe9?q=\xe9\">caf\xe9</a>".to_vec(),
            ),
        ),
        (
            "/caf%C3%A9?q=%E9",
            Reply::Bytes(
                "text/html",
                b"<meta charset=shift_jis><a href=\"/\x82\xa0?q=\x82\xa0\">\x82\xa0</a>".to_vec(),
            ),
        ),
        (
            "/%E3%81%82?q=%82%A0",
            Reply::Html("<a href=\"/\">home</a><a href=\"/\u{e9}?q=\u{e9}\">".into()),
        ),
        // UTF-16, NUL bytes and all: by its byte order mark, then by its header alone.
        (
            "/%C3%A9?q=%C3%A9",
            Reply::Bytes(
                "text/html",
                utf16le(true, "<a href=\"/le\u{e9}?q=\u{e9}\">"),
            ),
        ),
        (
            "/le%C3%A9?q=%C3%A9",
            Reply::Bytes(
                "text/html; charset=utf-16le",
                utf16le(false, "<a href=\"/end\">"),
            ),
        ),
        ("/end", Reply::Html(String::new())),
    ]
}

fn utf16le(bom: bool, text: &str) -> Vec<u8> {
    let bom: &[u8] = if bom { b"\xff\xfe" } else { b"" };
    let text = text.encode_utf16().flat_map(u16::to_le_bytes);
    bom.iter().copied().chain(text).collect()
}

#[test]
fn links_of_legacy_pages_are_requested_in_their_encoding() {
    let dir = TempDir::new("crawl-charset");
    let hits = on_test_clock(async {
        let site = Site::serve(routes()).await;
        let mut config = Config::new(dir.path("found.tsv"));
        config.urls = vec![site.base.clone()];
        config.depth = 5;
        config.same_host = true;
        let summary = crawl(&config).await.unwrap();
        assert_eq!((summary.pages, summary.failed), (6, 0), "{summary}");
        let hits = site.hits();
        site.shutdown().await;
        hits
    });
    let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/caf%C3%A9?q=%E9",
            "/%E3%81%82?q=%82%A0",
            "/%C3%A9?q=%C3%A9",
            "/le%C3%A9?q=%C3%A9",
            "/end",
        ]
    );
    let lines = read_tsv(&dir.path("found.tsv"));
    let found: Vec<&str> = lines.iter().map(|(_, to)| to.as_str()).collect();
    assert!(
        found.iter().any(|u| u.ends_with("/caf%C3%A9?q=%E9")),
        "{lines:?}"
    );
    assert!(
        found.iter().any(|u| u.ends_with("/%E3%81%82?q=%82%A0")),
        "{lines:?}"
    );
}
