//! Real peers for the peer tests: httpbin (Python, under waitress) and nginx, each started on a
//! free 127.0.0.1 port in a scratch directory of its own and killed (and waited for) on drop.
//!
//! `scripts/peers/install.sh` installs them (`.ci/run` calls it). On a machine without them,
//! [`Httpbin::start`] and [`Nginx::start`] print `skipping: <peer> not installed (...)` and return
//! `None`, so the test passes without running; under CI (`CI` set to `true` or `1`) a missing
//! peer is a failure instead, so CI can never be the machine that skips.
#![allow(dead_code)] // each peer test file uses a part of this module

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a peer may take to start answering before the test fails.
const START_WAIT: Duration = Duration::from_secs(30);
/// How many times a peer is started on a fresh port when another process took the first one.
const START_TRIES: usize = 3;

/// The repository's root directory.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv install.sh made: `$TULIP_PEERS_VENV`, else `.peers/venv` at the repository root.
pub(crate) fn venv_dir() -> PathBuf {
    match std::env::var_os("TULIP_PEERS_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join(".peers/venv"),
    }
}

/// The venv's Python, if install.sh made the venv.
pub(crate) fn venv_python() -> Option<PathBuf> {
    let python = venv_dir().join("bin/python");
    python.is_file().then_some(python)
}

/// A Python with the standard library (for `http.client`): the venv's, else `python3` on PATH.
pub(crate) fn python() -> Option<PathBuf> {
    venv_python().or_else(|| find_on_path("python3"))
}

/// The `curl` binary, or `None` after printing that the test skips.
pub(crate) fn require_curl() -> Option<PathBuf> {
    find_on_path("curl").or_else(|| skip("curl"))
}

/// A Python for `http.client`, or `None` after printing that the test skips.
pub(crate) fn require_python() -> Option<PathBuf> {
    python().or_else(|| skip("python3"))
}

/// The `nginx` binary: `$TULIP_NGINX`, else `nginx` on PATH, else Debian's `/usr/sbin/nginx`
/// (not on a non-root user's PATH).
pub(crate) fn nginx_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TULIP_NGINX").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    find_on_path("nginx").or_else(|| {
        let sbin = PathBuf::from("/usr/sbin/nginx");
        sbin.is_file().then_some(sbin)
    })
}

/// Looks `name` up in the directories of `$PATH`.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Reports a missing peer: prints the skip line and returns `None`, or panics on CI.
pub(crate) fn skip<T>(peer: &str) -> Option<T> {
    let on_ci = matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"));
    assert!(
        !on_ci,
        "{peer} is not installed on CI: .ci/run must run scripts/peers/install.sh"
    );
    eprintln!("skipping: {peer} not installed (run scripts/peers/install.sh)");
    None
}

