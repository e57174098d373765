//! A throwaway `redis-server` for tests: started on a free port in its own temporary
//! directory, stopped and removed on drop.
//!
//! Everything here is blocking std code: it runs in test set-up, outside the loop.
//!
//! ```
//! use tulip_redis::testing::RedisServer;
//!
//! let Some(server) = RedisServer::start().unwrap() else { return }; // not installed: skip
//! assert!(server.url().starts_with("redis://127.0.0.1:"));
//! assert!(server.dir().is_dir());
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const STARTUP_LIMIT: Duration = Duration::from_secs(10);
const PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// A `redis-server` process of its own: a free port on 127.0.0.1, a fresh directory, the
/// append-only file synced on every write (so [`stop`](RedisServer::stop) /
/// [`restart`](RedisServer::restart) keeps every acknowledged write), no RDB snapshots.
///
/// Dropping it kills the process and removes the directory.
///
/// # Examples
///
/// ```
/// use tulip_redis::{Client, cmd, testing::RedisServer};
///
/// let Some(mut server) = RedisServer::start().unwrap() else { return };
/// let url = server.url();
/// tulip::run(async {
///     let client = Client::open(&url).await.unwrap();
///     client.query(&cmd!("SET", "k", "v")).await.unwrap();
/// });
/// server.restart().unwrap();
/// tulip::run(async {
///     let client = Client::open(&url).await.unwrap();
///     assert_eq!(client.query(&cmd!("GET", "k")).await.unwrap().as_str(), Some("v"));
/// });
/// ```
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server and waits (up to 10 s) until it answers `PING`.
    ///
    /// # Errors
    ///
    /// When the server does not start or answer in time (the error quotes its log). When
    /// `redis-server` is not installed: `Ok(None)` (printing "skipping: redis-server not
    /// installed" to stderr) so tests can skip, unless the environment variable `CI` is set,
    /// where a missing server is an error of kind `NotFound`.
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// assert_eq!(server.addr().ip(), std::net::Ipv4Addr::LOCALHOST);
    /// ```
    pub fn start() -> io::Result<Option<RedisServer>> {
        RedisServer::start_with(&[])
    }

    /// [`start`](RedisServer::start) with more `redis-server` arguments, such as
    /// `["--requirepass", "secret"]`. They are given again on each
    /// [`restart`](RedisServer::restart).
    ///
    /// # Errors
    ///
    /// As [`start`](RedisServer::start).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::testing::RedisServer;
    ///
    /// let Some(server) = RedisServer::start_with(&["--requirepass", "s3cret"]).unwrap() else {
    ///     return;
    /// };
    /// let authed = server.url().replace("redis://", "redis://:s3cret@");
    /// # let _ = authed;
    /// ```
    pub fn start_with(extra_args: &[&str]) -> io::Result<Option<RedisServer>> {
        let Some(binary) = find_binary() else {
            if std::env::var_os("CI").is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "redis-server not found on PATH, /usr/bin or /usr/sbin (CI is set, so tests \
                     that need it cannot be skipped); install it (apt-get install redis-server)",
                ));
            }
            eprintln!("skipping: redis-server not installed");
            return Ok(None);
        };
        let mut server = RedisServer {
            binary,
            port: free_port()?,
            dir: make_temp_dir()?,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        server.spawn()?;
        Ok(Some(server))
    }

    /// `redis://127.0.0.1:PORT/0`.
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// assert_eq!(server.url(), format!("redis://{}/0", server.addr()));
    /// ```
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr())
    }

    /// The address it listens on (stays the same across restarts).
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// assert!(std::net::TcpStream::connect(server.addr()).is_ok());
    /// ```
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Its working directory: the append-only file and `redis.log` are here.
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// assert!(server.dir().join("redis.log").exists());
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server gracefully (SIGTERM: it finishes writing its files) and waits for it
    /// to exit. Does nothing if it is not running.
    ///
    /// # Errors
    ///
    /// When the signal cannot be sent or the process not waited for.
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(mut server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// server.stop().unwrap();
    /// assert!(std::net::TcpStream::connect(server.addr()).is_err());
    /// ```
    pub fn stop(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            if child.try_wait()?.is_none() {
                let pid = rustix::process::Pid::from_child(&child);
                rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
            }
            child.wait()?;
        }
        Ok(())
    }

    /// Kills the server (SIGKILL: no chance to write anything more) and waits for it to exit.
    /// Does nothing if it is not running.
    ///
    /// # Errors
    ///
    /// When the process cannot be killed or waited for.
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(mut server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// server.kill().unwrap();
    /// assert!(std::net::TcpStream::connect(server.addr()).is_err());
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Stops the server (if it is running) and starts it again on the same port and
    /// directory, so it reloads its data; waits until it answers `PING`.
    ///
    /// # Errors
    ///
    /// As [`stop`](RedisServer::stop) and [`start`](RedisServer::start).
    ///
    /// # Examples
    ///
    /// ```
    /// let Some(mut server) = tulip_redis::testing::RedisServer::start().unwrap() else { return };
    /// let addr = server.addr();
    /// server.restart().unwrap();
    /// assert_eq!(server.addr(), addr);
    /// ```
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop()?;
        self.spawn()
    }

    fn spawn(&mut self) -> io::Result<()> {
        let log = self.dir.join("redis.log");
        let mut command = Command::new(&self.binary);
        command
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--dir"])
            .arg(&self.dir)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--daemonize", "no", "--protected-mode", "no", "--logfile"])
            .arg(&log)
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("starting {}: {e}", self.binary.display()))
        })?;
        self.child = Some(child);
        self.wait_until_ready()
    }

    fn wait_until_ready(&mut self) -> io::Result<()> {
        let started = Instant::now();
        loop {
            if ping(self.addr()) {
                return Ok(());
            }
            let exited = match &mut self.child {
                Some(child) => child.try_wait()?,
                None => None,
            };
            if exited.is_some() || started.elapsed() > STARTUP_LIMIT {
                let _ = self.kill();
                let what = match exited {
                    Some(status) => format!("exited ({status})"),
                    None => format!("did not answer PING within {STARTUP_LIMIT:?}"),
                };
                let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
                return Err(io::Error::other(format!(
                    "redis-server on port {} {what}; its log:\n{log}",
                    self.port
                )));
            }
            thread::sleep(PROBE_INTERVAL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a server at `addr` answers an inline `PING` (a `-NOAUTH` error counts: it answers).
fn ping(addr: SocketAddr) -> bool {
    let probe = || -> io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
        stream.set_read_timeout(Some(Duration::from_millis(500)))?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 16];
        let n = stream.read(&mut reply)?;
        Ok(reply[..n].starts_with(b"+PONG") || reply[..n].starts_with(b"-NOAUTH"))
    };
    probe().unwrap_or(false)
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

/// A port nothing listens on right now (the OS's pick for an ephemeral bind).
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn make_temp_dir() -> io::Result<PathBuf> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "tulip-redis-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir(&dir)?;
    Ok(dir)
}
