//! `tulip-bench --http-client KIND --url URL [--requests N] [--warmup N] [--concurrency N]
//! [--expect BYTES] [--cpu N]`: the Rust HTTP clients `http_client` starts as child processes,
//! one per run, so that their CPU time and peak RSS are their own.
//!
//! Each makes `--warmup` GETs of `--url` (which also opens the connections), prints `START`,
//! makes `--requests` more, prints `RESULT <requests> <seconds> <errors>` and then waits for its
//! standard input to close before it exits, so the parent can read its `/proc/<pid>/stat` and
//! `VmHWM` first. Requests run `--concurrency` at a time: that many tasks each take the next
//! request number from a shared counter until all are taken, send the GET and read the whole
//! body; a body of the wrong length (`--expect`) or a status other than 200 counts as an error,
//! as does a failed request (the first one is printed on stderr).
//!
//! | kind | what |
//! |---|---|
//! | `tulip-http` | one `tulip_http::ClientSession` with `limit(concurrency)`, tasks from `tulip::spawn` on `tulip::Runtime` |
//! | `reqwest-ct` | one `reqwest::Client` (HTTP/1 only, no proxy), tasks from `tokio::spawn` on tokio current_thread |
//! | `reqwest-mt` | the same on tokio multi_thread with 2 workers (both on the client's CPU) |
//!
//! Run by hand (`< /dev/null` lets it exit at once), e.g. under `valgrind --tool=callgrind`
//! against the nginx `http_client` starts, or any server.

use std::cell::Cell;
use std::io::{self, BufRead, ErrorKind, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use crate::net::proc::pin_current_thread;

/// The built-in clients.
pub(crate) const KINDS: [&str; 3] = ["tulip-http", "reqwest-ct", "reqwest-mt"];

/// What the parent passes.
#[derive(Debug, Clone)]
struct Args {
    kind: String,
    url: String,
    requests: usize,
    warmup: usize,
    concurrency: usize,
    /// The body length every response must have; `None` accepts any.
    expect: Option<usize>,
}

/// Runs the client the arguments name.
pub(crate) fn main(args: &[String]) -> ExitCode {
    match parse(args).and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tulip-bench --http-client: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments; pins to `--cpu` at once, so that threads a runtime starts later inherit it.
fn parse(args: &[String]) -> io::Result<Args> {
    let bad = |what: String| io::Error::new(ErrorKind::InvalidInput, what);
    let mut args = args.iter();
    let kind = args
        .next()
        .ok_or_else(|| bad(format!("--http-client takes a kind: {}", KINDS.join(", "))))?;
    let mut parsed = Args {
        kind: kind.clone(),
        url: String::new(),
        requests: 100_000,
        warmup: 2_000,
        concurrency: 64,
        expect: None,
    };
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| bad(format!("{arg} takes a value")))?;
        let count = || {
            value
                .parse::<usize>()
                .map_err(|e| bad(format!("{arg}: bad count `{value}`: {e}")))
        };
        match arg.as_str() {
            "--url" => parsed.url = value.clone(),
            "--requests" => parsed.requests = count()?,
            "--warmup" => parsed.warmup = count()?,
            "--concurrency" => parsed.concurrency = count()?.max(1),
            "--expect" => parsed.expect = Some(count()?),
            "--cpu" => {
                pin_current_thread(count()?)?;
            }
            other => return Err(bad(format!("unknown option `{other}`"))),
        }
    }
    if parsed.url.is_empty() {
        return Err(bad("--url is required".into()));
    }
    Ok(parsed)
}

fn run(args: &Args) -> io::Result<()> {
    let outcome = match args.kind.as_str() {
        "tulip-http" => tulip::Runtime::new()?.block_on(tulip_http(args)),
        "reqwest-ct" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(reqwest_client(args)),
        "reqwest-mt" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(reqwest_client(args)),
        other => {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("unknown client kind `{other}`"),
            ));
        }
    }?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "RESULT {} {:.6} {}",
        args.requests, outcome.secs, outcome.errors
    )?;
    out.flush()?;
    drop(out);
    // Until the parent has read our CPU time and peak RSS.
    let mut line = String::new();
    while io::stdin().lock().read_line(&mut line)? > 0 {
        line.clear();
    }
    Ok(())
}

