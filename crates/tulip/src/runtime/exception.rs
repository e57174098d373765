//! The loop's exception handler: where failures that no one awaited are reported.

use std::fmt;
use std::panic::Location;

use crate::task::Id;

/// A user-installed exception handler; see [`Handle::set_exception_handler`](crate::runtime::Handle::set_exception_handler).
pub(crate) type ExceptionHandler = dyn Fn(&ExceptionContext) + Send + Sync + 'static;

/// What the loop knows about a failure nobody else will see, as asyncio passes a `context` dict
/// to `loop.call_exception_handler`.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let rt = tulip::Runtime::new().unwrap();
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// rt.handle().set_exception_handler(move |cx| {
///     sink.lock().unwrap().push(cx.panic_message().unwrap_or("").to_string());
/// });
/// let mut rt = rt;
/// rt.block_on(async {
///     drop(tulip::spawn(async { panic!("lost") })); // detached: nobody will await it
///     tulip::task::yield_now().await;
/// });
/// assert_eq!(*seen.lock().unwrap(), vec!["lost".to_string()]);
/// ```
#[derive(Debug)]
pub struct ExceptionContext {
    pub(crate) message: String,
    pub(crate) task_id: Option<Id>,
    pub(crate) task_name: Option<String>,
    pub(crate) spawned_at: Option<&'static Location<'static>>,
    pub(crate) panic_message: Option<String>,
}

impl ExceptionContext {
    /// A sentence saying what went wrong, e.g. `Task exception was never retrieved`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cx = tulip::runtime::ExceptionContext::doc_example();
    /// assert!(!cx.message().is_empty());
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The task that failed, if a task did.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cx = tulip::runtime::ExceptionContext::doc_example();
    /// assert!(cx.task_id().is_some());
    /// ```
    pub fn task_id(&self) -> Option<Id> {
        self.task_id
    }

    /// The failed task's name, if it was given one.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cx = tulip::runtime::ExceptionContext::doc_example();
    /// assert_eq!(cx.task_name(), Some("worker"));
    /// ```
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// Where the failed task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cx = tulip::runtime::ExceptionContext::doc_example();
    /// assert!(cx.spawned_at().is_some());
    /// ```
    pub fn spawned_at(&self) -> Option<&'static Location<'static>> {
        self.spawned_at
    }

    /// The panic's message, when the failure was a panic with a string message.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cx = tulip::runtime::ExceptionContext::doc_example();
    /// assert_eq!(cx.panic_message(), Some("boom"));
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        self.panic_message.as_deref()
    }

    /// A filled-in context for documentation examples.
    #[doc(hidden)]
    #[track_caller]
    pub fn doc_example() -> ExceptionContext {
        ExceptionContext {
            message: "Task exception was never retrieved".into(),
            task_id: Some(Id::next()),
            task_name: Some("worker".into()),
            spawned_at: Some(Location::caller()),
            panic_message: Some("boom".into()),
        }
    }
}

impl fmt::Display for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(id) = self.task_id {
            write!(f, " (task {id}")?;
            if let Some(name) = &self.task_name {
                write!(f, " '{name}'")?;
            }
            if let Some(at) = self.spawned_at {
                write!(f, ", spawned at {at}")?;
            }
            f.write_str(")")?;
        }
        if let Some(panic) = &self.panic_message {
            write!(f, ": panicked with '{panic}'")?;
        }
        Ok(())
    }
}

pub(crate) fn default_handler(context: &ExceptionContext) {
    crate::log::error(&context.to_string());
}
