//! The connection pool: aiohttp's `TCPConnector` — keep-alive connections per (scheme, host,
//! port), the `limit` / `limit_per_host` slots with their first-come-first-served wait, idle
//! expiry, and one shared HTTP/2 connection per host.
//!
//! Everything lives on the loop thread, so the state is a `RefCell` behind an `Rc`. Wakers are
//! collected while the state is borrowed and woken after it is released.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use tulip::task::Task;
use tulip::time::{Instant, sleep_until};
use url::Url;

/// The body type of every request the client sends: the whole body is in memory (JSON, a
/// form, raw bytes), which also makes a request replayable on a fresh connection.
pub(crate) type ReqBody = Full<Bytes>;

/// What connections are pooled by: aiohttp's `ConnectionKey` without the proxy parts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Key {
    /// The key of an http(s) URL with a host; `None` otherwise.
    pub(crate) fn from_url(url: &Url) -> Option<Key> {
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        Some(Key {
            https,
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }
}

/// Counters of a session's pool, for tests and monitoring (aiohttp has no public
/// counterpart).
///
/// # Examples
///
/// ```
/// let stats = tulip_http::ClientSession::new().pool_stats();
/// assert_eq!(stats.opened, 0);
/// assert_eq!(stats.idle, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections opened since the session was made.
    pub opened: u64,
    /// Requests sent on a connection that already existed (an idle HTTP/1.1 connection taken
    /// back, or an HTTP/2 connection shared).
    pub reused: u64,
    /// HTTP/1.1 connections waiting idle for their next request.
    pub idle: usize,
    /// Connections counted against `limit`: HTTP/1.1 connections serving a request (from the
    /// connect to the end of the body) and open HTTP/2 connections.
    pub in_use: usize,
    /// Requests waiting for a free connection slot.
    pub waiting: usize,
    /// Open HTTP/2 connections shared by requests.
    pub http2: usize,
}

/// An HTTP/1.1 connection: the handle requests are sent through, and the task driving it.
pub(crate) struct H1Conn {
    pub(crate) sender: http1::SendRequest<ReqBody>,
    pub(crate) task: Option<Task<()>>,
}

struct Idle {
    conn: H1Conn,
    since: Instant,
}

struct H2Entry {
    sender: http2::SendRequest<ReqBody>,
    id: u64,
    /// Requests in flight on it (until their bodies end or are dropped).
    active: Rc<Cell<usize>>,
    idle_since: Rc<Cell<Instant>>,
    task: Option<Task<()>>,
}

/// A request queued for a slot.
struct Waiter {
    key: Key,
    granted: bool,
    closed: bool,
    waker: Option<Waker>,
}

pub(crate) struct State {
    closed: bool,
    limit: usize,
    limit_per_host: usize,
    keepalive: Duration,
    in_use: usize,
    per_host: HashMap<Key, usize>,
    waiters: VecDeque<Rc<RefCell<Waiter>>>,
    idle: HashMap<Key, Vec<Idle>>,
    idle_count: usize,
    h2: HashMap<Key, H2Entry>,
    next_h2_id: u64,
    reaper_running: bool,
    opened: u64,
    reused: u64,
}

/// A session's pool. Cloning shares it.
#[derive(Clone)]
pub(crate) struct Pool {
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The right to hold one connection against `limit` and `limit_per_host`; dropping it gives
/// the slot to the first waiter that can use it.
pub(crate) struct Slot {
    state: Weak<RefCell<State>>,
    key: Key,
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("key", &self.key).finish()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(state) = self.state.upgrade() {
            let wake = state.borrow_mut().release(&self.key);
            wake.into_iter().for_each(Waker::wake);
        }
    }
}

/// A request's use of a shared HTTP/2 connection, from sending to the end of its body.
pub(crate) struct H2Use {
    state: Weak<RefCell<State>>,
    active: Rc<Cell<usize>>,
    idle_since: Rc<Cell<Instant>>,
}

impl Drop for H2Use {
    fn drop(&mut self) {
        let left = self.active.get().saturating_sub(1);
        self.active.set(left);
        if left == 0 {
            self.idle_since.set(Instant::now());
            if let Some(state) = self.state.upgrade() {
                ensure_reaper(&state);
            }
        }
    }
}

/// The pool was closed while waiting.
#[derive(Debug)]
pub(crate) struct PoolClosed;

