//! A real nginx for areq's tests: started on a free 127.0.0.1 port with a generated config,
//! serving a directory the test fills, logging `$status $request_uri` per request, and killed
//! (and reaped) on drop. The same approach as tulip-http's `tests/peers/mod.rs`.
//!
//! `scripts/peers/install.sh` installs nginx (`.ci/run` calls it). Without it, [`Nginx::start`]
//! prints `skipping: nginx not installed (...)` and returns `None`, so the test passes without
//! running; under CI (`CI` set to `true` or `1`) a missing nginx fails the test instead.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long nginx may take to start answering.
const START_WAIT: Duration = Duration::from_secs(30);
/// How many ports are tried when another process takes the first one first.
const START_TRIES: usize = 3;

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Looks `name` up in the directories of `$PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether this is CI (`CI` is `true` or `1`), where a missing peer is a failure.
pub fn on_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// Reports a missing peer: prints the skip line and returns `None`, or panics on CI.
pub fn skip<T>(peer: &str) -> Option<T> {
    assert!(
        !on_ci(),
        "{peer} is not installed on CI: .ci/run must run scripts/peers/install.sh"
    );
    eprintln!("skipping: {peer} not installed (run scripts/peers/install.sh)");
    None
}

/// A Python 3 for the reference scripts: the peers venv's (`$TULIP_PEERS_VENV`, else
/// `.peers/venv`), else `python3` on PATH; `None` after printing that the test skips.
pub fn require_python() -> Option<PathBuf> {
    let venv = match std::env::var_os("TULIP_PEERS_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join(".peers/venv"),
    };
    let python = venv.join("bin/python");
    if python.is_file() {
        return Some(python);
    }
    find_on_path("python3").or_else(|| skip("python3"))
}

/// The `nginx` binary: `$TULIP_NGINX`, else `nginx` on PATH, else Debian's `/usr/sbin/nginx`.
pub fn nginx_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TULIP_NGINX").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    find_on_path("nginx").or_else(|| {
        let sbin = PathBuf::from("/usr/sbin/nginx");
        sbin.is_file().then_some(sbin)
    })
}

/// A child process killed and reaped on drop.
#[derive(Debug)]
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx serving the files under [`Nginx::root`] on 127.0.0.1, one process, keep-alive on.
#[derive(Debug)]
pub struct Nginx {
    child: Reaped,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx in the scratch directory `dir` (it makes `dir/www`, the document root) and
    /// waits until it answers; `None` (after printing why) when nginx is not installed.
    ///
    /// # Panics
    ///
    /// If nginx is there but does not start.
    pub fn start(dir: &Path) -> Option<Nginx> {
        let binary = nginx_binary().or_else(|| skip("nginx"))?;
        for _ in 0..START_TRIES {
            match Nginx::try_start(&binary, dir, free_port()) {
                Ok(nginx) => return Some(nginx),
                Err(None) => continue,
                Err(Some(message)) => panic!("{message}"),
            }
        }
        panic!("nginx: every port tried was taken by another process");
    }

    /// One attempt: `Err(None)` when the port was taken meanwhile, `Err(Some(why))` otherwise.
    fn try_start(binary: &Path, dir: &Path, port: u16) -> Result<Nginx, Option<String>> {
        let www = dir.join("www");
        fs::create_dir_all(&www).expect("creating nginx's www dir");
        fs::create_dir_all(dir.join("tmp")).expect("creating nginx's tmp dir");
        fs::write(www.join("nginx-ready.txt"), "ready\n").expect("writing the probe file");
        let conf = dir.join("nginx.conf");
        fs::write(&conf, nginx_conf(dir, port)).expect("writing nginx.conf");
        let log = dir.join("stderr.log");
        let out = File::create(&log).expect("creating nginx's stderr log");
        let err = out.try_clone().expect("cloning nginx's log handle");
        let _ = fs::remove_file(dir.join("error.log"));
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Some(format!("spawning {}: {e}", binary.display())))?;
        let mut child = Reaped(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.0.try_wait() {
                let logs = fs::read_to_string(&log).unwrap_or_default()
                    + &fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                if logs.contains("Address already in use") {
                    return Err(None);
                }
                return Err(Some(format!(
                    "nginx exited ({status}) before answering:\n{logs}"
                )));
            }
            if raw_get_status(addr, "/nginx-ready.txt") == Some(200) {
                break;
            }
            if started.elapsed() > START_WAIT {
                return Err(Some(format!("nginx did not answer within {START_WAIT:?}")));
            }
            thread::sleep(Duration::from_millis(50));
        }
        fs::remove_file(www.join("nginx-ready.txt")).expect("removing the probe file");
        let nginx = Nginx {
            child,
            addr,
            dir: dir.to_owned(),
        };
        // The probe is in the access log (nginx logs just after answering): wait for it,
        // then start from an empty log.
        let waited = Instant::now();
        while nginx.log().is_empty() && waited.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(10));
        }
        File::create(nginx.dir.join("access.log")).expect("truncating nginx's access log");
        Ok(nginx)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The document root.
    pub fn root(&self) -> PathBuf {
        self.dir.join("www")
    }

    /// The access log so far: `(status, request URI)` per request.
    pub fn log(&self) -> Vec<(u16, String)> {
        fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let (status, uri) = line.split_once(' ')?;
                Some((status.parse().ok()?, uri.to_owned()))
            })
            .collect()
    }

    /// The access log once it has at least `n` entries (nginx logs a request just after
    /// answering it), or what it has after 10 s.
    pub fn wait_for_log(&self, n: usize) -> Vec<(u16, String)> {
        let started = Instant::now();
        loop {
            let entries = self.log();
            if entries.len() >= n || started.elapsed() > Duration::from_secs(10) {
                return entries;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A free port on 127.0.0.1 (free when asked; a start that loses the race is retried).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// Sends one `GET path` over a fresh connection and returns the status code.
fn raw_get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    let line = std::str::from_utf8(&head).ok()?;
    line.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()
}

fn nginx_conf(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    // Paths are quoted: the temp dir may have spaces in it.
    format!(
        r#"# Generated by areq's tests/support/nginx.rs.
daemon off;
master_process off;
worker_processes 1;
pid "{dir}/nginx.pid";
error_log "{dir}/error.log" warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format areq '$status $request_uri';
    access_log "{dir}/access.log" areq;
    client_body_temp_path "{dir}/tmp/body";
    proxy_temp_path "{dir}/tmp/proxy";
    fastcgi_temp_path "{dir}/tmp/fastcgi";
    uwsgi_temp_path "{dir}/tmp/uwsgi";
    scgi_temp_path "{dir}/tmp/scgi";
    types {{
        text/html html;
        text/plain txt;
        application/json json;
    }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 60s;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root "{dir}/www";
        index index.html;
    }}
}}
"#
    )
}
