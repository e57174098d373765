//! Tasks: futures the loop runs concurrently — asyncio's `create_task`, `Task`,
//! `current_task()` and `all_tasks()`.
//!
//! A task runs on the loop that spawned it and need not be `Send`. Cancelling it drops its
//! future at the `.await` where it is suspended, so destructors do the clean-up, and awaiting
//! it then gives [`JoinError::is_cancelled`]. A panic inside a task is caught: the loop keeps
//! going and awaiting the task gives [`JoinError::is_panic`].
//!
//! ```
//! use std::time::Duration;
//!
//! tulip::run(async {
//!     let worker = tulip::task::Builder::new().name("worker").spawn(async {
//!         tulip::time::sleep(Duration::from_millis(10)).await;
//!         "done"
//!     });
//!     assert_eq!(tulip::task::all_tasks().len(), 1);
//!     assert_eq!(worker.await.unwrap(), "done");
//! });
//! ```

mod builder;
pub(crate) mod callbacks;
pub(crate) mod error;
mod id;
mod join;
pub(crate) mod raw;
mod yield_now;

use std::fmt;
use std::future::Future;
use std::panic::Location;

pub use builder::Builder;
pub use error::JoinError;
pub use id::Id;
pub use join::Task;
pub use yield_now::yield_now;

use crate::runtime::context;
use raw::TaskMeta;

/// Spawns a task on the current thread's loop (asyncio's `create_task`). The future need not
/// be `Send`; it starts running at the loop's next turn.
///
/// # Panics
///
/// Outside a tulip runtime. Use [`Handle::spawn`](crate::runtime::Handle::spawn) to spawn
/// onto a loop from another thread.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// tulip::run(async {
///     let local = Rc::new(5); // not Send: fine for a task on this loop
///     let task = tulip::spawn(async move { *local * 2 });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = Location::caller();
    context::with_core(|core| core.spawn(future, None, location, true))
}

/// The task running now, if a task is running (the future given to `block_on` or `run` is not
/// a task).
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     assert!(tulip::task::current().is_none());
///     let id = tulip::spawn(async { tulip::task::current().unwrap().id() }).await.unwrap();
///     assert!(id.as_u64() > 0);
/// });
/// ```
pub fn current() -> Option<TaskInfo> {
    context::try_with_core(|core| core.current_task()).flatten()
}

/// Every task of the current loop that has not finished (asyncio's `all_tasks()`).
///
/// Tasks spawned onto this loop from other threads appear once the loop has polled them.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let a = tulip::spawn(std::future::pending::<()>());
///     assert_eq!(tulip::task::all_tasks().len(), 1);
///     a.cancel();
///     let _ = a.await;
///     assert!(tulip::task::all_tasks().is_empty());
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    context::try_with_core(|core| core.all_tasks()).unwrap_or_default()
}

/// A snapshot of what the loop knows about a task.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let task = tulip::task::Builder::new().name("w").spawn(std::future::pending::<()>());
///     let info = &tulip::task::all_tasks()[0];
///     assert_eq!(info.id(), task.id());
///     assert_eq!(info.name(), Some("w"));
///     task.cancel();
/// });
/// ```
#[derive(Clone)]
pub struct TaskInfo {
    id: Id,
    name: Option<Box<str>>,
    spawned_at: &'static Location<'static>,
}

impl TaskInfo {
    pub(crate) fn from_meta(meta: &TaskMeta) -> TaskInfo {
        TaskInfo {
            id: meta.id,
            name: meta.name().map(Into::into),
            spawned_at: meta.location,
        }
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let t = tulip::spawn(async { tulip::task::current().unwrap().id() });
    ///     assert_eq!(t.id(), t.await.unwrap());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task's name, if it was given one.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let t = tulip::task::Builder::new().name("n").spawn(async {
    ///         tulip::task::current().unwrap().name().map(str::to_owned)
    ///     });
    ///     assert_eq!(t.await.unwrap().as_deref(), Some("n"));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let _t = tulip::spawn(std::future::pending::<()>());
    ///     let at = tulip::task::all_tasks()[0].spawned_at();
    ///     assert!(at.line() > 0);
    /// });
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }
}

impl fmt::Debug for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("spawned_at", &format_args!("{}", self.spawned_at))
            .finish()
    }
}
