//! A recursive crawl of a generated static site served by a real nginx: the `(source, link)`
//! set areq writes equals the one a Python script computes independently over the same files
//! with the standard library's `html.parser` and `urllib.parse.urljoin`; the pages fetched and
//! the 404s match too, and nginx's access log shows no URL requested twice.
//!
//! The site has a few hundred pages written in varied markup: double, single and unquoted
//! attribute values, upper-case names, spacing around `=`, character references in `href`s,
//! `<base href>` (before and after links), fake links in comments, scripts, styles and text,
//! links on `<a>`, `<link>` and `<area>` (and `href`s on elements that are not links),
//! fragments, queries, `mailto:`/`javascript:`/`tel:`/`ftp:`/`data:` links, relative paths,
//! scheme-relative and absolute URLs, links to other hosts (written, not followed), links to
//! missing pages (404) and to non-HTML files (fetched, not parsed).
//!
//! The markup keeps to what browsers (and areq's tokenizer) and Python's `html.parser` read
//! alike: Python's parser differs from the HTML standard on a few points that the site
//! avoids (`<noscript>`, `<title>`/`<textarea>` holding tags, `<!--` inside scripts, legacy
//! character references followed by `=` in attribute values). The reference strips ASCII
//! whitespace around `href`s as the HTML standard says, and gives an empty path `/` as the
//! WHATWG URL standard does; everything else is plain `urljoin`.
//!
//! Skips (printing why) when nginx or Python is not installed; fails instead under `CI=true`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use areq::crawler::{Config, crawl};
use areq::fetch::FailureKind;
use support::nginx::{Nginx, require_python};
use support::{TempDir, line_set, read_tsv};
use url::{Position, Url};

/// Sections `/s0/` … of the site.
const SECTIONS: usize = 10;
/// Pages `/sK/pJ.html` in each section.
const PAGES: usize = 30;
/// Pages `/sK/deep/dJ.html` in each section.
const DEEP: usize = 3;

/// The reference: `python3 REFERENCE ROOT SEED` crawls the files under ROOT as nginx serves
/// them (a path ending in `/` is its `index.html`; query strings do not change the file),
/// starting at SEED, following links to SEED's host, and prints `LINK\tsource\tlink` for
/// every link of every HTML page, `PAGE\turl` for every file fetched, `MISSING\tstatus\turl`
/// for every URL without a file (403 for a directory without `index.html`, as nginx answers).
const REFERENCE: &str = r#"
import os, sys
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

root, seed = sys.argv[1], sys.argv[2]
WS = " \t\n\r\f"  # ASCII whitespace, stripped from URLs as the HTML standard says


class Hrefs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []
        self.base = None

    def handle_starttag(self, tag, attrs):
        if tag not in ("a", "link", "area", "base"):
            return
        values = [v for k, v in attrs if k == "href"]
        if not values:
            return
        href = values[0] if values[0] is not None else ""
        if tag == "base":
            if self.base is None:
                self.base = href
        else:
            self.hrefs.append(href)


def links_of(url, text):
    parser = Hrefs()
    parser.feed(text)
    parser.close()
    base = url if parser.base is None else urljoin(url, parser.base.strip(WS))
    found = []
    for href in parser.hrefs:
        link = urldefrag(urljoin(base, href.strip(WS))).url
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        if parts.path == "":
            link = link.replace(parts.netloc, parts.netloc + "/", 1)
        if link not in found:
            found.append(link)
    return found


