//! `tulip-bench --serve KIND [--addr ADDR] [--cpu N] [--buf BYTES]`: the echo servers the network scenarios
//! start as child processes, one per run. Each writes back whatever it reads, prints
//! `LISTENING <addr>` once it accepts connections, and serves until it is killed.
//!
//! Every server reads into one buffer of `--buf` bytes per connection (default [`BUF`]; the
//! streams server passes it to `read(n)`), sets `TCP_NODELAY` on
//! the connections it accepts (as asyncio and uvloop do), and binds with its own runtime's
//! listener, so each gets that runtime's backlog.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::proc::{READY, pin_current_thread, raise_nofile};

/// Bytes each connection reads at most at once, unless `--buf` says otherwise: a whole 64 KiB
/// message fits.
pub(crate) const BUF: usize = 64 * 1024;

/// The servers built into this binary: `(key, row label)`.
pub(crate) const KINDS: [(&str, &str); 7] = [
    ("mio-floor", "mio echo loop (floor)"),
    ("waker-floor", "least Future/Waker executor"),
    ("tokio-ct", "tokio current_thread"),
    ("tokio-mt", "tokio multi_thread (2)"),
    ("tulip-raw", "tulip TcpStream + futures-io"),
    ("tulip-streams", "tulip streams, read(n)"),
    ("tulip-streams-buf", "tulip streams, fill_buf"),
];

/// Runs the server the arguments name; returns only when it fails.
pub(crate) fn main(args: &[String]) -> ExitCode {
    match parse(args).and_then(|(kind, addr, buf)| serve(&kind, addr, buf)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tulip-bench --serve: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The server kind, address and buffer size from the arguments; pins to the CPU at once, so
/// that threads the runtime starts later inherit it.
fn parse(args: &[String]) -> io::Result<(String, SocketAddr, usize)> {
    let bad = |what: String| io::Error::new(ErrorKind::InvalidInput, what);
    let mut args = args.iter();
    let kind = args
        .next()
        .ok_or_else(|| bad("--serve takes a server kind".into()))?;
    let mut addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut buf = BUF;
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
            "--buf" => {
                let n = value.parse().ok().filter(|&n| n > 0);
                buf = n.ok_or_else(|| bad(format!("bad buffer size `{value}`")))?;
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
    Ok((kind.clone(), addr, buf))
}

fn serve(kind: &str, addr: SocketAddr, buf: usize) -> io::Result<()> {
    match kind {
        "mio-floor" => mio_floor(addr, buf),
        "waker-floor" => super::waker_floor::serve(addr, buf),
        "tokio-ct" => tokio_server(tokio::runtime::Builder::new_current_thread(), addr, buf),
        "tokio-mt" => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            tokio_server(builder, addr, buf)
        }
        "tulip-raw" => tulip::Runtime::new()?.block_on(tulip_raw(addr, buf)),
        "tulip-streams" => tulip::Runtime::new()?.block_on(tulip_streams(addr, buf)),
        "tulip-streams-buf" => tulip::Runtime::new()?.block_on(tulip_streams_buf(addr)),
        other => Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!("unknown server kind `{other}`"),
        )),
    }
}

/// Tells the parent where to connect.
pub(crate) fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{READY} {addr}")?;
    out.flush()
}

/// Accept failures (out of descriptors, a connection reset before it was accepted) are
/// reported and survived.
pub(crate) fn accept_failed(e: &io::Error) {
    eprintln!("echo server: accept failed: {e}");
}

// ---------------------------------------------------------------------------------------------
// The floor: mio and nothing else.

const LISTENER: Token = Token(usize::MAX);

