//! Synchronisation between tasks: asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
//! `BoundedSemaphore`, `Barrier`, and its low-level `Future` as a [`oneshot`] channel.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `async with lock:` | [`let _guard = lock.lock().await;`](Lock::lock) |
//! | `event.set()`, `await event.wait()` | [`Event::set`], [`Event::wait`] |
//! | `async with cond: await cond.wait()`, `cond.notify(n)` | [`Condition::lock`], [`ConditionGuard::wait`], [`ConditionGuard::notify`] |
//! | `async with sem:` | [`let _permit = sem.acquire().await;`](Semaphore::acquire) |
//! | `BoundedSemaphore.release()` → `ValueError` | [`BoundedSemaphore::release`] → [`TooManyReleases`] |
//! | `await barrier.wait()` → `BrokenBarrierError` | [`Barrier::wait`] → [`BrokenBarrier`] |
//! | `loop.create_future()`, `set_result`, `set_exception` | [`oneshot::channel`], [`oneshot::Promise`] (any thread); [`local_oneshot::channel`] (one loop, no atomics) |
//!
//! The primitives work across loops and threads as well as between the tasks of one loop
//! (each keeps its state behind one mutex, held for a few instructions). Every waiting
//! method serves tasks first come, first served, and is cancel safe: a task dropped while
//! waiting leaves the line, and one dropped just after being served passes what it was given
//! (the lock, a permit, a notification) to the next in line.
//!
//! ```
//! use std::rc::Rc;
//! use tulip::sync::{Event, Lock};
//!
//! tulip::run(async {
//!     let (lock, go) = (Rc::new(Lock::new()), Rc::new(Event::new()));
//!     let worker = tulip::spawn({
//!         let (lock, go) = (lock.clone(), go.clone());
//!         async move {
//!             go.wait().await;
//!             let _guard = lock.lock().await;
//!             "worked"
//!         }
//!     });
//!     go.set();
//!     assert_eq!(worker.await.unwrap(), "worked");
//! });
//! ```

mod barrier;
mod condition;
mod event;
pub mod local_oneshot;
mod lock;
pub mod oneshot;
mod permits;
mod semaphore;
pub(crate) mod waiters;

pub use barrier::{Barrier, BrokenBarrier};
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphorePermit, TooManyReleases};
