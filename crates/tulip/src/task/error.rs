use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use super::Id;

/// Why awaiting a [`Task`](super::Task) gave no value: it was cancelled, or it panicked.
///
/// asyncio raises `CancelledError` when awaiting a cancelled task and re-raises the task's
/// exception otherwise; tulip returns this error instead, so the caller decides.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let task = tulip::spawn(async { panic!("boom") });
///     let err = task.await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.panic_message(), Some("boom"));
/// });
/// ```
pub struct JoinError {
    id: Id,
    repr: Repr,
    /// A thread-pool job rather than a task (only changes the message).
    job: bool,
}

enum Repr {
    Cancelled,
    Panic(Box<PanicData>),
}

struct PanicData {
    message: Option<String>,
    // A Mutex only to make JoinError Sync; the payload is taken out by value, never shared.
    payload: Mutex<Box<dyn Any + Send + 'static>>,
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
            job: false,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = panic_payload_message(&*payload).map(str::to_owned);
        JoinError {
            id,
            repr: Repr::Panic(Box::new(PanicData {
                message,
                payload: Mutex::new(payload),
            })),
            job: false,
        }
    }

    /// The same error, worded for a thread-pool job.
    pub(crate) fn for_job(mut self) -> JoinError {
        self.job = true;
        self
    }

    /// The task was cancelled before it finished.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(std::future::pending::<()>());
    ///     task.cancel();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let err = tulip::spawn(async { panic!("no") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(async { panic!("no") });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic's message when it was a string (`panic!("…")`), else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let err = tulip::spawn(async { panic!("code {}", 7) }).await.unwrap_err();
    ///     assert_eq!(err.panic_message(), Some("code 7"));
    /// });
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(data) => data.message.as_deref(),
            Repr::Cancelled => None,
        }
    }

    /// The panic payload, to re-raise with [`std::panic::resume_unwind`]; gives the error back
    /// when the task was cancelled instead.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the task did not panic.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let err = tulip::spawn(async { std::panic::panic_any(42u8) }).await.unwrap_err();
    ///     let payload = err.try_into_panic().ok().unwrap();
    ///     assert_eq!(payload.downcast_ref::<u8>(), Some(&42));
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(data) => {
                let payload = data
                    .payload
                    .into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                Ok(payload)
            }
            Repr::Cancelled => Err(self),
        }
    }
}

pub(crate) fn panic_payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some(s)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.job {
            format!("thread-pool job #{}", self.id.as_u64())
        } else {
            format!("task {}", self.id)
        };
        match &self.repr {
            Repr::Cancelled if self.job => write!(
                f,
                "{what} never ran: its pool was shut down (or could not start a thread)"
            ),
            Repr::Cancelled => write!(f, "{what} was cancelled"),
            Repr::Panic(data) => match &data.message {
                Some(message) => write!(f, "{what} panicked: {message}"),
                None => write!(f, "{what} panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic(data) => write!(f, "JoinError::Panic({}, {:?})", self.id, data.message),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err)
    }
}
