//! `waker-floor`: the echo server on the least executor Rust's `Future`/`Waker` contract
//! allows, to measure what that contract costs by itself.
//!
//! `mio-floor` is a loop with no futures at all. Every Rust async runtime — tulip, tokio, smol
//! — runs each connection as a task: a readiness event wakes a waker, the task goes on a ready
//! queue, the executor polls its future, and the future stores its waker again when a socket
//! would block. This server does exactly that and nothing more: no cancellation, no task
//! registry, no timers, no panic isolation, no join handles, no cross-thread wakes (a waker
//! woken on another thread would queue on that thread), readiness not cached (every read and
//! write tries the system call). It is a measuring stick, not a runtime: the gap between it
//! and `mio-floor` is the part of a runtime's cost that no implementation of the contract can
//! remove.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Registry, Token};

use super::serve::{accept_failed, announce};

type Task = Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    /// Task ids woken and not yet polled, oldest first.
    static READY: RefCell<VecDeque<usize>> = const { RefCell::new(VecDeque::new()) };
}

/// A task's waker: its id, and whether it already sits in [`READY`].
struct TaskWaker {
    id: usize,
    queued: AtomicBool,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::Relaxed) {
            READY.with(|ready| ready.borrow_mut().push_back(self.id));
        }
    }
}

/// A live task: its future, its waker, and the waker's flag to reset before each poll.
struct Entry {
    future: Task,
    waker: Waker,
    handle: Arc<TaskWaker>,
}

/// The wakers of the tasks parked on one socket, one per direction. Kept across wakes: the
/// same task parks again and again, and `will_wake` spares it a clone.
#[derive(Default)]
struct IoSlot {
    read: Cell<Option<Waker>>,
    write: Cell<Option<Waker>>,
}

impl IoSlot {
    fn park(cell: &Cell<Option<Waker>>, waker: &Waker) {
        match cell.take() {
            Some(kept) if kept.will_wake(waker) => cell.set(Some(kept)),
            _ => cell.set(Some(waker.clone())),
        }
    }

    fn wake(cell: &Cell<Option<Waker>>) {
        if let Some(waker) = cell.take() {
            waker.wake_by_ref();
            cell.set(Some(waker));
        }
    }
}

/// The executor and reactor: tasks and sockets by index.
struct Exec {
    registry: Registry,
    tasks: RefCell<Vec<Option<Entry>>>,
    free_tasks: RefCell<Vec<usize>>,
    slots: RefCell<Vec<Option<Rc<IoSlot>>>>,
    free_slots: RefCell<Vec<usize>>,
}

impl Exec {
    fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        let mut tasks = self.tasks.borrow_mut();
        let id = self.free_tasks.borrow_mut().pop().unwrap_or_else(|| {
            tasks.push(None);
            tasks.len() - 1
        });
        let handle = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(true),
        });
        tasks[id] = Some(Entry {
            future: Box::pin(future),
            waker: Waker::from(handle.clone()),
            handle,
        });
        READY.with(|ready| ready.borrow_mut().push_back(id));
    }

    fn register(&self, source: &mut impl mio::event::Source) -> io::Result<(Token, Rc<IoSlot>)> {
        let mut slots = self.slots.borrow_mut();
        let i = self.free_slots.borrow_mut().pop().unwrap_or_else(|| {
            slots.push(None);
            slots.len() - 1
        });
        let slot = Rc::new(IoSlot::default());
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.registry.register(source, Token(i), interest)?;
        slots[i] = Some(slot.clone());
        Ok((Token(i), slot))
    }

    fn deregister(&self, source: &mut impl mio::event::Source, token: Token) {
        let _ = self.registry.deregister(source);
        self.slots.borrow_mut()[token.0] = None;
        self.free_slots.borrow_mut().push(token.0);
    }

    /// Polls every ready task once (tasks woken meanwhile included).
    fn run_ready(&self) {
        while let Some(id) = READY.with(|ready| ready.borrow_mut().pop_front()) {
            let Some(mut entry) = self.tasks.borrow_mut()[id].take() else {
                continue;
            };
            entry.handle.queued.store(false, Ordering::Relaxed);
            let mut cx = Context::from_waker(&entry.waker);
            if entry.future.as_mut().poll(&mut cx).is_pending() {
                self.tasks.borrow_mut()[id] = Some(entry);
            } else {
                self.free_tasks.borrow_mut().push(id);
            }
        }
    }

    /// Wakes the tasks parked on the sockets `events` name.
    fn dispatch(&self, events: &Events) {
        let slots = self.slots.borrow();
        for event in events {
            let Some(Some(slot)) = slots.get(event.token().0) else {
                continue;
            };
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                IoSlot::wake(&slot.read);
            }
            if event.is_writable() || event.is_write_closed() || event.is_error() {
                IoSlot::wake(&slot.write);
            }
        }
    }
}

/// Runs `op` until it does not return `WouldBlock`, parking on `cell` in between: edge
/// triggered, so an edge after the `WouldBlock` is what wakes us.
async fn io<R>(cell: &Cell<Option<Waker>>, mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    poll_fn(|cx| match op() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            IoSlot::park(cell, cx.waker());
            Poll::Pending
        }
        result => Poll::Ready(result),
    })
    .await
}

async fn connection(
    exec: Rc<Exec>,
    mut stream: TcpStream,
    token: Token,
    slot: Rc<IoSlot>,
    buf: usize,
) {
    let mut buf = vec![0; buf];
    'echo: loop {
        let n = match io(&slot.read, || (&stream).read(&mut buf)).await {
            Ok(n @ 1..) => n,
            _ => break,
        };
        let mut written = 0;
        while written < n {
            match io(&slot.write, || (&stream).write(&buf[written..n])).await {
                Ok(k) => written += k,
                Err(_) => break 'echo,
            }
        }
    }
    exec.deregister(&mut stream, token);
}

async fn accept_loop(exec: Rc<Exec>, listener: TcpListener, slot: Rc<IoSlot>, buf: usize) {
    loop {
        match io(&slot.read, || listener.accept()).await {
            Ok((mut stream, _)) => {
                if stream.set_nodelay(true).is_err() {
                    continue;
                }
                match exec.register(&mut stream) {
                    Ok((token, slot)) => {
                        exec.spawn(connection(exec.clone(), stream, token, slot, buf))
                    }
                    Err(e) => accept_failed(&e),
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => accept_failed(&e),
        }
    }
}

/// Serves echo on `addr` until killed.
pub(crate) fn serve(addr: SocketAddr, buf: usize) -> io::Result<()> {
    let mut poll = mio::Poll::new()?;
    let exec = Rc::new(Exec {
        registry: poll.registry().try_clone()?,
        tasks: RefCell::default(),
        free_tasks: RefCell::default(),
        slots: RefCell::default(),
        free_slots: RefCell::default(),
    });
    let mut listener = TcpListener::bind(addr)?;
    let (_, slot) = exec.register(&mut listener)?;
    announce(listener.local_addr()?)?;
    exec.spawn(accept_loop(exec.clone(), listener, slot, buf));
    let mut events = Events::with_capacity(1024);
    loop {
        exec.run_ready();
        match poll.poll(&mut events, None) {
            Ok(()) => exec.dispatch(&events),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