/// The measured part of a run.
struct Outcome {
    /// Seconds from `START` to the last response's body.
    secs: f64,
    /// Requests that failed or came back wrong.
    errors: u64,
}

/// Tells the parent the measured requests begin.
fn announce_start() -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "START")?;
    out.flush()
}

/// Prints the first error of a run on stderr.
fn report_error(first: &AtomicU64, what: impl FnOnce() -> String) {
    if first.fetch_add(1, Ordering::Relaxed) == 0 {
        eprintln!("http client: {}", what());
    }
}

// ---------------------------------------------------------------------------------------------
// tulip-http

async fn tulip_http(args: &Args) -> io::Result<Outcome> {
    let session = tulip_http::ClientSession::builder()
        .limit(args.concurrency)
        .build();
    let url: Rc<str> = args.url.as_str().into();
    let reported = Rc::new(AtomicU64::new(0));
    tulip_batch(&session, &url, args, args.warmup, &reported).await;
    announce_start()?;
    let start = Instant::now();
    let errors = tulip_batch(&session, &url, args, args.requests, &reported).await;
    let secs = start.elapsed().as_secs_f64();
    session.close().await;
    Ok(Outcome { secs, errors })
}

/// `n` GETs, `args.concurrency` at a time; returns the errors.
async fn tulip_batch(
    session: &tulip_http::ClientSession,
    url: &Rc<str>,
    args: &Args,
    n: usize,
    reported: &Rc<AtomicU64>,
) -> u64 {
    let next = Rc::new(Cell::new(0usize));
    let errors = Rc::new(Cell::new(0u64));
    let tasks: Vec<_> = (0..args.concurrency.min(n.max(1)))
        .map(|_| {
            let (session, url, next, errors) =
                (session.clone(), url.clone(), next.clone(), errors.clone());
            let (expect, reported) = (args.expect, reported.clone());
            tulip::spawn(async move {
                while next.get() < n {
                    next.set(next.get() + 1);
                    let fail = |what: String| {
                        errors.set(errors.get() + 1);
                        report_error(&reported, || what);
                    };
                    match session.get(&*url).send().await {
                        Ok(response) => {
                            let status = response.status();
                            match response.bytes().await {
                                Ok(body)
                                    if status == 200 && expect.is_none_or(|e| body.len() == e) => {}
                                Ok(body) => fail(format!("status {status}, {} B body", body.len())),
                                Err(e) => fail(e.to_string()),
                            }
                        }
                        Err(e) => fail(e.to_string()),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        if task.await.is_err() {
            errors.set(errors.get() + 1);
        }
    }
    errors.get()
}

// ---------------------------------------------------------------------------------------------
// reqwest on tokio

async fn reqwest_client(args: &Args) -> io::Result<Outcome> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(io::Error::other)?;
    let reported = Arc::new(AtomicU64::new(0));
    reqwest_batch(&client, args, args.warmup, &reported).await;
    announce_start()?;
    let start = Instant::now();
    let errors = reqwest_batch(&client, args, args.requests, &reported).await;
    let secs = start.elapsed().as_secs_f64();
    Ok(Outcome { secs, errors })
}

/// `n` GETs, `args.concurrency` at a time; returns the errors.
async fn reqwest_batch(
    client: &reqwest::Client,
    args: &Args,
    n: usize,
    reported: &Arc<AtomicU64>,
) -> u64 {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let url: Arc<str> = args.url.as_str().into();
    let tasks: Vec<_> = (0..args.concurrency.min(n.max(1)))
        .map(|_| {
            let (client, url, next, errors) =
                (client.clone(), url.clone(), next.clone(), errors.clone());
            let (expect, reported) = (args.expect, reported.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let fail = |what: String| {
                        errors.fetch_add(1, Ordering::Relaxed);
                        report_error(&reported, || what);
                    };
                    match client.get(&*url).send().await {
                        Ok(response) => {
                            let status = response.status();
                            match response.bytes().await {
                                Ok(body)
                                    if status == 200 && expect.is_none_or(|e| body.len() == e) => {}
                                Ok(body) => fail(format!("status {status}, {} B body", body.len())),
                                Err(e) => fail(e.to_string()),
                            }
                        }
                        Err(e) => fail(e.to_string()),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        if task.await.is_err() {
            errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    errors.load(Ordering::Relaxed)
}
