//! Growable storage in fixed-size chunks, for the loop's big tables (timers, task registry).
//!
//! A `Vec` that doubles copies everything at each growth and, for a moment, holds the old and
//! new buffers both: with a million timers that is a 16 MB copy in the middle of a turn (a
//! latency spike) and a 1.5× memory peak. Chunks never move: growing adds one chunk, and the
//! slack is at most one chunk.

use std::cmp::Ordering;
use std::collections::VecDeque;

/// Elements per chunk once the first chunk is full (the first grows from small, so a loop
/// with a handful of timers stays small).
const CHUNK: usize = 1024;

/// A vector stored as chunks of `CHUNK` elements.
#[derive(Debug)]
pub(crate) struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedVec<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, value: T) {
        let chunk = self.len / CHUNK;
        if chunk == self.chunks.len() {
            let capacity = if chunk == 0 { 16 } else { CHUNK };
            self.chunks.push(Vec::with_capacity(capacity));
        }
        self.chunks[chunk].push(value);
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        let chunk = self.len.checked_sub(1)? / CHUNK;
        let value = self.chunks[chunk].pop()?;
        self.len -= 1;
        // Keep one emptied chunk as a spare, so that pushing and popping across a chunk
        // boundary does not allocate and free a chunk every time.
        self.chunks.truncate(chunk + 2);
        Some(value)
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    pub(crate) fn swap(&mut self, a: usize, b: usize) {
        let (ca, cb) = (a / CHUNK, b / CHUNK);
        if ca == cb {
            self.chunks[ca].swap(a % CHUNK, b % CHUNK);
        } else {
            let (low, high) = if ca < cb { (a, b) } else { (b, a) };
            let (left, right) = self.chunks.split_at_mut(high / CHUNK);
            std::mem::swap(
                &mut left[low / CHUNK][low % CHUNK],
                &mut right[0][high % CHUNK],
            );
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }

    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

impl<T> std::ops::Index<usize> for ChunkedVec<T> {
    type Output = T;

    /// # Panics
    ///
    /// Out of bounds, as `Vec` does.
    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for ChunkedVec<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }
}

/// A FIFO queue in chunks: the loop's ready queue. In steady state it is one ring buffer that
/// never reallocates; a burst (a million tasks spawned at once) adds chunks instead of copying.
///
/// The chunk at the front is a field of its own, so the common case — a queue shorter than a
/// chunk, pushed and popped once per wake — touches one ring buffer, not a ring of rings.
#[derive(Debug)]
pub(crate) struct ChunkedQueue<T> {
    /// The oldest items. Empty only when the whole queue is.
    head: VecDeque<T>,
    /// The chunks after `head`, oldest first; the last one is being filled.
    rest: VecDeque<VecDeque<T>>,
    len: usize,
    /// An emptied chunk kept for the next growth.
    spare: Option<VecDeque<T>>,
}

impl<T> Default for ChunkedQueue<T> {
    fn default() -> Self {
        ChunkedQueue {
            head: VecDeque::new(),
            rest: VecDeque::new(),
            len: 0,
            spare: None,
        }
    }
}

impl<T> ChunkedQueue<T> {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn new_chunk(&mut self) -> VecDeque<T> {
        self.spare
            .take()
            .unwrap_or_else(|| VecDeque::with_capacity(CHUNK))
    }

    /// Inlined: one push per wake. The rest (a new or further chunk) is out of line.
    #[inline]
    pub(crate) fn push_back(&mut self, value: T) {
        if self.rest.is_empty() && self.head.len() < self.head.capacity().min(CHUNK) {
            self.len += 1;
            self.head.push_back(value);
        } else {
            self.push_back_slow(value);
        }
    }

    #[cold]
    #[inline(never)]
    fn push_back_slow(&mut self, value: T) {
        self.len += 1;
        if self.rest.is_empty() && self.head.len() < CHUNK {
            if self.head.capacity() == 0 {
                self.head = self.new_chunk();
            }
            self.head.push_back(value);
            return;
        }
        match self.rest.back_mut() {
            Some(last) if last.len() < CHUNK => last.push_back(value),
            _ => {
                let mut chunk = self.new_chunk();
                chunk.push_back(value);
                self.rest.push_back(chunk);
            }
        }
    }

    /// Inlined: one pop per task run. Moving to the next chunk is out of line.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let value = self.head.pop_front()?;
        self.len -= 1;
        if self.head.is_empty() && !self.rest.is_empty() {
            self.next_chunk();
        }
        Some(value)
    }

    #[cold]
    #[inline(never)]
    fn next_chunk(&mut self) {
        if let Some(next) = self.rest.pop_front() {
            self.spare = Some(std::mem::replace(&mut self.head, next));
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.head.iter().chain(self.rest.iter().flatten())
    }

    pub(crate) fn front(&self) -> Option<&T> {
        self.head.front()
    }

    pub(crate) fn back(&self) -> Option<&T> {
        match self.rest.back() {
            Some(last) => last.back(),
            None => self.head.back(),
        }
    }

    /// Keeps only the items `keep` accepts, in their order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut kept = ChunkedQueue::default();
        while let Some(item) = self.pop_front() {
            if keep(&item) {
                kept.push_back(item);
            }
        }
        *self = kept;
    }

    pub(crate) fn clear(&mut self) {
        self.head.clear();
        self.rest.clear();
        self.len = 0;
    }
}

