//! The timer structure: a binary heap of deadlines over a slot array.
//!
//! Cancelling is O(1): the slot is freed and its heap entry becomes stale (its generation no
//! longer matches). Stale entries are skipped when they reach the top, and the heap is rebuilt
//! once they outnumber the live ones, so a million armed-and-disarmed timeouts cost no more
//! memory than the ones still armed. Deadlines are exact nanoseconds: no wheel rounds them.
//!
//! Most timers are armed in deadline order — the same timeout or sleep armed again and again
//! as the clock moves on (a server's header-read timeout per request, a gather of equal
//! sleeps) — so an entry whose deadline is no earlier than the last one's is appended to a
//! sorted run (a FIFO) instead of the heap: O(1) to arm, O(1) to fire or to skip once
//! cancelled. The others go to the heap; the earliest of the two fronts is the next timer.
//!
//! Timers due at the same instant fire in the order they were armed: each arming takes the
//! next stamp of a counter, which breaks ties in the heap and doubles as the slot's
//! generation. (The counter wraps after 2³² armings; only ties straddling the wrap are then
//! out of order.)

use std::task::Waker;

use crate::util::chunked::{ChunkedMinHeap, ChunkedQueue, ChunkedVec};

/// Which slot, and which use of it: a key outlives its slot's reuse without confusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

#[derive(Debug)]
enum SlotState {
    Free { next_free: u32 },
    Waiting(Waker),
    Fired,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    state: SlotState,
}

/// Heap entry: (deadline ns, stamp, slot index), ordered by deadline, then arming order. The
/// stamp is the slot's generation while this entry is its live one.
type Entry = (u64, u32, u32);

const NO_FREE: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct Timers {
    heap: ChunkedMinHeap<Entry>,
    /// Entries armed in deadline order, earliest first (see the module docs).
    sorted: ChunkedQueue<Entry>,
    slots: ChunkedVec<Slot>,
    free_head: u32,
    /// Heap entries whose slot was freed before they fired.
    stale: usize,
    live: usize,
    /// The stamp the next armed timer takes.
    next_stamp: u32,
}

