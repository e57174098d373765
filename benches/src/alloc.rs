//! Heap and RSS accounting: a counting global allocator (live and peak heap bytes) and a reader
//! for the kernel's peak-RSS counter, so scenarios can report bytes per task.
//!
//! The allocator wraps [`System`] and adds one relaxed atomic add per allocation and per free,
//! plus an atomic max when the live total reaches a new peak. Every runtime pays the same price
//! per allocation.
//!
//! This is the one file of the benches with `unsafe`: `GlobalAlloc` is an unsafe trait, and
//! each method only forwards to `System` with the caller's own arguments.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Heap bytes currently allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The highest `LIVE` seen since the last [`Window::open`].
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// [`System`] with live and peak byte counters.
#[derive(Debug)]
pub(crate) struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    // A plain load first keeps the common case (no new peak) free of a second RMW.
    if live > PEAK.load(Relaxed) {
        PEAK.fetch_max(live, Relaxed);
    }
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Relaxed);
}

// SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc` contract; the
// counters only observe sizes and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: our caller meets `alloc`'s requirements (non-zero size), which are System's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: our caller guarantees `ptr` came from this allocator (hence from System) with
        // this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: our caller guarantees `ptr` came from System with `layout` and that
        // `new_size` is valid for it.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Count the new block before dropping the old one: during the copy both exist.
            grew(new_size);
            shrank(layout.size());
        }
        new
    }
}

/// A measurement window: heap bytes live when it opened, and the process's resident set.
#[derive(Debug)]
pub(crate) struct Window {
    live_at_open: usize,
    rss_at_open: Option<usize>,
}

/// What a [`Window`] saw: peak growth over its opening level, in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Growth {
    /// Peak live heap bytes minus live heap bytes at opening.
    pub(crate) heap: usize,
    /// Peak resident set minus resident set at opening, when `/proc` allows measuring it.
    pub(crate) rss: Option<usize>,
}

impl Window {
    /// Starts measuring: resets the heap peak to the live total, and the kernel's peak RSS
    /// (`VmHWM`) to the current RSS by writing `5` to `/proc/self/clear_refs`.
    pub(crate) fn open() -> Window {
        let rss_at_open = reset_peak_rss().then(|| status_kib("VmRSS:")).flatten();
        let live_at_open = LIVE.load(Relaxed);
        PEAK.store(live_at_open, Relaxed);
        Window {
            live_at_open,
            rss_at_open,
        }
    }

    /// Peak growth since [`Window::open`].
    pub(crate) fn close(self) -> Growth {
        let heap = PEAK.load(Relaxed).saturating_sub(self.live_at_open);
        let rss = self
            .rss_at_open
            .zip(status_kib("VmHWM:"))
            .map(|(open, peak)| peak.saturating_sub(open));
        Growth { heap, rss }
    }
}

fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_kib(field: &str) -> Option<usize> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: usize = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
