//! The engine under [`gather_all`](super::gather_all), [`as_completed`](super::as_completed),
//! [`wait`](super::wait) and [`TaskGroup`](super::TaskGroup): a set of futures polled in place
//! by the task that owns the set, each child with a waker of its own.
//!
//! Polling every child whenever any of them wakes (what `gather!` does for its handful of
//! futures) would make n completions cost n² polls. Here a child's waker puts the child's index
//! on a ready queue, and the set polls only the children on that queue.
//!
//! A child that returns `Pending` without keeping its waker (it finished at once, or woke
//! itself by reference) leaves the waker's allocation free for the next child: so gathering a
//! hundred thousand futures that are ready at once allocates no waker at all, and one per child
//! that actually waits.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// Children that woke since the owner last looked, and the owner's waker while it sleeps.
#[derive(Debug, Default)]
struct Queue {
    /// Indices to poll, in the order they woke.
    indices: Vec<usize>,
    /// `queued[i]`: child `i` is in `indices` already (so a child woken ten times is polled once).
    queued: Vec<bool>,
    /// The owner's waker, present only while the owner waits with nothing queued: the first
    /// child to wake takes it, so a burst of completions wakes the owner once.
    owner: Option<Waker>,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding the lock; recover the data all the same if it did.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn enqueue(&self, index: usize) {
        let owner = {
            let mut queue = self.lock();
            match queue.queued.get_mut(index) {
                Some(queued) if !*queued => *queued = true,
                // Already queued, or the set was cleared and its children are gone.
                _ => return,
            }
            queue.indices.push(index);
            queue.owner.take()
        };
        // Woken outside the lock: waking may run arbitrary executor code.
        if let Some(owner) = owner {
            owner.wake();
        }
    }
}

/// The waker handed to one child: it names the child by index.
#[derive(Debug)]
struct ChildWaker {
    /// Changed only while no clone of this waker exists outside the set (see `Scratch`).
    index: AtomicUsize,
    shared: Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.enqueue(self.index.load(Ordering::Acquire));
    }
}

/// A child waker not (yet) kept by any child, reusable for the next one.
#[derive(Debug)]
struct Scratch {
    node: Arc<ChildWaker>,
    waker: Waker,
}

impl Scratch {
    /// Only the set holds it: the `Arc` here and the one inside `waker`.
    fn is_unshared(&self) -> bool {
        Arc::strong_count(&self.node) == 2
    }
}

/// Futures polled in place, each woken on its own; see the module docs.
#[derive(Debug)]
pub(crate) struct FutureSet<F> {
    /// `None` once the child has completed or was taken out.
    slots: Vec<Option<F>>,
    /// The waker a child kept hold of, reused when it is polled again.
    wakers: Vec<Option<Waker>>,
    shared: Arc<Shared>,
    scratch: Option<Scratch>,
    /// This turn's batch: indices taken from the queue, polled front to back.
    batch: Vec<usize>,
    /// How far into `batch` this turn has got.
    cursor: usize,
    /// Children from here on have never been polled (they are due without being queued).
    unpolled: usize,
    live: usize,
}

impl<F: Future + Unpin> FutureSet<F> {
    pub(crate) fn new() -> FutureSet<F> {
        FutureSet {
            slots: Vec::new(),
            wakers: Vec::new(),
            shared: Arc::new(Shared::default()),
            scratch: None,
            batch: Vec::new(),
            cursor: 0,
            unpolled: 0,
            live: 0,
        }
    }

    pub(crate) fn from_iter(futures: impl IntoIterator<Item = F>) -> FutureSet<F> {
        let mut set = FutureSet::new();
        set.slots.extend(futures.into_iter().map(Some));
        set.live = set.slots.len();
        set.wakers.resize_with(set.slots.len(), || None);
        set.shared.lock().queued.resize(set.slots.len(), false);
        set
    }

    /// Adds a child; it is polled at the set's next poll. Returns its index.
    pub(crate) fn push(&mut self, future: F) -> usize {
        let index = self.slots.len();
        self.slots.push(Some(future));
        self.wakers.push(None);
        self.shared.lock().queued.push(false);
        self.live += 1;
        index
    }

