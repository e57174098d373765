//! Seed `002_…`, stage 2 (§3.4–3.5): non-blocking sockets, a selector (epoll, through
//! `mio::Poll` — Python's `selectors.DefaultSelector`), callbacks, and a hand-written event
//! loop. All ten pages download at once on one thread: `fetch` only starts a connection and
//! registers "call `connected` when writable"; `connected` sends the request and registers
//! "call `read_response` when readable"; the loop waits for events and runs the callbacks.
//!
//! It works, and it shows what the seed calls callback hell in miniature: the crawler's state
//! lives in a shared, mutable object that every callback must be handed, the flow of one
//! download is split across three functions, and the `stopped` flag and `urls_todo` set are
//! global state the callbacks update. `crawler_coroutines` writes the same thing as plain
//! sequential code on tulip.
//!
//! ```text
//! $ cargo run -p tulip-rt --example crawler_callbacks
//! /   HTTP/1.0 200 OK, 85 bytes of body
//! ...
//! fetched 10 pages with callbacks on one thread
//! ```
//!
//! `--timing` also prints how long it took (about one site latency, not ten).

mod local_site;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// What a registration calls back when its socket is ready: Python's `key.data`.
type Callback = Box<dyn FnOnce(&mut Selector)>;

/// The selector with its callbacks: `selector.register(fd, events, data)`.
struct Selector {
    poll: Poll,
    callbacks: HashMap<Token, Callback>,
}

impl Selector {
    /// Registers `sock` for `interest` (first time) or changes its interest, with `callback`
    /// to run on the next event.
    fn register(
        &mut self,
        sock: &mut TcpStream,
        token: Token,
        interest: Interest,
        first: bool,
        callback: Callback,
    ) -> io::Result<()> {
        if first {
            self.poll.registry().register(sock, token, interest)?;
        } else {
            self.poll.registry().reregister(sock, token, interest)?;
        }
        self.callbacks.insert(token, callback);
        Ok(())
    }

    fn unregister(&mut self, sock: &mut TcpStream) -> io::Result<()> {
        self.poll.registry().deregister(sock)
    }
}

/// The globals of the seed's program: what is left to fetch, what was fetched, and the flag
/// that stops the loop.
#[derive(Default)]
struct Progress {
    urls_todo: BTreeSet<String>,
    responses: BTreeMap<String, Vec<u8>>,
    stopped: bool,
}

/// The seed's `Crawler` class: one download, its state kept between callbacks.
struct Crawler {
    url: String,
    token: Token,
    sock: Option<TcpStream>,
    response: Vec<u8>,
    progress: Rc<RefCell<Progress>>,
}

type Shared = Rc<RefCell<Crawler>>;

/// Starts connecting without waiting and asks to be called back when the socket is
/// writable (connected).
fn fetch(crawler: &Shared, addr: SocketAddr, selector: &mut Selector) -> io::Result<()> {
    let mut sock = TcpStream::connect(addr)?; // non-blocking: returns at once
    let token = crawler.borrow().token;
    let me = crawler.clone();
    selector.register(
        &mut sock,
        token,
        Interest::WRITABLE,
        true,
        Box::new(move |selector| connected(&me, selector)),
    )?;
    crawler.borrow_mut().sock = Some(sock);
    Ok(())
}

/// Writable: the connection is up. Send the request, ask to be called when readable.
fn connected(crawler: &Shared, selector: &mut Selector) {
    let mut this = crawler.borrow_mut();
    let this = &mut *this;
    let Some(sock) = this.sock.as_mut() else {
        return;
    };
    if let Ok(Some(err)) | Err(err) = sock.take_error() {
        println!("{}: connection failed: {err}", this.url);
        return;
    }
    let request = format!("GET {} HTTP/1.0\r\nHost: example.com\r\n\r\n", this.url);
    // A fresh socket's buffer takes a small request whole.
    if let Err(err) = sock.write_all(request.as_bytes()) {
        println!("{}: send failed: {err}", this.url);
        return;
    }
    let me = crawler.clone();
    let registered = selector.register(
        sock,
        this.token,
        Interest::READABLE,
        false,
        Box::new(move |selector| read_response(&me, selector)),
    );
    if let Err(err) = registered {
        println!("{}: register failed: {err}", this.url);
    }
}

/// Readable: take what arrived. mio is edge-triggered (Python's selectors are level-triggered),
/// so read until the socket would block, then wait for the next event.
fn read_response(crawler: &Shared, selector: &mut Selector) {
    let mut this = crawler.borrow_mut();
    let this = &mut *this;
    let Some(sock) = this.sock.as_mut() else {
        return;
    };
    let mut chunk = [0u8; 4096];
    loop {
        match sock.read(&mut chunk) {
            Ok(0) => break, // the server closed: the response is complete
            Ok(n) => this.response.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let me = crawler.clone();
                let callback: Callback = Box::new(move |selector| read_response(&me, selector));
                selector.callbacks.insert(this.token, callback);
                return;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                println!("{}: recv failed: {err}", this.url);
                break;
            }
        }
    }
    let _ = selector.unregister(sock);
    this.sock = None;
    let mut progress = this.progress.borrow_mut();
    progress.urls_todo.remove(&this.url);
    progress
        .responses
        .insert(this.url.clone(), std::mem::take(&mut this.response));
    if progress.urls_todo.is_empty() {
        progress.stopped = true;
    }
}

/// The seed's `loop()`: wait for events, run their callbacks, until `stopped`.
fn event_loop(selector: &mut Selector, progress: &Rc<RefCell<Progress>>) -> io::Result<()> {
    let mut events = Events::with_capacity(64);
    while !progress.borrow().stopped {
        selector.poll.poll(&mut events, None)?;
        for event in &events {
            if let Some(callback) = selector.callbacks.remove(&event.token()) {
                callback(selector);
            }
        }
    }
    Ok(())
}

fn program() -> io::Result<()> {
    let addr = local_site::start();
    let start = Instant::now();
    let progress = Rc::new(RefCell::new(Progress {
        urls_todo: local_site::paths().into_iter().collect(),
        ..Progress::default()
    }));
    let mut selector = Selector {
        poll: Poll::new()?,
        callbacks: HashMap::new(),
    };
    let urls: Vec<String> = progress.borrow().urls_todo.iter().cloned().collect();
    for (i, url) in urls.into_iter().enumerate() {
        let crawler = Rc::new(RefCell::new(Crawler {
            url,
            token: Token(i),
            sock: None,
            response: Vec::new(),
            progress: progress.clone(),
        }));
        fetch(&crawler, addr, &mut selector)?;
    }
    event_loop(&mut selector, &progress)?;

    // The downloads finished in whatever order the site answered; print them in page order.
    let progress = progress.borrow();
    for path in local_site::paths() {
        match progress.responses.get(&path) {
            Some(response) => println!("{}", local_site::summary(&path, response)),
            None => println!("{path:<3} <not fetched>"),
        }
    }
    println!(
        "fetched {} pages with callbacks on one thread",
        progress.responses.len()
    );
    if std::env::args().any(|arg| arg == "--timing") {
        println!("took {:.2} s", start.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The program; the tour runs it too. A failure is reported and ends the process with status 1.
pub(crate) fn run() {
    if let Err(err) = program() {
        eprintln!("crawler_callbacks: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
