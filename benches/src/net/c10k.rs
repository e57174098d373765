//! c10k: 10,000 connections open at once, each echoing a 100 B message once a second for 30 s,
//! the sends spread evenly over each second (one every 100 µs across all connections).
//!
//! Reports the server's memory per connection — its `VmRSS` once every connection is open and
//! has echoed once, minus its `VmRSS` before the first connection, divided by 10,000 — and the
//! echo latency percentiles (send to complete echo, as the generator sees it), with the
//! server's CPU use over the run. Both processes raise `RLIMIT_NOFILE` to its hard limit.
//!
//! The generator's timer is `epoll_wait`'s, in whole milliseconds, so sends go out in bursts of
//! about ten per millisecond; latency counts from each message's actual send, except for a
//! message whose connection was still waiting for its previous echo, which counts from when it
//! was due.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::proc::{CpuTimes, raise_nofile};
use super::table::{Col, Table, Target, rotate};
use super::{ClientPin, ServerSpec, reps, servers};
use crate::Options;
use crate::report::{Metric, percentile};

const CONNECTIONS: usize = 10_000;
const MESSAGE: usize = 100;
/// Connections opened (and echoed through once) at a time while setting up, so the server's
/// accept backlog never overflows.
const OPEN_BATCH: usize = 64;
/// The servers' read buffer per connection (`--buf`): the messages are 100 B, and a 64 KiB
/// buffer (the echo scenario's) would be most of the memory measured, hiding the runtimes'.
const BUF: usize = 1024;
const DEFAULT_SERVERS: [&str; 5] = [
    "mio-floor",
    "tokio-ct",
    "tulip-raw",
    "tulip-streams",
    "tulip-streams-buf",
];

const METRICS: &[Metric] = &[
    Metric::new("RSS B/conn", 0),
    Metric::new("RSS B/conn at end", 0),
    Metric::new("p50 ms", 3),
    Metric::new("p99 ms", 3),
    Metric::new("max ms", 2),
    Metric::new("echoes/s", 0),
    Metric::new("server CPU %", 1),
];

const COLS: &[Col] = &[
    Col::Median(0),
    Col::Ratio(0, "tokio-ct"),
    Col::Ratio(0, "mio-floor"),
    Col::Range(0),
    Col::Median(1),
    Col::Median(2),
    Col::Median(3),
    Col::Ratio(3, "tokio-ct"),
    Col::Median(4),
    Col::Median(5),
    Col::Median(6),
];

/// Measures every server; one table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let servers = match servers(options, &DEFAULT_SERVERS) {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("c10k: {e}");
            return Vec::new();
        }
    };
    match raise_nofile() {
        Ok(limit) if limit < CONNECTIONS as u64 + 100 => {
            eprintln!(
                "c10k: the descriptor limit is {limit}, too low for {CONNECTIONS} connections"
            );
            return Vec::new();
        }
        Ok(_) => {}
        Err(e) => eprintln!("c10k: cannot raise the descriptor limit: {e}"),
    }
    let default = if options.quick { 5.0 } else { 30.0 };
    let duration = options
        .net
        .duration
        .unwrap_or(Duration::from_secs_f64(default));
    let _pin = ClientPin::new();
    let rows = rotate(&servers, reps(options), METRICS.len(), |server| {
        once(server, duration)
    });
    let title = format!(
        "c10k: {CONNECTIONS} connections, each echoing {MESSAGE} B once a second, {:.0} s",
        duration.as_secs_f64()
    );
    vec![Table::new(title, METRICS, COLS, rows).target(Target::AtMost(0, 1.0, "tokio-ct"))]
}

fn once(spec: &ServerSpec, duration: Duration) -> io::Result<Vec<f64>> {
    let server = spec.start(BUF)?;
    let base = server.rss()?;
    let streams = open(server.addr, CONNECTIONS)?;
    let opened = server.rss()?;
    let mut run = Run::new(streams)?;
    let cpu0 = server.cpu()?;
    let start = Instant::now();
    run.go(duration)?;
    let secs = start.elapsed().as_secs_f64();
    let used = server.cpu()?.since(cpu0);
    let end = server.rss()?;
    let mut latencies = run.latencies;
    latencies.sort_by(f64::total_cmp);
    let per_conn = |rss: u64| rss.saturating_sub(base) as f64 / CONNECTIONS as f64;
    Ok(vec![
        per_conn(opened),
        per_conn(end),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
        latencies.len() as f64 / secs,
        cpu_percent(used, secs),
    ])
}

fn cpu_percent(used: CpuTimes, secs: f64) -> f64 {
    (used.user + used.system).as_secs_f64() / secs * 100.0
}

/// Opens `n` connections, a batch at a time, each echoing one message before the next batch,
/// so that every one of them is accepted and served once when this returns.
fn open(addr: SocketAddr, n: usize) -> io::Result<Vec<std::net::TcpStream>> {
    let mut streams = Vec::with_capacity(n);
    let message = [7u8; MESSAGE];
    let mut echo = [0u8; MESSAGE];
    while streams.len() < n {
        let batch = OPEN_BATCH.min(n - streams.len());
        let first = streams.len();
        for _ in 0..batch {
            let stream = std::net::TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            streams.push(stream);
        }
        for mut stream in &streams[first..] {
            stream.write_all(&message)?;
        }
        for mut stream in &streams[first..] {
            stream.read_exact(&mut echo)?;
            if echo != message {
                return Err(io::Error::other("the first echo differs from the message"));
            }
        }
    }
    Ok(streams)
}

