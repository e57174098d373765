//! The three orders a queue can serve its items in, as marker types.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The order a [`GenericQueue`](super::GenericQueue) serves its items in: [`Fifo`],
/// [`Lifo`] or [`Priority`]. Sealed: these three are all there is.
pub trait Order<T>: sealed::Sealed<T> {}

/// First in, first out: [`Queue`](super::Queue), asyncio's `Queue`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fifo;

/// Last in, first out: [`LifoQueue`](super::LifoQueue), asyncio's `LifoQueue`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lifo;

/// Smallest first: [`PriorityQueue`](super::PriorityQueue), asyncio's `PriorityQueue`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Priority;

impl<T> Order<T> for Fifo {}
impl<T> Order<T> for Lifo {}
impl<T: Ord> Order<T> for Priority {}

pub(crate) mod sealed {
    /// Where a queue keeps its items.
    pub trait Sealed<T> {
        #[doc(hidden)]
        type Store: Store<T>;
        /// The queue's name in `Debug` output.
        #[doc(hidden)]
        const NAME: &'static str;
    }

    /// The container behind one order.
    pub trait Store<T>: Default {
        fn len(&self) -> usize;
        fn push(&mut self, item: T);
        /// The next item `get` returns.
        fn pop(&mut self) -> Option<T>;
        /// Puts back an item a cancelled `get` had been handed, so that it comes out next
        /// again (for a priority queue: in its rank, which is the same thing).
        fn unpop(&mut self, item: T);
        fn with_capacity(capacity: usize) -> Self;
    }
}

use sealed::{Sealed, Store};

impl<T> Sealed<T> for Fifo {
    type Store = VecDeque<T>;
    const NAME: &'static str = "Queue";
}

impl<T> Sealed<T> for Lifo {
    type Store = Vec<T>;
    const NAME: &'static str = "LifoQueue";
}

impl<T: Ord> Sealed<T> for Priority {
    type Store = BinaryHeap<Reverse<T>>;
    const NAME: &'static str = "PriorityQueue";
}

impl<T> Store<T> for VecDeque<T> {
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
    fn push(&mut self, item: T) {
        self.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    fn unpop(&mut self, item: T) {
        self.push_front(item);
    }
    fn with_capacity(capacity: usize) -> Self {
        VecDeque::with_capacity(capacity)
    }
}

impl<T> Store<T> for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    fn unpop(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn with_capacity(capacity: usize) -> Self {
        Vec::with_capacity(capacity)
    }
}

/// asyncio's `PriorityQueue` is a min-heap (`heapq`); `BinaryHeap` is a max-heap, hence the
/// `Reverse`.
impl<T: Ord> Store<T> for BinaryHeap<Reverse<T>> {
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
    fn push(&mut self, item: T) {
        BinaryHeap::push(self, Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        BinaryHeap::pop(self).map(|Reverse(item)| item)
    }
    fn unpop(&mut self, item: T) {
        BinaryHeap::push(self, Reverse(item));
    }
    fn with_capacity(capacity: usize) -> Self {
        BinaryHeap::with_capacity(capacity)
    }
}