/// A directory under the system's temp dir, removed with everything in it on drop.
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// A new empty directory whose name starts with `tulip-peers-<tag>-`.
    pub(crate) fn new(tag: &str) -> ScratchDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("tulip-peers-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        ScratchDir { path }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A free port on 127.0.0.1 (free when asked: the peer binds it a moment later, and a start that
/// loses that race is retried on another port).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// A child process that is killed and reaped on drop.
#[derive(Debug)]
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Why a start attempt failed.
enum StartError {
    /// The port was taken in the meantime: try another.
    PortTaken,
    /// Anything else: the test fails with this message.
    Failed(String),
}

/// Waits until `ready()` is true while `child` runs. `logs` are the files the child writes its
/// errors to, quoted when it fails.
fn wait_ready(
    child: &mut Reaped,
    logs: &[PathBuf],
    what: &str,
    mut ready: impl FnMut() -> bool,
) -> Result<(), StartError> {
    let read_logs = || {
        logs.iter()
            .map(|log| fs::read_to_string(log).unwrap_or_default())
            .collect::<String>()
    };
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            let output = read_logs();
            if output.contains("Address already in use") {
                return Err(StartError::PortTaken);
            }
            return Err(StartError::Failed(format!(
                "{what} exited ({status}) before answering:\n{output}"
            )));
        }
        if ready() {
            return Ok(());
        }
        if started.elapsed() > START_WAIT {
            let output = read_logs();
            return Err(StartError::Failed(format!(
                "{what} did not answer within {START_WAIT:?}:\n{output}"
            )));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Sends one `GET path` over a fresh connection and returns the status line's code.
pub(crate) fn raw_get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    let line = std::str::from_utf8(&head).ok()?;
    line.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()
}

/// Runs `future` to completion on a new tulip loop on the real clock (peers live in real time:
/// on the test clock a wait for a peer's answer would jump straight to the next timeout, and
/// `TULIP_TEST_CLOCK=1` in the environment must not change that).
pub(crate) fn run<F: std::future::Future>(future: F) -> F::Output {
    tulip::Runtime::builder()
        .real_clock()
        .build()
        .expect("building a tulip runtime")
        .block_on(future)
}

/// Starts a peer with `attempt(port)`, retrying on another port when its port was taken.
fn start_with_retries<T>(what: &str, mut attempt: impl FnMut(u16) -> Result<T, StartError>) -> T {
    for _ in 0..START_TRIES {
        match attempt(free_port()) {
            Ok(peer) => return peer,
            Err(StartError::PortTaken) => continue,
            Err(StartError::Failed(message)) => panic!("{message}"),
        }
    }
    panic!("{what}: every port tried was taken by another process");
}

/// Runs httpbin's WSGI app under waitress on the address in `argv[1]`. It exits when its stdin
/// closes, that is when the test process is gone, however it ended (even killed outright, when
/// no `Drop` runs). Threads: `/delay` and `/drip` hold one each while they wait.
const HTTPBIN_LAUNCHER: &str = "\
import os, sys, threading
def watch_parent():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
import httpbin, waitress
waitress.serve(httpbin.app, listen=sys.argv[1], threads=16, channel_timeout=60)
";

/// httpbin under waitress on 127.0.0.1.
#[derive(Debug)]
pub(crate) struct Httpbin {
    child: Reaped,
    addr: SocketAddr,
    dir: ScratchDir,
}

impl Httpbin {
    /// Starts httpbin and waits until `GET /get` answers 200; `None` (after printing why) when the
    /// venv is missing.
    ///
    /// # Panics
    ///
    /// If the venv is there but httpbin does not start.
    pub(crate) fn start() -> Option<Httpbin> {
        let Some(python) = venv_python() else {
            return skip("httpbin");
        };
        Some(start_with_retries("httpbin", |port| {
            Httpbin::try_start(&python, port)
        }))
    }

    fn try_start(python: &Path, port: u16) -> Result<Httpbin, StartError> {
        let dir = ScratchDir::new("httpbin");
        let log = dir.path().join("waitress.log");
        let out = File::create(&log).expect("creating the httpbin log");
        let err = out.try_clone().expect("cloning the httpbin log handle");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(python)
            .args(["-c", HTTPBIN_LAUNCHER])
            .arg(addr.to_string())
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| StartError::Failed(format!("spawning {}: {e}", python.display())))?;
        let mut child = Reaped(child);
        wait_ready(&mut child, &[log], "httpbin", || {
            raw_get_status(addr, "/get") == Some(200)
        })?;
        Ok(Httpbin { child, addr, dir })
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// One line of nginx's access log (`log_format peers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    /// `$connection`: the serial number of the client connection.
    pub(crate) connection: u64,
    /// `$connection_requests`: how many requests this connection has carried, this one included.
    pub(crate) connection_requests: u64,
    /// `$connections_active`: client connections open when the request was logged.
    pub(crate) connections_active: u64,
    /// `$status`.
    pub(crate) status: u16,
    /// `$request_method`.
    pub(crate) method: String,
    /// `$request_uri`.
    pub(crate) uri: String,
    /// `$body_bytes_sent`.
    pub(crate) body_bytes: u64,
}

impl LogEntry {
    fn parse(line: &str) -> Option<LogEntry> {
        let mut fields = line.split(' ');
        let mut next = || fields.next();
        Some(LogEntry {
            connection: next()?.parse().ok()?,
            connection_requests: next()?.parse().ok()?,
            connections_active: next()?.parse().ok()?,
            status: next()?.parse().ok()?,
            method: next()?.to_owned(),
            uri: next()?.to_owned(),
            body_bytes: next()?.parse().ok()?,
        })
    }
}

/// What the access log says about how connections were used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectionUse {
    /// Requests per connection (keyed by `$connection`).
    pub(crate) per_connection: BTreeMap<u64, u64>,
    /// The most `$connections_active` seen.
    pub(crate) max_active: u64,
    /// The most `$connection_requests` seen.
    pub(crate) max_connection_requests: u64,
}

impl ConnectionUse {
    /// Sums up `entries`.
    pub(crate) fn of(entries: &[LogEntry]) -> ConnectionUse {
        let mut per_connection = BTreeMap::new();
        for entry in entries {
            *per_connection.entry(entry.connection).or_insert(0) += 1;
        }
        ConnectionUse {
            per_connection,
            max_active: entries
                .iter()
                .map(|e| e.connections_active)
                .max()
                .unwrap_or(0),
            max_connection_requests: entries
                .iter()
                .map(|e| e.connection_requests)
                .max()
                .unwrap_or(0),
        }
    }

    /// How many distinct connections served the requests.
    pub(crate) fn connections(&self) -> usize {
        self.per_connection.len()
    }
}

/// The size of nginx's `/large.bin`.
pub(crate) const LARGE_LEN: usize = 3 * 1024 * 1024 + 517;