host = urlsplit(seed).hostname
seen = {seed}
queue = deque([seed])
out = []
while queue:
    url = queue.popleft()
    path = urlsplit(url).path
    file = os.path.join(root, path.lstrip("/"))
    if path.endswith("/"):
        file = os.path.join(file, "index.html")
    if not os.path.isfile(file):
        # nginx: a directory without index.html is 403, anything else missing 404.
        status = "403" if path.endswith("/") and os.path.isdir(os.path.dirname(file)) else "404"
        out.append("MISSING\t" + status + "\t" + url)
        continue
    out.append("PAGE\t" + url)
    if not file.endswith(".html"):
        continue
    with open(file, encoding="utf-8") as f:
        text = f.read()
    for link in links_of(url, text):
        out.append("LINK\t" + url + "\t" + link)
        if urlsplit(link).hostname == host and link not in seen:
            seen.add(link)
            queue.append(link)
sys.stdout.write("\n".join(out) + "\n")
"#;

/// SplitMix64: a deterministic generator, so the site is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The directory part of a path (`/s1/p2.html` → `/s1/`).
fn dir_of(path: &str) -> &str {
    &path[..=path.rfind('/').unwrap()]
}

/// `target` (an absolute path) written relative to the directory `from_dir`.
fn relative(from_dir: &str, target: &str) -> String {
    let from: Vec<&str> = from_dir
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let to: Vec<&str> = target.trim_start_matches('/').split('/').collect();
    let (to_dirs, file) = to.split_at(to.len() - 1);
    let common = from.iter().zip(to_dirs).take_while(|(a, b)| a == b).count();
    let mut out = "../".repeat(from.len() - common);
    for dir in &to_dirs[common..] {
        out.push_str(dir);
        out.push('/');
    }
    out.push_str(file[0]);
    out
}

/// Every page of the site, by path.
fn page_paths() -> Vec<String> {
    let mut paths = vec!["/".to_owned()];
    for k in 0..SECTIONS {
        paths.push(format!("/s{k}/"));
        for j in 0..PAGES {
            paths.push(format!("/s{k}/p{j}.html"));
        }
        for j in 0..DEEP {
            paths.push(format!("/s{k}/deep/d{j}.html"));
        }
    }
    paths
}

/// A random existing page, or a directory.
fn random_page(rng: &mut Rng) -> String {
    let k = rng.below(SECTIONS);
    match rng.below(20) {
        0 => format!("/s{k}/"),
        1 => format!("/s{k}/deep/d{}.html", rng.below(DEEP)),
        _ => format!("/s{k}/p{}.html", rng.below(PAGES)),
    }
}

/// Writes `path` with character references for some of its characters.
fn with_references(rng: &mut Rng, path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        match (c, rng.below(4)) {
            ('/', 0) => out.push_str("&#x2F;"),
            ('/', 1) => out.push_str("&#47;"),
            ('.', 0) => out.push_str("&period;"),
            ('p', 0) => out.push_str("&#112;"),
            _ => out.push(c),
        }
    }
    out
}

/// An `href` value as written in the page (before attribute quoting), for a page whose links
/// resolve against the directory `ref_dir`.
fn random_href(rng: &mut Rng, origin: &str, authority: &str, ref_dir: &str) -> String {
    let target = random_page(rng);
    let mut href = match rng.below(10) {
        0 => format!("{origin}{target}"),
        1 => format!("//{authority}{target}"),
        2 | 3 => relative(ref_dir, &target),
        4 => format!("./{}", relative(ref_dir, &target)),
        5 => with_references(rng, &target),
        _ => target,
    };
    match rng.below(12) {
        0 => href.push_str("#section-2"),
        1 => href.push_str("?v=2&amp;lang=en"),
        2 => href.push_str("?v=2&amp;lang=en#top"),
        _ => {}
    }
    href
}

/// An `href` that is not a page of the site.
fn odd_href(rng: &mut Rng, k: usize) -> String {
    match rng.below(14) {
        0 => format!("/s{k}/missing{}.html", rng.below(5)),
        1 => format!("../s{k}/gone.html"),
        2 => "/notes.txt".to_owned(),
        3 => "/data.json".to_owned(),
        4 => format!("http://external.invalid/page{}", rng.below(3)),
        5 => "https://other.invalid".to_owned(),
        6 => "mailto:webmaster@example.com".to_owned(),
        7 => "javascript:void(0)".to_owned(),
        8 => "tel:+15550100".to_owned(),
        9 => "ftp://files.invalid/pub/".to_owned(),
        10 => "data:text/plain,hello".to_owned(),
        11 => "#top".to_owned(),
        12 => String::new(),
        _ => "  /spaced.html  ".replace("/spaced.html", &format!("/s{k}/p0.html")),
    }
}