/// The once-a-second phase.
struct Run {
    poll: Poll,
    conns: Vec<Conn>,
    /// Echo latencies in ms, in completion order.
    latencies: Vec<f64>,
}

struct Conn {
    stream: TcpStream,
    /// Bytes of the current echo read so far; `None` when no message is in flight.
    read: Option<usize>,
    /// When the message in flight was sent (or was due, if it had to wait).
    sent: Instant,
    /// Messages due while one was in flight, each with when it was due.
    late: Vec<Instant>,
    seq: u8,
}

impl Run {
    fn new(streams: Vec<std::net::TcpStream>) -> io::Result<Run> {
        let poll = Poll::new()?;
        let mut conns = Vec::with_capacity(streams.len());
        for (i, stream) in streams.into_iter().enumerate() {
            stream.set_nonblocking(true)?;
            let mut stream = TcpStream::from_std(stream);
            poll.registry()
                .register(&mut stream, Token(i), Interest::READABLE)?;
            conns.push(Conn {
                stream,
                read: None,
                sent: Instant::now(),
                late: Vec::new(),
                seq: 0,
            });
        }
        Ok(Run {
            poll,
            conns,
            latencies: Vec::new(),
        })
    }

    /// Sends one message per connection per second for `duration`, then waits (up to 10 s)
    /// for the last echoes.
    fn go(&mut self, duration: Duration) -> io::Result<()> {
        let n = self.conns.len();
        let total = (duration.as_secs_f64() * n as f64) as usize;
        self.latencies = Vec::with_capacity(total);
        let period = Duration::from_secs(1).div_f64(n as f64);
        let mut events = Events::with_capacity(1024);
        let mut scratch = [0u8; MESSAGE];
        let start = Instant::now();
        let give_up = start + duration + Duration::from_secs(10);
        let mut sent = 0;
        while self.latencies.len() < total {
            let now = Instant::now();
            if now > give_up {
                let missing = total - self.latencies.len();
                return Err(io::Error::other(format!(
                    "{missing} echoes never came back"
                )));
            }
            while sent < total && start + period.mul_f64(sent as f64) <= now {
                let due = start + period.mul_f64(sent as f64);
                self.conns[sent % n].send(due, now, sent % n)?;
                sent += 1;
            }
            let next = start + period.mul_f64(sent as f64);
            let timeout = if sent < total {
                next.saturating_duration_since(now)
            } else {
                Duration::from_millis(100)
            };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for event in &events {
                let i = event.token().0;
                if let Some(ms) = self.conns[i].receive(&mut scratch, now, i)? {
                    self.latencies.push(ms);
                }
            }
        }
        Ok(())
    }
}

impl Conn {
    /// Sends the message due at `due`, or queues it if the previous one is still in flight.
    fn send(&mut self, due: Instant, now: Instant, index: usize) -> io::Result<()> {
        if self.read.is_some() {
            self.late.push(due);
            return Ok(());
        }
        self.seq = self.seq.wrapping_add(1);
        let mut message = [b'x'; MESSAGE];
        message[0] = self.seq;
        message[MESSAGE - 1] = self.seq ^ index as u8;
        // 100 bytes into an idle connection's empty send buffer: all or nothing.
        match self.stream.write(&message) {
            Ok(MESSAGE) => {}
            Ok(_) => return Err(io::Error::other("a 100 B write was cut short")),
            Err(e) => return Err(e),
        }
        self.sent = now;
        self.read = Some(0);
        Ok(())
    }

    /// Reads what arrived; the latency in ms when the echo is complete.
    fn receive(
        &mut self,
        scratch: &mut [u8],
        now: Instant,
        index: usize,
    ) -> io::Result<Option<f64>> {
        let Some(read) = self.read else {
            return Err(io::Error::other("the server sent bytes it was not sent"));
        };
        // `scratch` is shared by all connections: look at each byte as it arrives.
        let n = match self.stream.read(&mut scratch[..MESSAGE - read]) {
            Ok(0) => return Err(io::Error::other("the server closed a connection")),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        };
        let first_ok = read > 0 || scratch[0] == self.seq;
        let last_ok = read + n < MESSAGE || scratch[n - 1] == self.seq ^ index as u8;
        if !(first_ok && last_ok) {
            return Err(io::Error::other("an echo differs from its message"));
        }
        if read + n < MESSAGE {
            self.read = Some(read + n);
            return Ok(None);
        }
        let ms = now.duration_since(self.sent).as_secs_f64() * 1e3;
        self.read = None;
        if !self.late.is_empty() {
            let due = self.late.remove(0);
            self.send(due, now, index)?;
            self.sent = due;
        }
        Ok(Some(ms))
    }
}
