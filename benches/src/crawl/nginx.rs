//! nginx serving the `crawl` scenario's site: one process (`master_process off`, one worker's
//! work), started from a thread pinned to the server's CPU so it runs there, keep-alive for as
//! many requests as a crawl makes, no access log, `text/html; charset=utf-8`. Stopped (SIGTERM,
//! then SIGKILL) when dropped; the site's directory belongs to the caller.

use std::fs;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::proc::{CpuTimes, SERVER_CPU, pin_current_thread, pin_process, restore_affinity};

/// A running nginx.
#[derive(Debug)]
pub(crate) struct Nginx {
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
}

impl Nginx {
    /// Starts nginx with its configuration and logs in `dir`, serving `root`; returns once it
    /// accepts connections.
    pub(crate) fn start(dir: &Path, root: &Path) -> io::Result<Nginx> {
        let binary = find_nginx()?;
        fs::create_dir_all(dir.join("tmp"))?;
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let conf = dir.join("nginx.conf");
        fs::write(&conf, config(dir, root, addr))?;
        let old = pin_current_thread(SERVER_CPU)?;
        let spawned = Command::new(&binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn();
        restore_affinity(&old);
        let child = spawned.map_err(|e| {
            io::Error::new(e.kind(), format!("cannot start {}: {e}", binary.display()))
        })?;
        let mut nginx = Nginx { child, addr };
        nginx.wait_ready(dir)?;
        pin_process(nginx.child.id(), SERVER_CPU)?;
        Ok(nginx)
    }

    fn wait_ready(&mut self, dir: &Path) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
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

    /// Its CPU time so far.
    pub(crate) fn cpu(&self) -> io::Result<CpuTimes> {
        CpuTimes::of(self.child.id())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$TULIP_NGINX`, else `nginx` on `PATH`, else Debian's `/usr/sbin/nginx`.
fn find_nginx() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os("TULIP_NGINX").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nginx"))
            .find(|candidate| candidate.is_file())
    });
    let sbin = PathBuf::from("/usr/sbin/nginx");
    on_path
        .or_else(|| sbin.is_file().then_some(sbin))
        .ok_or_else(|| {
            io::Error::new(
                ErrorKind::NotFound,
                "nginx is not installed (scripts/peers/install.sh installs it)",
            )
        })
}

/// The configuration: one process, no access log, keep-alive without a request limit, the
/// site's file descriptors cached.
fn config(dir: &Path, root: &Path, addr: SocketAddr) -> String {
    let (dir, root) = (dir.display(), root.display());
    format!(
        "daemon off;
master_process off;
worker_processes 1;
pid \"{dir}/nginx.pid\";
error_log \"{dir}/error.log\" warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path \"{dir}/tmp/body\";
    proxy_temp_path \"{dir}/tmp/proxy\";
    fastcgi_temp_path \"{dir}/tmp/fastcgi\";
    uwsgi_temp_path \"{dir}/tmp/uwsgi\";
    scgi_temp_path \"{dir}/tmp/scgi\";
    types {{
        text/html html;
        text/css css;
    }}
    default_type application/octet-stream;
    charset utf-8;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    open_file_cache max=20000 inactive=300s;
    server {{
        listen {addr} backlog=1024;
        root \"{root}\";
    }}
}}
"
    )
}