    /// Polls the children that are due: those never polled and those woken since. Each one that
    /// completes is handed to `on_ready` with its index; when that says `Break`, this returns
    /// `Ready` at once and the rest of the turn's batch waits for the next call.
    ///
    /// Returns `Ready` when `on_ready` broke off or when no child is left; `Pending` otherwise,
    /// having arranged for the owner to be woken. A turn polls only what was due when it
    /// began: children that wake during it (a child calling `yield_now`, say) are polled at
    /// the next turn, after the owner has yielded to the loop, so such a child cannot keep the
    /// owner spinning.
    pub(crate) fn poll_some(
        &mut self,
        cx: &mut Context<'_>,
        mut on_ready: impl FnMut(usize, F::Output) -> ControlFlow<()>,
    ) -> Poll<()> {
        if self.cursor == self.batch.len() && self.unpolled == self.slots.len() {
            self.take_queue();
        }
        while let Some(index) = self.next_due() {
            if let Poll::Ready(output) = self.poll_child(index) {
                if on_ready(index, output).is_break() {
                    return Poll::Ready(());
                }
            }
        }
        if self.live == 0 {
            return Poll::Ready(());
        }
        self.sleep(cx);
        Poll::Pending
    }

    /// Moves the children woken since the last turn into this turn's batch.
    fn take_queue(&mut self) {
        self.batch.clear();
        self.cursor = 0;
        let mut queue = self.shared.lock();
        std::mem::swap(&mut queue.indices, &mut self.batch);
        for &index in &self.batch {
            queue.queued[index] = false;
        }
    }

    fn next_due(&mut self) -> Option<usize> {
        if let Some(&index) = self.batch.get(self.cursor) {
            self.cursor += 1;
            return Some(index);
        }
        if self.unpolled < self.slots.len() {
            self.unpolled += 1;
            return Some(self.unpolled - 1);
        }
        None
    }

    /// Leaves the owner's waker for the children, or wakes the owner at once when some child
    /// woke during this turn.
    fn sleep(&mut self, cx: &mut Context<'_>) {
        let mut queue = self.shared.lock();
        if !queue.indices.is_empty() {
            drop(queue);
            cx.waker().wake_by_ref();
            return;
        }
        match &queue.owner {
            Some(owner) if owner.will_wake(cx.waker()) => {}
            _ => {
                let replaced = queue.owner.replace(cx.waker().clone());
                drop(queue);
                drop(replaced);
            }
        }
    }

    fn poll_child(&mut self, index: usize) -> Poll<F::Output> {
        let Some(future) = self.slots[index].as_mut() else {
            // Completed earlier; a stale wake-up.
            return Poll::Pending;
        };
        let poll = if let Some(waker) = &self.wakers[index] {
            Pin::new(future).poll(&mut Context::from_waker(waker))
        } else {
            let scratch = match self.scratch.take() {
                Some(scratch) if scratch.is_unshared() => scratch,
                _ => {
                    let node = Arc::new(ChildWaker {
                        index: AtomicUsize::new(index),
                        shared: self.shared.clone(),
                    });
                    let waker = Waker::from(node.clone());
                    Scratch { node, waker }
                }
            };
            scratch.node.index.store(index, Ordering::Release);
            let poll = Pin::new(future).poll(&mut Context::from_waker(&scratch.waker));
            if poll.is_pending() && !scratch.is_unshared() {
                // The child kept a clone: this waker is the child's from now on.
                self.wakers[index] = Some(scratch.waker);
            } else {
                self.scratch = Some(scratch);
            }
            poll
        };
        if poll.is_ready() {
            self.slots[index] = None;
            self.wakers[index] = None;
            self.live -= 1;
        }
        poll
    }
}

impl<F> FutureSet<F> {
    /// How many children were ever added.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Children not completed yet.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// The children not completed, by index.
    pub(crate) fn iter_live(&self) -> impl Iterator<Item = (usize, &F)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| slot.as_ref().map(|future| (index, future)))
    }

    /// Takes every child not completed out of the set, with its index, in index order.
    pub(crate) fn take_live(&mut self) -> Vec<(usize, F)> {
        let taken = self
            .slots
            .iter_mut()
            .enumerate()
            .filter_map(|(index, slot)| slot.take().map(|future| (index, future)))
            .collect();
        self.forget_children();
        taken
    }

    /// Drops every child not completed (cancelling them, for futures polled in place).
    pub(crate) fn clear(&mut self) {
        for slot in &mut self.slots {
            *slot = None;
        }
        self.forget_children();
    }

    fn forget_children(&mut self) {
        self.live = 0;
        self.unpolled = self.slots.len();
        self.batch.clear();
        self.cursor = 0;
        for waker in &mut self.wakers {
            *waker = None;
        }
    }
}

impl<F: Future + Unpin> Default for FutureSet<F> {
    fn default() -> FutureSet<F> {
        FutureSet::new()
    }
}

impl<F> Drop for FutureSet<F> {
    fn drop(&mut self) {
        // Children that outlive the set (tasks holding a waker) must not find a queue that
        // keeps growing; marking every child queued turns their wake-ups into no-ops.
        let mut queue = self.shared.lock();
        queue.queued.iter_mut().for_each(|queued| *queued = true);
        queue.indices = Vec::new();
        let owner = queue.owner.take();
        drop(queue);
        drop(owner);
    }
}
