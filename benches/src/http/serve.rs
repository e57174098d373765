//! `tulip-bench --serve-http KIND [--addr ADDR] [--cpu N]`: the HTTP servers `http_server`
//! starts as child processes, one per run. Each answers `GET /` with `Hello, World!`
//! (`text/plain; charset=utf-8`; anything else gets a 404), keeps connections alive, prints
//! `LISTENING <addr>` once it accepts connections and serves until it is killed.
//!
//! | kind | what |
//! |---|---|
//! | `tulip-http` | `tulip_http::server::Server` with a `Router` holding the one route, on `tulip::Runtime` |
//! | `tulip-http-no-timeout` | the same with `header_read_timeout(None)`: no timer, as `hyper-ct` |
//! | `hyper-ct` | hyper 1.x's `server::conn::http1` over hyper-util's `TokioIo`, a task per connection on tokio current_thread, a `service_fn` that checks the path (hyper's defaults: no timer, so no header read timeout) |
//! | `hyper-ct-timer` | the same with hyper-util's `TokioTimer` and a 30 s `header_read_timeout`, as tulip-http's server has by default |

use std::convert::Infallible;
use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

use crate::net::proc::{READY, pin_current_thread, raise_nofile};

/// The built-in servers.
pub(crate) const KINDS: [&str; 4] = [
    "tulip-http",
    "tulip-http-no-timeout",
    "hyper-ct",
    "hyper-ct-timer",
];

/// The body of every `GET /`.
pub(crate) const HELLO: &str = "Hello, World!";

/// Runs the server the arguments name; returns only when it fails.
pub(crate) fn main(args: &[String]) -> ExitCode {
    match parse(args).and_then(|(kind, addr)| serve(&kind, addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tulip-bench --serve-http: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The kind and address; pins to `--cpu` at once, so that threads started later inherit it.
fn parse(args: &[String]) -> io::Result<(String, SocketAddr)> {
    let bad = |what: String| io::Error::new(ErrorKind::InvalidInput, what);
    let mut args = args.iter();
    let kind = args
        .next()
        .ok_or_else(|| bad(format!("--serve-http takes a kind: {}", KINDS.join(", "))))?;
    let mut addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| bad(format!("{arg} takes a value")))?;
        match arg.as_str() {
            "--addr" => {
                addr = value
                    .parse()
                    .map_err(|e| bad(format!("bad address `{value}`: {e}")))?
            }
            "--cpu" => {
                let cpu = value
                    .parse()
                    .map_err(|e| bad(format!("bad CPU `{value}`: {e}")))?;
                pin_current_thread(cpu)?;
            }
            other => return Err(bad(format!("unknown option `{other}`"))),
        }
    }
    raise_nofile()?;
    Ok((kind.clone(), addr))
}

fn serve(kind: &str, addr: SocketAddr) -> io::Result<()> {
    match kind {
        "tulip-http" | "tulip-http-no-timeout" => {
            tulip::Runtime::new()?.block_on(tulip_http(addr, kind == "tulip-http"))
        }
        "hyper-ct" | "hyper-ct-timer" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(hyper_server(addr, kind == "hyper-ct-timer")),
        other => Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!("unknown server kind `{other}`"),
        )),
    }
}

/// Tells the parent where to connect.
fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{READY} {addr}")?;
    out.flush()
}

/// tulip-http's server; without `timeout`, with no header read timeout (its default is 30 s).
async fn tulip_http(addr: SocketAddr, timeout: bool) -> io::Result<()> {
    use tulip_http::server::{Router, Server};
    let router = Router::new().get("/", |_request| async { HELLO });
    let mut builder = Server::builder();
    if !timeout {
        builder = builder.header_read_timeout(None);
    }
    let server = builder.bind(&addr.to_string()).await?.serve(router);
    announce(server.local_addr())?;
    std::future::pending::<()>().await;
    Ok(())
}

/// hyper's server; with `timer`, hyper-util's `TokioTimer` and a 30 s header read timeout.
async fn hyper_server(addr: SocketAddr, timer: bool) -> io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    if timer {
        builder
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    announce(listener.local_addr()?)?;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("hyper server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if stream.set_nodelay(true).is_err() {
            continue;
        }
        let connection = builder.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper::service::service_fn(hello),
        );
        tokio::spawn(async move {
            // A client that goes away mid-request is no concern of the benchmark.
            let _ = connection.await;
        });
    }
}

/// The one route.
async fn hello(
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (status, body) = if request.method() == hyper::Method::GET && request.uri().path() == "/" {
        (hyper::StatusCode::OK, HELLO)
    } else {
        (hyper::StatusCode::NOT_FOUND, "")
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
