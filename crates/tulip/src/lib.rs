//! tulip is asyncio, rebuilt in Rust: an event loop over OS readiness that runs futures as
//! tasks on one thread, with timers, cancellation and the rest of asyncio's toolbox.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `asyncio.run(main())` | [`tulip::run(main())`](run), or [`#[tulip::main]`](main) |
//! | `loop.run_until_complete`, `run_forever`, `stop`, `close` | [`Runtime`] methods |
//! | `loop.call_soon / call_later / call_at / call_soon_threadsafe` | [`runtime::Handle`] methods |
//! | `create_task(coro, name=)`, `Task.cancel()` | [`spawn`], [`task::Builder`], [`Task::cancel`] |
//! | `current_task()`, `all_tasks()` | [`task::current`], [`task::all_tasks`] |
//! | `asyncio.sleep`, `loop.time()` | [`time::sleep`], [`time::Instant::now`] |
//! | `gather`, `wait`, `as_completed`, `shield`, `TaskGroup` | [`gather!`], [`gather_all`], [`wait`], [`as_completed`], [`shield`], [`TaskGroup`] |
//! | `wait_for`, `asyncio.timeout()` | [`time::wait_for`], [`time::timeout`] |
//! | `Queue`, `LifoQueue`, `PriorityQueue` | [`queue`] |
//! | `Lock`, `Event`, `Condition`, `Semaphore`, `Barrier`, `Future` | [`sync`] |
//! | `to_thread`, `run_in_executor`, `ThreadPoolExecutor` | [`to_thread`], [`runtime::Handle::run_in_executor`], [`blocking::ThreadPool`] |
//! | `open_connection`, `start_server`, `StreamReader`, `StreamWriter` | [`net::open_connection`], [`net::start_server`], [`net::StreamReader`], [`net::StreamWriter`] |
//! | sockets, `loop.getaddrinfo`, `ssl=` | [`net::TcpStream`], [`net::TcpListener`], [`net::UdpSocket`], [`net::UnixStream`], [`net::lookup_host`], [`net::TlsConnector`] |
//! | `create_subprocess_exec` / `_shell`, `communicate` | [`process::Command`], [`process::Child`] |
//! | `loop.add_signal_handler`, `KeyboardInterrupt` | [`runtime::Handle::add_signal_handler`], [`signal::ctrl_c`], [`signal::signal`] |
//! | `aiofiles.open` | [`fs::File`], [`fs::read_to_string`], [`fs::append`], … |
//! | `PYTHONASYNCIODEBUG=1` | `TULIP_DEBUG=1` |
//!
//! ```
//! use std::time::Duration;
//!
//! async fn count() {
//!     println!("One");
//!     tulip::time::sleep(Duration::from_millis(10)).await;
//!     println!("Two");
//! }
//!
//! tulip::run(async {
//!     let tasks: Vec<_> = (0..3).map(|_| tulip::spawn(count())).collect();
//!     for task in tasks {
//!         task.await.unwrap();
//!     }
//! });
//! ```
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod blocking;
pub mod combine;
pub mod fs;
pub mod io;
mod log;
mod loom;
pub mod net;
pub mod process;
pub mod queue;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;
mod util;

pub use blocking::to_thread;
pub use combine::{TaskGroup, as_completed, gather_all, shield, wait};
pub use runtime::{Runtime, run};
pub use task::{JoinError, Task, spawn};
pub use tulip_macros::{main, test};

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
