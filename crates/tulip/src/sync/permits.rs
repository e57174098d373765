//! The core that [`Lock`](super::Lock), [`Semaphore`](super::Semaphore) and
//! [`BoundedSemaphore`](super::BoundedSemaphore) share: a count of permits and a FIFO of
//! tasks waiting for one.
//!
//! A released permit goes straight to the first waiter (it is *granted*: the count does not
//! go up), so nobody arriving later can take it first. A waiter dropped after its grant but
//! before it ran passes the permit on, which is asyncio's "a waiter cancelled after being
//! woken wakes the next one", made exact.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::waiters::{self, WaitList, store_waker};

struct Waiter {
    waker: Option<Waker>,
}

struct State {
    available: usize,
    /// Permits granted to waiters that have not run yet: still counted against the bound,
    /// as asyncio counts them until the woken task takes them.
    granted: usize,
    waiters: WaitList<Waiter>,
}

pub(crate) struct Permits {
    state: Mutex<State>,
    /// `release` never raises `available` above this.
    bound: usize,
}

impl Permits {
    pub(crate) const fn new(available: usize, bound: usize) -> Permits {
        Permits {
            state: Mutex::new(State {
                available,
                granted: 0,
                waiters: WaitList::new(),
            }),
            bound,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code runs under this lock that could panic half-way through an update.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn available(&self) -> usize {
        self.lock().available
    }

    /// Nobody can acquire without waiting (asyncio's `locked()`).
    pub(crate) fn is_locked(&self) -> bool {
        let state = self.lock();
        state.available == 0 || state.waiters.has_waiters()
    }

    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiters.len()
    }

    /// Takes a permit if one is free and nobody is waiting for one.
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.lock();
        take_free(&mut state)
    }

    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire {
            permits: self,
            key: None,
        }
    }

    /// Gives a permit back: to the first waiter, or to the count. Returns false, changing
    /// nothing, when the count is already at its bound.
    pub(crate) fn release(&self) -> bool {
        let mut state = self.lock();
        if state.available + state.granted >= self.bound {
            return false;
        }
        let woken = grant_or_store(&mut state);
        drop(state);
        waiters::wake(woken);
        true
    }
}

fn take_free(state: &mut State) -> bool {
    if state.available > 0 && !state.waiters.has_waiters() {
        state.available -= 1;
        true
    } else {
        false
    }
}

fn grant_or_store(state: &mut State) -> Option<Waker> {
    match state.waiters.pop_front() {
        Some(waiter) => {
            state.granted += 1;
            waiter.waker.take()
        }
        None => {
            state.available += 1;
            None
        }
    }
}

/// Waits for a permit. Resolves once the permit is this future's; dropping it before then
/// gives back a permit it had been granted.
pub(crate) struct Acquire<'a> {
    permits: &'a Permits,
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.permits.lock();
        match self.key {
            None if take_free(&mut state) => Poll::Ready(()),
            None => {
                self.key = Some(state.waiters.push_back(Waiter {
                    waker: Some(cx.waker().clone()),
                }));
                Poll::Pending
            }
            Some(key) if state.waiters.is_linked(key) => {
                let replaced = store_waker(&mut state.waiters.get_mut(key).waker, cx.waker());
                drop(state);
                drop(replaced);
                Poll::Pending
            }
            Some(key) => {
                // Served: the permit was granted to us.
                self.key = None;
                state.granted -= 1;
                let waiter = state.waiters.remove(key);
                drop(state);
                drop(waiter);
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.permits.lock();
        let granted = !state.waiters.is_linked(key);
        let waiter = state.waiters.remove(key);
        let woken = if granted {
            state.granted -= 1;
            grant_or_store(&mut state)
        } else {
            None
        };
        drop(state);
        drop(waiter);
        waiters::wake(woken);
    }
}