/// `name=value` in one of the spellings HTML allows.
fn attribute(rng: &mut Rng, name: &str, value: &str) -> String {
    let name = match rng.below(6) {
        0 => name.to_ascii_uppercase(),
        _ => name.to_owned(),
    };
    let unquotable =
        !value.is_empty() && !value.contains([' ', '"', '\'', '=', '<', '>', '`', '\t', '\n']);
    match rng.below(5) {
        0 => format!("{name}='{value}'"),
        1 if unquotable => format!("{name}={value}"),
        2 => format!("{name} = \"{value}\""),
        _ => format!("{name}=\"{value}\""),
    }
}

/// One page's HTML.
fn render(rng: &mut Rng, path: &str, origin: &str, authority: &str, index: usize) -> String {
    let k = index % SECTIONS;
    let mut html = String::with_capacity(8192);
    html.push_str("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n");
    let _ = writeln!(html, "<title>Page {path} &amp; friends</title>");
    // Every 7th page has a base: its relative links resolve against another directory.
    let base_dir = match index % 7 {
        0 => Some(format!("/s{}/deep/", (k + 1) % SECTIONS)),
        3 => Some(format!("/s{}/", (k + 2) % SECTIONS)),
        _ => None,
    };
    let ref_dir = base_dir.clone().unwrap_or_else(|| dir_of(path).to_owned());
    let base_tag = base_dir.as_ref().map(|dir| {
        let value = if index % 2 == 0 {
            format!("{origin}{dir}")
        } else {
            dir.clone()
        };
        format!("<base {}>\n", attribute(rng, "href", &value))
    });
    // Half the bases come before every link, half after some (they apply to all of them).
    if index % 14 == 0 {
        html.push_str(base_tag.as_deref().unwrap_or(""));
    }
    let href = random_href(rng, origin, authority, &ref_dir);
    let _ = writeln!(
        html,
        "<link rel=alternate {} title=\"next\">",
        attribute(rng, "href", &href)
    );
    html.push_str("<link rel=icon href=\"data:,\">\n");
    let _ = writeln!(
        html,
        "<script>var tpl = '<a href=\"/trap/script{index}\">' + \"</a>\";\n\
         if (1 < 2 && 3 > 2) {{ document.title += '<area href=/trap/area>'; }}</script>"
    );
    let _ = writeln!(
        html,
        "<style>a[href=\"/trap/style\"] {{ color: red }} /* <a href=\"/trap/css\"> */</style>"
    );
    html.push_str(
        base_tag
            .as_deref()
            .filter(|_| index % 14 == 7)
            .unwrap_or(""),
    );
    html.push_str("</head>\n<body id=top>\n");
    let _ = writeln!(
        html,
        "<!-- old menu: <a href=\"/trap/comment{index}\">gone</a> -->\n\
         <!--[if IE]><a href=\"/trap/ie\">IE</a><![endif]-->\n\
         <h1 id=section-2>Page {index}</h1>\n\
         <p>Write <code>&lt;a href=\"/trap/escaped\"&gt;</code> for a link; \
         href=\"/trap/text\" in text is no link.</p>"
    );
    let links = 12 + rng.below(14);
    let mut areas = String::new();
    for n in 0..links {
        let href = if rng.below(5) == 0 {
            odd_href(rng, k)
        } else {
            random_href(rng, origin, authority, &ref_dir)
        };
        let attr = attribute(rng, "href", &href);
        match rng.below(12) {
            0 => {
                let _ = write!(
                    areas,
                    "<area shape=rect coords=\"0,0,{n},{n}\" {attr} alt=x>"
                );
            }
            1 => {
                let _ = writeln!(
                    html,
                    "<p><a data-href=\"/trap/data\" {attr} class=x>link {n}</a>"
                );
            }
            2 => {
                let _ = writeln!(html, "<p><a\n   {attr}\n   title='t'>link {n}</a>");
            }
            3 => {
                let _ = writeln!(
                    html,
                    "<p><a {attr} {}>dup {n}</a>",
                    attribute(rng, "href", "/trap/dup")
                );
            }
            _ => {
                let _ = writeln!(
                    html,
                    "<p>Some text, then <a {attr} class=link>link {n}</a>."
                );
            }
        }
        if n == links / 2 {
            html.push_str(
                base_tag
                    .as_deref()
                    .filter(|_| index % 14 != 0 && index % 14 != 7)
                    .unwrap_or(""),
            );
        }
        if n % 5 == 0 {
            html.push_str(
                "<p>Lorem ipsum dolor sit amet, <em>consectetur</em> adipiscing elit; sed do \
                 eiusmod tempor &amp; incididunt ut labore et dolore magna aliqua.</p>\n",
            );
        }
    }
    if !areas.is_empty() {
        let _ = writeln!(html, "<map name=m{index}>{areas}</map>");
    }
    html.push_str(
        "<img src=\"/trap/img.png\" alt=\"\"><div href=\"/trap/div\">not a link</div>\n\
         <a name=anchor>no href</a> <abbr href=/trap/abbr>x</abbr>\n\
         <script type=\"text/template\"><a href=\"/trap/template\">t</a></script>\n",
    );
    html.push_str("</body></html>\n");
    html
}

