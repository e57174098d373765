//! The atomics, cells and locks that lock-free code shares between threads, from `std`
//! normally and from [loom](https://docs.rs/loom) under `--cfg loom`, where loom's model
//! checker runs the code's tests through every interleaving that matters (tokio's `loom/`
//! pattern). Only code that crosses threads without a lock goes through here:
//! [`sync::oneshot`](crate::sync::oneshot).
//!
//! Run the model checks with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p tulip-rt --lib --release loom
//! ```

#[cfg(not(loom))]
pub(crate) use std::sync;

#[cfg(loom)]
pub(crate) use loom::sync;

#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(loom)]
pub(crate) use loom::thread;

/// `std::cell::UnsafeCell` with loom's interface: access through closures, so that loom can
/// track every read and write.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
