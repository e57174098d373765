//! Ctrl+C mid-crawl: the `areq` binary, sent SIGINT while crawling the demo site, exits with
//! status 130 leaving a valid TSV; `--resume` then completes it to exactly the full crawl.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use areq::demo::{DemoConfig, DemoSite};
use support::{TempDir, line_set, read_tsv};

const PAGES: &str = "2000";

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn areq(dir: &TempDir, addr: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_areq"));
    cmd.args([
        "--demo",
        "--demo-pages",
        PAGES,
        "--demo-addr",
        addr,
        "-q",
        "-o",
    ])
    .arg(dir.path("found.tsv"))
    .args(extra)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

#[test]
fn sigint_leaves_a_valid_resumable_output() {
    let dir = TempDir::new("ctrlc");
    let addr = format!("127.0.0.1:{}", free_port());
    let output = dir.path("found.tsv");
    // A politeness delay keeps the crawl going for seconds, so the signal lands mid-crawl.
    let mut child = areq(&dir, &addr, &["--delay", "0.004"]).spawn().unwrap();

    // Wait (bounded) until the writer has flushed a first buffer to the file.
    let give_up = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&output).map_or(0, |m| m.len()) < 64 * 1024 {
        assert!(Instant::now() < give_up, "the crawl wrote nothing");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the crawl ended before the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "stderr:\n{stderr}");
    assert!(stderr.contains("Crawl interrupted"), "stderr:\n{stderr}");

    let partial = line_set(read_tsv(&output));
    assert!(!partial.is_empty());

    let out = areq(&dir, &addr, &["--resume"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.contains("pages crawled by an earlier run"),
        "stderr:\n{stderr}"
    );

    let site = DemoSite::new(DemoConfig {
        pages: PAGES.parse().unwrap(),
        ..DemoConfig::default()
    });
    let base = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let expected = site.expected_crawl(&base, true);
    let full = line_set(read_tsv(&output));
    assert!(partial.is_subset(&full));
    assert_eq!(full, expected.lines);
}
