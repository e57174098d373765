//! connect_rate: 100,000 short connections, 64 in flight — connect, send one byte, read its
//! echo, close — reported as connections per second (after the first 2,000), with the
//! server's CPU time per connection.
//!
//! The client closes with `SO_LINGER` 0, a reset rather than a FIN, so that no `TIME_WAIT`
//! states pile up: 100,000 of them would fill the ~28,000 ephemeral ports several times over,
//! slow every later `connect` down (a first version measured 24k connections/s over 10,000
//! connections and 14k over 100,000), and carry over into the next server's run. The server
//! sees its next read fail with `ECONNRESET` instead of returning 0, and closes either way.

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

const CONNECTIONS: usize = 100_000;
const IN_FLIGHT: usize = 64;
/// Connections before the measured window opens.
const WARMUP: usize = 2_000;
/// Failed connects tolerated in one run before it is abandoned.
const MAX_ERRORS: usize = 1_000;
const DEFAULT_SERVERS: [&str; 5] = [
    "mio-floor",
    "tokio-ct",
    "tulip-raw",
    "tulip-streams",
    "tulip-streams-buf",
];

const METRICS: &[Metric] = &[
    Metric::new("conn/s", 0),
    Metric::new("user µs/conn", 2),
    Metric::new("kernel µs/conn", 2),
    Metric::new("server CPU %", 0),
    Metric::new("failed connects", 0),
];

const COLS: &[Col] = &[
    Col::Median(0),
    Col::Ratio(0, "tokio-ct"),
    Col::Ratio(0, "mio-floor"),
    Col::Range(0),
    Col::Median(1),
    Col::Ratio(1, "tokio-ct"),
    Col::Median(2),
    Col::Median(3),
    Col::Median(4),
];

/// Measures every server; one table.
pub(crate) fn run(options: &Options) -> Vec<Table> {
    let servers = match servers(options, &DEFAULT_SERVERS) {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("connect_rate: {e}");
            return Vec::new();
        }
    };
    let total = options.size(CONNECTIONS);
    let warmup = options.size(WARMUP);
    let _pin = ClientPin::new();
    let rows = rotate(&servers, reps(options), METRICS.len(), |server| {
        once(server, total, warmup)
    });
    let title = format!(
        "connect_rate: {total} connections, {IN_FLIGHT} in flight: connect, 1 B echo, close"
    );
    vec![Table::new(title, METRICS, COLS, rows).target(Target::AtLeast(0, 1.0, "tokio-ct"))]
}

fn once(spec: &ServerSpec, total: usize, warmup: usize) -> io::Result<Vec<f64>> {
    let server = spec.start(super::serve::BUF)?;
    let mut run = Run::new(server.addr, total)?;
    run.until(warmup)?;
    let cpu0 = server.cpu()?;
    let start = Instant::now();
    run.until(total)?;
    let secs = start.elapsed().as_secs_f64();
    let used: CpuTimes = server.cpu()?.since(cpu0);
    let n = (total - warmup) as f64;
    Ok(vec![
        n / secs,
        used.user.as_secs_f64() * 1e6 / n,
        used.system.as_secs_f64() * 1e6 / n,
        (used.user + used.system).as_secs_f64() / secs * 100.0,
        run.errors as f64,
    ])
}

/// Keeps [`IN_FLIGHT`] connections going, each replaced by a new one as soon as it is done,
/// until `total` have completed.
struct Run {
    addr: SocketAddr,
    poll: Poll,
    slots: Vec<Slot>,
    total: usize,
    in_flight: usize,
    started: usize,
    completed: usize,
    errors: usize,
}

struct Slot {
    stream: Option<TcpStream>,
    /// The byte sent, once the connection is up.
    sent: Option<u8>,
}

impl Run {
    fn new(addr: SocketAddr, total: usize) -> io::Result<Run> {
        let mut run = Run {
            addr,
            poll: Poll::new()?,
            slots: (0..IN_FLIGHT)
                .map(|_| Slot {
                    stream: None,
                    sent: None,
                })
                .collect(),
            total,
            in_flight: 0,
            started: 0,
            completed: 0,
            errors: 0,
        };
        for i in 0..IN_FLIGHT {
            run.refill(i)?;
        }
        Ok(run)
    }

    /// Starts a new connection in the empty slot `i`, if more are wanted.
    fn refill(&mut self, i: usize) -> io::Result<()> {
        while self.completed + self.in_flight < self.total {
            match TcpStream::connect(self.addr) {
                Ok(mut stream) => {
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    self.poll
                        .registry()
                        .register(&mut stream, Token(i), interest)?;
                    self.slots[i] = Slot {
                        stream: Some(stream),
                        sent: None,
                    };
                    self.started += 1;
                    self.in_flight += 1;
                    return Ok(());
                }
                Err(e) => self.failed(e)?,
            }
        }
        Ok(())
    }

    /// Counts a failed connect; an error once there are too many.
    fn failed(&mut self, e: io::Error) -> io::Result<()> {
        self.errors += 1;
        if self.errors > MAX_ERRORS {
            let message = format!("{} failed connects, the last: {e}", self.errors);
            return Err(io::Error::new(e.kind(), message));
        }
        Ok(())
    }

    /// Runs until `target` connections have completed in all.
    fn until(&mut self, target: usize) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        while self.completed < target {
            match self.poll.poll(&mut events, None) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in &events {
                let writable = event.is_writable() || event.is_write_closed();
                let readable = event.is_readable() || event.is_read_closed();
                self.on_event(event.token().0, writable, readable)?;
            }
        }
        Ok(())
    }

    /// Connected: send the byte. Echoed: check it, close, start the next connection.
    ///
    /// A token can carry a stale event for the slot's previous connection; the checks below
    /// make that harmless (not yet connected, nothing to read).
    fn on_event(&mut self, i: usize, writable: bool, readable: bool) -> io::Result<()> {
        let slot = &mut self.slots[i];
        let Some(stream) = slot.stream.as_mut() else {
            return Ok(());
        };
        if writable && slot.sent.is_none() {
            let error = match (stream.take_error(), stream.peer_addr()) {
                (Ok(Some(e)) | Err(e), _) => Some(e),
                (Ok(None), Ok(_)) => None,
                (Ok(None), Err(e)) if e.kind() == ErrorKind::NotConnected => return Ok(()),
                (Ok(None), Err(e)) => Some(e),
            };
            if let Some(e) = error {
                slot.stream = None;
                self.in_flight -= 1;
                self.failed(e)?;
                return self.refill(i);
            }
            let byte = self.started as u8 ^ i as u8;
            stream.write_all(&[byte])?;
            slot.sent = Some(byte);
        }
        if readable && let Some(byte) = slot.sent {
            let mut echo = [0u8; 2];
            match stream.read(&mut echo) {
                Ok(1) if echo[0] == byte => {}
                Ok(_) => return Err(io::Error::other("a 1 B echo came back wrong")),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
            // An abortive close: see the module docs.
            socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO))?;
            slot.stream = None;
            self.in_flight -= 1;
            self.completed += 1;
            return self.refill(i);
        }
        Ok(())
    }
}