/// One connection of the bare loop: the bytes read but not yet written back are
/// `buf[start..end]`.
struct Conn {
    stream: TcpStream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

/// Reads one connection may do per turn of the loop before the others get theirs.
const BUDGET: u32 = 32;

/// Where [`Conn::drive`] stopped.
enum Driven {
    /// The socket would block: the next edge brings it back.
    Blocked,
    /// Out of budget with more to do: no edge will come, so it must be driven again.
    Yielded,
    /// End of stream or an error: close it.
    Closed,
}

impl Conn {
    /// Echoes until the socket would block, at most [`BUDGET`] reads.
    ///
    /// Registered once for both directions, edge-triggered: every event just runs this, which
    /// writes out what is pending before reading more, so a peer that does not read stops us
    /// reading (the buffer is the flow control). The budget keeps one busy connection from
    /// starving the rest: a peer that answers faster than the loop turns (a server slowed down
    /// by `strace`) would otherwise never let it return to `epoll_wait`.
    fn drive(&mut self) -> Driven {
        let mut budget = BUDGET;
        loop {
            // `Ok(false)`: the peer closed its side.
            let result = if self.start < self.end {
                let pending = &self.buf[self.start..self.end];
                self.stream.write(pending).map(|n| {
                    self.start += n;
                    true
                })
            } else if budget == 0 {
                return Driven::Yielded;
            } else {
                budget -= 1;
                self.stream.read(&mut self.buf).map(|n| {
                    (self.start, self.end) = (0, n);
                    n > 0
                })
            };
            match result {
                Ok(true) => {}
                Ok(false) => return Driven::Closed,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Driven::Blocked,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Driven::Closed,
            }
        }
    }
}

fn mio_floor(addr: SocketAddr, buf: usize) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    announce(listener.local_addr()?)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // Connections that used up their budget, driven again next turn, and this turn's.
    let (mut again, mut now) = (Vec::new(), Vec::new());
    loop {
        let timeout = (!again.is_empty()).then_some(Duration::ZERO);
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        std::mem::swap(&mut again, &mut now);
        let ready = events
            .iter()
            .map(|event| event.token())
            .chain(now.drain(..).map(Token));
        for token in ready {
            if token == LISTENER {
                accept_all(&listener, &poll, &mut conns, &mut free, buf)?;
                continue;
            }
            let i = token.0;
            match conns[i].as_mut().map(Conn::drive) {
                Some(Driven::Yielded) => again.push(i),
                Some(Driven::Closed) => {
                    if let Some(mut conn) = conns[i].take() {
                        poll.registry().deregister(&mut conn.stream)?;
                        free.push(i);
                    }
                }
                Some(Driven::Blocked) | None => {}
            }
        }
    }
}

fn accept_all(
    listener: &TcpListener,
    poll: &Poll,
    conns: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
    buf: usize,
) -> io::Result<()> {
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                accept_failed(&e);
                return Ok(());
            }
        };
        stream.set_nodelay(true)?;
        let i = free.pop().unwrap_or_else(|| {
            conns.push(None);
            conns.len() - 1
        });
        let interest = Interest::READABLE | Interest::WRITABLE;
        poll.registry().register(&mut stream, Token(i), interest)?;
        conns[i] = Some(Conn {
            stream,
            buf: vec![0; buf].into_boxed_slice(),
            start: 0,
            end: 0,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// tokio: the loop every tokio echo example has.

fn tokio_server(
    mut builder: tokio::runtime::Builder,
    addr: SocketAddr,
    buf: usize,
) -> io::Result<()> {
    builder.enable_all().build()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        announce(listener.local_addr()?)?;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(tokio_conn(stream, buf));
                }
                Err(e) => {
                    accept_failed(&e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

async fn tokio_conn(mut stream: tokio::net::TcpStream, buf: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let mut buf = vec![0; buf];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tulip

async fn tulip_raw(addr: SocketAddr, buf: usize) -> io::Result<()> {
    let listener = tulip::net::TcpListener::bind(addr).await?;
    announce(listener.local_addr()?)?;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => tulip::spawn(tulip_conn(stream, buf)).detach(),
            Err(e) => {
                accept_failed(&e);
                tulip::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn tulip_conn(mut stream: tulip::net::TcpStream, buf: usize) {
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    if stream.set_nodelay(true).is_err() {
        return;
    }
    let mut buf = vec![0; buf];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// asyncio's streams echo: `data = await reader.read(n)`, `writer.write(data)`,
/// `await writer.drain()`. `start_server` sets `TCP_NODELAY` itself.
async fn tulip_streams(addr: SocketAddr, buf: usize) -> io::Result<()> {
    let server = tulip::net::start_server(
        move |mut reader, mut writer| async move {
            while let Ok(data) = reader.read(buf).await {
                if data.is_empty() {
                    return;
                }
                writer.write(&data);
                if writer.drain().await.is_err() {
                    return;
                }
            }
        },
        addr,
    )
    .await?;
    announce_server(&server)?;
    server.serve_forever().await;
    Ok(())
}

/// The streams echo without a copy: `StreamReader::fill_buf` lends the reader's buffer,
/// `write` sends straight from it, then `consume` and `drain`.
async fn tulip_streams_buf(addr: SocketAddr) -> io::Result<()> {
    let server = tulip::net::start_server(
        |mut reader, mut writer| async move {
            while let Ok(data @ [_, ..]) = reader.fill_buf().await {
                let n = data.len();
                writer.write(data);
                reader.consume(n);
                if writer.drain().await.is_err() {
                    return;
                }
            }
        },
        addr,
    )
    .await?;
    announce_server(&server)?;
    server.serve_forever().await;
    Ok(())
}

/// [`announce`]s the first address `server` listens on.
fn announce_server(server: &tulip::net::Server) -> io::Result<()> {
    let local = server.local_addrs().first().copied();
    announce(local.ok_or_else(|| io::Error::other("start_server bound no address"))?)
}
