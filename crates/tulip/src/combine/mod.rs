//! Composing futures and tasks: asyncio's `gather`, `wait`, `as_completed`, `shield` and
//! `TaskGroup`, plus async generators and their combinators. (`wait_for` and `timeout` are
//! in [`time`](crate::time).)
//!
//! | asyncio | tulip |
//! |---|---|
//! | `await gather(a, b, c)` | [`gather!(a, b, c)`](crate::gather!) → a tuple |
//! | `await gather(*aws)` | [`gather_all(aws)`](gather_all) → a `Vec` in input order |
//! | `gather(*aws, return_exceptions=True)` | gather futures of `Result` (tasks give `Result<T, JoinError>`) |
//! | `gather` that stops at the first error | [`try_gather!`](crate::try_gather!), [`try_gather_all`] (and cancel the rest) |
//! | `done, pending = await wait(aws, timeout, return_when)` | [`wait(tasks, ReturnWhen::…, timeout)`](wait) |
//! | `for aw in as_completed(aws, timeout=)` | [`as_completed(tasks)`](as_completed), a [`Stream`]; [`.timeout(d)`](AsCompleted::timeout) |
//! | `await shield(aw)` | [`shield(fut)`](shield) |
//! | `async with TaskGroup() as tg: tg.create_task(…)` | [`TaskGroup`]: `spawn`, then `join().await` |
//! | `async def` with `yield`; `async for`; `[x async for x in g if …]` | [`stream::generator`], [`StreamExt`]: `next`, `filter`, `map`, `take`, `collect` |
//!
//! ```
//! use std::time::Duration;
//! use tulip::time::{Instant, sleep};
//!
//! async fn do_some_work(x: u64) -> String {
//!     sleep(Duration::from_secs(x)).await;
//!     format!("Done after {x}s")
//! }
//!
//! let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
//! rt.block_on(async {
//!     let start = Instant::now();
//!     let results = tulip::gather_all([do_some_work(1), do_some_work(2), do_some_work(4)]).await;
//!     assert_eq!(results, ["Done after 1s", "Done after 2s", "Done after 4s"]);
//!     assert_eq!(start.elapsed(), Duration::from_secs(4)); // the longest, not the sum
//! });
//! ```
//!
//! # Cancellation
//!
//! Nothing here spawns behind your back except [`shield`] (whose point is a task that outlives
//! its awaiter) and [`TaskGroup`] (whose children are tasks). `gather!`, `gather_all`,
//! `try_gather*`, `wait` and `as_completed` poll what they are given in place, inside the
//! task that awaits them, and dropping them drops it: a future dropped is a future cancelled,
//! with its destructors as its clean-up.
//!
//! A [`Task`](crate::Task) handle is different: dropping one detaches its task, which keeps
//! running. So a dropped `gather_all(tasks)` leaves those tasks running, where asyncio's
//! `gather` would cancel them. When that is what you want, gather the futures themselves, or
//! hand the tasks over as [`CancelOnDrop`]s. `wait` and `as_completed` never cancel, as in
//! asyncio: pending tasks come back to you.
//!
//! A `TaskGroup` cancels its children when it is dropped and when one of them fails, and
//! waits for them to unwind before `join` returns.

mod as_completed;
mod cancel_on_drop;
mod gather;
mod set;
mod shield;
pub mod stream;
mod task_group;
mod wait;

pub use as_completed::{AsCompleted, AsCompletedTimeout, as_completed};
pub use cancel_on_drop::CancelOnDrop;
pub use gather::{GatherAll, TryGatherAll, gather_all, try_gather_all};
pub use shield::{Shield, shield};
pub use stream::{Stream, StreamExt};
pub use task_group::{Failure, GroupError, Join, TaskGroup};
pub use wait::{Done, ReturnWhen, Wait, wait};

#[doc(inline)]
pub use crate::{gather, try_gather};

/// What the `gather!` macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use super::gather::{Fallible, MaybeDone};
}
