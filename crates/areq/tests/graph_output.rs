//! `--graph`: GraphML that an XML parser accepts with one node per page (status attributes)
//! and one edge per output line, and DOT whose every line has the expected shape.

mod support;

use std::collections::HashMap;
use std::rc::Rc;

use areq::crawler::{Config, crawl};
use areq::demo::{DemoConfig, DemoSite, serve};
use support::{TempDir, read_tsv};

fn crawl_with_graph(graph: &std::path::Path, output: &std::path::Path) {
    let site = Rc::new(DemoSite::new(DemoConfig {
        pages: 120,
        ..Default::default()
    }));
    tulip::run(async {
        let server = serve(site, "127.0.0.1:0").await.unwrap();
        let mut config = Config::new(output.to_owned());
        config.urls = vec![server.base_url().clone()];
        config.depth = u32::MAX;
        config.same_host = true;
        config.graph = Some(graph.to_owned());
        crawl(&config).await.unwrap();
        server.shutdown().await;
    });
}

#[test]
fn graphml_is_well_formed_and_complete() {
    let dir = TempDir::new("graphml");
    let (graph, output) = (dir.path("links.graphml"), dir.path("found.tsv"));
    crawl_with_graph(&graph, &output);
    let text = std::fs::read_to_string(&graph).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "graphml");
    let mut urls = HashMap::new();
    let mut statuses = HashMap::new();
    for node in root.descendants().filter(|n| n.has_tag_name("node")) {
        let id = node.attribute("id").unwrap().to_owned();
        for data in node.children().filter(|n| n.has_tag_name("data")) {
            match data.attribute("key") {
                Some("url") => {
                    urls.insert(id.clone(), data.text().unwrap().to_owned());
                }
                Some("status") => {
                    statuses.insert(id.clone(), data.text().unwrap().parse::<u16>().unwrap());
                }
                _ => {}
            }
        }
    }
    let edges: Vec<(String, String)> = root
        .descendants()
        .filter(|n| n.has_tag_name("edge"))
        .map(|e| {
            let from = &urls[e.attribute("source").unwrap()];
            let to = &urls[e.attribute("target").unwrap()];
            (from.clone(), to.clone())
        })
        .collect();
    // Every output line is an edge; the other edges are redirects.
    let lines = read_tsv(&output);
    let redirects = edges.len() - lines.len();
    assert!(redirects > 0);
    for line in &lines {
        assert!(edges.contains(line));
    }
    let by_url: HashMap<&String, u16> = statuses.iter().map(|(id, s)| (&urls[id], *s)).collect();
    assert!(by_url.values().any(|&s| s == 404));
    assert!(by_url.values().any(|&s| s == 301));
    for (source, _) in &lines {
        assert_eq!(by_url[source], 200);
    }
}

#[test]
fn dot_lines_have_the_expected_shape() {
    let dir = TempDir::new("dot");
    let (graph, output) = (dir.path("links.dot"), dir.path("found.tsv"));
    crawl_with_graph(&graph, &output);
    let text = std::fs::read_to_string(&graph).unwrap();
    let node = regex::Regex::new(
        r#"^  n\d+ \[label="[^"\\]*"(, status=\d{3})?(, error="([^"\\]|\\.)*")?\];$"#,
    )
    .unwrap();
    let edge = regex::Regex::new(r"^  n\d+ -> n\d+;$").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"digraph areq {"));
    assert_eq!(lines.last(), Some(&"}"));
    let (mut nodes, mut edges) = (0, 0);
    for line in &lines[1..lines.len() - 1] {
        if node.is_match(line) {
            nodes += 1;
        } else if edge.is_match(line) {
            edges += 1;
        } else {
            panic!("bad DOT line {line:?}");
        }
    }
    assert!(nodes > 100);
    assert!(edges >= read_tsv(&output).len());
}

#[test]
fn bad_graph_extension_is_refused_before_crawling() {
    let dir = TempDir::new("badgraph");
    let mut config = Config::new(dir.path("found.tsv"));
    config.urls = vec![url::Url::parse("http://127.0.0.1:9/").unwrap()];
    config.graph = Some(dir.path("links.png"));
    let err = tulip::run(crawl(&config)).unwrap_err();
    assert!(err.to_string().contains("links.png"));
    assert!(!dir.path("found.tsv").exists());
}
