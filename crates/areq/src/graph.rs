//! The link graph (`--graph FILE`): pages as nodes, links as edges.
//!
//! The seed's "next steps" connect the links with Python's `networkx`. Here the crawl records
//! a [`LinkGraph`] and writes it in one of two formats networkx (and Graphviz, Gephi, yEd)
//! read, chosen by the file's extension: `.dot` (Graphviz DOT) or `.graphml` (GraphML). A node
//! carries its URL, the HTTP status it was fetched with (absent for pages not fetched: out of
//! scope, past the depth or failed before a response) and, for failures, the reason.
//!
//! # Examples
//!
//! ```
//! use areq::graph::{GraphFormat, LinkGraph};
//! use url::Url;
//!
//! let mut graph = LinkGraph::default();
//! let home = Url::parse("http://h/").unwrap();
//! graph.set_status(&home, 200);
//! graph.add_links(&home, &[Url::parse("http://h/a").unwrap()]);
//! let dot = graph.to_string(GraphFormat::Dot);
//! assert!(dot.contains("n0 -> n1;"));
//! assert!(dot.contains("status=200"));
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use url::Url;

use crate::error::Error;

/// A file format for the graph.
///
/// # Examples
///
/// ```
/// use areq::graph::GraphFormat;
///
/// assert_eq!(GraphFormat::from_path("out/links.graphml".as_ref()), Some(GraphFormat::GraphMl));
/// assert_eq!(GraphFormat::from_path("links.DOT".as_ref()), Some(GraphFormat::Dot));
/// assert_eq!(GraphFormat::from_path("links.png".as_ref()), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT (`.dot`, `.gv`).
    Dot,
    /// GraphML (`.graphml`).
    GraphMl,
}