impl<T> Extend<T> for ChunkedQueue<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push_back(item);
        }
    }
}

/// A min-heap on chunked storage: what `BinaryHeap<Reverse<T>>` does, without the doubling.
#[derive(Debug)]
pub(crate) struct ChunkedMinHeap<T> {
    items: ChunkedVec<T>,
}

impl<T> Default for ChunkedMinHeap<T> {
    fn default() -> Self {
        ChunkedMinHeap {
            items: ChunkedVec::default(),
        }
    }
}

impl<T: Ord> ChunkedMinHeap<T> {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn peek(&self) -> Option<&T> {
        self.items.get(0)
    }

    pub(crate) fn push(&mut self, value: T) {
        self.items.push(value);
        self.sift_up(self.items.len() - 1);
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        let last = self.items.len().checked_sub(1)?;
        self.items.swap(0, last);
        let top = self.items.pop();
        self.sift_down(0);
        top
    }

    /// Keeps only the items `keep` accepts, then restores heap order in O(n).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut kept = ChunkedVec::default();
        while let Some(item) = self.items.pop() {
            if keep(&item) {
                kept.push(item);
            }
        }
        self.items = kept;
        for index in (0..self.items.len() / 2).rev() {
            self.sift_down(index);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    fn less(&self, a: usize, b: usize) -> bool {
        match (self.items.get(a), self.items.get(b)) {
            (Some(x), Some(y)) => x.cmp(y) == Ordering::Less,
            _ => false,
        }
    }

    fn sift_up(&mut self, mut index: usize) {
        while index > 0 {
            let parent = (index - 1) / 2;
            if !self.less(index, parent) {
                break;
            }
            self.items.swap(index, parent);
            index = parent;
        }
    }

    fn sift_down(&mut self, mut index: usize) {
        let len = self.items.len();
        loop {
            let left = 2 * index + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.less(right, left) {
                right
            } else {
                left
            };
            if !self.less(child, index) {
                break;
            }
            self.items.swap(index, child);
            index = child;
        }
    }
}

/// A slab (stable keys, O(1) insert and remove) on chunked storage.
#[derive(Debug)]
pub(crate) struct ChunkedSlab<T> {
    entries: ChunkedVec<Entry<T>>,
    next_free: usize,
    len: usize,
}

#[derive(Debug)]
enum Entry<T> {
    Occupied(T),
    Vacant { next_free: usize },
}

impl<T> Default for ChunkedSlab<T> {
    fn default() -> Self {
        ChunkedSlab {
            entries: ChunkedVec::default(),
            next_free: usize::MAX,
            len: 0,
        }
    }
}

impl<T> ChunkedSlab<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key the next `insert` will use.
    pub(crate) fn vacant_key(&self) -> usize {
        if self.next_free == usize::MAX {
            self.entries.len()
        } else {
            self.next_free
        }
    }

    pub(crate) fn insert(&mut self, value: T) -> usize {
        let key = self.vacant_key();
        if key == self.entries.len() {
            self.entries.push(Entry::Occupied(value));
        } else if let Some(entry) = self.entries.get_mut(key) {
            if let Entry::Vacant { next_free } = *entry {
                self.next_free = next_free;
            }
            *entry = Entry::Occupied(value);
        }
        self.len += 1;
        key
    }

