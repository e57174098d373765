//! Blocking work off the loop: asyncio's `to_thread` and `run_in_executor`.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `asyncio.to_thread(f)` | [`to_thread`] |
//! | `loop.run_in_executor(ThreadPoolExecutor(...), f)` | [`Handle::run_in_executor`](crate::runtime::Handle::run_in_executor) |
//! | `ProcessPoolExecutor` for CPU-bound work | [`ThreadPool::cpu`]: Rust has no GIL, so threads run truly in parallel |