/// The bytes of nginx's `/large.bin`: a fixed pseudo-random sequence, so a shifted or dropped
/// chunk shows.
pub(crate) fn large_body() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..LARGE_LEN)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The body of nginx's `/index.html`.
pub(crate) const INDEX_HTML: &str =
    "<!doctype html><title>tulip peers</title><p>hello from nginx</p>\n";
/// The body of nginx's `/small.json`.
pub(crate) const SMALL_JSON: &str = "{\"msg\": \"ok\", \"from\": \"nginx\"}\n";

/// nginx serving generated static files over keep-alive on 127.0.0.1, one process
/// (`master_process off`), logging each request's connection number to its own access log.
#[derive(Debug)]
pub(crate) struct Nginx {
    child: Reaped,
    addr: SocketAddr,
    dir: ScratchDir,
}

impl Nginx {
    /// Starts nginx with a generated config and waits until it answers; `None` (after printing
    /// why) when nginx is not installed.
    ///
    /// Files: `/index.html` ([`INDEX_HTML`]), `/small.json` ([`SMALL_JSON`]), `/large.bin`
    /// ([`large_body`]). `/status` is nginx's stub_status page.
    ///
    /// # Panics
    ///
    /// If nginx is there but does not start.
    pub(crate) fn start() -> Option<Nginx> {
        let Some(binary) = nginx_binary() else {
            return skip("nginx");
        };
        Some(start_with_retries("nginx", |port| {
            Nginx::try_start(&binary, port)
        }))
    }

    fn try_start(binary: &Path, port: u16) -> Result<Nginx, StartError> {
        let dir = ScratchDir::new("nginx");
        let root = dir.path();
        let www = root.join("www");
        fs::create_dir_all(&www).expect("creating nginx's www dir");
        fs::create_dir_all(root.join("tmp")).expect("creating nginx's tmp dir");
        fs::write(www.join("index.html"), INDEX_HTML).expect("writing index.html");
        fs::write(www.join("small.json"), SMALL_JSON).expect("writing small.json");
        fs::write(www.join("large.bin"), large_body()).expect("writing large.bin");
        let conf = root.join("nginx.conf");
        fs::write(&conf, nginx_conf(root, port)).expect("writing nginx.conf");
        let log = root.join("stderr.log");
        let out = File::create(&log).expect("creating nginx's stderr log");
        let err = out.try_clone().expect("cloning nginx's log handle");
        let child = Command::new(binary)
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(root.join("error.log"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| StartError::Failed(format!("spawning {}: {e}", binary.display())))?;
        let mut child = Reaped(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let logs = [log, root.join("error.log")];
        wait_ready(&mut child, &logs, "nginx", || {
            raw_get_status(addr, "/index.html") == Some(200)
        })?;
        let nginx = Nginx { child, addr, dir };
        // The readiness probe is in the log: start the tests from an empty one.
        nginx.wait_for_log(1);
        nginx.clear_log();
        Ok(nginx)
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn access_log_path(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    /// The access log's entries so far.
    pub(crate) fn log(&self) -> Vec<LogEntry> {
        fs::read_to_string(self.access_log_path())
            .unwrap_or_default()
            .lines()
            .filter_map(LogEntry::parse)
            .collect()
    }

    /// The access log once it has at least `n` entries (nginx logs a request just after sending
    /// its response, so the last lines may lag the client by a moment); what it has after 10 s
    /// otherwise.
    pub(crate) fn wait_for_log(&self, n: usize) -> Vec<LogEntry> {
        let started = Instant::now();
        loop {
            let entries = self.log();
            if entries.len() >= n || started.elapsed() > Duration::from_secs(10) {
                return entries;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Empties the access log (nginx keeps appending to the same file).
    pub(crate) fn clear_log(&self) {
        File::create(self.access_log_path()).expect("truncating nginx's access log");
    }
}

fn nginx_conf(root: &Path, port: u16) -> String {
    let root = root.display();
    // Paths are quoted: the temp dir may have spaces in it.
    format!(
        r#"# Generated by tulip-http's tests/peers/mod.rs.
daemon off;
master_process off;
worker_processes 1;
pid "{root}/nginx.pid";
error_log "{root}/error.log" warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format peers '$connection $connection_requests $connections_active $status '
                     '$request_method $request_uri $body_bytes_sent';
    access_log "{root}/access.log" peers;
    client_body_temp_path "{root}/tmp/body";
    proxy_temp_path "{root}/tmp/proxy";
    fastcgi_temp_path "{root}/tmp/fastcgi";
    uwsgi_temp_path "{root}/tmp/uwsgi";
    scgi_temp_path "{root}/tmp/scgi";
    types {{
        text/html html;
        application/json json;
        application/octet-stream bin;
    }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 60s;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root "{root}/www";
        location = /status {{
            stub_status;
        }}
    }}
}}
"#
    )
}
