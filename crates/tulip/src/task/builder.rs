use std::future::Future;
use std::panic::Location;

use super::Task;
use crate::runtime::{Handle, context};

/// Spawns a task with options: asyncio's `create_task(coro, name=…)`.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let task = tulip::task::Builder::new().name("fetch example.com").spawn(async { 1 });
///     assert_eq!(task.name(), Some("fetch example.com"));
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<Box<str>>,
}

impl Builder {
    /// A builder with no options set.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip::task::Builder::new();
    /// # let _ = builder;
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task; the name shows in logs, debug warnings and [`TaskInfo`](super::TaskInfo).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip::task::Builder::new().name("worker-1");
    /// # let _ = builder;
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Spawns on the current thread's loop, like [`tulip::spawn`](crate::spawn).
    ///
    /// # Panics
    ///
    /// Outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let t = tulip::task::Builder::new().name("t").spawn(async { 2 });
    ///     assert_eq!(t.await.unwrap(), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        context::with_core(|core| core.spawn(future, self.name, location, true))
    }

    /// Spawns a `Send` future onto the loop behind `handle`, from any thread, like
    /// [`Handle::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || {
    ///     tulip::task::Builder::new().name("from-thread").spawn_on(async { 3 }, &handle)
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn_named(future, self.name, Location::caller())
    }
}
