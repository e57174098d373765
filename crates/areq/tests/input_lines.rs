//! Input lines that are not URLs: each gets a warning naming its line number, and the crawl
//! goes on with the rest.

mod support;

use std::io::Write;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use areq::crawler::{Config, crawl};
use areq::demo::{DemoConfig, DemoSite, serve};
use support::{TempDir, read_tsv};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn bad_lines_are_warned_about_and_skipped() {
    let dir = TempDir::new("input");
    let urls = dir.path("urls.txt");
    let output = dir.path("found.tsv");
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .event_format(areq::logging::SeedFormat)
        .with_writer(move || writer.clone())
        .finish();
    let site = Rc::new(DemoSite::new(DemoConfig {
        pages: 10,
        ..Default::default()
    }));
    let summary = tracing::subscriber::with_default(subscriber, || {
        tulip::run(async {
            let server = serve(site, "127.0.0.1:0").await.unwrap();
            let base = server.base_url();
            let text = format!(
                "{}\nnot a url\n\n# comment\nftp://example.com/file\n{}\n   \nhttp://\n",
                base.join("/page/1").unwrap(),
                base.join("/page/2").unwrap()
            );
            std::fs::write(&urls, text).unwrap();
            let mut config = Config::new(output.clone());
            config.input = Some(urls.clone());
            let summary = crawl(&config).await.unwrap();
            server.shutdown().await;
            summary
        })
    });
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let path = urls.display().to_string();
    for line in [2, 5, 8] {
        assert!(
            log.contains(&format!("WARNING:areq: {path}:{line}: skipping")),
            "no warning for line {line} in:\n{log}"
        );
    }
    assert_eq!(summary.bad_input_lines, 3);
    assert_eq!(summary.pages, 2);
    let sources: std::collections::BTreeSet<String> =
        read_tsv(&output).into_iter().map(|(s, _)| s).collect();
    assert_eq!(sources.len(), 2);
    assert!(log.contains("INFO:areq: Got response [200] for URL: "));
    assert!(log.contains("INFO:areq: Wrote results for source URL: "));
}

#[test]
fn parse_urls_reports_line_numbers() {
    let input = areq::input::parse_urls("http://a/\r\n<html>\r\nhttps://b/x#y\r\nhttp://a/\r\n");
    assert_eq!(
        input.urls.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        ["http://a/", "https://b/x"]
    );
    assert_eq!(input.rejected.len(), 1);
    assert_eq!(input.rejected[0].line, 2);
}