    pub(crate) fn get(&self, key: usize) -> Option<&T> {
        match self.entries.get(key)? {
            Entry::Occupied(value) => Some(value),
            Entry::Vacant { .. } => None,
        }
    }

    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        let entry = self.entries.get_mut(key)?;
        if let Entry::Vacant { .. } = entry {
            return None;
        }
        let old = std::mem::replace(
            entry,
            Entry::Vacant {
                next_free: self.next_free,
            },
        );
        self.next_free = key;
        self.len -= 1;
        match old {
            Entry::Occupied(value) => Some(value),
            Entry::Vacant { .. } => None,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(key, entry)| match entry {
                Entry::Occupied(value) => Some((key, value)),
                Entry::Vacant { .. } => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn chunked_vec_indexes_across_chunks_and_swaps_between_them() {
        let mut v = ChunkedVec::default();
        for i in 0..3 * CHUNK + 5 {
            v.push(i);
        }
        assert_eq!(v.len(), 3 * CHUNK + 5);
        assert_eq!(v.get(CHUNK + 7), Some(&(CHUNK + 7)));
        v.swap(3, 2 * CHUNK + 1);
        assert_eq!(
            (v.get(3), v.get(2 * CHUNK + 1)),
            (Some(&(2 * CHUNK + 1)), Some(&3))
        );
        v.swap(2 * CHUNK + 1, 3);
        assert!(v.iter().copied().eq(0..3 * CHUNK + 5));
        for expected in (0..3 * CHUNK + 5).rev() {
            assert_eq!(v.pop(), Some(expected));
        }
        assert_eq!(v.pop(), None);
        assert!(v.is_empty());
    }

    #[test]
    fn chunked_queue_is_fifo_across_chunks() {
        let mut queue = ChunkedQueue::default();
        let mut next_out = 0;
        for i in 0..5 * CHUNK {
            queue.push_back(i);
            if i % 3 == 0 {
                assert_eq!(queue.pop_front(), Some(next_out));
                next_out += 1;
            }
        }
        assert_eq!(queue.len(), 5 * CHUNK - next_out);
        assert!(queue.iter().copied().eq(next_out..5 * CHUNK));
        queue.extend([7, 8]);
        while let Some(value) = queue.pop_front() {
            if next_out < 5 * CHUNK {
                assert_eq!(value, next_out);
                next_out += 1;
            }
        }
        assert!(queue.is_empty());
        assert_eq!(next_out, 5 * CHUNK);
    }

    #[test]
    fn chunked_queue_behaves_as_a_vec_deque() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut ours = ChunkedQueue::default();
        let mut model = VecDeque::new();
        for round in 0..(12 * CHUNK as u64) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Runs of pushes and of pops, long enough to cross chunk boundaries both ways.
            match (round / (CHUNK as u64 / 2)) % 3 {
                0 | 1 if rng % 4 != 0 => {
                    ours.push_back(round);
                    model.push_back(round);
                }
                _ => assert_eq!(ours.pop_front(), model.pop_front(), "round {round}"),
            }
            assert_eq!(ours.len(), model.len());
            assert_eq!(ours.front(), model.front());
            assert_eq!(ours.back(), model.back());
            if round % 997 == 0 {
                ours.retain(|x| x % 5 != 0);
                model.retain(|x| x % 5 != 0);
                assert!(ours.iter().eq(model.iter()));
            }
        }
        assert!(ours.iter().eq(model.iter()));
        ours.clear();
        assert!(ours.is_empty() && ours.pop_front().is_none() && ours.back().is_none());
        ours.push_back(1);
        assert_eq!((ours.front(), ours.back()), (Some(&1), Some(&1)));
    }

    #[test]
    fn min_heap_pops_in_the_order_std_binary_heap_does() {
        let mut rng = 0x1234_5678_u64;
        let mut ours = ChunkedMinHeap::default();
        let mut std_heap = BinaryHeap::new();
        for round in 0..20_000u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if rng % 3 == 0 {
                assert_eq!(
                    ours.pop(),
                    std_heap.pop().map(|Reverse(x)| x),
                    "round {round}"
                );
            } else {
                ours.push(rng % 1000);
                std_heap.push(Reverse(rng % 1000));
            }
            assert_eq!(ours.peek(), std_heap.peek().map(|Reverse(x)| x));
        }
        ours.retain(|x| x % 2 == 0);
        std_heap.retain(|Reverse(x)| x % 2 == 0);
        assert_eq!(ours.len(), std_heap.len());
        while let Some(x) = ours.pop() {
            assert_eq!(Some(x), std_heap.pop().map(|Reverse(x)| x));
        }
    }

    #[test]
    fn slab_reuses_freed_keys_and_keeps_others_stable() {
        let mut slab = ChunkedSlab::default();
        let keys: Vec<usize> = (0..2 * CHUNK).map(|i| slab.insert(i)).collect();
        assert_eq!(keys, (0..2 * CHUNK).collect::<Vec<_>>());
        assert_eq!(slab.remove(5), Some(5));
        assert_eq!(slab.remove(5), None);
        assert_eq!(slab.get(5), None);
        assert_eq!(slab.vacant_key(), 5);
        assert_eq!(slab.insert(99), 5);
        assert_eq!(slab.get(5), Some(&99));
        assert_eq!(slab.get(CHUNK + 3), Some(&(CHUNK + 3)));
        assert_eq!(slab.iter().count(), 2 * CHUNK);
        for key in 0..2 * CHUNK {
            slab.remove(key);
        }
        assert!(slab.is_empty());
    }
}
