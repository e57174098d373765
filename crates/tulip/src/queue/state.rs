//! The state one queue's handles share, and the rules that keep it fair and lossless.
//!
//! Three rules make waiters fair and cancellation safe:
//!
//! - A `put` that finds a `get` waiting hands the item straight to the first such getter:
//!   the item is *handed* (still counted by `qsize`, and against `maxsize`, as asyncio counts
//!   an item until the woken getter takes it) and nobody else can take it. A getter dropped
//!   before it collects its item passes it to the next getter, or back to the front of the
//!   queue.
//! - A `get` that frees a slot while a `put` waits *grants* the slot to the first such putter:
//!   the slot is *reserved* for it, so a `put_nowait` arriving meanwhile cannot jump the line.
//!   The putter inserts its own item when it runs; dropped before that, it passes the grant on
//!   and its item is dropped with it, never inserted.
//! - So waiting getters exist only while no item is free, and waiting putters only while there
//!   is no free slot: whoever waits is served before anyone who comes later.
//!
//! Checking it: all of this is a state machine behind one `std::sync::Mutex`, with no atomics
//! of its own, so there is nothing for loom to explore beyond what the mutex already
//! guarantees; the interleavings that can go wrong are between tasks (who is served, who is
//! dropped when). Those are what `tests/queue_proptest.rs` generates on the test clock, against
//! a model, and `tests/queue_threads.rs` runs the same code across two loops on two threads.

use std::task::Waker;

use super::error::{TaskDoneError, TryGetError, TryPutError};
use super::order::sealed::Store;
use crate::sync::waiters::WaitList;

pub(super) struct Getter<T> {
    pub(super) waker: Option<Waker>,
    /// The item a `put` handed over. A getter served without one was woken by `shutdown`.
    pub(super) item: Option<T>,
}

pub(super) struct Putter {
    pub(super) waker: Option<Waker>,
    /// A slot is reserved for this putter. A putter served without one was woken by
    /// `shutdown`.
    pub(super) granted: bool,
}

pub(super) struct State<T, S> {
    pub(super) store: S,
    /// 0 for unbounded, as in asyncio.
    pub(super) maxsize: usize,
    /// Items handed to getters that have not collected them yet.
    pub(super) handed: usize,
    /// Slots granted to putters that have not filled them yet.
    pub(super) reserved: usize,
    /// Items put and not yet marked done with `task_done`.
    pub(super) unfinished: usize,
    pub(super) shutdown: bool,
    pub(super) getters: WaitList<Getter<T>>,
    pub(super) putters: WaitList<Putter>,
    /// `join` callers; a joiner served (unlinked) has seen the count reach zero.
    pub(super) joiners: WaitList<Option<Waker>>,
}

impl<T, S: Store<T>> State<T, S> {
    pub(super) fn new(maxsize: usize) -> State<T, S> {
        State {
            // A bounded queue never holds more than `maxsize`; cap the up-front allocation
            // so that a huge bound does not reserve memory it may never use.
            store: S::with_capacity(maxsize.min(1024)),
            maxsize,
            handed: 0,
            reserved: 0,
            unfinished: 0,
            shutdown: false,
            getters: WaitList::new(),
            putters: WaitList::new(),
            joiners: WaitList::new(),
        }
    }

    /// Items in the queue, counting those handed to a getter that has not run yet.
    pub(super) fn qsize(&self) -> usize {
        self.store.len() + self.handed
    }

    /// A new item fits without taking a slot promised to a waiting putter.
    fn has_room(&self) -> bool {
        self.maxsize == 0 || self.qsize() + self.reserved < self.maxsize
    }

    /// `put_nowait` would be refused for want of room.
    pub(super) fn is_full(&self) -> bool {
        !self.has_room() || self.putters.has_waiters()
    }

    /// Adds an item that is allowed in; returns the getter to wake, if it went to one.
    pub(super) fn insert(&mut self, item: T) -> Option<Waker> {
        self.unfinished += 1;
        self.deliver(item)
    }

    /// Gives `item` to the first waiting getter, or stores it.
    fn deliver(&mut self, item: T) -> Option<Waker> {
        match self.getters.pop_front() {
            Some(getter) => {
                getter.item = Some(item);
                self.handed += 1;
                getter.waker.take()
            }
            None => {
                self.store.push(item);
                None
            }
        }
    }

    /// An item a dropped getter had been handed: to the next getter, or back to the front.
    pub(super) fn return_handed(&mut self, item: T) -> Option<Waker> {
        self.handed -= 1;
        match self.getters.pop_front() {
            Some(getter) => {
                getter.item = Some(item);
                self.handed += 1;
                getter.waker.take()
            }
            None => {
                self.store.unpop(item);
                None
            }
        }
    }

    /// A slot may have freed up: reserve it for the first waiting putter.
    pub(super) fn grant(&mut self) -> Option<Waker> {
        if self.shutdown || !self.has_room() {
            return None;
        }
        let putter = self.putters.pop_front()?;
        putter.granted = true;
        self.reserved += 1;
        putter.waker.take()
    }

    pub(super) fn try_put(&mut self, item: T) -> Result<Option<Waker>, TryPutError<T>> {
        if self.shutdown {
            return Err(TryPutError::ShutDown(item));
        }
        if self.is_full() {
            return Err(TryPutError::Full(item));
        }
        Ok(self.insert(item))
    }

    /// Takes the next free item; the waker returned belongs to a putter granted the slot.
    pub(super) fn try_get(&mut self) -> Result<(T, Option<Waker>), TryGetError> {
        match self.store.pop() {
            Some(item) => Ok((item, self.grant())),
            None if self.shutdown => Err(TryGetError::ShutDown),
            None => Err(TryGetError::Empty),
        }
    }

    /// Counts one item done; true when that brought the count to zero with joiners waiting
    /// (the caller then releases them with [`release_joiners`](Self::release_joiners)).
    #[inline]
    pub(super) fn task_done(&mut self) -> Result<bool, TaskDoneError> {
        if self.unfinished == 0 {
            return Err(TaskDoneError);
        }
        self.unfinished -= 1;
        Ok(self.unfinished == 0 && self.joiners.has_waiters())
    }

    pub(super) fn release_joiners(&mut self, wake: &mut Vec<Waker>) {
        while let Some(joiner) = self.joiners.pop_front() {
            wake.extend(joiner.take());
        }
    }

    /// asyncio 3.13's `shutdown`; returns the items it discarded, in `get` order.
    pub(super) fn shutdown(&mut self, immediate: bool, wake: &mut Vec<Waker>) -> Vec<T> {
        self.shutdown = true;
        let mut discarded = Vec::new();
        if immediate {
            discarded.reserve(self.store.len());
            discarded.extend(std::iter::from_fn(|| self.store.pop()));
            self.unfinished = self.unfinished.saturating_sub(discarded.len());
            if self.unfinished == 0 {
                self.release_joiners(wake);
            }
        }
        // Getters wait only while the queue has no free item: they all fail now.
        while let Some(getter) = self.getters.pop_front() {
            wake.extend(getter.waker.take());
        }
        while let Some(putter) = self.putters.pop_front() {
            wake.extend(putter.waker.take());
        }
        discarded
    }
}