/// Writes the site under `root` for a server at `origin` (`http://127.0.0.1:PORT`).
fn generate(root: &Path, origin: &Url) {
    let origin_str = origin.as_str().trim_end_matches('/').to_owned();
    let authority = origin[Position::BeforeHost..Position::AfterPort].to_owned();
    let mut rng = Rng(20_180_101);
    for (index, path) in page_paths().iter().enumerate() {
        let file = if path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.clone()
        };
        let file = root.join(file.trim_start_matches('/'));
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        let mut html = render(&mut rng, path, &origin_str, &authority, index);
        if path == "/" {
            // Make sure every section is reachable from the start.
            for k in 0..SECTIONS {
                let _ = writeln!(html, "<a href=s{k}/>section {k}</a>");
            }
        }
        if path.ends_with('/') && path != "/" {
            for j in 0..PAGES {
                let _ = writeln!(html, "<a href=\"p{j}.html\">page {j}</a>");
            }
            for j in 0..DEEP {
                let _ = writeln!(html, "<a href='deep/d{j}.html'>deep {j}</a>");
            }
        }
        fs::write(file, html).unwrap();
    }
    fs::write(
        root.join("notes.txt"),
        "Plain text, not parsed: <a href=\"/trap/txt\">x</a>\n",
    )
    .unwrap();
    fs::write(
        root.join("data.json"),
        "{\"html\": \"<a href='/trap/json'>x</a>\"}\n",
    )
    .unwrap();
}

/// What the reference script found.
#[derive(Debug, Default)]
struct Reference {
    links: BTreeSet<(String, String)>,
    pages: BTreeSet<String>,
    missing: BTreeMap<String, u16>,
}

fn reference(python: &Path, root: &Path, seed: &Url) -> Reference {
    let output = Command::new(python)
        .arg("-c")
        .arg(REFERENCE)
        .arg(root)
        .arg(seed.as_str())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "the reference script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut found = Reference::default();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["LINK", source, link] => {
                assert!(
                    found.links.insert((source.to_owned(), link.to_owned())),
                    "reference: duplicate line {line:?}"
                );
            }
            ["PAGE", url] => assert!(found.pages.insert(url.to_owned())),
            ["MISSING", status, url] => {
                assert!(
                    found
                        .missing
                        .insert(url.to_owned(), status.parse().unwrap())
                        .is_none()
                );
            }
            _ => panic!("reference: unexpected line {line:?}"),
        }
    }
    found
}