impl Pool {
    pub(crate) fn new(limit: usize, limit_per_host: usize, keepalive: Duration) -> Pool {
        Pool {
            state: Rc::new(RefCell::new(State {
                closed: false,
                limit,
                limit_per_host,
                keepalive,
                in_use: 0,
                per_host: HashMap::new(),
                waiters: VecDeque::new(),
                idle: HashMap::new(),
                idle_count: 0,
                h2: HashMap::new(),
                next_h2_id: 0,
                reaper_running: false,
                opened: 0,
                reused: 0,
            })),
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let st = self.state.borrow();
        PoolStats {
            opened: st.opened,
            reused: st.reused,
            idle: st.idle_count,
            in_use: st.in_use,
            waiting: st.waiters.len(),
            http2: st.h2.len(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    pub(crate) fn count_opened(&self) {
        self.state.borrow_mut().opened += 1;
    }

    pub(crate) fn count_reused(&self) {
        self.state.borrow_mut().reused += 1;
    }

    /// A slot for a connection to `key`: at once if `limit` and `limit_per_host` allow,
    /// else after every earlier waiter that can be served.
    ///
    /// Cancel safe: a waiter dropped after being granted a slot hands it on.
    pub(crate) async fn acquire(&self, key: &Key) -> Result<Slot, PoolClosed> {
        let waiter = {
            let mut st = self.state.borrow_mut();
            if st.closed {
                return Err(PoolClosed);
            }
            if st.has_room(key) {
                st.take(key);
                return Ok(self.slot(key));
            }
            let waiter = Rc::new(RefCell::new(Waiter {
                key: key.clone(),
                granted: false,
                closed: false,
                waker: None,
            }));
            st.waiters.push_back(waiter.clone());
            waiter
        };
        let mut guard = WaitGuard {
            pool: self,
            waiter,
            done: false,
        };
        poll_fn(|cx| {
            let mut w = guard.waiter.borrow_mut();
            if w.granted {
                drop(w);
                guard.done = true;
                Poll::Ready(Ok(self.slot(key)))
            } else if w.closed {
                drop(w);
                guard.done = true;
                Poll::Ready(Err(PoolClosed))
            } else {
                w.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    fn slot(&self, key: &Key) -> Slot {
        Slot {
            state: Rc::downgrade(&self.state),
            key: key.clone(),
        }
    }

    /// The most recently used idle connection to `key` that is still open and not expired;
    /// the dead and expired ones met on the way are closed.
    pub(crate) fn take_idle(&self, key: &Key) -> Option<H1Conn> {
        let mut dead = Vec::new();
        let found = {
            let mut st = self.state.borrow_mut();
            let keepalive = st.keepalive;
            let now = Instant::now();
            let mut found = None;
            if let Some(list) = st.idle.get_mut(key) {
                while let Some(idle) = list.pop() {
                    if idle.conn.sender.is_closed() || now >= idle.since + keepalive {
                        dead.push(idle);
                    } else {
                        found = Some(idle.conn);
                        break;
                    }
                }
                if list.is_empty() {
                    st.idle.remove(key);
                }
            }
            st.idle_count -= dead.len() + usize::from(found.is_some());
            found
        };
        drop(dead);
        found
    }

    /// Keeps `conn` for the next request to `key`, unless the pool is closed, keep-alive is
    /// off, or the connection is already closed.
    pub(crate) fn put_idle(&self, key: &Key, conn: H1Conn) {
        let rejected = {
            let mut st = self.state.borrow_mut();
            if st.closed || st.keepalive.is_zero() || conn.sender.is_closed() {
                Some(conn)
            } else {
                st.idle.entry(key.clone()).or_default().push(Idle {
                    conn,
                    since: Instant::now(),
                });
                st.idle_count += 1;
                None
            }
        };
        match rejected {
            Some(conn) => drop(conn),
            None => ensure_reaper(&self.state),
        }
    }

    /// Closes idle connections to other hosts, oldest first, while the open connections would
    /// otherwise pass `limit`: `limit` bounds what is open, not only what is busy.
    pub(crate) fn make_room_for_new(&self) {
        let evicted = {
            let mut st = self.state.borrow_mut();
            let mut evicted = Vec::new();
            while st.limit != 0 && st.in_use + st.idle_count > st.limit {
                let oldest = st
                    .idle
                    .iter()
                    .filter_map(|(k, list)| list.first().map(|i| (k.clone(), i.since)))
                    .min_by_key(|(_, since)| *since);
                let Some((key, _)) = oldest else { break };
                if let Some(list) = st.idle.get_mut(&key) {
                    evicted.push(list.remove(0));
                    if list.is_empty() {
                        st.idle.remove(&key);
                    }
                }
                st.idle_count -= 1;
            }
            evicted
        };
        drop(evicted);
    }

    /// The open HTTP/2 connection to `key`, if any, marked as used by one more request.
    pub(crate) fn h2_get(&self, key: &Key) -> Option<(http2::SendRequest<ReqBody>, H2Use)> {
        let mut st = self.state.borrow_mut();
        let entry = st.h2.get(key)?;
        if entry.sender.is_closed() || !entry.sender.is_ready() {
            return None;
        }
        let sender = entry.sender.clone();
        entry.active.set(entry.active.get() + 1);
        let used = H2Use {
            state: Rc::downgrade(&self.state),
            active: entry.active.clone(),
            idle_since: entry.idle_since.clone(),
        };
        st.reused += 1;
        Some((sender, used))
    }

    /// Shares a new HTTP/2 connection for `key` and marks it used by the request that made
    /// it. Returns its id, for [`h2_remove`](Self::h2_remove). When another one is already
    /// shared, this one serves its request alone (and closes after it): `None` id.
    pub(crate) fn h2_insert(
        &self,
        key: &Key,
        sender: &http2::SendRequest<ReqBody>,
    ) -> (Option<u64>, H2Use) {
        let mut st = self.state.borrow_mut();
        let active = Rc::new(Cell::new(1));
        let idle_since = Rc::new(Cell::new(Instant::now()));
        let used = H2Use {
            state: Rc::downgrade(&self.state),
            active: active.clone(),
            idle_since: idle_since.clone(),
        };
        let taken = st.h2.get(key).is_some_and(|e| !e.sender.is_closed());
        if st.closed || taken {
            return (None, used);
        }
        let id = st.next_h2_id;
        st.next_h2_id += 1;
        st.h2.insert(
            key.clone(),
            H2Entry {
                sender: sender.clone(),
                id,
                active,
                idle_since,
                task: None,
            },
        );
        (Some(id), used)
    }

    /// Records the task driving the shared HTTP/2 connection `id`.
    pub(crate) fn h2_set_task(&self, key: &Key, id: u64, task: Task<()>) {
        let mut st = self.state.borrow_mut();
        match st.h2.get_mut(key) {
            Some(entry) if entry.id == id => entry.task = Some(task),
            _ => task.detach(),
        }
    }

    /// Forgets the shared HTTP/2 connection `id` (it closed).
    pub(crate) fn h2_remove(state: &Weak<RefCell<State>>, key: &Key, id: u64) {
        let Some(state) = state.upgrade() else { return };
        let removed = {
            let mut st = state.borrow_mut();
            match st.h2.get(key) {
                Some(entry) if entry.id == id => st.h2.remove(key),
                _ => None,
            }
        };
        drop(removed);
    }

    pub(crate) fn weak(&self) -> Weak<RefCell<State>> {
        Rc::downgrade(&self.state)
    }

    /// Closes the pool: idle connections are closed (and awaited), waiters fail, and every
    /// later `acquire` fails.
    pub(crate) async fn close(&self) {
        let (idle, h2, wake) = {
            let mut st = self.state.borrow_mut();
            st.closed = true;
            st.idle_count = 0;
            let idle: Vec<Idle> = st.idle.drain().flat_map(|(_, list)| list).collect();
            let h2: Vec<H2Entry> = st.h2.drain().map(|(_, e)| e).collect();
            let wake: Vec<Waker> = st
                .waiters
                .drain(..)
                .filter_map(|w| {
                    let mut w = w.borrow_mut();
                    w.closed = true;
                    w.waker.take()
                })
                .collect();
            (idle, h2, wake)
        };
        wake.into_iter().for_each(Waker::wake);
        let mut tasks = Vec::new();
        for Idle { conn, .. } in idle {
            drop(conn.sender);
            tasks.extend(conn.task);
        }
        for entry in h2 {
            // One with requests in flight finishes them first; it is not waited for.
            let idle = entry.active.get() == 0;
            drop(entry.sender);
            if idle {
                tasks.extend(entry.task);
            }
        }
        for task in tasks {
            // The connection's own error (if any) is of no interest once it is closed.
            let _ = task.await;
        }
    }
}

/// Drops the pool's claim on a waiter: a slot granted but not taken is handed on; a waiter
/// still queued leaves the queue.
struct WaitGuard<'a> {
    pool: &'a Pool,
    waiter: Rc<RefCell<Waiter>>,
    done: bool,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let wake = {
            let mut st = self.pool.state.borrow_mut();
            let w = self.waiter.borrow();
            if w.granted {
                st.release(&w.key)
            } else {
                st.waiters.retain(|q| !Rc::ptr_eq(q, &self.waiter));
                Vec::new()
            }
        };
        wake.into_iter().for_each(Waker::wake);
    }
}

impl State {
    fn has_room(&self, key: &Key) -> bool {
        let total_ok = self.limit == 0 || self.in_use < self.limit;
        let host_ok = self.limit_per_host == 0
            || self.per_host.get(key).copied().unwrap_or(0) < self.limit_per_host;
        total_ok && host_ok
    }

    fn take(&mut self, key: &Key) {
        self.in_use += 1;
        *self.per_host.entry(key.clone()).or_default() += 1;
    }

    /// Gives back a slot of `key` and grants slots to the waiters that can now be served, in
    /// arrival order (one blocked only by its own host's limit does not hold up the others).
    /// Returns the wakers to wake once the state is no longer borrowed.
    fn release(&mut self, key: &Key) -> Vec<Waker> {
        self.in_use = self.in_use.saturating_sub(1);
        if let Some(n) = self.per_host.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_host.remove(key);
            }
        }
        let mut wake = Vec::new();
        let mut i = 0;
        while i < self.waiters.len() {
            if self.limit != 0 && self.in_use >= self.limit {
                break;
            }
            let key = self.waiters[i].borrow().key.clone();
            if self.has_room(&key) {
                self.take(&key);
                if let Some(w) = self.waiters.remove(i) {
                    let mut w = w.borrow_mut();
                    w.granted = true;
                    wake.extend(w.waker.take());
                }
            } else {
                i += 1;
            }
        }
        wake
    }

    /// When the next idle connection expires.
    fn next_expiry(&self) -> Option<Instant> {
        let h1 = self
            .idle
            .values()
            .flat_map(|list| list.iter().map(|i| i.since));
        let h2 = self
            .h2
            .values()
            .filter(|e| e.active.get() == 0)
            .map(|e| e.idle_since.get());
        h1.chain(h2).min().map(|since| since + self.keepalive)
    }

    /// Takes out the idle connections that expired (or closed) by `now`.
    fn expire(&mut self, now: Instant) -> (Vec<Idle>, Vec<H2Entry>) {
        let keepalive = self.keepalive;
        let mut gone = Vec::new();
        for list in self.idle.values_mut() {
            let (old, keep): (Vec<Idle>, Vec<Idle>) = list
                .drain(..)
                .partition(|i| now >= i.since + keepalive || i.conn.sender.is_closed());
            *list = keep;
            gone.extend(old);
        }
        self.idle.retain(|_, list| !list.is_empty());
        self.idle_count -= gone.len();
        let expired: Vec<Key> = self
            .h2
            .iter()
            .filter(|(_, e)| {
                e.sender.is_closed()
                    || (e.active.get() == 0 && now >= e.idle_since.get() + keepalive)
            })
            .map(|(k, _)| k.clone())
            .collect();
        let h2 = expired.iter().filter_map(|k| self.h2.remove(k)).collect();
        (gone, h2)
    }
}

/// Starts the task that closes idle connections when they expire, unless it runs already. It
/// holds the pool weakly and ends when nothing is idle.
fn ensure_reaper(state: &Rc<RefCell<State>>) {
    {
        let mut st = state.borrow_mut();
        if st.reaper_running || st.closed {
            return;
        }
        st.reaper_running = true;
    }
    let weak = Rc::downgrade(state);
    let reaper = async move {
        // Cancelled with its loop, the reaper must let a later idle connection start another.
        let _running = ReaperRunning(weak.clone());
        loop {
            let next = {
                let Some(state) = weak.upgrade() else { return };
                let (gone, h2) = state.borrow_mut().expire(Instant::now());
                drop((gone, h2));
                let st = state.borrow();
                match st.next_expiry() {
                    Some(at) if !st.closed => at,
                    _ => return,
                }
            };
            sleep_until(next).await;
        }
    };
    tulip::task::Builder::new()
        .name("tulip-http pool reaper")
        .spawn(reaper)
        .detach();
}

/// Clears the pool's "reaper running" flag when the reaper ends, however it ends.
struct ReaperRunning(Weak<RefCell<State>>);

impl Drop for ReaperRunning {
    fn drop(&mut self) {
        if let Some(state) = self.0.upgrade() {
            if let Ok(mut st) = state.try_borrow_mut() {
                st.reaper_running = false;
            }
        }
    }
}
