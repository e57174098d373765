//! Synchronisation between tasks: asyncio's `Future` as a [`oneshot`] channel. (Locks,
//! events, conditions, semaphores and barriers join it in this module.)
//!
//! ```
//! use tulip::sync::oneshot;
//!
//! tulip::run(async {
//!     let (promise, future) = oneshot::channel();
//!     tulip::spawn(async move { promise.set_result(7).unwrap() }).detach();
//!     assert_eq!(future.await.unwrap(), 7);
//! });
//! ```

pub mod oneshot;
