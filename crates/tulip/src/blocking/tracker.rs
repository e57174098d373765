//! Counts a loop's thread-pool jobs still running, so the loop's test clock does not jump past
//! them and closing the loop can wait for them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::runtime::shared::Shared;

#[derive(Debug, Default)]
pub(crate) struct JobTracker {
    in_flight: AtomicUsize,
    /// Someone is blocked in `wait_idle`.
    waiting: AtomicBool,
    lock: Mutex<()>,
    idle: Condvar,
}

impl JobTracker {
    pub(crate) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// Called after the job's result was handed over (and its awaiter woken).
    pub(crate) fn finished(&self, shared: &Shared) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The loop may be blocked with no timeout because this job was running (test clock):
        // now it may move time on. Usually a no-op, the awaiter's wake already notified it.
        shared.notify();
        if self.waiting.load(Ordering::Acquire) {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.idle.notify_all();
        }
    }

    pub(crate) fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Blocks until no job is running, or `timeout` passes; returns whether none is.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        if !self.busy() {
            return true;
        }
        self.waiting.store(true, Ordering::Release);
        let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (_guard, result) = self
            .idle
            .wait_timeout_while(guard, timeout, |()| self.busy())
            .unwrap_or_else(PoisonError::into_inner);
        self.waiting.store(false, Ordering::Release);
        !result.timed_out()
    }
}