impl GraphFormat {
    /// The format named by a file's extension.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = areq::graph::GraphFormat::from_path("g.gv".as_ref());
    /// assert_eq!(f, Some(areq::graph::GraphFormat::Dot));
    /// ```
    pub fn from_path(path: &Path) -> Option<GraphFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "dot" | "gv" => Some(GraphFormat::Dot),
            "graphml" => Some(GraphFormat::GraphMl),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Node {
    url: String,
    status: Option<u16>,
    error: Option<String>,
}

/// Nodes (pages) and edges (links), in the order first seen. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let mut graph = areq::graph::LinkGraph::default();
/// let a = url::Url::parse("http://h/a").unwrap();
/// graph.set_error(&a, "timeout");
/// assert_eq!((graph.node_count(), graph.edge_count()), (1, 0));
/// ```
#[derive(Debug, Default)]
pub struct LinkGraph {
    index: HashMap<String, usize>,
    nodes: Vec<Node>,
    edges: Vec<(usize, usize)>,
}

impl LinkGraph {
    fn node(&mut self, url: &str) -> usize {
        if let Some(&i) = self.index.get(url) {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(Node {
            url: url.to_owned(),
            status: None,
            error: None,
        });
        self.index.insert(url.to_owned(), i);
        i
    }

    /// Records the status a page was fetched with.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut graph = areq::graph::LinkGraph::default();
    /// graph.set_status(&url::Url::parse("http://h/").unwrap(), 404);
    /// assert!(graph.to_string(areq::graph::GraphFormat::GraphMl).contains(">404<"));
    /// ```
    pub fn set_status(&mut self, page: &Url, status: u16) {
        let i = self.node(page.as_str());
        self.nodes[i].status = Some(status);
    }

    /// Records why a page failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut graph = areq::graph::LinkGraph::default();
    /// graph.set_error(&url::Url::parse("http://h/").unwrap(), "connection reset");
    /// assert!(graph.to_string(areq::graph::GraphFormat::Dot).contains("connection reset"));
    /// ```
    pub fn set_error(&mut self, page: &Url, reason: &str) {
        let i = self.node(page.as_str());
        self.nodes[i].error = Some(reason.to_owned());
    }

    /// Records the links found on `page` (a redirect is recorded as a link to its target).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut graph = areq::graph::LinkGraph::default();
    /// let p = url::Url::parse("http://h/").unwrap();
    /// graph.add_links(&p, &[p.join("a").unwrap(), p.join("b").unwrap()]);
    /// assert_eq!((graph.node_count(), graph.edge_count()), (3, 2));
    /// ```
    pub fn add_links(&mut self, page: &Url, links: &[Url]) {
        let from = self.node(page.as_str());
        for link in links {
            let to = self.node(link.as_str());
            self.edges.push((from, to));
        }
    }

    /// How many nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(areq::graph::LinkGraph::default().node_count(), 0);
    /// ```
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many edges.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(areq::graph::LinkGraph::default().edge_count(), 0);
    /// ```
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The graph as text in `format`.
    ///
    /// # Examples
    ///
    /// ```
    /// let text = areq::graph::LinkGraph::default().to_string(areq::graph::GraphFormat::Dot);
    /// assert_eq!(text, "digraph areq {\n}\n");
    /// ```
    pub fn to_string(&self, format: GraphFormat) -> String {
        match format {
            GraphFormat::Dot => self.to_dot(),
            GraphFormat::GraphMl => self.to_graphml(),
        }
    }

    fn to_dot(&self) -> String {
        let mut out = String::from("digraph areq {\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let _ = write!(out, "  n{i} [label=\"{}\"", dot_escape(&node.url));
            if let Some(status) = node.status {
                let _ = write!(out, ", status={status}");
            }
            if let Some(error) = &node.error {
                let _ = write!(out, ", error=\"{}\"", dot_escape(error));
            }
            out.push_str("];\n");
        }
        for (from, to) in &self.edges {
            let _ = writeln!(out, "  n{from} -> n{to};");
        }
        out.push_str("}\n");
        out
    }

    fn to_graphml(&self) -> String {
        let mut out = String::from(concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n",
            "  <key id=\"url\" for=\"node\" attr.name=\"url\" attr.type=\"string\"/>\n",
            "  <key id=\"status\" for=\"node\" attr.name=\"status\" attr.type=\"int\"/>\n",
            "  <key id=\"error\" for=\"node\" attr.name=\"error\" attr.type=\"string\"/>\n",
            "  <graph id=\"areq\" edgedefault=\"directed\">\n",
        ));
        for (i, node) in self.nodes.iter().enumerate() {
            let _ = write!(
                out,
                "    <node id=\"n{i}\"><data key=\"url\">{}</data>",
                xml_escape(&node.url)
            );
            if let Some(status) = node.status {
                let _ = write!(out, "<data key=\"status\">{status}</data>");
            }
            if let Some(error) = &node.error {
                let _ = write!(out, "<data key=\"error\">{}</data>", xml_escape(error));
            }
            out.push_str("</node>\n");
        }
        for (e, (from, to)) in self.edges.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <edge id=\"e{e}\" source=\"n{from}\" target=\"n{to}\"/>"
            );
        }
        out.push_str("  </graph>\n</graphml>\n");
        out
    }

    /// Writes the graph to `path` in the format its extension names, on the thread pool.
    ///
    /// # Errors
    ///
    /// [`Error::Graph`] naming the path when the extension is neither `.dot`/`.gv` nor
    /// `.graphml`, or the file cannot be written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("areq-doc-graph-{}.dot", std::process::id()));
    /// tulip::run(async {
    ///     areq::graph::LinkGraph::default().write(&path).await.unwrap();
    ///     let err = areq::graph::LinkGraph::default().write("g.png".as_ref()).await.unwrap_err();
    ///     assert!(err.to_string().contains("g.png"));
    /// });
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn write(&self, path: &Path) -> Result<(), Error> {
        let wrap = |source| Error::Graph {
            path: path.to_owned(),
            source,
        };
        let Some(format) = GraphFormat::from_path(path) else {
            return Err(wrap(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the extension must be .dot, .gv or .graphml",
            )));
        };
        let text = self.to_string(format);
        tulip::fs::write(path, text).await.map_err(wrap)
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
