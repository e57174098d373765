//! Running `wrk` (the HTTP load generator, from Debian's package) and reading its report:
//! requests, requests/s, the latency percentiles `--latency` prints, and errors.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What one wrk run reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Report {
    /// Requests completed (`N requests in Xs`).
    pub(crate) requests: u64,
    /// `Requests/sec:`.
    pub(crate) per_sec: f64,
    /// The median latency, in milliseconds.
    pub(crate) p50_ms: f64,
    /// The 99th percentile latency, in milliseconds.
    pub(crate) p99_ms: f64,
    /// Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses.
    pub(crate) errors: u64,
}

/// Runs `wrk -t1 -c<connections> -d<secs>s --latency http://<addr>/` in the calling thread's
/// CPU set (the caller pins itself first) and parses its report.
pub(crate) fn run(addr: SocketAddr, connections: usize, duration: Duration) -> io::Result<Report> {
    let secs = duration.as_secs().max(1);
    let url = format!("http://{addr}/");
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s")])
        .args(["--latency", &url])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => io::Error::new(
                ErrorKind::NotFound,
                "wrk not found in PATH (apt-get install wrk)",
            ),
            _ => io::Error::new(e.kind(), format!("cannot run wrk: {e}")),
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed ({}): {}{}",
            output.status,
            text,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    parse(&text).ok_or_else(|| io::Error::other(format!("cannot read wrk's report:\n{text}")))
}

/// Reads wrk's report; `None` if a line it needs is missing.
fn parse(text: &str) -> Option<Report> {
    let mut report = Report::default();
    let (mut requests, mut per_sec, mut p50, mut p99) = (None, None, None, None);
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [n, "requests", "in", ..] => requests = n.parse().ok(),
            ["Requests/sec:", n] => per_sec = n.parse().ok(),
            ["50%", value] => p50 = millis(value),
            ["99%", value] => p99 = millis(value),
            ["Socket", "errors:", ..] => {
                // `Socket errors: connect 0, read 0, write 0, timeout 0`
                report.errors += words[2..]
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => report.errors += n.parse().unwrap_or(0),
            _ => {}
        }
    }
    report.requests = requests?;
    report.per_sec = per_sec?;
    report.p50_ms = p50?;
    report.p99_ms = p99?;
    Some(report)
}

/// A wrk duration (`512.00us`, `1.23ms`, `2.00s`, `1.00m`) in milliseconds.
fn millis(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3600e3,
        _ => return None,
    };
    Some(number * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:8080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.34us  100.00us   5.00ms   90.00%
    Req/Sec   125.00k     5.00k  130.00k    80.00%
  Latency Distribution
     50%  500.00us
     75%  520.00us
     90%  600.00us
     99%    1.25ms
  1250000 requests in 10.00s, 150.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec: 125000.50
Transfer/sec:     15.00MB
";

    #[test]
    fn reads_a_report() {
        let report = parse(REPORT).unwrap();
        assert_eq!(report.requests, 1_250_000);
        assert_eq!(report.per_sec, 125_000.5);
        assert!((report.p50_ms - 0.5).abs() < 1e-9);
        assert!((report.p99_ms - 1.25).abs() < 1e-9);
        assert_eq!(report.errors, 8);
    }

    #[test]
    fn a_report_without_percentiles_is_refused() {
        assert_eq!(parse(&REPORT.replace("99%", "98%")), None);
        assert_eq!(millis("3.5xs"), None);
        assert_eq!(millis("2.00s"), Some(2000.0));
    }
}
