//! echo: 64 connections in a closed loop — each sends one message, waits for all of it to come
//! back, then sends the next — at 100 B, 1 KiB and 64 KiB, for 10 s per size after 1 s of
//! warm-up.
//!
//! Reports requests/s, MiB/s (one way), and the server's user-space and kernel CPU time per
//! request over the measured window, from its `/proc/<pid>/stat`. On two cores the generator's
//! core saturates first and most of a good server's CPU is the kernel's loopback TCP work, so
//! user µs per request is the figure that tells runtimes apart.
//!
//! The generator is one thread on raw mio, with every buffer allocated before the first
//! request. It checks that each echo is exactly as long as the message (never more) and that
//! its first and last bytes, which change with every request, come back as sent.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::proc::CpuTimes;
use super::table::{Col, Table, Target, rotate};
use super::{ClientPin, ServerSpec, reps, servers};
use crate::Options;
use crate::report::Metric;

const CONNECTIONS: usize = 64;
const SIZES: [usize; 3] = [100, 1024, 64 * 1024];
const DEFAULT_SERVERS: [&str; 7] = [
    "mio-floor",
    "waker-floor",
    "tokio-ct",
    "tokio-mt",
    "tulip-raw",
    "tulip-streams",
    "tulip-streams-buf",
];

const METRICS: &[Metric] = &[
    Metric::new("req/s", 0),
    Metric::new("MiB/s", 1),
    Metric::new("user µs/req", 3),
    Metric::new("kernel µs/req", 3),
    Metric::new("server CPU %", 0),
    Metric::new("generator CPU %", 0),
];

const COLS: &[Col] = &[
    Col::Median(0),
    Col::Ratio(0, "tokio-ct"),
    Col::Ratio(0, "mio-floor"),
    Col::Range(0),
    Col::Median(1),
    Col::Median(2),
    Col::Ratio(2, "tokio-ct"),
    Col::Ratio(2, "mio-floor"),
    Col::Median(3),
    Col::Median(4),
    Col::Median(5),
];

/// Measures every server at every size; one table per size.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let servers = match servers(options, &DEFAULT_SERVERS) {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("echo: {e}");
            return Vec::new();
        }
    };
    let default = if options.quick { 2.0 } else { 10.0 };
    let window = options
        .net
        .duration
        .unwrap_or(Duration::from_secs_f64(default));
    let warmup = Duration::from_secs_f64(if options.quick { 0.5 } else { 1.0 });
    let _pin = ClientPin::new();
    let sizes = options.net.sizes.clone().unwrap_or(SIZES.to_vec());
    sizes
        .into_iter()
        .map(|size| {
            eprintln!("  echo, {size} B messages");
            let rows = rotate(&servers, reps(options), METRICS.len(), |server| {
                once(server, size, warmup, window)
            });
            let title = format!(
                "echo: {CONNECTIONS} connections, closed loop, {size} B messages, {:.0} s",
                window.as_secs_f64()
            );
            Table::new(title, METRICS, COLS, rows)
                .target(Target::AtMost(2, 0.9, "tokio-ct"))
                .target(Target::AtMost(2, 1.15, "mio-floor"))
                .target(Target::AtLeast(0, 1.0, "tokio-ct"))
        })
        .collect()
}

/// One run: a fresh server, warm-up, then the measured window.
fn once(
    spec: &ServerSpec,
    size: usize,
    warmup: Duration,
    window: Duration,
) -> io::Result<Vec<f64>> {
    let server = spec.start(super::serve::BUF)?;
    let mut generator = Generator::connect(server.addr, CONNECTIONS, size)?;
    generator.run_for(warmup)?;
    let me = std::process::id();
    let (done0, server0, me0) = (generator.completed, server.cpu()?, CpuTimes::of(me)?);
    let start = Instant::now();
    generator.mark();
    generator.run_for(window)?;
    let secs = start.elapsed().as_secs_f64();
    let (server1, me1) = (server.cpu()?, CpuTimes::of(me)?);
    generator.check_all_progressed()?;
    // For a server run under a profiler, whose counts cover warm-up too.
    eprintln!("    {}: {} requests in all", spec.key, generator.completed);
    let requests = (generator.completed - done0) as f64;
    let served = server1.since(server0);
    let used = me1.since(me0);
    let percent = |t: CpuTimes| (t.user + t.system).as_secs_f64() / secs * 100.0;
    Ok(vec![
        requests / secs,
        requests * size as f64 / secs / (1024.0 * 1024.0),
        served.user.as_secs_f64() * 1e6 / requests,
        served.system.as_secs_f64() * 1e6 / requests,
        percent(served),
        percent(used),
    ])
}

