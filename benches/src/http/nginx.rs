//! nginx as `http_client`'s server: started from a generated configuration in a directory of
//! its own under the system's temp dir, one worker pinned to CPU 0, serving one small static
//! file on 127.0.0.1 with keep-alive, and stopped (its directory removed) when dropped.

use std::fs;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::proc::{CpuTimes, SERVER_CPU, pin_current_thread, pin_process, restore_affinity};

/// The file's name under the document root.
pub(crate) const FILE: &str = "hello.txt";

/// A running nginx.
#[derive(Debug)]
pub(crate) struct Nginx {
    master: Child,
    /// Its one worker's process id (the process that serves).
    worker: u32,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// The configuration, logs and document root.
    dir: PathBuf,
}

impl Nginx {
    /// Starts nginx serving a file of `size` bytes as `/hello.txt`; returns once it accepts
    /// connections.
    pub(crate) fn start(size: usize) -> io::Result<Nginx> {
        let binary = find_nginx()?;
        let dir = std::env::temp_dir().join(format!("tulip-bench-nginx-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(dir.join("www"))?;
        fs::create_dir_all(dir.join("tmp"))?;
        let body: Vec<u8> = (0..size)
            .map(|i| {
                if i % 64 == 63 {
                    b'\n'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        fs::write(dir.join("www").join(FILE), body)?;
        let addr = free_port()?;
        let conf = dir.join("nginx.conf");
        fs::write(&conf, config(&dir, addr))?;

        // Spawned from a thread pinned to the server's CPU, so the master and the worker it
        // forks start there; `worker_cpu_affinity` and `pin_process` below make sure of it.
        let old = pin_current_thread(SERVER_CPU)?;
        let spawned = Command::new(&binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn();
        restore_affinity(&old);
        let master = spawned.map_err(|e| {
            io::Error::new(e.kind(), format!("cannot start {}: {e}", binary.display()))
        })?;
        let mut nginx = Nginx {
            master,
            worker: 0,
            addr,
            dir,
        };
        nginx.wait_ready()?;
        nginx.worker = nginx.find_worker()?;
        pin_process(nginx.master.id(), SERVER_CPU)?;
        pin_process(nginx.worker, SERVER_CPU)?;
        Ok(nginx)
    }

    /// Waits until a connection to its port succeeds (10 s at most).
    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.master.try_wait()? {
                let log = fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                return Err(io::Error::other(format!(
                    "nginx exited with {status} before listening; its error log:\n{log}"
                )));
            }
            if TcpStream::connect(self.addr).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("nginx did not listen on {} within 10 s", self.addr),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The worker: the master's one child process, found by its parent pid in `/proc`.
    fn find_worker(&self) -> io::Result<u32> {
        let master = self.master.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            for entry in fs::read_dir("/proc")? {
                let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                if parent_of(pid) == Some(master) {
                    return Ok(pid);
                }
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("nginx started no worker process"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The worker's CPU time so far.
    pub(crate) fn cpu(&self) -> io::Result<CpuTimes> {
        CpuTimes::of(self.worker)
    }

    /// The URL of the static file.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/{FILE}", self.addr)
    }
}

impl Drop for Nginx {
    /// SIGTERM (nginx's fast shutdown) through `kill`, then SIGKILL after 5 s; removes the
    /// directory.
    fn drop(&mut self) {
        let pid = i32::try_from(self.master.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.master.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.master.kill();
        let _ = self.master.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The configuration: one worker on CPU 0, no access log, keep-alive for as many requests as a
/// run makes (nginx's default closes a connection after 1,000), the file's metadata cached.
fn config(dir: &Path, addr: SocketAddr) -> String {
    let dir = dir.display();
    format!(
        "daemon off;
worker_processes 1;
worker_cpu_affinity 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    default_type text/plain;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    open_file_cache max=16;
    server {{
        listen {addr} backlog=1024;
        root {dir}/www;
        location / {{ }}
    }}
}}
"
    )
}

/// A port nobody listens on now (bound and released; nginx binds it a moment later).
fn free_port() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// `nginx` from `PATH`, else Debian's `/usr/sbin/nginx`.
fn find_nginx() -> io::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            io::Error::new(
                ErrorKind::NotFound,
                "nginx not found in PATH or /usr/sbin (apt-get install nginx)",
            )
        })
}

/// The parent pid of `pid` (field 4 of `/proc/<pid>/stat`), if it still exists.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}
