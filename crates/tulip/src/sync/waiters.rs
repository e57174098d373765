//! The FIFO of tasks waiting on a queue or a synchronisation primitive.
//!
//! Every primitive in `sync` and `queue` keeps its waiters in a [`WaitList`] inside the one
//! mutex that guards the rest of its state. A waiting future holds the key of its node: it is
//! the only one that ever frees the node, so a key stays valid (and is never reused by another
//! waiter) until that future has seen its outcome or been dropped.
//!
//! A node is *linked* while its waiter is in line. Serving a waiter unlinks it but leaves the
//! node in place, carrying whatever the server handed over (an item, a grant, an index), until
//! the future comes back for it. That is what makes cancellation safe: a future dropped after
//! being served finds its grant in its node and passes it on.
//!
//! The list is a doubly linked list threaded through a slab, so joining the line, leaving it
//! from anywhere (cancellation) and serving the front are all O(1) and allocate only when the
//! slab grows.
//!
//! None of the primitives has atomics of its own: each is a state machine behind one
//! `std::sync::Mutex`, so loom would only re-check the mutex. What can go wrong is the order in
//! which tasks are served and dropped; the property tests (`tests/*_proptest.rs`,
//! `tests/sync_semaphore.rs`, `tests/sync_condition.rs`) generate those orders on the test
//! clock, and `tests/sync_threads.rs` runs the primitives across two loops on two threads.

use std::task::Waker;

use slab::Slab;

const NIL: usize = usize::MAX;

struct Node<E> {
    prev: usize,
    next: usize,
    linked: bool,
    entry: E,
}

/// Waiters in arrival order, each addressed by the key [`push_back`](WaitList::push_back)
/// returned.
pub(crate) struct WaitList<E> {
    nodes: Slab<Node<E>>,
    head: usize,
    tail: usize,
    linked: usize,
}

impl<E> WaitList<E> {
    #[inline]
    pub(crate) const fn new() -> WaitList<E> {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            linked: 0,
        }
    }

    /// Puts a waiter at the back of the line; returns its key.
    #[inline]
    pub(crate) fn push_back(&mut self, entry: E) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            entry,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.linked += 1;
        key
    }

    /// Takes the first waiter out of the line (its node stays, for its future to collect).
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<&mut E> {
        let key = self.head;
        if key == NIL {
            // The common case on a busy queue: nobody waits.
            return None;
        }
        self.unlink(key);
        Some(&mut self.nodes[key].entry)
    }

    /// Whether the waiter `key` is still in line (not served yet).
    #[inline]
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.nodes.get(key).is_some_and(|node| node.linked)
    }

    /// Anyone in line?
    #[inline]
    pub(crate) fn has_waiters(&self) -> bool {
        self.linked != 0
    }

    /// How many are in line.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// The entry of waiter `key`, in line or served.
    ///
    /// # Panics
    ///
    /// If `key` was removed: only the future that owns a key removes it, so that would be a
    /// bug in this crate.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut E {
        &mut self.nodes[key].entry
    }

    /// Frees the node `key`, taking it out of the line first if it is still in it.
    #[inline]
    pub(crate) fn remove(&mut self, key: usize) -> E {
        self.unlink(key);
        self.nodes.remove(key).entry
    }

    fn unlink(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        match prev {
            NIL => self.head = next,
            prev => self.nodes[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.nodes[next].prev = prev,
        }
        self.linked -= 1;
    }
}

/// Remembers `waker` in `slot` unless the waker there already wakes the same task.
///
/// Returns the waker it replaced: the caller drops it after releasing its lock, because
/// dropping the last waker of a task may free the task, whose destructors may use the very
/// primitive whose lock is held.
#[must_use = "drop the replaced waker after unlocking"]
#[inline]
pub(crate) fn store_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(current) if current.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// Wakes the waker, if any. Called once the lock is released.
#[inline]
pub(crate) fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::WaitList;

    fn drain(list: &mut WaitList<u32>) -> Vec<u32> {
        std::iter::from_fn(|| list.pop_front().map(|e| *e)).collect()
    }

    #[test]
    fn serves_in_arrival_order() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..5).map(|i| list.push_back(i)).collect();
        assert_eq!(list.len(), 5);
        assert_eq!(drain(&mut list), vec![0, 1, 2, 3, 4]);
        assert!(!list.has_waiters());
        assert!(keys.iter().all(|&k| !list.is_linked(k)));
        for key in keys {
            list.remove(key);
        }
    }

    #[test]
    fn leaving_from_anywhere_keeps_the_order_of_the_rest() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..6).map(|i| list.push_back(i)).collect();
        assert_eq!(list.remove(keys[0]), 0); // head
        assert_eq!(list.remove(keys[5]), 5); // tail
        assert_eq!(list.remove(keys[2]), 2); // middle
        assert_eq!(list.len(), 3);
        let late = list.push_back(9);
        assert_eq!(drain(&mut list), vec![1, 3, 4, 9]);
        assert_eq!(*list.get_mut(late), 9, "a served node stays until removed");
        assert!(!list.is_linked(late));
    }

    #[test]
    fn a_served_node_can_be_removed_without_disturbing_the_line() {
        let mut list = WaitList::new();
        let a = list.push_back(1);
        let _b = list.push_back(2);
        assert_eq!(list.pop_front().copied(), Some(1));
        let c = list.push_back(3);
        assert_eq!(list.remove(a), 1);
        assert_eq!(list.remove(c), 3);
        assert_eq!(drain(&mut list), vec![2]);
    }
}