/// The closed-loop load generator.
struct Generator {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    /// Where echoes are read to: only their first and last bytes are looked at.
    scratch: Vec<u8>,
    /// Requests completed over all connections.
    completed: u64,
}

/// One connection and its message in flight.
struct Conn {
    stream: TcpStream,
    /// The message; its first and last bytes change with every request.
    message: Box<[u8]>,
    written: usize,
    read: usize,
    /// Requests this connection completed, and the count at [`Generator::mark`].
    done: u64,
    marked: u64,
}

impl Generator {
    /// Opens `n` connections to `addr` and sends each one's first message.
    fn connect(addr: SocketAddr, n: usize, size: usize) -> io::Result<Generator> {
        let poll = Poll::new()?;
        let mut conns = Vec::with_capacity(n);
        for i in 0..n {
            let stream = std::net::TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            let mut stream = TcpStream::from_std(stream);
            let interest = Interest::READABLE | Interest::WRITABLE;
            poll.registry().register(&mut stream, Token(i), interest)?;
            let message = (0..size).map(|b| b"abcdefghijklmnopqrstuvwxyz"[b % 26]);
            let mut conn = Conn {
                stream,
                message: message.collect(),
                written: 0,
                read: 0,
                done: 0,
                marked: 0,
            };
            conn.stamp(i);
            conn.write_some()?;
            conns.push(conn);
        }
        Ok(Generator {
            poll,
            events: Events::with_capacity(1024),
            conns,
            scratch: vec![0; size],
            completed: 0,
        })
    }

    /// Drives every connection for `duration`.
    ///
    /// Hot loop: one `epoll_wait`, then per event at most the reads and writes it made
    /// possible — no allocation, no syscall that is known to find nothing.
    fn run_for(&mut self, duration: Duration) -> io::Result<()> {
        let end = Instant::now() + duration;
        loop {
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            match self.poll.poll(&mut self.events, Some(end - now)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in &self.events {
                let i = event.token().0;
                let conn = &mut self.conns[i];
                if event.is_writable() {
                    conn.write_some()?;
                }
                if event.is_readable() || event.is_read_closed() {
                    self.completed += conn.read_some(&mut self.scratch, i)?;
                }
            }
        }
    }

    /// Starts counting each connection's requests for [`check_all_progressed`].
    fn mark(&mut self) {
        for conn in &mut self.conns {
            conn.marked = conn.done;
        }
    }

    /// An error if some connection completed no request since [`mark`]: a stall, which
    /// would make the figures those of fewer connections.
    fn check_all_progressed(&self) -> io::Result<()> {
        match self.conns.iter().position(|c| c.done == c.marked) {
            Some(i) => Err(io::Error::other(format!(
                "connection {i} completed no request in the window"
            ))),
            None => Ok(()),
        }
    }
}

impl Conn {
    /// Marks the message for request number `done` of connection `index`.
    fn stamp(&mut self, index: usize) {
        let seq = self.done as u8;
        let last = self.message.len() - 1;
        self.message[0] = seq;
        self.message[last] = seq ^ index as u8 ^ 0xa5;
    }

    /// Writes as much of the message as the socket takes. A short write means the send buffer
    /// is full: the kernel then reports writability again, so there is no need to try once
    /// more for `WouldBlock`.
    fn write_some(&mut self) -> io::Result<()> {
        while self.written < self.message.len() {
            let rest = &self.message[self.written..];
            match self.stream.write(rest) {
                Ok(n) => {
                    self.written += n;
                    if n < rest.len() {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads the echo; when it is complete, checks it and sends the next message. Returns the
    /// requests completed (0 or 1).
    ///
    /// A read shorter than asked for emptied the socket, and any later data raises a new
    /// edge, so it stops there rather than read again for `WouldBlock`.
    fn read_some(&mut self, scratch: &mut [u8], index: usize) -> io::Result<u64> {
        let size = self.message.len();
        loop {
            let want = size - self.read;
            let n = match self.stream.read(&mut scratch[..want]) {
                Ok(0) => return Err(io::Error::other("the server closed a connection")),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(0),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if self.read + n > self.written {
                return Err(io::Error::other("the server sent bytes it was not sent"));
            }
            if self.read == 0 && scratch[0] != self.message[0] {
                return Err(io::Error::other("an echo's first byte differs"));
            }
            self.read += n;
            if self.read == size {
                if scratch[n - 1] != self.message[size - 1] {
                    return Err(io::Error::other("an echo's last byte differs"));
                }
                self.done += 1;
                (self.read, self.written) = (0, 0);
                self.stamp(index);
                self.write_some()?;
                return Ok(1);
            }
            if n < want {
                return Ok(0);
            }
        }
    }
}
