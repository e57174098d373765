//! Helpers shared by areq's integration tests: temporary directories and reading outputs.

#![allow(dead_code, unreachable_pub)]

pub mod nginx;
pub mod site;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Runs `future` on a fresh runtime with the test clock, for tests that need its value or
/// run it from a parameterised helper (`#[tulip::test(test_clock)]` covers the rest).
pub fn on_test_clock<T>(future: impl Future<Output = T>) -> T {
    tulip::Runtime::builder()
        .test_clock()
        .build()
        .unwrap()
        .block_on(future)
}

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("areq-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The lines of an output file after its header, checking the file is valid TSV: the header
/// exactly once, first; every line two http(s) URLs separated by one tab; a final newline.
pub fn read_tsv(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text
        .strip_prefix("source_url\tparsed_url\n")
        .unwrap_or_else(|| panic!("{} does not start with the header", path.display()));
    assert!(body.is_empty() || body.ends_with('\n'), "torn last line");
    body.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 2, "bad line {line:?}");
            for f in &fields {
                assert!(
                    f.starts_with("http://") || f.starts_with("https://"),
                    "bad URL in {line:?}"
                );
            }
            (fields[0].to_owned(), fields[1].to_owned())
        })
        .collect()
}

/// The lines as a set, asserting none is repeated.
pub fn line_set(lines: Vec<(String, String)>) -> BTreeSet<(String, String)> {
    let n = lines.len();
    let set: BTreeSet<_> = lines.into_iter().collect();
    assert_eq!(set.len(), n, "duplicate output lines");
    set
}

/// `areq` crawling recursively from the URLs in `urls_file` to `output`, same host only, quiet,
/// with at most `limit` pages in flight and a small politeness `delay` (seconds) so that a test
/// can catch it mid-crawl; stderr piped. The caller adds the frontier's options.
pub fn recursive_crawl(
    urls_file: &Path,
    output: &Path,
    limit: usize,
    delay: &str,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_areq"));
    cmd.arg(urls_file)
        .arg("-o")
        .arg(output)
        .args(["--depth", "1000000", "--same-host", "-q", "--delay", delay])
        .args(["--limit", &limit.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// Waits (on the tulip loop, without blocking it) until `reached` holds while `child` is still
/// running; fails if it exits first or `give_up` passes.
pub async fn run_until(
    child: &mut std::process::Child,
    give_up: std::time::Instant,
    reached: impl Fn() -> bool,
) {
    while !reached() {
        assert!(
            std::time::Instant::now() < give_up,
            "the crawl made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the crawl ended too soon"
        );
        tulip::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Waits (on the tulip loop) for `child` to exit, failing if `give_up` passes; returns its
/// status and everything it wrote to stderr, which must hold no panic.
pub async fn wait_exit(
    child: &mut std::process::Child,
    give_up: std::time::Instant,
) -> (std::process::ExitStatus, String) {
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < give_up, "the crawl hangs");
        tulip::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
    (status, stderr)
}

/// Sends `signal` to `child`.
pub fn signal(child: &std::process::Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}