/// The path and query of a URL, as nginx logs `$request_uri`.
fn request_uri(url: &str) -> String {
    Url::parse(url).unwrap()[Position::BeforePath..Position::AfterQuery].to_owned()
}

#[test]
fn crawl_matches_python_html_parser() {
    let Some(python) = require_python() else {
        return;
    };
    let dir = TempDir::new("nginx-site");
    let Some(nginx) = Nginx::start(&dir.path("nginx")) else {
        return;
    };
    let origin = Url::parse(&format!("http://{}/", nginx.addr())).unwrap();
    let root = nginx.root();
    generate(&root, &origin);
    let seed = origin.clone();

    let expected = reference(&python, &root, &seed);
    // The site is what it is meant to be: large, with 404s, non-HTML pages, other hosts.
    assert!(expected.pages.len() > 300, "{} pages", expected.pages.len());
    assert!(
        expected.links.len() > 4000,
        "{} links",
        expected.links.len()
    );
    assert!(expected.missing.values().filter(|s| **s == 404).count() >= 20);
    assert!(expected.pages.contains(&format!("{origin}notes.txt")));
    assert!(
        expected
            .links
            .iter()
            .any(|(_, l)| l.starts_with("http://external.invalid/"))
    );
    assert!(
        expected
            .links
            .iter()
            .any(|(_, l)| l.contains("?v=2&lang=en"))
    );
    assert!(!expected.links.iter().any(|(_, l)| l.contains("/trap/")));

    let output = dir.path("found.tsv");
    let mut config = Config::new(output.clone());
    config.urls = vec![seed.clone()];
    config.depth = u32::MAX;
    config.same_host = true;
    let summary = tulip::Runtime::builder()
        .real_clock()
        .build()
        .unwrap()
        .block_on(crawl(&config))
        .unwrap();

    let found = line_set(read_tsv(&output));
    eprintln!(
        "nginx site: {} pages fetched, {} missing, {} (source, link) lines",
        expected.pages.len(),
        expected.missing.len(),
        expected.links.len()
    );
    let only_areq: Vec<_> = found.difference(&expected.links).take(10).collect();
    let only_python: Vec<_> = expected.links.difference(&found).take(10).collect();
    assert!(
        only_areq.is_empty() && only_python.is_empty(),
        "areq and html.parser disagree ({} vs {} lines)\nonly areq: {only_areq:#?}\nonly Python: {only_python:#?}",
        found.len(),
        expected.links.len()
    );

    assert_eq!(summary.pages as usize, expected.pages.len());
    assert_eq!(summary.failed as usize, expected.missing.len());
    let mut want_errors: BTreeMap<FailureKind, u64> = BTreeMap::new();
    for status in expected.missing.values() {
        *want_errors.entry(FailureKind::Status(*status)).or_default() += 1;
    }
    assert_eq!(summary.errors, want_errors);
    assert_eq!(summary.links as usize, expected.links.len());

    // nginx saw each URL once: 200 for the pages, 404 (or 403) for the missing ones.
    let log = nginx.wait_for_log(expected.pages.len() + expected.missing.len());
    let mut requests: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for (status, uri) in log {
        requests.entry(uri).or_default().push(status);
    }
    let want: BTreeMap<String, Vec<u16>> = expected
        .pages
        .iter()
        .map(|u| (request_uri(u), vec![200]))
        .chain(
            expected
                .missing
                .iter()
                .map(|(u, status)| (request_uri(u), vec![*status])),
        )
        .collect();
    assert_eq!(requests, want);
}