/// What a pending sleep finds when it looks at its timer again.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TimerState {
    Waiting,
    Fired,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            heap: ChunkedMinHeap::default(),
            sorted: ChunkedQueue::default(),
            slots: ChunkedVec::default(),
            free_head: NO_FREE,
            stale: 0,
            live: 0,
            next_stamp: 0,
        }
    }

    /// Timers armed and not yet fired.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> TimerKey {
        let index = if self.free_head == NO_FREE {
            let index = u32::try_from(self.slots.len()).expect("more than 4 billion timers");
            self.slots.push(Slot {
                generation: 0,
                state: SlotState::Fired,
            });
            index
        } else {
            let index = self.free_head;
            let slot = &mut self.slots[index as usize];
            if let SlotState::Free { next_free } = slot.state {
                self.free_head = next_free;
            }
            index
        };
        let stamp = self.next_stamp;
        self.next_stamp = stamp.wrapping_add(1);
        let slot = &mut self.slots[index as usize];
        slot.state = SlotState::Waiting(waker);
        slot.generation = stamp;
        match self.sorted.back() {
            Some(&(last, _, _)) if deadline < last => self.heap.push((deadline, stamp, index)),
            _ => self.sorted.push_back((deadline, stamp, index)),
        }
        self.live += 1;
        TimerKey {
            index,
            generation: slot.generation,
        }
    }

    /// Looks at a timer and, while it waits, makes sure it will wake `waker`. A waker it
    /// replaces is handed back so the caller drops it outside any borrow: dropping a waker
    /// can free a task, whose destructors may touch the timers again.
    pub(crate) fn poll(&mut self, key: TimerKey, waker: &Waker) -> (TimerState, Option<Waker>) {
        match self.slots.get_mut(key.index as usize) {
            Some(slot) if slot.generation == key.generation => match &mut slot.state {
                SlotState::Waiting(current) => {
                    let replaced = (!current.will_wake(waker))
                        .then(|| std::mem::replace(current, waker.clone()));
                    (TimerState::Waiting, replaced)
                }
                _ => (TimerState::Fired, None),
            },
            _ => (TimerState::Fired, None),
        }
    }

    /// Frees the timer's slot; its heap entry, if still there, turns stale.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Waker> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let old = std::mem::replace(
            &mut slot.state,
            SlotState::Free {
                next_free: self.free_head,
            },
        );
        slot.generation = slot.generation.wrapping_add(1);
        self.free_head = key.index;
        match old {
            SlotState::Waiting(waker) => {
                self.live -= 1;
                self.stale += 1;
                self.compact_if_mostly_stale();
                Some(waker)
            }
            _ => None,
        }
    }

    /// The earliest entry of the heap and the sorted run, and whether it is the run's.
    fn first(&self) -> Option<(Entry, bool)> {
        match (self.heap.peek(), self.sorted.front()) {
            (Some(&h), Some(&s)) if (s.0, s.1) <= (h.0, h.1) => Some((s, true)),
            (Some(&h), _) => Some((h, false)),
            (None, Some(&s)) => Some((s, true)),
            (None, None) => None,
        }
    }

    fn pop_first(&mut self, from_sorted: bool) {
        if from_sorted {
            self.sorted.pop_front();
        } else {
            self.heap.pop();
        }
    }

    /// The earliest deadline still armed.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(((deadline, generation, index), from_sorted)) = self.first() {
            if self.is_live(index, generation) {
                return Some(deadline);
            }
            self.pop_first(from_sorted);
            self.stale -= 1;
        }
        None
    }

    /// Fires every timer due at `now`, pushing their wakers onto `wake`.
    pub(crate) fn fire_due(&mut self, now: u64, wake: &mut Vec<Waker>) {
        while let Some(((deadline, generation, index), from_sorted)) = self.first() {
            if deadline > now {
                break;
            }
            self.pop_first(from_sorted);
            let slot = &mut self.slots[index as usize];
            if slot.generation != generation {
                self.stale -= 1;
                continue;
            }
            if let SlotState::Waiting(waker) = std::mem::replace(&mut slot.state, SlotState::Fired)
            {
                self.live -= 1;
                wake.push(waker);
            }
        }
    }

    /// Drops every waker (the loop is closing).
    pub(crate) fn take_all(&mut self) -> Vec<Waker> {
        self.heap.clear();
        self.sorted.clear();
        self.stale = 0;
        self.live = 0;
        let mut wakers = Vec::new();
        for slot in self.slots.iter_mut() {
            if let SlotState::Waiting(_) = slot.state {
                if let SlotState::Waiting(waker) =
                    std::mem::replace(&mut slot.state, SlotState::Fired)
                {
                    wakers.push(waker);
                }
            }
        }
        wakers
    }

    fn is_live(&self, index: u32, generation: u32) -> bool {
        let slot = &self.slots[index as usize];
        slot.generation == generation && matches!(slot.state, SlotState::Waiting(_))
    }

    fn compact_if_mostly_stale(&mut self) {
        if self.stale > 1024 && self.stale > self.live {
            let slots = &self.slots;
            let live = |&(_, generation, index): &Entry| {
                let slot: &Slot = &slots[index as usize];
                slot.generation == generation && matches!(slot.state, SlotState::Waiting(_))
            };
            self.heap.retain(live);
            self.sorted.retain(live);
            self.stale = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let mut timers = Timers::new();
        let (count, w) = waker();
        let late = timers.insert(30, w.clone());
        let early = timers.insert(10, w.clone());
        assert_eq!(timers.next_deadline(), Some(10));
        let mut wake = Vec::new();
        timers.fire_due(9, &mut wake);
        assert!(wake.is_empty());
        timers.fire_due(10, &mut wake);
        assert_eq!(wake.len(), 1);
        assert_eq!(timers.poll(early, &w).0, TimerState::Fired);
        assert_eq!(timers.poll(late, &w).0, TimerState::Waiting);
        wake.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn timers_due_together_fire_in_the_order_they_were_armed() {
        let mut timers = Timers::new();
        let (_, filler) = waker();
        // Free four slots in an order unlike the arming order below, so that slot numbers
        // cannot stand in for arming order.
        let keys: Vec<_> = (0..4).map(|_| timers.insert(1, filler.clone())).collect();
        for i in [2usize, 0, 3, 1] {
            timers.remove(keys[i]);
        }
        let wakers: Vec<_> = (0..4).map(|_| waker().1).collect();
        for w in &wakers {
            timers.insert(50, w.clone());
        }
        let mut fired = Vec::new();
        timers.fire_due(50, &mut fired);
        assert_eq!(fired.len(), wakers.len());
        for (i, (fired, armed)) in fired.iter().zip(&wakers).enumerate() {
            assert!(
                fired.will_wake(armed),
                "timer {i} fired out of arming order"
            );
        }
    }

    #[test]
    fn removed_timers_never_fire_and_slots_are_reused_safely() {
        let mut timers = Timers::new();
        let (_, w) = waker();
        let first = timers.insert(10, w.clone());
        assert!(timers.remove(first).is_some());
        let second = timers.insert(20, w.clone());
        assert_eq!(first.index, second.index, "the freed slot is reused");
        assert_ne!(first, second);
        // The old key must not see or remove the new timer.
        assert!(timers.remove(first).is_none());
        assert_eq!(timers.poll(first, &w).0, TimerState::Fired);
        let mut wake = Vec::new();
        timers.fire_due(15, &mut wake);
        assert!(
            wake.is_empty(),
            "a removed timer's stale entry does not fire"
        );
        assert_eq!(timers.next_deadline(), Some(20));
    }

    #[test]
    fn stale_entries_are_compacted() {
        let mut timers = Timers::new();
        let (_, w) = waker();
        let keep = timers.insert(5, w.clone());
        for i in 0..10_000 {
            let key = timers.insert(100 + i, w.clone());
            timers.remove(key);
        }
        let kept = timers.heap.len() + timers.sorted.len();
        assert!(kept < 2_100, "kept {kept} entries");
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.poll(keep, &w).0, TimerState::Waiting);
    }

    #[test]
    fn the_sorted_run_and_the_heap_fire_as_one_queue() {
        let mut timers = Timers::new();
        let (_, w) = waker();
        // In order (the sorted run), then earlier ones (the heap), then ties across both.
        let deadlines = [10, 20, 30, 15, 5, 30, 20, 40, 1];
        let wakers: Vec<_> = deadlines.iter().map(|_| waker().1).collect();
        for (&d, w) in deadlines.iter().zip(&wakers) {
            timers.insert(d, w.clone());
        }
        assert!(!timers.sorted.is_empty() && timers.heap.len() > 0);
        assert_eq!(timers.next_deadline(), Some(1));
        let mut fired = Vec::new();
        timers.fire_due(100, &mut fired);
        // Expected: by deadline, ties in arming order.
        let mut order: Vec<usize> = (0..deadlines.len()).collect();
        order.sort_by_key(|&i| (deadlines[i], i));
        assert_eq!(fired.len(), order.len());
        for (f, &i) in fired.iter().zip(&order) {
            assert!(
                f.will_wake(&wakers[i]),
                "timer {i} (deadline {}) out of order",
                deadlines[i]
            );
        }
        assert_eq!(timers.next_deadline(), None);
        drop(w);
    }

    proptest::proptest! {
        /// Any mix of arming, cancelling and firing matches a model ordered by (deadline,
        /// arming order).
        #[test]
        fn matches_an_ordered_model(ops in proptest::collection::vec((0u8..3, 0u64..64), 1..300)) {
            let mut timers = Timers::new();
            let mut model: std::collections::BTreeMap<(u64, u32), (TimerKey, usize)> =
                std::collections::BTreeMap::new();
            let mut wakers = Vec::new();
            let mut now = 0u64;
            let mut armed = 0u32;
            for (op, value) in ops {
                match op {
                    0 => {
                        let (_, w) = waker();
                        let key = timers.insert(now + value, w.clone());
                        model.insert((now + value, armed), (key, wakers.len()));
                        wakers.push(w);
                        armed += 1;
                    }
                    1 if !model.is_empty() => {
                        let at = *model.keys().nth(value as usize % model.len()).unwrap();
                        let (key, _) = model.remove(&at).unwrap();
                        proptest::prop_assert!(timers.remove(key).is_some());
                    }
                    _ => {
                        now += value / 4;
                        let mut fired = Vec::new();
                        timers.fire_due(now, &mut fired);
                        let due: Vec<_> = model.keys().take_while(|k| k.0 <= now).copied().collect();
                        proptest::prop_assert_eq!(fired.len(), due.len());
                        for (f, k) in fired.iter().zip(&due) {
                            let (_, i) = model.remove(k).unwrap();
                            proptest::prop_assert!(f.will_wake(&wakers[i]));
                        }
                    }
                }
                proptest::prop_assert_eq!(timers.next_deadline(), model.keys().next().map(|k| k.0));
                proptest::prop_assert_eq!(timers.len(), model.len());
            }
        }
    }
}
